"""The weekly pages' weeks: ISO week keys (the report_week partitions) and the completed weeks.

A week's page is written from the current marts as of the week's snapshot date, by the pipeline,
the backfill and `denials report` alike (reports/dashboard.build_all_weeks). No copy of a week's
figures is kept apart from its page: the ``marts.published_*`` tables of earlier versions, which
no page read, are dropped (``drop_published_tables``).
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from transforms.errors import DenialsError

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(DenialsError):
    """Not an ISO week key (YYYY-Www)."""


def week_start(iso_week: str) -> dt.date:
    m = _ISO_WEEK.match(iso_week)
    if not m:
        raise WeekError(f"{iso_week!r} is not an ISO week such as 2026-W45")
    try:
        return dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError as e:
        raise WeekError(f"{iso_week!r} is not an ISO week: {e}") from None


def completed_weeks(con: duckdb.DuckDBPyConnection) -> list[str]:
    """ISO weeks that are complete (their Sunday is on or before the as-of date) and have adjudications."""
    return [
        r[0]
        for r in con.execute(
            "SELECT iso_week FROM marts.mart_weekly_kpis WHERE is_complete AND claims_adjudicated > 0 ORDER BY week_start"
        ).fetchall()
    ]


def drop_published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Drop the ``marts.published_*`` tables a warehouse of an earlier version holds; returns their names."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name LIKE 'published\\_%' ESCAPE '\\' "
        "AND database_name = current_database() ORDER BY 1").fetchall()]
    for name in names:
        con.execute(f"DROP TABLE marts.{name}")
    return names
