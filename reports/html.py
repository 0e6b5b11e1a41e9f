"""Page assembly: Jinja2 templates, plotly.js written once beside the pages (never a CDN).

The plotly.js written is the vendored partial bundle (reports/vendor/README.md): the same plotly.js
version as the Python plotly package bundles, built with only the trace types the reports draw, a
quarter of the size of the full bundle and much faster for the browser to load."""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import jinja2
import plotly.graph_objects as go
import plotly.offline

from reports import style

TEMPLATES = Path(__file__).parent / "templates"
PLOTLY_JS = "plotly.min.js"
VENDORED_PLOTLY_JS = Path(__file__).parent / "vendor" / "plotly-cartesian.min.js"
# the trace types the published cartesian bundle registers (reports/vendor/README.md); every figure must use only these
BUNDLE_TRACE_TYPES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
                                "image", "pie", "scatter", "scatterternary", "violin"})

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def plotly_js_version(js: str) -> str:
    """The version in a plotly.js bundle's header comment ('* plotly.js (partial: ... - minified) v4.1.1')."""
    m = re.search(r"plotly\.js[^\n]*? v(\d+\.\d+\.\d+)", js[:500])
    if m is None:
        raise ValueError("no plotly.js version in the bundle's header")
    return m.group(1)


def write_plotly_js(output_dir: Path, full: bool = False) -> Path:
    """assets/plotly.min.js under the output folder, written when missing or different: the vendored
    partial bundle, or with full=True the full bundle of the Python plotly package (for comparisons)."""
    assets = output_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    target = assets / PLOTLY_JS
    js = (plotly.offline.get_plotlyjs() if full else VENDORED_PLOTLY_JS.read_text(encoding="utf-8")).encode()
    if not target.exists() or target.stat().st_size != len(js) or target.read_bytes() != js:
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(js)
        tmp.replace(target)
    return target


def figure_html(fig: go.Figure, div_id: str) -> str:
    style.register_template()
    fig.update_layout(template=style.TEMPLATE_NAME)
    unsupported = {t.type for t in fig.data} - BUNDLE_TRACE_TYPES
    if unsupported:
        raise ValueError(f"{div_id}: trace types {sorted(unsupported)} are not in the vendored plotly.js bundle (reports/vendor)")
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def render(template: str, out_path: Path, output_dir: Path, **context) -> Path:
    """Render a page; ``asset_prefix`` points from the page to output_dir/assets. A page without
    Plotly figures passes charts=False and does not load plotly.js."""
    context.setdefault("charts", True)
    write_plotly_js(output_dir)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    prefix = os.path.relpath(output_dir / "assets", out_path.parent).replace(os.sep, "/")
    page = _env.get_template(template).render(asset_prefix=prefix, **context)
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out_path)
    return out_path


def script_json(value) -> str:
    """JSON safe to put inside a <script> element."""
    return script_safe(json.dumps(value, separators=(",", ":"), default=str))


def script_safe(json_text: str) -> str:
    """JSON text made safe to put inside a <script> element (no <, > or & left to end it)."""
    return json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


LONG_TEXT = 40  # characters of a text cell beyond which it may wrap


def table(rows: list[dict], columns: list[tuple[str, str, str]], table_id: str, caption: str = "",
          drill: Callable[[dict], dict] | None = None) -> str:
    """A sortable, filterable, exportable table. columns: (key, label, format) where format is
    text | money | money2 | pct | int | date. drill: for a row, the drill-down filter that clicking
    the row applies to the page's claims table (see drill_table)."""
    fmt = {
        "money": lambda v: style.money(v),
        "money2": lambda v: style.money(v, 2),
        "pct": style.pct,
        "int": style.number,
        "text": lambda v: "" if style.is_missing(v) else str(v),
        "date": lambda v: "" if style.is_missing(v) else str(v)[:10],
    }
    head = "".join(
        f'<th data-type="{"num" if f in ("money", "money2", "pct", "int") else "text"}">{html.escape(label)}</th>'
        for _, label, f in columns
    )
    body = []
    for r in rows:
        cells = []
        for key, _, f in columns:
            v = r.get(key)
            raw = "" if style.is_missing(v) else str(v)
            # long text (an expectation, an error message) wraps, so the columns after it stay in view
            cls = ' class="num"' if f in ("money", "money2", "pct", "int") else ' class="long"' if len(raw) > LONG_TEXT else ""
            cells.append(f'<td{cls} data-value="{html.escape(raw)}">{html.escape(fmt[f](v))}</td>')
        attrs = ""
        if drill is not None:
            attrs = f' class="drill" tabindex="0" title="Show these claims" data-drill="{html.escape(json.dumps(drill(r), default=str))}"'
        body.append(f"<tr{attrs}>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-tools"><input type="search" placeholder="Filter rows…" data-filter="{table_id}" aria-label="Filter {html.escape(caption or table_id)}">'
        f'<button type="button" data-export="{table_id}">Export CSV</button></div>'
        f'<div class="table-wrap"><table id="{table_id}" class="data">{cap}<thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table></div>'
    )


def drill_table(rows_json: str, columns: list[tuple[str, str, str]], table_id: str, key: str, scope: str, charts: dict) -> str:
    """The claim-level drill-down table: its rows as JSON in the page, drawn by drill.js (at most
    a few hundred at a time; sort, filter and CSV export work on all of them). ``rows_json``: the
    rows, the items of a JSON array already safe for a <script> (:func:`script_safe`), each an
    array of the columns' values (numbers for money, int and pct columns) and last a number
    identifying its claim, counted by drill.js (not shown; ``key`` names it); ``scope`` describes the rows when no
    filter is set; ``charts`` maps a chart's div id to how a click on it filters
    ({"kind": "trend" | "category" | "payer-category", "from": week, "to": week})."""
    fmt_kind = {"money": "money", "money2": "money", "int": "int", "pct": "pct"}
    data = {
        "columns": [{"key": k, "label": label, "format": fmt_kind.get(f, "text")} for k, label, f in columns],
        "key": key,
        "scope": scope,
        "charts": charts,
    }
    config = script_json(data)[:-1] + ',"rows":[' + rows_json + "]}"
    head = "".join(
        f'<th data-type="{"num" if f in fmt_kind else "text"}">{html.escape(label)}</th>' for _, label, f in columns
    )
    return (
        f'<div class="drill-bar" role="status" aria-live="polite"><span class="drill-desc"></span> '
        f'<span class="drill-count"></span> <a class="drill-back" href="#" hidden>back to the chart</a> '
        f'<button type="button" class="drill-clear" hidden>Clear filter</button></div>'
        f'<div class="table-tools"><input type="search" placeholder="Filter rows…" data-drill-search="{table_id}" '
        f'aria-label="Filter claims"><button type="button" data-drill-export="{table_id}">Export CSV</button></div>'
        f'<div class="table-wrap"><table id="{table_id}" class="data drill-table"><thead><tr>{head}</tr></thead><tbody></tbody></table></div>'
        f'<p class="muted drill-more"></p>'
        f'<script type="application/json" id="{table_id}-data">{config}</script>'
    )
