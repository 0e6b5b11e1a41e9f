"""The reports opened in a real browser: offline, no console errors, every chart drawn."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.run import resources_for, run_pipeline
from tests.browser import browser, open_page


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    import shutil

    from tests.conftest import TINY, TINY_AS_OF

    tmp = tmp_path_factory.mktemp("browser")
    landing = tmp / "landing"
    shutil.copytree(TINY, landing)
    settings = tmp / "settings.yaml"
    settings.write_text(f"as_of_date: {TINY_AS_OF}\n")
    outcome = run_pipeline(resources_for(landing, tmp / "w.duckdb", tmp / "out", settings))
    assert outcome.success, outcome.error
    return tmp / "out"


@pytest.mark.slow
def test_dashboard_offline_no_errors_every_chart_drawn(outputs: Path, tmp_path):
    page_path = outputs / "weekly" / "2026-W13.html"
    with browser() as b:
        for width, name in ((1280, "desktop"), (390, "phone")):
            page, visit = open_page(b, page_path, width=width)
            page.wait_for_selector(".js-plotly-plot .main-svg")
            charts = page.evaluate(
                """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(div => ({
                       id: div.id,
                       traces: div.querySelectorAll('.trace, .hm').length,
                       width: div.getBoundingClientRect().width }))"""
            )
            assert len(charts) == 5
            # every trace type on the page is one the (partial) plotly.js bundle registers
            used = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(d => d.data.map(t => t.type || 'scatter'))")
            assert set(used) <= set(page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)")), used
            for c in charts:
                assert c["traces"] > 0, f"chart {c['id']} has no drawn trace"
                assert c["width"] > 200
            assert visit.console_errors == []
            assert visit.external_requests == []  # works offline: no CDN, no font service
            shot = tmp_path / f"dashboard-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            # no horizontal scrolling of the page itself at phone width
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
            page.close()


@pytest.mark.slow
def test_tables_sort_and_filter(outputs: Path):
    with browser() as b:
        page, visit = open_page(b, outputs / "weekly" / "2026-W13.html")
        first = lambda: page.eval_on_selector("#table-worklist tbody tr td:nth-child(2)", "td => td.textContent")  # noqa: E731
        assert first() == "C8"
        page.click("#table-worklist th:nth-child(13)")  # open balance, ascending
        assert first() == "C3"
        page.fill("input[data-filter=table-worklist]", "C8")
        visible = page.evaluate("Array.from(document.querySelectorAll('#table-worklist tbody tr')).filter(r => r.style.display !== 'none').length")
        assert visible == 1
        assert visit.console_errors == []


@pytest.mark.slow
def test_data_quality_report_opens_without_errors(outputs: Path):
    with browser() as b:
        page, visit = open_page(b, outputs / "data_quality" / "index.html")
        assert page.locator("#table-checks tbody tr").count() > 10
        assert page.locator("#table-balancing tbody tr").count() == 3
        assert "How to trace a figure" in page.content()
        assert visit.console_errors == [] and visit.external_requests == []


CLICKED = """(id) => new Promise(resolve => {
    const gd = document.getElementById(id);
    gd.on('plotly_click', ev => { const p = ev.points[0]; window.CLICKED = {name: p.data.name, x: p.x, y: p.y, customdata: p.customdata}; });
    resolve(true);
})"""


def _drill_state(page) -> dict:
    return page.evaluate(
        """() => { const t = document.getElementById('table-claims'), bar = document.querySelector('#claims .drill-bar');
                   const cells = Array.from(t.tBodies[0].rows).map(r => Array.from(r.cells).map(c => c.getAttribute('data-value')));
                   return {claims: +t.dataset.claims, rows: +t.dataset.rows, shown: cells, active: bar.classList.contains('active'),
                           text: bar.innerText, top: document.getElementById('claims').getBoundingClientRect().top,
                           head: Array.from(t.tHead.rows[0].cells).map(c => c.textContent)}; }""")


def _click_at(page, chart_id: str, x: float, y: float) -> dict:
    """Click a chart at page coordinates (as a reader does: move, then click) and return the point Plotly reports."""
    page.evaluate("() => { window.CLICKED = null; }")
    page.mouse.move(x, y)
    page.wait_for_timeout(150)
    page.mouse.click(x, y)
    page.wait_for_function("() => window.CLICKED !== null")
    return page.evaluate("window.CLICKED")


def _click_element(page, chart_id: str, selector: str) -> dict:
    el = page.locator(selector).first
    el.scroll_into_view_if_needed()
    box = el.bounding_box()
    return _click_at(page, chart_id, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def _col(state: dict, label: str) -> list[str]:
    i = state["head"].index(label)
    return [r[i] for r in state["shown"]]


@pytest.mark.slow
def test_drill_down_from_charts_and_tables(outputs: Path, tmp_path):
    with browser() as b:
        page, visit = open_page(b, outputs / "weekly" / "2026-W13.html")
        page.wait_for_selector(".js-plotly-plot .main-svg")
        for chart in ("chart-pareto", "chart-heatmap", "chart-denial-trend"):
            page.evaluate(CLICKED, chart)
        everything = _drill_state(page)
        assert not everything["active"] and everything["claims"] > 0
        assert len(everything["shown"]) == everything["rows"]  # the tiny data set: every row drawn
        lo, hi = page.evaluate("() => { const d = JSON.parse(document.getElementById('table-claims-data').textContent);"
                               " return [d.charts['chart-pareto'].from, d.charts['chart-pareto'].to]; }")

        # a root-cause bar: its claims, in the chart's 13 weeks, as many as the bar's hover says
        p = _click_element(page, "chart-pareto", "#chart-pareto .trace.bars .point path")
        claims, code = p["customdata"]
        s = _drill_state(page)
        assert s["active"] and f"root cause {code}" in s["text"] and "Clear filter" in s["text"]
        assert s["claims"] == claims > 0
        assert set(_col(s, "Root cause")) == {code}
        assert all(lo <= w <= hi for w in _col(s, "Week"))
        assert abs(s["top"]) < 2  # scrolled to the table

        # export writes the filtered rows
        with page.expect_download() as dl:
            page.click("#claims button[data-drill-export]")
        lines = Path(dl.value.path()).read_text().splitlines()
        assert lines[0].startswith("Week,Claim,Payer") and len(lines) == s["rows"] + 1

        page.click("#claims .drill-clear")
        s = _drill_state(page)
        assert not s["active"] and s["claims"] == everything["claims"]

        # a payer x root-cause cell of the heatmap with claims in it
        cell = page.evaluate(
            """() => { const gd = document.getElementById('chart-heatmap'); gd.scrollIntoView();
                       const t = gd.data[0].text, xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
                       for (let i = 0; i < t.length; i++) for (let j = 0; j < t[i].length; j++) if (t[i][j])
                         return {x: r.left + xa._offset + xa.l2p(j), y: r.top + ya._offset + ya.l2p(i)};
                       return null; }""")
        p = _click_at(page, "chart-heatmap", cell["x"], cell["y"])
        s = _drill_state(page)
        assert s["claims"] == int(page.evaluate(
            "(p) => { const d = document.getElementById('chart-heatmap').data[0]; return d.text[d.y.indexOf(p.y)][d.x.indexOf(p.x)]; }", p))
        assert set(_col(s, "Payer")) == {p["y"]} and set(_col(s, "Root cause")) == {p["customdata"]}
        assert f"payer {p['y']}" in s["text"]

        # a payer's point of the trend: its denied claims of that week
        p = _click_element(page, "chart-denial-trend", "#chart-denial-trend .scatterlayer .trace .points path")
        denied, _, week = p["customdata"]
        s = _drill_state(page)
        assert s["claims"] == denied
        assert set(_col(s, "Week")) <= {week}
        if p["name"] != "All payers":
            assert set(_col(s, "Payer")) <= {p["name"]}

        # a row of the reason-code table, and one of the department table
        row = page.eval_on_selector("#table-carcs tbody tr", "tr => Array.from(tr.cells).map(c => c.getAttribute('data-value'))")
        page.click("#table-carcs tbody tr")
        s = _drill_state(page)
        assert s["claims"] == int(row[2]) and all(row[0] in r.split() for r in _col(s, "Reasons (group-CARC)"))
        row = page.eval_on_selector("#table-departments tbody tr", "tr => Array.from(tr.cells).map(c => c.getAttribute('data-value'))")
        page.click("#table-departments tbody tr")
        s = _drill_state(page)
        assert s["claims"] == int(row[1]) and set(_col(s, "Department")) <= {row[0]}

        page.screenshot(path=str(tmp_path / "drill.png"))
        assert visit.console_errors == [] and visit.external_requests == []
