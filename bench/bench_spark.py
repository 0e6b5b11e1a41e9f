"""The same dbt models on DuckDB and on Spark (local mode), side by side, on the same input.

    uv run python bench/bench_spark.py --claims 100000

For each size: the generator's input (bench/bench_pipeline.py, cached under bench/out/) is
loaded into a DuckDB warehouse and every model is built there (the pipeline's runner, timed);
the sources are written as Parquet (`denials export-sources`, timed); `dbt run --target spark`
builds every model from them in PySpark's local mode, in the .venv-spark environment
(`UV_PROJECT_ENVIRONMENT=.venv-spark uv sync --frozen --extra spark`), timed whole (the JVM's
start included, as a user waits for it); then every model table is compared (money to the cent,
counts exactly, rates to a millionth). Spark here runs on the same machine with
DENIALS_SPARK_PARTITIONS partitions (4): it shows the models run there and what one machine
costs, not what a cluster would.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, nargs="+", default=[100_000])
    a = ap.parse_args(argv)

    import duckdb

    from bench.bench_pipeline import OUT, inputs, size_mb
    from tests.marts_compare import engine_differences
    from transforms import dbt_runner, incremental, reference, warehouse
    from transforms.ingest import loader
    from transforms.ingest.phi import MemberIdHasher
    from transforms.parquet_export import export_sources
    from transforms.settings import Settings

    dbt = ROOT / ".venv-spark" / "bin" / "dbt"
    if not dbt.exists():
        raise SystemExit("make the spark environment first: UV_PROJECT_ENVIRONMENT=.venv-spark uv sync --frozen --extra spark")
    for n in a.claims:
        folder = inputs(n, OUT)
        print(f"{n:,} claims ({size_mb(folder):.0f} MB of input):")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            con = warehouse.connect(tmp / "w.duckdb")
            t = time.perf_counter()
            loader.load_batch(con, loader.discover(folder), MemberIdHasher(b"bench-key-0123456789abcdef"))
            ingest = time.perf_counter() - t
            reference.load_reference(con, Settings())
            con.close()
            t = time.perf_counter()
            incremental.build_all(tmp / "w.duckdb", Settings(), force_full=True)
            duck = time.perf_counter() - t
            con = warehouse.connect(tmp / "w.duckdb")
            t = time.perf_counter()
            rows = export_sources(con, tmp / "sources")
            export = time.perf_counter() - t
            con.close()
            env = {**os.environ, "DENIALS_SOURCES_PARQUET": str(tmp / "sources"),
                   "DENIALS_SPARK_WAREHOUSE": str(tmp / "spark-warehouse"), "DBT_TARGET_PATH": str(tmp / "target"),
                   "DBT_LOG_PATH": str(tmp / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
            t = time.perf_counter()
            r = subprocess.run([str(dbt), "run", "--target", "spark", "--project-dir", str(dbt_runner.DBT_DIR),
                                "--profiles-dir", str(dbt_runner.DBT_DIR)], cwd=tmp, env=env, capture_output=True, text=True)
            spark = time.perf_counter() - t
            if r.returncode != 0:
                raise SystemExit(f"dbt run on Spark failed:\n{r.stdout[-4000:]}")
            cmp = duckdb.connect()
            cmp.execute(f"ATTACH '{tmp / 'w.duckdb'}' AS w (READ_ONLY)")
            diff = engine_differences(cmp, "w", tmp / "spark-warehouse")
        print(f"  ingest (DuckDB)          {ingest:7.1f} s   {rows['raw.claims']:,} claim rows, {rows['raw.remit_claims']:,} remittance claims")
        print(f"  models on DuckDB         {duck:7.1f} s   ({len(dbt_runner.discover())} models, dbt run on DuckDB)")
        print(f"  sources to Parquet       {export:7.1f} s")
        print(f"  models on Spark (local)  {spark:7.1f} s   (dbt run --target spark, JVM start included)")
        print(f"  Spark / DuckDB           {spark / duck:7.1f}x")
        print(f"  marts equal: {'yes, every model table' if not diff else 'NO: ' + str(diff)}")


if __name__ == "__main__":
    main()
