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

The three runs are made twice (``--runner`` picks one way):

  warm     launched as the daemon launches them (dagster.yaml's run launcher,
           `pipelines.launcher.WarmRunLauncher`), on a Dagster instance with SQLite storage:
           each run forked from a worker that has imported Dagster, the project and Great
           Expectations. One worker per installation, started before its runs (as a daemon's
           is, long before Monday's run); its start is printed, not counted. "overhead" is the
           run's wall time less its steps' time.
  fresh    each run a new Python process, as `denials run` is: its time includes starting
           Python and importing Dagster and Great Expectations ("startup").

Goal (issue #8): the new week takes at most 15% of the full rebuild. Per-stage seconds come
from Dagster's step statistics.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
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
        run_config["ops"] = {"audit__model_plan": {"config": {"full_rebuild": True}}}
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
    t, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, env={k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"})
    wall, cpu1 = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"run failed: {done.stderr[-3000:]}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    r["startup"] = wall - r["total"]
    r["total"] = wall
    r["cpu"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return r


WARM_YAML = """storage:
  custom:
    module: pipelines.storage
    class: PooledSqliteStorage
    config:
      base_dir: {home}/storage
run_launcher:
  module: pipelines.launcher
  class: WarmRunLauncher
telemetry:
  enabled: false
"""


class WarmRuns:
    """Runs launched as the daemon launches them: ``pipelines.launcher.WarmRunLauncher`` (the
    project's dagster.yaml) forks each from a worker that has imported Dagster, the project and
    Great Expectations. One worker per installation (its environment names the landing folder,
    warehouse and output), started before the runs it serves, as a daemon's is long before
    Monday's run; its start is printed, not counted in the runs."""

    def __init__(self, home: Path):
        import dagster as dg
        from dagster._core.definitions.reconstruct import ReconstructableRepository

        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(WARM_YAML.format(home=home))
        self.instance = dg.DagsterInstance.from_config(str(home))
        repo = ReconstructableRepository.for_module("pipelines.definitions", "defs", working_directory=str(ROOT))
        self.job = repo.get_reconstructable_job("denials_pipeline")
        self.job_def = self.job.get_definition()
        self.worker_starts: list[float] = []

    def serve(self, landing: Path, db: Path, out: Path) -> None:
        """A worker for this installation (the previous one stopped)."""
        self.instance.run_launcher.dispose()
        os.environ.update({"DENIALS_LANDING": str(landing), "DENIALS_WAREHOUSE": str(db), "DENIALS_OUTPUT": str(out)})
        os.environ.pop("DENIALS_SETTINGS", None)
        self.worker_starts.append(self.instance.run_launcher.start_worker().start_seconds)

    def run(self, full_rebuild: bool = False) -> dict:
        import dagster as dg
        from dagster._core.launcher.base import LaunchRunContext

        run_config: dict = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
        if full_rebuild:
            run_config["ops"] = {"audit__model_plan": {"config": {"full_rebuild": True}}}
        run = self.instance.create_run_for_job(job_def=self.job_def, run_config=run_config,
                                               job_code_origin=self.job.get_python_origin())
        worker = self.instance.run_launcher.start_worker()
        t = time.perf_counter()
        self.instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
        if self.instance.run_launcher.start_worker() is not worker:
            raise SystemExit("the project's code changed during the benchmark (the launcher started a new worker)")
        while not (done := self.instance.get_run_by_id(run.run_id)).is_finished:
            time.sleep(0.02)
        wall = time.perf_counter() - t
        if done.status.value != "SUCCESS":
            raise SystemExit(f"warm run {run.run_id} ended {done.status.value}")
        stages: dict[str, float] = defaultdict(float)
        steps = {}
        for st in self.instance.get_run_step_stats(run.run_id):
            steps[st.step_key] = (st.end_time or 0) - (st.start_time or 0)
            stages[stage(st.step_key)] += steps[st.step_key]
        plan = {}
        for rec in self.instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records:
            m = rec.event_log_entry.asset_materialization
            if m is not None and m.asset_key.to_user_string() == "audit/model_plan":
                plan = {k: v.value for k, v in m.metadata.items()}
        return {"total": wall, "stages": dict(stages), "overhead": wall - sum(steps.values()), "plan": plan,
                "slowest": sorted(steps.items(), key=lambda kv: -kv[1])[:6]}

    def close(self) -> None:
        self.instance.run_launcher.dispose()
        self.instance.dispose()


def scenarios(first: Path, week: Path, tmp: Path, runner: str, warm: WarmRuns | None = None) -> dict:
    """The three runs (module docstring), each on its own warehouse; ``runner`` fresh or warm."""
    def go(landing: Path, db: Path, out: Path, full: bool = False, serve: bool = True) -> dict:
        if runner == "fresh":
            return fresh_run(landing, db, out, full_rebuild=full)
        if serve:
            warm.serve(landing, db, out)
        return warm.run(full_rebuild=full)

    rows = {}
    both = tmp / f"{runner}_landing_all"
    shutil.copytree(first, both)
    shutil.copytree(week, both, dirs_exist_ok=True)
    rows["full rebuild (27 weeks)"] = go(both, tmp / f"{runner}_full" / "w.duckdb", tmp / f"{runner}_full" / "out")
    for label, full in (("new week, incremental", False), ("new week, --full-rebuild", True)):
        landing = tmp / f"{runner}_landing_{full}"
        shutil.copytree(first, landing)
        db, out = tmp / f"{runner}_inc_{full}" / "w.duckdb", tmp / f"{runner}_inc_{full}" / "out"
        go(landing, db, out)  # the 26 weeks, not timed
        shutil.copytree(week, landing, dirs_exist_ok=True)
        rows[label] = go(landing, db, out, full, serve=False)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=OUT, help="where the generated inputs are kept (bench/out)")
    ap.add_argument("--runner", choices=("both", "warm", "fresh"), default="both",
                    help="warm: runs launched as the daemon launches them; fresh: a new process per run (denials run)")
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
    verdicts = []
    saved_env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for runner in (("warm", "fresh") if a.runner == "both" else (a.runner,)):
            warm = WarmRuns(tmp / "dagster_home") if runner == "warm" else None
            try:
                rows = scenarios(first, week, tmp, runner, warm)
            finally:
                if warm is not None:
                    warm.close()
                os.environ.clear()
                os.environ.update(saved_env)
            base = rows["full rebuild (27 weeks)"]
            if runner == "warm":
                print("\nruns launched as the daemon launches them (pipelines.launcher.WarmRunLauncher: each run forked "
                      "from a warm worker; the workers' starts, once per daemon, not counted: "
                      + ", ".join(f"{x:.1f}" for x in warm.worker_starts) + " s)")
                first_cols = ["wall s", "share", "overhead"]
            else:
                print("\nruns in a fresh Python process each (as `denials run`; startup = Python, imports, Dagster)")
                first_cols = ["wall s", "share", "CPU s", "share", "startup"]
            print(f"{'run':28} " + " ".join(f"{c:>8}" for c in first_cols) + "  " + " ".join(f"{n:>14}" for n in names))
            for label, r in rows.items():
                cells = [f"{r['total']:8.2f}", f"{r['total'] / base['total']:8.1%}"]
                if runner == "warm":
                    cells.append(f"{r['overhead']:8.2f}")
                else:
                    cells += [f"{r['cpu']:8.2f}", f"{r['cpu'] / base['cpu']:8.1%}", f"{r['startup']:8.2f}"]
                print(f"{label:28} " + " ".join(cells) + "  " + " ".join(f"{r['stages'].get(n, 0):14.2f}" for n in names))
            for label, r in rows.items():
                print(f"  slowest steps, {label}: " + ", ".join(f"{k} {v:.2f} s" for k, v in r["slowest"]))
            inc = rows["new week, incremental"]
            print(f"plan of the incremental run: {json.dumps(inc['plan'], default=str)}")
            share = inc["total"] / base["total"]
            cpu = f", {inc['cpu'] / base['cpu']:.1%} of the CPU time" if runner == "fresh" else ""
            verdicts.append(f"{runner} runs: new week / full rebuild = {share:.1%} of the wall time{cpu} "
                            f"(goal at most 15%): {'ok' if share <= 0.15 else 'NOT MET'}")
    print()
    for v in verdicts:
        print(v)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
