"""The `denials` command as a user runs it (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "denials"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("demo", "run", "generate", "inspect", "report"):
        assert cmd in r.stdout
    r = run("run", "--help")
    assert "--landing" in r.stdout and "--warehouse" in r.stdout and "--out" in r.stdout and "--config" in r.stdout


def test_run_prints_outputs_and_rerun_changes_nothing(tiny_landing, tiny_settings, tmp_path):
    wh, out = tmp_path / "w" / "w.duckdb", tmp_path / "out"
    r = run("run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--out", str(out), "--config", str(tiny_settings))
    assert r.returncode == 0, r.stderr
    assert "Files: 6 loaded, 0 already loaded, 0 quarantined" in r.stdout
    assert str(out / "weekly" / "2026-W13.html") in r.stdout
    assert str(out / "worklist" / "denial_worklist.xlsx") in r.stdout
    assert str(out / "data_quality" / "index.html") in r.stdout
    r = run("run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--out", str(out), "--config", str(tiny_settings))
    assert r.returncode == 0, r.stderr
    assert "Files: 0 loaded, 6 already loaded, 0 quarantined" in r.stdout
    r = run("report", "--week", "2026-W11", "--warehouse", str(wh), "--out", str(tmp_path / "again"))
    assert r.returncode == 0 and (tmp_path / "again" / "weekly" / "2026-W11.html").exists()


def test_clear_errors_for_bad_arguments(tmp_path):
    r = run("run", "--landing", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert r.returncode == 2 and "landing folder not found" in r.stderr
    r = run("report", "--warehouse", str(tmp_path / "missing.duckdb"))
    assert r.returncode == 2 and "warehouse not found" in r.stderr


def test_inspect_prints_the_expected_totals():
    import json

    from tests.conftest import shared_dir

    fx = shared_dir() / "fixtures" / "x12"
    expected = json.loads((fx / "EXPECTED.json").read_text())
    r = run("inspect", str(fx / "lfh__medicare-part-a.835"), str(fx / "badx12__error_validation.edi"), str(fx / "lfh__demo.837"))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out[0]["x835"] == expected["lfh__medicare-part-a.835"]["x835"]
    assert out[2]["x837"].items() >= expected["lfh__demo.837"]["x837"].items()
    text = json.dumps(out[1])
    for anomaly in expected["badx12__error_validation.edi"]["structural_anomalies"]:
        assert anomaly in text


def test_two_runs_at_once_one_waits_or_fails_clearly(tiny_landing, tiny_settings, tmp_path):
    """Concurrency: two runs started together on one warehouse never interleave. Without --wait the
    second stops at once with a clear message; with --wait it queues; the warehouse ends whole."""
    import duckdb

    wh, out = tmp_path / "w.duckdb", tmp_path / "out"
    args = ["run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--out", str(out), "--config", str(tiny_settings)]
    logs = [(tmp_path / f"out{i}.log", tmp_path / f"err{i}.log") for i in range(2)]
    procs = [subprocess.Popen([str(BIN), *args], stdout=o.open("w"), stderr=e.open("w"), text=True) for o, e in logs]
    results = [(p.wait(timeout=600), o.read_text(), e.read_text()) for p, (o, e) in zip(procs, logs, strict=True)]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 3], results
    busy = next(r for r in results if r[0] == 3)
    assert "is in use by another run" in busy[2] and "--wait" in busy[2]
    procs = [subprocess.Popen([str(BIN), *args, "--wait"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    con = duckdb.connect(str(wh), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT sha256) FROM audit.file_manifest").fetchone() == (6, 6)
    assert con.execute("SELECT count(*) FROM raw.claims").fetchone()[0] == 11


def test_release_a_quarantined_file(tiny_landing, tiny_settings, tmp_path):
    """A quarantined file whose content is unchanged is tried again only after `denials release`."""
    import duckdb

    wo = tiny_landing / "claims" / "write_offs.csv"
    wo.write_text(wo.read_text().replace("denial,29", "denials,29"))  # not an allowed reason
    wh, out = tmp_path / "w.duckdb", tmp_path / "out"
    args = ["run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--out", str(out), "--config", str(tiny_settings)]
    assert "1 quarantined" in run(*args).stdout
    again = run(*args).stdout
    assert "0 loaded, 5 already loaded, 0 quarantined" in again and "1 quarantined before and unchanged" in again
    r = run("release", "write_offs.csv", "--warehouse", str(wh), "--reason", "test")
    assert r.returncode == 0 and "released write_offs.csv" in r.stdout
    assert "1 quarantined" in run(*args).stdout  # tried again (still bad)
    assert run("release", "claims.csv", "--warehouse", str(wh)).returncode == 2  # loaded files cannot be released
    con = duckdb.connect(str(wh), read_only=True)
    assert con.execute("SELECT count(*) FROM audit.quarantine WHERE file_name = 'write_offs.csv'").fetchone()[0] == 2
    assert con.execute("SELECT reason FROM audit.released_files").fetchall() == [("test",)]
    con.close()
