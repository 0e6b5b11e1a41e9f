"""The dbt project (transforms/dbt) builds the same tables as the pipeline: `dbt build` on the
DuckDB target, run as a user runs it, over a copy of a warehouse the pipeline loaded and built
from the built-in sample data, gives every model table with the same columns and the same rows,
and dbt's data tests pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.run import resources_for, run_pipeline
from tests.marts_compare import differences, model_tables
from transforms import dbt_runner

ROOT = Path(__file__).resolve().parents[1]
DBT = dbt_runner.DBT_DIR


def dbt(args: list[str], warehouse: Path, tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DENIALS_WAREHOUSE": str(warehouse), "DBT_TARGET_PATH": str(tmp / "target"),
           "DBT_LOG_PATH": str(tmp / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    exe = Path(sys.executable).with_name("dbt")
    return subprocess.run([str(exe), *args, "--project-dir", str(DBT), "--profiles-dir", str(DBT)],
                          env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_dbt_build_gives_the_pipelines_tables(tmp_path):
    pipeline_db = tmp_path / "pipeline.duckdb"
    assert run_pipeline(resources_for(ROOT / "sample_data", pipeline_db, tmp_path / "out", None)).success
    dbt_db = tmp_path / "dbt.duckdb"
    shutil.copy(pipeline_db, dbt_db)
    con = duckdb.connect(str(dbt_db))
    for table in model_tables():  # dbt builds every model from the sources alone
        con.execute(f"DROP TABLE {table}")
    con.close()

    r = dbt(["build"], dbt_db, tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "ERROR=0" in r.stdout and "PASS=" in r.stdout

    con = duckdb.connect()
    con.execute(f"ATTACH '{pipeline_db}' AS p (READ_ONLY)")
    con.execute(f"ATTACH '{dbt_db}' AS d (READ_ONLY)")
    assert differences(con, "p", "d") == {}
    n = con.execute("SELECT count(*) FROM d.marts.mart_claim_facts").fetchone()[0]
    assert n > 1000  # the sample data's claims, not an empty build


def test_the_models_are_the_dbt_projects():
    """One copy of each model, known from dbt's manifest; no runner of our own and no SQL rewriting."""
    found = {m.name: m for m in dbt_runner.discover()}
    on_disk = {p.stem for p in (DBT / "models").rglob("*.sql")}
    assert set(found) == on_disk and len(on_disk) >= 30
    m = found["stg_remit_claims"]
    assert m.deps == ("audit.scope_remits", "raw.remit_claims", "staging.stg_remit_payments")
    assert m.incremental_key == "remit_claim_id" and found["mart_weekly_kpis"].incremental_key is None
    assert not (ROOT / "transforms" / "models.py").exists()
    incremental_py = (ROOT / "transforms" / "incremental.py").read_text()
    assert "REF.sub" not in incremental_py and "_build_scoped" not in incremental_py and "run_cache" not in incremental_py
    assert not list((ROOT / "transforms" / "sql").glob("*/*.sql"))[1:]  # only raw/schema.sql is left there
