"""NPIs carry valid check digits; the synthetic PHI is where PHI-handling tests expect it."""

from __future__ import annotations

from pathlib import Path

from datagen.npi import is_valid_npi, npi_check_digit
from tests.datagen.helpers import read_csv, segments


def luhn_ok(npi: str) -> bool:
    """Independent check: Luhn over 80840 + the 10 digits."""
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return total % 10 == 0


def test_known_npi() -> None:
    assert npi_check_digit("123456789") == 3  # CMS's worked example: 1234567893
    assert is_valid_npi("1234567893")
    assert not is_valid_npi("1234567890")


def test_every_npi_in_the_outputs_is_valid(dataset: Path) -> None:
    npis: set[str] = set()
    for c in read_csv(dataset / "claims/claims.csv"):
        npis.add(c["billing_npi"])
        if c["rendering_npi"]:
            npis.add(c["rendering_npi"])
    for folder, ids in (
        ("claims_837", {"85", "82", "71", "77"}),
        ("remittances", {"PE"}),
    ):
        for path in sorted((dataset / folder).iterdir()):
            for s in segments(path):
                if s[0] == "NM1" and s[1] in ids and len(s) > 9:
                    assert s[8] == "XX"
                    npis.add(s[9])
                if s[0] == "N1" and s[1] in ids:
                    npis.add(s[4])
    assert len(npis) > 30
    bad = sorted(n for n in npis if not (len(n) == 10 and n.isdigit() and luhn_ok(n)))
    assert bad == []


def test_phi_samples_appear_in_every_format(dataset: Path, truth: dict) -> None:
    phi = truth["phi_samples"]
    assert len(phi["member_ids"]) >= 5
    claims_text = (dataset / "claims/claims.csv").read_text()
    x837 = "".join(
        p.read_text() for p in sorted((dataset / "claims_837").glob("*.837"))
    )
    x835 = "".join(
        p.read_text() for p in sorted((dataset / "remittances").glob("*.835"))
    )
    remit_csv = (dataset / "remittances_csv/remit_claims.csv").read_text()
    for name, member in zip(phi["patient_names"], phi["member_ids"], strict=True):
        last, first = name.split(", ")
        assert name in claims_text and member in claims_text
        assert f"NM1*IL*1*{last}*{first}****MI*{member}" in x837
        assert member in x835 and member in remit_csv
    assert any(f"NM1*QC*1*{n.split(', ')[0]}*" in x835 for n in phi["patient_names"])
    for dob in phi["birth_dates"]:
        assert dob in claims_text
    rows = read_csv(dataset / "claims/claims.csv")
    assert all(r["member_id"].startswith("ZZM") for r in rows)
    assert all(
        r["patient_name"].startswith("ZZ") and ", TEST" in r["patient_name"]
        for r in rows
    )
