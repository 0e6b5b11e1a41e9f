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
    "initial_adjudication": (
        "The first 835 claim payment (CLP) of an original claim (frequency 1) from its primary payer. "
        "Adjudications of corrected claims, secondary payers, reversals and re-adjudications are not initial."
    ),
    "initial_denial": (
        "The initial adjudication carries at least one adjustment (claim or line CAS) whose group is CO, PI "
        "or OA and whose CARC has is_denial=true in transforms/reference/carc_categories.csv (DOMAIN.md). "
        "full: CLP04 = 0; partial: CLP04 > 0 with some lines denied."
    ),
    "initially_denied_claim_charges": "Sum of CLP03 (= total_charge) of the claims with an initial denial.",
    "initially_denied_amount": "Sum of the denial adjustment amounts on the initial adjudications.",
    "week": (
        "ISO week of the original claim's submission_date (the bill date), unless the field says "
        "by_initial_payment_week (ISO week of BPR16 of the initial adjudication)."
    ),
    "outstanding_ar": (
        "As of the end date, over claim submissions billed to a payer and not replaced by a later corrected "
        "claim (a claim_id that is some frequency-7 claim's original_claim_id is replaced): total_charge "
        "- sum(CLP04 of every adjudication with that CLP01, reversals included) - sum(CAS amounts of those "
        "adjudications that are not denials: group PR, or CO/PI/OA with is_denial=false; except OA-23, and "
        "except PR on adjudications forwarded to a secondary payer, CLP02 19/20/21) - sum(write_offs of "
        "that claim_id). Denial adjustments stay in A/R until paid, corrected or written off. PLB "
        "(interest, recoveries) is provider-level and not part of any claim's balance. Self-pay claims are "
        "not in it (self_pay_outstanding: their charges - their write-offs; patient payments are not "
        "modelled)."
    ),
    "aging": "A/R aged from service_from to the end date: 0-30, 31-60, 61-90, 91-120, over 120 days.",
    "money": "Decimal strings with two places; CAS and PLB amounts as sent (positive reduces payment).",
}


def all_adjustments(a: Adjudication) -> list[tuple[str, str, int]]:
    out = list(a.claim_adjustments)
    for x in a.lines:
        out.extend(x.adjustments)
    return out


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
                if (
                    ref.is_denial(g, carc)
                    or (g == "OA" and carc == "23")
                    or (g == "PR" and a.status in FORWARDED)
                ):
                    continue
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
        init = next((a for a in adjs if a.kind == "initial"), None)
        dept = ref.DEPARTMENTS[s.department].name
        payer_id = ref.PAYERS[s.payer].payer_id
        denial = (
            []
            if init is None
            else [(g, c, a) for g, c, a in all_adjustments(init) if ref.is_denial(g, c)]
        )
        if init is not None:
            wk.adjudicated += 1
            self.c["adjudicated"] += 1
            self.c["adjudicated_charges"] += s.charge
            self.payer_adj[payer_id] += 1
            self.dept_adj[dept] += 1
            pw = self.pay_weeks[iso_week(init.payment_ord)]
            pw["adjudicated"] += 1
            if denial:
                pw["initially_denied"] += 1
        if denial:
            assert init is not None
            amount = sum(a for _, _, a in denial)
            wk.initially_denied += 1
            wk.denied_claim_charges += s.charge
            wk.denied_amount += amount
            self.c["denied"] += 1
            self.c["denied_claim_charges"] += s.charge
            self.c["denied_amount"] += amount
            self.c["denied_full" if init.paid == 0 else "denied_partial"] += 1
            self.c[
                "denied_status4" if init.status == "4" else "denied_status_other"
            ] += 1
            self.payer_denied[payer_id] += 1
            self.dept_denied[dept] += 1
            cats = {
                ref.carc_table().get(c, ("unmapped", True))[0] for _, c, _ in denial
            }
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
        self.files["remittances"] += 1
        self.c["transactions_835"] += n_transactions
        self.c["bpr02"] += bpr02
        for reason, _, amount in plb:
            self.plb[reason] += amount
            self.c["plb"] += amount
            self.c["plb_pairs"] += 1

    def add_file(self, folder: str) -> None:
        self.files[folder] += 1

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
                "share of adjudicated in-scope original claims whose initial adjudication carries a CO/PI/OA "
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
