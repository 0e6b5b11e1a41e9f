"""One batch of claims, simulated and rendered in every requested format (in a worker process
when there are several)."""

from __future__ import annotations

import gc
import signal
from dataclasses import dataclass

from datagen import reference as ref
from datagen.csv_writer import ClaimRows, remit_rows, write_off_row
from datagen.ground_truth import GroundTruth
from datagen.model import Plan, first_sent, resent_candidate, simulate_batch
from datagen.x12_writer import ClaimRenderer, render_claim_payment


@dataclass
class BatchOutput:
    """One simulated batch, rendered: what the writer appends (computed in a worker process)."""

    week: int
    last_in_week: bool
    csv: dict[str, str]
    spool: dict[tuple[object, ...], str]
    claim_files: set[tuple[int, int]]
    # per 835 transaction (payer, payment date, payee): [key, paid, interest, last paid ICN, number
    # of CLP loops, the batch's candidate for a resent file's correction or None]
    remits: list[list]
    truth: GroundTruth


@dataclass(frozen=True)
class Correction:
    """The amount a resent 835 corrects: the claim payment with the smallest order key among the
    candidates of its file (:func:`datagen.model.resent_candidate`)."""

    order: int
    claim_id: str
    cents: int  # the first copy paid this much more
    text: str  # the claim payment's loop as resent (what counts); "" when no 835 is written
    first_text: str  # ... as first sent


class Renderers:
    """The plan, the requested formats and the per-process renderers."""

    def __init__(self, plan: Plan, formats: set[str]):
        self.plan = plan
        self.formats = formats
        self.claims_837 = ClaimRenderer(plan.pool)
        self.claim_rows = ClaimRows(plan.pool)


_RENDERERS: Renderers | None = None


def init_worker(plan: Plan, formats: set[str]) -> None:
    # A forked worker inherits its parent's signal handlers. After a Dagster run in the same
    # process, SIGTERM may be left mapped to a handler that only records it; Pool.terminate
    # would then wait forever for an idle worker. Workers take the default handlers.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    global _RENDERERS
    _RENDERERS = Renderers(plan, formats)


def render_batch_in_worker(i: int) -> BatchOutput:
    assert _RENDERERS is not None
    return render_batch(_RENDERERS, i)


def render_batch(r: Renderers, i: int) -> BatchOutput:
    """Simulate batch ``i`` of the plan and render it in every requested format.

    The batch's objects hold no reference cycles, so the cyclic garbage collector (which would
    rescan the growing heap again and again, about a third of the time) is paused meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _render_batch_body(r, i)
    finally:
        if enabled:
            gc.enable()


def _render_batch_body(r: Renderers, i: int) -> BatchOutput:
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
            meta = remits[key] = [key, 0, [], "", 0, None]
        meta[1] += a.paid
        if a.interest:
            meta[2].append((a.claim_id, a.interest))
        if a.paid > 0 and a.status != "22":
            meta[3] = a.icn
        meta[4] += 1
        text = render_claim_payment(a) if x835 else ""
        if x835:
            spool.setdefault(("835", *key), []).append(text)
        cand = resent_candidate(a, plan.seed)
        if cand is not None and (meta[5] is None or cand[0] < meta[5].order):
            order, line, cents = cand
            meta[5] = Correction(
                order,
                a.claim_id,
                cents,
                text,
                render_claim_payment(first_sent(a, line, cents)) if x835 else "",
            )
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
        remits=list(remits.values()),
        truth=truth,
    )
