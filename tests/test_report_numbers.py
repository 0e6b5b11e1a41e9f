"""Every number on the weekly report equals the mart it came from (the page and the warehouse are
both read here), and the report of a week with a planted pattern shows that pattern's alert."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.dashboard import build_all_weeks
from tests.helpers import load_and_build
from transforms import metrics, trends

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
GT = json.loads((SAMPLE / "ground_truth.json").read_text())


class Page(HTMLParser):
    """Tiles (data-kpi / data-value), tables (rows of data-value) and Plotly figures of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.tiles: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._kpi = self._table = None
        self._row: list[str] | None = None
        self.feed(text)
        self.figures = {m.group(1): json.loads(m.group(2)) for m in re.finditer(
            r'Plotly\.newPlot\(\s*"([^"]+)",\s*(\[.*?\]),\s*\{', text, re.S)}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-kpi" in a:
            self._kpi = a["data-kpi"]
        if tag == "div" and "value" in (a.get("class") or "").split() and self._kpi:
            self.tiles[self._kpi] = a.get("data-value", "")
            self._kpi = None
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        if tag == "tr" and self._table:
            self._row = []
        if tag == "td" and self._row is not None:
            self._row.append(a.get("data-value", ""))

    def handle_endtag(self, tag):
        if tag == "tr" and self._row:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rep")
    con = load_and_build(SAMPLE, tmp / "w.duckdb", None)
    trends.write_alerts(con, trends.detect(con))
    pages = build_all_weeks(con, tmp / "out")
    yield con, pages
    con.close()


def close(a: str, b) -> bool:
    if b is None:
        return a in ("", "None")
    return abs(float(a) - float(b)) < 1e-9


def test_tiles_equal_weekly_kpis(built):
    con, pages = built
    page = Page(pages["latest"].read_text())
    week = pages["latest"].stem
    row = dict(zip([d[0] for d in con.execute("SELECT * FROM marts.mart_weekly_kpis LIMIT 0").description],
                   con.execute("SELECT * FROM marts.mart_weekly_kpis WHERE iso_week = ?", [week]).fetchone(), strict=True))
    assert set(page.tiles) == {"initial_denial_rate", "initial_denial_rate_dollars", "denied_dollar_rate", "days_in_ar", "ar_over_90_share",
                               "net_collection_rate"}
    for kpi, value in page.tiles.items():
        assert close(value, row[kpi]), kpi


def test_tables_equal_marts(built):
    con, pages = built
    page = Page(pages["latest"].read_text())
    ws = con.execute("SELECT week_start FROM marts.mart_weekly_kpis WHERE iso_week = ?", [pages["latest"].stem]).fetchone()[0]
    # worklist: the first 50 rows of the mart, in order
    wl = con.execute("SELECT priority, claim_id, open_balance FROM marts.mart_denial_worklist ORDER BY priority LIMIT 50").fetchall()
    got = [(int(r[0]), r[1], Decimal(r[12])) for r in page.tables["table-worklist"]]
    assert got == [(p, c, b) for p, c, b in wl]
    # root causes: initial denials of the last 13 weeks by category
    rc = dict(con.execute(
        """SELECT category, sum(denied_amount) FROM marts.mart_denials_by_category
           WHERE kind = 'initial' AND week_start <= ? AND week_start > ? - INTERVAL 13 WEEK GROUP BY 1""", [ws, ws]).fetchall())
    assert {r[0]: Decimal(r[2]) for r in page.tables["table-root-causes"]} == rc
    # departments and providers: the 13-week initial denial rate, as transforms.metrics.kpi_by adds up the weekly parts
    weeks = (con.execute("SELECT strftime(?::DATE - INTERVAL 12 WEEK, '%G-W%V')", [ws]).fetchone()[0], pages["latest"].stem)
    dept = {r["department"]: (r["numerator"], r["denominator"]) for r in metrics.kpi_by(con, "initial_denial_rate", ["department"], weeks)}
    assert {r[0]: (int(r[1]), int(r[2])) for r in page.tables["table-departments"]} == dept
    providers = [(r["provider"], r["numerator"], r["denominator"]) for r in metrics.kpi_by(con, "initial_denial_rate", ["provider"], weeks)]
    assert [(r[0], int(r[1]), int(r[2])) for r in page.tables["table-providers"]] == providers[:15]
    # reason codes: the 15 with the most denied dollars of the 13 weeks (ties by code)
    carcs = con.execute(
        """SELECT reason, category, sum(claims_denied), sum(denied_amount) AS dollars FROM marts.mart_denials_by_carc
           WHERE kind = 'initial' AND week_start <= ? AND week_start > ? - INTERVAL 13 WEEK
           GROUP BY 1, 2 ORDER BY dollars DESC, reason, category LIMIT 15""", [ws, ws]).fetchall()
    assert [(r[0], r[1], int(r[2]), Decimal(r[3])) for r in page.tables["table-carcs"]] == carcs
    # payers by root cause: each cell's dollars and claims
    cells = {(p, c): (float(d), int(n)) for p, c, d, n in con.execute(
        """SELECT payer_name, category, sum(denied_amount), sum(claims_denied) FROM marts.mart_denials_by_category
           WHERE kind = 'initial' AND week_start <= ? AND week_start > ? - INTERVAL 13 WEEK GROUP BY 1, 2""", [ws, ws]).fetchall()}
    heat = page.figures["chart-heatmap"][0]
    shown = {(p, c): (heat["z"][i][j], int(heat["text"][i][j])) for i, p in enumerate(heat["y"])
             for j, c in enumerate(heat["customdata"][i]) if heat["text"][i][j]}
    assert shown == cells


def test_reports_read_marts_and_compute_no_figure():
    """reports/ reads mart columns: no raw or staging table, no KPI aggregate in the weekly page's
    code (its one GROUP BY serialises each week's drill-down rows as JSON), and the data-quality
    report's balancing is marts.mart_remit_balancing as it is."""
    for path in (ROOT / "reports").glob("*.py"):
        assert not re.search(r"\b(raw|staging)\.[a-z_]+\b", path.read_text()), path.name
    dashboard = (ROOT / "reports" / "dashboard.py").read_text()
    assert not re.search(r"\bintermediate\.", dashboard)
    assert not re.search(r"\b(sum|count|avg)\(", dashboard)
    assert dashboard.count("GROUP BY") == 1 and "GROUP BY week_start" in dashboard
    dq = (ROOT / "reports" / "data_quality.py").read_text()
    assert "marts.mart_remit_balancing" in dq and "int_remit_balancing" not in dq


def test_charts_equal_marts(built):
    con, pages = built
    page = Page(pages["latest"].read_text())
    ws = con.execute("SELECT week_start FROM marts.mart_weekly_kpis WHERE iso_week = ?", [pages["latest"].stem]).fetchone()[0]
    trend = page.figures["chart-denial-trend"]
    for trace in trend:
        if trace["name"] == "All payers":
            continue
        rows = con.execute(
            """SELECT week_start, sum(claims_denied) / sum(claims_adjudicated) FROM marts.mart_weekly_denial_rates
               WHERE payer_name = ? AND week_start <= ? AND week_start > ? - INTERVAL 26 WEEK GROUP BY 1 ORDER BY 1""",
            [trace["name"], ws, ws]).fetchall()
        assert [str(r[0]) for r in rows] == [x[:10] for x in trace["x"]]
        assert all(abs(a - float(b)) < 1e-12 for a, (_, b) in zip(trace["y"], rows, strict=True))
    days = page.figures["chart-days-in-ar"][0]
    rows = con.execute("SELECT days_in_ar FROM marts.mart_days_in_ar WHERE week_start <= ? AND week_start > ? - INTERVAL 26 WEEK ORDER BY week_start",
                       [ws, ws]).fetchall()
    assert [round(y, 9) if y is not None else None for y in days["y"]] == [round(r[0], 9) if r[0] is not None else None for r in rows]


def test_planted_patterns_shown_as_alerts(built):
    _, pages = built
    text = pages["latest"].read_text()
    alerts = re.findall(r'<div class="alert" data-scope="[^"]+" data-start="([^"]+)">([^<]+)', text)
    sentences = " ".join(s for _, s in alerts)
    assert "NORTHSTAR HEALTH PLAN / Radiology: authorization referral denials" in sentences
    assert "South Community Clinic: timely filing denials" in sentences
    # the missing-information wave ended in W43; the report of a week inside it shows it
    w40 = next(p for p in pages["weeks"] if p.stem == "2026-W40").read_text()
    assert "missing invalid information denials rose" in w40


def test_report_size(built):
    _, pages = built
    for p in pages["weeks"]:
        assert p.stat().st_size < 5 * 1024 * 1024


def drill_rows(text: str) -> tuple[dict, list[dict]]:
    data = json.loads(re.search(r'<script type="application/json" id="table-claims-data">(.*?)</script>', text, re.S).group(1))
    keys = [c["key"] for c in data["columns"]] + [data["key"]]
    return data, [dict(zip(keys, r, strict=True)) for r in data["rows"]]


def test_drill_down_rows_add_up_to_the_charts(built):
    """The claims behind each clickable number: the drill-down rows a click selects count as many
    claims (and dollars) as the chart or table shows."""
    con, pages = built
    text = pages["latest"].read_text()
    page = Page(text)
    data, drill = drill_rows(text)
    lo, hi = data["charts"]["chart-pareto"]["from"], data["charts"]["chart-pareto"]["to"]

    def claims(pred) -> tuple[int, float]:
        sel = [r for r in drill if pred(r)]
        return len({r["n"] for r in sel}), sum(r["denied_amount"] for r in sel)

    in13 = lambda r: lo <= r["iso_week"] <= hi  # noqa: E731
    bars = page.figures["chart-pareto"][0]
    assert len(bars["customdata"]) > 5
    for (n, code), dollars in zip(bars["customdata"], bars["y"], strict=True):
        got_n, got_dollars = claims(lambda r, code=code: in13(r) and r["category"] == code)
        assert got_n == n and abs(got_dollars - dollars) < 0.005, code
    heat = page.figures["chart-heatmap"][0]
    for i, payer in enumerate(heat["y"]):
        for j, code in enumerate(heat["customdata"][i]):
            assert str(claims(lambda r, payer=payer, code=code: in13(r) and r["payer_name"] == payer and r["category"] == code)[0]
                       or "") == heat["text"][i][j], (payer, code)
    checked = 0
    for trace in page.figures["chart-denial-trend"]:
        for denied, _, week in trace["customdata"]:
            n, _ = claims(lambda r, week=week, name=trace["name"]: r["iso_week"] == week
                          and (name == "All payers" or r["payer_name"] == name))
            assert n == denied, (trace["name"], week)
            checked += 1
    assert checked > 100
    for reason, category, n, dollars in page.tables["table-carcs"]:
        got_n, got_dollars = claims(lambda r, reason=reason, category=category: in13(r) and r["category"] == category
                                    and reason in (r["reasons"] or "").split())
        # a row holds a claim's dollars of the whole root cause, so with another CARC of it on the claim, more than the CARC's
        assert got_n == int(n) and got_dollars >= float(dollars) - 0.005, reason
    for dept, n, *_ in page.tables["table-departments"]:
        assert claims(lambda r, dept=dept: in13(r) and r["department"] == dept)[0] == int(n), dept
    # no patient data: only these columns, and claims are counted by an opaque number
    assert [c["key"] for c in data["columns"]] == ["iso_week", "claim_id", "payer_name", "department", "category", "reasons",
                                                   "remarks", "denial", "owner", "denied_amount"]
    assert all(isinstance(r["n"], int) for r in drill)
