"""The CSV files match docs/data-formats.md exactly; values have the documented types."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.datagen.helpers import REPO, read_csv

FILES = {
    "claims": "claims/claims.csv",
    "claim lines": "claims/claim_lines.csv",
    "remittance claims": "remittances_csv/remit_claims.csv",
    "remittance lines": "remittances_csv/remit_lines.csv",
    "remittance adjustments": "remittances_csv/remit_adjustments.csv",
    "write-offs": "claims/write_offs.csv",
}
MONEY = re.compile(r"^-?\d+\.\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def documented_columns() -> dict[str, list[tuple[str, str, str]]]:
    """Section title -> [(column, required, type)] from the markdown tables."""
    text = (REPO / "docs/data-formats.md").read_text()
    out: dict[str, list[tuple[str, str, str]]] = {}
    for block in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        title = block.split("(")[0].strip()
        rows = []
        for line in block.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if (
                line.startswith("|")
                and len(cells) >= 3
                and cells[0] not in ("column",)
                and not set(cells[0]) <= {"-"}
            ):
                rows.append((cells[0], cells[1], cells[2]))
        if rows:
            out[title] = rows
    return out


def test_every_documented_file_is_covered() -> None:
    assert set(documented_columns()) == set(FILES)


@pytest.mark.parametrize("title", sorted(FILES))
def test_header_matches_documentation(dataset: Path, title: str) -> None:
    expected = [c for c, _, _ in documented_columns()[title]]
    with (dataset / FILES[title]).open(encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split(",")
    assert header == expected


@pytest.mark.parametrize("title", sorted(FILES))
def test_values_have_documented_types(dataset: Path, title: str) -> None:
    spec = documented_columns()[title]
    rows = read_csv(dataset / FILES[title])
    assert rows, f"{FILES[title]} is empty"
    for column, required, typ in spec:
        values = [r[column] for r in rows]
        if required.startswith("yes"):
            assert all(v != "" for v in values), (
                f"{title}.{column} has empty required values"
            )
        present = [v for v in values if v != ""]
        if typ == "money":
            assert all(MONEY.match(v) for v in present), f"{title}.{column}"
        elif typ == "date" or "date" in typ.split(","):
            assert all(DATE.match(v) for v in present), f"{title}.{column}"
        elif typ == "integer":
            assert all(v.isdigit() for v in present), f"{title}.{column}"
        elif typ == "decimal":
            assert all(Decimal(v) > 0 for v in present), f"{title}.{column}"
        elif "/" in typ and typ.startswith("`"):
            allowed = set(re.findall(r"`([^`]+)`", typ))
            assert set(present) <= allowed, (
                f"{title}.{column}: {set(present) - allowed}"
            )


def test_claim_values(dataset: Path) -> None:
    claims = read_csv(dataset / "claims/claims.csv")
    ids = [c["claim_id"] for c in claims]
    assert len(ids) == len(set(ids)), "claim_id is unique per submission"
    by_id = {c["claim_id"]: c for c in claims}
    for c in claims:
        if c["frequency_code"] == "7":
            assert c["original_claim_id"] in by_id
            assert c["claim_id"] == c["original_claim_id"] + "R1"
        assert (
            c["service_from"] <= c["service_to"] <= c["submission_date"]
            or c["frequency_code"] == "7"
        )
        assert c["principal_diagnosis"] == c["diagnosis_codes"].split(";")[0]
    lines = read_csv(dataset / "claims/claim_lines.csv")
    total: dict[str, Decimal] = {}
    for x in lines:
        total[x["claim_id"]] = total.get(x["claim_id"], Decimal(0)) + Decimal(
            x["line_charge"]
        )
    assert all(total[c["claim_id"]] == Decimal(c["total_charge"]) for c in claims)
    payer_types = {c["payer_type"] for c in claims}
    assert {"medicare", "medicaid", "commercial", "self_pay"} <= payer_types
    assert len({c["payer_id"] for c in claims if c["payer_type"] == "commercial"}) >= 4
    assert len({c["department"] for c in claims}) >= 8
    assert len({c["location"] for c in claims}) >= 4


def test_adjudication_ids_unique(dataset: Path) -> None:
    ids = [
        r["adjudication_id"]
        for r in read_csv(dataset / "remittances_csv/remit_claims.csv")
    ]
    assert len(ids) == len(set(ids))
