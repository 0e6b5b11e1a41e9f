"""Ground truth: totals of what was written, computed from the simulated objects (not by reading
the files back), for tests and for the pipeline's reconciliation.

Money is accumulated in integer cents (exact) and written as decimal strings with two places.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from datagen import reference as ref
from datagen.dates import iso, iso_week, monday
from datagen.model import Adjudication, PatientPool, Plan, Submission, WeekResult
from datagen.patterns import Pattern
from datagen.x12_writer import money

FORWARDED = ("19", "20", "21")

DEFINITIONS = {
    "payment": (
        "An 835 transaction (BPR/TRN) identified by its payer and TRN02 trace number. A later file with the "
        "same payer and trace number replaces the earlier file's payment with that trace (a resent ERA): only "
        "the latest copy counts, nothing doubles. Within one file a repeated trace number is not a duplicate "
        "(every payment counts). The remittance totals are those of the payments that count; the superseded "
        "copies are described in planted_cases.resent_eras."
    ),
    "adjudication": (
        "The CLP loops of one payment with the same CLP01 and no CLP02=22 between them are one adjudication "
        "of that claim (a payer's split claim): their charges (CLP03), paid amounts (CLP04) and adjustments "
        "are summed; a reversal (CLP02=22) is an adjudication of its own."
    ),
    "initial_adjudication": (
        "The first adjudication (see adjudication) of an original claim (frequency 1) from its primary payer. "
        "Adjudications of corrected claims, secondary payers, reversals and re-adjudications are not initial."
    ),
    "denial_adjustment": (
        "A claim or line CAS whose CARC has is_denial=true in transforms/reference/carc_categories.csv, in any "
        "group (CO, PI, OA, CR, and PR: PR-27/31/32/96/204 are coverage denials shifted to the patient). "
        "OA-23 never is; cost sharing (PR-1/2/3 ...) has is_denial=false. A CARC missing from the table is "
        "a denial in group CO, PI, OA or CR, not in PR."
    ),
    "initial_denial": (
        "The initial adjudication carries at least one denial adjustment, or it is a CLP02=4 (denied) "
        "adjudication, whatever its CAS say. full: its CLP04 (summed over its CLP loops) = 0; partial: CLP04 > 0."
    ),
    "initially_denied_claim_charges": (
        "Sum of the billed claims' total_charge (= the adjudication's summed CLP03) of the claims with an "
        "initial denial."
    ),
    "initially_denied_amount": (
        "Sum over the initially denied claims of the denied amount: the sum of the denial adjustments; for a "
        "CLP02=4 adjudication max(sum of its denial adjustments, CLP03 - CLP04), the part that no denial CARC "
        "explains being category payer_denied_unspecified."
    ),
    "week": (
        "ISO week of the original claim's submission_date (the bill date), unless the field says "
        "by_initial_payment_week (ISO week of BPR16 of the initial adjudication)."
    ),
    "outstanding_ar": (
        "As of the end date, over claim submissions billed to a payer and not replaced by a later corrected "
        "claim (a claim_id that is some frequency-7 claim's original_claim_id is replaced, together with its "
        "adjudications, including a reversal of its payment sent after the replacement): total_charge "
        "- sum(CLP04 of every adjudication with that CLP01, reversals included) - sum(CAS amounts of those "
        "adjudications that leave insurance A/R: group PR, cost sharing and coverage denials alike, except "
        "on adjudications forwarded to a secondary payer, CLP02 19/20/21; and CO/PI/OA/CR adjustments that "
        "are not denial adjustments, except OA-23) - sum(write_offs of that claim_id). Denial adjustments in "
        "groups other than PR stay in A/R until paid, corrected or written off. PLB (interest, recoveries) "
        "is provider-level and not part of any claim's balance. Self-pay claims are not in it "
        "(self_pay_outstanding: their charges - their write-offs; patient payments are not modelled)."
    ),
    "aging": "A/R aged from service_from to the end date: 0-30, 31-60, 61-90, 91-120, over 120 days.",
    "money": "Decimal strings with two places; CAS and PLB amounts as sent (positive reduces payment).",
}

UNSPECIFIED = "payer_denied_unspecified"
EXAMPLES = 10  # claim ids listed per planted case


def all_adjustments(a: Adjudication) -> list[tuple[str, str, int]]:
    out = list(a.claim_adjustments)
    for x in a.lines:
        out.extend(x.adjustments)
    return out


def adjudication_units(adjs: list[Adjudication]) -> list[list[Adjudication]]:
    """A claim id's adjudications (in the order sent) as adjudications in the sense of the
    definitions: consecutive CLP loops of one payment, none a reversal, are one."""
    units: list[list[Adjudication]] = []
    for a in adjs:
        last = units[-1][-1] if units else None
        if (
            last is not None
            and a.status != "22"
            and last.status != "22"
            and (a.payer, a.payment_ord, a.payee) == (last.payer, last.payment_ord, last.payee)
        ):
            units[-1].append(a)
        else:
            units.append([a])
    return units


def denial_of(unit: list[Adjudication]) -> tuple[list[tuple[str, str, int]], int]:
    """(denial adjustments, amount of CLP02=4 denial no denial CARC explains) of one adjudication."""
    adjs = [t for a in unit for t in all_adjustments(a)]
    denial = [(g, c, a) for g, c, a in adjs if ref.is_denial(g, c)]
    if not any(a.status == "4" for a in unit):
        return denial, 0
    unpaid = sum(a.charge for a in unit) - sum(a.paid for a in unit)
    return denial, max(0, unpaid - sum(a for _, _, a in denial))


def _bucket(days: int) -> str:
    if days <= 30:
        return "0-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    if days <= 120:
        return "91-120"
    return "over_120"


@dataclass
class _Week:
    claims_submitted: int = 0
    claims_billed_to_payers: int = 0
    billed_charges: int = 0
    adjudicated: int = 0
    initially_denied: int = 0
    denied_claim_charges: int = 0
    denied_amount: int = 0


@dataclass
class _PatternTally:
    model_before: list[float] = field(default_factory=lambda: [0, 0.0])  # claims, sum p
    model_window_base: list[float] = field(default_factory=lambda: [0, 0.0])
    model_window: list[float] = field(default_factory=lambda: [0, 0.0])
    model_after: list[float] = field(default_factory=lambda: [0, 0.0])
    extra_expected: float = 0.0
    extra_charges_expected: float = 0.0
    weekly: dict[int, list[int]] = field(
        default_factory=dict
    )  # week -> [adjudicated, denied with carc]


class GroundTruth:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.c: Counter[str] = Counter()  # counts and cents
        self.status: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.cas: Counter[str] = Counter()
        self.cas_level: Counter[str] = Counter()
        self.plb: Counter[str] = Counter()
        self.files: Counter[str] = Counter()
        self.weeks: dict[int, _Week] = defaultdict(_Week)
        self.pay_weeks: dict[str, Counter[str]] = defaultdict(Counter)
        self.cat_claims: Counter[str] = Counter()
        self.cat_amount: Counter[str] = Counter()
        self.carc_claims: Counter[str] = Counter()
        self.payer_adj: Counter[str] = Counter()
        self.payer_denied: Counter[str] = Counter()
        self.dept_adj: Counter[str] = Counter()
        self.dept_denied: Counter[str] = Counter()
        self.wo_reason: Counter[str] = Counter()
        self.wo_count: Counter[str] = Counter()
        self.ar_payer: Counter[str] = Counter()
        self.ar_bucket: Counter[str] = Counter()
        self.patterns = {p.key: _PatternTally() for p in plan.patterns}
        self.phi: list[tuple[str, str, str, str]] = []
        self.cases: Counter[str] = Counter()  # planted cases: "<case>.<count>" -> count or cents
        self.case_reasons: Counter[str] = Counter()  # "<case>.<GROUP-CARC>" -> adjudications
        self.examples: dict[str, list[str]] = defaultdict(list)  # case -> claim ids or file names
        self.resent_files: list[dict[str, str]] = []  # in the main process only (the writer's)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["plan"] = None  # a worker's partial truth travels without the plan
        return state

    def merge(self, other: GroundTruth) -> None:
        """Add another (partial) ground truth, e.g. one week computed in a worker process."""
        for name, value in other.__dict__.items():
            if isinstance(value, Counter):
                getattr(self, name).update(value)
        for w, wk in other.weeks.items():
            mine = self.weeks[w]
            for f in fields(_Week):
                setattr(mine, f.name, getattr(mine, f.name) + getattr(wk, f.name))
        for k, cnt in other.pay_weeks.items():
            self.pay_weeks[k].update(cnt)
        for key, t in other.patterns.items():
            m = self.patterns[key]
            for name in (
                "model_before",
                "model_window_base",
                "model_window",
                "model_after",
            ):
                a, b = getattr(m, name), getattr(t, name)
                setattr(m, name, [a[0] + b[0], a[1] + b[1]])
            m.extra_expected += t.extra_expected
            m.extra_charges_expected += t.extra_charges_expected
            for w, (n, k) in t.weekly.items():
                row = m.weekly.setdefault(w, [0, 0])
                row[0] += n
                row[1] += k
        for p in other.phi:
            if len(self.phi) < 12:
                self.phi.append(p)
        for case, ids in other.examples.items():
            self.examples[case] = sorted({*self.examples[case], *ids})[:EXAMPLES]

    # ------------------------------------------------------------------------------------------
    def add_week(self, res: WeekResult) -> None:
        c = self.c
        by_claim: dict[str, list[Adjudication]] = defaultdict(list)
        for a in res.adjudications:
            by_claim[a.claim_id].append(a)
            c["clp"] += 1
            self.status[a.status] += 1
            self.kinds[a.kind] += 1
            c["clp03"] += a.charge
            c["clp04"] += a.paid
            c["clp05"] += a.patient_resp
            c["interest"] += a.interest
            for g, _, amt in a.claim_adjustments:
                self.cas[g] += amt
                self.cas_level["claim"] += amt
            for x in a.lines:
                c["svc"] += 1
                c["svc02"] += x.charge
                c["svc03"] += x.paid
                for g, _, amt in x.adjustments:
                    self.cas[g] += amt
                    self.cas_level["line"] += amt
        self._planted(res)
        write_offs: Counter[str] = Counter()
        for w in res.write_offs:
            write_offs[w.claim_id] += w.amount
            c["write_offs"] += w.amount
            c["write_off_rows"] += 1
            self.wo_reason[w.reason] += w.amount
            self.wo_count[w.reason] += 1
        for s in res.submissions:
            self._submission(s, by_claim, write_offs)
        for s in res.submissions:
            if s.frequency == "1":
                self._original(res.week, s, by_claim)
        for key, pw in res.patterns.items():
            t = self.patterns[key]
            pattern = next(p for p in self.plan.patterns if p.key == key)
            phase = self._phase(pattern, res.week)
            if phase == "before":
                t.model_before[0] += pw.claims
                t.model_before[1] += pw.final_p
            elif phase == "window":
                t.model_window_base[0] += pw.claims
                t.model_window_base[1] += pw.base_p
                t.model_window[0] += pw.claims
                t.model_window[1] += pw.final_p
                t.extra_expected += pw.extra_expected
                t.extra_charges_expected += pw.extra_charges_expected
            else:
                t.model_after[0] += pw.claims
                t.model_after[1] += pw.final_p
        if res.week == 0:
            for s in res.submissions[:200]:
                if len(self.phi) >= 12:
                    break
                if s.payer != ref.SELF_PAY and all(
                    p[2] != PatientPool.member_id(s.patient) for p in self.phi
                ):
                    p = s.patient
                    self.phi.append(
                        (
                            PatientPool.last_name(p),
                            PatientPool.first_name(p),
                            PatientPool.member_id(p),
                            iso(int(self.plan.pool.birth_ord[p])),
                        )
                    )

    def _planted(self, res: WeekResult) -> None:
        """Counts of the planted cases (reference.PLANTED_CASES, SECONDARY_STATUS4_P)."""
        cases = self.cases
        split: dict[str, int] = {}
        for a in res.adjudications:
            if not a.case:
                continue
            example = a.case
            if a.case == "pr_coverage_denial":
                cases["pr_coverage_denials.claims"] += 1
                cases["pr_coverage_denials.full" if a.paid == 0 else "pr_coverage_denials.partial"] += 1
                cases["pr_coverage_denials.sent_as_clp02_4"] += a.status == "4"
                for g, c, _ in all_adjustments(a):
                    if g == "PR" and ref.is_denial(g, c):
                        self.case_reasons[f"pr_coverage_denials.{g}-{c}"] += 1
                        break
            elif a.case in ("status4_contractual", "status4_secondary"):
                which = "initial" if a.case == "status4_contractual" else "secondary"
                cases[f"status4_without_denial_carc.{which}"] += 1
                codes = sorted({f"{g}-{c}" for g, c, _ in all_adjustments(a)})
                self.case_reasons[f"status4_without_denial_carc.{'+'.join(codes)}"] += 1
                example = "status4_without_denial_carc"
            elif a.case == "split_claim":
                cases["split_claims.clp_loops"] += 1
                split[a.claim_id] = split.get(a.claim_id, 0) + 1
                continue
            elif a.case == "reversal_after_replacement":
                if a.status != "22":
                    continue
                cases["reversals_after_replacement.claims"] += 1
                cases["reversals_after_replacement.reversed_paid"] -= a.paid
            self._example(example, a.claim_id)
        for claim_id, n in split.items():
            cases["split_claims.claims"] += 1
            cases[f"split_claims.in_{n}_clp_loops"] += 1
            self._example("split_claim", claim_id)

    def _example(self, case: str, value: str) -> None:
        ex = self.examples[case]
        if len(ex) < EXAMPLES or value < ex[-1]:
            self.examples[case] = sorted({*ex, value})[:EXAMPLES]

    @staticmethod
    def _phase(p: Pattern, week: int) -> str:
        if week < p.start_week:
            return "before"
        if p.end_week is None or week < p.end_week:
            return "window"
        return "after"

    def _submission(
        self,
        s: Submission,
        by_claim: dict[str, list[Adjudication]],
        write_offs: Counter[str],
    ) -> None:
        c = self.c
        c["submissions"] += 1
        c["originals" if s.frequency == "1" else "resubmissions"] += 1
        c["institutional" if s.institutional else "professional"] += 1
        c["billed"] += s.charge
        c["lines"] += len(s.lines)
        payer = ref.PAYERS[s.payer]
        if payer.payer_type == "self_pay":
            c["self_pay_claims"] += 1
            c["self_pay_outstanding"] += s.charge - write_offs[s.claim_id]
            return
        if s.replaced:
            c["replaced"] += 1
            return
        balance = s.charge - write_offs[s.claim_id]
        for a in by_claim.get(s.claim_id, ()):
            balance -= a.paid
            for g, carc, amt in all_adjustments(a):
                if ref.leaves_insurance_ar(g, carc, a.status):
                    balance -= amt
        if balance < 0:
            raise AssertionError(f"negative balance on {s.claim_id}")
        c["ar"] += balance
        c["ar_charges"] += s.charge
        if balance:
            c["ar_open_claims"] += 1
            if not by_claim.get(s.claim_id):
                c["ar_never_adjudicated"] += 1
            self.ar_payer[payer.payer_id] += balance
            self.ar_bucket[_bucket(self.plan.end_ord - s.from_ord)] += balance

    def _original(
        self, week: int, s: Submission, by_claim: dict[str, list[Adjudication]]
    ) -> None:
        wk = self.weeks[week]
        wk.claims_submitted += 1
        wk.billed_charges += s.charge
        if s.payer == ref.SELF_PAY:
            return
        wk.claims_billed_to_payers += 1
        adjs = by_claim.get(s.claim_id, [])
        unit = next(
            (u for u in adjudication_units(adjs) if u[0].kind == "initial"), None
        )
        init = unit[0] if unit else None
        dept = ref.DEPARTMENTS[s.department].name
        payer_id = ref.PAYERS[s.payer].payer_id
        denial, unspecified = denial_of(unit) if unit else ([], 0)
        status4 = unit is not None and any(a.status == "4" for a in unit)
        denied = bool(denial) or status4
        if unit is not None and len(unit) > 1:
            self.cases["split_claims.initially_denied"] += denied
        if init is not None:
            wk.adjudicated += 1
            self.c["adjudicated"] += 1
            self.c["adjudicated_charges"] += s.charge
            self.payer_adj[payer_id] += 1
            self.dept_adj[dept] += 1
            pw = self.pay_weeks[iso_week(init.payment_ord)]
            pw["adjudicated"] += 1
            if denied:
                pw["initially_denied"] += 1
        if denied:
            assert unit is not None and init is not None
            amount = sum(a for _, _, a in denial) + unspecified
            wk.initially_denied += 1
            wk.denied_claim_charges += s.charge
            wk.denied_amount += amount
            self.c["denied"] += 1
            self.c["denied_claim_charges"] += s.charge
            self.c["denied_amount"] += amount
            paid = sum(a.paid for a in unit)
            self.c["denied_full" if paid == 0 else "denied_partial"] += 1
            self.c["denied_status4" if status4 else "denied_status_other"] += 1
            self.payer_denied[payer_id] += 1
            self.dept_denied[dept] += 1
            cats = {
                ref.carc_table().get(c, ("unmapped", True))[0] for _, c, _ in denial
            }
            if status4 and (unspecified or not denial):
                cats.add(UNSPECIFIED)
                self.cat_amount[UNSPECIFIED] += unspecified
            for cat in cats:
                self.cat_claims[cat] += 1
            for _, carc, a in denial:
                self.cat_amount[ref.carc_table().get(carc, ("unmapped", True))[0]] += a
            for carc in {c for _, c, _ in denial}:
                self.carc_claims[carc] += 1
            later = [a for a in adjs if a.kind in ("overturn",)]
            r1 = by_claim.get(s.claim_id + "R1", [])
            if any(a.paid > 0 for a in later) or any(
                a.paid > 0 and a.status != "22" for a in r1
            ):
                self.c["denied_later_paid"] += 1
        for p in self.plan.patterns:
            if not self._in_scope(p, s):
                continue
            if init is None:
                continue
            carc = ref.DENIAL_REASONS[ref.REASON_INDEX[p.reason]].carc
            hit = any(c == carc for _, c, _ in denial)
            row = self.patterns[p.key].weekly.setdefault(week, [0, 0])
            row[0] += 1
            row[1] += int(hit)

    @staticmethod
    def _in_scope(p: Pattern, s: Submission) -> bool:
        if s.payer == ref.SELF_PAY:
            return False
        if p.payer_id is not None and ref.PAYERS[s.payer].payer_id != p.payer_id:
            return False
        if (
            p.department is not None
            and ref.DEPARTMENTS[s.department].code != p.department
        ):
            return False
        if p.location is not None and ref.LOCATIONS[s.location].code != p.location:
            return False
        return p.claim_type is None or s.institutional == (
            p.claim_type == "institutional"
        )

    # ------------------------------------------------------------------------------------------
    def add_remittance_file(
        self, n_transactions: int, plb: list[tuple[str, str, int]], bpr02: int
    ) -> None:
        """The payments of one payer's 835 of one date, as they count (a resent copy's)."""
        self.c["transactions_835"] += n_transactions
        self.c["bpr02"] += bpr02
        for reason, _, amount in plb:
            self.plb[reason] += amount
            self.c["plb"] += amount
            self.c["plb_pairs"] += 1

    def add_file(self, folder: str) -> None:
        self.files[folder] += 1

    def add_resent_file(
        self,
        name: str,
        first_name: str,
        n_transactions: int,
        n_clp: int,
        bpr02_first: int,
        claim_id: str,
        cents: int,
    ) -> None:
        """An 835 file sent again: ``first_name``'s payments are superseded by ``name``'s, which
        correct ``claim_id``'s payment (the first copy paid ``cents`` more)."""
        c = self.cases
        c["resent_eras.files"] += 1
        c["resent_eras.transactions_superseded"] += n_transactions
        c["resent_eras.clp_superseded"] += n_clp
        c["resent_eras.bpr02_superseded"] += bpr02_first
        c["resent_eras.corrected_claims"] += 1
        c["resent_eras.corrected_amount"] += cents
        self.resent_files.append(
            {"file": name, "replaces": first_name, "corrected_claim_id": claim_id,
             "first_copy_paid_more": money(cents)}
        )  # fmt: skip

    # ------------------------------------------------------------------------------------------
    def as_dict(self, params: dict[str, Any]) -> dict[str, Any]:
        c = self.c
        plan = self.plan
        weeks = []
        for w in range(plan.weeks):
            wk = self.weeks.get(w, _Week())
            mon = plan.start_ord + 7 * w
            weeks.append(
                {
                    "week": iso_week(mon),
                    "monday": iso(mon),
                    "claims_submitted": wk.claims_submitted,
                    "claims_billed_to_payers": wk.claims_billed_to_payers,
                    "billed_charges": money(wk.billed_charges),
                    "claims_adjudicated": wk.adjudicated,
                    "claims_initially_denied": wk.initially_denied,
                    "initially_denied_claim_charges": money(wk.denied_claim_charges),
                    "initially_denied_amount": money(wk.denied_amount),
                }
            )
        by_pay_week = [
            {
                "week": k,
                "claims_adjudicated": v["adjudicated"],
                "claims_initially_denied": v["initially_denied"],
            }
            for k, v in sorted(self.pay_weeks.items())
        ]
        return {
            "generator": params,
            "definitions": DEFINITIONS,
            "claims": {
                "submissions": c["submissions"],
                "original_submissions": c["originals"],
                "resubmissions": c["resubmissions"],
                "professional": c["professional"],
                "institutional": c["institutional"],
                "self_pay_claims": c["self_pay_claims"],
                "claim_lines": c["lines"],
                "total_billed_charges": money(c["billed"]),
                "note": "self-pay claims are in claims/*.csv only: they are not billed to a payer, so they "
                "have no 837 and no 835.",
            },
            "remittances": {
                "files": self.files["remittances"],
                "transactions": c["transactions_835"],
                "clp_count": c["clp"],
                "clp_by_status": dict(sorted(self.status.items())),
                "clp_by_kind": dict(sorted(self.kinds.items())),
                "clp03_total": money(c["clp03"]),
                "clp04_total": money(c["clp04"]),
                "clp05_total": money(c["clp05"]),
                "svc_count": c["svc"],
                "svc02_total": money(c["svc02"]),
                "svc03_total": money(c["svc03"]),
                "cas_by_group": {g: money(v) for g, v in sorted(self.cas.items())},
                "cas_claim_level_total": money(self.cas_level["claim"]),
                "cas_line_level_total": money(self.cas_level["line"]),
                "plb_total": money(c["plb"]),
                "plb_by_reason": {r: money(v) for r, v in sorted(self.plb.items())},
                "plb_adjustments": c["plb_pairs"],
                "bpr02_total": money(c["bpr02"]),
            },
            "initial_denials": {
                "claims_adjudicated": c["adjudicated"],
                "adjudicated_charges": money(c["adjudicated_charges"]),
                "claims_initially_denied": c["denied"],
                "full": c["denied_full"],
                "partial": c["denied_partial"],
                "sent_as_clp02_4": c["denied_status4"],
                "initially_denied_claim_charges": money(c["denied_claim_charges"]),
                "initially_denied_amount": money(c["denied_amount"]),
                "initial_denial_rate": round(c["denied"] / c["adjudicated"], 6)
                if c["adjudicated"]
                else None,
                "by_category": {
                    k: {
                        "claims": self.cat_claims[k],
                        "denied_amount": money(self.cat_amount[k]),
                    }
                    for k in sorted(self.cat_claims)
                },
                "claims_by_carc": dict(sorted(self.carc_claims.items())),
                "by_payer": {
                    k: {
                        "claims_adjudicated": v,
                        "claims_initially_denied": self.payer_denied[k],
                    }
                    for k, v in sorted(self.payer_adj.items())
                },
                "by_department": {
                    k: {
                        "claims_adjudicated": v,
                        "claims_initially_denied": self.dept_denied[k],
                    }
                    for k, v in sorted(self.dept_adj.items())
                },
                "later_paid": c["denied_later_paid"],
            },
            "per_week": weeks,
            "per_week_by_initial_payment_week": by_pay_week,
            "write_offs": {
                "rows": c["write_off_rows"],
                "total": money(c["write_offs"]),
                "by_reason": {
                    k: {"rows": self.wo_count[k], "amount": money(v)}
                    for k, v in sorted(self.wo_reason.items())
                },
            },
            "accounts_receivable": {
                "as_of": iso(plan.end_ord),
                "outstanding_ar": money(c["ar"]),
                "claims_open": c["ar_open_claims"],
                "claims_never_adjudicated": c["ar_never_adjudicated"],
                "replaced_submissions_excluded": c["replaced"],
                "by_payer": {k: money(v) for k, v in sorted(self.ar_payer.items())},
                "by_age_from_service": {
                    k: money(v) for k, v in sorted(self.ar_bucket.items())
                },
                "self_pay_outstanding": money(c["self_pay_outstanding"]),
            },
            "patterns": [self._pattern(p) for p in plan.patterns],
            "planted_cases": self._planted_cases(),
            "phi_samples": {
                "note": "fictitious people; tests search the outputs for these values",
                "patient_names": [f"{last}, {first}" for last, first, _, _ in self.phi],
                "last_names": sorted({p[0] for p in self.phi}),
                "member_ids": [p[2] for p in self.phi],
                "birth_dates": [p[3] for p in self.phi],
                "name_pattern": "last names start with ZZ, first names with TEST",
                "member_id_pattern": "ZZM + 9 digits (primary), ZZS + 9 digits (secondary coverage)",
            },
        }

    def _planted_cases(self) -> dict[str, Any]:
        c = self.cases

        def reasons(case: str) -> dict[str, int]:
            return {
                k.split(".", 1)[1]: v
                for k, v in sorted(self.case_reasons.items())
                if k.startswith(case + ".")
            }

        return {
            "note": (
                "Shapes of real 835s planted at a small seeded rate (docs/sample-data.md, Planted cases); "
                "they are part of every total above. examples: the first claim ids (at most "
                f"{EXAMPLES})."
            ),
            "pr_coverage_denials": {
                "description": (
                    "clean claims refused for eligibility or coverage and shifted to the patient: CAS "
                    "group PR with CARC 27, 31 or 32 on every line, or 96 or 204 on one line; initial "
                    "denials (eligibility_registration, non_covered_benefit_limit); no follow-up"
                ),
                "claims": c["pr_coverage_denials.claims"],
                "full": c["pr_coverage_denials.full"],
                "partial": c["pr_coverage_denials.partial"],
                "sent_as_clp02_4": c["pr_coverage_denials.sent_as_clp02_4"],
                "by_reason": reasons("pr_coverage_denials"),
                "examples": self.examples["pr_coverage_denial"],
            },
            "status4_without_denial_carc": {
                "description": (
                    "CLP02=4 adjudications whose CAS hold no denial CARC: initial adjudications of clean "
                    "claims with CO-24 (capitation: PNC01, MCD01) or CO-45 for the whole charge, and "
                    "secondary payers' with OA-23 plus CO-45 (Medicaid) or PR-1 for the balance, paid 0; "
                    f"denied, category {UNSPECIFIED}"
                ),
                "initial": c["status4_without_denial_carc.initial"],
                "secondary": c["status4_without_denial_carc.secondary"],
                "by_reason": reasons("status4_without_denial_carc"),
                "examples": self.examples["status4_without_denial_carc"],
            },
            "split_claims": {
                "description": (
                    "initial adjudications the payer split into 2-3 CLP loops with the same CLP01 in one "
                    "transaction, each with its own CLP07 and a run of the lines; one "
                    "adjudication each (reversed CLP loop by CLP loop when reversed)"
                ),
                "claims": c["split_claims.claims"],
                "clp_loops": c["split_claims.clp_loops"],
                "in_2_clp_loops": c["split_claims.in_2_clp_loops"],
                "in_3_clp_loops": c["split_claims.in_3_clp_loops"],
                "initially_denied": c["split_claims.initially_denied"],
                "examples": self.examples["split_claim"],
            },
            "resent_eras": {
                "description": (
                    "835 files sent again 7 days later as PAYERID_YYYYMMDD_resent.835 (the resend date): "
                    "same payer, same transactions and TRN02 trace numbers, same BPR16 payment dates, one "
                    "claim payment corrected (the first copy paid more on one line, CO-45 less; the "
                    "resent copy's CLP04, SVC03, CO-45, AMT*B6 and BPR02 are the corrected ones). The "
                    "resent copy counts; the remittance CSV holds the corrected payments only"
                ),
                "files": c["resent_eras.files"],
                "transactions_superseded": c["resent_eras.transactions_superseded"],
                "clp_superseded": c["resent_eras.clp_superseded"],
                "bpr02_superseded": money(c["resent_eras.bpr02_superseded"]),
                "corrected_claims": c["resent_eras.corrected_claims"],
                "corrected_amount": money(c["resent_eras.corrected_amount"]),
                "resent_files": self.resent_files,
            },
            "reversals_after_replacement": {
                "description": (
                    "paid claims corrected by the provider (frequency 7, REF*F8 the original's CLP07, a "
                    "diagnosis added); the payer then reverses the original's payment (CLP02=22) and pays "
                    "the replacement in the same 835; the original's payment nets out"
                ),
                "claims": c["reversals_after_replacement.claims"],
                "reversed_paid": money(c["reversals_after_replacement.reversed_paid"]),
                "examples": self.examples["reversal_after_replacement"],
            },
        }

    def _pattern(self, p: Pattern) -> dict[str, Any]:
        t = self.patterns[p.key]
        plan = self.plan
        reason = ref.DENIAL_REASONS[ref.REASON_INDEX[p.reason]]
        start_ord = plan.start_ord + 7 * p.start_week
        end_ord = plan.start_ord + 7 * p.end_week if p.end_week is not None else None

        def rate(x: list[float]) -> float | None:
            return round(x[1] / x[0], 6) if x[0] else None

        before = [0, 0]
        window = [0, 0]
        for w, (n, k) in t.weekly.items():
            target = (
                before
                if self._phase(p, w) == "before"
                else window
                if self._phase(p, w) == "window"
                else None
            )
            if target is not None:
                target[0] += n
                target[1] += k
        weekly = [
            {
                "week": iso_week(plan.start_ord + 7 * w),
                "claims_adjudicated": n,
                "claims_with_carc": k,
            }
            for w, (n, k) in sorted(t.weekly.items())
        ]
        scope = {
            "payer_id": p.payer_id,
            "department": ref.DEPARTMENTS[ref.DEPT_INDEX[p.department]].name
            if p.department
            else None,
            "department_code": p.department,
            "location": ref.LOCATIONS[ref.LOCATION_INDEX[p.location]].label
            if p.location
            else None,
            "location_code": p.location,
            "claim_type": p.claim_type,
            "category": reason.category,
            "carc": reason.carc,
            "group_code": reason.group,
            "rarc": reason.rarcs[0] if reason.rarcs else None,
        }
        return {
            "key": p.key,
            "description": p.description,
            "basis": "initial adjudication of original claims, by ISO week of submission_date",
            "start_week": iso_week(start_ord),
            "start_monday": date.fromordinal(start_ord).isoformat(),
            "end_week": iso_week(end_ord) if end_ord is not None else None,
            "end_monday": date.fromordinal(end_ord).isoformat()
            if end_ord is not None
            else None,
            "scope": scope,
            "rate_definition": (
                "share of adjudicated in-scope original claims whose initial adjudication carries a denial "
                "adjustment with the scope's CARC"
            ),
            "baseline_rate": rate(t.model_before)
            if t.model_before[0]
            else rate(t.model_window_base),
            "baseline_rate_in_window_without_pattern": rate(t.model_window_base),
            "elevated_rate": rate(t.model_window),
            "rate_after_end": rate(t.model_after),
            "reason_probability_in_window": p.elevated_rate,
            "expected_extra_denials": round(t.extra_expected, 2),
            "expected_extra_denied_charges": f"{t.extra_charges_expected:.2f}",
            "realised": {
                "before": {
                    "claims_adjudicated": before[0],
                    "claims_with_carc": before[1],
                    "rate": round(before[1] / before[0], 6) if before[0] else None,
                },
                "window": {
                    "claims_adjudicated": window[0],
                    "claims_with_carc": window[1],
                    "rate": round(window[1] / window[0], 6) if window[0] else None,
                },
            },
            "weekly": weekly,
            "detect_with": "p-chart of the rate by submission week, in scope; limits from the weeks before",
            "monday_of_start": iso(monday(start_ord)),
        }
