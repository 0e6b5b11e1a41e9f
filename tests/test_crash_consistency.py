"""Crash consistency: ingestion killed with SIGKILL at random points, many times. After each kill
the warehouse holds everything from before the batch or everything after it, never a part; and
running the batch again converges to the same state, with no duplicates."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TINY
from tests.helpers import TEST_KEY

TRIALS = int(os.environ.get("DENIALS_CRASH_TRIALS", "12"))

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from transforms import warehouse
    from transforms.ingest import loader
    from transforms.ingest.phi import MemberIdHasher

    real_insert, real_rows = loader._insert, loader._insert_rows

    def announced_insert(con, table, data):
        print("insert", flush=True)  # the parent may kill us here, mid-transaction
        real_insert(con, table, data)
        time.sleep(0.02)

    def announced_rows(con, table, rows):
        if rows:
            print("insert", flush=True)
        real_rows(con, table, rows)
        time.sleep(0.02)

    loader._insert, loader._insert_rows = announced_insert, announced_rows
    con = warehouse.connect(Path(sys.argv[1]))
    loader.load_batch(con, loader.discover(Path(sys.argv[2])), MemberIdHasher(sys.argv[3].encode()))
    con.close()
    print("done", flush=True)
    """
)


def make_batch(folder: Path, n_files: int) -> None:
    """n_files claim files with distinct claims (and so distinct content)."""
    header, *rows = (TINY / "claims" / "claims.csv").read_text().splitlines()
    for i in range(n_files):
        lines = [header] + [r.replace("C", f"B{i:03d}C", 1) for r in rows]
        (folder / f"claims_{i:03d}.csv").write_text("\n".join(lines) + "\n")


def state(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return tuple(
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("audit.file_manifest", "audit.load_batches", "raw.claims", "raw.claim_lines", "raw.remit_claims")
        ) + (con.execute("SELECT count(*) - count(DISTINCT (file_id, source_row)) FROM raw.claims").fetchone()[0],)
    finally:
        con.close()


def run_child(script: Path, db: Path, landing: Path, kill_after: int | None, counter: list | None = None) -> bool:
    """True when the child finished, False when it was killed. counter: receives the number of
    statements the child announced."""
    proc = subprocess.Popen([sys.executable, str(script), str(db), str(landing), TEST_KEY.decode()],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    inserts = 0
    for line in proc.stdout:
        if line.startswith("insert"):
            if kill_after is not None and inserts == kill_after:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return False
            inserts += 1
    if counter is not None:
        counter.append(inserts)
    return proc.wait() == 0


@pytest.mark.slow
def test_sigkill_during_ingestion_leaves_all_or_nothing(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    base, batch = tmp_path / "base", tmp_path / "batch"
    shutil.copytree(TINY, base)
    batch.mkdir()
    make_batch(batch, 30)
    shutil.copytree(TINY, batch / "tiny")  # already loaded in the base: skipped

    # reference states: before the batch (kept as a file to start each trial from), and after it
    base_db, ref_db = tmp_path / "base.duckdb", tmp_path / "after.duckdb"
    assert run_child(script, base_db, base, None)
    before = state(base_db)
    shutil.copy(base_db, ref_db)
    statements: list[int] = []
    assert run_child(script, ref_db, batch, None, statements)
    after = state(ref_db)
    n = statements[0]  # statements of the batch's transaction (rows of 30 files, manifest ...)
    assert n >= 2
    assert after[2] == before[2] + 30 * 11 and after[-1] == 0

    rng = random.Random(20261123)
    outcomes = {"killed_before_first_insert": 0, "killed_after_inserts": 0, "finished": 0}
    for trial in range(TRIALS):
        db = tmp_path / f"t{trial}.duckdb"
        shutil.copy(base_db, db)
        kill_after = rng.randrange(0, n + 1)  # n: the child finishes before the kill
        finished = run_child(script, db, batch, kill_after)
        got = state(db)
        assert got in (before, after), f"trial {trial}: partial state {got}"
        if finished:
            outcomes["finished"] += 1
            assert got == after
        else:
            outcomes["killed_after_inserts" if kill_after > 0 else "killed_before_first_insert"] += 1
            assert got == before
        # running the batch again converges
        assert run_child(script, db, batch, None)
        assert state(db) == after
        db.unlink()
        Path(str(db) + ".wal").unlink(missing_ok=True)
    print(f"crash trials: {TRIALS}, {outcomes}")
    assert outcomes["killed_after_inserts"] + outcomes["killed_before_first_insert"] >= TRIALS // 3
