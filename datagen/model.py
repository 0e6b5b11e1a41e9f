"""Claim and adjudication simulation, one submission week at a time.

For each week the random draws are vectorised over the week's claims (numpy, one Generator per
week seeded from the run seed and the week index); a per-claim loop then assembles the claim, its
first adjudication and everything that follows from it (crossover to a secondary payer, reversal
and re-adjudication, corrected claim, appeal, write-off), keeping only the events dated on or
before the end of the generated window. Money is integer cents throughout.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from datagen import reference as ref
from datagen.dates import weekday
from datagen.patterns import Pattern

NO_PROVIDER = -1


@dataclass(slots=True)
class ClaimLine:
    line_number: int
    proc: int  # index into reference.PROCEDURES
    modifier: str
    units: int
    charge: int
    service_ord: int


@dataclass(slots=True)
class Submission:
    """One claim submission (an original, or a corrected claim replacing one)."""

    claim_id: str
    seq: int  # the original's sequence number
    institutional: bool
    frequency: str  # 1 original, 7 replacement
    original_claim_id: str
    original_icn: (
        str  # the payer's claim number of the adjudication being corrected (REF*F8)
    )
    submission_ord: int
    from_ord: int
    to_ord: int
    charge: int
    payer: int
    secondary: int  # secondary payer index or -1
    department: int
    location: int
    provider: int  # rendering / attending provider, NO_PROVIDER when left off the claim
    place_of_service: str
    prior_auth: str
    diagnoses: tuple[str, ...]
    patient: int
    lines: list[ClaimLine]
    replaced: bool = False  # a corrected claim replacing this one was submitted


@dataclass(slots=True)
class RemitLine:
    line_number: int  # the billed line it answers (REF*6R)
    proc: int
    modifier: str
    units: int
    charge: int
    paid: int
    allowed: int  # -1: not reported (denied line)
    service_ord: int
    adjustments: list[tuple[str, str, int]]  # (group, carc, amount)
    remarks: tuple[str, ...]


@dataclass(slots=True)
class Adjudication:
    """One 835 claim payment (CLP loop)."""

    kind: (
        str  # initial | secondary | reversal | readjudication | overturn | resubmission
    )
    claim_id: str
    seq: int
    payer: int
    payee: str  # PRO | FAC: which billing entity it pays
    payment_ord: int
    received_ord: int
    status: str  # CLP02
    charge: int
    paid: int
    patient_resp: int
    icn: str  # CLP07
    frequency: str  # CLP09
    facility_code: str  # CLP08
    from_ord: int
    to_ord: int
    patient: int
    member_id: str
    lines: list[RemitLine]  # empty: adjudicated at claim level
    claim_adjustments: list[tuple[str, str, int]]
    remarks: tuple[str, ...]
    interest: int = 0  # prompt-pay interest paid with it (PLB L6), cents
    case: str = ""  # the planted case it belongs to (reference.PLANTED_CASES ...), if any


@dataclass(slots=True)
class WriteOff:
    claim_id: str
    writeoff_ord: int
    amount: int
    reason: str
    carc: str


@dataclass
class PatternWeek:
    """Expected (model) figures for one pattern in one week's in-scope claims."""

    claims: int = 0
    # sum over in-scope claims of the CARC's probability without the pattern
    base_p: float = 0.0
    final_p: float = 0.0  # ... with the pattern
    adjudicated: int = 0
    # sum over adjudicated in-scope claims of (final - base), and the same weighted by charge
    extra_expected: float = 0.0
    extra_charges_expected: float = 0.0


@dataclass
class WeekResult:
    week: int
    submissions: list[Submission]
    adjudications: list[Adjudication]
    write_offs: list[WriteOff]
    patterns: dict[str, PatternWeek] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Patients
# --------------------------------------------------------------------------------------------


@dataclass
class PatientPool:
    payer: np.ndarray  # primary payer index
    secondary: np.ndarray  # secondary payer index or -1
    birth_ord: np.ndarray
    female: np.ndarray

    @property
    def size(self) -> int:
        return len(self.payer)

    @staticmethod
    def last_name(i: int) -> str:
        return ref.PATIENT_LAST_NAMES[i % len(ref.PATIENT_LAST_NAMES)]

    @staticmethod
    def first_name(i: int) -> str:
        return ref.PATIENT_FIRST_NAMES[
            (i // len(ref.PATIENT_LAST_NAMES)) % len(ref.PATIENT_FIRST_NAMES)
        ]

    @staticmethod
    def member_id(i: int) -> str:
        return f"ZZM{(i * 7919 + 100003) % 1_000_000_000:09d}"

    @staticmethod
    def secondary_member_id(i: int) -> str:
        return f"ZZS{(i * 7919 + 100003) % 1_000_000_000:09d}"

    @staticmethod
    def street(i: int) -> str:
        return f"{100 + i % 8900} ZZTEST STREET"


def make_patient_pool(seed: int, size: int, reference_ord: int) -> PatientPool:
    rng = np.random.default_rng([seed, 0])
    shares = np.array([p.share for p in ref.PAYERS])
    payer = rng.choice(len(ref.PAYERS), size, p=shares / shares.sum())
    secondary = np.full(size, -1, dtype=np.int64)
    u = rng.random(size)
    pick = rng.random(size)
    for pid, (prob, options) in ref.SECONDARY_COVERAGE.items():
        m = (payer == ref.PAYER_INDEX[pid]) & (u < prob)
        ids = np.array([ref.PAYER_INDEX[s] for s, _ in options])
        w = np.cumsum([wt for _, wt in options])
        secondary[m] = ids[
            np.searchsorted(w / w[-1], pick[m], side="right").clip(0, len(ids) - 1)
        ]
    is_medicare = payer == ref.PAYER_INDEX["MCR01"]
    age = np.where(is_medicare, rng.integers(65, 96, size), rng.integers(0, 65, size))
    disabled = is_medicare & (rng.random(size) < 0.05)
    age = np.where(disabled, rng.integers(30, 65, size), age)
    workers_comp = payer == ref.PAYER_INDEX["TCW01"]
    age = np.where(workers_comp, rng.integers(18, 65, size), age)
    birth = reference_ord - age * 365 - rng.integers(0, 365, size)
    female = rng.random(size) < 0.54
    return PatientPool(payer, secondary, birth, female)


# --------------------------------------------------------------------------------------------
# Static tables derived from the reference data
# --------------------------------------------------------------------------------------------


@dataclass
class Tables:
    reason_p: (
        np.ndarray
    )  # (payer, department, institutional, reason) initial-denial probabilities
    next_pay: np.ndarray  # (payer, weekday) days to the payer's next payment day
    price: np.ndarray
    units_lo: np.ndarray
    units_hi: np.ndarray
    n_mods: np.ndarray
    kind: np.ndarray  # procedure kind as a small int
    fee: np.ndarray


KINDS = ("em", "lab", "img", "proc", "drug", "ther", "beh")


def build_tables() -> Tables:
    n_p, n_d, n_k = len(ref.PAYERS), len(ref.DEPARTMENTS), len(ref.DENIAL_REASONS)
    reason_p = np.zeros((n_p, n_d, 2, n_k))
    cat_of = [r.category for r in ref.DENIAL_REASONS]
    for p, payer in enumerate(ref.PAYERS):
        if payer.payer_type == "self_pay":
            continue
        for d, dept in enumerate(ref.DEPARTMENTS):
            for t, ctype in enumerate(("professional", "institutional")):
                w = np.zeros(n_k)
                for k, r in enumerate(ref.DENIAL_REASONS):
                    if r.claim_type and r.claim_type != ctype:
                        continue
                    cat_w = sum(
                        x.weight for x in ref.DENIAL_REASONS if x.category == cat_of[k]
                    )
                    w[k] = (
                        payer.category_mix.get(r.category, 0.0)
                        * dept.category_factor.get(r.category, 1.0)
                        * r.weight
                        / cat_w
                    )
                reason_p[p, d, t] = w / w.sum() * payer.denial_base * dept.denial_factor
    next_pay = np.zeros((n_p, 7), dtype=np.int64)
    for p, payer in enumerate(ref.PAYERS):
        for wd in range(7):
            days = 0
            while payer.pay_weekdays and (wd + days) % 7 not in payer.pay_weekdays:
                days += 1
            next_pay[p, wd] = days
    procs = ref.PROCEDURES
    return Tables(
        reason_p=reason_p,
        next_pay=next_pay,
        price=np.array([p.price for p in procs], dtype=np.int64),
        units_lo=np.array([p.units[0] for p in procs], dtype=np.int64),
        units_hi=np.array([p.units[1] for p in procs], dtype=np.int64),
        n_mods=np.array([len(p.modifiers) for p in procs], dtype=np.int64),
        kind=np.array([KINDS.index(p.kind) for p in procs], dtype=np.int64),
        fee=ref.fee_schedule(),
    )


# --------------------------------------------------------------------------------------------
# The week simulation
# --------------------------------------------------------------------------------------------


CHUNK_CLAIMS = (
    20_000  # claims simulated together at most (a week is split into even batches)
)


@dataclass(frozen=True)
class Batch:
    """Claims simulated together: all or part of one submission week."""

    week: int
    index: int  # within the week
    seq0: int  # number of its first claim
    claims: int
    last_in_week: bool


@dataclass
class Plan:
    seed: int
    weeks: int
    start_ord: int
    end_ord: int
    week_counts: np.ndarray
    batches: tuple[Batch, ...]
    pool: PatientPool
    patterns: tuple[Pattern, ...]
    tables: Tables


def make_plan(
    seed: int, claims: int, weeks: int, start: date, patterns: tuple[Pattern, ...]
) -> Plan:
    rng = np.random.default_rng([seed, 1])
    # weekly volume: a gentle upward trend plus noise
    weights = 1.0 + 0.04 * rng.standard_normal(weeks) + np.linspace(-0.03, 0.03, weeks)
    counts = rng.multinomial(claims, weights / weights.sum())
    batches = []
    seq = 1  # claim numbers start at 1 and run on from week to week
    for w, count in enumerate(counts.tolist()):
        k = max(1, -(-count // CHUNK_CLAIMS))
        for i in range(k):
            size = count // k + (1 if i < count % k else 0)
            batches.append(Batch(w, i, seq, size, i == k - 1))
            seq += size
    start_ord = start.toordinal()
    end_ord = start_ord + 7 * weeks - 1
    pool = make_patient_pool(seed, max(500, claims // 3), end_ord)
    return Plan(
        seed,
        weeks,
        start_ord,
        end_ord,
        counts,
        tuple(batches),
        pool,
        patterns,
        build_tables(),
    )


def _gamma_days(
    rng: np.random.Generator, mean: np.ndarray | float, n: int
) -> np.ndarray:
    return np.floor(rng.gamma(2.0, 1.0, n) * np.asarray(mean) / 2.0).astype(np.int64)


class _Week:
    """Vectorised draws for one batch of a submission week."""

    def __init__(self, plan: Plan, batch: Batch):
        self.plan = plan
        t = plan.tables
        w = batch.week
        rng = np.random.default_rng([plan.seed, 2, w, batch.index])
        n = batch.claims
        self.n = n
        self.seq0 = batch.seq0
        payers, depts = ref.PAYERS, ref.DEPARTMENTS
        org = ref.organisation()

        pat = rng.integers(0, plan.pool.size, n)
        self.patient = pat
        payer = plan.pool.payer[pat]
        self.payer = payer
        self.secondary = plan.pool.secondary[pat]
        dept_w = np.array([d.weight for d in depts])
        dept = rng.choice(len(depts), n, p=dept_w / dept_w.sum())
        self.dept = dept
        loc = np.zeros(n, dtype=np.int64)
        prov = np.zeros(n, dtype=np.int64)
        for d, dep in enumerate(depts):
            m = dept == d
            k = int(m.sum())
            lw = np.array([x[1] for x in dep.locations])
            loc[m] = rng.choice(
                [ref.LOCATION_INDEX[x[0]] for x in dep.locations], k, p=lw / lw.sum()
            )
            prov[m] = np.array(org.providers_by_dept[d])[
                rng.integers(0, len(org.providers_by_dept[d]), k)
            ]
        self.loc = loc
        is_fac = np.array([x.is_facility for x in ref.LOCATIONS])
        inst_share = np.array([d.institutional_share for d in depts])
        inst = (rng.random(n) < inst_share[dept]) & is_fac[loc]
        self.inst = inst
        self.prov = prov
        monday = plan.start_ord + 7 * w
        self.sub_ord = monday + rng.choice(5, n, p=[0.22, 0.21, 0.20, 0.19, 0.18])
        self.svc_lag = np.where(inst, 3, 1) + rng.geometric(0.3, n) - 1
        self.span = np.where(inst & (rng.random(n) < 0.2), rng.integers(1, 3, n), 0)

        # lines
        nl = np.zeros(n, dtype=np.int64)
        for d, dep in enumerate(depts):
            m = dept == d
            cw = np.array([x[1] for x in dep.lines])
            nl[m] = rng.choice([x[0] for x in dep.lines], int(m.sum()), p=cw / cw.sum())
        self.nl = nl
        n_lines = int(nl.sum())
        lc = np.repeat(np.arange(n), nl)
        self.lc = lc
        lstart = np.cumsum(nl) - nl
        self.lstart = lstart
        proc = np.zeros(n_lines, dtype=np.int64)
        for d, dep in enumerate(depts):
            m = dept[lc] == d
            pw = np.array([x[1] for x in dep.procedures], dtype=float)
            ids = np.array([ref.PROC_INDEX[x[0]] for x in dep.procedures])
            proc[m] = ids[rng.choice(len(ids), int(m.sum()), p=pw / pw.sum())]
        self.proc = proc
        units = t.units_lo[proc] + (
            rng.random(n_lines) * (t.units_hi[proc] - t.units_lo[proc] + 1)
        ).astype(np.int64)
        self.units = units
        self.mod_choice = (rng.random(n_lines) * t.n_mods[proc]).astype(np.int64)
        kind = t.kind[proc]
        self.kind = kind
        self.pro26 = (~inst[lc]) & (kind == KINDS.index("img")) & is_fac[loc[lc]]
        factor = np.where(self.pro26, 3000, 10000)
        charge = t.price[proc] * units * factor // 10000
        self.charge = charge
        self.line_offset = (rng.random(n_lines) * (self.span[lc] + 1)).astype(np.int64)

        # payment (clean adjudication of every line)
        payer_l = payer[lc]
        fee = t.fee[payer_l, proc] * units * factor // 10000
        allowed = np.minimum(fee, charge)
        ded_p = np.array([p.deductible_p for p in payers])
        has_ded = rng.random(n) < ded_p[payer]
        ded_amt = rng.integers(2000, 50001, n) * has_ded
        cs = np.cumsum(allowed)
        before = cs - allowed - (cs[lstart] - allowed[lstart])[lc]
        ded = np.clip(ded_amt[lc] - before, 0, allowed)
        rem = allowed - ded
        is_mcr = np.array([p.payer_type == "medicare" for p in payers])
        coins_bp = np.array([p.coinsurance_bp for p in payers])
        coins_p = np.array([p.coinsurance_p for p in payers])
        coins_on = (rng.random(n) < coins_p[payer])[lc]
        em = kind == KINDS.index("em")
        line_ok = np.where(is_mcr[payer_l], kind != KINDS.index("lab"), ~em)
        coins = (rem * coins_bp[payer_l] * (coins_on & line_ok) + 5000) // 10000
        copay_amt = np.array([p.copay for p in payers])
        copay_p = np.array([p.copay_p for p in payers])
        copay_on = (rng.random(n) < copay_p[payer])[lc]
        em_pos = np.where(em, np.arange(n_lines), n_lines)
        first_em = np.minimum.reduceat(em_pos, lstart) if n_lines else em_pos
        is_first_em = np.arange(n_lines) == first_em[lc]
        copay = np.where(
            is_first_em & copay_on, np.minimum(copay_amt[payer_l], rem - coins), 0
        )
        seq_on = np.array([p.sequestration for p in payers])[payer_l]
        sequestration = np.where(
            seq_on, ((rem - coins - copay) * 200 + 5000) // 10000, 0
        )
        self.allowed = allowed
        self.ded = ded
        self.coins = coins
        self.copay = copay
        self.sequestration = sequestration
        self.paid = rem - coins - copay - sequestration

        # initial denial reason
        probs = t.reason_p[payer, dept, inst.astype(np.int64)]
        self.patterns: dict[str, PatternWeek] = {}
        self.pattern_masks: list[tuple[Pattern, np.ndarray]] = []
        base_probs = probs.copy()
        for pattern in plan.patterns:
            mask = self._scope(pattern)
            active = pattern.start_week <= w and (
                pattern.end_week is None or w < pattern.end_week
            )
            if active:
                probs[mask, ref.REASON_INDEX[pattern.reason]] = pattern.elevated_rate
            self.pattern_masks.append((pattern, mask))
        self.base_probs = base_probs
        self.probs = probs
        cum = np.cumsum(probs, axis=1)
        self.reason = (rng.random(n)[:, None] >= cum).sum(axis=1)  # n_k: no denial
        self.denied_line = (rng.random(n) * nl).astype(np.int64)
        alt_p = np.array([r.alt_p for r in ref.DENIAL_REASONS] + [0.0])
        self.use_alt = rng.random(n) < alt_p[self.reason]
        status4 = np.array([p.status4_share for p in payers])
        self.status4 = rng.random(n) < status4[payer]

        # dates that depend on the outcome
        tf = self.reason == ref.REASON_INDEX["TF29"]
        limit = np.array([p.filing_limit for p in payers])
        late = limit[payer] + rng.integers(5, 61, n)
        self.from_ord = np.where(
            tf, self.sub_ord - late, self.sub_ord - self.svc_lag - self.span
        )
        self.to_ord = self.from_ord + self.span
        needs_auth = np.array([d.needs_auth for d in depts])
        auth_payer = np.array(
            [p.payer_type in ("commercial", "medicaid", "other") for p in payers]
        )
        no_auth = (self.reason == ref.REASON_INDEX["AUTH197"]) | (
            self.reason == ref.REASON_INDEX["AUTH288"]
        )
        self.has_auth = (
            needs_auth[dept] & auth_payer[payer] & (rng.random(n) < 0.9) & ~no_auth
        )
        self.auth_no = rng.integers(100_000_000, 1_000_000_000, n)
        self.drop_provider = (self.reason == ref.REASON_INDEX["MI16_N290"]) & ~inst
        ndx = rng.integers(1, 4, n)
        self.n_dx = ndx
        self.dx_pick = rng.integers(0, 1000, (n, 3))

        # timing of the adjudications
        lag_min = np.array([p.lag_min for p in payers])
        lag_extra = np.array([p.lag_extra for p in payers])
        self.recv_ord = self.sub_ord + 1 + (rng.random(n) < 0.3)
        self.pay_ord = self._pay_day(
            payer, self.sub_ord + lag_min[payer] + _gamma_days(rng, lag_extra[payer], n)
        )
        self.r1_lag = 5 + _gamma_days(rng, 12.0, n)
        self.r1_pay_lag = lag_min[payer] + _gamma_days(rng, lag_extra[payer], n)
        self.appeal_lag = 30 + _gamma_days(rng, 24.0, n)
        self.wo_lag = 30 + rng.integers(0, 91, n)
        self.rev_lag = 20 + rng.integers(0, 71, n)
        self.sec_lag = 7 + rng.integers(0, 15, n)
        self.u_path = rng.random(n)
        self.u_outcome = rng.random(n)
        self.u_wo = rng.random(n)
        self.u_rev = rng.random(n)
        self.u_rev_denial = rng.random(n)
        self.u_reversal_first = rng.random(n)
        self.readj_bp = rng.integers(-1500, 1001, n)
        self.sec_ded = (rng.random(n) < 0.15) * rng.integers(500, 5001, n)
        self.self_pay_u = rng.random(n)
        # the planted cases draw from their own stream: the draws above do not move
        crng = np.random.default_rng([plan.seed, 4, w, batch.index])
        self.case_u = crng.random(n)
        self.case_v = crng.random((n, 3))
        self.case_sec = crng.random(n)
        for pattern, mask in self.pattern_masks:
            self.patterns[pattern.key] = self._pattern_week(pattern, mask)

    def _scope(self, p: Pattern) -> np.ndarray:
        m = self.payer != ref.SELF_PAY
        if p.payer_id is not None:
            m &= self.payer == ref.PAYER_INDEX[p.payer_id]
        if p.department is not None:
            m &= self.dept == ref.DEPT_INDEX[p.department]
        if p.location is not None:
            m &= self.loc == ref.LOCATION_INDEX[p.location]
        if p.claim_type is not None:
            m &= self.inst == (p.claim_type == "institutional")
        return m

    def _pay_day(self, payer: np.ndarray | int, target: np.ndarray | int) -> np.ndarray:
        wd = (np.asarray(target) + 6) % 7
        return np.asarray(target) + self.plan.tables.next_pay[payer, wd]

    def _pattern_week(self, pattern: Pattern, mask: np.ndarray) -> PatternWeek:
        carc = ref.DENIAL_REASONS[ref.REASON_INDEX[pattern.reason]].carc
        cols = [k for k, r in enumerate(ref.DENIAL_REASONS) if r.carc == carc]
        base = self.base_probs[mask][:, cols].sum(axis=1)
        final = self.probs[mask][:, cols].sum(axis=1)
        adjudicated = self.pay_ord[mask] <= self.plan.end_ord
        charges = (
            np.bincount(self.lc, weights=self.charge, minlength=self.n)[mask] / 100.0
        )
        extra = (final - base)[adjudicated]
        return PatternWeek(
            claims=int(mask.sum()),
            base_p=float(base.sum()),
            final_p=float(final.sum()),
            adjudicated=int(adjudicated.sum()),
            extra_expected=float(extra.sum()),
            extra_charges_expected=float((extra * charges[adjudicated]).sum()),
        )


class _Builder:
    """Per-claim assembly of submissions, adjudications and write-offs for one week."""

    def __init__(self, plan: Plan, wk: _Week, w: int):
        self.plan = plan
        self.wk = wk
        self.end = plan.end_ord
        self.result = WeekResult(w, [], [], [], wk.patterns)
        org = ref.organisation()
        self.pos_of_dept = [d.place_of_service for d in ref.DEPARTMENTS]
        self.is_fac = [x.is_facility for x in org.locations]
        L = wk  # short alias for the arrays, as Python lists for fast scalar access
        self.l_proc = L.proc.tolist()
        self.l_units = L.units.tolist()
        self.l_mod = L.mod_choice.tolist()
        self.l_pro26 = L.pro26.tolist()
        self.l_charge = L.charge.tolist()
        self.l_offset = L.line_offset.tolist()
        self.l_allowed = L.allowed.tolist()
        self.l_ded = L.ded.tolist()
        self.l_coins = L.coins.tolist()
        self.l_copay = L.copay.tolist()
        self.l_seq = L.sequestration.tolist()
        self.l_paid = L.paid.tolist()

    # -- lines -------------------------------------------------------------------------------
    def claim_lines(self, i: int, from_ord: int) -> list[ClaimLine]:
        wk = self.wk
        start = int(wk.lstart[i])
        out = []
        for j in range(start, start + int(wk.nl[i])):
            proc = self.l_proc[j]
            mods = ref.PROCEDURES[proc].modifiers
            mod = "26" if self.l_pro26[j] else mods[self.l_mod[j]]
            out.append(
                ClaimLine(
                    j - start + 1,
                    proc,
                    mod,
                    self.l_units[j],
                    self.l_charge[j],
                    from_ord + self.l_offset[j],
                )
            )
        return out

    def remit_lines(
        self,
        i: int,
        claim: Submission,
        denied: set[int] | None,
        group: str,
        reason: ref.DenialReason | None,
    ) -> list[RemitLine]:
        """Adjudicated lines: ``denied`` holds the 0-based lines denied (None: all paid)."""
        start = int(self.wk.lstart[i])
        out = []
        for k, cl in enumerate(claim.lines):
            j = start + k
            if denied is not None and k in denied and reason is not None:
                out.append(
                    RemitLine(
                        cl.line_number,
                        cl.proc,
                        cl.modifier,
                        cl.units,
                        cl.charge,
                        0,
                        -1,
                        cl.service_ord,
                        [(group, reason.carc, cl.charge)],
                        reason.rarcs,
                    )
                )
                continue
            adjs: list[tuple[str, str, int]] = []
            co45 = cl.charge - self.l_allowed[j]
            if co45:
                adjs.append(("CO", "45", co45))
            if self.l_seq[j]:
                adjs.append(("CO", "253", self.l_seq[j]))
            if self.l_ded[j]:
                adjs.append(("PR", "1", self.l_ded[j]))
            if self.l_coins[j]:
                adjs.append(("PR", "2", self.l_coins[j]))
            if self.l_copay[j]:
                adjs.append(("PR", "3", self.l_copay[j]))
            out.append(
                RemitLine(
                    cl.line_number,
                    cl.proc,
                    cl.modifier,
                    cl.units,
                    cl.charge,
                    self.l_paid[j],
                    self.l_allowed[j],
                    cl.service_ord,
                    adjs,
                    (),
                )
            )
        return out

    # -- adjudications -------------------------------------------------------------------------
    def adjudication(
        self,
        kind: str,
        claim: Submission,
        payer: int,
        pay_ord: int,
        status: str,
        lines: list[RemitLine],
        icn: str,
        received_ord: int,
        claim_level: bool,
        member_id: str,
    ) -> Adjudication:
        paid = sum(x.paid for x in lines)
        pr = sum(a[2] for x in lines for a in x.adjustments if a[0] == "PR")
        remarks: tuple[str, ...] = ()
        claim_adjs: list[tuple[str, str, int]] = []
        if claim_level:
            totals: dict[tuple[str, str], int] = {}
            rem: list[str] = []
            for x in lines:
                for g, c, a in x.adjustments:
                    totals[(g, c)] = totals.get((g, c), 0) + a
                for r in x.remarks:
                    if r not in rem:
                        rem.append(r)
            claim_adjs = [(g, c, a) for (g, c), a in totals.items() if a]
            remarks = tuple(rem)
            lines = []
        facility = "13" if claim.institutional else claim.place_of_service
        return Adjudication(
            kind,
            claim.claim_id,
            claim.seq,
            payer,
            "FAC" if claim.institutional else "PRO",
            pay_ord,
            received_ord,
            status,
            claim.charge,
            paid,
            pr,
            icn,
            claim.frequency,
            facility,
            claim.from_ord,
            claim.to_ord,
            claim.patient,
            member_id,
            lines,
            claim_adjs,
            remarks,
        )

    @staticmethod
    def reversal(adj: Adjudication, pay_ord: int) -> Adjudication:
        lines = [
            RemitLine(
                x.line_number,
                x.proc,
                x.modifier,
                x.units,
                -x.charge,
                -x.paid,
                -x.allowed if x.allowed >= 0 else -1,
                x.service_ord,
                [(g, c, -a) for g, c, a in x.adjustments],
                x.remarks,
            )
            for x in adj.lines
        ]
        return Adjudication(
            "reversal",
            adj.claim_id,
            adj.seq,
            adj.payer,
            adj.payee,
            pay_ord,
            adj.received_ord,
            "22",
            -adj.charge,
            -adj.paid,
            -adj.patient_resp,
            adj.icn,
            adj.frequency,
            adj.facility_code,
            adj.from_ord,
            adj.to_ord,
            adj.patient,
            adj.member_id,
            lines,
            [(g, c, -a) for g, c, a in adj.claim_adjustments],
            adj.remarks,
        )

    def pay_day(self, payer: int, target: int) -> int:
        return target + int(self.plan.tables.next_pay[payer, weekday(target)])

    def interest(self, payer: int, paid: int, received_ord: int, pay_ord: int) -> int:
        days = pay_ord - received_ord
        if not ref.PAYERS[payer].pays_interest or days <= 30 or paid <= 0:
            return 0
        # simple interest for the days past 30, rounded half up to the cent
        cents = (paid * ref.INTEREST_RATE_BP * (days - 30) * 2 + 365 * 10000) // (
            2 * 365 * 10000
        )
        return cents if cents >= ref.INTEREST_MINIMUM else 0

    # -- the claim's story ----------------------------------------------------------------------
    def run(self) -> WeekResult:
        wk = self.wk
        res = self.result
        n_k = len(ref.DENIAL_REASONS)
        payer_a = wk.payer.tolist()
        sec_a = wk.secondary.tolist()
        dept_a = wk.dept.tolist()
        loc_a = wk.loc.tolist()
        inst_a = wk.inst.tolist()
        prov_a = wk.prov.tolist()
        sub_a = wk.sub_ord.tolist()
        from_a = wk.from_ord.tolist()
        to_a = wk.to_ord.tolist()
        reason_a = wk.reason.tolist()
        dline_a = wk.denied_line.tolist()
        alt_a = wk.use_alt.tolist()
        st4_a = wk.status4.tolist()
        auth_a = wk.has_auth.tolist()
        authno_a = wk.auth_no.tolist()
        drop_a = wk.drop_provider.tolist()
        ndx_a = wk.n_dx.tolist()
        dxp_a = wk.dx_pick.tolist()
        pat_a = wk.patient.tolist()
        recv_a = wk.recv_ord.tolist()
        pay_a = wk.pay_ord.tolist()
        case_a = wk.case_u.tolist()
        case_v_a = wk.case_v.tolist()
        case_sec_a = wk.case_sec.tolist()  # (crossovers of clean claims; splits of denied ones)
        end = self.end
        for i in range(wk.n):
            seq = wk.seq0 + i
            payer = payer_a[i]
            dept = ref.DEPARTMENTS[dept_a[i]]
            inst = inst_a[i]
            loc = loc_a[i]
            pos = dept.place_of_service
            if not self.is_fac[loc] and pos in ("22", "23", "24"):
                pos = "11"
            dx_list = dept.diagnoses
            first = dxp_a[i][0] % len(dx_list)
            dx = [dx_list[first]]
            for k in range(1, ndx_a[i]):
                c = dx_list[dxp_a[i][k] % len(dx_list)]
                if c not in dx:
                    dx.append(c)
            claim = Submission(
                claim_id=f"CL{seq:08d}",
                seq=seq,
                institutional=inst,
                frequency="1",
                original_claim_id="",
                original_icn="",
                submission_ord=sub_a[i],
                from_ord=from_a[i],
                to_ord=to_a[i],
                charge=0,
                payer=payer,
                secondary=sec_a[i],
                department=dept_a[i],
                location=loc,
                provider=NO_PROVIDER if drop_a[i] else prov_a[i],
                place_of_service=pos,
                prior_auth=f"PA{authno_a[i]}" if auth_a[i] else "",
                diagnoses=tuple(dx),
                patient=pat_a[i],
                lines=[],
            )
            claim.lines = self.claim_lines(i, from_a[i])
            claim.charge = sum(x.charge for x in claim.lines)
            res.submissions.append(claim)
            if payer == ref.SELF_PAY:
                self.self_pay(i, claim)
                continue
            pay = pay_a[i]
            if pay > end:
                continue  # not adjudicated yet: in A/R
            r = reason_a[i]
            reason = ref.DENIAL_REASONS[r] if r < n_k else None
            member = PatientPool.member_id(claim.patient)
            claim_level = inst and ref.PAYERS[payer].claim_level_institutional
            case = planted_case(case_a[i])
            planted = ""  # the case this claim's initial adjudication carries
            if reason is None and case in ("pr_coverage_denial", "status4_contractual"):
                planted = case
                reason = self.planted_reason(case, payer, case_v_a[i])
            if reason is None:
                denied: set[int] | None = None
                group = ""
            else:
                denied = set(range(len(claim.lines))) if reason.level == "claim" or len(claim.lines) == 1 else {dline_a[i]}
                group = reason.group if planted or not alt_a[i] else reason.alt_group
            lines = self.remit_lines(i, claim, denied, group, reason)
            full = denied is not None and len(denied) == len(claim.lines)
            pr_total = sum(a[2] for x in lines for a in x.adjustments if a[0] == "PR")
            crossover = reason is None and claim.secondary >= 0 and pr_total > 0
            status4 = planted == "status4_contractual" or (full and st4_a[i])
            status = "4" if status4 else ("19" if crossover else "1")
            first_adj = self.adjudication(
                "initial",
                claim,
                payer,
                pay,
                status,
                lines,
                f"{ref.PAYERS[payer].icn_prefix}{seq:08d}0",
                recv_a[i],
                claim_level,
                member,
            )
            first_adj.case = planted
            paid = first_adj.paid
            parts = [first_adj]
            if (
                (
                    case == "split_claim"
                    or (not planted and reason is not None and case_sec_a[i] < ref.SPLIT_DENIED_P)
                )
                and not claim_level
                and len(claim.lines) >= 2
                and status == "1"
            ):
                parts = self.split(first_adj, case_v_a[i])
                first_adj = parts[0]
            first_adj.interest = self.interest(payer, paid, recv_a[i], pay)
            res.adjudications.extend(parts)
            if planted:
                continue  # the patient is billed, or the payer's contract settles it: no follow-up
            if reason is None:
                if crossover:
                    self.crossover(i, claim, first_adj)
                elif wk.u_rev[i] < ref.REVERSAL_RATE and paid > 0:
                    self.reverse(i, claim, parts, claim_level, member)
                elif (
                    case == "reversal_after_replacement"
                    and len(parts) == 1
                    and paid > 0
                ):
                    self.replace_paid_claim(i, claim, first_adj, claim_level, member, case_v_a[i])
            else:
                self.follow_denial(
                    i,
                    claim,
                    parts,
                    reason,
                    group,
                    denied or set(),
                    claim_level,
                    member,
                )
        return res

    def self_pay(self, i: int, claim: Submission) -> None:
        u = float(self.wk.self_pay_u[i])
        acc = 0.0
        for reason, share, days in ref.SELF_PAY_WRITE_OFF:
            acc += share
            if u < acc:
                when = claim.submission_ord + days
                if when <= self.end:
                    self.result.write_offs.append(
                        WriteOff(claim.claim_id, when, claim.charge, reason, "")
                    )
                return

    def crossover(self, i: int, claim: Submission, primary: Adjudication) -> None:
        wk = self.wk
        sec = claim.secondary
        pay = self.pay_day(sec, primary.payment_ord + int(wk.sec_lag[i]))
        if pay > self.end:
            return
        balance = primary.patient_resp
        share = ref.SECONDARY_PAY_SHARE.get(ref.PAYERS[sec].payer_id)
        adjs: list[tuple[str, str, int]] = [("OA", "23", claim.charge - balance)]
        status, case = "2", ""
        if wk.case_sec[i] < ref.SECONDARY_STATUS4_P:
            # planted: the secondary pays nothing and says CLP02=4 without a denial CARC; Medicaid
            # pays no more than its own rate, which the primary's payment exceeds (the provider
            # writes the balance off, CO-45); a commercial plan applies it to its deductible (PR-1)
            status, case, paid = "4", "status4_secondary", 0
            if share is not None:
                adjs.append(("CO", "45", balance))
                pr = 0
            else:
                adjs.append(("PR", "1", balance))
                pr = balance
        elif share is not None:
            paid = balance * int(share * 100) // 100
            if balance - paid:
                adjs.append(("CO", "45", balance - paid))
            pr = 0
        else:
            pr = min(balance, int(wk.sec_ded[i]))
            paid = balance - pr
            if pr:
                adjs.append(("PR", "1", pr))
        adj = Adjudication(
            "secondary",
            claim.claim_id,
            claim.seq,
            sec,
            primary.payee,
            pay,
            primary.payment_ord + 1,
            status,
            claim.charge,
            paid,
            pr,
            f"{ref.PAYERS[sec].icn_prefix}{claim.seq:08d}1",
            claim.frequency,
            primary.facility_code,
            claim.from_ord,
            claim.to_ord,
            claim.patient,
            PatientPool.secondary_member_id(claim.patient),
            [],
            adjs,
            (),
            case=case,
        )
        self.result.adjudications.append(adj)

    # -- planted cases ---------------------------------------------------------------------------
    @staticmethod
    def planted_reason(case: str, payer: int, v: list[float]) -> ref.DenialReason:
        """The adjustment of a planted coverage denial (group PR) or CLP02=4 without a denial CARC."""
        payer_id = ref.PAYERS[payer].payer_id
        if case == "status4_contractual":
            key = "CAP24" if payer_id in ref.CAPITATED_PAYERS else "CON45"
            return ref.STATUS4_CONTRACTUAL[key]
        if v[0] < ref.PR_ELIGIBILITY_SHARE:
            options = ["PR27", "PR31"]
            if ref.PAYERS[payer].payer_type == "commercial":
                options.append("PR32")  # a dependant the plan does not cover
        else:
            options = ["PR96", "PR204"]
        weights = [ref.PR_REASONS[k].weight for k in options]
        u = v[1] * sum(weights)
        for k, wt in zip(options, weights, strict=True):
            if u < wt:
                return ref.PR_REASONS[k]
            u -= wt
        return ref.PR_REASONS[options[-1]]

    @staticmethod
    def split(adj: Adjudication, v: list[float]) -> list[Adjudication]:
        """The payer splits one claim into 2-3 CLP loops with the same CLP01 in the same payment, each
        with its own CLP07 and a run of the lines (no remark: MA15, "claim separated", is retired)."""
        n = len(adj.lines)
        if n >= 3 and v[0] < 0.35:
            a = 1 + int(v[1] * (n - 2))
            cuts = [a, a + 1 + int(v[2] * (n - 1 - a))]
        else:
            cuts = [1 + int(v[1] * (n - 1))]
        bounds = [0, *cuts, n]
        parts = []
        for k in range(len(bounds) - 1):
            lines = adj.lines[bounds[k] : bounds[k + 1]]
            parts.append(
                replace(
                    adj,
                    charge=sum(x.charge for x in lines),
                    paid=sum(x.paid for x in lines),
                    patient_resp=sum(
                        a[2] for x in lines for a in x.adjustments if a[0] == "PR"
                    ),
                    icn=adj.icn if k == 0 else adj.icn[:-1] + str(4 + k),
                    lines=lines,
                    case="split_claim",
                )
            )
        return parts

    def replace_paid_claim(
        self,
        i: int,
        claim: Submission,
        first: Adjudication,
        claim_level: bool,
        member: str,
        v: list[float],
    ) -> None:
        """A paid claim corrected by the provider (frequency 7, a diagnosis added); the payer reverses
        the original's payment (CLP02=22) and pays the replacement in the same 835. Planted only
        when the whole story happens before the end of the window."""
        wk = self.wk
        payer = claim.payer
        target = first.payment_ord + int(wk.r1_lag[i])
        sub = target + (7 - weekday(target) if weekday(target) >= 5 else 0)
        pay = self.pay_day(payer, sub + int(wk.r1_pay_lag[i]))
        if pay > self.end:
            return
        dx = list(claim.diagnoses)
        options = [c for c in ref.DEPARTMENTS[claim.department].diagnoses if c not in dx]
        if options and len(dx) < 12:
            dx.append(options[int(v[2] * len(options))])
        r1 = replace(
            claim,
            claim_id=claim.claim_id + "R1",
            frequency="7",
            original_claim_id=claim.claim_id,
            original_icn=first.icn,
            submission_ord=sub,
            diagnoses=tuple(dx),
            replaced=False,
        )
        claim.replaced = True
        res = self.result
        res.submissions.append(r1)
        reversal = self.reversal(first, pay)
        reversal.case = "reversal_after_replacement"
        res.adjudications.append(reversal)
        lines = self.remit_lines(i, r1, None, "", None)
        adj = self.adjudication(
            "resubmission",
            r1,
            payer,
            pay,
            "1",
            lines,
            f"{ref.PAYERS[payer].icn_prefix}{claim.seq:08d}3",
            sub + 1,
            claim_level,
            member,
        )
        adj.interest = self.interest(payer, adj.paid, sub + 1, pay)
        adj.case = "reversal_after_replacement"
        res.adjudications.append(adj)

    def reverse(
        self,
        i: int,
        claim: Submission,
        parts: list[Adjudication],
        claim_level: bool,
        member: str,
    ) -> None:
        wk = self.wk
        first = parts[0]
        pay = self.pay_day(claim.payer, first.payment_ord + int(wk.rev_lag[i]))
        if pay > self.end:
            return
        res = self.result
        res.adjudications.extend(self.reversal(x, pay) for x in parts)
        icn = f"{ref.PAYERS[claim.payer].icn_prefix}{claim.seq:08d}2"
        if wk.u_rev_denial[i] < ref.REVERSAL_DENIAL_SHARE:
            reason = ref.DENIAL_REASONS[ref.REASON_INDEX["COB22"]]
            lines = self.remit_lines(
                i, claim, set(range(len(claim.lines))), "CO", reason
            )
            adj = self.adjudication(
                "readjudication",
                claim,
                claim.payer,
                pay,
                "1",
                lines,
                icn,
                first.received_ord,
                claim_level,
                member,
            )
            res.adjudications.append(adj)
            if wk.u_wo[i] < 0.5 and pay + int(wk.wo_lag[i]) <= self.end:
                res.write_offs.append(
                    WriteOff(
                        claim.claim_id,
                        pay + int(wk.wo_lag[i]),
                        claim.charge,
                        "denial",
                        "22",
                    )
                )
            return
        lines = self.remit_lines(i, claim, None, "", None)
        target = next((x for x in lines if x.paid > 0), None)
        if target is not None:
            co45 = next((a for a in target.adjustments if a[1] == "45"), None)
            room = co45[2] if co45 else 0
            first_paid = sum(x.paid for x in parts)
            delta = max(
                -target.paid, min(room, first_paid * int(wk.readj_bp[i]) // 10000)
            )
            target.paid += delta
            target.allowed += delta
            target.adjustments = [
                (g, c, a - delta) if (g, c) == ("CO", "45") else (g, c, a)
                for g, c, a in target.adjustments
            ]
            if co45 is None and delta:
                target.adjustments.insert(0, ("CO", "45", -delta))
            target.adjustments = [a for a in target.adjustments if a[2]]
        res.adjudications.append(
            self.adjudication(
                "readjudication",
                claim,
                claim.payer,
                pay,
                "1",
                lines,
                icn,
                first.received_ord,
                claim_level,
                member,
            )
        )

    def follow_denial(
        self,
        i: int,
        claim: Submission,
        parts: list[Adjudication],
        reason: ref.DenialReason,
        group: str,
        denied: set[int],
        claim_level: bool,
        member: str,
    ) -> None:
        wk = self.wk
        res = self.result
        first = parts[0]  # a split adjudication: its first CLP loop carries the claim's ICN
        plan = ref.RESOLUTIONS[reason.category]
        u = float(wk.u_path[i])
        denied_amount = sum(claim.lines[k].charge for k in denied)
        partial = len(denied) < len(claim.lines)
        end = self.end
        payer = claim.payer
        prefix = ref.PAYERS[payer].icn_prefix
        if u < plan.resubmit:
            target = first.payment_ord + int(wk.r1_lag[i])
            sub = target + (7 - weekday(target) if weekday(target) >= 5 else 0)
            if sub > end:
                return
            r1 = Submission(
                claim_id=claim.claim_id + "R1",
                seq=claim.seq,
                institutional=claim.institutional,
                frequency="7",
                original_claim_id=claim.claim_id,
                original_icn=first.icn,
                submission_ord=sub,
                from_ord=claim.from_ord,
                to_ord=claim.to_ord,
                charge=claim.charge,
                payer=payer,
                secondary=claim.secondary,
                department=claim.department,
                location=claim.location,
                provider=claim.provider
                if claim.provider != NO_PROVIDER
                else int(wk.prov[i]),
                place_of_service=claim.place_of_service,
                prior_auth=claim.prior_auth
                or (
                    f"PA{int(wk.auth_no[i]) + 1}"
                    if reason.category == "authorization_referral"
                    else ""
                ),
                diagnoses=claim.diagnoses,
                patient=claim.patient,
                lines=claim.lines,
            )
            claim.replaced = True
            res.submissions.append(r1)
            pay = self.pay_day(payer, sub + int(wk.r1_pay_lag[i]))
            if pay > end:
                return
            if partial:
                res.adjudications.extend(self.reversal(x, pay) for x in parts)
            received = sub + 1
            if wk.u_outcome[i] < plan.resubmit_paid:
                lines = self.remit_lines(i, r1, None, "", None)
                adj = self.adjudication(
                    "resubmission",
                    r1,
                    payer,
                    pay,
                    "1",
                    lines,
                    f"{prefix}{claim.seq:08d}3",
                    received,
                    claim_level,
                    member,
                )
                adj.interest = self.interest(payer, adj.paid, received, pay)
                res.adjudications.append(adj)
            else:
                lines = self.remit_lines(i, r1, denied, group, reason)
                full = len(denied) == len(r1.lines)
                adj = self.adjudication(
                    "resubmission",
                    r1,
                    payer,
                    pay,
                    "4" if full and wk.status4[i] else "1",
                    lines,
                    f"{prefix}{claim.seq:08d}3",
                    received,
                    claim_level,
                    member,
                )
                res.adjudications.append(adj)
                when = pay + int(wk.wo_lag[i])
                if wk.u_wo[i] < 0.7 and when <= end:
                    res.write_offs.append(
                        WriteOff(
                            r1.claim_id,
                            when,
                            denied_amount,
                            plan.write_off_reason,
                            reason.carc,
                        )
                    )
        elif u < plan.resubmit + plan.appeal:
            decision = first.payment_ord + int(wk.appeal_lag[i])
            if wk.u_outcome[i] < plan.overturn:
                pay = self.pay_day(payer, decision)
                if pay > end:
                    return
                if partial or wk.u_reversal_first[i] < 0.5:
                    res.adjudications.extend(self.reversal(x, pay) for x in parts)
                lines = self.remit_lines(i, claim, None, "", None)
                res.adjudications.append(
                    self.adjudication(
                        "overturn",
                        claim,
                        payer,
                        pay,
                        "1",
                        lines,
                        f"{prefix}{claim.seq:08d}4",
                        first.received_ord,
                        claim_level,
                        member,
                    )
                )
            else:
                when = decision + int(wk.wo_lag[i]) // 3
                if wk.u_wo[i] < plan.write_off and when <= end:
                    res.write_offs.append(
                        WriteOff(
                            claim.claim_id,
                            when,
                            denied_amount,
                            plan.write_off_reason,
                            reason.carc,
                        )
                    )
        else:
            when = first.payment_ord + int(wk.wo_lag[i])
            if wk.u_wo[i] < plan.write_off and when <= end:
                res.write_offs.append(
                    WriteOff(
                        claim.claim_id,
                        when,
                        denied_amount,
                        plan.write_off_reason,
                        reason.carc,
                    )
                )


def planted_case(u: float) -> str:
    """The planted case a claim's draw picks (reference.PLANTED_CASES), or ""."""
    for case, share in ref.PLANTED_CASES:
        if u < share:
            return case
        u -= share
    return ""


def resent_candidate(a: Adjudication, seed: int) -> tuple[int, int, int] | None:
    """(order key, line index, cents) when this claim payment can be the one amount a resent 835
    corrects: a paid CLP02=1 with a line whose CO-45 exceeds the correction. The first copy of the
    file paid ``cents`` more on that line (CO-45 that much less); the resent copy is ``a``. Among
    the candidates of a file, the smallest order key is corrected (the same whatever the batches)."""
    if a.status != "1" or a.paid <= 0 or not a.lines:
        return None
    best, co45 = -1, 0
    for k, x in enumerate(a.lines):
        for g, c, amt in x.adjustments:
            if (g, c) == ("CO", "45") and amt > co45 and x.allowed > 0:
                best, co45 = k, amt
    if co45 < 200:
        return None
    key = zlib.crc32(f"{seed}:{a.claim_id}:{a.icn}".encode())
    line = a.lines[best]
    cents = min(co45 - 1, max(100, line.allowed * (5 + key % 11) // 100))
    return key, best, cents


def first_sent(a: Adjudication, line: int, cents: int) -> Adjudication:
    """The claim payment as the first copy of a resent 835 had it: ``cents`` more paid on ``line``,
    CO-45 (and the allowed amount) changed to match."""
    x = a.lines[line]
    lines = list(a.lines)
    lines[line] = replace(
        x,
        paid=x.paid + cents,
        allowed=x.allowed + cents,
        adjustments=[
            (g, c, amt - cents) if (g, c) == ("CO", "45") else (g, c, amt)
            for g, c, amt in x.adjustments
        ],
    )
    return replace(a, paid=a.paid + cents, lines=lines)


def simulate_batch(plan: Plan, batch: Batch) -> WeekResult:
    """Everything that follows from the claims of one batch of a submission week."""
    return _Builder(plan, _Week(plan, batch), batch.week).run()
