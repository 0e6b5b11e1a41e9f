"""ground_truth.json equals totals recomputed here, independently, from the written files."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from tests.datagen.helpers import Clp, Generated, Transaction, read_csv

D = Decimal


def money(x: Decimal) -> str:
    return f"{x:.2f}"


def iso_week(day: str) -> str:
    y, w, _ = date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def clps(remittances: list[Transaction]) -> list[Clp]:
    return [c for st in remittances for c in st.claims]


def is_denial(group: str, carc: str, table: dict[str, tuple[str, bool]]) -> bool:
    return group in ("CO", "PI", "OA") and table.get(carc, ("unmapped", True))[1]


def test_claim_totals(generated: Generated) -> None:
    dataset, truth = generated.path, generated.truth
    claims = read_csv(dataset / "claims/claims.csv")
    t = truth["claims"]
    assert t["submissions"] == len(claims)
    assert t["original_submissions"] == sum(c["frequency_code"] == "1" for c in claims)
    assert t["resubmissions"] == sum(c["frequency_code"] == "7" for c in claims)
    assert t["total_billed_charges"] == money(sum(D(c["total_charge"]) for c in claims))
    assert t["claim_lines"] == len(read_csv(dataset / "claims/claim_lines.csv"))
    assert t["original_submissions"] == truth["generator"]["claims"]


def test_remittance_totals(generated: Generated) -> None:
    remittances, truth = generated.remittances, generated.truth
    t = truth["remittances"]
    cs = clps(remittances)
    assert t["transactions"] == len(remittances)
    assert t["files"] == len({st.file for st in remittances})
    assert t["clp_count"] == len(cs)
    assert t["clp_by_status"] == dict(sorted(Counter(c.status for c in cs).items()))
    assert t["clp03_total"] == money(sum(c.charge for c in cs))
    assert t["clp04_total"] == money(sum(c.paid for c in cs))
    assert t["clp05_total"] == money(sum(c.patient_resp for c in cs))
    cas: dict[str, Decimal] = defaultdict(Decimal)
    for c in cs:
        for g, _, a in c.all_adjustments():
            cas[g] += a
    assert t["cas_by_group"] == {g: money(v) for g, v in sorted(cas.items())}
    assert t["plb_total"] == money(sum(a for st in remittances for _, _, a in st.plb))
    assert t["bpr02_total"] == money(sum(st.bpr02 for st in remittances))
    assert t["svc_count"] == sum(len(c.lines) for c in cs)


def test_remittance_csv_is_the_same_data(
    dataset: Path, remittances: list[Transaction], truth: dict
) -> None:
    rc = read_csv(dataset / "remittances_csv/remit_claims.csv")
    ra = read_csv(dataset / "remittances_csv/remit_adjustments.csv")
    rl = read_csv(dataset / "remittances_csv/remit_lines.csv")
    cs = clps(remittances)
    assert len(rc) == len(cs)
    assert sorted(
        (r["claim_id"], r["status_code"], r["charge_amount"], r["paid_amount"])
        for r in rc
    ) == sorted((c.claim_id, c.status, money(c.charge), money(c.paid)) for c in cs)
    cas: dict[str, Decimal] = defaultdict(Decimal)
    for r in ra:
        cas[r["group_code"]] += D(r["amount"])
    assert truth["remittances"]["cas_by_group"] == {
        g: money(v) for g, v in sorted(cas.items())
    }
    assert len(rl) == truth["remittances"]["svc_count"]
    assert truth["remittances"]["clp05_total"] == money(
        sum(D(r["patient_responsibility"]) for r in rc)
    )


def initial_adjudications(
    claims: list[dict[str, str]], remittances: list[Transaction]
) -> dict[str, Clp]:
    """The first CLP (by payment date) of every original claim."""
    originals = {c["claim_id"] for c in claims if c["frequency_code"] == "1"}
    first: dict[str, Clp] = {}
    for c in sorted(clps(remittances), key=lambda c: c.payment_date):
        if c.claim_id in originals and c.claim_id not in first:
            first[c.claim_id] = c
    return first


def test_initial_denials(
    dataset: Path, remittances: list[Transaction], truth: dict, carc_denial
) -> None:
    claims = read_csv(dataset / "claims/claims.csv")
    by_id = {c["claim_id"]: c for c in claims}
    first = initial_adjudications(claims, remittances)
    t = truth["initial_denials"]
    assert t["claims_adjudicated"] == len(first)
    denied = {
        k: c
        for k, c in first.items()
        if any(is_denial(g, r, carc_denial) for g, r, _ in c.all_adjustments())
    }
    assert t["claims_initially_denied"] == len(denied)
    assert t["full"] == sum(c.paid == 0 for c in denied.values())
    assert t["partial"] == sum(c.paid > 0 for c in denied.values())
    assert t["initially_denied_claim_charges"] == money(
        sum(D(by_id[k]["total_charge"]) for k in denied)
    )
    amount = sum(
        a
        for c in denied.values()
        for g, r, a in c.all_adjustments()
        if is_denial(g, r, carc_denial)
    )
    assert t["initially_denied_amount"] == money(amount)
    cats: Counter[str] = Counter()
    for c in denied.values():
        for cat in {
            carc_denial[r][0]
            for g, r, _ in c.all_adjustments()
            if is_denial(g, r, carc_denial)
        }:
            cats[cat] += 1
    assert {k: v["claims"] for k, v in t["by_category"].items()} == dict(cats)
    assert len(cats) >= 9, "denials in (nearly) every root-cause category"
    # per submission week
    weeks: dict[str, list] = defaultdict(lambda: [0, 0, 0, D(0)])
    for c in claims:
        if c["frequency_code"] != "1":
            continue
        row = weeks[iso_week(c["submission_date"])]
        row[0] += 1
        if c["claim_id"] in first:
            row[1] += 1
        if c["claim_id"] in denied:
            row[2] += 1
            row[3] += D(c["total_charge"])
    got = {
        w["week"]: [w["claims_submitted"], w["claims_adjudicated"], w["claims_initially_denied"],
                    D(w["initially_denied_claim_charges"])]
        for w in truth["per_week"]
    }  # fmt: skip
    assert got == dict(weeks)
    assert len(truth["per_week"]) == truth["generator"]["weeks"]
    rate = len(denied) / len(first)
    assert 0.05 < rate < 0.16


def test_write_offs(generated: Generated) -> None:
    dataset, truth = generated.path, generated.truth
    rows = read_csv(dataset / "claims/write_offs.csv")
    assert truth["write_offs"]["rows"] == len(rows)
    assert truth["write_offs"]["total"] == money(sum(D(r["amount"]) for r in rows))
    by_reason: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        by_reason[r["reason"]] += D(r["amount"])
    assert {k: v["amount"] for k, v in truth["write_offs"]["by_reason"].items()} == {
        k: money(v) for k, v in by_reason.items()
    }
    assert all(r["carc"] for r in rows if r["reason"] == "denial")


def test_outstanding_ar(
    dataset: Path, remittances: list[Transaction], truth: dict, carc_denial
) -> None:
    """The definition written in ground_truth.json, applied to the CSV claims, 835s and write-offs."""
    claims = read_csv(dataset / "claims/claims.csv")
    replaced = {c["original_claim_id"] for c in claims if c["frequency_code"] == "7"}
    write_offs: dict[str, Decimal] = defaultdict(Decimal)
    for r in read_csv(dataset / "claims/write_offs.csv"):
        write_offs[r["claim_id"]] += D(r["amount"])
    by_claim: dict[str, list[Clp]] = defaultdict(list)
    for c in clps(remittances):
        by_claim[c.claim_id].append(c)
    ar = D(0)
    open_claims = 0
    self_pay = D(0)
    for c in claims:
        cid = c["claim_id"]
        if c["payer_type"] == "self_pay":
            self_pay += D(c["total_charge"]) - write_offs[cid]
            continue
        if cid in replaced:
            continue
        balance = D(c["total_charge"]) - write_offs[cid]
        for clp in by_claim[cid]:
            balance -= clp.paid
            for g, r, a in clp.all_adjustments():
                if is_denial(g, r, carc_denial) or (g, r) == ("OA", "23"):
                    continue
                if g == "PR" and clp.status in ("19", "20", "21"):
                    continue
                balance -= a
        assert balance >= 0, cid
        ar += balance
        open_claims += balance != 0
    t = truth["accounts_receivable"]
    assert t["outstanding_ar"] == money(ar)
    assert t["claims_open"] == open_claims
    assert t["self_pay_outstanding"] == money(self_pay)
    assert D(t["outstanding_ar"]) > 0
    assert t["claims_never_adjudicated"] > 0, (
        "claims submitted near the end are still unpaid"
    )


def test_story_elements_present(
    dataset: Path, remittances: list[Transaction], truth: dict
) -> None:
    claims = read_csv(dataset / "claims/claims.csv")
    kinds = truth["remittances"]["clp_by_kind"]
    assert kinds["overturn"] > 0 and kinds["reversal"] > 0 and kinds["secondary"] > 0
    assert kinds["resubmission"] > 0 and kinds["readjudication"] > 0
    resubmitted = {c["claim_id"] for c in claims if c["frequency_code"] == "7"}
    paid_r1 = {
        c.claim_id
        for c in clps(remittances)
        if c.claim_id in resubmitted and c.paid > 0
    }
    assert paid_r1, "some corrected claims get paid"
    assert truth["initial_denials"]["later_paid"] > 0
    assert truth["initial_denials"]["sent_as_clp02_4"] > 0
    # a reversal is followed by a re-adjudication of the same claim in the same remittance
    for st in remittances:
        ids = [c.claim_id for c in st.claims]
        for c in st.claims:
            if (
                c.status == "22"
                and not c.claim_id.endswith("R1")
                and c.claim_id + "R1" not in ids
            ):
                assert ids.count(c.claim_id) == 2, (st.file, c.claim_id)
