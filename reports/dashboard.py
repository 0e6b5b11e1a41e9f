"""The weekly denial and A/R dashboard: one offline HTML page per ISO week, read from the marts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html import escape
from pathlib import Path

import duckdb
import plotly.graph_objects as go

from reports import html, style
from reports.data import one, rows
from transforms import incremental, published


def label(code: str) -> str:
    """A category code as a chart label: 'missing_invalid_information' -> 'missing invalid information'."""
    return code.replace("_", " ")


def _isoweek(d: dt.date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


TILES = [
    # key, label, format, lower_is_better
    ("initial_denial_rate", "Initial denial rate (claims)", "pct", True),
    ("initial_denial_rate_dollars", "Initial denial rate ($ of denied claims)", "pct", True),
    ("denied_dollar_rate", "Denied $ / charges", "pct", True),
    ("days_in_ar", "Days in A/R", "days", True),
    ("ar_over_90_share", "A/R over 90 days", "pct", True),
    ("net_collection_rate", "Net collection rate (insurance)", "pct", False),
]


class NoDataError(ValueError):
    """The warehouse has no completed week to report on."""


def available_weeks(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The weeks that have a page: complete, with adjudications (the report_week partitions)."""
    return published.completed_weeks(con)


def pick_week(con: duckdb.DuckDBPyConnection, week: str | None) -> dict:
    if week is None:
        r = one(con, "SELECT * FROM marts.mart_weekly_kpis WHERE is_complete AND claims_adjudicated > 0 ORDER BY week_start DESC LIMIT 1")
        if r is None:
            raise NoDataError("no completed week with adjudicated claims in the warehouse")
        return r
    r = one(con, "SELECT * FROM marts.mart_weekly_kpis WHERE iso_week = ?", [week])
    if r is None or not r["is_complete"]:
        raise NoDataError(f"week {week} is not a completed week in the warehouse (weeks: {', '.join(available_weeks(con)) or 'none'})")
    return r


def _fmt(v, kind: str) -> str:
    if kind == "pct":
        return style.pct(v)
    if kind == "days":
        return style.number(v, 1)
    return style.money(v)


AVERAGE_WEEKS = 13  # the tiles' "vs 13-week average" (marts.mart_weekly_tiles: the 13 weeks before the page's week)


def _window_flag(figure: dict) -> str:
    """'partial window: 34 of 90 days' for a figure whose trailing window the history does not
    cover yet (marts.mart_weekly_tiles.window_full false), else ''."""
    if figure.get("window_full") is not False:
        return ""
    used, length = figure.get("window_days_used"), figure.get("window_days")
    return "partial window" if used is None or length is None else f"partial window: {used} of {length} days"


def _delta(value, change, kind: str, lower_is_better: bool, label: str) -> str:
    """The change from a baseline (a mart column); '–' without a figure, 'no baseline yet' without a baseline."""
    if style.is_missing(value):
        return f'<span class="muted">{label}: –</span>'
    if style.is_missing(change):
        return f'<span class="muted">{label}: no baseline yet</span>'
    d = float(change)
    text = f"{d * 100:+.1f} pts" if kind == "pct" else f"{d:+.1f}"
    cls = "" if abs(d) < 1e-12 else ("worse" if (d > 0) == lower_is_better else "better")
    return f'<span class="{cls}">{text}</span> <span class="muted">{label}</span>'


def tiles(con: duckdb.DuckDBPyConnection, week_row: dict) -> list[dict]:
    """The headline figures of the week as marts.mart_weekly_tiles holds them: each with its change
    from the week before and from the average of the AVERAGE_WEEKS weeks before, a flag when its
    window is partial, and "no baseline yet" where the mart has no baseline."""
    figures = {r["kpi"]: r for r in rows(con, "SELECT * FROM marts.mart_weekly_tiles WHERE week_start = ?",
                                         [week_row["week_start"]])}
    out = []
    for key, label, kind, lower in TILES:
        f = figures.get(key, {"value": None})
        value = f["value"]
        out.append(
            {
                "key": key,
                "label": label,
                "raw": "" if style.is_missing(value) else value,
                "value": _fmt(value, kind),
                "flag": _window_flag(f),
                "delta_week": _delta(value, f.get("change_last_week"), kind, lower, "vs last week"),
                "delta_avg": _delta(value, f.get("change_13_weeks"), kind, lower, f"vs {AVERAGE_WEEKS}-week average"),
            }
        )
    return out


ALL_PAYERS = "All payers"


def _denial_trend(con, week_start: dt.date) -> go.Figure:
    """The initial denial rate of each payer (marts.mart_weekly_denial_rates) and of all claims
    (marts.mart_weekly_kpis), week by week, for the 26 weeks to the page's week."""
    data = rows(
        con,
        """SELECT week_start, iso_week, payer_name, claims_denied, claims_adjudicated, denial_rate
           FROM marts.mart_weekly_denial_rates
           WHERE week_start <= ? AND week_start > ? - INTERVAL 26 WEEK ORDER BY week_start, payer_name""",
        [week_start, week_start],
    )
    fig = go.Figure()
    for p in sorted({r["payer_name"] for r in data}):
        pts = [r for r in data if r["payer_name"] == p]
        fig.add_scatter(
            x=[r["week_start"] for r in pts],
            y=[r["denial_rate"] for r in pts],
            mode="lines+markers",
            name=p,
            # denied, adjudicated, ISO week: the drill-down filters by payer and week and expects customdata[0] claims
            customdata=[[r["claims_denied"], r["claims_adjudicated"], r["iso_week"]] for r in pts],
            hovertemplate="%{x|%G-W%V}: %{y:.1%} (%{customdata[0]} of %{customdata[1]} claims)<extra>" + p + "</extra>",
        )
    overall = rows(
        con,
        """SELECT week_start, iso_week, claims_denied, claims_adjudicated, initial_denial_rate FROM marts.mart_weekly_kpis
           WHERE week_start <= ? AND week_start > ? - INTERVAL 26 WEEK AND claims_adjudicated > 0 ORDER BY week_start""",
        [week_start, week_start],
    )
    fig.add_scatter(x=[r["week_start"] for r in overall], y=[r["initial_denial_rate"] for r in overall], mode="lines+markers",
                    name=ALL_PAYERS, line=dict(width=4, color="#000000", dash="dash"), marker=dict(size=5),
                    customdata=[[r["claims_denied"], r["claims_adjudicated"], r["iso_week"]] for r in overall],
                    hovertemplate="%{x|%G-W%V}: %{y:.1%} (%{customdata[0]} of %{customdata[1]} claims)<extra>" + ALL_PAYERS + "</extra>")
    fig.update_layout(title="Initial denial rate by payer<br><sup>last 26 weeks, share of claims adjudicated; click a point for its claims</sup>",
                      yaxis_tickformat=".0%", height=420)
    return fig


def _root_causes(con, week_start: dt.date, view: str, limit: int | None = None) -> list[dict]:
    """The rows of one view of marts.mart_root_causes_13w for the page's week, in their rank."""
    return rows(
        con,
        f"""SELECT category, payer_name, reason, claims_denied AS claims, denied_amount AS dollars, preventable, owner,
                   cumulative_share
            FROM marts.mart_root_causes_13w WHERE week_start = ? AND view = ? ORDER BY rank{f" LIMIT {int(limit)}" if limit else ""}""",
        [week_start, view],
    )


def _pareto(data: list[dict]) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=[label(r["category"]) for r in data], y=[float(r["dollars"]) for r in data], name="Denied dollars",
                customdata=[[r["claims"], r["category"]] for r in data],
                hovertemplate="%{x}: $%{y:,.0f} (%{customdata[0]} claims)<extra></extra>")
    fig.add_scatter(x=[label(r["category"]) for r in data], y=[r["cumulative_share"] for r in data], yaxis="y2",
                    name="Cumulative share", mode="lines+markers",
                    customdata=[[r["claims"], r["category"]] for r in data], hovertemplate="%{y:.0%}<extra>cumulative</extra>")
    fig.update_layout(
        title="Initial denials by root cause<br><sup>last 13 weeks, denied dollars and cumulative share; click a bar for its claims</sup>",
        xaxis=dict(tickangle=-30),
        legend=dict(orientation="h", y=-0.5, x=0),  # below the slanted category names
        yaxis=dict(title=dict(text="Denied dollars", standoff=8), tickprefix="$", tickformat=",.0f"),
        yaxis2=dict(overlaying="y", side="right", tickformat=".0%", range=[0, 1.05], showgrid=False),
        height=420,
    )
    return fig


def _aging(con, snapshot: dt.date) -> go.Figure:
    data = rows(
        con,
        """SELECT payer_name, aging_bucket, ar_balance FROM marts.mart_ar_aging
           WHERE snapshot_date = ? ORDER BY bucket_order, payer_name""",
        [snapshot],
    )
    payers = sorted({r["payer_name"] for r in data})
    fig = go.Figure()
    for bucket in ["0-30", "31-60", "61-90", "91-120", "120+"]:
        vals = {r["payer_name"]: float(r["ar_balance"]) for r in data if r["aging_bucket"] == bucket}
        fig.add_bar(x=payers, y=[vals.get(p, 0.0) for p in payers], name=f"{bucket} days",
                    hovertemplate="%{x}: $%{y:,.0f}<extra>" + bucket + " days</extra>")
    fig.update_layout(barmode="stack", title=f"A/R by payer and age<br><sup>at {snapshot}, days from the date of service</sup>",
                      yaxis=dict(tickprefix="$", tickformat=",.0f"), height=420)
    return fig


def _days_in_ar(con, week_start: dt.date) -> go.Figure:
    data = rows(con, "SELECT week_start, days_in_ar, ar_balance FROM marts.mart_days_in_ar WHERE week_start <= ? AND week_start > ? - INTERVAL 26 WEEK ORDER BY week_start",
                [week_start, week_start])
    fig = go.Figure()
    fig.add_scatter(x=[r["week_start"] for r in data], y=[r["days_in_ar"] for r in data], mode="lines+markers", name="Days in A/R",
                    hovertemplate="%{x|%G-W%V}: %{y:.1f} days<extra></extra>")
    fig.update_layout(title="Days in A/R<br><sup>at each week's end, last 26 weeks</sup>", yaxis_title="days", height=380)
    return fig


WORKLIST_COLUMNS = [
    ("priority", "Priority", "int"),
    ("claim_id", "Claim", "text"),
    ("payer_name", "Payer", "text"),
    ("department", "Department", "text"),
    ("category", "Root cause", "text"),
    ("reason", "Reason", "text"),
    ("rarc", "Remark", "text"),
    ("owner", "Owner", "text"),
    ("denial_kind", "Denial", "text"),
    ("denial_date", "Denied on", "date"),
    ("appeal_deadline", "Appeal by", "date"),
    ("days_left", "Days left", "int"),
    ("open_balance", "Open balance", "money2"),
]


def _worklist_section(con, iso_week: str, latest: str) -> dict:
    """The worklist on the latest week's page. marts.mart_denial_worklist holds today's open denials
    with days left counted from the as-of date: what was open at an earlier week's end is not in it
    (claims denied since are, claims paid or written off since are not), so an earlier week's page
    shows a line linking to the latest week's worklist instead."""
    section = {"id": "worklist", "title": "Denied claims to work first"}
    if iso_week < latest:  # ISO week keys sort as the weeks do
        note = (f'<p class="muted">No worklist on a past week\'s page: the worklist holds the denials open today, '
                f'not those open at this week\'s end. See the <a href="{escape(latest)}.html#worklist">worklist on the '
                f'{escape(latest)} page</a>.</p>')
        return {**section, "lead": "", "body": note}
    worklist = rows(con, "SELECT * FROM marts.mart_denial_worklist ORDER BY priority LIMIT 50")
    as_of = f" as of {worklist[0]['as_of_date']}" if worklist else ""
    return {**section,
            "lead": f"Open denials{as_of}, ranked by appeal deadline and dollars (full list: worklist/denial_worklist.xlsx).",
            "body": html.table(worklist, WORKLIST_COLUMNS, "table-worklist", "Top 50 of the worklist")}


def _alerts(con, iso_week: str, first_week: str) -> tuple[str, list[dict]]:
    """Alerts still running, or that started in the 13 weeks (first_week to iso_week) up to the
    report week; ongoing first."""
    data = rows(
        con,
        """SELECT * FROM marts.mart_trend_alerts
           WHERE start_week <= ? AND (ongoing OR last_week >= ? OR start_week >= ?)
           ORDER BY ongoing DESC, dollars_at_stake DESC, scope, subject, category, start_week""",
        [iso_week, iso_week, first_week],
    )
    if not data:
        return '<div class="ok">No denial rate is out of its control limits in the last 13 weeks.</div>', data
    items = "".join(
        f'<div class="alert" data-scope="{a["scope"]}" data-start="{a["start_week"]}">{escape(a["sentence"])}'
        f'{" <em>(ongoing)</em>" if a["ongoing"] else ""}</div>'
        for a in data[:12]
    )
    more = f'<p class="muted">{len(data) - 12} more in marts.mart_trend_alerts.</p>' if len(data) > 12 else ""
    return items + more, data


def _heatmap(data: list[dict], categories: list[str]) -> go.Figure:
    """Payers by root cause (view 'payer_category' of marts.mart_root_causes_13w); the categories
    in the Pareto chart's order (by denied dollars, ties by code)."""
    payers = sorted({r["payer_name"] for r in data})
    cats = [c for c in categories if any(r["category"] == c for r in data)]
    cell = {(r["payer_name"], r["category"]): r for r in data}
    z = [[float(cell[(p, c)]["dollars"]) if (p, c) in cell else 0.0 for c in cats] for p in payers]
    text = [[f"{cell[(p, c)]['claims']}" if (p, c) in cell else "" for c in cats] for p in payers]
    codes = [list(cats) for _ in payers]  # the category code of each cell, for the drill-down
    fig = go.Figure(go.Heatmap(z=z, x=[label(c) for c in cats], y=payers, text=text, texttemplate="%{text}", colorscale="Blues",
                               customdata=codes, hovertemplate="%{y} / %{x}: $%{z:,.0f} denied (%{text} claims)<extra></extra>",
                               colorbar=dict(title="$ denied", tickprefix="$", tickformat=",.0f")))
    fig.update_layout(title="Initial denials by payer and root cause<br><sup>last 13 weeks, denied dollars; cells show claims; "
                      "click a cell for its claims</sup>",
                      height=max(360, 120 + 34 * len(payers)), xaxis_tickangle=-30)
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(automargin=True)
    return fig


def _rates_13w(con, week_start: dt.date, dimension: str, limit: int | None = None) -> list[dict]:
    """The initial denial rate of each member of a dimension over the 13 weeks to the page's week
    (marts.mart_claim_kpis, window_weeks 13), most claims first."""
    return rows(
        con,
        f"""SELECT member_name AS {dimension}, claims_denied AS numerator, claims_adjudicated AS denominator,
                   initial_denial_rate AS value
            FROM marts.mart_claim_kpis WHERE week_start = ? AND window_weeks = 13 AND dimension = ?
            ORDER BY claims_adjudicated DESC, member_name{f" LIMIT {int(limit)}" if limit else ""}""",
        [week_start, dimension],
    )


DRILL_COLUMNS = [
    ("iso_week", "Week", "text"),
    ("claim_id", "Claim", "text"),
    ("payer_name", "Payer", "text"),
    ("department", "Department", "text"),
    ("category", "Root cause", "text"),
    ("reasons", "Reasons (group-CARC)", "text"),
    ("remarks", "Remarks", "text"),
    ("denial", "Denial", "text"),
    ("owner", "Owner", "text"),
    ("denied_amount", "Denied dollars", "money2"),
]


class DrillRows:
    """The drill-down rows of each week, as JSON made by DuckDB (one array per row, in
    DRILL_COLUMNS order, then the claim's number), made once and shared by every page that shows
    the week: a page shows 26 weeks, so building the pages row by row in Python redid each week's
    rows 26 times (at a million claims, most of the reports' time).

    A row's last element numbers its claim (remit_claim_id) so that a page can count claims
    without carrying an id it does not show; the numbers are the same on every page of one build.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, every_week: bool = False):
        self.con = con
        self.weeks: dict[dt.date, str] = {}
        if every_week:  # one query for all the pages of a build
            span = con.execute("SELECT min(week_start), max(week_start) FROM marts.mart_denied_claims").fetchone()
            if span[0] is not None:
                self._fetch(*span)

    def window(self, week_start: dt.date) -> str:
        """The rows of the 26 weeks to ``week_start``, newest week first: a JSON array's items."""
        wanted = [week_start - dt.timedelta(weeks=k) for k in range(26)]
        missing = [w for w in wanted if w not in self.weeks]
        if missing:
            self._fetch(min(missing), max(missing))
        return ",".join(self.weeks[w] for w in wanted if self.weeks[w])

    def _fetch(self, first: dt.date, last: dt.date) -> None:
        items = ", ".join(k if f == "text" else f"{k}::DOUBLE" for k, _, f in DRILL_COLUMNS)  # amounts as numbers
        found = self.con.execute(
            f"""WITH r AS (
                    SELECT week_start, iso_week, claim_id, payer_name, department, category, reasons, remarks,
                           CASE WHEN is_full_denial THEN 'full' ELSE 'partial' END AS denial, owner, denied_amount,
                           dense_rank() OVER (ORDER BY remit_claim_id) - 1 AS n
                    FROM marts.mart_denied_claims)
                SELECT week_start, string_agg(json_array({items}, n)::VARCHAR, ','
                                              ORDER BY denied_amount DESC, claim_id, category)
                FROM r WHERE week_start BETWEEN ? AND ? GROUP BY week_start""",
            [first, last],
        ).fetchall()
        got = {w: html.script_safe(j) for w, j in found}
        w = first
        while w <= last:
            self.weeks[w] = got.get(w, "")
            w += dt.timedelta(weeks=1)


def _drill(con, week_start: dt.date, w26: tuple[str, str], w13: tuple[str, str], drill_rows: DrillRows | None = None) -> str:
    """The claims behind the denial charts: initial denials of the trend's 26 weeks (the widest
    window), one row per claim and root cause (marts.mart_denied_claims)."""
    window13 = {"from": w13[0], "to": w13[1]}
    return html.drill_table(
        (drill_rows or DrillRows(con)).window(week_start), DRILL_COLUMNS, "table-claims", key="n",
        scope=f"Initial denials {w26[0]} to {w26[1]}",
        charts={"chart-denial-trend": {"kind": "trend", "source": "denial-trend", "all": ALL_PAYERS},
                "chart-pareto": {"kind": "category", "source": "root-causes", **window13},
                "chart-heatmap": {"kind": "payer-category", "source": "payer-category", **window13}},
    )


def build_weekly_dashboard(con: duckdb.DuckDBPyConnection, output_dir: Path, week: str | None = None,
                           drill_rows: DrillRows | None = None) -> Path:
    output_dir = Path(output_dir)
    w = pick_week(con, week)
    ws = w["week_start"]
    trend = _denial_trend(con, ws)
    pareto_rows = _root_causes(con, ws, "category")
    window = (_isoweek(ws - dt.timedelta(weeks=12)), w["iso_week"])
    w26 = (_isoweek(ws - dt.timedelta(weeks=25)), w["iso_week"])
    alerts_html, _ = _alerts(con, w["iso_week"], window[0])

    def drill(source: str, **f) -> Callable[[dict], dict]:
        return lambda r: {**{k: r[v] for k, v in f.items()}, "from": window[0], "to": window[1], "source": source}
    by_dept = _rates_13w(con, ws, "department")
    by_provider = _rates_13w(con, ws, "provider", limit=15)
    carcs = _root_causes(con, ws, "reason", limit=15)
    rate_cols = [("numerator", "Denied", "int"), ("denominator", "Adjudicated", "int"), ("value", "Initial denial rate", "pct")]
    sections = [
        {"id": "alerts", "title": "Alerts", "lead": "Denial rates out of their control limits (p-chart with an exact binomial test; docs/metrics.md).",
         "body": alerts_html},
        {"id": "denial-trend", "title": "Denial rate trend", "lead": "Which payer moved, and since when.",
         "body": html.figure_html(trend, "chart-denial-trend")},
        {"id": "root-causes", "title": "Root causes",
         "lead": "Where the denied dollars come from; preventable categories are owned by front end, billing and coding.",
         "body": html.figure_html(_pareto(pareto_rows), "chart-pareto")
         + html.table(pareto_rows, [("category", "Root cause", "text"), ("claims", "Claims", "int"),
                                     ("dollars", "Denied dollars", "money"), ("preventable", "Preventable", "text"),
                                     ("owner", "Owner", "text")], "table-root-causes", "Initial denials, last 13 weeks",
                                    drill=drill("root-causes", category="category"))},
        {"id": "payer-category", "title": "Payers by root cause", "lead": "Where each payer's denials come from.",
         "body": html.figure_html(_heatmap(_root_causes(con, ws, "payer_category"), [r["category"] for r in pareto_rows]),
                                  "chart-heatmap")},
        {"id": "top-carcs", "title": "Top reason codes", "lead": "The CARCs behind the categories, last 13 weeks; click a row for its claims.",
         "body": html.table(carcs, [("reason", "Reason (group-CARC)", "text"), ("category", "Root cause", "text"),
                                    ("claims", "Claims", "int"), ("dollars", "Denied dollars", "money")], "table-carcs",
                            drill=drill("top-carcs", reason="reason", category="category"))},
        {"id": "departments", "title": "Departments and providers",
         "lead": f"Initial denial rate, {window[0]} to {window[1]}.",
         "body": '<div class="grid2"><div>'
         + html.table(by_dept, [("department", "Department", "text"), *rate_cols], "table-departments", "By department",
                      drill=drill("departments", department="department"))
         + "</div><div>"
         + html.table(by_provider, [("provider", "Rendering NPI", "text"), *rate_cols], "table-providers", "By provider (15 with most claims)")
         + "</div></div>"},
        {"id": "claims", "title": "Denied claims behind the charts",
         "lead": "Initial denials of the last 26 weeks, one row per claim and root cause. Click a point of the denial rate "
         "trend, a root-cause bar, a payer and root-cause cell, or a row of the root-cause, reason-code or department table "
         "to see its claims here; Export CSV writes the rows shown by the filter.",
         "body": _drill(con, ws, w26, window, drill_rows)},
        {"id": "ar-aging", "title": "A/R aging", "lead": "How much is waiting, with whom, and for how long.",
         "body": html.figure_html(_aging(con, w["snapshot_date"]), "chart-aging")},
        {"id": "days-in-ar", "title": "Days in A/R",
         "lead": "A/R balance divided by average daily charges of the trailing window (docs/metrics.md).",
         "body": html.figure_html(_days_in_ar(con, ws), "chart-days-in-ar")},
    ]
    weeks = available_weeks(con)
    sections.append(_worklist_section(con, w["iso_week"], weeks[-1] if weeks else w["iso_week"]))
    page = output_dir / "weekly" / f"{w['iso_week']}.html"
    return html.render(
        "dashboard.html",
        page,
        output_dir,
        title=f"Denials and A/R, week {w['iso_week']}",
        subtitle=f"Week of {ws} to {w['snapshot_date']} · claims adjudicated {style.number(w['claims_adjudicated'])}"
        f" · charges adjudicated {style.money(w['charges_adjudicated'])}",
        week=w["iso_week"],
        weeks=[{"label": x, "href": f"{x}.html"} for x in weeks[-12:]],
        tiles=tiles(con, w),
        average_weeks=AVERAGE_WEEKS,
        sections=sections,
        footer="Generated by denials from the warehouse marts. " + incremental.status(con).sentence()
        + " No protected health information is shown.",
    )


def build_all_weeks(con: duckdb.DuckDBPyConnection, output_dir: Path, only: set[str] | None = None) -> dict:
    """A page for every completed week with adjudications (or for the weeks in ``only``, keeping
    the other pages as they are), and weekly/index.html linking them all.

    The one way the weekly pages are written: the pipeline's weekly_dashboard asset (every week,
    or the weeks it must), the backfill's reports/weekly_report asset (its week) and, for one page
    without the index, `denials report` all write a page with build_weekly_dashboard, from the
    current marts as of the week's snapshot date."""
    output_dir = Path(output_dir)
    weeks = available_weeks(con)
    targets = weeks if only is None else sorted(only)
    if unknown := [w for w in targets if w not in weeks]:
        raise NoDataError(f"week {', '.join(unknown)} is not a completed week in the warehouse "
                          f"(weeks: {', '.join(weeks) or 'none'})")
    drill_rows = DrillRows(con, every_week=len(targets) > 1)  # the drill-down rows of every week, made once
    pages = [build_weekly_dashboard(con, output_dir, w, drill_rows) for w in targets]
    index = write_index(con, output_dir)
    latest = output_dir / "weekly" / f"{weeks[-1]}.html" if weeks else None
    return {"weeks": pages, "latest": latest, "index": index}


def write_index(con: duckdb.DuckDBPyConnection, output_dir: Path) -> Path:
    """weekly/index.html: a link to every completed week's page."""
    weeks = available_weeks(con)
    return html.render(
        "index.html",
        output_dir / "weekly" / "index.html",
        output_dir,
        title="Weekly denial and A/R reports",
        subtitle=f"{len(weeks)} completed weeks",
        weeks=[{"label": w, "href": f"{w}.html"} for w in reversed(weeks)],
        charts=False,
        footer="Generated by denials from the warehouse marts. " + incremental.status(con).sentence(),
    )
