"""Compare the model tables of two warehouses (or of a warehouse and another engine's output
read into DuckDB): same columns, same rows as multisets."""

from __future__ import annotations

import duckdb

from transforms import models


def model_tables() -> list[str]:
    return [m.table for m in models.discover()]


def differences(con: duckdb.DuckDBPyConnection, left: str, right: str, tables: list[str] | None = None) -> dict[str, str]:
    """{table: what differs} between the catalogs ``left`` and ``right`` attached to ``con``;
    empty when every table has the same columns (names and types, in order) and the same rows."""
    out: dict[str, str] = {}
    for table in tables or model_tables():
        schema, name = table.split(".")
        cols = {}
        for side in (left, right):
            cols[side] = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [side, schema, name],
            ).fetchall()
        if not cols[left] or cols[left] != cols[right]:
            out[table] = f"columns differ: {cols[left]} vs {cols[right]}"
            continue
        n = {}
        for a, b in ((left, right), (right, left)):
            n[a] = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM {a}.{table} EXCEPT ALL SELECT * FROM {b}.{table})"
            ).fetchone()[0]
        rows = con.execute(f"SELECT count(*) FROM {left}.{table}").fetchone()[0]
        if n[left] or n[right]:
            out[table] = f"{n[left]} of {rows} rows only in {left}, {n[right]} only in {right}"
    return out
