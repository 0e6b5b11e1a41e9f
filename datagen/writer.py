"""The output files: CSV text appended batch by batch, X12 loops spooled until their file is
complete, then assembled with envelopes (and, for 835s, BPR and PLB).

A few 835 files are sent again (planted case, ``reference.RESENT_FILE_P``): the file written on
its payment date is the payer's first copy, with one claim payment paid too much; the copy
``RESEND_DAYS`` later (``PAYERID_YYYYMMDD_resent.835``, same payer, same TRN02 trace numbers,
same payment dates) has it corrected and is the one that counts. The simulated objects, the
remittance CSV and the ground truth's remittance totals are the corrected payments."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from datagen import reference as ref
from datagen.batch import BatchOutput, Correction
from datagen.csv_writer import HEADERS, header_line
from datagen.dates import d8
from datagen.ground_truth import GroundTruth
from datagen.model import Plan
from datagen.spool import Spool
from datagen.x12_writer import envelope_835, envelope_837, trace_number, transaction_835


@dataclass
class _Remit:
    """What the envelope of one 835 transaction (payer, payment date, payee) needs."""

    paid: int = 0
    interest: list[tuple[str, int]] = field(default_factory=list)  # (claim id, cents)
    last_paid_icn: str = ""
    clps: int = 0
    correction: Correction | None = None  # what a resent copy of its file would correct


class OutputWriter:
    """Owns the output files, the spool and the ground truth of one run."""

    def __init__(self, out: Path, plan: Plan, formats: set[str]):
        self.out = out
        self.plan = plan
        self.formats = formats
        self.files: dict[str, IO[str]] = {}
        for rel, columns in HEADERS.items():
            fmt = "claims_csv" if rel.startswith("claims/") else "remittances_csv"
            if fmt in formats:
                f = (out / rel).open("w", encoding="utf-8", newline="")
                f.write(header_line(columns))
                self.files[rel] = f
        self.spool = Spool(out / ".spool")
        self.gt = GroundTruth(plan)
        self.remits: dict[tuple[int, int, str], _Remit] = {}
        self.claim_files: set[tuple[int, int]] = set()
        self.last_paid_icn: dict[tuple[int, str], str] = {}
        self.forward_balance: dict[tuple[int, str], tuple[str, int]] = {}
        self.resent: dict[tuple[int, int], list[str]] = {}  # (resend date, payer) -> transactions
        self.control = 0

    def week(self, out: BatchOutput, cutoff: int) -> None:
        """Append one week's rendered output; X12 text goes to the spool."""
        for rel, text in out.csv.items():
            self.files[rel].write(text)
        for key, text in out.spool.items():
            self.spool.add(key, text)
        self.claim_files.update(out.claim_files)
        for key, paid, interest, last_paid_icn, clps, correction in out.remits:
            meta = self.remits.get(key)
            if meta is None:
                meta = self.remits[key] = _Remit()
            meta.paid += paid
            meta.interest.extend(interest)
            if last_paid_icn:
                meta.last_paid_icn = last_paid_icn
            meta.clps += clps
            if correction is not None and (
                meta.correction is None or correction.order < meta.correction.order
            ):
                meta.correction = correction
        self.gt.merge(out.truth)
        self.spool.commit(hold=lambda key: int(key[2]) <= cutoff)  # type: ignore[call-overload]

    def flush(self, cutoff: int) -> None:
        """Assemble every X12 file dated on or before ``cutoff``, in date order."""
        # (date, 0 claims / 1 remittances / 2 resent remittances, payer or type)
        ready: set[tuple[int, int, int]] = set()
        for inst, day in self.claim_files:
            if day <= cutoff:
                ready.add((day, 0, inst))
        for payer, day, _ in self.remits:
            if day <= cutoff:
                ready.add((day, 1, payer))
        for day, payer in self.resent:
            if day <= cutoff:
                ready.add((day, 2, payer))
        heap = sorted(ready)
        while heap:
            day, kind, who = heapq.heappop(heap)
            self.control += 1
            if kind == 0:
                self._claim_file(who, day)
            elif kind == 1:
                resend = self._remit_file(who, day)
                if resend is not None and resend <= cutoff:
                    heapq.heappush(heap, (resend, 2, who))
            else:
                self._resent_file(who, day)

    def _claim_file(self, inst: int, day: int) -> None:
        self.claim_files.discard((inst, day))
        self.gt.add_file("claims_837")
        if "claims_837" not in self.formats:
            return
        body = self.spool.take(("837", inst, day))
        name = f"{d8(day)}_837{'I' if inst else 'P'}.837"
        text = envelope_837(bool(inst), day, body, self.control)
        (self.out / "claims_837" / name).write_text(text, encoding="ascii", newline="")

    def _remit_file(self, payer: int, day: int) -> int | None:
        """Write the payer's 835 of ``day``; returns the date of its resent copy, if it has one."""
        metas = [
            (payee, meta)
            for payee in ("PRO", "FAC")
            if (meta := self.remits.pop((payer, day, payee), None)) is not None
        ]
        resend = self._resend_day(payer, day)
        corrected = min(
            (m.correction for _, m in metas if m.correction is not None),
            key=lambda c: c.order,
            default=None,
        )
        if corrected is None:
            resend = None  # nothing to correct: not sent again
        transactions = []
        first_copy = []  # the transactions as first sent, when the file is sent again
        n_st = n_clp = 0
        plb_all: list[tuple[str, str, int]] = []
        bpr_total = bpr_first = 0
        for payee, meta in metas:
            n_st += 1
            n_clp += meta.clps
            plb = [("L6", claim_id, -cents) for claim_id, cents in meta.interest]
            if (
                len(plb) > 4
            ):  # one PLB segment (six pairs) per transaction: pyx12 allows one FOOTER loop
                plb = [
                    (
                        "L6",
                        trace_number(payer, payee, day),
                        -sum(c for _, c in meta.interest),
                    )
                ]
            rng = np.random.default_rng([self.plan.seed, 3, payer, day, n_st])
            u, amount = rng.random(), int(rng.integers(1500, 25001))
            earlier = self.last_paid_icn.get((payer, payee))
            base = meta.paid - sum(a for _, _, a in plb)
            if earlier and u < ref.OVERPAYMENT_RECOVERY_P and base - amount >= 0:
                plb.append(("WO", earlier, amount))
            owed = self.forward_balance.pop((payer, payee), None)
            if owed is not None:  # recover a balance carried forward earlier
                ref_id, amount = owed
                if meta.paid - sum(a for _, _, a in plb) - amount >= 0:
                    plb.append(("FB", ref_id, amount))
                else:
                    self.forward_balance[(payer, payee)] = owed
            balance = meta.paid - sum(a for _, _, a in plb)
            if balance < 0:
                # more taken back than paid: the payer carries the balance forward
                ref_id = f"FB{d8(day)}"
                plb.append(("FB", ref_id, balance))
                prior = self.forward_balance.get((payer, payee))
                owed_now = -balance + (prior[1] if prior else 0)
                self.forward_balance[(payer, payee)] = (ref_id, owed_now)
            if meta.last_paid_icn:
                self.last_paid_icn[(payer, payee)] = meta.last_paid_icn
            body = (
                self.spool.take(("835", payer, day, payee))
                if "remittances_835" in self.formats
                else ""
            )
            text, bpr02 = transaction_835(payer, payee, day, n_st, body, plb, meta.paid)
            transactions.append(text)
            plb_all.extend(plb)
            bpr_total += bpr02
            if resend is not None and meta.correction is corrected:
                # the first copy: the corrected claim payment as first sent (same PLB)
                assert corrected is not None
                text, bpr02 = transaction_835(
                    payer,
                    payee,
                    day,
                    n_st,
                    body.replace(corrected.text, corrected.first_text, 1),
                    plb,
                    meta.paid + corrected.cents,
                )
            first_copy.append(text)
            bpr_first += bpr02
        self.gt.add_remittance_file(n_st, plb_all, bpr_total)
        self.gt.add_file("remittances")
        name = f"{ref.PAYERS[payer].payer_id}_{d8(day)}.835"
        if resend is not None:
            assert corrected is not None
            self.gt.add_resent_file(
                f"{ref.PAYERS[payer].payer_id}_{d8(resend)}_resent.835",
                name,
                n_st,
                n_clp,
                bpr_first,
                corrected.claim_id,
                corrected.cents,
            )
            self.resent[(resend, payer)] = transactions
            transactions = first_copy
        if "remittances_835" in self.formats:
            text = envelope_835(payer, day, transactions, self.control)
            (self.out / "remittances" / name).write_text(
                text, encoding="ascii", newline=""
            )
        return resend

    def _resend_day(self, payer: int, day: int) -> int | None:
        """The date the payer sends this file again, if it does (a seeded draw per file)."""
        rng = np.random.default_rng([self.plan.seed, 6, payer, day])
        resend = day + ref.RESEND_DAYS
        if rng.random() < ref.RESENT_FILE_P and resend <= self.plan.end_ord:
            return resend
        return None

    def _resent_file(self, payer: int, day: int) -> None:
        transactions = self.resent.pop((day, payer))
        self.gt.add_file("remittances")
        if "remittances_835" not in self.formats:
            return
        name = f"{ref.PAYERS[payer].payer_id}_{d8(day)}_resent.835"
        text = envelope_835(payer, day, transactions, self.control)
        (self.out / "remittances" / name).write_text(text, encoding="ascii", newline="")

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.spool.close()
