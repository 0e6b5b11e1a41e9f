"""pipelines/storage.py: Dagster's SQLite storage with pooled connections, on real SQLite files
(the instance as the project's dagster.yaml configures it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines import storage

ROOT = Path(__file__).resolve().parents[1]


@dg.op
def _op() -> None:
    pass


@dg.job
def _job() -> None:
    _op()


@pytest.fixture
def instance(tmp_path):
    text = (ROOT / "dagster.yaml").read_text()
    assert "class: PooledSqliteStorage" in text  # the project's instance uses it
    (tmp_path / "dagster.yaml").write_text(
        "storage:\n  custom:\n    module: pipelines.storage\n    class: PooledSqliteStorage\n"
        f"    config:\n      base_dir: {tmp_path / 'storage'}\ntelemetry:\n  enabled: false\n"
    )
    inst = dg.DagsterInstance.from_config(str(tmp_path))
    assert isinstance(inst.event_log_storage, storage.PooledSqliteEventLogStorage)
    yield inst
    inst.dispose()


def _messages(inst, run_id) -> list[str]:
    return [r.event_log_entry.message for r in inst.get_records_for_run(run_id).records]


def test_a_job_runs_and_its_history_is_read_by_another_process(instance, tmp_path):
    result = _job.execute_in_process(instance=instance)
    assert result.success
    instance.all_instigator_state()  # a read of the schedules database
    mine = {Path(k[1]).name for k in storage._engines if k[0] == os.getpid()}
    assert {"index.db", "runs.db", "schedules.db", f"{result.run_id}.db"} <= mine  # each through a pooled engine
    instance.report_engine_event("after the run", instance.get_run_by_id(result.run_id))
    n = len(instance.get_records_for_run(result.run_id).records)
    # the pooled connections are open: another process still sees every committed event
    out = subprocess.run(
        [sys.executable, "-c",
         "import sys, dagster as dg; i = dg.DagsterInstance.from_config(sys.argv[1]); r = i.get_run_by_id(sys.argv[2]); "
         "print(len(i.get_records_for_run(sys.argv[2]).records), r.status.value, "
         "len(i.fetch_materializations(dg.AssetKey('x'), limit=1).records))",
         str(tmp_path), result.run_id],
        capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout.split()
    assert out == [str(n), "SUCCESS", "0"]


def test_the_live_view_sees_writes_through_an_open_connection(instance):
    run = instance.create_run_for_job(job_def=_job)
    seen: list[str] = []

    def callback(event, cursor):
        seen.append(event.message)

    instance.event_log_storage.watch(run.run_id, None, callback)
    instance.report_engine_event("first", run)
    time.sleep(0.3)
    for message in ("second", "third"):
        instance.report_engine_event(message, run)
    deadline = time.time() + 10
    while len(seen) < 3 and time.time() < deadline:
        time.sleep(0.05)
    # Dagster's own watch follows the database file alone, which these writes leave unchanged
    # (they go to its WAL until a checkpoint): it would see the first event only
    assert seen == ["first", "second", "third"]
    instance.event_log_storage.end_watch(run.run_id, callback)


def test_at_most_a_few_run_databases_stay_open(instance):
    runs = [instance.create_run_for_job(job_def=_job) for _ in range(storage.PooledSqliteEventLogStorage.RUN_SHARDS + 4)]
    for run in runs:
        instance.report_engine_event("hello", run)
    open_runs = [k for k in storage._engines if k[0] == os.getpid() and "/history/runs/" in k[1] and "index.db" not in k[1]]
    assert len(open_runs) == storage.PooledSqliteEventLogStorage.RUN_SHARDS
    for run in runs:  # an evicted run's database opens again, with its events
        assert _messages(instance, run.run_id)[-1] == "hello"


def test_a_forked_child_writes_through_its_own_connections(instance):
    run = instance.create_run_for_job(job_def=_job)
    instance.report_engine_event("parent, before", run)
    assert any(k[0] == os.getpid() for k in storage._engines)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            # the parent closed its connections before forking: the child inherits none open
            assert not any(k[0] == os.getppid() for k in storage._engines)
            instance.report_engine_event("child", run)
            code = 0 if any(k[0] == os.getpid() for k in storage._engines) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    instance.report_engine_event("parent, after", run)
    assert _messages(instance, run.run_id)[-3:] == ["parent, before", "child", "parent, after"]


def test_wipe_deletes_the_run_databases_it_had_open(instance, tmp_path):
    run = instance.create_run_for_job(job_def=_job)
    instance.report_engine_event("hello", run)
    instance.event_log_storage.wipe()
    assert not list((tmp_path / "storage" / "history" / "runs").glob(f"{run.run_id}.db*"))
    instance.report_engine_event("again", run)  # a new database for the run, not the deleted file
    assert _messages(instance, run.run_id) == ["again"]
