"""Canonical CSV ingestion: exact loading, manifest, idempotency, quarantine, PHI."""

from __future__ import annotations

import os
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.helpers import TEST_KEY, scalar
from transforms import warehouse
from transforms.errors import InputFileError
from transforms.ingest import csv_canonical, loader
from transforms.ingest.phi import MemberIdHasher

HASH = MemberIdHasher(TEST_KEY)


def load(landing: Path, db: Path):
    con = warehouse.connect(db)
    return con, loader.load_batch(con, loader.discover(landing), HASH)


def table_counts(con) -> dict[str, int]:
    names = [r[0] for r in con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name IN ('raw', 'audit') ORDER BY 1").fetchall()]
    return {n: scalar(con, f"SELECT count(*) FROM {n}") for n in names}


def test_loads_every_canonical_file_with_exact_money(tiny_landing, tmp_path):
    con, result = load(tiny_landing, tmp_path / "w.duckdb")
    assert result.count("loaded") == 6 and result.count("quarantined") == 0
    assert scalar(con, "SELECT sum(total_charge) FROM raw.claims") == D("3620.00")
    assert scalar(con, "SELECT typeof(total_charge) FROM raw.claims LIMIT 1") == "DECIMAL(18,2)"
    kinds = dict(con.execute("SELECT file_name, file_kind FROM audit.file_manifest").fetchall())
    assert kinds["claims.csv"] == "claims_csv" and kinds["remit_adjustments.csv"] == "remit_adjustments_csv"
    # lineage: every raw row names its file and its line
    assert scalar(con, "SELECT min(source_row) FROM raw.claims") == 2
    assert scalar(con, "SELECT count(*) FROM raw.claims c JOIN audit.file_manifest m USING (file_id)") == 11


def test_loading_the_same_files_twice_changes_nothing(tiny_landing, tmp_path):
    con, _ = load(tiny_landing, tmp_path / "w.duckdb")
    before = table_counts(con)
    result = loader.load_batch(con, loader.discover(tiny_landing), HASH)
    assert result.count("skipped") == 6 and result.count("loaded") == 0
    assert table_counts(con) == before
    # a renamed copy of a loaded file is the same content: skipped too
    shutil.copy(tiny_landing / "claims" / "claims.csv", tiny_landing / "claims" / "claims_copy.csv")
    result = loader.load_batch(con, loader.discover(tiny_landing), HASH)
    assert [f.path.name for f in result.files if f.status == "loaded"] == []
    assert table_counts(con) == before


def test_files_unchanged_since_loaded_are_not_read_again(tiny_landing, tmp_path, monkeypatch):
    """A file at the path, size and modification time the manifest recorded is skipped without
    being hashed; a file changed in place (same size, new time) is hashed and loaded; one only
    touched (same content, new time) is hashed and skipped."""
    con, _ = load(tiny_landing, tmp_path / "w.duckdb")
    hashed = []
    real = loader.sha256_of
    monkeypatch.setattr(loader, "sha256_of", lambda p: hashed.append(p.name) or real(p))
    result = loader.load_batch(con, loader.discover(tiny_landing), HASH)
    assert result.count("skipped") == 6 and hashed == []

    claims = tiny_landing / "claims" / "claims.csv"
    text = claims.read_text()
    changed = text.replace(",300.00,", ",300.01,", 1)
    assert changed != text and len(changed) == len(text)
    mtime = claims.stat().st_mtime_ns
    claims.write_text(changed)
    os.utime(claims, ns=(mtime + 1_000, mtime + 1_000))
    result = loader.load_batch(con, loader.discover(tiny_landing), HASH)
    assert hashed == ["claims.csv"]
    assert [f.path.name for f in result.files if f.status == "loaded"] == ["claims.csv"]

    hashed.clear()
    lines = tiny_landing / "claims" / "claim_lines.csv"
    os.utime(lines, ns=(mtime + 2_000, mtime + 2_000))
    result = loader.load_batch(con, loader.discover(tiny_landing), HASH)
    assert hashed == ["claim_lines.csv"] and result.count("loaded") == 0


@pytest.mark.parametrize(
    "mutate, code, location, expected",
    [
        (lambda t: t.replace("total_charge", "charge_total"), "missing_column", "line 1 (header)", "total_charge"),
        (lambda t: t.replace(",300.00,", ",3OO.00,"), "bad_value", "line 4, column total_charge", "an amount like"),
        (lambda t: t.replace(",150.00,", ",150.005,"), "bad_value", "line 5, column total_charge", "at most two decimals"),
        (lambda t: t.replace("2026-03-04,2026-03-03", "03/04/2026,2026-03-03", 1), "bad_value", "line 4, column submission_date", "YYYY-MM-DD"),
        (lambda t: t.replace("C7,professional", "C7,dental"), "bad_value", "column claim_type", "professional, institutional"),
        (lambda t: t.replace("\nC1,professional,1,", "\n,professional,1,"), "missing_value", "line 2, column claim_id", "required"),
        (lambda t: t.replace("2026-03-17,2026-03-16", "2026-02-30,2026-03-16"), "bad_value", "column submission_date", "YYYY-MM-DD"),
        # too large for DECIMAL(18,2): refused with its place, not by a failing cast of the whole batch
        (lambda t: t.replace(",300.00,", ",99999999999999999.99,"), "bad_value", "line 4, column total_charge", "below 10^16"),
        (lambda t: t.replace("\n", ",\n", 1), "empty_column_name", "line 1 (header), column", "a name for every column"),
    ],
)
def test_bad_file_is_quarantined_with_place_and_expectation(tiny_landing, tmp_path, mutate, code, location, expected):
    path = tiny_landing / "claims" / "claims.csv"
    path.write_text(mutate(path.read_text()))
    with pytest.raises(InputFileError) as e:
        csv_canonical.parse_canonical_csv(path, csv_canonical.SPECS["claims_csv"], "f" * 16, HASH)
    assert e.value.code == code
    assert location in (e.value.location or "")
    assert expected in e.value.expected
    assert str(e.value).startswith("claims.csv")
    # the rest of the batch loads; nothing of the bad file does
    con, result = load(tiny_landing, tmp_path / "w.duckdb")
    status = {f.path.name: f.status for f in result.files}
    assert status["claims.csv"] == "quarantined"
    assert sum(1 for s in status.values() if s == "loaded") == 5
    assert scalar(con, "SELECT count(*) FROM raw.claims") == 0
    q = con.execute("SELECT file_name, error_code, location FROM audit.quarantine").fetchall()
    assert q == [("claims.csv", code, e.value.location)]
    assert scalar(con, "SELECT status FROM audit.file_manifest WHERE file_name = 'claims.csv'") == "quarantined"


def test_malformed_rows_do_not_leak_row_content(tiny_landing, tmp_path):
    path = tiny_landing / "claims" / "claims.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3] + ",EXTRA,ZZTEST LEAKY"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError) as e:
        csv_canonical.parse_canonical_csv(path, csv_canonical.SPECS["claims_csv"], "f" * 16, HASH)
    assert e.value.code == "malformed_csv"
    assert "ZZTEST" not in str(e.value) and "ZZM" not in str(e.value)


def test_unrecognised_and_empty_files_are_quarantined(tiny_landing, tmp_path):
    (tiny_landing / "notes.csv").write_text("a,b\n1,2\n")
    (tiny_landing / "empty.835").write_bytes(b"")
    (tiny_landing / "junk.bin").write_bytes(bytes(range(256)))
    con, result = load(tiny_landing, tmp_path / "w.duckdb")
    codes = dict(con.execute("SELECT file_name, error_code FROM audit.quarantine").fetchall())
    assert codes == {"notes.csv": "unrecognised_csv", "empty.835": "empty_file", "junk.bin": "unrecognised_file"}
    assert result.count("loaded") == 6


def test_semicolon_separated_and_bom_accepted(tiny_landing, tmp_path):
    path = tiny_landing / "claims" / "write_offs.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_text().replace(",", ";").encode())
    con, result = load(tiny_landing, tmp_path / "w.duckdb")
    assert result.count("quarantined") == 0
    assert scalar(con, "SELECT amount FROM raw.write_offs") == D("250.00")


def test_unknown_columns_are_reported_not_fatal(tiny_landing, tmp_path):
    path = tiny_landing / "claims" / "write_offs.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",posted_by", lines[1] + ",JDOE"]) + "\n")
    con, _ = load(tiny_landing, tmp_path / "w.duckdb")
    assert con.execute("SELECT code, message FROM audit.load_findings").fetchall() == [("unknown_column", "columns ignored: posted_by")]


def test_batch_is_one_transaction(tiny_landing, tmp_path, monkeypatch):
    """A failure while writing the batch leaves the warehouse exactly as before it."""
    con, _ = load(tiny_landing / "claims", tmp_path / "w.duckdb")
    before = table_counts(con)
    calls = {"n": 0}
    real_insert = loader._insert

    def failing_insert(con_, table, data):
        calls["n"] += 1
        if calls["n"] == 3:  # fail in the middle of the batch
            raise OSError("disk full (injected)")
        real_insert(con_, table, data)

    monkeypatch.setattr(loader, "_insert", failing_insert)
    with pytest.raises(OSError):
        loader.load_batch(con, loader.discover(tiny_landing), HASH)
    assert table_counts(con) == before


def test_phi_never_reaches_the_warehouse(tiny_landing, tmp_path):
    con, _ = load(tiny_landing, tmp_path / "w.duckdb")
    cols = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw'").fetchall()}
    assert not cols & {"patient_name", "patient_birth_date", "member_id"}
    # no text column of any table holds a synthetic name, member id or birth date
    text_cols = con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR' AND NOT internal"
    ).fetchall()
    for schema, table, col in text_cols:
        hits = scalar(con, f"""SELECT count(*) FROM {schema}.{table}
                              WHERE "{col}" LIKE '%ZZTEST%' OR "{col}" LIKE '%ZZM0%' OR "{col}" LIKE '%1950-01-01%'""")
        assert hits == 0, f"{schema}.{table}.{col}"
    assert scalar(con, "SELECT member_id_hash FROM raw.claims WHERE claim_id = 'C1'") == HASH("ZZM0001")


def test_member_id_hash_is_keyed():
    assert MemberIdHasher(b"k" * 32)("ZZM0001") != MemberIdHasher(b"j" * 32)("ZZM0001")
    assert MemberIdHasher(b"k" * 32)(" ZZM0001 ") == MemberIdHasher(b"k" * 32)("ZZM0001")
    assert len(HASH("ZZM0001")) == 32


def _claims_with(changes: dict[tuple[int, str], str]) -> str:
    """The tiny claims.csv with values replaced: {(line number, column): value}."""
    header, *rows = CLAIMS_TEXT.splitlines()
    cols = header.split(",")
    rows = [r.split(",") for r in rows]
    for (line, col), value in changes.items():
        rows[line - 2][cols.index(col)] = value
    return "\n".join([header] + [",".join(r) for r in rows]) + "\n"


CLAIMS_TEXT = (Path(__file__).parent / "data" / "tiny" / "claims" / "claims.csv").read_text()


@pytest.mark.parametrize(
    "changes, code, location",
    [
        # columns are checked in the spec's order: an earlier column's error wins over an earlier line
        ({(3, "total_charge"): "1.5.0", (9, "claim_type"): "dental"}, "bad_value", "line 9, column claim_type"),
        # in a column: required, then the pattern, then the closed set, each at its first line
        ({(4, "submission_date"): "04/03/2026", (8, "submission_date"): ""}, "missing_value", "line 8, column submission_date"),
        ({(4, "claim_type"): "dental", (10, "claim_type"): " "}, "missing_value", "line 10, column claim_type"),
        ({(6, "service_to"): "2026-02-30", (5, "service_to"): "2026-3-4"}, "bad_value", "line 5, column service_to"),
        ({(7, "payer_sequence"): "Q", (12, "total_charge"): "-"}, "bad_value", "line 12, column total_charge"),
        ({(7, "payer_sequence"): "Q", (3, "payer_sequence"): "p", (11, "billing_npi"): "x"}, "bad_value", "line 3, column payer_sequence"),
    ],
)
def test_of_several_bad_values_the_first_check_in_column_order_is_reported(tmp_path, changes, code, location):
    path = tmp_path / "claims.csv"
    path.write_text(_claims_with(changes))
    with pytest.raises(InputFileError) as e:
        csv_canonical.parse_canonical_csv(path, csv_canonical.SPECS["claims_csv"], "f" * 16, HASH)
    assert (e.value.code, e.value.location) == (code, location)


def test_values_are_trimmed_and_blank_optional_values_take_their_default(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text(_claims_with({
        (2, "total_charge"): " 100.00 ", (2, "submission_date"): " 2026-03-03", (3, "frequency_code"): "  ",
        (3, "payer_name"): "   ", (2, "member_id"): "  ZZM0001 ", (4, "member_id"): "",
    }))
    t = csv_canonical.parse_canonical_csv(path, csv_canonical.SPECS["claims_csv"], "f" * 16, HASH).tables["claims"]
    rows = t.to_pylist()
    assert rows[0]["total_charge"] == D("100.00") and str(rows[0]["submission_date"]) == "2026-03-03"
    assert rows[1]["frequency_code"] == "1" and rows[1]["payer_name"] is None
    assert rows[0]["member_id_hash"] == HASH("ZZM0001") and rows[2]["member_id_hash"] is None
    # the same member on two lines (C2 and its replacement C2R1): one hash
    assert rows[1]["member_id_hash"] == rows[6]["member_id_hash"] == HASH("ZZM0002")
    assert [r["source_row"] for r in rows] == list(range(2, 13))
    # any callable hashes (not only MemberIdHasher)
    t = csv_canonical.parse_canonical_csv(path, csv_canonical.SPECS["claims_csv"], "f" * 16, lambda v: "h-" + v).tables["claims"]
    assert t.column("member_id_hash").to_pylist()[:3] == ["h-ZZM0001", "h-ZZM0002", None]


def test_duplicate_claims_name_the_lines_of_the_first_five(tmp_path):
    header, *rows = CLAIMS_TEXT.splitlines()
    c = {r.split(",")[0]: r for r in rows}
    blank_freq = c["C3"].replace(",1,,", ",,,", 1)  # no frequency code on both lines: still the same key
    lines = [c["C1"], c["C2"], c["C1"], blank_freq, blank_freq, c["C4"], c["C5"], c["C5"], c["C5"],
             c["C6"], c["C6"], c["C7"], c["C7"], c["C2"]]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([header] + lines) + "\n")
    pf = csv_canonical.parse_canonical_csv(path, csv_canonical.SPECS["claims_csv"], "f" * 16, HASH)
    (f,) = pf.findings
    assert (f.code, f.location) == ("duplicate_claim_id", "lines 2, 4; lines 3, 15; lines 5, 6; lines 8, 9, 10; lines 11, 12")
    assert f.message == "6 claim_id + submission_date + frequency_code value(s) appear on more than one line (the last one is used)"
    assert pf.rows_read == 14 and pf.tables["claims"].num_rows == 14


def _raw_rows(con) -> dict[str, list[tuple]]:
    """Every raw table's rows in the table's own order."""
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' ORDER BY 1").fetchall()]
    return {n: con.execute(f"SELECT * FROM raw.{n} ORDER BY rowid").fetchall() for n in names}


def test_rows_written_in_many_inserts_are_the_rows_of_one(tiny_landing, tmp_path, monkeypatch):
    """The batch is written while files are parsed, a table's rows in several INSERTs: the tables
    hold the same rows in the same order as with one INSERT per table."""
    extra = [tiny_landing / "claims" / f"claims_{i}.csv" for i in range(3)]
    for i, p in enumerate(extra):
        p.write_text(CLAIMS_TEXT.replace("\nC", f"\nB{i}C"))
    con, _ = load(tiny_landing, tmp_path / "one.duckdb")
    one = _raw_rows(con)
    monkeypatch.setattr(loader, "FLUSH_ROWS", 1)
    con, result = load(tiny_landing, tmp_path / "many.duckdb")
    assert result.count("loaded") == 9
    assert _raw_rows(con) == one
    assert sum(len(v) for v in one.values()) > 50


def test_a_parser_crash_rolls_back_what_was_already_written(tiny_landing, tmp_path, monkeypatch):
    con, _ = load(tiny_landing / "claims", tmp_path / "w.duckdb")
    before = table_counts(con)
    real_parse = loader.parse_file
    calls = {"n": 0}

    def crashing_parse(path, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("parser bug (injected)")
        return real_parse(path, *a, **k)

    monkeypatch.setattr(loader, "FLUSH_ROWS", 1)  # the first files' rows are inserted before the crash
    monkeypatch.setattr(loader, "parse_file", crashing_parse)
    with pytest.raises(RuntimeError, match="injected"):
        loader.load_batch(con, loader.discover(tiny_landing / "remittances"), HASH)
    assert table_counts(con) == before
    # the connection is usable and the batch loads on the next run
    monkeypatch.setattr(loader, "parse_file", real_parse)
    result = loader.load_batch(con, loader.discover(tiny_landing / "remittances"), HASH)
    assert result.count("loaded") == 3 and table_counts(con)["raw.remit_claims"] > 0


def test_an_unknown_column_called_rowid_does_not_move_the_lines(tmp_path):
    header, *rows = CLAIMS_TEXT.splitlines()
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([header + ",rowid"] + [r + ",7" for r in rows]) + "\n")
    pf = csv_canonical.parse_canonical_csv(path, csv_canonical.SPECS["claims_csv"], "f" * 16, HASH)
    assert pf.tables["claims"].column("source_row").to_pylist() == list(range(2, 13))
    assert [f.message for f in pf.findings] == ["columns ignored: rowid"]
    path.write_text(_claims_with({(4, "total_charge"): "3x"}))
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",rowid"] + [r + ",7" for r in lines[1:]]) + "\n")
    with pytest.raises(InputFileError) as e:
        csv_canonical.parse_canonical_csv(path, csv_canonical.SPECS["claims_csv"], "f" * 16, HASH)
    assert e.value.location == "line 4, column total_charge"
