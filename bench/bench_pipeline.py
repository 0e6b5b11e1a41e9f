"""The whole pipeline at scale: seconds per stage, rows per second, peak memory, and the DuckDB
read floor (the time DuckDB takes just to read the same input bytes into tables), in one run.

    uv run python bench/bench_pipeline.py --claims 100000            # about a minute
    uv run python bench/bench_pipeline.py --claims 100000 1000000    # and the 1M run, with the ratio

Inputs are made by the generator (canonical CSV claims + 835 remittances, 52 weeks) under
bench/out/ and reused when present. Stages are the pipeline's own functions, called in order:
ingest (parse and load, one transaction), models (every SQL model), checks (every Great
Expectations suite), trends, reports (every week's page, worklist, data-quality report).

Each size runs in a Python process of its own, after its input is made in this one: the peak
memory printed is that pipeline's alone (neither the generator's, another size's, nor the
floor's, which is measured after it in the same process), and every size
pays the same imports (the Great Expectations import, 4-6 s, is inside "checks").
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"


def inputs(claims: int, out: Path = OUT) -> Path:
    from datagen.generate import generate

    folder = out / f"pipeline_{claims}"
    if not (folder / "ground_truth.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        t = time.perf_counter()
        generate(folder, claims=claims, weeks=52, seed=3, formats=("claims_csv", "remittances_835"))
        print(f"  generated {claims:,} claims in {time.perf_counter() - t:.1f} s")
    return folder


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name != "ground_truth.json") / 1e6


def floor(folder: Path) -> float:
    """DuckDB reading the same bytes into tables: each CSV with read_csv, each 835 as lines."""
    import duckdb

    con = duckdb.connect()
    t = time.perf_counter()
    for p in sorted((folder / "claims").glob("*.csv")):
        con.execute(f"CREATE OR REPLACE TABLE t_{p.stem} AS SELECT * FROM read_csv(?, all_varchar=true)", [str(p)])
    files = sorted(str(p) for p in (folder / "remittances").glob("*.835"))
    con.execute("CREATE OR REPLACE TABLE t_835 AS SELECT * FROM read_csv(?, columns={'line': 'VARCHAR'}, delim='\x01', "
                "header=false, quote='', escape='', auto_detect=false)", [files])
    elapsed = time.perf_counter() - t
    con.close()
    return elapsed


def run(claims: int, out: Path = OUT) -> dict:
    from reports import dashboard, data_quality, worklist
    from transforms import incremental, reference, trends, warehouse
    from transforms.ingest import loader
    from transforms.ingest.phi import MemberIdHasher
    from transforms.quality import suites, validate
    from transforms.settings import Settings

    folder = inputs(claims, out)
    mb = size_mb(folder)
    stages: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        con = warehouse.connect(tmp / "w.duckdb")
        t = time.perf_counter()
        result = loader.load_batch(con, loader.discover(folder), MemberIdHasher(b"bench-key-0123456789abcdef"))
        stages["ingest"] = time.perf_counter() - t
        settings = Settings()
        t = time.perf_counter()
        reference.load_reference(con, settings)
        con.close()
        incremental.build_all(tmp / "w.duckdb", settings, force_full=True)  # dbt run, in its own process
        con = warehouse.connect(tmp / "w.duckdb")
        stages["models"] = time.perf_counter() - t
        t = time.perf_counter()
        for s in suites.SUITES:
            validate.run_suite(con, s)
        stages["checks"] = time.perf_counter() - t
        t = time.perf_counter()
        trends.write_alerts(con, trends.detect(con))
        stages["trends"] = time.perf_counter() - t
        t = time.perf_counter()
        dashboard.build_all_weeks(con, tmp / "site")
        worklist.write_worklist(con, tmp / "site")
        data_quality.build_data_quality_report(con, tmp / "site")
        stages["reports"] = time.perf_counter() - t
        rows = result.rows_loaded
        con.close()
    # the pipeline's peak, read before the floor (which holds the whole input in memory tables)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fl = floor(folder)
    total = sum(stages.values())
    return {"claims": claims, "mb": mb, "files": len(result.files), "rows": rows, "stages": stages, "total": total,
            "floor": fl, "peak_mb": peak}


def fresh_run(claims: int, out: Path) -> dict:
    """run(claims) in a new Python process (its input already made): its own peak memory."""
    cmd = [sys.executable, __file__, "--one", str(claims), "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the {claims:,}-claim run failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, nargs="+", default=[100_000])
    ap.add_argument("--out", type=Path, default=OUT, help="where the generated inputs are kept (bench/out)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        print(json.dumps(run(a.one, a.out)))
        return
    results = []
    for n in a.claims:
        print(f"{n:,} claims:")
        inputs(n, a.out)
        r = fresh_run(n, a.out)
        results.append(r)
        print(f"  input {r['mb']:.0f} MB in {r['files']} files, {r['rows']:,} rows loaded")
        for k, v in r["stages"].items():
            print(f"  {k:8} {v:8.1f} s")
        print(f"  total    {r['total']:8.1f} s   ({r['rows'] / r['stages']['ingest']:,.0f} rows/s ingested, "
              f"{r['mb'] / r['stages']['ingest']:.1f} MB/s)")
        print(f"  DuckDB read floor {r['floor']:.1f} s: the pipeline takes {r['total'] / r['floor']:.1f}x the floor")
        print(f"  peak memory of the run's process {r['peak_mb']:,.0f} MB")
    if len(results) > 1:
        a0, a1 = results[0], results[-1]
        print(f"\n{a1['claims']:,} vs {a0['claims']:,} claims: {a1['claims'] / a0['claims']:.0f}x the input, "
              f"{a1['total'] / a0['total']:.1f}x the time")


if __name__ == "__main__":
    main()
