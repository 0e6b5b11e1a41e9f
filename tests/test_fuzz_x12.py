"""The bounded fuzzing run of bench/fuzz_x12.py, in CI: nothing but the project's own error."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_fuzzing_run_raises_only_input_file_errors():
    spec = importlib.util.spec_from_file_location("fuzz_x12", ROOT / "bench" / "fuzz_x12.py")
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    r = fuzz.run(iterations=20000, seed=20261123)
    assert r["failures"] == [], r["failures"][:3]
    assert r["outcome"]["input_file_error"] > 100 and r["outcome"].get("parsed", 0) > 100
