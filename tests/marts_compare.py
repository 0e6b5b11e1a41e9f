"""Compare the model tables of two warehouses (or of a warehouse and another engine's output
read into DuckDB): same columns, same rows as multisets."""

from __future__ import annotations

import duckdb

from transforms import dbt_runner


def model_tables() -> list[str]:
    return [m.table for m in dbt_runner.discover()]


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


def _normalised(col: str, duck_type: str) -> str:
    """A column as compared across engines: decimals at their DuckDB scale (money to the cent),
    floating point to 6 places (Spark divides decimals at scale 6: a rate to a millionth), times
    as timestamps, the rest as text."""
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        scale = int(t.rstrip(")").split(",")[1])
        return f"round(CAST({col} AS DECIMAL(38,{max(scale, 2)})), {scale})"
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return f"round(CAST({col} AS DOUBLE), 6)"
    if t.startswith("TIMESTAMP"):
        return f"CAST(CAST({col} AS TIMESTAMP) AS VARCHAR)"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"):
        return f"CAST({col} AS BIGINT)"
    return f"CAST({col} AS VARCHAR)"


def engine_differences(con: duckdb.DuckDBPyConnection, duck: str, other_dir, tables: list[str] | None = None) -> dict[str, str]:
    """{table: what differs} between the tables of the DuckDB catalog ``duck`` and the same tables
    written as Parquet by another engine under ``other_dir`` (``<schema>.db/<table>/``, Spark's
    layout): the same column names (Spark puts a USING join's column first in ``*``: the order is
    not compared), and the same rows once each value is normalised (``_normalised``: money exact
    to the cent, counts exact)."""
    out: dict[str, str] = {}
    for table in tables or model_tables():
        schema, name = table.split(".")
        cols = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [duck, schema, name],
        ).fetchall()
        files = f"{other_dir}/{schema}.db/{name}/*.parquet"
        try:
            other_cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{files}')").fetchall()]
        except duckdb.Error as e:
            out[table] = f"not readable from {files}: {e}"
            continue
        if sorted(c for c, _ in cols) != sorted(other_cols):
            out[table] = f"columns differ: {[c for c, _ in cols]} vs {other_cols}"
            continue
        sel = ", ".join(_normalised('"' + c + '"', t) + ' AS "' + c + '"' for c, t in cols)
        a = f"SELECT {sel} FROM {duck}.{table}"
        b = f"SELECT {sel} FROM read_parquet('{files}')"
        only_a = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchone()[0]
        if only_a or only_b:
            rows = con.execute(f"SELECT count(*) FROM {duck}.{table}").fetchone()[0]
            example = con.execute(f"SELECT * FROM ({a} EXCEPT ALL {b}) LIMIT 1").fetchone()
            out[table] = f"{only_a} of {rows} rows only in DuckDB, {only_b} only in the other engine (e.g. {example})"
    return out
