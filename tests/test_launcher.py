"""The warm run launcher (dagster.yaml's run_launcher): runs forked from a worker that has already
imported everything, executed for real on a DagsterInstance with SQLite storage (no mocks)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.launcher.base import LaunchRunContext, WorkerStatus

from pipelines import launcher as launcher_mod
from pipelines.launcher import PID_TAG, WarmRunLauncher
from transforms import warehouse

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def installation(tmp_path, monkeypatch):
    from tests.conftest import TINY, TINY_AS_OF

    home = tmp_path / "dagster_home"
    home.mkdir()
    # the project's own instance settings (storage paths are relative to the working directory)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.chdir(home)
    landing = tmp_path / "landing"
    for sub in ("claims", "remittances"):
        shutil.copytree(TINY / sub, landing / sub)
    (tmp_path / "settings.yaml").write_text(f"as_of_date: {TINY_AS_OF}\n")
    for k, v in {"DENIALS_LANDING": landing, "DENIALS_WAREHOUSE": tmp_path / "wh" / "w.duckdb",
                 "DENIALS_OUTPUT": tmp_path / "out", "DENIALS_SETTINGS": tmp_path / "settings.yaml"}.items():
        monkeypatch.setenv(k, str(v))
    instance = dg.DagsterInstance.from_config(str(home))
    assert isinstance(instance.run_launcher, WarmRunLauncher)
    repo = ReconstructableRepository.for_module("pipelines.definitions", "defs", working_directory=str(ROOT))
    job = repo.get_reconstructable_job("denials_pipeline")
    yield instance, job, tmp_path
    instance.run_launcher.dispose()
    instance.dispose()


def _launch(instance, job):
    run = instance.create_run_for_job(job_def=job.get_definition(), run_config={}, job_code_origin=job.get_python_origin())
    instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    return run.run_id


def _wait(instance, run_id, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = instance.get_run_by_id(run_id)
        if run.is_finished:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


@pytest.mark.slow
def test_runs_are_forked_from_one_warm_worker_and_load_the_warehouse(installation):
    instance, job, tmp = installation
    worker = instance.run_launcher.start_worker()
    assert worker.preload_seconds > 0
    first = _wait(instance, _launch(instance, job))
    assert first.status == dg.DagsterRunStatus.SUCCESS
    pid = int(first.tags[PID_TAG])
    assert pid not in (os.getpid(), worker.proc.pid)
    # the run's events are in the instance, as with Dagster's own launcher
    assert any(e.step_key == "raw__landed_files" for e in instance.get_run_step_stats(first.run_id))
    con = warehouse.connect(tmp / "wh" / "w.duckdb", read_only=True)
    assert con.execute("SELECT count(*) FROM audit.file_manifest WHERE status = 'loaded'").fetchone()[0] == 6
    con.close()
    assert (tmp / "out" / "weekly" / "2026-W13.html").exists()
    # a finished run's process is gone (reaped by the worker): the run monitor would see it
    deadline = time.time() + 10
    while instance.run_launcher.check_run_worker_health(first).status != WorkerStatus.FAILED and time.time() < deadline:
        time.sleep(0.1)
    assert instance.run_launcher.check_run_worker_health(first).status == WorkerStatus.FAILED
    # the second run comes from the same worker, with nothing new to load
    second = _wait(instance, _launch(instance, job))
    assert second.status == dg.DagsterRunStatus.SUCCESS
    assert instance.run_launcher.start_worker() is worker and worker.alive()


@pytest.mark.slow
def test_a_code_change_or_a_dead_worker_gets_a_new_worker(installation, monkeypatch):
    instance, job, _ = installation
    worker = instance.run_launcher.start_worker()
    real = launcher_mod.code_fingerprint
    monkeypatch.setattr(launcher_mod, "code_fingerprint", lambda: (*real(), ("edited.py", 1, 1)))
    second = instance.run_launcher.start_worker()
    assert second is not worker and not worker.alive() and second.alive()
    second.proc.kill()
    second.proc.wait()
    third = instance.run_launcher.start_worker()
    assert third is not second and third.alive()
    assert _wait(instance, _launch(instance, job)).status == dg.DagsterRunStatus.SUCCESS


@pytest.mark.slow
def test_terminate_interrupts_the_run(installation):
    instance, job, _ = installation
    instance.run_launcher.start_worker()
    run_id = _launch(instance, job)
    deadline = time.time() + 60
    while instance.get_run_by_id(run_id).status != dg.DagsterRunStatus.STARTED and time.time() < deadline:
        time.sleep(0.02)
    assert instance.run_launcher.terminate(run_id)
    run = _wait(instance, run_id)
    assert run.status in (dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE)
    assert not instance.run_launcher.terminate(run_id)  # finished: nothing to stop
