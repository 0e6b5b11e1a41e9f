"""The new-week benchmark runs at a small size (so CI runs it) and prints every figure it promises:
the three runs in fresh processes, with their seconds, CPU, peak memory, their share of the full
rebuild, seconds per stage, the slowest steps, the incremental plan and the guard."""

from __future__ import annotations

import json
import re

import pytest

from bench import bench_incremental


@pytest.mark.slow
def test_bench_incremental_small(tmp_path, capsys):
    bench_incremental.main(["--claims", "2000", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert re.search(r"2,000 claims over 27 weeks: 26 weeks \d+\.\d MB, the new week \d+\.\d MB", out)
    for label in ("full rebuild (27 weeks)", "new week, incremental", "new week, --full-rebuild"):
        row = re.search(rf"^{re.escape(label)} +([\d.]+) +([\d.]+)% +([\d.]+) +([\d.]+)% +([\d.]+) +(\d+)((?: +[\d.]+){{5}})$", out, re.M)
        assert row, label
        assert float(row.group(1)) > 0 and float(row.group(3)) > 0 and int(row.group(6)) > 50
        assert f"slowest steps, {label}:" in out
    assert re.search(r"^full rebuild \(27 weeks\) +[\d.]+ +100\.0%", out, re.M)
    plan = json.loads(re.search(r"plan of the incremental run: (\{.*\})", out).group(1))
    assert plan["mode"] == "incremental" and plan["new_files"] > 0 and plan["claims_in_scope"] > 0
    assert re.search(r"new week: [\d.]+ s wall \([\d.]+% of the full rebuild, [\d.]+ s\); guard at 1,000,000 claims: at most 30 s "
                     r"\(this run is smaller", out)
