"""The new-week benchmark runs at a small size (so CI runs it) and prints every figure it promises:
the three runs through the warm launcher and in fresh processes, with their seconds, their share
of the full rebuild, seconds per stage, the slowest steps, the incremental plan and the verdict
against issue #8's goal."""

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
        row = re.search(rf"^{re.escape(label)} +([\d.]+) +([\d.]+)% +([\d.]+) +([\d.]+)%((?: +[\d.]+){{6}})$", out, re.M)
        assert row, label
        assert float(row.group(1)) > 0 and float(row.group(3)) > 0
        assert f"slowest steps, {label}:" in out
    # the same three runs launched through the warm launcher: wall, share, overhead and 5 stages
    warm, fresh = out.split("runs in a fresh Python process each")
    assert "runs launched as the daemon launches them" in warm
    for label in ("full rebuild (27 weeks)", "new week, incremental", "new week, --full-rebuild"):
        row = re.search(rf"^{re.escape(label)} +([\d.]+) +([\d.]+)% +([\d.]+)((?: +[\d.]+){{5}})$", warm, re.M)
        assert row, label
        assert float(row.group(1)) > 0 and sum(float(x) for x in row.group(4).split()) > 0
    assert re.search(r"^full rebuild \(27 weeks\) +[\d.]+ +100\.0%", fresh, re.M)
    assert re.search(r"warm runs: new week / full rebuild = [\d.]+% of the wall time \(goal at most 15%\): (ok|NOT MET)", out)
    plan = json.loads(re.search(r"plan of the incremental run: (\{.*\})", out).group(1))
    assert plan["mode"] == "incremental" and plan["new_files"] > 0 and plan["claims_in_scope"] > 0
    assert re.search(r"fresh runs: new week / full rebuild = [\d.]+% of the wall time, [\d.]+% of the CPU time \(goal at most 15%\): (ok|NOT MET)", out)
