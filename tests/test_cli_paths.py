"""Bad warehouse, output and mapping paths given to the `denials` command (a real subprocess).

Each must stop at once, before anything is loaded, with one line on stderr that names the path
and what was expected, and no traceback; only a real lock conflict on the DuckDB file is waited
for. Mapping files come from --mappings or DENIALS_MAPPINGS, and a broken one is named.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from transforms import warehouse

BIN = Path(sys.executable).parent / "denials"
ROOT = Path(__file__).resolve().parents[1]
MAPPED = ROOT / "tests" / "data" / "mapped"
SHIPPED_MAPPINGS = ROOT / "mappings"

# an error must come well before the old five minutes of retries; a whole run takes ~20 s
QUICK = 45


def run(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "DENIALS_MAPPINGS"}
    full_env.update(env or {})
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=timeout, env=full_env)


def fails_in_one_line(r: subprocess.CompletedProcess, code: int, *words: str) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def quick(*args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    r = run(*args, env=env, timeout=QUICK)
    return r, time.monotonic() - t0


@pytest.fixture
def bad_paths(tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "notes.duckdb"
    text.write_text("this is not a database\n")
    folder = tmp_path / "a_folder.duckdb"
    folder.mkdir()
    plain = tmp_path / "plain.txt"
    plain.write_text("a file, not a folder\n")
    return {"text": text, "folder": folder, "plain": plain}


# --- the warehouse -----------------------------------------------------------------------------


@pytest.mark.parametrize("case, expected", [
    ("text", "not a DuckDB database"),
    ("folder", "is a directory"),
    ("under_file", "is a file"),
])
def test_run_with_a_warehouse_that_is_not_a_duckdb_file_stops_at_once(case, expected, bad_paths, tiny_landing, tmp_path):
    wh = bad_paths["plain"] / "w.duckdb" if case == "under_file" else bad_paths[case]
    before = wh.read_bytes() if wh.is_file() else None
    out = tmp_path / "out"
    r, took = quick("run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--out", str(out))
    line = fails_in_one_line(r, 2, str(wh), expected)
    assert "warehouse" in line
    assert took < QUICK
    assert not out.exists()  # nothing ran
    if before is not None:
        assert wh.read_bytes() == before  # the file is left as it was


def test_report_and_demo_with_a_bad_warehouse(bad_paths, tmp_path):
    for case, expected in (("text", "not a DuckDB database"), ("folder", "is a directory")):
        wh = bad_paths[case]
        r, _ = quick("report", "--warehouse", str(wh), "--out", str(tmp_path / "rep"))
        fails_in_one_line(r, 2, str(wh), expected)
    # the demo's warehouse lives in its output folder
    out = tmp_path / "demo"
    out.mkdir()
    (out / "warehouse.duckdb").write_text("not a database\n")
    r, _ = quick("demo", "--out", str(out))
    fails_in_one_line(r, 2, str(out / "warehouse.duckdb"), "not a DuckDB database")


def test_release_and_backfill_with_a_bad_warehouse(bad_paths):
    wh = bad_paths["text"]
    r, _ = quick("release", "x.csv", "--warehouse", str(wh))
    fails_in_one_line(r, 2, str(wh), "not a DuckDB database")
    r, _ = quick("backfill", "2026-W12", "--warehouse", str(wh))
    fails_in_one_line(r, 2, str(wh), "not a DuckDB database")


def test_connect_names_the_path_and_what_was_expected(bad_paths, tmp_path):
    with pytest.raises(warehouse.WarehouseError, match="not a DuckDB database"):
        warehouse.connect(bad_paths["text"])
    with pytest.raises(warehouse.WarehouseError, match="is a directory"):
        warehouse.connect(bad_paths["folder"], read_only=True)
    with pytest.raises(warehouse.WarehouseError, match="is a file"):
        warehouse.connect(bad_paths["plain"] / "sub" / "w.duckdb")
    with pytest.raises(warehouse.WarehouseError, match="not found"):
        warehouse.connect(tmp_path / "missing.duckdb", read_only=True)
    for e in (warehouse.WarehouseError, warehouse.WarehouseLockedError):
        assert issubclass(e, warehouse.DenialsError)


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS held (a INTEGER)")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _hold(db: Path, seconds: float) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "holding"
    return p


def test_connect_waits_only_for_a_real_lock(tmp_path):
    db = tmp_path / "w.duckdb"
    holder = _hold(db, 30)
    try:
        t0 = time.monotonic()
        with pytest.raises(warehouse.WarehouseLockedError) as e:
            warehouse.connect(db, lock_wait=1.0)
        took = time.monotonic() - t0
        assert 0.9 < took < 10, took
        assert str(db) in str(e.value) and f"process {holder.pid}" in str(e.value)
    finally:
        holder.kill()
        holder.wait()
    # released: the next open succeeds at once
    warehouse.connect(db, lock_wait=1.0).close()


def test_run_waits_for_a_short_lock_held_by_another_process(tiny_landing, tiny_settings, tmp_path):
    """A DuckDB lock held by a process outside `denials` (a notebook, the duckdb shell): the run
    retries, and completes once it is released."""
    wh, out = tmp_path / "w.duckdb", tmp_path / "out"
    holder = _hold(wh, 4)
    try:
        r = run("run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--out", str(out), "--config", str(tiny_settings))
    finally:
        holder.wait()
    assert r.returncode == 0, r.stderr
    assert "Files: 6 loaded" in r.stdout


# --- the output folder -------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["file", "under_file"])
def test_run_with_an_output_path_that_is_a_file_stops_before_loading(case, bad_paths, tiny_landing, tmp_path):
    out = bad_paths["plain"] if case == "file" else bad_paths["plain"] / "reports"
    wh = tmp_path / "w" / "w.duckdb"
    r, took = quick("run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--out", str(out))
    fails_in_one_line(r, 2, str(out), "is a file", "output")
    assert took < QUICK
    assert not wh.exists()  # checked before anything ran
    assert bad_paths["plain"].read_text() == "a file, not a folder\n"


def test_report_and_demo_with_an_output_path_that_is_a_file(bad_paths, tmp_path):
    wh = tmp_path / "empty.duckdb"
    duckdb.connect(str(wh)).close()
    for out in (bad_paths["plain"], bad_paths["plain"] / "reports"):
        r, _ = quick("report", "--week", "2026-W12", "--warehouse", str(wh), "--out", str(out))
        fails_in_one_line(r, 2, str(out), "is a file")
        r, _ = quick("demo", "--out", str(out))
        fails_in_one_line(r, 2, str(out), "is a file")
        r, _ = quick("backfill", "2026-W12", "--warehouse", str(wh), "--out", str(out))
        fails_in_one_line(r, 2, str(out), "is a file")


# --- mapping files -----------------------------------------------------------------------------


def _custom_export(tmp_path: Path) -> tuple[Path, Path]:
    """A charge export whose header the shipped mappings do not know, and a mapping folder that
    reads it (the flat_charge_export example with two columns renamed)."""
    renames = {"Claim #": "Visit Ref", "Bill Date": "Billed On"}
    text = (MAPPED / "charges_export.csv").read_text()
    header, rest = text.split("\n", 1)
    cols = header.split(",")
    export = tmp_path / "acme" / "acme_charges.csv"
    export.parent.mkdir()
    export.write_text(",".join(renames.get(c, c) for c in cols) + "\n" + rest)
    maps = tmp_path / "my_mappings"
    maps.mkdir()
    yaml_text = (SHIPPED_MAPPINGS / "flat_charge_export.yaml").read_text()
    yaml_text = yaml_text.replace("name: flat_charge_export", "name: acme_charges")
    for old, new in renames.items():
        yaml_text = yaml_text.replace(f'"{old}"', f'"{new}"').replace(f" {old},", f" {new},").replace(f": {old}\n", f": {new}\n")
    assert '"Claim #"' not in yaml_text and "Bill Date" not in yaml_text
    (maps / "acme.yaml").write_text(yaml_text)
    return export, maps


def test_run_reads_exports_through_the_mappings_in_denials_mappings(tiny_landing, tiny_settings, tmp_path):
    export, maps = _custom_export(tmp_path)
    shutil.copy(export, tiny_landing / "claims" / export.name)
    wh, out = tmp_path / "w.duckdb", tmp_path / "out"
    r = run("run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--out", str(out), "--config", str(tiny_settings),
            env={"DENIALS_MAPPINGS": str(maps)})
    assert r.returncode == 0, r.stderr
    assert "Files: 7 loaded, 0 already loaded, 0 quarantined" in r.stdout, r.stdout
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert con.execute(
            "SELECT file_kind, status FROM audit.file_manifest WHERE file_name = ?", [export.name]
        ).fetchall() == [("mapped_csv:acme_charges", "loaded")]
        assert con.execute(
            "SELECT claim_id, submission_date::VARCHAR FROM raw.claims WHERE claim_id LIKE 'M%' ORDER BY 1"
        ).fetchall() == [("M1", "2026-03-03"), ("M2", "2026-03-05")]
    finally:
        con.close()


def test_without_the_mapping_the_export_is_quarantined(tmp_path):
    """The control: with the shipped mappings only, the same export is not recognised (so the
    test above shows DENIALS_MAPPINGS at work), and --mappings reads it too."""
    from tests.helpers import TEST_KEY
    from transforms.errors import InputFileError
    from transforms.ingest import loader
    from transforms.ingest.phi import MemberIdHasher

    export, maps = _custom_export(tmp_path)
    with pytest.raises(InputFileError):
        loader.parse_file(export, "f" * 16, MemberIdHasher(TEST_KEY))
    assert loader.parse_file(export, "f" * 16, MemberIdHasher(TEST_KEY), maps).kind == "mapped_csv:acme_charges"
    r = run("run", "--help")
    assert "--mappings" in r.stdout and "DENIALS_MAPPINGS" in r.stdout


BROKEN = {
    "syntax.yaml": ("name: x\nmatch:\n  required_columns: [A, B\noutputs: []\n", "not valid YAML"),
    "target.yaml": ("name: x\nmatch: {required_columns: [A]}\noutputs:\n  - target: nonsense\n    columns: {claim_id: A}\n",
                    "target must be one of"),
    "no_match.yaml": ("name: x\nmatch: {}\noutputs:\n  - target: claims\n", "required_columns"),
    "outputs.yaml": ("name: x\nmatch: {required_columns: [A]}\noutputs: [just a string]\n", "outputs"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_mapping_file_is_named_before_loading(name, tiny_landing, tmp_path):
    maps = tmp_path / "maps"
    maps.mkdir()
    shutil.copy(SHIPPED_MAPPINGS / "payment_posting_export.yaml", maps)
    text, expected = BROKEN[name]
    (maps / name).write_text(text)
    wh = tmp_path / "w.duckdb"
    r, _ = quick("run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--out", str(tmp_path / "out"),
                 env={"DENIALS_MAPPINGS": str(maps)})
    fails_in_one_line(r, 2, str(maps / name), expected)
    assert not wh.exists()  # nothing was loaded


def test_mappings_option_and_a_missing_mappings_folder(tiny_landing, tmp_path):
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "bad.yaml").write_text("name: x\n")
    wh = tmp_path / "w.duckdb"
    r, _ = quick("run", "--landing", str(tiny_landing), "--warehouse", str(wh), "--mappings", str(maps))
    fails_in_one_line(r, 2, str(maps / "bad.yaml"))
    missing = tmp_path / "no_such_folder"
    r, _ = quick("run", "--landing", str(tiny_landing), "--warehouse", str(wh), env={"DENIALS_MAPPINGS": str(missing)})
    fails_in_one_line(r, 2, str(missing), "not found")
    assert not wh.exists()


def test_version_exit_codes_and_variables_in_help():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "denials"
    v = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120)
    assert v.returncode == 0 and v.stdout.startswith("denials ")
    h = subprocess.run([str(exe), "run", "--help"], capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", "PATH": ""})
    for var in ("DENIALS_LANDING", "DENIALS_WAREHOUSE", "DENIALS_OUTPUT", "DENIALS_SETTINGS", "DENIALS_MAPPINGS"):
        assert var in h.stdout, var
    top = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", "PATH": ""})
    assert "Exit codes: 0 done; 1" in " ".join(top.stdout.split())


def test_options_are_read_from_their_variables(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "denials"
    notdb = tmp_path / "from_env.duckdb"
    notdb.write_text("not a database")
    landing = tmp_path / "landing"
    landing.mkdir()
    env = {**os.environ, "DENIALS_WAREHOUSE": str(notdb), "DENIALS_LANDING": str(landing), "DENIALS_OUTPUT": str(tmp_path / "o")}
    r = subprocess.run([str(exe), "run"], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 2 and "from_env.duckdb: not a DuckDB database file" in r.stderr
