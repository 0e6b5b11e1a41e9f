"""The published figures of a week: a weekly partition of the marts.

Publishing ISO week W copies W's rows of the weekly marts into ``marts.published_<mart>``
(deleting W's previous rows first, in one transaction), so the figures a weekly report showed
are kept as they were when it was written, and a backfill of W replaces exactly W's rows:
publishing the same week twice from the same warehouse leaves identical tables.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from transforms.errors import DenialsError

# the weekly marts and the column that places a row in a week (its Monday)
WEEKLY_MARTS = (
    "mart_weekly_kpis",
    "mart_weekly_denial_rates",
    "mart_denials_by_category",
    "mart_denials_by_carc",
    "mart_days_in_ar",
    "mart_ar_aging",
)
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


def publish_week(con: duckdb.DuckDBPyConnection, iso_week: str) -> dict[str, int]:
    """Replace week ``iso_week``'s rows of every ``marts.published_<mart>``; returns rows per table."""
    monday = week_start(iso_week)
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for mart in WEEKLY_MARTS:
            target = f"marts.published_{mart.removeprefix('mart_')}"
            con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT ?::VARCHAR AS published_week, * FROM marts.{mart} LIMIT 0",
                        [iso_week])
            _add_new_columns(con, f"marts.{mart}", target)
            con.execute(f"DELETE FROM {target} WHERE published_week = ?", [iso_week])
            counts[target] = con.execute(
                f"INSERT INTO {target} BY NAME SELECT ?::VARCHAR AS published_week, * FROM marts.{mart} WHERE week_start = ?",
                [iso_week, monday],
            ).fetchone()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def _add_new_columns(con: duckdb.DuckDBPyConnection, source: str, target: str) -> None:
    """A mart that gained columns since its weeks were first published: the published table gets
    them too (NULL in the weeks published before); a column the mart dropped stays, NULL from now on."""
    have = {r[0] for r in con.execute(f"DESCRIBE {target}").fetchall()}
    for name, type_ in ((r[0], r[1]) for r in con.execute(f"DESCRIBE {source}").fetchall()):
        if name not in have:
            con.execute(f'ALTER TABLE {target} ADD COLUMN "{name}" {type_}')
