"""Entry points: :func:`generate` (Python API) and :func:`cli_generate` (for ``denials generate``).

The plan splits the submission weeks into batches; batches are simulated and rendered (in worker
processes, see :mod:`datagen.batch`) and appended in order to the output files
(:mod:`datagen.writer`); an X12 file is assembled as soon as no later batch can add to it.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from datagen.batch import (
    BatchOutput,
    Renderers,
    init_worker,
    render_batch,
    render_batch_in_worker,
)
from datagen.dates import default_start, iso
from datagen.model import Plan, make_plan
from datagen.patterns import Pattern, default_patterns
from datagen.writer import OutputWriter

GENERATOR_VERSION = "2"  # 2: planted remittance cases, denial rules by CARC in any group
FORMATS = ("claims_csv", "claims_837", "remittances_835", "remittances_csv")
FOLDERS = {
    "claims_csv": "claims",
    "claims_837": "claims_837",
    "remittances_835": "remittances",
    "remittances_csv": "remittances_csv",
}


def _write_all(
    writer: OutputWriter, plan: Plan, outputs: Iterable[BatchOutput]
) -> None:
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
            pending.append(pool.apply_async(render_batch_in_worker, (submitted,)))
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
    writer = OutputWriter(out, plan, fmts)
    n_batches = len(plan.batches)
    n_workers = min(
        workers if workers is not None else os.cpu_count() or 1, n_batches, 8
    )
    try:
        if n_workers <= 1:
            renderers = Renderers(plan, fmts)
            outputs: Iterator[BatchOutput] = (
                render_batch(renderers, i) for i in range(n_batches)
            )
            _write_all(writer, plan, outputs)
        else:
            ctx = mp.get_context(
                "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            )
            with ctx.Pool(
                n_workers, initializer=init_worker, initargs=(plan, fmts)
            ) as pool:
                _write_all(writer, plan, _in_order(pool, n_batches, n_workers + 1))
                # the workers exit when told to (the context's exit would terminate them by signal)
                pool.close()
                pool.join()
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
