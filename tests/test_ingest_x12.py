"""The public X12 fixtures loaded through the warehouse: the raw tables give the totals of
EXPECTED.json (computed independently), and the bad-envelope file's problems are recorded."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal as D

import pytest

from tests.conftest import shared_dir
from tests.helpers import TEST_KEY, scalar
from transforms import warehouse
from transforms.ingest import loader
from transforms.ingest.phi import MemberIdHasher

FIXTURES = shared_dir() / "fixtures" / "x12"
EXPECTED = json.loads((FIXTURES / "EXPECTED.json").read_text())
FILES_835 = sorted(k for k, v in EXPECTED.items() if not k.startswith("_") and "x835" in v)
FILES_837 = sorted(k for k, v in EXPECTED.items() if not k.startswith("_") and "x837" in v)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("x12")
    landing = tmp / "landing"
    landing.mkdir()
    for name in FILES_835 + FILES_837:
        shutil.copy(FIXTURES / name, landing / name)
    shutil.copy(FIXTURES / "NOTICE.md", landing / "NOTICE.md")  # ignored by the loader
    c = warehouse.connect(tmp / "w.duckdb")
    result = loader.load_batch(c, loader.discover(landing), MemberIdHasher(TEST_KEY))
    assert {f.path.name: f.status for f in result.files} == {n: "loaded" for n in FILES_835 + FILES_837}
    yield c
    c.close()


def money(v) -> str:
    return f"{(v or D(0)):.2f}"


@pytest.mark.parametrize("name", FILES_835)
def test_835_totals_from_warehouse(con, name):
    exp = EXPECTED[name]["x835"]
    fid = scalar(con, "SELECT file_id FROM audit.file_manifest WHERE file_name = ?", [name])
    q = lambda sql: scalar(con, sql, [fid])  # noqa: E731
    assert q("SELECT count(*) FROM raw.remit_payments WHERE file_id = ?") == exp["n_transactions"]
    assert q("SELECT count(*) FROM raw.remit_claims WHERE file_id = ?") == exp["n_claims"]
    assert money(q("SELECT sum(charge_amount) FROM raw.remit_claims WHERE file_id = ?")) == exp["total_charge_clp03"]
    assert money(q("SELECT sum(paid_amount) FROM raw.remit_claims WHERE file_id = ?")) == exp["total_paid_clp04"]
    assert money(q("SELECT sum(amount) FROM raw.provider_adjustments WHERE file_id = ?")) == exp["plb_total"]
    assert money(q("SELECT sum(payment_amount) FROM raw.remit_payments WHERE file_id = ?")) == exp["bpr02_total"]
    counts = dict(con.execute("SELECT status_code, count(*) FROM raw.remit_claims WHERE file_id = ? GROUP BY 1", [fid]).fetchall())
    assert {k: v for k, v in counts.items()} == exp["clp02_counts"]
    for level, key in (("claim", "cas_by_group_claim_level"), ("line", "cas_by_group_service_level")):
        got = dict(con.execute(
            "SELECT group_code, sum(amount) FROM raw.remit_adjustments WHERE file_id = ? AND adjustment_level = ? GROUP BY 1",
            [fid, level]).fetchall())
        assert {k: money(v) for k, v in got.items()} == exp["extra"][key]
    assert q("SELECT count(*) FROM raw.remit_lines WHERE file_id = ?") == exp["extra"]["n_svc"]


@pytest.mark.parametrize("name", FILES_837)
def test_837_totals_from_warehouse(con, name):
    exp = EXPECTED[name]["x837"]
    fid = scalar(con, "SELECT file_id FROM audit.file_manifest WHERE file_name = ?", [name])
    assert scalar(con, "SELECT count(*) FROM raw.claims WHERE file_id = ?", [fid]) == exp["n_claims_clm"]
    assert money(scalar(con, "SELECT sum(total_charge) FROM raw.claims WHERE file_id = ?", [fid])) == exp["total_charge_clm02"]
    assert scalar(con, "SELECT count(*) FROM raw.claim_lines WHERE file_id = ?", [fid]) == exp["n_sv1"] + exp["n_sv2"]
    assert money(scalar(con, "SELECT sum(line_charge) FROM raw.claim_lines WHERE file_id = ?", [fid])) == exp["total_line_charge"]


def test_envelope_errors_recorded_by_name(con):
    fid = scalar(con, "SELECT file_id FROM audit.file_manifest WHERE file_name = 'badx12__error_validation.edi'")
    codes = {r[0] for r in con.execute("SELECT code FROM audit.load_findings WHERE file_id = ?", [fid]).fetchall()}
    assert {"se01_count", "st02_se02", "gs_ge_control", "ge01_count", "isa_iea_control", "iea01_count"} <= codes
    assert scalar(con, "SELECT warning_count FROM audit.file_manifest WHERE file_id = ?", [fid]) >= 6


def test_lineage_points_at_segments(con):
    # the CLP of the fully denied pyx12 claim: its source_row is the CLP's segment number
    fid, row = con.execute(
        "SELECT r.file_id, r.source_row FROM raw.remit_claims r JOIN audit.file_manifest m USING (file_id) "
        "WHERE m.file_name = 'pyx12__835_mult_loops.txt'").fetchone()
    text = (FIXTURES / "pyx12__835_mult_loops.txt").read_text()
    segments = [s.strip() for s in text.split("~") if s.strip()]
    assert segments[row - 1].startswith("CLP*")


def test_no_patient_names_in_warehouse(con):
    names = set()
    for name in FILES_835 + FILES_837:
        text = (FIXTURES / name).read_text(errors="replace")
        term = "~" if "~" in text else "\n"
        for seg in text.split(term):
            parts = seg.strip().split("*")
            if parts[0] == "NM1" and len(parts) > 4 and parts[1] in ("QC", "IL"):
                names |= {p for p in parts[3:5] if len(p) > 2}
    assert names
    cols = con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR' AND schema_name = 'raw'").fetchall()
    for schema, table, col in cols:
        for n in names:
            assert scalar(con, f'SELECT count(*) FROM {schema}.{table} WHERE "{col}" = ?', [n]) == 0, (table, col)


def test_quarantined_x12_names_segment(tmp_path):
    bad = tmp_path / "bad.835"
    good = tmp_path / "good.835"
    shutil.copy(FIXTURES / "pyx12__835_mult_loops.txt", good)
    con = warehouse.connect(tmp_path / "w.duckdb")
    # corrupt one CLP04 amount
    lines = (FIXTURES / "lfh__medicare-part-a.835").read_text().split("~")
    idx = next(i for i, s in enumerate(lines) if s.strip().startswith("CLP*"))
    parts = lines[idx].split("*")
    parts[4] = "12A.00"
    lines[idx] = "*".join(parts)
    bad.write_text("~".join(lines))
    result = loader.load_batch(con, [bad, good], MemberIdHasher(TEST_KEY))
    status = {f.path.name: f.status for f in result.files}
    assert status == {"bad.835": "quarantined", "good.835": "loaded"}
    loc = scalar(con, "SELECT location FROM audit.quarantine")
    assert loc == f"segment {idx + 1} (CLP), element CLP04"
    assert scalar(con, "SELECT count(*) FROM raw.remit_claims") == 1
