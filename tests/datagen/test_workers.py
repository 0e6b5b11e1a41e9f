"""The generator's worker processes stop when the pool is torn down, whatever signal handlers
the process had when it forked them.

After a Dagster run in a process, SIGTERM can be left mapped to a handler that only records the
signal (as Dagster's interrupt capture does). Forked pool workers inherit it, and Pool.terminate then waits
forever for an idle worker: the test suite hung that way once in `test_ground_truth`. The check
runs in a fresh interpreter with a time limit.
"""

import subprocess
import sys
import textwrap

from tests.conftest import ROOT

SETUP = """
import datetime as dt, multiprocessing as mp, signal, sys
received = []
signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))  # records only, as Dagster's capture
assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.default_int_handler)
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(SETUP + code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_a_worker_stops_on_sigterm():
    """Pool.terminate ends idle workers by SIGTERM when its sentinels did not reach them (its
    draining of the task queue can take them): the hang seen once in the suite. A process set up
    as a generator worker (its initializer), then waiting, must die of SIGTERM."""
    done = _run("""
import os, time
from datagen.batch import init_worker
from datagen.model import make_plan

def worker(plan, ready):
    init_worker(plan, {"claims_csv"})
    ready.set()
    time.sleep(60)

ctx = mp.get_context("fork")
ready = ctx.Event()
p = ctx.Process(target=worker, args=(make_plan(1, 200, 2, dt.date(2026, 1, 5), ()), ready))
p.start()
assert ready.wait(30)
os.kill(p.pid, signal.SIGTERM)
p.join(10)
print("exit code", p.exitcode, flush=True)
if p.exitcode is None:
    p.kill()
    p.join()
""")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "exit code -15" in done.stdout, done.stdout
