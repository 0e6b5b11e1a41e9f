"""A Dagster run launcher whose runs start warm (configured in dagster.yaml).

Dagster's default launcher asks the code server to start each run in a new Python process
(multiprocessing's spawn), which imports Dagster, this project and Great Expectations again
before the run does anything: 8-15 s of every run, a week's new files or not. This launcher keeps
one worker process (``pipelines/warm_worker.py``) that has done those imports, and forks each
run from it. The run itself is executed as ``dagster api execute_run`` executes it: same
instance, same event log, same steps (the definitions' in-process executor).

* The worker is started at the first launch (or by ``start_worker``) with the launcher's own
  interpreter, environment and working directory, and is replaced when a file of the project's
  code has changed since it started (a reloaded code location gets a fresh worker), or when it
  has died.
* Each run's worker process id is recorded in the run's tag ``denials/run_worker_pid``: the run
  monitor (``run_monitoring`` in dagster.yaml) asks ``check_run_worker_health``, which reports a
  run whose process has gone as failed; ``terminate`` interrupts that process, as Ctrl-C would.
* Runs are still started one at a time by the run queue (``max_concurrent_runs: 1``): DuckDB has
  one writer per file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster._core.errors import DagsterLaunchFailedError
from dagster._core.launcher.base import (
    CheckRunHealthResult,
    LaunchRunContext,
    RunLauncher,
    WorkerStatus,
)
from dagster._serdes import ConfigurableClass, ConfigurableClassData, serialize_value

PID_TAG = "denials/run_worker_pid"
ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("pipelines", "transforms", "reports")
READY_TIMEOUT = 180.0


def code_fingerprint(root: Path = ROOT) -> tuple:
    """Names, sizes and modification times of the project's code: a change starts a new worker."""
    out = []
    for d in CODE_DIRS:
        for p in sorted((root / d).rglob("*")):
            if p.suffix in (".py", ".sql", ".yaml", ".csv") and "__pycache__" not in p.parts:
                st = p.stat()
                out.append((str(p.relative_to(root)), st.st_size, st.st_mtime_ns))
    return tuple(out)


class WorkerError(RuntimeError):
    pass


class WarmWorker:
    """The worker process and its two pipes (requests in, answers out)."""

    def __init__(self):
        """Start it with this process's interpreter, environment and working directory."""
        t = time.perf_counter()
        self.fingerprint = code_fingerprint()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.warm_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, bufsize=1,
            start_new_session=True,  # a Ctrl-C meant for the daemon does not stop a run in flight
        )
        ready = self._answer(READY_TIMEOUT)
        if not ready.get("ready"):
            raise WorkerError(f"the warm run worker did not start: {ready}")
        self.preload_seconds = ready.get("preload_seconds")
        self.start_seconds = time.perf_counter() - t

    def _answer(self, timeout: float) -> dict:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not box or not box[0]:
            code = self.proc.poll()
            raise WorkerError(
                "the warm run worker " + (f"exited with code {code}" if code is not None else f"did not answer in {timeout:.0f} s")
                + " (its messages are in the daemon's log)"
            )
        return json.loads(box[0])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def start_run(self, run_id: str, instance_ref_json: str) -> int:
        self.proc.stdin.write(json.dumps({"run_id": run_id, "instance_ref": instance_ref_json}) + "\n")
        self.proc.stdin.flush()
        answer = self._answer(60.0)
        if answer.get("run_id") != run_id or not answer.get("pid"):
            raise WorkerError(f"unexpected answer from the warm run worker: {answer}")
        return int(answer["pid"])

    def stop(self, timeout: float = 10.0) -> None:
        """Close its requests pipe: it exits; runs it started go on to their end."""
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class WarmRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run in a process forked from a warm worker (module docstring)."""

    def __init__(self, inst_data: ConfigurableClassData | None = None):
        self._inst_data = inst_data
        self._worker: WarmWorker | None = None
        self._lock = threading.RLock()  # one request at a time on the worker's pipes
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> WarmRunLauncher:
        return cls(inst_data=inst_data)

    def start_worker(self) -> WarmWorker:
        """The worker, started (or replaced, when it died or the code changed) if need be."""
        with self._lock:
            w = self._worker
            if w is not None and (not w.alive() or w.fingerprint != code_fingerprint()):
                w.stop()
                w = self._worker = None
            if w is None:
                w = self._worker = WarmWorker()
            return w

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        if run.job_code_origin is None:
            raise DagsterLaunchFailedError(f"run {run.run_id} has no code origin: the warm launcher cannot execute it")
        try:
            with self._lock:
                pid = self.start_worker().start_run(run.run_id, serialize_value(self._instance.get_ref()))
        except (WorkerError, OSError) as e:
            self.dispose()  # a worker that did not answer is not trusted with the next run
            raise DagsterLaunchFailedError(f"run {run.run_id} could not be started: {e}") from e
        self._instance.add_run_tags(run.run_id, {PID_TAG: str(pid)})

    def _pid(self, run_id: str) -> int | None:
        run = self._instance.get_run_by_id(run_id)
        if run is None or PID_TAG not in run.tags:
            return None
        return int(run.tags[PID_TAG])

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        pid = self._pid(run_id)
        if run is None or run.is_finished or pid is None:
            return False
        self._instance.report_run_canceling(run)
        try:
            os.kill(pid, signal.SIGINT)  # the run stops at its next interruptible point and is marked canceled
        except ProcessLookupError:
            return False
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        pid = self._pid(run.run_id)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no worker process recorded")
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return CheckRunHealthResult(WorkerStatus.FAILED, f"the run's process {pid} has exited")
        except PermissionError:
            pass
        return CheckRunHealthResult(WorkerStatus.RUNNING)

    def dispose(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None
