"""X12 files: every 835 balances; a sample of 835 and 837 files passes pyx12 validation."""

from __future__ import annotations

import io
import json
import logging
import re
from decimal import Decimal
from pathlib import Path

from tests.datagen.helpers import Generated, Transaction, segments


def test_every_835_balances(generated: Generated) -> None:
    remittances = generated.remittances
    assert remittances
    n_claims = n_lines = 0
    for st in remittances:
        for clp in st.claims:
            n_claims += 1
            for svc in clp.lines:
                n_lines += 1
                assert svc.charge - sum(a for _, _, a in svc.adjustments) == svc.paid, (
                    clp.file,
                    clp.claim_id,
                )
            total_cas = sum(a for _, _, a in clp.all_adjustments())
            assert clp.charge - total_cas == clp.paid, (clp.file, clp.claim_id)
            assert clp.lines == [] or sum(s.charge for s in clp.lines) == clp.charge
            assert clp.lines == [] or sum(s.paid for s in clp.lines) == clp.paid
            pr = sum(a for g, _, a in clp.all_adjustments() if g == "PR")
            assert pr == clp.patient_resp, (clp.file, clp.claim_id)
        paid = sum(c.paid for c in st.claims)
        plb = sum(a for _, _, a in st.plb)
        assert paid - plb == st.bpr02, st.file
        assert st.bpr02 >= 0
    assert n_claims > 1000 and n_lines > 1000


def test_835_shapes_an_analyst_expects(remittances: list[Transaction]) -> None:
    claims = [c for st in remittances for c in st.claims]
    statuses = {c.status for c in claims}
    assert {"1", "2", "4", "19", "22"} <= statuses
    zero_paid_denials = [c for c in claims if c.status == "1" and c.paid == 0]
    assert zero_paid_denials, "denials sent as CLP02=1 with nothing paid"
    assert all(c.charge < 0 and c.paid <= 0 for c in claims if c.status == "22")
    assert any(
        g == "OA" and r == "23"
        for c in claims
        if c.status == "2"
        for g, r, _ in c.all_adjustments()
    )
    reasons = {r for st in remittances for r, _, _ in st.plb}
    assert {"L6", "WO"} <= reasons
    assert all(a < 0 for st in remittances for r, _, a in st.plb if r == "L6")
    assert all(a > 0 for st in remittances for r, _, a in st.plb if r == "WO")
    assert any(c.lines == [] for c in claims), (
        "some claims adjudicated at claim level only"
    )


def test_one_file_per_payer_per_payment_date(dataset: Path) -> None:
    """PAYERID_YYYYMMDD.835 holds the payer's payments of that date; PAYERID_YYYYMMDD_resent.835
    is the copy of the file of 7 days before that the payer sent again on that date."""
    paths = sorted((dataset / "remittances").glob("*.835"))
    resent = [p for p in paths if p.stem.endswith("_resent")]
    assert resent
    for path in paths[:40] + resent:
        payer, day, *suffix = path.stem.split("_")
        segs = list(segments(path))
        paid_on = {s[16] for s in segs if s[0] == "BPR"}
        if suffix:
            assert suffix == ["resent"]
            assert (dataset / "remittances" / f"{payer}_{paid_on.pop()}.835").exists()
            assert not paid_on
        else:
            assert paid_on == {day}
        assert {s[4] for s in segs if s[0] == "GS"} == {day}
        assert {s[4] for s in segs if s[0] == "N1" and s[1] == "PR"} == {payer}


def test_837_totals_match_claims_csv(dataset: Path) -> None:
    from tests.datagen.helpers import read_csv

    claims = {
        c["claim_id"]: c
        for c in read_csv(dataset / "claims/claims.csv")
        if c["payer_type"] != "self_pay"
    }
    seen: dict[str, Decimal] = {}
    versions = set()
    for path in sorted((dataset / "claims_837").glob("*.837")):
        for s in segments(path):
            if s[0] == "GS":
                versions.add(s[8])
            if s[0] == "CLM":
                seen[s[1]] = Decimal(s[2])
                assert s[5].split(":")[2] == claims[s[1]]["frequency_code"]
    assert versions == {"005010X222A1", "005010X223A2"}
    assert set(seen) == set(claims)
    assert all(seen[k] == Decimal(claims[k]["total_charge"]) for k in claims)


# ------------------------------------------------------------------------------------------------
# pyx12
# ------------------------------------------------------------------------------------------------


def pyx12_errors(path: Path) -> list[str]:
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    fd_json = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        pyx12.params.params(), str(path), None, None, None, fd_json
    )
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for err in node.get("errors") or []:
                found.append(
                    f"{node.get('seg_id')} line {node.get('cur_line')}: {err.get('err_str')}"
                )
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(fd_json.getvalue() or "{}"))
    if not ok and not found:
        found.append("pyx12 reported the file invalid")
    return found


def _sample(dataset: Path) -> list[Path]:
    """A spread of files, including the unusual shapes (reversals, crossovers, PLB, claim-level
    Medicare institutional, corrected claims, secondary coverage, prior authorisations)."""
    remits = sorted((dataset / "remittances").glob("*.835"))
    claims = sorted((dataset / "claims_837").glob("*.837"))
    prof = [p for p in claims if p.name.endswith("P.837")]
    inst = [p for p in claims if p.name.endswith("I.837")]
    chosen: list[Path] = []

    def first(paths: list[Path], pattern: str) -> None:
        rx = re.compile(pattern)
        for p in paths:
            if p not in chosen and rx.search(p.read_text()):
                chosen.append(p)
                return

    for pattern in (
        r"\nCLP\*[^*]+\*22\*",
        r"\nCLP\*[^*]+\*19\*",
        r"\nCLP\*[^*]+\*2\*",
        r"\nCLP\*[^*]+\*4\*",
        "FB:",
        "WO:",
        "L6:",
        r"\*MA\*[A-Z0-9]+\*13\*",
        r"CAS\*PR\*(27|31|32|96|204)\*",  # a coverage denial shifted to the patient
        r"\nCLP\*[^*]+\*4\*[^~]*~\nCAS\*OA\*23\*",  # a secondary's CLP02=4, no denial CARC
    ):
        first(remits, pattern)
    chosen += [p for p in remits if p.stem.endswith("_resent")][:1]
    split = re.compile(r"\nCLP\*([^*]+)\*1\*[^~]*~\n(?:(?!CLP\*)[^\n]*\n)*CLP\*\1\*1\*")
    first(remits, split.pattern)  # a split claim: the same CLP01 in two CLP loops in a row
    first(prof, r":B:7\*")
    first(inst, r":A:7\*")
    first(prof, r"SBR\*S\*")
    first(inst, r"SBR\*S\*")
    first(prof, r"REF\*G1\*")
    chosen += [remits[len(remits) // 2], claims[len(claims) // 2]]
    return list(dict.fromkeys(chosen))


def test_sample_is_varied(dataset: Path) -> None:
    sample = _sample(dataset)
    assert len([p for p in sample if p.suffix == ".835"]) >= 6
    assert len([p for p in sample if p.suffix == ".837"]) >= 4


def test_pyx12_accepts_sample(dataset: Path) -> None:
    problems = {}
    for path in _sample(dataset):
        errors = pyx12_errors(path)
        if errors:
            problems[path.name] = errors[:5]
    assert problems == {}


def test_pyx12_catches_a_broken_file(dataset: Path, tmp_path: Path) -> None:
    """The validator used above does report errors (guards against a silent pass)."""
    src = min((dataset / "remittances").glob("*.835"))
    bad = tmp_path / "bad.835"
    text = src.read_text()
    bad.write_text(
        text.replace("CLP*CL", "CLP*", 1)
        .replace("*1*", "*Q*", 1)
        .replace("\nLX*1~", "\n", 1)
    )
    assert pyx12_errors(bad)
