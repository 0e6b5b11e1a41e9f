"""A run worker that is already warm: the process the warm run launcher forks each run from.

Dagster starts every run in a new Python process, which imports Dagster, this project and, at
the first checked model, Great Expectations before doing any work: 8-15 s per run, whatever the
size of the week (docs/performance.md). This process pays those imports once: it imports the
definitions and Great Expectations, prints ``ready``, then reads one request per line on stdin
(``{"run_id": ..., "instance_ref": ...}``) and forks a child for each. The child executes the run
exactly as ``dagster api execute_run`` does (the run's events go to the instance's storage) and
exits; the parent answers ``{"pid": <child>}`` on stdout, and reaps its children as they end.

Started and stopped by ``pipelines.launcher.WarmRunLauncher``; it exits when stdin closes (the
launcher's process has gone), leaving any run still executing to finish.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

PRELOAD = ("pipelines.definitions",)


def preload(modules: tuple[str, ...] = PRELOAD) -> float:
    """Import what every run imports; returns the seconds it took."""
    import importlib

    t = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    from transforms.quality import validate

    validate.warm_up()  # Great Expectations and its context: 4-6 s otherwise, in a run's first checked step
    return time.perf_counter() - t


def execute(run_id: str, instance_ref_json: str) -> int:
    """Execute one run in this process (the body of ``dagster api execute_run``)."""
    from dagster import DagsterInstance
    from dagster._cli.api import _execute_run_command_body
    from dagster._serdes import deserialize_value
    from dagster._utils.interrupts import capture_interrupts

    ref = deserialize_value(instance_ref_json)
    with capture_interrupts(), DagsterInstance.from_ref(ref) as instance:
        return _execute_run_command_body(run_id, instance, write_stream_fn=lambda event: None,
                                         set_exit_code_on_failure=True)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _child(request: dict, stdin_fd: int, stdout_fd: int) -> None:
    code = 1
    try:
        os.setpgid(0, 0)  # its own process group: a signal for the run reaches it, not the worker
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, stdin_fd)  # the requests pipe is the parent's
        os.dup2(2, stdout_fd)  # the answers pipe too: anything printed goes to the log (stderr)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        code = execute(request["run_id"], request["instance_ref"])
    except BaseException as e:  # noqa: BLE001 - the child must never return into the parent's loop
        print(f"warm worker: run {request.get('run_id')} failed to execute: {e!r}", file=sys.stderr, flush=True)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    stdin, stdout = sys.stdin, sys.stdout
    seconds = preload()
    # reap each run's process as it ends: the launcher's health check must not see a zombie as alive
    signal.signal(signal.SIGCHLD, lambda signum, frame: _reap())
    stdout.write(json.dumps({"ready": True, "pid": os.getpid(), "preload_seconds": round(seconds, 3)}) + "\n")
    stdout.flush()
    for line in stdin:
        _reap()
        if not line.strip():
            continue
        request = json.loads(line)
        stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request, stdin.fileno(), stdout.fileno())
        stdout.write(json.dumps({"pid": pid, "run_id": request["run_id"]}) + "\n")
        stdout.flush()
    _reap()


if __name__ == "__main__":
    serve()
