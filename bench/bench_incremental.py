"""The cost of a new week: with 26 weeks loaded, adding one week vs a full rebuild, in one run.

    uv run python bench/bench_incremental.py                   # 100,000 claims, a few minutes
    uv run python bench/bench_incremental.py --claims 20000    # quicker

Inputs: the generator's claims CSV and 835 files (27 weeks of service, seed 5, under bench/out/),
cut by date (datagen/split.py) into the first 26 weeks and the 27th (claims billed, write-offs
posted and 835s paid that week). Every run is the real pipeline (the `denials_pipeline` job:
ingest, plan, every model, the Great Expectations checks, trend alerts, reports), on its own
warehouse file:

  full rebuild      all 27 weeks' files into an empty warehouse (what a first run costs, and
                    what every run cost before incremental builds)
  new week          the 26 weeks loaded and built first (not timed), then the 27th week's files
                    dropped in and the pipeline run again: the incremental run
  new week, --full-rebuild   the same new week with the models rebuilt whole (the baseline the
                    incremental build replaces: the files are still loaded incrementally)

Each run is a new Python process, as `denials run` is: its time includes starting Python and
importing Dagster and Great Expectations ("startup"). Per-stage seconds come from Dagster's step
statistics.

Guard (the project's performance goals): at 1,000,000 claims a new week takes at most 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
START = dt.date(2026, 1, 5)  # a Monday


def inputs(claims: int, out: Path = OUT) -> tuple[Path, Path]:
    """(26 weeks, week 27) folders."""
    from datagen.generate import generate
    from datagen.split import split_by_date

    folder = out / f"incremental_{claims}"
    source = folder / "generated"
    if not (source / "ground_truth.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        t = time.perf_counter()
        generate(source, claims=claims, weeks=27, seed=5, start=START, formats=("claims_csv", "remittances_835"))
        print(f"  generated {claims:,} claims in {time.perf_counter() - t:.1f} s")
    batches = folder / "batches"
    if not batches.exists():
        cut = START + dt.timedelta(weeks=26)
        split_by_date(source, batches, [cut], end=cut + dt.timedelta(weeks=1))
    return batches / "batch00", batches / "batch01"


def stage(step_key: str) -> str:
    if step_key.startswith("raw__"):
        return "ingest"
    if step_key.startswith(("ref__", "audit__")):
        return "plan+reference"
    if step_key.startswith(("staging__", "intermediate__")) or step_key.startswith("marts__mart_") and "trend" not in step_key:
        return "models+checks"
    if "trend" in step_key:
        return "trends"
    return "reports"


def timed_run(landing: Path, db: Path, out: Path, full_rebuild: bool = False) -> dict:
    import dagster as dg

    from pipelines.definitions import PIPELINE_ASSETS
    from pipelines.run import resources_for

    run_config = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    if full_rebuild:
        run_config["ops"] = {"model_plan": {"config": {"full_rebuild": True}}}
    with dg.DagsterInstance.ephemeral() as instance:
        t = time.perf_counter()
        result = dg.materialize(PIPELINE_ASSETS, resources=resources_for(landing, db, out), instance=instance,
                                raise_on_error=False, run_config=run_config)
        total = time.perf_counter() - t
        if not result.success:
            raise SystemExit(f"pipeline run failed on {landing}")
        stages: dict[str, float] = defaultdict(float)
        steps = {}
        for s in instance.get_run_step_stats(result.run_id):
            steps[s.step_key] = (s.end_time or 0) - (s.start_time or 0)
            stages[stage(s.step_key)] += steps[s.step_key]
        plan = next(e.materialization.metadata for e in result.get_asset_materialization_events()
                    if e.asset_key.to_user_string() == "audit/model_plan")
    slowest = sorted(steps.items(), key=lambda kv: -kv[1])[:6]
    return {"total": total, "stages": dict(stages), "plan": {k: v.value for k, v in plan.items()}, "slowest": slowest}


def fresh_run(landing: Path, db: Path, out: Path, full_rebuild: bool = False) -> dict:
    """timed_run in a new Python process; total is the wall time of the whole process."""
    cmd = [sys.executable, __file__, "--one", str(landing), str(db), str(out)] + (["--full-rebuild"] if full_rebuild else [])
    t = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, text=True,
                                env={k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"})
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU time and peak memory
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read(), err_f.read()
    if proc.returncode != 0:
        raise SystemExit(f"run failed: {stderr[-3000:]}")
    r = json.loads(stdout.strip().splitlines()[-1])
    r["startup"] = wall - r["total"]
    r["total"] = wall
    r["cpu"] = usage.ru_utime + usage.ru_stime
    r["max_rss_mb"] = usage.ru_maxrss / 1024
    return r


def scenarios(first: Path, week: Path, tmp: Path) -> dict:
    """The three runs (module docstring), each on its own warehouse, each a fresh process."""
    def go(landing: Path, db: Path, out: Path, full: bool = False) -> dict:
        return fresh_run(landing, db, out, full_rebuild=full)

    rows = {}
    both = tmp / "landing_all"
    shutil.copytree(first, both)
    shutil.copytree(week, both, dirs_exist_ok=True)
    rows["full rebuild (27 weeks)"] = go(both, tmp / "full" / "w.duckdb", tmp / "full" / "out")
    for label, full in (("new week, incremental", False), ("new week, --full-rebuild", True)):
        landing = tmp / f"landing_{full}"
        shutil.copytree(first, landing)
        db, out = tmp / f"inc_{full}" / "w.duckdb", tmp / f"inc_{full}" / "out"
        go(landing, db, out)  # the 26 weeks, not timed
        shutil.copytree(week, landing, dirs_exist_ok=True)
        rows[label] = go(landing, db, out, full)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=OUT, help="where the generated inputs are kept (bench/out)")
    ap.add_argument("--one", nargs=3, metavar=("LANDING", "DB", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--full-rebuild", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    import logging

    logging.getLogger("dagster").setLevel("ERROR")
    if a.one:
        print(json.dumps(timed_run(*(Path(x) for x in a.one), full_rebuild=a.full_rebuild), default=str))
        return
    first, week = inputs(a.claims, a.out)
    size = lambda f: sum(p.stat().st_size for p in f.rglob("*") if p.is_file()) / 1e6  # noqa: E731
    print(f"{a.claims:,} claims over 27 weeks: 26 weeks {size(first):.1f} MB, the new week {size(week):.1f} MB; "
          f"load average {os.getloadavg()[0]:.2f}")
    names = ["ingest", "plan+reference", "models+checks", "trends", "reports"]
    with tempfile.TemporaryDirectory() as tmp:
        rows = scenarios(first, week, Path(tmp))
    base = rows["full rebuild (27 weeks)"]
    print("\nruns in a fresh Python process each (as `denials run`; startup = Python, imports, Dagster)")
    first_cols = ["wall s", "share", "CPU s", "share", "startup", "max RSS MB"]
    print(f"{'run':28} " + " ".join(f"{c:>10}" for c in first_cols) + "  " + " ".join(f"{n:>14}" for n in names))
    for label, r in rows.items():
        cells = [f"{r['total']:10.2f}", f"{r['total'] / base['total']:10.1%}", f"{r['cpu']:10.2f}",
                 f"{r['cpu'] / base['cpu']:10.1%}", f"{r['startup']:10.2f}", f"{r.get('max_rss_mb', 0):10.0f}"]
        print(f"{label:28} " + " ".join(cells) + "  " + " ".join(f"{r['stages'].get(n, 0):14.2f}" for n in names))
    for label, r in rows.items():
        print(f"  slowest steps, {label}: " + ", ".join(f"{k} {v:.2f} s" for k, v in r["slowest"]))
    inc = rows["new week, incremental"]
    print(f"plan of the incremental run: {json.dumps(inc['plan'], default=str)}")
    guard = "ok" if inc["total"] <= 30 else "NOT MET"
    print(f"\nnew week: {inc['total']:.1f} s wall ({inc['total'] / base['total']:.1%} of the full rebuild, "
          f"{base['total']:.1f} s); guard at 1,000,000 claims: at most 30 s"
          + (f": {guard}" if a.claims >= 1_000_000 else " (this run is smaller: the guard applies at 1,000,000)"))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
