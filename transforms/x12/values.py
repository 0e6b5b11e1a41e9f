"""Typed values of X12 elements: money, quantities, dates, integers.

The checks are strict (a value is what X12 allows or it is rejected) and never echo the value:
:class:`BadValue` names the element and what was expected; the parser adds the segment.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

ZERO = Decimal(0)
_MAX_DIGITS = 18


class BadValue(Exception):
    """An element does not hold what it should. Carries no value (it may be PHI)."""

    def __init__(self, element: str, expected: str, code: str = "bad_value"):
        super().__init__(f"element {element}: expected {expected}")
        self.element = element
        self.expected = expected
        self.code = code


def _number(s: str, element: str, max_decimals: int, expected: str) -> Decimal:
    t = s[1:] if s[:1] == "-" else s
    whole, _dot, frac = t.partition(".")
    if not (
        (whole or frac)
        and (not whole or (whole.isdigit() and whole.isascii()))
        and (not frac or (frac.isdigit() and frac.isascii()))
    ):
        raise BadValue(element, expected)
    if len(frac) > max_decimals and frac[max_decimals:].strip("0"):
        raise BadValue(
            element, f"{expected} with at most {max_decimals} decimal places"
        )
    if len(whole.lstrip("0")) > _MAX_DIGITS - max_decimals:
        raise BadValue(
            element,
            f"{expected} of at most {_MAX_DIGITS - max_decimals} integer digits",
        )
    d = Decimal(s)
    if len(frac) > max_decimals:  # trailing zeros only (checked above): 12.340 -> 12.34
        d = d.quantize(Decimal(1).scaleb(-max_decimals))
    return d


_PLAIN_MONEY = re.compile(r"-?(?:[0-9]{1,16}(?:\.[0-9]{0,2})?|\.[0-9]{1,2})").fullmatch


def parse_money(s: str, element: str) -> Decimal:
    """``150000``, ``.5``, ``-1.27`` -> Decimal; at most two decimal places."""
    if _PLAIN_MONEY(s):
        return Decimal(s)
    return _number(s, element, 2, "a decimal amount")


def parse_quantity(s: str, element: str) -> Decimal:
    """A quantity (units): decimal with at most three decimal places."""
    return _number(s, element, 3, "a decimal quantity")


DEFAULT_DATE_RANGE = (dt.date(1900, 1, 1), dt.date(2099, 12, 31))


def date_range() -> tuple[dt.date, dt.date]:
    """The plausible dates of any input (an X12 or CSV date outside them is a bad value): the
    setting ``DENIALS_DATE_RANGE`` (``YYYY-MM-DD..YYYY-MM-DD``), else 1900-01-01..2099-12-31. A date
    of year 1 or 9999 would otherwise stretch the weekly calendar to half a million weeks."""
    import os

    raw = os.environ.get("DENIALS_DATE_RANGE", "").strip()
    if not raw:
        return DEFAULT_DATE_RANGE
    try:
        lo, hi = (dt.date.fromisoformat(x.strip()) for x in raw.split(".."))
    except ValueError:
        from transforms.errors import ConfigError

        raise ConfigError(f"DENIALS_DATE_RANGE={raw!r}: expected two dates as YYYY-MM-DD..YYYY-MM-DD") from None
    return lo, hi


def range_text(lo: dt.date, hi: dt.date, fmt: str = "%Y%m%d") -> str:
    return f" from {lo.strftime(fmt)} to {hi.strftime(fmt)}"


def parse_date(s: str, element: str, yymmdd: bool = False) -> dt.date:
    """CCYYMMDD (or YYMMDD when ``yymmdd``: 004010 DTM, century 20 below 50, else 19), within
    :func:`date_range`."""
    d = None
    if s.isdigit() and s.isascii():
        try:
            if len(s) == 8:
                d = dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
            elif len(s) == 6 and yymmdd:
                yy = int(s[:2])
                d = dt.date((2000 if yy < 50 else 1900) + yy, int(s[2:4]), int(s[4:]))
        except ValueError:
            d = None
    lo, hi = date_range()
    if d is None or not lo <= d <= hi:
        raise BadValue(element, "a date CCYYMMDD" + (" or YYMMDD" if yymmdd else "") + range_text(lo, hi))
    return d


def parse_int(s: str, element: str) -> int:
    if s.isdigit() and s.isascii() and len(s) <= 9:
        return int(s)
    raise BadValue(element, "a whole number")


def money_str(d: Decimal) -> str:
    """Money for JSON: a string with two decimals (``"149998.73"``)."""
    s = f"{d:.2f}"
    return "0.00" if s == "-0.00" else s
