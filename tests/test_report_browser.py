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
