"""Practice-management exports read through the example mapping files in mappings/."""

from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.helpers import TEST_KEY, scalar
from transforms import warehouse
from transforms.errors import ConfigError, InputFileError
from transforms.ingest import loader, mapping
from transforms.ingest.phi import MemberIdHasher

DATA = Path(__file__).parent / "data" / "mapped"


def test_example_mappings_load():
    names = {m.name for m in mapping.load_mappings()}
    assert names == {"flat_charge_export", "payment_posting_export"}


def test_flat_charge_export_becomes_claims_and_lines(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    result = loader.load_batch(con, [DATA / "charges_export.csv"], MemberIdHasher(TEST_KEY))
    assert result.files[0].status == "loaded", result.files[0].error
    assert result.files[0].kind == "mapped_csv:flat_charge_export"
    claims = con.execute(
        "SELECT claim_id, claim_type, frequency_code, original_claim_id, submission_date::VARCHAR, total_charge, payer_type, source_row "
        "FROM raw.claims ORDER BY claim_id").fetchall()
    assert claims == [
        ("M1", "professional", "1", None, "2026-03-03", D("1250.00"), "commercial", 2),
        ("M2", "institutional", "7", "M0", "2026-03-05", D("80.00"), "medicare", 4),
    ]
    lines = con.execute("SELECT claim_id, line_number, procedure_code, modifiers, line_charge, source_row FROM raw.claim_lines ORDER BY 1, 2").fetchall()
    assert lines == [("M1", 1, "93306", None, D("1000.00"), 2), ("M1", 2, "99213", "25", D("250.00"), 3), ("M2", 1, "20610", "RT", D("80.00"), 4)]
    assert scalar(con, "SELECT count(*) FROM raw.claims WHERE member_id_hash IS NULL") == 0


def test_payment_posting_export_becomes_remittances(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    result = loader.load_batch(con, [DATA / "postings_export.csv"], MemberIdHasher(TEST_KEY))
    assert result.files[0].status == "loaded", result.files[0].error
    rc = con.execute("SELECT remit_claim_id, claim_id, status_code, charge_amount, paid_amount FROM raw.remit_claims ORDER BY 1").fetchall()
    assert rc == [("PST1", "M1", "1", D("1250.00"), D("900.00")), ("PST2", "M2", "4", D("80.00"), D("0.00")),
                  ("PST3", "M3", "1", D("40.00"), D("40.00")), ("PST4", "M2", "22", D("-80.00"), D("0.00"))]
    adj = con.execute("SELECT remit_claim_id, group_code, carc, amount FROM raw.remit_adjustments ORDER BY source_row").fetchall()
    assert adj == [("PST1", "CO", "45", D("300.00")), ("PST1", "PR", "2", D("50.00")), ("PST2", "CO", "197", D("80.00")),
                   ("PST4", "CO", "197", D("-80.00"))]
    # payments are per payer and trace number: (P1, CHK9), (MCR, CHK9), (MCR, CHK10)
    assert scalar(con, "SELECT count(*) FROM raw.remit_payments") == 3


def test_bad_value_names_source_line_and_both_columns(tmp_path):
    bad = tmp_path / "charges_export.csv"
    bad.write_text((DATA / "charges_export.csv").read_text().replace("03/05/2026", "2026/03/05"))
    with pytest.raises(InputFileError) as e:
        loader.parse_file(bad, "f" * 16, MemberIdHasher(TEST_KEY))
    assert e.value.location == "line 4, column submission_date (source column 'Bill Date')"
    assert "YYYY-MM-DD" in e.value.expected


def test_mapping_errors_are_config_errors(tmp_path):
    (tmp_path / "m.yaml").write_text("name: x\nmatch: {required_columns: [a]}\noutputs:\n  - target: claims\n    columns: {claim_id: a}\n")
    with pytest.raises(ConfigError, match="claims needs columns"):
        mapping.load_mapping(tmp_path / "m.yaml")


def test_user_mapping_folder(tmp_path):
    folder = tmp_path / "maps"
    folder.mkdir()
    shutil.copy(Path(mapping.DEFAULT_MAPPINGS_DIR) / "payment_posting_export.yaml", folder / "mine.yaml")
    other = tmp_path / "w.csv"
    other.write_text("Claim,Date,Amt,Why\nC1,2026-03-01,5.00,small_balance\n")
    (folder / "wo.yaml").write_text(
        "name: writeoffs\nmatch: {required_columns: [Claim, Date, Amt, Why]}\noutputs:\n"
        "  - target: write_offs\n    columns: {claim_id: Claim, writeoff_date: Date, amount: Amt, reason: Why}\n")
    parsed = loader.parse_file(other, "f" * 16, MemberIdHasher(TEST_KEY), folder)
    assert parsed.kind == "mapped_csv:writeoffs"
    assert parsed.tables["write_offs"].num_rows == 1
