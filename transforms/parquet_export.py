"""The dbt project's sources (raw, ref and audit tables) written as Parquet, for another engine.

The models read only their sources (transforms/dbt/models/sources.yml); with those as Parquet
files, a Spark cluster (or Databricks, or any engine dbt has an adapter for) builds every model
from the same rows the DuckDB warehouse holds. One folder per table:
``<out>/<schema>/<table>/data.parquet``. Member ids are already keyed hashes in the raw tables;
no other PHI is stored, so nothing more leaves than the warehouse holds.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from transforms import dbt_runner

SOURCES_YML = dbt_runner.SQL_DIR / "sources.yml"


def source_tables() -> list[tuple[str, str]]:
    """(schema, table) of every source the models read."""
    doc = yaml.safe_load(SOURCES_YML.read_text())
    return [(s.get("schema", s["name"]), t["name"]) for s in doc["sources"] for t in s["tables"]]


def export_sources(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """Write every source table to Parquet under ``out``; returns {schema.table: rows}."""
    written = {}
    for schema, table in source_tables():
        folder = out / schema / table
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "data.parquet"
        con.execute(f"COPY (SELECT * FROM {schema}.{table}) TO '{target}' (FORMAT parquet)")
        written[f"{schema}.{table}"] = con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
    return written
