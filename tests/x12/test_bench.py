"""The X12 benchmark runs (its --quick form, smaller still) and prints every figure it promises."""

from __future__ import annotations

import pytest

from bench import bench_x12


@pytest.mark.slow
def test_bench_quick_runs(tmp_path, capsys):
    assert bench_x12.main(["--quick", "--small", "40", "--repeats", "1", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for text in ("ours (fast path, Arrow)", "ours, 1 thread", "with 1 thread", "edi-835-parser", "duckdb read_csv", "x edi-835-parser",
                 "DuckDB's read_csv floor", "linearity:", "40 small files", "ours, a ParsedFile per file"):  # fmt: skip
        assert text in out, text
