"""The warehouse file: schema creation and the raw tables' column types."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import duckdb
import pyarrow as pa

SQL_DIR = Path(__file__).parent / "sql"
SCHEMA_SQL = SQL_DIR / "raw" / "schema.sql"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw, audit and ref schemas and tables if they do not exist (idempotent)."""
    con.execute(SCHEMA_SQL.read_text())


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


# Vacuum is put off during a run and allowed at its end only when a table carries this share of
# deleted rows. An incremental build deletes and re-inserts the rows of the claims in scope,
# spread over every row group of its tables; with vacuum allowed, the checkpoints of those
# commits cost about 7.5 s of a new week at a million claims, against 1.6 s with it put off
# (docs/performance.md). DuckDB's vacuum only merges row groups once about a third of their rows
# are deleted, so allowing it at that share reclaims what it would have reclaimed anyway.
VACUUM_DEAD_SHARE = 1 / 3


def defer_vacuum(con: duckdb.DuckDBPyConnection) -> None:
    """Checkpoints of this database (until ``finish_writes``) keep deleted rows in place."""
    con.execute("SET max_vacuum_tasks = 0")


def dead_rows(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """{table: (rows stored, live rows)} of the tables that store deleted rows."""
    out = {}
    for schema, table, stored in con.execute(
        "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
        "WHERE NOT temporary AND database_name = current_database()"
    ).fetchall():
        live = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        if stored > live:
            out[f"{schema}.{table}"] = (stored, live)
    return out


def finish_writes(con: duckdb.DuckDBPyConnection) -> bool:
    """Before the last connection closes (its checkpoint): vacuum if a table's deleted rows reach
    VACUUM_DEAD_SHARE of what it stores. Returns whether this checkpoint vacuums."""
    vacuum = any((stored - live) >= VACUUM_DEAD_SHARE * stored for stored, live in dead_rows(con).values())
    if vacuum:
        con.execute("RESET max_vacuum_tasks")
    return vacuum


_ARROW = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
}


def _arrow_type(duck_type: str) -> pa.DataType:
    m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", duck_type)
    if m:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    return _ARROW[duck_type]


@functools.cache
def raw_columns() -> dict[str, dict[str, pa.DataType]]:
    """{raw table: {column: arrow type}} read from schema.sql."""
    con = duckdb.connect()
    try:
        ensure_schema(con)
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, pa.DataType]] = {}
    for table, col, typ in rows:
        out.setdefault(table, {})[col] = _arrow_type(typ)
    return out
