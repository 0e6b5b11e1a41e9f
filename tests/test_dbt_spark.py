"""The same dbt project on Spark: PySpark in local mode (dbt-spark, session method, the `spark`
extra in its own environment) builds every model from the sample data's sources written as
Parquet, and every model table equals DuckDB's: money to the cent, counts exactly, rates to a
millionth (tests/marts_compare.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.run import resources_for, run_pipeline
from tests.marts_compare import engine_differences, model_tables
from transforms import dbt_runner

ROOT = Path(__file__).resolve().parents[1]
SPARK_ENV = ROOT / ".venv-spark"


def spark_dbt() -> Path:
    """dbt of the spark environment (`uv sync --extra spark` into .venv-spark), made if missing.
    pyspark is kept out of the tests' environment: Great Expectations imports it when present."""
    exe = SPARK_ENV / "bin" / "dbt"
    if not exe.exists():
        uv = shutil.which("uv")
        assert uv, "uv is needed to make the spark environment (scripts/test.sh installs it)"
        subprocess.run([uv, "sync", "--frozen", "--extra", "spark", "--quiet"], cwd=ROOT, check=True, timeout=1800,
                       env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(SPARK_ENV)})
    java = shutil.which("java")
    assert java, "Java 17 is needed by Spark 4 (scripts/test.sh installs openjdk-17-jre-headless)"
    return exe


@pytest.mark.slow
def test_spark_builds_the_same_marts_as_duckdb(tmp_path):
    exe = spark_dbt()
    db = tmp_path / "w.duckdb"
    assert run_pipeline(resources_for(ROOT / "sample_data", db, tmp_path / "out", None)).success
    denials = Path(sys.executable).with_name("denials")  # as a user exports them
    r = subprocess.run([str(denials), "export-sources", "--warehouse", str(db), "--out", str(tmp_path / "sources")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "sources" / "raw" / "claims" / "data.parquet").is_file() and "raw.claims" in r.stdout

    env = {**os.environ, "DENIALS_SOURCES_PARQUET": str(tmp_path / "sources"),
           "DENIALS_SPARK_WAREHOUSE": str(tmp_path / "spark-warehouse"), "DBT_TARGET_PATH": str(tmp_path / "target"),
           "DBT_LOG_PATH": str(tmp_path / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    t0 = time.perf_counter()
    r = subprocess.run([str(exe), "run", "--target", "spark", "--project-dir", str(dbt_runner.DBT_DIR),
                        "--profiles-dir", str(dbt_runner.DBT_DIR)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=2400)
    seconds = time.perf_counter() - t0
    assert r.returncode == 0, r.stdout[-6000:]
    assert f"PASS={len(model_tables()) + 1}" in r.stdout  # the models and the hook registering the sources
    print(f"dbt run on Spark (local mode), sample data: {seconds:.0f} s")

    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS w (READ_ONLY)")
    assert engine_differences(con, "w", tmp_path / "spark-warehouse") == {}
    n = con.execute(f"SELECT count(*) FROM read_parquet('{tmp_path}/spark-warehouse/marts.db/mart_claim_facts/*.parquet')").fetchone()[0]
    assert n == con.execute("SELECT count(*) FROM w.marts.mart_claim_facts").fetchone()[0] > 1000
