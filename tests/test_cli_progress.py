"""`denials run` on a terminal shows a progress bar: the stages and steps as the assets start them."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY


@pytest.mark.slow
def test_progress_bar_on_a_terminal(tmp_path):
    exe = Path(sys.executable).parent / "denials"
    main, child = pty.openpty()
    proc = subprocess.Popen([str(exe), "run", "--landing", str(TINY), "--warehouse", str(tmp_path / "w.duckdb"),
                             "--out", str(tmp_path / "out")], stdin=child, stdout=child, stderr=child,
                            env={**os.environ, "COLUMNS": "160"})
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=300) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))  # colours off
    # the time of each stage stays on the terminal when the bar goes
    for stage in ("ingest", "plan", "models", "trends", "reports"):
        assert re.search(rf"✓ {stage}\s+\d+\.\d s", text), stage
    assert re.search(r"✓ models .*\d+ steps, \d+ checks\)", text)
    assert re.search(r"\b\d+/\d+\b", text)  # steps done / steps of the run
