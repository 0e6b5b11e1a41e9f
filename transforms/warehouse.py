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
