"""Page assembly: Jinja2 templates, plotly.js written once beside the pages (never a CDN)."""

from __future__ import annotations

import html
import os
from pathlib import Path

import jinja2
import plotly.graph_objects as go
import plotly.offline

from reports import style

TEMPLATES = Path(__file__).parent / "templates"
PLOTLY_JS = "plotly.min.js"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def write_plotly_js(output_dir: Path) -> Path:
    """assets/plotly.min.js under the output folder, written when missing or outdated."""
    assets = output_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    target = assets / PLOTLY_JS
    js = plotly.offline.get_plotlyjs()
    if not target.exists() or target.stat().st_size != len(js.encode()):
        tmp = target.with_suffix(".tmp")
        tmp.write_text(js, encoding="utf-8")
        tmp.replace(target)
    return target


def figure_html(fig: go.Figure, div_id: str) -> str:
    style.register_template()
    fig.update_layout(template=style.TEMPLATE_NAME)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def render(template: str, out_path: Path, output_dir: Path, **context) -> Path:
    """Render a page; ``asset_prefix`` points from the page to output_dir/assets."""
    write_plotly_js(output_dir)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    prefix = os.path.relpath(output_dir / "assets", out_path.parent).replace(os.sep, "/")
    page = _env.get_template(template).render(asset_prefix=prefix, **context)
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out_path)
    return out_path


def table(rows: list[dict], columns: list[tuple[str, str, str]], table_id: str, caption: str = "") -> str:
    """A sortable, filterable, exportable table. columns: (key, label, format) where format is
    text | money | money2 | pct | int | date."""
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
            cls = ' class="num"' if f in ("money", "money2", "pct", "int") else ""
            cells.append(f'<td{cls} data-value="{html.escape(raw)}">{html.escape(fmt[f](v))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-tools"><input type="search" placeholder="Filter rows…" data-filter="{table_id}" aria-label="Filter {html.escape(caption or table_id)}">'
        f'<button type="button" data-export="{table_id}">Export CSV</button></div>'
        f'<div class="table-wrap"><table id="{table_id}" class="data">{cap}<thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table></div>'
    )
