"""The vendored plotly.js partial bundle (reports/vendor): the version the Python plotly package
targets, unchanged since it was vendored, and holding every trace type the reports draw."""

from __future__ import annotations

import hashlib
import re

import plotly.graph_objects as go
import plotly.offline
import pytest

from reports import html
from tests.browser import browser, open_page

VENDOR = html.VENDORED_PLOTLY_JS.parent


def test_vendored_bundle_is_the_version_python_plotly_bundles():
    vendored = html.plotly_js_version(html.VENDORED_PLOTLY_JS.read_text(encoding="utf-8"))
    bundled = html.plotly_js_version(plotly.offline.get_plotlyjs())
    assert vendored == bundled, f"vendored plotly.js {vendored}, Python plotly targets {bundled}: see reports/vendor/README.md"
    readme = (VENDOR / "README.md").read_text()
    assert f"v{vendored}" in readme and f"plotly.js-cartesian-dist-min@{vendored}" in readme


def test_vendored_bundle_is_unchanged():
    readme = (VENDOR / "README.md").read_text()
    recorded = re.search(r"sha256 of the file: `([0-9a-f]{64})`", readme).group(1)
    assert hashlib.sha256(html.VENDORED_PLOTLY_JS.read_bytes()).hexdigest() == recorded
    assert (VENDOR / "LICENSE-plotly.js").read_text().startswith("MIT License")


def test_written_asset_is_the_vendored_bundle(tmp_path):
    target = html.write_plotly_js(tmp_path)
    assert target.read_bytes() == html.VENDORED_PLOTLY_JS.read_bytes()
    partial = target.stat().st_size
    assert html.write_plotly_js(tmp_path, full=True).stat().st_size > 3 * partial  # the full bundle, for the bench
    assert html.write_plotly_js(tmp_path).stat().st_size == partial  # and back


def test_a_trace_type_outside_the_bundle_is_refused():
    with pytest.raises(ValueError, match="scattergl"):  # WebGL traces are not in the cartesian bundle
        html.figure_html(go.Figure(go.Scattergl(x=[1], y=[1])), "chart-x")


@pytest.mark.slow
def test_bundle_registers_the_trace_types_declared(tmp_path):
    """BUNDLE_TRACE_TYPES (what figure_html allows) is what the bundle really registers in Chromium."""
    html.write_plotly_js(tmp_path)
    page_path = tmp_path / "p.html"
    page_path.write_text('<!DOCTYPE html><html><head><script src="assets/plotly.min.js"></script></head><body></body></html>')
    with browser() as b:
        page, visit = open_page(b, page_path)
        registered = set(page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)"))
        assert page.evaluate("Plotly.version") == html.plotly_js_version(html.VENDORED_PLOTLY_JS.read_text(encoding="utf-8"))
        assert visit.console_errors == []
    assert registered == set(html.BUNDLE_TRACE_TYPES)
