"""Issue 24's batch-level cases: one odd file among many never stops the others."""

from __future__ import annotations

import datetime as dt

from tests.helpers import load_and_build, scalar
from tests.test_remit_rules import era, transaction


def _undated(trace: str, production: str | None) -> list[str]:
    t = transaction("20260309", trace, [(f"C{trace}", "1", "100", "100", f"ICN{trace}", [])])
    t = [s.replace("*DA*2*20260309", "*DA*2*") if s.startswith("BPR") else s for s in t]  # BPR16 empty
    if production:
        t.insert(3, f"DTM*405*{production}")
    t[-1] = f"SE*{len(t)}*0001"
    return t


def test_payment_date_from_dtm405_and_a_file_without_any_date_quarantined_alone(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    for i in range(23):
        (landing / f"good{i:02d}.835").write_text(
            era([transaction("20260309", f"T{i}", [(f"G{i}", "1", "50", "50", f"I{i}", [])])], i + 1))
    (landing / "bpr16_empty_dtm405.835").write_text(era([_undated("X1", "20260308")], 90))
    (landing / "no_payment_date.835").write_text(era([_undated("X2", None)], 91))
    con = load_and_build(landing, tmp_path / "w.duckdb", dt.date(2026, 3, 29))
    status = dict(con.execute("SELECT file_name, status FROM audit.file_manifest").fetchall())
    assert status.pop("no_payment_date.835") == "quarantined"
    assert set(status.values()) == {"loaded"} and len(status) == 24
    assert con.execute("SELECT error_code, location FROM audit.quarantine").fetchall() == [
        ("missing_payment_date", "segment 10 (SE), element BPR16")]
    assert scalar(con, "SELECT payment_date FROM staging.stg_remit_claims WHERE claim_id = 'CX1'") == dt.date(2026, 3, 8)
    assert con.execute("SELECT code FROM audit.load_findings JOIN audit.file_manifest USING (file_id) "
                       "WHERE file_name = 'bpr16_empty_dtm405.835'").fetchall() == [("payment_date_from_dtm405",)]
    # the whole batch is modelled: 24 payments adjudicated
    assert scalar(con, "SELECT sum(claims_adjudicated) FROM marts.mart_weekly_kpis") == 24


def test_extreme_dates_are_bad_values_with_line_and_column(tmp_path):
    import shutil

    from tests.conftest import TINY

    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    header = (landing / "claims" / "claims.csv").read_text().splitlines()[0]
    cols = header.split(",")
    row = dict.fromkeys(cols, "")
    row.update(claim_id="E1", claim_type="professional", frequency_code="1", submission_date="2026-03-03",
               service_from="0001-01-01", total_charge="10.00", payer_id="P1")
    (landing / "claims" / "claims_extreme.csv").write_text(header + "\n" + ",".join(row[c] for c in cols) + "\n")
    row.update(claim_id="E2", service_from="2026-03-02", submission_date="9999-12-31")
    (landing / "claims" / "claims_future.csv").write_text(header + "\n" + ",".join(row[c] for c in cols) + "\n")
    (landing / "remittances" / "year1.835").write_text(
        era([transaction("00010101", "TY1", [("C1", "1", "100", "70", "ICN1", ["CAS*CO*45*20", "CAS*PR*2*10"])])], 77))
    con = load_and_build(landing, tmp_path / "w.duckdb", dt.date(2026, 3, 29))
    q = dict((r[0], r[1:]) for r in con.execute("SELECT file_name, location, message FROM audit.quarantine").fetchall())
    assert q["claims_extreme.csv"] == ("line 2, column service_from", "a date as YYYY-MM-DD from 1900-01-01 to 2099-12-31")
    assert q["claims_future.csv"] == ("line 2, column submission_date", "a date as YYYY-MM-DD from 1900-01-01 to 2099-12-31")
    assert q["year1.835"][1] == "a date CCYYMMDD from 19000101 to 20991231" and "BPR16" in q["year1.835"][0]
    # the calendar stays the tiny data's weeks
    assert scalar(con, "SELECT count(*) FROM intermediate.int_calendar_weeks") < 20


def test_the_plausible_date_range_is_a_setting(tmp_path, monkeypatch):
    from transforms.x12 import values

    monkeypatch.setenv("DENIALS_DATE_RANGE", "2020-01-01..2030-12-31")
    assert values.date_range() == (dt.date(2020, 1, 1), dt.date(2030, 12, 31))
    monkeypatch.setenv("DENIALS_DATE_RANGE", "soon")
    import pytest

    from transforms.errors import ConfigError

    with pytest.raises(ConfigError, match="DENIALS_DATE_RANGE"):
        values.date_range()


def test_links_fifos_and_folders_are_passed_over_and_recorded(tmp_path):
    import os
    import shutil

    from tests.conftest import TINY
    from transforms import warehouse
    from transforms.ingest import loader

    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    outside = tmp_path / "secret.csv"
    outside.write_text("claim_id\nX\n")
    os.symlink(outside, landing / "outside_link.csv")
    os.symlink(tmp_path / "missing.835", landing / "dangling.835")
    os.symlink(landing / "claims" / "claims.csv", landing / "inside_link.csv")  # inside: the same content, loaded once
    os.mkfifo(landing / "pipe.835")
    (landing / "folder.835").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "claims_x.csv").write_text("claim_id\nY\n")
    os.symlink(tmp_path / "elsewhere", landing / "linked_folder")
    paths, skipped = loader.scan(landing)
    assert {(s.path, s.reason) for s in skipped} == {
        ("outside_link.csv", "symlink_outside_landing"), ("dangling.835", "dangling_symlink"),
        ("pipe.835", "not_a_regular_file"), ("folder.835", "folder_named_like_a_file"),
        ("linked_folder", "symlink_to_a_folder")}
    assert all(tmp_path / "landing" in p.parents for p in paths) and landing / "inside_link.csv" in paths
    con = warehouse.connect(tmp_path / "w.duckdb")
    result = loader.load_batch(con, paths, __import__("transforms.ingest.phi", fromlist=["x"]).MemberIdHasher(b"k" * 32))
    loader.record_skipped(con, skipped, result.batch_id)
    assert scalar(con, "SELECT count(*) FROM audit.skipped_paths") == 5
    assert scalar(con, "SELECT count(*) FROM audit.file_manifest WHERE file_name = 'secret.csv'") == 0
    # seen again by a later run: one row each, last_seen moves
    loader.record_skipped(con, skipped, "b2")
    assert scalar(con, "SELECT count(*) FROM audit.skipped_paths WHERE batch_id = 'b2'") == 5


def test_encodings_are_read_when_unambiguous_and_nul_bytes_removed(tmp_path):
    import shutil

    from tests.conftest import TINY

    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    header = (landing / "claims" / "claims.csv").read_text().splitlines()[0]
    cols = header.split(",")

    def claim(cid: str, dept: str) -> str:
        row = dict.fromkeys(cols, "")
        row.update(claim_id=cid, claim_type="professional", frequency_code="1", submission_date="2026-03-03",
                   service_from="2026-03-02", total_charge="10.00", payer_id="P1", department=dept)
        return header + "\r\n" + ",".join(row[c] for c in cols) + "\r\n"

    (landing / "claims" / "u16bom.csv").write_bytes(claim("U1", "PÉDIATRIE").encode("utf-16"))
    (landing / "claims" / "u16le.csv").write_bytes(claim("U2", "CARD").encode("utf-16-le"))
    (landing / "claims" / "latin1.csv").write_bytes(claim("L1", "PÉDIATRIE").encode("latin-1"))
    (landing / "claims" / "cp1252.csv").write_bytes(claim("W1", "CARD–NORTH").encode("cp1252"))  # en dash: 0x96
    (landing / "claims" / "nul.csv").write_bytes(claim("N1", "CA\x00RD").encode())
    (landing / "remittances" / "u16.835").write_bytes(
        era([transaction("20260310", "TU", [("C1", "1", "100", "70", "ICNU", ["CAS*CO*45*20", "CAS*PR*2*10"])])], 55).encode("utf-16"))
    con = load_and_build(landing, tmp_path / "w.duckdb", dt.date(2026, 3, 29))
    assert scalar(con, "SELECT count(*) FROM audit.file_manifest WHERE status <> 'loaded'") == 0
    depts = dict(con.execute("SELECT claim_id, department FROM staging.stg_claims WHERE claim_id IN ('U1','U2','L1','W1','N1')").fetchall())
    assert depts == {"U1": "PÉDIATRIE", "U2": "CARD", "L1": "PÉDIATRIE", "W1": "CARD–NORTH", "N1": "CARD"}
    found = {(r[0], r[1]) for r in con.execute(
        "SELECT file_name, code FROM audit.load_findings JOIN audit.file_manifest USING (file_id) "
        "WHERE code IN ('encoding_converted', 'nul_bytes_removed')").fetchall()}
    assert found == {("u16bom.csv", "encoding_converted"), ("u16le.csv", "encoding_converted"),
                     ("latin1.csv", "encoding_converted"), ("cp1252.csv", "encoding_converted"),
                     ("nul.csv", "nul_bytes_removed"), ("u16.835", "encoding_converted")}
    assert scalar(con, "SELECT count(*) FROM raw.remit_claims WHERE payment_id IN "
                       "(SELECT payment_id FROM raw.remit_payments WHERE trace_number = 'TU')") == 1
    # the manifest keeps the file as received (its sha256), not the converted copy
    import hashlib
    assert scalar(con, "SELECT sha256 FROM audit.file_manifest WHERE file_name = 'u16.835'") == \
        hashlib.sha256((landing / "remittances" / "u16.835").read_bytes()).hexdigest()


def test_a_huge_csv_field_and_a_huge_x12_file_are_refused_with_bounded_memory(tmp_path, monkeypatch):
    import resource
    import shutil

    from tests.conftest import TINY

    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    header = (landing / "claims" / "claims.csv").read_text().splitlines()[0]
    cols = header.split(",")
    row = dict.fromkeys(cols, "")
    row.update(claim_id="B1", claim_type="professional", frequency_code="1", submission_date="2026-03-03",
               service_from="2026-03-02", total_charge="10.00", payer_id="P1")
    with open(landing / "claims" / "claims_big.csv", "w") as f:  # one record whose field is 40 MB
        f.write(header + "\n")
        row["department"] = "X" * (40 * 2**20)
        f.write(",".join(row[c] for c in cols) + "\n")
    monkeypatch.setenv("DENIALS_MAX_X12_MB", "1")
    big835 = era([transaction("20260310", f"TB{i}", [(f"C{i}", "1", "10", "10", f"I{i}", [])], f"{i:04d}")
                  for i in range(1, 6000)], 88)
    (landing / "remittances" / "big.835").write_text(big835)
    assert (landing / "remittances" / "big.835").stat().st_size > 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    con = load_and_build(landing, tmp_path / "w.duckdb", dt.date(2026, 3, 29))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    q = dict((r[0], r[1:]) for r in con.execute("SELECT file_name, error_code, location FROM audit.quarantine").fetchall())
    assert q["claims_big.csv"] == ("line_too_long", "line 2")  # was: loaded with 0 rows, no finding
    assert q["big.835"][0] == "file_too_large"
    assert scalar(con, "SELECT count(*) FROM audit.file_manifest WHERE status = 'loaded'") == 6  # the tiny files
    assert grown_mb < 200, grown_mb


def test_a_warehouse_file_named_like_a_schema_is_refused_in_one_line(tmp_path):
    import pytest

    from transforms import warehouse

    with pytest.raises(warehouse.WarehouseError, match="clashes with the warehouse's schema"):
        warehouse.check_path(tmp_path / "ref.duckdb")
    warehouse.check_path(tmp_path / "denials.duckdb")
