"""The house style: one Plotly template and number formats used by every report."""

from __future__ import annotations

import math
from decimal import Decimal

import plotly.graph_objects as go
import plotly.io as pio

# Okabe-Ito (first seven): distinguishable with the common forms of colour blindness; then muted extras.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#8C564B", "#7F7F7F", "#17BECF"]
# black is kept for the "all" series of a chart
FONT = "Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
TEMPLATE_NAME = "denials"


def register_template() -> str:
    if TEMPLATE_NAME not in pio.templates:
        t = go.layout.Template()
        t.layout = go.Layout(
            font=dict(family=FONT, size=13, color="#1f2933"),
            title=dict(font=dict(size=16), x=0, xanchor="left"),
            colorway=PALETTE,
            paper_bgcolor="white",
            plot_bgcolor="white",
            margin=dict(l=60, r=20, t=50, b=50),
            xaxis=dict(showgrid=False, linecolor="#9aa5b1", ticks="outside", automargin=True),
            yaxis=dict(gridcolor="#e4e7eb", zerolinecolor="#9aa5b1", separatethousands=True, automargin=True),
            legend=dict(orientation="h", y=-0.2, x=0),
            hoverlabel=dict(font=dict(family=FONT)),
            separators=".,",
        )
        pio.templates[TEMPLATE_NAME] = t
    return TEMPLATE_NAME


def is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def money(v, decimals: int = 0) -> str:
    if is_missing(v):
        return "–"
    v = Decimal(str(v))
    sign = "-" if v < 0 else ""
    return f"{sign}${abs(v):,.{decimals}f}"


def pct(v, decimals: int = 1) -> str:
    return "–" if is_missing(v) else f"{float(v) * 100:.{decimals}f}%"


def number(v, decimals: int = 0) -> str:
    return "–" if is_missing(v) else f"{float(v):,.{decimals}f}"
