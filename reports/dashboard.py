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
from transforms import incremental, metrics


def label(code: str) -> str:
    """A category code as a chart label: 'missing_invalid_information' -> 'missing invalid information'."""
    return code.replace("_", " ")


def _isoweek(d: dt.date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def _iso(con, week_start: dt.date, weeks_back: int) -> str:
    return con.execute("SELECT strftime(?::DATE - INTERVAL (?) WEEK, '%G-W%V')", [week_start, weeks_back]).fetchone()[0]

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
    return [r["iso_week"] for r in rows(con, "SELECT iso_week FROM marts.mart_weekly_kpis WHERE is_complete AND claims_adjudicated > 0 ORDER BY week_start")]


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


AVERAGE_WEEKS = 13  # the tiles' "vs 13-week average": the mean of the 13 weeks before the page's week
NCR_WINDOW_DAYS = 91  # the net collection rate's trailing window (mart_weekly_kpis: 13 weeks)
# the tiles whose figure covers a trailing window, and the mart column saying whether the history covers it
WINDOW_FULL = {"days_in_ar": "ar_window_full", "net_collection_rate": "ncr_window_full"}


def _history(con, week_start: dt.date) -> list[dict]:
    """The page's week's row of mart_weekly_kpis and the AVERAGE_WEEKS rows before it, newest first,
    each with the length of its days-in-A/R window (mart_days_in_ar.window_days)."""
    return rows(
        con,
        """SELECT k.*, d.window_days AS ar_window_length FROM marts.mart_weekly_kpis AS k
           LEFT JOIN marts.mart_days_in_ar AS d USING (week_start)
           WHERE k.week_start <= ? ORDER BY k.week_start DESC LIMIT ?""",
        [week_start, AVERAGE_WEEKS + 1],
    )


def _partial(row: dict, key: str) -> bool:
    """Whether the figure ``key`` of a week covers less than its trailing window (the history starts
    inside it). False for a figure without a window, and for a mart without the window columns."""
    return key in WINDOW_FULL and row.get(WINDOW_FULL[key]) is False


def _window_flag(row: dict, key: str) -> str:
    """'partial window: 34 of 90 days' for a figure whose window the history does not cover yet, else ''."""
    if not _partial(row, key):
        return ""
    if key == "days_in_ar":
        used, length = row.get("ar_window_days_used"), row.get("ar_window_length")
    else:
        start, length = row.get("history_start"), NCR_WINDOW_DAYS
        used = None if start is None else max(0, min(length, (row["snapshot_date"] - start).days + 1))
    return "partial window" if used is None or length is None else f"partial window: {used} of {length} days"


def _baseline(now: dict, before: list[dict], key: str, weeks: int) -> float | None:
    """The mean of ``key`` over the first ``weeks`` rows of ``before``; None (no baseline yet) when
    fewer weeks exist, one has no figure, or the week's or a baseline week's window is partial."""
    base = before[:weeks]
    if len(base) < weeks or _partial(now, key) or any(style.is_missing(r.get(key)) or _partial(r, key) for r in base):
        return None
    return sum(float(r[key]) for r in base) / weeks


def _delta(now, before, kind: str, lower_is_better: bool, label: str) -> str:
    """The change from ``before`` to ``now``; '–' without a figure, 'no baseline yet' without a baseline."""
    if style.is_missing(now):
        return f'<span class="muted">{label}: –</span>'
    if before is None:
        return f'<span class="muted">{label}: no baseline yet</span>'
    d = float(now) - float(before)
    text = f"{d * 100:+.1f} pts" if kind == "pct" else f"{d:+.1f}"
    cls = "" if abs(d) < 1e-12 else ("worse" if (d > 0) == lower_is_better else "better")
    return f'<span class="{cls}">{text}</span> <span class="muted">{label}</span>'


def tiles(con: duckdb.DuckDBPyConnection, week_row: dict) -> list[dict]:
    """The headline figures of the week, each with its change from the week before and from the
    average of the AVERAGE_WEEKS weeks before; a figure whose window is partial is flagged, and no
    change is shown against a baseline that is partial or shorter than it says."""
    now, *before = _history(con, week_row["week_start"])
    out = []
    for key, label, kind, lower in TILES:
        out.append(
            {
                "key": key,
                "label": label,
                "raw": "" if style.is_missing(now[key]) else now[key],
                "value": _fmt(now[key], kind),
                "flag": _window_flag(now, key),
                "delta_week": _delta(now[key], _baseline(now, before, key, 1), kind, lower, "vs last week"),
                "delta_avg": _delta(now[key], _baseline(now, before, key, AVERAGE_WEEKS), kind, lower,
                                    f"vs {AVERAGE_WEEKS}-week average"),
            }
        )
    return out


ALL_PAYERS = "All payers"


def _denial_trend(con, week_start: dt.date) -> go.Figure:
    data = rows(
        con,
        """SELECT week_start, payer_name, sum(claims_denied) AS denied, sum(claims_adjudicated) AS adjudicated
           FROM marts.mart_weekly_denial_rates
           WHERE week_start <= ? AND week_start > ? - INTERVAL 26 WEEK
           GROUP BY ALL ORDER BY week_start""",
        [week_start, week_start],
    )
    fig = go.Figure()
    payers = sorted({r["payer_name"] for r in data})
    for p in payers:
        pts = [r for r in data if r["payer_name"] == p]
        fig.add_scatter(
            x=[r["week_start"] for r in pts],
            y=[r["denied"] / r["adjudicated"] for r in pts],
            mode="lines+markers",
            name=p,
            # denied, adjudicated, ISO week: the drill-down filters by payer and week and expects customdata[0] claims
            customdata=[[r["denied"], r["adjudicated"], _isoweek(r["week_start"])] for r in pts],
            hovertemplate="%{x|%G-W%V}: %{y:.1%} (%{customdata[0]} of %{customdata[1]} claims)<extra>" + p + "</extra>",
        )
    weeks = sorted({r["week_start"] for r in data})
    totals = [(sum(r["denied"] for r in data if r["week_start"] == w), sum(r["adjudicated"] for r in data if r["week_start"] == w))
              for w in weeks]
    overall = [d / a for d, a in totals]
    fig.add_scatter(x=weeks, y=overall, mode="lines+markers", name=ALL_PAYERS, line=dict(width=4, color="#000000", dash="dash"),
                    marker=dict(size=5), customdata=[[d, a, _isoweek(w)] for (d, a), w in zip(totals, weeks, strict=True)],
                    hovertemplate="%{x|%G-W%V}: %{y:.1%} (%{customdata[0]} of %{customdata[1]} claims)<extra>" + ALL_PAYERS + "</extra>")
    fig.update_layout(title="Initial denial rate by payer<br><sup>last 26 weeks, share of claims adjudicated; click a point for its claims</sup>",
                      yaxis_tickformat=".0%", height=420)
    return fig


def _pareto(con, week_start: dt.date) -> tuple[go.Figure, list[dict]]:
    data = rows(
        con,
        """SELECT category, sum(denied_amount) AS dollars, sum(claims_denied) AS claims, bool_or(preventable) AS preventable,
                  any_value(owner) AS owner
           FROM marts.mart_denials_by_category
           WHERE kind = 'initial' AND week_start <= ? AND week_start > ? - INTERVAL 13 WEEK
           GROUP BY category ORDER BY dollars DESC, category""",
        [week_start, week_start],
    )
    total = sum(float(r["dollars"]) for r in data) or 1.0
    cum, acc = [], 0.0
    for r in data:
        acc += float(r["dollars"])
        cum.append(acc / total)
    fig = go.Figure()
    fig.add_bar(x=[label(r["category"]) for r in data], y=[float(r["dollars"]) for r in data], name="Denied dollars",
                customdata=[[r["claims"], r["category"]] for r in data],
                hovertemplate="%{x}: $%{y:,.0f} (%{customdata[0]} claims)<extra></extra>")
    fig.add_scatter(x=[label(r["category"]) for r in data], y=cum, yaxis="y2", name="Cumulative share", mode="lines+markers",
                    customdata=[[r["claims"], r["category"]] for r in data], hovertemplate="%{y:.0%}<extra>cumulative</extra>")
    fig.update_layout(
        title="Initial denials by root cause<br><sup>last 13 weeks, denied dollars and cumulative share; click a bar for its claims</sup>",
        xaxis=dict(tickangle=-30),
        legend=dict(orientation="h", y=-0.5, x=0),  # below the slanted category names
        yaxis=dict(title=dict(text="Denied dollars", standoff=8), tickprefix="$", tickformat=",.0f"),
        yaxis2=dict(overlaying="y", side="right", tickformat=".0%", range=[0, 1.05], showgrid=False),
        height=420,
    )
    return fig, data


def _aging(con, snapshot: dt.date) -> go.Figure:
    data = rows(
        con,
        """SELECT payer_name, aging_bucket, bucket_order, sum(ar_balance) AS balance
           FROM marts.mart_ar_aging WHERE snapshot_date = ? GROUP BY ALL ORDER BY bucket_order""",
        [snapshot],
    )
    payers = sorted({r["payer_name"] for r in data})
    fig = go.Figure()
    for bucket in ["0-30", "31-60", "61-90", "91-120", "120+"]:
        vals = {r["payer_name"]: float(r["balance"]) for r in data if r["aging_bucket"] == bucket}
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


def _alerts(con, iso_week: str) -> tuple[str, list[dict]]:
    """Alerts still running, or that started in the 13 weeks up to the report week; ongoing first."""
    data = rows(
        con,
        """SELECT * FROM marts.mart_trend_alerts
           WHERE start_week <= ? AND (ongoing OR last_week >= ? OR start_week >= strftime(
                 (SELECT week_start FROM intermediate.int_calendar_weeks WHERE iso_week = ?) - INTERVAL 12 WEEK, '%G-W%V'))
           ORDER BY ongoing DESC, dollars_at_stake DESC, scope, subject, category, start_week""",
        [iso_week, iso_week, iso_week],
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


def _heatmap(con, week_start: dt.date) -> go.Figure:
    data = rows(
        con,
        """SELECT payer_name, category, sum(denied_amount) AS dollars, sum(claims_denied) AS claims
           FROM marts.mart_denials_by_category
           WHERE kind = 'initial' AND week_start <= ? AND week_start > ? - INTERVAL 13 WEEK
           GROUP BY ALL""",
        [week_start, week_start],
    )
    payers = sorted({r["payer_name"] for r in data})
    # by denied dollars (exact sums), ties by code: the same page from the same data, whatever the row order
    cats = sorted({r["category"] for r in data}, key=lambda c: (-sum(r["dollars"] for r in data if r["category"] == c), c))
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
    pareto, pareto_rows = _pareto(con, ws)
    alerts_html, _ = _alerts(con, w["iso_week"])
    window = (_iso(con, ws, 12), w["iso_week"])
    w26 = (_iso(con, ws, 25), w["iso_week"])

    def drill(source: str, **f) -> Callable[[dict], dict]:
        return lambda r: {**{k: r[v] for k, v in f.items()}, "from": window[0], "to": window[1], "source": source}
    by_dept = metrics.kpi_by(con, "initial_denial_rate", ["department"], window)
    by_provider = metrics.kpi_by(con, "initial_denial_rate", ["provider"], window)[:15]
    carcs = rows(
        con,
        """SELECT reason, category, sum(claims_denied) AS claims, sum(denied_amount) AS dollars
           FROM marts.mart_denials_by_carc
           WHERE kind = 'initial' AND week_start <= ? AND week_start > ? - INTERVAL 13 WEEK
           GROUP BY ALL ORDER BY dollars DESC, reason, category LIMIT 15""",
        [ws, ws],
    )
    rate_cols = [("numerator", "Denied", "int"), ("denominator", "Adjudicated", "int"), ("value", "Initial denial rate", "pct")]
    sections = [
        {"id": "alerts", "title": "Alerts", "lead": "Denial rates out of their control limits (p-chart with an exact binomial test; docs/metrics.md).",
         "body": alerts_html},
        {"id": "denial-trend", "title": "Denial rate trend", "lead": "Which payer moved, and since when.",
         "body": html.figure_html(trend, "chart-denial-trend")},
        {"id": "root-causes", "title": "Root causes",
         "lead": "Where the denied dollars come from; preventable categories are owned by front end, billing and coding.",
         "body": html.figure_html(pareto, "chart-pareto")
         + html.table(pareto_rows, [("category", "Root cause", "text"), ("claims", "Claims", "int"),
                                     ("dollars", "Denied dollars", "money"), ("preventable", "Preventable", "text"),
                                     ("owner", "Owner", "text")], "table-root-causes", "Initial denials, last 13 weeks",
                                    drill=drill("root-causes", category="category"))},
        {"id": "payer-category", "title": "Payers by root cause", "lead": "Where each payer's denials come from.",
         "body": html.figure_html(_heatmap(con, ws), "chart-heatmap")},
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
    the other pages as they are), and weekly/index.html linking them all."""
    output_dir = Path(output_dir)
    weeks = available_weeks(con)
    drill_rows = DrillRows(con, every_week=True)
    pages = [build_weekly_dashboard(con, output_dir, w, drill_rows) for w in weeks if only is None or w in only]
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
