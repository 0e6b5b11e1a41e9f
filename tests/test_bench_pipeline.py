"""The end-to-end benchmark runs at a small size (as issue #9 asks of CI) and prints every figure it
promises: seconds per stage, rows per second, the read floor and the pipeline's multiple of it,
peak memory per size, and the growth from one size to the next."""

from __future__ import annotations

import re

import pytest

from bench import bench_pipeline


@pytest.mark.slow
def test_bench_pipeline_small_sizes(tmp_path, capsys):
    bench_pipeline.main(["--claims", "1000", "2000", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    for n in ("1,000", "2,000"):
        assert f"{n} claims:" in out
    for stage in ("ingest", "models", "checks", "trends", "reports", "total"):
        assert len(re.findall(rf"^  {stage} +\d+\.\d s", out, re.M)) == 2, stage
    assert len(re.findall(r"rows loaded", out)) == 2
    assert len(re.findall(r"rows/s ingested, \d+\.\d MB/s", out)) == 2
    assert len(re.findall(r"DuckDB read floor \d+\.\d s: the pipeline takes \d+\.\dx the floor", out)) == 2
    peaks = [int(x.replace(",", "")) for x in re.findall(r"peak memory of the run's process ([\d,]+) MB", out)]
    assert len(peaks) == 2 and all(p > 50 for p in peaks)  # a real process: Python, DuckDB, pandas at least
    assert re.search(r"2,000 vs 1,000 claims: 2x the input, \d+\.\dx the time", out)
