"""Weekly report: size on disk and time until interactive in headless Chromium.

Builds the demo warehouse from sample_data/ (or uses --warehouse), writes the latest week's report,
and opens it in Debian's Chromium (Playwright) several times, printing:
  - bytes of the page and of the shared plotly.min.js;
  - DOMContentLoaded, load, and "interactive" (every Plotly chart drawn and the page answering a
    click on a table header: a sort) in milliseconds, median and worst of N runs;
for three variants of the same page, their runs interleaved (run 1 of each, then run 2, ...) so
that a busy moment of the machine hits them alike:
  - ours: the shared assets/plotly.min.js as written, the vendored partial bundle (reports/vendor);
  - full: the same page with the full plotly.js of the Python plotly package as the shared file
    (what the reports used before the partial bundle);
  - inline: the full plotly.js inlined in the page (Plotly's to_html default, include_plotlyjs=True);
  - and, for each --bundle FILE, the same page with FILE as the shared plotly.min.js (for example
    another partial bundle to compare with).

    uv run python bench/bench_report.py [--runs 7] [--warehouse out/demo/warehouse.duckdb] [--bundle FILE ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def variant(site: Path, out: Path, name: str, js: Path | None) -> Path:
    """A copy of the site whose shared plotly.min.js is ``js`` (None: the full bundle); returns its page."""
    from reports import html

    copy = out / f"site-{name}"
    shutil.copytree(site, copy)
    if js is None:
        html.write_plotly_js(copy, full=True)
    else:
        shutil.copy(js, copy / "assets" / "plotly.min.js")
    return next((copy / "weekly").glob("*.html"))


def inline_baseline(page: Path, out: Path) -> Path:
    """The same page with the full plotly.js inlined instead of referenced (one self-contained file)."""
    import plotly.offline

    text = page.read_text()
    tag = next(line for line in text.splitlines() if "plotly.min.js" in line)
    base = out / "inline.html"
    base.write_text(text.replace(tag, "<script>" + plotly.offline.get_plotlyjs() + "</script>"))
    return base


def measure(paths: dict[str, Path], runs: int) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    from tests.conftest import chromium_path

    times = {name: {"domcontentloaded": [], "load": [], "interactive": []} for name in paths}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=ARGS)
        for _ in range(runs):
            for name, path in paths.items():
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_function(
                    "() => Array.from(document.querySelectorAll('.js-plotly-plot')).every(d => d.querySelector('.main-svg'))")
                page.click("#table-worklist th:nth-child(2)")
                interactive = page.evaluate("performance.now()")
                nav = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
                times[name]["domcontentloaded"].append(nav["domContentLoadedEventEnd"])
                times[name]["load"].append(nav["loadEventEnd"])
                times[name]["interactive"].append(interactive)
                page.close()
        browser.close()
    return {name: {k: (statistics.median(v), max(v)) for k, v in t.items()} for name, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warehouse", type=Path)
    ap.add_argument("--bundle", type=Path, action="append", default=[], help="another plotly.js file to measure the page with")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        page = build(a.warehouse, out)
        site = page.parent.parent
        pages = {"ours": page, "full": variant(site, out, "full", None), "inline": inline_baseline(page, out)}
        cols = {"ours": "ours (partial bundle)", "full": "before (full plotly.js)", "inline": "full plotly.js inline"}
        for js in a.bundle:
            pages[js.name] = variant(site, out, js.name, js)
            cols[js.name] = js.name
        load_before = os.getloadavg()
        m = measure(pages, a.runs)
        load_after = os.getloadavg()
        width = max(26, *(len(c) + 2 for c in cols.values()))
        print()
        print(f"{'':34}" + "".join(f"{c:>{width}}" for c in cols.values()))
        print(f"{'page bytes':34}" + "".join(f"{pages[n].stat().st_size:>{width},}" for n in cols))
        js_size = {n: "-" if n == "inline" else f"{(pages[n].parent.parent / 'assets' / 'plotly.min.js').stat().st_size:,}" for n in cols}
        print(f"{'plotly.min.js bytes (once)':34}" + "".join(f"{js_size[n]:>{width}}" for n in cols))
        for k in ("domcontentloaded", "load", "interactive"):
            print(f"{k + ' ms (median / worst)':34}" + "".join(f"{f'{m[n][k][0]:.0f} / {m[n][k][1]:.0f}':>{width}}" for n in cols))
        print(f"\nload average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}; "
              f"after: {' '.join(f'{x:.2f}' for x in load_after)}; {os.cpu_count()} cores; {a.runs} runs")
        size_ok = page.stat().st_size + (site / "assets" / "plotly.min.js").stat().st_size <= 5 * 2**20
        print(f"goal: page (with plotly.min.js) <= 5 MB: {'met' if size_ok else 'NOT met'}; "
              f"interactive median <= 2000 ms: {'met' if m['ours']['interactive'][0] <= 2000 else 'NOT met'}; "
              f"worst <= 2000 ms: {'met' if m['ours']['interactive'][1] <= 2000 else 'NOT met'}")

if __name__ == "__main__":
    main()
