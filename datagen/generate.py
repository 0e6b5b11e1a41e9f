"""Entry points: :func:`generate` (Python API) and :func:`cli_generate` (for ``denials generate``).

Weeks are simulated one after another and streamed to the output files; X12 files wait in a disk
spool until no later week can add to them (see :mod:`datagen.spool`).
"""

from __future__ import annotations

import gc
import json
import multiprocessing as mp
import os
import shutil
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import numpy as np

from datagen import reference as ref
from datagen.csv_writer import (
    HEADERS,
    ClaimRows,
    header_line,
    remit_rows,
    write_off_row,
)
from datagen.dates import d8, default_start, iso
from datagen.ground_truth import GroundTruth
from datagen.model import Plan, make_plan, simulate_batch
from datagen.patterns import Pattern, default_patterns
from datagen.spool import Spool
from datagen.x12_writer import (
    ClaimRenderer,
    envelope_835,
    envelope_837,
    render_claim_payment,
    trace_number,
    transaction_835,
)

GENERATOR_VERSION = "1"
FORMATS = ("claims_csv", "claims_837", "remittances_835", "remittances_csv")
FOLDERS = {
    "claims_csv": "claims",
    "claims_837": "claims_837",
    "remittances_835": "remittances",
    "remittances_csv": "remittances_csv",
}


@dataclass
class _Remit:
    """What the envelope of one 835 transaction (payer, payment date, payee) needs."""

    paid: int = 0
    interest: list[tuple[str, int]] = field(default_factory=list)  # (claim id, cents)
    last_paid_icn: str = ""


@dataclass
class BatchOutput:
    """One simulated batch, rendered: what the writer appends (computed in a worker process)."""

    week: int
    last_in_week: bool
    csv: dict[str, str]
    spool: dict[tuple[object, ...], str]
    claim_files: set[tuple[int, int]]
    remits: list[tuple[tuple[int, int, str], int, list[tuple[str, int]], str]]
    truth: GroundTruth


class _Renderers:
    def __init__(self, plan: Plan, formats: set[str]):
        self.plan = plan
        self.formats = formats
        self.claims_837 = ClaimRenderer(plan.pool)
        self.claim_rows = ClaimRows(plan.pool)


_RENDERERS: _Renderers | None = None


def _init_worker(plan: Plan, formats: set[str]) -> None:
    global _RENDERERS
    _RENDERERS = _Renderers(plan, formats)


def _render_batch(i: int) -> BatchOutput:
    assert _RENDERERS is not None
    return render_batch(_RENDERERS, i)


def render_batch(r: _Renderers, i: int) -> BatchOutput:
    """Simulate batch ``i`` of the plan and render it in every requested format.

    The week's objects hold no reference cycles, so the cyclic garbage collector (which would
    rescan the growing heap again and again, about a third of the time) is paused meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _render_batch_body(r, i)
    finally:
        if enabled:
            gc.enable()


def _render_batch_body(r: _Renderers, i: int) -> BatchOutput:
    plan, formats = r.plan, r.formats
    batch = plan.batches[i]
    res = simulate_batch(plan, batch)
    csv: dict[str, str] = {}
    if "claims_csv" in formats:
        rows, lines = [], []
        for s in res.submissions:
            row, ls = r.claim_rows.claim(s)
            rows.append(row)
            lines.append(ls)
        csv["claims/claims.csv"] = "".join(rows)
        csv["claims/claim_lines.csv"] = "".join(lines)
        csv["claims/write_offs.csv"] = "".join(write_off_row(x) for x in res.write_offs)
    spool: dict[tuple[object, ...], list[str]] = {}
    claim_files: set[tuple[int, int]] = set()
    x837 = "claims_837" in formats
    for s in res.submissions:
        if s.payer == ref.SELF_PAY:
            continue
        key = (int(s.institutional), s.submission_ord)
        claim_files.add(key)
        if x837:
            spool.setdefault(("837", *key), []).append(r.claims_837.render(s))
    remits: dict[tuple[int, int, str], list] = {}
    x835 = "remittances_835" in formats
    csv_remits = "remittances_csv" in formats
    rc, rl, ra = [], [], []
    for a in res.adjudications:
        key = (a.payer, a.payment_ord, a.payee)
        meta = remits.get(key)
        if meta is None:
            meta = remits[key] = [key, 0, [], ""]
        meta[1] += a.paid
        if a.interest:
            meta[2].append((a.claim_id, a.interest))
        if a.paid > 0 and a.status != "22":
            meta[3] = a.icn
        if x835:
            spool.setdefault(("835", *key), []).append(render_claim_payment(a))
        if csv_remits:
            c, ls, adj = remit_rows(a)
            rc.append(c)
            rl.append(ls)
            ra.append(adj)
    if csv_remits:
        csv["remittances_csv/remit_claims.csv"] = "".join(rc)
        csv["remittances_csv/remit_lines.csv"] = "".join(rl)
        csv["remittances_csv/remit_adjustments.csv"] = "".join(ra)
    truth = GroundTruth(plan)
    truth.add_week(res)
    return BatchOutput(
        week=batch.week,
        last_in_week=batch.last_in_week,
        csv=csv,
        spool={k: "".join(v) for k, v in spool.items()},
        claim_files=claim_files,
        remits=[tuple(m) for m in remits.values()],  # type: ignore[misc]
        truth=truth,
    )


class _Writer:
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
        self.control = 0

    def week(self, out: BatchOutput, cutoff: int) -> None:
        """Append one week's rendered output; X12 text goes to the spool."""
        for rel, text in out.csv.items():
            self.files[rel].write(text)
        for key, text in out.spool.items():
            self.spool.add(key, text)
        self.claim_files.update(out.claim_files)
        for key, paid, interest, last_paid_icn in out.remits:
            meta = self.remits.get(key)
            if meta is None:
                meta = self.remits[key] = _Remit()
            meta.paid += paid
            meta.interest.extend(interest)
            if last_paid_icn:
                meta.last_paid_icn = last_paid_icn
        self.gt.merge(out.truth)
        self.spool.commit(hold=lambda key: int(key[2]) <= cutoff)  # type: ignore[call-overload]

    def flush(self, cutoff: int) -> None:
        """Assemble every X12 file dated on or before ``cutoff``."""
        ready: list[
            tuple[int, int, int]
        ] = []  # (date, 0 claims / 1 remittances, payer or type)
        for inst, day in self.claim_files:
            if day <= cutoff:
                ready.append((day, 0, inst))
        for payer, day, _ in self.remits:
            if day <= cutoff:
                ready.append((day, 1, payer))
        for day, kind, who in sorted(set(ready)):
            self.control += 1
            if kind == 0:
                self._claim_file(who, day)
            else:
                self._remit_file(who, day)

    def _claim_file(self, inst: int, day: int) -> None:
        self.claim_files.discard((inst, day))
        self.gt.add_file("claims_837")
        if "claims_837" not in self.formats:
            return
        body = self.spool.take(("837", inst, day))
        name = f"{d8(day)}_837{'I' if inst else 'P'}.837"
        text = envelope_837(bool(inst), day, body, self.control)
        (self.out / "claims_837" / name).write_text(text, encoding="ascii", newline="")

    def _remit_file(self, payer: int, day: int) -> None:
        transactions = []
        n_st = 0
        plb_all: list[tuple[str, str, int]] = []
        bpr_total = 0
        for payee in ("PRO", "FAC"):
            meta = self.remits.pop((payer, day, payee), None)
            if meta is None:
                continue
            n_st += 1
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
        self.gt.add_remittance_file(n_st, plb_all, bpr_total)
        if "remittances_835" not in self.formats:
            return
        name = f"{ref.PAYERS[payer].payer_id}_{d8(day)}.835"
        text = envelope_835(payer, day, transactions, self.control)
        (self.out / "remittances" / name).write_text(text, encoding="ascii", newline="")

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.spool.close()


def _write_all(writer: _Writer, plan: Plan, outputs: Iterable[BatchOutput]) -> None:
    for out in outputs:
        cutoff = plan.start_ord + 7 * (out.week + 1) - 1
        writer.week(out, cutoff)
        if out.last_in_week:
            writer.flush(cutoff)
    writer.flush(plan.end_ord)


def _in_order(pool: Any, batches: int, window: int) -> Iterator[BatchOutput]:
    """Batch outputs in order, with at most ``window`` batches in flight (bounded memory)."""
    pending: deque[Any] = deque()
    submitted = 0
    while pending or submitted < batches:
        while submitted < batches and len(pending) < window:
            pending.append(pool.apply_async(_render_batch, (submitted,)))
            submitted += 1
        yield pending.popleft().get()


def _prepare(out: Path, formats: Iterable[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for folder in FOLDERS.values():  # only what this generator writes is removed
        shutil.rmtree(out / folder, ignore_errors=True)
    shutil.rmtree(out / ".spool", ignore_errors=True)
    (out / "ground_truth.json").unlink(missing_ok=True)
    for fmt in formats:
        (out / FOLDERS[fmt]).mkdir()


def generate(
    out_dir: str | Path,
    claims: int = 5000,
    weeks: int = 26,
    seed: int = 7,
    start: date | None = None,
    formats: Iterable[str] = FORMATS,
    patterns: tuple[Pattern, ...] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Generate ``claims`` original claims submitted over ``weeks`` weeks from ``start`` (a Monday;
    default: the weeks end on Sunday 2026-11-15) and everything that follows from them up to the
    end of the last week. Writes the requested formats and ``ground_truth.json`` under ``out_dir``
    and returns a short summary. The same arguments always give byte-identical files, whatever
    the number of worker processes (``workers``; default: one per CPU)."""
    fmts = set(formats)
    unknown = fmts - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}; choose from {FORMATS}")
    if claims < 1 or weeks < 1:
        raise ValueError("claims and weeks must be positive")
    if start is None:
        start = default_start(weeks)
    if start.weekday() != 0:
        raise ValueError("start must be a Monday")
    out = Path(out_dir)
    _prepare(out, sorted(fmts))
    if patterns is None:
        patterns = default_patterns(weeks)
    plan = make_plan(seed, claims, weeks, start, patterns)
    writer = _Writer(out, plan, fmts)
    n_batches = len(plan.batches)
    n_workers = min(
        workers if workers is not None else os.cpu_count() or 1, n_batches, 8
    )
    try:
        if n_workers <= 1:
            renderers = _Renderers(plan, fmts)
            outputs: Iterator[BatchOutput] = (
                render_batch(renderers, i) for i in range(n_batches)
            )
            _write_all(writer, plan, outputs)
        else:
            ctx = mp.get_context(
                "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            )
            with ctx.Pool(
                n_workers, initializer=_init_worker, initargs=(plan, fmts)
            ) as pool:
                _write_all(writer, plan, _in_order(pool, n_batches, n_workers + 1))
    finally:
        writer.close()
    params = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "claims": claims,
        "weeks": weeks,
        "start": iso(plan.start_ord),
        "end": iso(plan.end_ord),
        "formats": sorted(fmts),
        "command": f"denials generate --claims {claims} --weeks {weeks} --seed {seed} --start {iso(plan.start_ord)}",
    }
    truth = writer.gt.as_dict(params)
    truth["files"] = {
        "claims_837": writer.gt.files["claims_837"],
        "remittances": writer.gt.files["remittances"],
    }
    (out / "ground_truth.json").write_text(
        json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return {
        "out_dir": str(out),
        "claims": truth["claims"]["submissions"],
        "original_claims": truth["claims"]["original_submissions"],
        "resubmissions": truth["claims"]["resubmissions"],
        "remittance_claims": truth["remittances"]["clp_count"],
        "remittance_files": truth["remittances"]["files"],
        "claim_files_837": writer.gt.files["claims_837"],
        "initial_denial_rate": truth["initial_denials"]["initial_denial_rate"],
        "outstanding_ar": truth["accounts_receivable"]["outstanding_ar"],
        "formats": sorted(fmts),
        "ground_truth": str(out / "ground_truth.json"),
    }


def cli_generate(
    claims: int, weeks: int, seed: int, out: str | Path, start: date | str | None = None
) -> dict[str, Any]:
    """What ``denials generate --claims N --weeks W --seed S --out DIR [--start YYYY-MM-DD]`` runs:
    every format, default patterns. Returns the summary (for the CLI to print)."""
    if isinstance(start, str):
        start = date.fromisoformat(start)
    return generate(out, claims=claims, weeks=weeks, seed=seed, start=start)
