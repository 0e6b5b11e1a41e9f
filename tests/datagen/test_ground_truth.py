"""ground_truth.json equals totals recomputed here, independently, from the written files, with the
counting rules of its definitions: resent 835 files replace the earlier copy, the CLP loops of a
split claim are one adjudication, a denial is a denial CARC in any group or CLP02=4."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from tests.datagen.helpers import (
    Clp,
    Generated,
    Transaction,
    adjudications,
    read_csv,
)

D = Decimal
UNSPECIFIED = "payer_denied_unspecified"


def money(x: Decimal) -> str:
    return f"{x:.2f}"


def iso_week(day: str) -> str:
    y, w, _ = date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def clps(remittances: list[Transaction]) -> list[Clp]:
    return [c for st in remittances for c in st.claims]


def is_denial(group: str, carc: str, table: dict[str, tuple[str, bool]]) -> bool:
    """docs/metrics.md: the CARC decides, in any group; OA-23 never; an unmapped CARC is a denial
    except in group PR."""
    if (group, carc) == ("OA", "23"):
        return False
    if carc not in table:
        return group != "PR"
    return table[carc][1]


def leaves_insurance_ar(group: str, carc: str, status: str, table) -> bool:
    if group == "PR":
        return status not in ("19", "20", "21")
    if (group, carc) == ("OA", "23"):
        return False
    return not is_denial(group, carc, table)


def denial(unit: list[Clp], table) -> tuple[list[tuple[str, str, Decimal]], Decimal]:
    """(denial adjustments, CLP02=4 amount no denial CARC explains) of one adjudication."""
    adjs = [a for c in unit for a in c.all_adjustments() if is_denial(a[0], a[1], table)]
    if not any(c.status == "4" for c in unit):
        return adjs, D(0)
    unpaid = sum(c.charge for c in unit) - sum(c.paid for c in unit)
    return adjs, max(D(0), unpaid - sum(a for _, _, a in adjs))


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
    """The totals are the payments that count; files counts every file written."""
    remittances, truth = generated.payments, generated.truth
    t = truth["remittances"]
    cs = clps(remittances)
    assert t["transactions"] == len(remittances)
    assert t["files"] == len({st.file for st in generated.remittances})
    assert t["files"] == truth["files"]["remittances"]
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
    assert t["svc03_total"] == money(sum(s.paid for c in cs for s in c.lines))


def test_remittance_csv_is_the_same_data(
    dataset: Path, payments: list[Transaction], truth: dict
) -> None:
    """The remittance CSV holds the payments that count (a resent file's corrected amounts)."""
    rc = read_csv(dataset / "remittances_csv/remit_claims.csv")
    ra = read_csv(dataset / "remittances_csv/remit_adjustments.csv")
    rl = read_csv(dataset / "remittances_csv/remit_lines.csv")
    cs = clps(payments)
    assert len(rc) == len(cs)
    assert sorted(
        (r["claim_id"], r["status_code"], r["charge_amount"], r["paid_amount"], r["payer_claim_number"])
        for r in rc
    ) == sorted((c.claim_id, c.status, money(c.charge), money(c.paid), c.icn) for c in cs)
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
    claims: list[dict[str, str]], payments: list[Transaction]
) -> dict[str, list[Clp]]:
    """The first adjudication (by payment date; one or more CLP loops) of every original claim."""
    originals = {c["claim_id"] for c in claims if c["frequency_code"] == "1"}
    first: dict[str, list[Clp]] = {}
    for st in sorted(payments, key=lambda st: st.payment_date):
        for unit in adjudications(st):
            cid = unit[0].claim_id
            if cid in originals and cid not in first:
                first[cid] = unit
    return first


def test_initial_denials(
    dataset: Path, payments: list[Transaction], truth: dict, carc_denial
) -> None:
    claims = read_csv(dataset / "claims/claims.csv")
    by_id = {c["claim_id"]: c for c in claims}
    first = initial_adjudications(claims, payments)
    t = truth["initial_denials"]
    assert t["claims_adjudicated"] == len(first)
    assert t["adjudicated_charges"] == money(sum(D(by_id[k]["total_charge"]) for k in first))
    # a split claim's CLP loops add up to the billed claim
    assert all(sum(c.charge for c in u) == D(by_id[k]["total_charge"]) for k, u in first.items())
    found = {k: denial(u, carc_denial) for k, u in first.items()}
    denied = {
        k: u
        for k, u in first.items()
        if found[k][0] or any(c.status == "4" for c in u)
    }
    assert t["claims_initially_denied"] == len(denied)
    assert t["full"] == sum(sum(c.paid for c in u) == 0 for u in denied.values())
    assert t["partial"] == sum(sum(c.paid for c in u) > 0 for u in denied.values())
    assert t["sent_as_clp02_4"] == sum(any(c.status == "4" for c in u) for u in denied.values())
    assert t["initially_denied_claim_charges"] == money(
        sum(D(by_id[k]["total_charge"]) for k in denied)
    )
    amount = sum(sum(a for _, _, a in found[k][0]) + found[k][1] for k in denied)
    assert t["initially_denied_amount"] == money(amount)
    cats: Counter[str] = Counter()
    cat_amount: dict[str, Decimal] = defaultdict(Decimal)
    for k, u in denied.items():
        adjs, unspecified = found[k]
        names = {carc_denial.get(r, ("unmapped", True))[0] for _, r, _ in adjs}
        if any(c.status == "4" for c in u) and (unspecified or not adjs):
            names.add(UNSPECIFIED)
            cat_amount[UNSPECIFIED] += unspecified
        cats.update(names)
        for _, r, a in adjs:
            cat_amount[carc_denial.get(r, ("unmapped", True))[0]] += a
    assert {k: v["claims"] for k, v in t["by_category"].items()} == dict(cats)
    assert {k: v["denied_amount"] for k, v in t["by_category"].items()} == {
        k: money(v) for k, v in cat_amount.items()
    }
    assert len(cats) >= 9, "denials in (nearly) every root-cause category"
    assert UNSPECIFIED in cats
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


def test_outstanding_ar(generated: Generated, carc_denial) -> None:
    """The definition written in ground_truth.json, applied to the CSV claims, 835s and write-offs."""
    dataset, truth = generated.path, generated.truth
    claims = read_csv(dataset / "claims/claims.csv")
    replaced = {c["original_claim_id"] for c in claims if c["frequency_code"] == "7"}
    write_offs: dict[str, Decimal] = defaultdict(Decimal)
    for r in read_csv(dataset / "claims/write_offs.csv"):
        write_offs[r["claim_id"]] += D(r["amount"])
    by_claim: dict[str, list[Clp]] = defaultdict(list)
    for c in clps(generated.payments):
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
                if leaves_insurance_ar(g, r, clp.status, carc_denial):
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
    dataset: Path, payments: list[Transaction], truth: dict
) -> None:
    claims = read_csv(dataset / "claims/claims.csv")
    kinds = truth["remittances"]["clp_by_kind"]
    assert kinds["overturn"] > 0 and kinds["reversal"] > 0 and kinds["secondary"] > 0
    assert kinds["resubmission"] > 0 and kinds["readjudication"] > 0
    resubmitted = {c["claim_id"] for c in claims if c["frequency_code"] == "7"}
    paid_r1 = {
        c.claim_id
        for c in clps(payments)
        if c.claim_id in resubmitted and c.paid > 0
    }
    assert paid_r1, "some corrected claims get paid"
    assert truth["initial_denials"]["later_paid"] > 0
    assert truth["initial_denials"]["sent_as_clp02_4"] > 0
    # a reversal is followed by a re-adjudication of the same claim in the same remittance (a
    # split claim's CLP loops are reversed one by one), or by its corrected claim's adjudication
    for st in payments:
        ids = [c.claim_id for c in st.claims]
        for c in st.claims:
            if (
                c.status == "22"
                and not c.claim_id.endswith("R1")
                and c.claim_id + "R1" not in ids
            ):
                after = ids[len(ids) - ids[::-1].index(c.claim_id) - 1]
                assert after == c.claim_id, (st.file, c.claim_id)
                assert any(
                    x.claim_id == c.claim_id and x.status != "22" for x in st.claims
                ), (st.file, c.claim_id)


# ------------------------------------------------------------------------------------------------
# The planted cases, found in the files
# ------------------------------------------------------------------------------------------------

PR_COVERAGE = {"27", "31", "32", "96", "204"}


def test_planted_pr_coverage_denials(generated: Generated, carc_denial) -> None:
    claims = read_csv(generated.path / "claims/claims.csv")
    t = generated.truth["planted_cases"]["pr_coverage_denials"]
    first = initial_adjudications(claims, generated.payments)
    found = {
        k: u
        for k, u in first.items()
        if any(g == "PR" and r in PR_COVERAGE for c in u for g, r, _ in c.all_adjustments())
    }
    assert t["claims"] == len(found) >= 3
    assert t["full"] == sum(sum(c.paid for c in u) == 0 for u in found.values())
    assert t["partial"] == t["claims"] - t["full"]
    assert sorted(found)[: len(t["examples"])] == t["examples"]
    for u in found.values():  # denials under the rule, patient responsibility in the CLP
        adjs = [a for c in u for a in c.all_adjustments()]
        assert all(is_denial(g, r, carc_denial) for g, r, _ in adjs if r in PR_COVERAGE)
        assert sum(c.patient_resp for c in u) >= sum(a for g, r, a in adjs if r in PR_COVERAGE)
    by_carc = Counter(
        next(f"PR-{r}" for c in u for g, r, _ in c.all_adjustments() if g == "PR" and r in PR_COVERAGE)
        for u in found.values()
    )
    assert t["by_reason"] == dict(sorted(by_carc.items()))


def test_planted_status4_without_denial_carc(generated: Generated, carc_denial) -> None:
    claims = read_csv(generated.path / "claims/claims.csv")
    t = generated.truth["planted_cases"]["status4_without_denial_carc"]
    first = {id(c) for u in initial_adjudications(claims, generated.payments).values() for c in u}
    bare = [
        c
        for c in clps(generated.payments)
        if c.status == "4" and not any(is_denial(g, r, carc_denial) for g, r, _ in c.all_adjustments())
    ]
    assert t["initial"] == sum(id(c) in first for c in bare) >= 3
    assert t["secondary"] == sum(id(c) not in first for c in bare) >= 1
    assert all(c.paid == 0 for c in bare)
    codes = Counter("+".join(sorted({f"{g}-{r}" for g, r, _ in c.all_adjustments()})) for c in bare)
    assert t["by_reason"] == dict(sorted(codes.items()))


def test_planted_split_claims(generated: Generated, carc_denial) -> None:
    dataset = generated.path
    claims = {c["claim_id"]: c for c in read_csv(dataset / "claims/claims.csv")}
    t = generated.truth["planted_cases"]["split_claims"]
    split = [u for st in generated.payments for u in adjudications(st) if len(u) > 1]
    assert t["claims"] == len(split) == len({u[0].claim_id for u in split}) >= 3
    assert t["clp_loops"] == sum(len(u) for u in split)
    assert t["in_3_clp_loops"] == sum(len(u) == 3 for u in split)
    for u in split:
        assert len({c.icn for c in u}) == len(u), "each CLP loop has its own CLP07"
        assert sum(c.charge for c in u) == D(claims[u[0].claim_id]["total_charge"])
        assert all(c.lines for c in u), "split by lines"
    assert t["initially_denied"] == sum(
        bool(denial(u, carc_denial)[0]) or any(c.status == "4" for c in u) for u in split
    ) >= 1
    # the remittance CSV: the same claim id on several rows of one trace, distinct adjudication ids
    rows: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in read_csv(dataset / "remittances_csv/remit_claims.csv"):
        if r["status_code"] != "22":
            rows[(r["trace_number"], r["claim_id"])].add(r["adjudication_id"])
    assert sorted(k[1] for k, v in rows.items() if len(v) > 1) == sorted(u[0].claim_id for u in split)


def test_planted_resent_eras(generated: Generated) -> None:
    t = generated.truth["planted_cases"]["resent_eras"]
    by_file: dict[str, list[Transaction]] = defaultdict(list)
    for st in generated.remittances:
        by_file[st.file].append(st)
    resent = sorted(f for f in by_file if f.endswith("_resent.835"))
    assert t["files"] == len(resent) >= 1
    assert sorted(r["file"] for r in t["resent_files"]) == resent
    superseded_bpr = D(0)
    n_st = n_clp = 0
    corrected = D(0)
    for entry in t["resent_files"]:
        new, old = by_file[entry["file"]], by_file[entry["replaces"]]
        # the same payments (payer, trace number, payment date), in a file sent a week later
        assert [(s.payer_id, s.trace, s.payment_date) for s in new] == [
            (s.payer_id, s.trace, s.payment_date) for s in old
        ]
        assert all(s.sent > o.sent for s, o in zip(new, old, strict=True))
        paid_on = old[0].payment_date
        day = date(int(paid_on[:4]), int(paid_on[4:6]), int(paid_on[6:]))
        assert entry["replaces"] == f"{new[0].payer_id}_{paid_on}.835"
        assert entry["file"] == f"{new[0].payer_id}_{(day + timedelta(days=7)):%Y%m%d}_resent.835"
        diffs = []
        for s, o in zip(new, old, strict=True):
            assert len(s.claims) == len(o.claims)
            here = [
                (a, b)
                for a, b in zip(s.claims, o.claims, strict=True)
                if (a.claim_id, a.icn, a.charge) == (b.claim_id, b.icn, b.charge) and a.paid != b.paid
            ]
            assert [(a.claim_id, a.icn) for a in s.claims] == [(b.claim_id, b.icn) for b in o.claims]
            assert o.bpr02 - s.bpr02 == sum(b.paid - a.paid for a, b in here)
            assert o.plb == s.plb
            diffs += here
        assert len(diffs) == 1, "one amount corrected"
        a, b = diffs[0]
        assert a.claim_id == entry["corrected_claim_id"]
        assert money(b.paid - a.paid) == entry["first_copy_paid_more"]
        co45 = [sum(x for g, r, x in c.all_adjustments() if (g, r) == ("CO", "45")) for c in (a, b)]
        assert co45[0] - co45[1] == b.paid - a.paid > 0
        corrected += b.paid - a.paid
        superseded_bpr += sum(o.bpr02 for o in old)
        n_st += len(old)
        n_clp += sum(len(o.claims) for o in old)
    assert t["corrected_claims"] == len(resent)
    assert t["corrected_amount"] == money(corrected)
    assert t["bpr02_superseded"] == money(superseded_bpr)
    assert (t["transactions_superseded"], t["clp_superseded"]) == (n_st, n_clp)
    # nothing of the superseded copies is counted
    assert len(generated.payments) == len(generated.remittances) - n_st


def test_planted_reversals_after_replacement(generated: Generated, carc_denial) -> None:
    dataset = generated.path
    claims = read_csv(dataset / "claims/claims.csv")
    by_id = {c["claim_id"]: c for c in claims}
    t = generated.truth["planted_cases"]["reversals_after_replacement"]
    first = initial_adjudications(claims, generated.payments)
    by_claim: dict[str, list[Clp]] = defaultdict(list)
    for c in clps(generated.payments):
        by_claim[c.claim_id].append(c)
    found = []
    for st in generated.payments:
        ids = {c.claim_id for c in st.claims}
        for c in st.claims:
            cid = c.claim_id
            if c.status != "22" or cid + "R1" not in ids or cid not in first:
                continue
            unit = first[cid]
            adjs, unspecified = denial(unit, carc_denial)
            if adjs or any(x.status == "4" for x in unit):
                continue  # a denied claim's corrected claim (not planted)
            found.append(cid)
            r1 = by_id[cid + "R1"]
            assert r1["frequency_code"] == "7" and r1["original_claim_id"] == cid
            assert sum(x.paid for x in by_claim[cid]) == 0, "the original's payment nets out"
            assert c.paid == -sum(x.paid for x in unit) < 0
    assert t["claims"] == len(found) >= 1
    assert sorted(found)[: len(t["examples"])] == t["examples"]
