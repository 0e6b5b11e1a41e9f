"""Date helpers: ISO weeks, weekdays of ordinals, and cached string forms."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

DEFAULT_END = date(2026, 11, 15)  # a Sunday: by default the generated weeks end here


def default_start(weeks: int) -> date:
    """The Monday such that ``weeks`` whole weeks end on DEFAULT_END."""
    return DEFAULT_END + timedelta(days=1) - timedelta(weeks=weeks)


def weekday(ordinal: int) -> int:
    """Monday = 0 for a proleptic Gregorian ordinal (date.toordinal())."""
    return (ordinal + 6) % 7


@cache
def iso(ordinal: int) -> str:
    """YYYY-MM-DD."""
    return date.fromordinal(ordinal).isoformat()


@cache
def d8(ordinal: int) -> str:
    """CCYYMMDD (X12 D8)."""
    return date.fromordinal(ordinal).strftime("%Y%m%d")


def iso_week(ordinal: int) -> str:
    """ISO week string such as 2026-W21."""
    y, w, _ = date.fromordinal(ordinal).isocalendar()
    return f"{y}-W{w:02d}"


def monday(ordinal: int) -> int:
    return ordinal - weekday(ordinal)
