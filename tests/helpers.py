"""Small helpers shared by tests (not fixtures)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from transforms import incremental, reference, warehouse
from transforms.ingest import loader
from transforms.ingest.phi import MemberIdHasher
from transforms.settings import Settings

TEST_KEY = b"test-key-not-secret-0123456789abcdef"


def load_and_build(landing: Path, db: Path, as_of: dt.date | None, **settings) -> duckdb.DuckDBPyConnection:
    """Load a landing folder and build every model, without Dagster (the logic alone)."""
    con = warehouse.connect(db)
    loader.load_batch(con, loader.discover(landing), MemberIdHasher(TEST_KEY))
    s = Settings(as_of_date=as_of, **settings)
    reference.load_reference(con, s)
    con.close()  # dbt opens the warehouse in its own process
    incremental.build_all(db, s, force_full=True)
    return warehouse.connect(db)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchone()[0]
