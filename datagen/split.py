"""Cut generated (or sample) data into batches by date, as files would land week by week.

Claims by submission date (a claim's lines with it), write-offs by their date, 835 files by the
date in their name (``<payer>_<YYYYMMDD>.835``, as the generator writes them; a file the payer sent
again, ``<payer>_<YYYYMMDD>_resent.835``, by the date it was sent again). Used by the
incremental tests and bench/bench_incremental.py.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import shutil
from pathlib import Path


def _batch_of(day: dt.date, bounds: list[dt.date]) -> int | None:
    for i in range(len(bounds) - 1):
        if bounds[i] <= day < bounds[i + 1]:
            return i
    return None


def split_by_date(src: Path, dest: Path, cuts: list[dt.date], end: dt.date | None = None) -> list[Path]:
    """Write ``len(cuts) + 1`` batch folders under ``dest``: batch i holds what is dated in
    [cuts[i-1], cuts[i]) (the first from the beginning; the last up to ``end``, excluded, or
    without end). Rows dated after ``end`` are left out. Returns the batch folders."""
    bounds = [dt.date.min, *cuts, end or dt.date.max]
    n = len(bounds) - 1
    folders = [dest / f"batch{i:02d}" for i in range(n)]
    for f in folders:
        (f / "claims").mkdir(parents=True, exist_ok=True)
        (f / "remittances").mkdir(parents=True, exist_ok=True)

    def split_csv(name: str, date_column: str | None, key_of=None) -> dict[str, int]:
        path = src / "claims" / f"{name}.csv"
        if not path.exists():
            return {}
        with open(path, newline="") as fh, contextlib.ExitStack() as stack:
            reader = csv.reader(fh)
            header = next(reader)
            writers = {}
            for i, f in enumerate(folders):
                h = stack.enter_context(open(f / "claims" / f"{name}_{i:02d}.csv", "w", newline=""))
                writers[i] = csv.writer(h, lineterminator="\n")
                writers[i].writerow(header)
            keys: dict[str, int] = {}
            col = header.index(date_column) if date_column else None
            kcol = header.index("claim_id")
            for row in reader:
                if col is not None:
                    b = _batch_of(dt.date.fromisoformat(row[col]), bounds)
                    keys[row[kcol]] = b
                else:
                    b = key_of.get(row[kcol])
                if b is not None:
                    writers[b].writerow(row)
        return keys

    claim_batch = split_csv("claims", "submission_date")
    split_csv("claim_lines", None, claim_batch)
    split_csv("write_offs", "writeoff_date")
    for f in sorted((src / "remittances").glob("*.835")):
        stamp = f.stem.split("_")[1]  # <payer>_<YYYYMMDD>.835 or <payer>_<YYYYMMDD>_resent.835
        b = _batch_of(dt.date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8])), bounds)
        if b is not None:
            shutil.copy(f, folders[b] / "remittances" / f.name)
    for f in folders:  # no header-only files
        for p in (f / "claims").glob("*.csv"):
            with open(p) as fh:
                if sum(1 for _ in fh) <= 1:
                    p.unlink()
    return folders
