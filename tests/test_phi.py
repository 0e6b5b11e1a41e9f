"""No protected health information leaves ingestion: the whole pipeline runs on files that carry
synthetic PHI (the generator's sample and the public X12 fixtures), and every output file (HTML,
JSON, CSV, XLSX, the run's log), the warehouse and the data-quality results are searched for it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.conftest import shared_dir

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
FX = shared_dir() / "fixtures" / "x12"


def fixture_phi() -> set[str]:
    """Names and member ids of NM1*QC / NM1*IL in the fixtures (distinctive ones)."""
    found = set()
    for p in FX.iterdir():
        if p.suffix in (".md", ".json", ".tsv"):
            continue
        for m in re.finditer(r"NM1\*(?:QC|IL)\*1\*([^*~\n]*)\*([^*~\n]*)(?:\*[^*~\n]*){3}\*?([^*~\n]*)", p.read_text(errors="replace")):
            last, first, member = m.groups()
            found |= {v for v in (last, first) if len(v) >= 5 and v.isupper() and not v.startswith("SUBMITTED")}
            if len(member) >= 6:
                found.add(member)
    return found


@pytest.mark.slow
def test_no_phi_in_any_output(tmp_path):
    gt = json.loads((SAMPLE / "ground_truth.json").read_text())["phi_samples"]
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE / "claims", landing / "claims")
    shutil.copytree(SAMPLE / "remittances", landing / "remittances")
    for p in FX.iterdir():
        if p.suffix not in (".md", ".json", ".tsv"):
            shutil.copy(p, landing / p.name)
    out, wh = tmp_path / "out", tmp_path / "wh" / "w.duckdb"
    log = tmp_path / "out" / "run.log"
    out.mkdir()
    r = subprocess.run([str(Path(sys.executable).parent / "denials"), "run", "--verbose", "--landing", str(landing),
                        "--warehouse", str(wh), "--out", str(out)], capture_output=True, text=True, timeout=900)
    log.write_text(r.stdout + r.stderr)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "0 quarantined" in r.stdout  # every file loads (the bad envelope fixture with warnings)

    # what must never appear: the generator's names, member ids and birth dates, and the fixtures'
    patterns = [re.compile(rb"ZZ[A-Z]{3,}"), re.compile(rb"\bTEST[A-Z]{3,}"), re.compile(rb"ZZ[MS][0-9]{9}")]
    literals = {s.encode() for s in gt["birth_dates"] + gt["member_ids"] + gt["last_names"]} | {s.encode() for s in fixture_phi()}
    assert len(literals) > 20
    # the search is not vacuous: the inputs do hold these values
    inputs = (landing / "claims" / "claims.csv").read_bytes() + b"".join(p.read_bytes() for p in (landing / "remittances").iterdir())
    assert all(p.search(inputs) for p in patterns)
    assert sum(lit in inputs for lit in literals) >= len(gt["member_ids"])
    assert "landed_files - batch" in log.read_text()  # the verbose run's log was captured

    searched = 0
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.name == "plotly.min.js":  # the charting library, copied verbatim
            continue
        if path.suffix == ".duckdb" or ".duckdb" in path.name:
            continue
        blobs = [path.read_bytes()]
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                blobs = [z.read(n) for n in z.namelist()]
        for blob in blobs:
            for pat in patterns:
                m = pat.search(blob)
                assert m is None, f"{path.relative_to(out)} holds {m.group(0)!r}"
            for lit in literals:
                assert lit not in blob, f"{path.relative_to(out)} holds a PHI value"
        searched += 1
    kinds = {p.suffix for p in out.rglob("*") if p.is_file()}
    assert {".html", ".json", ".csv", ".xlsx", ".log"} <= kinds and searched >= 10

    # the warehouse: no text column of any table holds them
    con = duckdb.connect(str(wh), read_only=True)
    cols = con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR' AND NOT internal").fetchall()
    for schema, table, col in cols:
        q = f'SELECT count(*) FROM {schema}.{table} WHERE regexp_matches("{col}", \'ZZ[A-Z]{{3,}}|ZZ[MS][0-9]{{9}}\')'
        assert con.execute(q).fetchone()[0] == 0, f"{schema}.{table}.{col}"
        lits = [s.decode() for s in literals]
        q = f'SELECT count(*) FROM {schema}.{table} WHERE "{col}" IN (SELECT unnest(?::VARCHAR[]))'
        assert con.execute(q, [lits]).fetchone()[0] == 0, f"{schema}.{table}.{col}"
