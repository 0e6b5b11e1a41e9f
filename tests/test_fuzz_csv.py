"""The bounded fuzzing run of bench/fuzz_csv.py, in CI: nothing but the project's own error, never a hang."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_csv_fuzzing_run_raises_only_input_file_errors_and_never_hangs():
    spec = importlib.util.spec_from_file_location("fuzz_csv", ROOT / "bench" / "fuzz_csv.py")
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    r = fuzz.run(iterations=1500, seed=20261204, timeout=30)
    assert r["failures"] == [], r["failures"][:3]
    assert r["outcome"]["input_file_error"] > 100 and r["outcome"].get("parsed", 0) > 100
    assert "hang" not in r["outcome"]
