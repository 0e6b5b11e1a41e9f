"""An independent recomputation of the weekly KPIs from the canonical CSV files themselves, in plain
Python with exact Decimal money, written from the definitions in docs/metrics.md and docs/x12.md
(not from the SQL models). tests/test_kpi_recompute.py compares it with the marts to the cent.

It reads a landing folder of canonical CSVs (claims*.csv, claim_lines*.csv, write_offs*.csv,
remit_claims*.csv, remit_lines*.csv, remit_adjustments*.csv), all loaded in one batch.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ZERO = Decimal("0.00")
FORWARDED = ("19", "20", "21")
ROLE_RANK = {"primary": 1, "secondary": 2, "tertiary": 3}


def _d(s: str | None) -> Decimal:
    return Decimal(s) if s not in (None, "") else ZERO


def _date(s: str | None) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


@dataclass
class File:
    path: Path
    file_id: str  # the first 16 hex digits of its sha256, as the loader names it
    mtime: int

    @property
    def order(self) -> tuple:  # "later file": modification time, then id (one batch: same load time)
        return (self.mtime, self.path.name, self.file_id)


def _files(landing: Path, prefix: str) -> list[File]:
    out = []
    for p in sorted(landing.rglob(f"{prefix}*.csv")):
        out.append(File(p, hashlib.sha256(p.read_bytes()).hexdigest()[:16], os.stat(p).st_mtime_ns))
    return out


def _rows(f: File) -> list[dict]:
    with open(f.path, newline="", encoding="utf-8") as fh:
        return [dict(r, _row=i + 2, _file=f) for i, r in enumerate(csv.DictReader(fh))]


@dataclass
class Adj:
    """One claim payment (a remit_claims row) with what its adjustments say."""

    row: dict
    claim_id: str
    matched: bool
    role: str
    paid: Decimal
    charge: Decimal
    denial: Decimal = ZERO  # denial adjustments
    contractual: Decimal = ZERO
    patient: Decimal = ZERO
    denial_by_category: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    n_denials: int = 0
    unit: str = ""
    seq: int | None = None

    @property
    def status(self) -> str:
        return self.row["status_code"]

    @property
    def date(self) -> dt.date:
        return _date(self.row["payment_date"])

    @property
    def reversal(self) -> bool:
        return self.status == "22"

    @property
    def unspecified(self) -> Decimal:
        if self.status == "4" and not self.reversal:
            return max(self.charge - self.paid - self.denial, ZERO)
        return ZERO


def carc_table(path: Path) -> dict[str, tuple[str, bool]]:
    with open(path, newline="") as fh:
        return {r["carc"].strip().upper(): (r["category"], r["is_denial"].strip().lower() == "true") for r in csv.DictReader(fh)}


def recompute(landing: Path, as_of: dt.date, carcs: dict[str, tuple[str, bool]], window_days: int = 90) -> dict:
    # --- claims: every submission; a claim id's latest version; families -----------------------
    subs = [r for f in _files(landing, "claims") for r in _rows(f)]
    for r in subs:
        r["_date"] = _date(r["submission_date"])
    subs.sort(key=lambda r: (r["_date"], r["_file"].file_id, r["_row"]))
    versions: dict[str, list[dict]] = defaultdict(list)
    for r in subs:
        versions[r["claim_id"]].append(r)
    latest = {c: v[-1] for c, v in versions.items()}
    self_pay = {c for c, r in latest.items() if r.get("payer_type") == "self_pay"}

    def family_of(c: str, depth: int = 0) -> str:
        orig = latest[c].get("original_claim_id") or None
        if orig and orig != c and orig in latest and depth < 50:
            return family_of(orig, depth + 1)
        return c

    family = {c: family_of(c) for c in latest}
    lines = [r for f in _files(landing, "claim_lines") for r in _rows(f)]
    lcn_claim: dict[str, str] = {}
    for r in lines:
        if r.get("line_control_number"):
            lcn_claim[r["line_control_number"]] = min(lcn_claim.get(r["line_control_number"], r["claim_id"]), r["claim_id"])

    # --- payments: a later file with the same payer and trace replaces the earlier ---------------
    remit_files = _files(landing, "remit_claims")
    rc = [r for f in remit_files for r in _rows(f)]
    latest_file: dict[tuple, File] = {}
    for r in rc:
        key = (r["trace_number"], r["payer_id"] or r.get("payer_name") or "unknown")
        if key not in latest_file or r["_file"].order > latest_file[key].order:
            latest_file[key] = r["_file"]
    rc = [r for r in rc if latest_file[(r["trace_number"], r["payer_id"] or r.get("payer_name") or "unknown")] is r["_file"]]
    by_id: dict[str, dict] = {}
    for r in rc:  # an adjudication id loaded again: the later file's (then the later line)
        prev = by_id.get(r["adjudication_id"])
        if prev is None or (r["_file"].order, r["_row"]) > (prev["_file"].order, prev["_row"]):
            by_id[r["adjudication_id"]] = r
    rc = list(by_id.values())

    def kept(prefix: str) -> list[dict]:
        rows = [r for f in _files(landing, prefix) for r in _rows(f) if r["adjudication_id"] in by_id]
        newest: dict[str, File] = {}
        for r in rows:
            if r["adjudication_id"] not in newest or r["_file"].order > newest[r["adjudication_id"]].order:
                newest[r["adjudication_id"]] = r["_file"]
        return [r for r in rows if newest[r["adjudication_id"]] is r["_file"]]

    rlines = kept("remit_lines")
    radjs = kept("remit_adjustments")

    # --- matching ---------------------------------------------------------------------------------
    by_line: dict[str, str] = {}
    for r in rlines:
        c = lcn_claim.get(r.get("line_control_number") or "")
        if c:
            by_line[r["adjudication_id"]] = min(by_line.get(r["adjudication_id"], c), c)
    by_pcn: dict[tuple, str] = {}
    for r in rc:
        if r.get("payer_claim_number") and r["claim_id"] in latest:
            k = (r["payer_id"], r["payer_claim_number"])
            by_pcn[k] = min(by_pcn.get(k, r["claim_id"]), r["claim_id"])
    adjs: list[Adj] = []
    for r in rc:
        if r["claim_id"] in latest:
            cid, matched = r["claim_id"], True
        else:
            cid = by_line.get(r["adjudication_id"]) or by_pcn.get((r["payer_id"], r.get("payer_claim_number")))
            matched = cid is not None
            cid = cid or r["claim_id"]
        st = r["status_code"]
        if st in ("1", "19"):
            role = "primary"
        elif st in ("2", "20"):
            role = "secondary"
        elif st in ("3", "21"):
            role = "tertiary"
        elif not matched or not latest[cid].get("payer_id") or latest[cid]["payer_id"] == r["payer_id"]:
            seq = (latest[cid].get("payer_sequence") or "P") if matched else "P"
            role = {"S": "secondary", "T": "tertiary"}.get(seq, "primary")
        else:
            role = "secondary"
        adjs.append(Adj(r, cid, matched, role, _d(r["paid_amount"]), _d(r["charge_amount"])))
    # an unmatched CLP01 repeated in one payment with different payer claim numbers: different claims
    groups: dict[tuple, list[Adj]] = defaultdict(list)
    for a in adjs:
        groups[(a.row["_file"].file_id, a.row["trace_number"], a.row["payer_id"], a.row["claim_id"])].append(a)
    for g in groups.values():
        pcns = {a.row.get("payer_claim_number") for a in g if not a.reversal and a.row.get("payer_claim_number")}
        split_remark = any("MA15" in (a.row.get("remark_codes") or "") for a in g)
        if len(pcns) > 1 and not split_remark:
            for a in g:
                if not a.matched and not a.reversal and a.row.get("payer_claim_number"):
                    a.claim_id = f"{a.row['claim_id']} #{a.row['payer_claim_number']}"
    by_adj = {a.row["adjudication_id"]: a for a in adjs}
    for r in radjs:
        a = by_adj[r["adjudication_id"]]
        amount, group, carc = _d(r["amount"]), r["group_code"].upper(), r["carc"].upper()
        cat, denial_code = carcs.get(carc, ("unmapped", None))
        if group == "OA" and carc == "23":
            is_denial = False
        elif denial_code is not None:
            is_denial = denial_code
        else:
            is_denial = group != "PR"
        if is_denial:
            a.denial += amount
            a.n_denials += 1
            a.denial_by_category[cat] += amount
        if group == "PR":
            a.patient += amount
        elif not (group == "OA" and carc == "23") and not is_denial:
            a.contractual += amount
    for a in adjs:
        if a.unspecified > 0 or (a.status == "4" and not a.reversal and a.n_denials == 0):
            a.denial_by_category["payer_denied_unspecified"] += a.unspecified

    # --- adjudications: the claim payments of one payment and claim, split by reversals ---------
    per_payment: dict[tuple, list[Adj]] = defaultdict(list)
    for a in adjs:
        per_payment[(a.row["_file"].file_id, a.row["trace_number"], a.row["payer_id"], a.claim_id)].append(a)
    for g in per_payment.values():
        g.sort(key=lambda a: a.row["_row"])
        reversals, unit_first = 0, {}
        for a in g:
            if a.reversal:
                a.unit = a.row["adjudication_id"]
                reversals += 1
            else:
                a.unit = unit_first.setdefault(reversals, a.row["adjudication_id"])
    units: dict[str, list[Adj]] = defaultdict(list)
    for a in adjs:
        units[a.unit].append(a)

    def fam(a: Adj) -> str:
        return family[a.claim_id] if a.matched else a.claim_id

    primary_units: dict[str, list[tuple]] = defaultdict(list)
    for u, members in units.items():
        first = min(members, key=lambda a: a.row["_row"])
        for role_ok in {(a.role == "primary" and not a.reversal and a.status not in ("23", "25")) for a in members}:
            if role_ok:
                primary_units[fam(first)].append(
                    (first.date, first.row["_file"].file_id, first.row["_row"], u))
    initial_unit = {f: min(v)[3] for f, v in primary_units.items()}
    latest_primary: dict[str, list] = {f: sorted(v) for f, v in primary_units.items()}

    # --- initial denials by week ------------------------------------------------------------------
    def monday(d: dt.date) -> dt.date:
        return d - dt.timedelta(days=d.weekday())

    weeks: dict[dt.date, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    by_category: dict[str, Decimal] = defaultdict(lambda: ZERO)
    outcome: dict[str, dict] = {}
    for f, u in initial_unit.items():
        members = [a for a in units[u] if a.role == "primary" and not a.reversal and a.status not in ("23", "25")]
        head = min(members, key=lambda a: a.row["_row"])
        denied = any(a.n_denials > 0 or a.status == "4" for a in members)
        charge = _d(latest[head.claim_id]["total_charge"]) if head.matched else sum((a.charge for a in members), ZERO)
        denied_amount = sum((a.denial + a.unspecified for a in members), ZERO)
        w = weeks[monday(head.date)]
        w["claims_adjudicated"] += 1
        w["charges_adjudicated"] += charge
        w["denied_amount"] += denied_amount
        if denied:
            w["claims_denied"] += 1
            w["charges_denied"] += charge
            for a in members:
                for cat, amt in a.denial_by_category.items():
                    by_category[cat] += amt
        outcome[f] = {"date": head.date, "matched": head.matched, "claim_id": head.claim_id}

    # --- the A/R ledger, per claim id ---------------------------------------------------------------
    events: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    ar_adjs = [a for a in adjs if a.matched and a.claim_id not in self_pay and a.date is not None]
    for a in ar_adjs:
        events[a.claim_id].append((a.date, -a.paid))
        events[a.claim_id].append((a.date, -a.contractual))
        if a.status not in FORWARDED:
            events[a.claim_id].append((a.date, -a.patient))
        if ROLE_RANK[a.role] > 1:
            back = sum((b.patient for b in ar_adjs if b.claim_id == a.claim_id and ROLE_RANK[b.role] < ROLE_RANK[a.role]
                        and b.status not in FORWARDED and b.date <= a.date), ZERO)
            events[a.claim_id].append((a.date, back if a.charge >= 0 else -back))
    for f in _files(landing, "write_offs"):
        for r in _rows(f):
            if r["claim_id"] in latest and r["claim_id"] not in self_pay:
                events[r["claim_id"]].append((_date(r["writeoff_date"]), -_d(r["amount"])))
    replaced_on: dict[str, dt.date] = {}  # a claim id replaced (or voided) by another claim id
    for r in subs:
        o = r.get("original_claim_id")
        if r["frequency_code"] in ("7", "8") and o and o != r["claim_id"]:
            replaced_on[o] = min(replaced_on.get(o, r["_date"]), r["_date"])

    def balance(c: str, day: dt.date) -> Decimal:
        """The ledger's balance: versions in order; a later version of the same claim id sent as a
        replacement or void (7/8) closes what was open up to its date, then bills its own charge."""
        if c in self_pay or (c in replaced_on and replaced_on[c] <= day):
            return ZERO
        billed = [v for v in versions[c] if v["_date"] <= day]
        if not billed:
            return ZERO
        total, since = ZERO, None
        for seq, v in enumerate(billed, 1):
            if seq > 1 and v["frequency_code"] in ("7", "8") and not v.get("original_claim_id"):
                total, since = ZERO, v["_date"]
            if v["frequency_code"] != "8":
                total += _d(v["total_charge"])
        return total + sum((x for d, x in events[c] if d <= day and (since is None or d > since)), ZERO)

    # --- the calendar and the weekly figures --------------------------------------------------------
    kept_dates = [a.date for a in adjs if a.date is not None]
    history_start = min([r["_date"] for r in subs] + kept_dates)
    charge_events = [(r["_date"], _d(r["total_charge"])) for r in subs
                     if r["frequency_code"] == "1" and not r.get("original_claim_id") and r is versions[r["claim_id"]][0]
                     and r["claim_id"] not in self_pay]
    posted = []  # (family, date, paid, contractual, patient net, primary order, billed charge)
    for a in ar_adjs:
        net = (ZERO if a.status in FORWARDED else a.patient)
        if ROLE_RANK[a.role] > 1:
            back = sum((b.patient for b in ar_adjs if b.claim_id == a.claim_id and ROLE_RANK[b.role] < ROLE_RANK[a.role]
                        and b.status not in FORWARDED and b.date <= a.date), ZERO)
            net -= back if a.charge >= 0 else -back
        posted.append((family[a.claim_id], a, net))
    out: dict[dt.date, dict] = {}
    wk = monday(history_start)
    while wk <= monday(as_of):
        snap = min(wk + dt.timedelta(days=6), as_of)
        bal = {c: balance(c, snap) for c in latest}
        age_basis = {c: _date(latest[c]["service_from"]) for c in latest}
        ar = sum(bal.values(), ZERO)
        over90 = sum((b for c, b in bal.items() if (snap - age_basis[c]).days > 90), ZERO)
        used = min(window_days, (snap - history_start).days + 1)
        charges_window = sum((x for d, x in charge_events if snap - dt.timedelta(days=window_days) < d <= snap), ZERO)
        in13 = [(f, a, n) for f, a, n in posted if snap - dt.timedelta(days=91) < a.date <= snap]
        cohort = {f for f, o in outcome.items() if o["matched"] and o["claim_id"] not in self_pay
                  and snap - dt.timedelta(days=91) < o["date"] <= snap}
        ncr = [(f, a, n) for f, a, n in posted if f in cohort and a.date <= snap]
        ncr_charges = ZERO
        for f in cohort:
            units_so_far = [u for u in latest_primary.get(f, []) if u[0] <= snap]
            last = units_so_far[-1][3]
            ncr_charges += _d(latest[min(units[last], key=lambda a: a.row["_row"]).claim_id]["total_charge"])
        w = weeks[wk]
        out[wk] = {
            "claims_adjudicated": int(w["claims_adjudicated"]), "claims_denied": int(w["claims_denied"]),
            "charges_adjudicated": w["charges_adjudicated"], "charges_denied": w["charges_denied"],
            "denied_amount": w["denied_amount"],
            "ar_balance": ar, "ar_over_90": over90,
            "days_in_ar": float(ar / (charges_window / used)) if charges_window > 0 else None,
            "ar_window_days_used": used,
            "charges_13w": sum((x for d, x in charge_events if snap - dt.timedelta(days=91) < d <= snap), ZERO),
            "payments_13w": sum((a.paid for _, a, _ in in13), ZERO),
            "contractual_13w": sum((a.contractual for _, a, _ in in13), ZERO),
            "patient_13w": sum((n for _, _, n in in13), ZERO),
            "ncr_claims": len(cohort), "ncr_charges": ncr_charges,
            "ncr_payments": sum((a.paid for _, a, _ in ncr), ZERO),
            "ncr_contractual": sum((a.contractual for _, a, _ in ncr), ZERO),
            "ncr_patient": sum((n for _, _, n in ncr), ZERO),
        }
        wk += dt.timedelta(days=7)
    last_snap = as_of
    aging: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for c in latest:
        b = balance(c, last_snap)
        if b:
            days = (last_snap - _date(latest[c]["service_from"])).days
            bucket = "0-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "91-120" if days <= 120 else "120+"
            aging[bucket] += b
    return {"weeks": out, "denied_by_category": dict(by_category), "aging": dict(aging), "history_start": history_start}
