"""Weekly report: size on disk and time until interactive in headless Chromium.

Builds the demo warehouse from sample_data/ (or uses --warehouse), writes the latest week's report,
and opens it in Debian's Chromium (Playwright) several times, printing:
  - bytes of the page and of the shared plotly.min.js;
  - DOMContentLoaded, load, and "interactive" (every Plotly chart drawn and the page answering a
    click on a table header: a sort) in milliseconds, median and worst of N runs;
side by side with a baseline: the same figures written as one self-contained page per chart set
with plotly.js embedded inline (Plotly's to_html default, include_plotlyjs=True).

    uv run python bench/bench_report.py [--runs 7] [--warehouse out/demo/warehouse.duckdb]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def build(warehouse: Path | None, out: Path) -> Path:
    from reports.dashboard import build_weekly_dashboard
    from tests.helpers import load_and_build
    from transforms import trends
    from transforms import warehouse as wh

    if warehouse is None:
        t = time.perf_counter()
        con = load_and_build(ROOT / "sample_data", out / "w.duckdb", None)
        trends.write_alerts(con, trends.detect(con))
        print(f"built the demo warehouse in {time.perf_counter() - t:.1f} s")
    else:
        con = wh.connect(warehouse, read_only=True)
    t = time.perf_counter()
    page = build_weekly_dashboard(con, out / "site")
    print(f"wrote {page.name} in {(time.perf_counter() - t) * 1000:.0f} ms")
    con.close()
    return page


def inline_baseline(page: Path, out: Path) -> Path:
    """The same page with plotly.js inlined instead of referenced (one self-contained file)."""
    text = page.read_text()
    js = (page.parent.parent / "assets" / "plotly.min.js").read_text()
    tag = next(line for line in text.splitlines() if "plotly.min.js" in line)
    base = out / "inline.html"
    base.write_text(text.replace(tag, "<script>" + js + "</script>"))
    return base


def measure(path: Path, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.conftest import chromium_path

    times = {"domcontentloaded": [], "load": [], "interactive": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=ARGS)
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.js-plotly-plot')).every(d => d.querySelector('.main-svg'))")
            page.click("#table-worklist th:nth-child(2)")
            interactive = page.evaluate("performance.now()")
            nav = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
            times["domcontentloaded"].append(nav["domContentLoadedEventEnd"])
            times["load"].append(nav["loadEventEnd"])
            times["interactive"].append(interactive)
            page.close()
        browser.close()
    return {k: (statistics.median(v), max(v)) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warehouse", type=Path)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        page = build(a.warehouse, out)
        js = page.parent.parent / "assets" / "plotly.min.js"
        base = inline_baseline(page, out)
        ours, inline = measure(page, a.runs), measure(base, a.runs)
        print()
        print(f"{'':34}{'ours (shared plotly.min.js)':>30}{'baseline (plotly.js inline)':>30}")
        print(f"{'page bytes':34}{page.stat().st_size:>30,}{base.stat().st_size:>30,}")
        print(f"{'plotly.min.js bytes (once)':34}{js.stat().st_size:>30,}{'-':>30}")
        for k in ("domcontentloaded", "load", "interactive"):
            o, b = ours[k], inline[k]
            print(f"{k + ' ms (median / worst)':34}{f'{o[0]:.0f} / {o[1]:.0f}':>30}{f'{b[0]:.0f} / {b[1]:.0f}':>30}")
        print(f"\ngoal: page <= 5 MB and interactive <= 2000 ms: "
              f"{'met' if page.stat().st_size <= 5 * 2**20 and ours['interactive'][1] <= 2000 else 'NOT met'}")


if __name__ == "__main__":
    main()
