"""CSV cells a spreadsheet would not execute (formula injection, OWASP "CSV Injection").

A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, ``@SUM(...)``, DDE ``=cmd|...``).
Such a cell is written with a single quote before it (``'=HYPERLINK(...)``), which makes it text.
A value that is a plain number (``-12.50``, ``+3``, ``-1e-05``) is left as it is: a spreadsheet reads
it as that number, and it executes nothing. Numeric columns are never touched at all.

The same rule is applied in three places, which must agree:

* :func:`neutralise`: Python values (any CSV written with the ``csv`` module);
* :func:`sql_neutralise`: a DuckDB expression (the worklist CSV, written by ``COPY ... TO``);
* ``reports/templates/csv.js``: the "Export CSV" buttons of the HTML reports (in the browser).

``tests/test_csv_injection.py`` checks the three against the same cases.
"""

from __future__ import annotations

import re

# the first characters that make a spreadsheet evaluate a cell
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
# a plain decimal number, optionally signed, optionally with an exponent: never neutralised
_NUMBER_BODY = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
NUMBER = "^" + _NUMBER_BODY + "$"  # for DuckDB (RE2) and JavaScript, where $ is the very end
_NUMBER = re.compile(_NUMBER_BODY)


def neutralise(value):
    """``value`` with a single quote before it when a spreadsheet would run it as a formula; any
    other value (a plain number as text, None, a non-string) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return PREFIX + value
    return value


def sql_neutralise(expr: str) -> str:
    """A DuckDB expression of the VARCHAR ``expr`` neutralised as :func:`neutralise` does (NULL stays NULL)."""
    # RE2 reads \t and \r in the character class as tab and carriage return
    starts = r"'^[=+@\t\r-]'"
    return (f"CASE WHEN regexp_matches({expr}, {starts}) AND NOT regexp_matches({expr}, '{NUMBER}') "
            f"THEN '{PREFIX * 2}' || {expr} ELSE {expr} END")
