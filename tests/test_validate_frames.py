"""The frame Great Expectations validates (transforms/quality/validate.py: amounts as integers of
cents, dates as datetime64, strings Arrow-backed) gives the same counts as the values themselves:
each count here is also computed in SQL on the table, the independent answer. Edge values: zero,
negative and null amounts, the largest DECIMAL(18,2), dates on the bounds, a date GX's datetime64
cannot hold (year 9999), a bound that is not a whole number of cents."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from transforms.quality import validate
from transforms.quality.suites import EARLIEST, TODAY, Expect, Suite

TODAY_D = dt.date.today()
TOMORROW = TODAY_D + dt.timedelta(days=1)


def _table(con, rows):
    con.execute("CREATE OR REPLACE TABLE t (id VARCHAR, amount DECIMAL(18,2), served DATE, billed DATE, code VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", rows)


def _suite(min_amount=0) -> Suite:
    return Suite("frames", "t", (
        Expect("ExpectColumnValuesToBeUnique", {"column": "id"}, "error", "keys", "id once"),
        Expect("ExpectColumnValuesToNotBeNull", {"column": "amount"}, "error", "missing", "amount present"),
        Expect("ExpectColumnValuesToBeBetween", {"column": "amount", "min_value": min_amount}, "error", "invalid", "amount >= min"),
        Expect("ExpectColumnValuesToBeBetween", {"column": "served", "min_value": EARLIEST, "max_value": TODAY}, "warning",
               "invalid", "served plausible"),
        Expect("ExpectColumnPairValuesAToBeGreaterThanB",
               {"column_A": "billed", "column_B": "served", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
               "warning", "invalid", "billed on or after served"),
        Expect("ExpectColumnValuesToMatchRegex", {"column": "code", "regex": r"^[A-Z][0-9]{2}$"}, "warning", "codes", "code format"),
        Expect("ExpectColumnValuesToBeInSet", {"column": "code", "value_set": ["A01", "B02"]}, "warning", "codes", "code known"),
    ))


def _sql_counts(con, min_amount) -> list[int]:
    q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    return [
        q("SELECT count(*) - count(DISTINCT id) + (count(*) FILTER (WHERE id IN (SELECT id FROM t GROUP BY id HAVING count(*) > 1)))"
          " - count(DISTINCT id) FILTER (WHERE id IN (SELECT id FROM t GROUP BY id HAVING count(*) > 1)) FROM t"),
        q("SELECT count(*) FILTER (WHERE amount IS NULL) FROM t"),
        q(f"SELECT count(*) FILTER (WHERE amount < {min_amount}) FROM t"),
        q(f"SELECT count(*) FILTER (WHERE served < DATE '{EARLIEST}' OR served > DATE '{TODAY_D}') FROM t"),
        q("SELECT count(*) FILTER (WHERE billed < served) FROM t"),
        q("SELECT count(*) FILTER (WHERE NOT regexp_full_match(code, '[A-Z][0-9]{2}')) FROM t"),
        q("SELECT count(*) FILTER (WHERE code NOT IN ('A01', 'B02')) FROM t"),
    ]


ROWS = [
    ("1", "0.00", "2000-01-01", "2000-01-01", "A01"),  # on every lower bound
    ("2", "-0.01", "1999-12-31", "1999-12-30", "B02"),  # just under
    ("3", None, str(TODAY_D), str(TODAY_D), "Z99"),  # missing amount, on the upper bound, unknown code
    ("4", "9999999999999999.99", str(TOMORROW), None, "bad"),  # largest amount, just over, bad code
    ("4", "12.34", None, "2026-01-01", None),  # duplicate id, missing dates and code
    ("5", "-9999999999999999.99", "2026-02-01", "2026-01-31", "A01"),
]


@pytest.mark.parametrize("min_amount", [0, 1, "12.34"])
@pytest.mark.parametrize("extra", [None, ("6", "1.00", "9999-12-31", "9999-12-31", "A01")], ids=["datetime64", "year9999"])
def test_counts_equal_sql(min_amount, extra):
    con = duckdb.connect()
    _table(con, ROWS + ([extra] if extra else []))
    from decimal import Decimal

    bound = Decimal(min_amount) if isinstance(min_amount, str) else min_amount
    outcomes = validate.run_suite(con, _suite(bound))
    assert [o.unexpected_count for o in outcomes] == _sql_counts(con, bound)
    assert [o.success for o in outcomes] == [c == 0 for c in _sql_counts(con, bound)]


def test_amounts_and_dates_take_the_whole_column_types():
    con = duckdb.connect()
    _table(con, [r for r in ROWS if r[1] is not None])
    tbl = con.execute("SELECT * FROM t").arrow()
    tbl = tbl.read_all() if hasattr(tbl, "read_all") else tbl
    df, scales, datetimes = validate._frame(tbl, _suite())
    assert scales == {"amount": 2} and datetimes == {"served", "billed"}
    assert str(df["amount"].dtype) == "int64" and df["amount"].tolist()[:2] == [0, -1]
    assert str(df["served"].dtype) == "datetime64[ns]"
    # a bound that is not a whole number of cents: the amounts stay decimals
    df, scales, _ = validate._frame(tbl, _suite(min_amount=0.005))
    assert scales == {}
