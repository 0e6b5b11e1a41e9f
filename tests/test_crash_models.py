"""A run killed after its load, or between two models, never leaves the warehouse silent about it:
``incremental.status`` (shown on every report and by the CLI) says what is pending, and the next
run (with no new file) finishes it, giving exactly the marts of a run that was never killed."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TINY, TINY_AS_OF
from tests.helpers import TEST_KEY
from tests.test_remit_rules import FIRST

TRIALS = int(os.environ.get("DENIALS_CRASH_TRIALS", "12"))
ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    f"""
    import datetime as dt, sys
    from pathlib import Path
    import subprocess
    from transforms import dbt_runner, incremental, reference, warehouse
    from transforms.ingest import loader
    from transforms.ingest.phi import MemberIdHasher
    from transforms.settings import Settings

    con = warehouse.connect(Path(sys.argv[1]))
    loader.load_batch(con, loader.discover(Path(sys.argv[2])), MemberIdHasher(sys.argv[3].encode()))
    print("step loaded", flush=True)
    s = Settings(as_of_date=dt.date.fromisoformat("{TINY_AS_OF.isoformat()}"))
    reference.load_reference(con, s)
    plan = incremental.make_plan(con, s)
    print("step planned", flush=True)
    con.close()
    db = Path(sys.argv[1]).resolve()
    # dbt in this process group: the test's kill reaches it; one step per model dbt reports built
    dbt = subprocess.Popen(
        [dbt_runner.dbt_executable(), "run", *incremental.dbt_args(plan), "--project-dir", str(dbt_runner.DBT_DIR),
         "--profiles-dir", str(dbt_runner.DBT_DIR), "--target-path", str(dbt_runner.target_path(db))],
        env={{**dbt_runner.dbt_env(), "DENIALS_WAREHOUSE": str(db)}}, stdout=subprocess.PIPE, text=True)
    for line in dbt.stdout:
        if " OK created " in line:
            print("step built", line.split(" OK created ")[1].split()[-1], flush=True)
    assert dbt.wait() == 0
    print("done", flush=True)
    """
)


def run_child(script: Path, db: Path, landing: Path, kill_at: int | None) -> tuple[bool, int]:
    """(finished, steps announced); the child is killed with SIGKILL at step ``kill_at``."""
    proc = subprocess.Popen([sys.executable, str(script), str(db), str(landing), TEST_KEY.decode()],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)
    steps = 0
    for line in proc.stdout:
        if line.startswith("step"):
            if kill_at is not None and steps == kill_at:
                os.killpg(proc.pid, signal.SIGKILL)  # the child and its dbt
                proc.wait()
                while True:  # until dbt, too, is gone (it holds the warehouse's lock)
                    try:
                        os.killpg(proc.pid, 0)
                    except ProcessLookupError:
                        break
                    time.sleep(0.05)
                return False, steps
            steps += 1
    return proc.wait() == 0, steps


def marts(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name LIKE 'mart_%' ORDER BY 1").fetchall()]
        return {t: con.execute(f"SELECT * FROM marts.{t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()


def status(db: Path):
    from transforms import incremental

    con = duckdb.connect(str(db))
    try:
        return incremental.status(con)
    finally:
        con.close()


@pytest.mark.slow
def test_sigkill_during_the_models_is_stated_and_finished_by_the_next_run(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    base = tmp_path / "landing"
    shutil.copytree(TINY, base)
    base_db = tmp_path / "base.duckdb"
    assert run_child(script, base_db, base, None)[0]
    for name, text in FIRST.items():  # the next week's files
        (base / name).write_text(text)
    ref_db = tmp_path / "clean_run.duckdb"
    shutil.copy(base_db, ref_db)
    finished, n_steps = run_child(script, ref_db, base, None)
    assert finished and status(ref_db).complete
    expected = marts(ref_db)

    rng = random.Random(20261204)
    tally = {"killed": 0, "finished": 0, "pending_stated": 0}
    for trial in range(TRIALS):
        db = tmp_path / f"t{trial}.duckdb"
        shutil.copy(base_db, db)
        kill_at = rng.randrange(1, n_steps + 1)  # 1: right after the load; n_steps: not killed
        finished, _ = run_child(script, db, base, kill_at if kill_at < n_steps else None)
        st = status(db)
        if finished:
            tally["finished"] += 1
            assert st.complete
        elif st.complete:
            # killed after its last model was built (only the closing of the file was left)
            assert kill_at == n_steps - 1, f"trial {trial}: killed at step {kill_at} but nothing pending"
            tally["finished"] += 1
        else:
            tally["killed"] += 1
            # the warehouse says the models are pending (files loaded and not modelled, or models
            # of the plan not built), and every report's statement says so
            assert "PENDING" in st.sentence()
            tally["pending_stated"] += 1
            # the next run, with no new file, finishes the models
            assert run_child(script, db, base, None)[0]
            assert status(db).complete
        assert marts(db) == expected, f"trial {trial}"
        db.unlink()
        Path(str(db) + ".wal").unlink(missing_ok=True)
    print(f"model crash trials: {TRIALS}, {tally}")
    assert tally["killed"] >= TRIALS // 3 and tally["pending_stated"] == tally["killed"]
