"""Columnar fast path for 835 files: the same tables as ``remit835`` as ``pyarrow.Table``.

The row-by-row parser (``remit835._parse_835``) spends its time in Python per segment and per
value (``Decimal``, ``datetime.date``). Here a file (or a batch of small files) is split once
with numpy: every element of every segment becomes one entry of a single Arrow string array
(the bytes without separators, with an offset per element), and each output column is a gather
from it (``take``) followed by a column-wise check and cast:

* money: the characters of the whole column are checked with numpy (digits, one point, a
  leading minus), then Arrow's ``cast`` to ``decimal128(18,2)`` refuses the rest of what
  ``values.parse_money`` refuses and is exact; quantities the same with three decimals. A value
  with blanks is refused here (the row parser strips them);
* dates: exactly 8 ASCII digits forming a calendar date, computed with numpy ``datetime64``;
* segment ids and qualifiers are compared as bytes with numpy;
* structure (which claim / line / transaction a segment belongs to) from running maxima over
  the positions of the boundary segments (CLP, SVC, LX, PLB, ST, SE).

Only the few envelope and header segments (ISA, GS, ST, BPR, TRN, N1, REF outside claims, PLB,
SE, GE, IEA) go through a Python loop, with the same code and the same ``Envelope`` as the row
parser. A large file is cut in parts of about 2 MB (before an ST or a CLP), split and gathered
in order on 1 or 2 threads (numpy and Arrow release the GIL, but hand it over often); with two
processes, a second process (kept between files) parses the last parts of a large file at the
same time, from a guessed state that is checked (see "one large file on two processes"). Many
small files are vectorised together; with two processes, the second half of them is parsed in
another process.

Exactness: the fast path handles the common shape of a file and checks its preconditions as it
goes (one interchange block, no blanks around segments, UTF-8, every segment where it may be,
every amount and date strict, no element missing that the row parser would index ...). When
any check fails it gives up (``_Fallback``) and the row parser runs on the file: that parser
raises the exact error (file, segment number, segment id, element) or, when the fast path was
only stricter than needed, returns the tables, converted to Arrow. So the result is always what
the row parser gives; the fast path only decides how quickly.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing import reduction
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputFileError
from transforms.ingest.records import Finding, ParsedFile
from transforms.x12.envelope import Envelope
from transforms.x12.remit835 import (
    ADJUSTMENT_COLUMNS,
    BPR_UNBALANCED,
    CLAIM_COLUMNS,
    CLP_UNBALANCED,
    KIND_835,
    LINE_COLUMNS,
    NO_TRANSACTIONS,
    PAYMENT_COLUMNS,
    PLB_COLUMNS,
    SVC_UNBALANCED,
    parse_835_tokens,
)
from transforms.x12.segments import Misplaced
from transforms.x12.tokenizer import (
    BLANKS,
    MAX_SEGMENT_LENGTH,
    Delimiters,
    _segment_start,
    isa_delimiters,
    tokenize,
)
from transforms.x12.values import BadValue, date_range, money_str, parse_date, parse_money

HashMemberId = Callable[[str | None], str | None]

MONEY = pa.decimal128(18, 2)
QUANTITY = pa.decimal128(18, 3)
_TYPES = {
    "file_id": pa.string(), "source_row": pa.int64(), "line_number": pa.int32(),
    "triple_index": pa.int32(), "pair_index": pa.int32(),
    "payment_amount": MONEY, "charge_amount": MONEY, "paid_amount": MONEY,
    "patient_responsibility": MONEY, "allowed_amount": MONEY, "amount": MONEY,
    "units": QUANTITY, "quantity": QUANTITY,
    "payment_date": pa.date32(), "statement_from": pa.date32(), "statement_to": pa.date32(),
    "claim_received_date": pa.date32(), "service_date": pa.date32(), "fiscal_period_date": pa.date32(),
}  # fmt: skip


def _schema(columns: tuple[str, ...]) -> pa.Schema:
    return pa.schema([(c, _TYPES.get(c, pa.string())) for c in columns])


#: Arrow schema of each raw table the 835 parser fills (types of ``transforms/sql/raw/schema.sql``).
SCHEMAS: dict[str, pa.Schema] = {
    "remit_payments": _schema(PAYMENT_COLUMNS),
    "remit_claims": _schema(CLAIM_COLUMNS),
    "remit_lines": _schema(LINE_COLUMNS),
    "remit_adjustments": _schema(ADJUSTMENT_COLUMNS),
    "provider_adjustments": _schema(PLB_COLUMNS),
}
_TABLES = tuple(SCHEMAS)


# segment codes
(INVALID, ISA, GS, GE, IEA, ST, SE, BPR, TRN, N1, REF, DTM, CLP, CAS, NM1, MOA, MIA, SVC, AMT, LQ, LX, PLB,
 OTHER) = range(23)  # fmt: skip
_CODES = {
    "ISA": ISA, "GS": GS, "GE": GE, "IEA": IEA, "ST": ST, "SE": SE, "BPR": BPR, "TRN": TRN, "N1": N1,
    "REF": REF, "DTM": DTM, "CLP": CLP, "CAS": CAS, "NM1": NM1, "MOA": MOA, "MIA": MIA, "SVC": SVC,
    "AMT": AMT, "LQ": LQ, "LX": LX, "PLB": PLB,
}  # fmt: skip
_PLB_ELEMENTS = [(f"PLB{k:02d}", f"PLB{k + 1:02d}") for k in range(3, 15, 2)]
# blanks the tokenizer strips around segments, other than space and CR/LF (checked apart)
_RARE_BLANK_BYTES = (b"\t", b"\x0b", b"\x0c", b"\x00", b"\x1a")
_MAX_PART_BYTES = 1 << 30  # int32 offsets of the element array
_BATCH_BYTES = 64 << 20  # files vectorised together (memory)
_CHUNK_BYTES = 2 << 20  # a large file is split and gathered in parts of about this size
_PROCESS_MIN_BYTES = 2 << 20  # below this, a second process is not worth its start (many files)
_PROCESS_MIN_FILE_BYTES = 4_000_000  # one file: below this (one 2 MB part), no second process
_PARENT_SHARE = 0.5  # of one file's bytes parsed by the calling process, the rest by the second one
_WORKER_TIMEOUT_S = 60.0  # (+ 1 s per MB) the second process is given up after this: its parts parsed here
_WORKER_IDLE_S = 30.0  # the second process exits after this long without work
_HEAD = 4096
_MISSING: Any = object()


class _Fallback(Exception):
    """The fast path does not handle this input: the row parser decides."""


# ---------------------------------------------------------------------------------------------
# entry points


def parse_835_arrow(
    data: bytes,
    file_name: str,
    file_id: str,
    hash_member_id: HashMemberId,
    *,
    threads: int | None = None,
    processes: int | None = None,
) -> ParsedFile:
    """Like ``parse_835`` but the tables are ``pyarrow.Table`` (schemas: :data:`SCHEMAS`).
    Raises the same InputFileError as ``parse_835``. ``threads``: 1 or 2 (default: 2 when the
    machine has two cores or more). ``processes``: 1, 2 or None, as in :func:`parse_835_files`
    (None: a second process for a large file when the machine has two cores)."""
    out = parse_835_files([(data, file_name, file_id)], hash_member_id, threads=threads, processes=processes).parsed(0)
    if isinstance(out, InputFileError):
        raise out
    return out


def try_parse_835_arrow(
    data: bytes,
    file_name: str,
    file_id: str,
    hash_member_id: HashMemberId,
    *,
    threads: int | None = None,
    processes: int | None = None,
) -> ParsedFile | None:
    """The fast path alone: the ParsedFile when it reads the file as an 835, else None (the
    file is something else, has an unusual shape or an error: the row parsers decide)."""
    prep = _prepare(data, file_name)
    if prep is None:
        return None
    mark = (prep.d.segment + prep.newline + "ST" + prep.d.element).encode()
    i = prep.c.find(mark)
    if i >= 0 and prep.c[i + len(mark) : i + len(mark) + 4] != b"835" + mark[-1:]:
        return None  # the first transaction is not an 835
    try:
        tables, files = _fast(
            [prep], prep.d, [file_name], [file_id], hash_member_id, _n_threads(threads), _n_processes(processes)
        )
    except _Fallback:
        return None
    rows_read, findings, _ = files[0]
    return ParsedFile(KIND_835, tables, rows_read, findings)


def parse_835_batch(
    items: Sequence[tuple[bytes, str, str]], hash_member_id: HashMemberId, *, threads: int | None = None
) -> list[ParsedFile | InputFileError]:
    """One result per item ``(data, file_name, file_id)``, in order: a ParsedFile with Arrow
    tables (slices of :func:`parse_835_files`' tables), or the InputFileError that
    ``parse_835`` raises for that file."""
    batch = parse_835_files(items, hash_member_id, threads=threads)
    return [batch.parsed(k) for k in range(len(items))]


@dataclass(frozen=True, slots=True)
class FileRows:
    """One file of a :class:`Batch835`: what its ParsedFile holds besides the rows, and where
    its rows are in the batch's tables."""

    rows_read: int
    findings: list[Finding]
    ranges: dict[str, tuple[int, int]]  # table -> (first row, number of rows)


@dataclass
class Batch835:
    """Many 835 files parsed together: one Arrow table per raw table for all the files that
    could be read (every row carries its ``file_id``; the rows of a file are contiguous), and
    per item its :class:`FileRows` or the InputFileError ``parse_835`` raises for it. A loader
    can insert ``tables`` at once instead of a table per file."""

    tables: dict[str, pa.Table]
    results: list[FileRows | InputFileError]

    def parsed(self, k: int) -> ParsedFile | InputFileError:
        """Item k as ``parse_835`` would give it (tables as zero-copy slices)."""
        r = self.results[k]
        if isinstance(r, InputFileError):
            return r
        tables = {name: self.tables[name].slice(*r.ranges[name]) for name in _TABLES}
        return ParsedFile(KIND_835, tables, r.rows_read, list(r.findings))


def parse_835_files(
    items: Sequence[tuple[bytes, str, str]],
    hash_member_id: HashMemberId,
    *,
    threads: int | None = None,
    processes: int | None = 1,
) -> Batch835:
    """Parse many 835 files ``(data, file_name, file_id)`` into one :class:`Batch835`; small
    files are vectorised together, a large file is cut in parts, on ``threads`` threads.

    ``processes=2`` (Linux only): a second process parses at the same time: for many files the
    second half of the files (by size; much of the work on many small files is Python, which
    threads cannot share), for a single file of at least ``_PROCESS_MIN_FILE_BYTES`` its last
    parts. That process is started on first use and kept for the next calls (``_Worker``).
    ``processes=None``, for a single file: the same when the machine has two cores, except that
    the second process is not waited for: the first large file starts it (about 1.4 s: a Python
    with numpy, pyarrow and pandas) and is parsed in this process; the next ones use it once it
    is ready. The result is the same either way."""
    n_processes = _n_processes(processes)
    if n_processes == 2 and len(items) > 1:
        total = sum(len(x[0]) for x in items)
        if total >= _PROCESS_MIN_BYTES:
            return _two_processes(items, hash_member_id, _n_threads(threads))
    n_threads = _n_threads(threads)
    results: list[FileRows | InputFileError | None] = [None] * len(items)
    collected: dict[str, list[pa.Table]] = {name: [] for name in _TABLES}
    offset = dict.fromkeys(_TABLES, 0)

    def add(ks: list[int], tables: dict[str, pa.Table], files) -> None:
        for name in _TABLES:
            if tables[name].num_rows:
                collected[name].append(tables[name])
        for k, (rows_read, findings, counts) in zip(ks, files, strict=True):
            ranges = {}
            for name in _TABLES:
                ranges[name] = (offset[name], counts[name])
                offset[name] += counts[name]
            results[k] = FileRows(rows_read, findings, ranges)

    def row_path(k: int) -> None:
        r = _row_path(*items[k], hash_member_id)
        if isinstance(r, InputFileError):
            results[k] = r
        else:
            add([k], r.tables, [(r.rows_read, r.findings, {n: t.num_rows for n, t in r.tables.items()})])

    def run(ks: list[int], d: Delimiters) -> None:
        try:
            tables, files = _fast(
                [preps[k] for k in ks], d, [items[k][1] for k in ks], [items[k][2] for k in ks], hash_member_id, n_threads,
                n_processes if len(items) == 1 else 1,
            )  # fmt: skip
        except _Fallback:
            if len(ks) == 1:
                row_path(ks[0])
            else:
                for k in ks:  # one file of the batch is unusual: each file on its own
                    run([k], d)
            return
        add(ks, tables, files)

    groups: dict[Delimiters, list[int]] = {}
    preps: dict[int, _Prep] = {}
    for k, (data, file_name, _fid) in enumerate(items):
        prep = _prepare(data, file_name)
        if prep is None:
            row_path(k)
        else:
            preps[k] = prep
            groups.setdefault(prep.d, []).append(k)
    for d, ks in groups.items():
        batch: list[int] = []
        size = 0
        for k in ks:
            n = len(preps[k].c)
            if batch and size + n > _BATCH_BYTES:
                run(batch, d)
                batch, size = [], 0
            batch.append(k)
            size += n
        if batch:
            run(batch, d)
    tables = {}
    for name in _TABLES:
        ts = collected[name]
        tables[name] = (
            ts[0] if len(ts) == 1 else pa.concat_tables(ts) if ts else SCHEMAS[name].empty_table()
        )
    return Batch835(tables, results)  # type: ignore[arg-type]


def _two_processes(items: Sequence[tuple[bytes, str, str]], hasher: HashMemberId, n_threads: int) -> Batch835:
    """The first half of the files (by size) here and the second half in the second process
    (``_Worker``) at the same time; the same result as one process. All here when the second
    process is busy with another thread's file or cannot be used."""
    acc = np.cumsum([len(x[0]) for x in items])
    k = _cut(acc)
    first_items, second_items = list(items[:k]), list(items[k:])
    texts = [x[0] for x in second_items]
    layout = [(len(x[0]), x[1], x[2]) for x in second_items]
    if not all(isinstance(t, bytes) for t in texts) or not _job_start(("files", layout, hasher), texts):
        return parse_835_files(items, hasher, threads=n_threads)
    try:
        first = parse_835_files(first_items, hasher, threads=1)
    except BaseException:
        _job_end(None)
        raise
    got = _job_end(_WORKER_TIMEOUT_S + acc[-1] / 1e6)
    if got is not None and got[0] == "ok":
        tables, results = got[1]
        second = Batch835(tables, [InputFileError(*r) if kind == "error" else r for kind, r in results])
    else:  # the second process failed: its half here
        second = parse_835_files(second_items, hasher, threads=1)
    tables = {name: pa.concat_tables([first.tables[name], second.tables[name]]) for name in _TABLES}
    shifted: list[FileRows | InputFileError] = []
    for r in second.results:
        if isinstance(r, FileRows):
            r = FileRows(r.rows_read, r.findings, {
                name: (a + first.tables[name].num_rows, n) for name, (a, n) in r.ranges.items()
            })  # fmt: skip
        shifted.append(r)
    return Batch835(tables, first.results + shifted)


def to_arrow(parsed: ParsedFile) -> ParsedFile:
    """The row parser's dict-of-lists tables as Arrow tables with :data:`SCHEMAS`."""
    tables = {}
    for name, cols in parsed.tables.items():
        schema = SCHEMAS[name]
        tables[name] = pa.Table.from_arrays([pa.array(cols[f.name], type=f.type) for f in schema], schema=schema)
    return ParsedFile(parsed.kind, tables, parsed.rows_read, list(parsed.findings))


def _n_threads(threads: int | None) -> int:
    if threads is None:
        return 2 if (os.cpu_count() or 1) >= 2 else 1
    return max(1, min(2, threads))


_AUTO = 0  # processes=None: a second process for a large single file when the machine has two cores


def _n_processes(processes: int | None) -> int:
    """1, 2 or _AUTO; 1 without files in memory (memfd: Linux; the text of a file holds PHI and
    is not written to a temporary file) or descriptors passed between processes."""
    if not (hasattr(os, "memfd_create") and hasattr(socket, "AF_UNIX") and hasattr(socket.socket, "sendmsg")):
        return 1
    return _AUTO if processes is None else max(1, min(2, processes))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _row_path(data: bytes, file_name: str, file_id: str, hasher: HashMemberId) -> ParsedFile | InputFileError:
    try:
        parsed, _, _ = parse_835_tokens(tokenize(data, file_name), file_name, file_id, hasher)
    except InputFileError as e:
        return e
    return to_arrow(parsed)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="x12-835")
    return _pool


def _make_parts(preps: list[_Prep], d: Delimiters) -> list[_Part]:
    """Parts of about _CHUNK_BYTES: a large file is cut before some of its ST or CLP segments
    (its chunks go to consecutive parts; a part may begin inside a transaction), small files
    are grouped whole."""
    pieces: list[tuple[bytes, int]] = []
    for f, p in enumerate(preps):
        c = p.c
        after = (d.segment + p.newline).encode()  # a piece ends after these
        marks = [after + (sid + d.element).encode() for sid in ("ST", "CLP")]
        start = 0
        while len(c) - start > _CHUNK_BYTES * 3 // 2:
            found = [x for x in (c.find(m, start + _CHUNK_BYTES) for m in marks) if x >= 0]
            if not found:
                break
            cut = min(found) + len(after)
            pieces.append((c[start:cut], f))
            start = cut
        pieces.append((c if start == 0 else c[start:], f))
    parts: list[_Part] = []
    cur: list[tuple[bytes, int]] = []
    size = 0
    newline = any(p.newline for p in preps)
    for c, f in pieces:
        if cur and (size + len(c) > _CHUNK_BYTES or cur[-1][1] == f):
            parts.append(_Part([x[0] for x in cur], [x[1] for x in cur], d, newline))
            cur, size = [], 0
        cur.append((c, f))
        size += len(c)
    parts.append(_Part([x[0] for x in cur], [x[1] for x in cur], d, newline))
    return parts


@dataclass
class _Carry:
    """What the parts before a part hand on to it (computed in order, after each part's split):
    the segments and ISA seen so far per file (segment numbers go on from there), the file of the
    last piece, whether that part ended inside a transaction (ST without its SE yet) and whether
    the last ST or BPR it held was a BPR."""

    seen: dict[int, int]
    isa: dict[int, int]
    last_file: int = -1
    ends_in_tx: bool = False
    bpr_open: bool = False

    def handed_on(self) -> tuple:
        """What a part that goes on after these parts reads of them (not the ISA counts)."""
        return self.last_file, self.ends_in_tx, self.bpr_open


def _pipeline(
    parts: list[_Part],
    file_ids: list[str],
    n_threads: int,
    hash_many: Callable[[list], list] | None = None,
    carry: _Carry | None = None,
) -> _Carry:
    """Split every part and build its columns, on ``n_threads`` threads, parts in order: a
    part's segment numbers go on from the same file's earlier parts, known once those are split.
    With ``hash_many`` (``MemberIdHasher.hash_many``) a part's member ids are hashed by the thread
    that built its columns, while the other thread works on the next part. ``carry``: the state
    left by parts parsed before these (another process parses the first parts of a file while
    this one parses the rest). Returns the state after the last part."""
    start = carry or _Carry({}, {})
    seen = dict(start.seen)
    isa = dict(start.isa)
    ready = [threading.Event() for _ in parts]
    failed: list[BaseException] = []

    def task(i: int) -> None:
        part = parts[i]
        try:
            try:
                part.split()
            finally:
                if i:
                    ready[i - 1].wait()
            if failed:
                raise _Fallback
            if i:
                prev = parts[i - 1]
                last_file, prev_in_tx, prev_bpr = prev.files[-1], prev.ends_in_tx, prev.bpr_open
            else:
                last_file, prev_in_tx, prev_bpr = start.handed_on()
            # a part that goes on with the file of the part before, inside its transaction
            part.starts_in_tx = bool(last_file == part.files[0] and prev_in_tx)
            part.ends_in_tx = part.starts_in_tx if part.last_st_or_se is None else part.last_st_or_se == ST
            bpr_open = part.starts_in_tx and prev_bpr
            if part.claims_before_st_bpr and not bpr_open:
                raise _Fallback  # a CLP or LX of a transaction whose BPR has not come (or outside one)
            part.bpr_open = bpr_open if part.last_st_or_bpr is None else part.last_st_or_bpr == BPR
            arg = ([seen.get(f, 0) for f in part.files], [file_ids[f] for f in part.files])
            for f, n, ni in zip(part.files, part.piece_n_seg.tolist(), part.piece_n_isa.tolist(), strict=True):
                seen[f] = seen.get(f, 0) + n
                isa[f] = isa.get(f, 0) + ni
        except BaseException as e:
            failed.append(e)
            raise
        finally:
            ready[i].set()
        part.columns(arg)
        if hash_many is not None:
            part.member_column(hash_many)
        part.slim()

    if n_threads == 1 or len(parts) <= 1:
        for i in range(len(parts)):
            task(i)
    else:
        futures = [_executor().submit(task, i) for i in range(len(parts))]
        errors = [f.exception() for f in futures]  # waits for every part
        for e in errors:
            if e is not None:
                raise e
    if not parts:
        return _Carry(seen, isa, *start.handed_on())
    last = parts[-1]
    return _Carry(seen, isa, last.files[-1], last.ends_in_tx, last.bpr_open)


# ---------------------------------------------------------------------------------------------
# one large file on two processes
#
# Threads barely help (the GIL is handed over between many short numpy and Arrow calls), so a
# second process parses the last parts of the file. A part's columns depend on what the parts
# before it hand on (_Carry: segment numbers, an open transaction, an open BPR), which is known
# only once those are split. The second process starts at once with a guess of that state read
# from the bytes of the first parts (terminators counted, the last ST / SE / BPR found); when the
# first parts have been split here, the guess is compared with the real state. Equal: the second
# process ran exactly what this one would have run, and its parts are taken as they are. Not
# equal (an empty segment ``~~`` in the first parts, say) or the second process failed: its parts
# are parsed here after all, from the real state. Either way the result is the one-process result.
#
# The second process is kept between files (_Worker): a fresh process pays for its memory on its
# first parts (about 10,000 page faults, 0.05-0.1 s on this machine), which made two processes
# slower than one below about 24 MB. The text goes to it and the parsed parts (68 MB of Arrow
# buffers for 25 MB of text) come back as files in memory (memfd: the text holds PHI, nothing
# goes to disk) whose descriptors are passed over a socket; the results are mapped, not copied
# (through a pipe: a copy in, 64 KB reads and two copies out, 0.05-0.2 s for half of a 50 MB
# file).


def _pipeline_two_processes(
    parts: list[_Part], prep: _Prep, file_ids: list[str], hasher: HashMemberId, hash_many: Callable[[list], list],
    n_threads: int,
) -> _Carry:
    """``_pipeline(parts, file_ids, n_threads, hash_many)`` with the last parts (about half the
    bytes) parsed by the second process at the same time (the first ones here on one thread).
    ``parts`` (all of one file) is updated in place: its last parts are replaced by the second
    process's parsed parts."""
    sizes = np.cumsum([sum(len(c) for c in part.pieces) for part in parts])
    k = _cut(sizes)
    mine, theirs = parts[:k], parts[k:]
    guess = _guess_carry(mine, prep)
    layout = [([len(c) for c in part.pieces], part.files, part.newline) for part in theirs]
    if not _job_start(("parts", layout, prep.d, file_ids, hasher, guess), [c for part in theirs for c in part.pieces]):
        return _pipeline(parts, file_ids, n_threads, hash_many)
    try:
        out = _pipeline(mine, file_ids, 1, hash_many)
    except BaseException:
        _job_end(None)
        raise
    got = _job_end(_WORKER_TIMEOUT_S + sizes[-1] / 1e6)
    exact = guess.handed_on() == out.handed_on() and guess.seen == {f: out.seen.get(f, 0) for f in guess.seen}
    if exact and got is not None:
        kind, payload = got
        if kind == "fallback":
            raise _Fallback  # the same parts from the same state fail here as well
        if kind == "ok":
            their_parts, after = payload
            parts[k:] = their_parts
            isa = dict(out.isa)
            for f, n in after.isa.items():
                isa[f] = isa.get(f, 0) + n
            return _Carry({**out.seen, **after.seen}, isa, *after.handed_on())
    return _pipeline(theirs, file_ids, 1, hash_many, out)


def _cut(sizes: np.ndarray) -> int:
    """How many of the pieces (``sizes``: their running total of bytes, at least two) this
    process takes: the boundary nearest to ``_PARENT_SHARE`` of the bytes, one piece at least
    on each side."""
    k = int(np.argmin(np.abs(sizes[:-1] - sizes[-1] * _PARENT_SHARE))) + 1
    return min(max(k, 1), len(sizes) - 1)


def _guess_carry(parts: list[_Part], prep: _Prep) -> _Carry:
    """The state ``parts`` (the first parts of the one file of ``prep``) will hand on, read from
    their bytes without splitting them: a segment per terminator; inside a transaction when the
    last ST or SE is an ST; a BPR open when the last ST or BPR is a BPR. A guess: checked against
    the real state (``_pipeline_two_processes``)."""
    d = prep.d
    term = ord(d.segment)
    pieces = [c for part in parts for c in part.pieces]
    n = sum(int(np.count_nonzero(np.frombuffer(c, np.uint8) == term)) for c in pieces)
    after = d.segment + prep.newline  # a segment begins after these (or at a piece's start)

    def last_of(a: str, b: str) -> str | None:
        """Which of the segment ids a and b comes last in the pieces (None: neither)."""
        for c in reversed(pieces):
            best, which = -1, None
            for sid in (a, b):
                head = (sid + d.element).encode()
                i = c.rfind(after.encode() + head)
                pos = i + len(after) if i >= 0 else 0 if c.startswith(head) else -1
                if pos > best:
                    best, which = pos, sid
            if which is not None:
                return which
        return None

    file = parts[-1].files[-1]
    return _Carry({file: n}, {}, file, last_of("ST", "SE") == "ST", last_of("ST", "BPR") == "BPR")


class _Worker:
    """The second process, started on first use and kept for the next files, one file at a time
    (``_worker_lock``). It exits when it has had nothing to do for ``_WORKER_IDLE_S`` (its memory
    goes back) or when this process closes its end (or ends).

    A new Python (``subprocess``, fork and exec), not a multiprocessing child: a fork of this
    process could copy a lock another thread holds (DuckDB's, Arrow's: a forked child once waited
    on one forever in a test), and multiprocessing's spawn and forkserver children import the
    caller's ``__main__`` script again, which runs it a second time when it has no ``if __name__
    == "__main__"`` guard: not acceptable for a default. Its start (Python, numpy, pyarrow,
    pandas: about 1.4 s) is paid once; the caller does not wait for it before parsing its part."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()  # file descriptors can go through it
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])  # the folder holding transforms/: this code
        env["PYTHONPATH"] = os.pathsep.join(x for x in (root, env.get("PYTHONPATH")) if x)
        code = "import sys; from transforms.x12.fast835 import _worker_main; _worker_main(int(sys.argv[1]))"
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, str(theirs.fileno())], pass_fds=(theirs.fileno(),), env=env,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.pid = os.getpid()
        self.ready = False  # it has said it is ready (imports done)
        # (sys.path: for the classes of what it unpickles, such as the hasher's)
        self.conn.send((list(sys.path), _WORKER_IDLE_S))

    def usable(self) -> bool:
        # (a copy of this object in a fork of this process is not: the process is not its child)
        return self.pid == os.getpid() and self.proc.poll() is None

    def is_ready(self) -> bool:
        """Running and done with its imports (without waiting). Reads its "ready" even when it
        has exited since (after its idle time)."""
        if self.pid != os.getpid():
            return False
        if not self.ready:
            try:
                if self.conn.poll(0):
                    self.ready = self.conn.recv() == "ready"
            except (EOFError, OSError):
                pass
        return self.ready and self.usable()

    def send(self, job: bytes, texts: list[bytes]) -> None:
        """A job (pickled: a function of ``_JOBS`` and its arguments but the text) and its text,
        in a memory file."""
        fd = _memory_file()
        try:
            with open(fd, "wb", closefd=False) as f:
                for c in texts:
                    f.write(c)
            self.conn.send_bytes(job)
            reduction.send_handle(self.conn, fd, self.proc.pid)
        finally:
            os.close(fd)

    def receive(self, timeout: float) -> tuple | None:
        """(kind, what the job returned: read from its memory file for "ok", else None); None
        when the second process died, hung or sent something unreadable."""
        try:
            if not self.ready:
                if not self.conn.poll(timeout) or self.conn.recv() != "ready":
                    return None
                self.ready = True
            if not self.conn.poll(timeout):
                return None
            kind, _ = self.conn.recv()
            if kind != "ok":
                return kind, None
            fd = reduction.recv_handle(self.conn)
            try:
                return kind, _load(fd)
            finally:
                os.close(fd)
        except Exception:  # noqa: BLE001 - (EOFError when it died)
            return None

    def close(self) -> None:
        self.conn.close()
        if self.pid == os.getpid():
            self.proc.kill()
            self.proc.wait()


_worker: _Worker | None = None
_worker_lock = threading.Lock()
_worker_auto_failed = False


def _job_start(job: tuple, texts: list[bytes]) -> bool:
    """Give ``job`` and its text to the second process (started if needed). True: it has it,
    and this thread holds the second process until ``_job_end``. False: parse here (it is busy
    with another thread's file, the hasher does not pickle, it cannot be started ...)."""
    global _worker
    try:
        data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - the hasher does not pickle
        return False
    if not _worker_lock.acquire(blocking=False):
        return False
    try:
        if _worker is None or not _worker.usable():
            if _worker is not None:
                _worker.close()
            _worker = None
            _worker = _Worker()
        _worker.send(data, texts)
        return True
    except Exception:  # noqa: BLE001 - no second process (it cannot be started ...)
        if _worker is not None:
            _worker.close()  # (it may have half a job)
            _worker = None
        _worker_lock.release()
        return False


def _job_end(timeout: float | None) -> tuple | None:
    """The outcome of the job given by ``_job_start``: (kind, what it returned) or None (the
    second process failed or hung: stopped, another is started next time). ``timeout`` None:
    this thread failed, the job is abandoned (the second process is stopped). Lets the second
    process go."""
    global _worker
    got = None
    try:
        if timeout is not None and _worker is not None:
            got = _worker.receive(timeout)
    finally:
        if got is None and _worker is not None:
            _worker.close()
            _worker = None
        _worker_lock.release()
    return got


def _worker_ready() -> bool:
    """The second process is running and done with its imports, without waiting (False while
    another thread's file has it: only the thread holding ``_worker_lock`` reads its socket)."""
    if _worker is None or not _worker_lock.acquire(blocking=False):
        return False
    try:
        return _worker is not None and _worker.is_ready()
    finally:
        _worker_lock.release()


def _start_worker_soon() -> None:
    """Start the second process without waiting for it (``processes=None``: the file at hand is
    parsed here; the next large ones use it once it is ready). Not again once it could not be
    started or died before it was ready."""
    global _worker, _worker_auto_failed
    if _worker_auto_failed or not _worker_lock.acquire(blocking=False):
        return
    try:
        if _worker is not None and not _worker.is_ready() and not _worker.usable():
            _worker_auto_failed = not _worker.ready  # it died before it was ever ready
            _worker.close()
            _worker = None
            if _worker_auto_failed:
                return
        if _worker is None:
            _worker = _Worker()
    except Exception:  # noqa: BLE001 - one process then
        _worker_auto_failed = True
    finally:
        _worker_lock.release()


def _worker_main(fd: int) -> None:
    """The second process (``python -c``, see _Worker): takes sys.path and its idle time from
    the calling process, imports pandas (pyarrow imports it on the first ``pa.array``: 0.8 s),
    says it is ready, then runs the jobs that come (``_JOBS``) until the calling process closes
    its end or nothing comes for the idle time. Nothing is printed, whatever happens (a message
    might quote a value): the calling process parses what was not done."""
    conn = Connection(fd)
    try:
        path, idle_s = conn.recv()
        sys.path[:] = path
        with contextlib.suppress(ImportError):
            import pandas  # noqa: F401
        conn.send("ready")
        while conn.poll(idle_s):
            job = pickle.loads(conn.recv_bytes())  # noqa: S301 (from the process that started this one)
            text = reduction.recv_handle(conn)
            kind, info, result = _JOBS[job[0]](text, *job[1:])
            conn.send((kind, info))
            if result is not None:
                reduction.send_handle(conn, result, os.getppid())
                os.close(result)
    except BaseException:  # noqa: BLE001 - (EOFError: the calling process has gone)
        pass
    finally:
        conn.close()


def _parse_parts(text: int, layout, d, file_ids, hasher, carry: _Carry) -> tuple[str, str | None, int | None]:
    """In the second process: the parts of ``layout`` (lengths of the pieces, files, newline of
    each; the pieces' text in the memory file ``text``, closed here) parsed from the state
    ``carry``. Returns ("ok", None, a memory file holding the slimmed parts and the state after
    them), ("fallback", None, None) when the fast path gives up on them, or ("error", the
    exception's name, None) on anything else (not its message: it might quote a value)."""
    try:
        with mmap.mmap(text, 0, access=mmap.ACCESS_READ) as mm:
            parts = []
            pos = 0
            for lengths, files, newline in layout:
                pieces = []
                for n in lengths:
                    pieces.append(mm[pos : pos + n])
                    pos += n
                parts.append(_Part(pieces, files, d, newline))
        out = _pipeline(parts, file_ids, 1, hasher.hash_many, carry)
        return "ok", None, _dumped((parts, out))
    except _Fallback:
        return "fallback", None, None
    except Exception as e:  # noqa: BLE001 - the calling process parses these parts itself
        return "error", type(e).__name__, None
    finally:
        os.close(text)


def _parse_files(text: int, layout, hasher) -> tuple[str, str | None, int | None]:
    """In the second process: the files of ``layout`` (length, name, file id of each; their
    bytes in the memory file ``text``, closed here) parsed as ``parse_835_files`` does. Returns
    ("ok", None, a memory file holding the tables and per file its FileRows or its error) or
    ("error", the exception's name, None)."""
    try:
        with mmap.mmap(text, 0, access=mmap.ACCESS_READ) as mm:
            items = []
            pos = 0
            for n, name, file_id in layout:
                items.append((mm[pos : pos + n], name, file_id))
                pos += n
        batch = parse_835_files(items, hasher, threads=1)
        results = [
            ("error", (r.file_name, r.location, r.expected, r.code)) if isinstance(r, InputFileError) else ("ok", r)
            for r in batch.results
        ]
        return "ok", None, _dumped((batch.tables, results))
    except Exception as e:  # noqa: BLE001 - the calling process parses these files itself
        return "error", type(e).__name__, None
    finally:
        os.close(text)


_JOBS = {"parts": _parse_parts, "files": _parse_files}


def _dumped(obj: Any) -> int:
    """A new memory file holding ``obj`` (``_dump``)."""
    fd = _memory_file()
    try:
        _dump(fd, obj)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _memory_file() -> int:
    """A file in memory without a name (memfd): nothing on disk, nothing left behind, whatever
    happens to either process."""
    return os.memfd_create("fast835", os.MFD_CLOEXEC)


def _dump(fd: int, obj: Any) -> None:
    """``obj`` pickled into the file ``fd``, its large buffers (Arrow, numpy) out of band: each
    written as it is at an offset aligned to 64 bytes, not copied into the pickle."""
    bufs: list[pickle.PickleBuffer] = []
    meta = pickle.dumps(obj, protocol=5, buffer_callback=bufs.append)
    raws = [b.raw() for b in bufs]
    head = pickle.dumps((len(meta), [r.nbytes for r in raws]), protocol=5)
    with open(fd, "wb", closefd=False) as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        f.write(meta)
        pos = 8 + len(head) + len(meta)
        for r in raws:
            pad = -pos % 64
            f.write(b"\0" * pad)
            f.write(r)
            pos += pad + r.nbytes


def _load(fd: int) -> Any:
    """What ``_dump`` wrote, its buffers zero-copy slices of the file mapped into memory (the
    mapping lives as long as an array uses it)."""
    size = os.fstat(fd).st_size
    whole = pa.py_buffer(mmap.mmap(fd, size, access=mmap.ACCESS_READ))
    n = int.from_bytes(whole.slice(0, 8).to_pybytes(), "little")
    meta_len, sizes = pickle.loads(whole.slice(8, n))  # noqa: S301 (our own second process's)
    pos = 8 + n
    meta = whole.slice(pos, meta_len)
    pos += meta_len
    bufs = []
    for m in sizes:
        pos += -pos % 64
        bufs.append(whole.slice(pos, m))
        pos += m
    return pickle.loads(meta, buffers=bufs)  # noqa: S301 (our own second process's)


# ---------------------------------------------------------------------------------------------
# preparation of one file: delimiters, and the text the tokenizer would split


@dataclass(frozen=True, slots=True)
class _Prep:
    c: bytes  # the text the tokenizer splits (CR/LF handled), ending with a terminator (+ newline)
    d: Delimiters
    data: bytes  # as given (for the block check of a file with several ISA)
    newline: str = ""  # "\n": newlines were left in c (the split drops those right after terminators)


def _prepare(data: Any, file_name: str) -> _Prep | None:
    """The file's delimiters and text when it has the usual shape, else None (row path)."""
    if not isinstance(data, bytes) or data[:3] != b"ISA":
        return None
    if data.isascii():
        head = data[:_HEAD].decode("ascii")
    else:
        try:
            head = data.decode("utf-8")[:_HEAD]
        except UnicodeDecodeError:
            return None  # read as Latin-1 by the tokenizer
    d = _delimiters(head, file_name)
    if d is None or not (d.element.isascii() and d.component.isascii() and d.segment.isascii()):
        return None
    term = d.segment.encode()
    c = data
    newline = ""
    if term == b"\n":
        if b"\r" in c:
            c = c.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    elif b"\r" in c:
        c = c.replace(b"\n", b"").replace(b"\r", b"")
    elif c.find(b"\n", 0, _HEAD) >= 0 and c.find(term + b"\n", 0, _HEAD) >= 0:
        # the usual layout, a newline after each terminator: left in (no copy of the file); the
        # split drops the newlines that follow a terminator, and a part holding any other
        # newline removes them all as the tokenizer does (_Part.split)
        newline = "\n"
    elif b"\n" in c:
        c = c.replace(b"\n", b"")
    # blanks the tokenizer would strip (spaces around segments are checked after the split)
    if any(b in c for b in _RARE_BLANK_BYTES) or (b"\xef" in c and b"\xef\xbb\xbf" in c):
        return None
    end = len(c)
    while newline and end and c[end - 1] == 10:  # (c.rstrip would copy the file)
        end -= 1
    if c[max(end - len(term), 0) : end] != term:
        c += term
    return _Prep(c, d, data, newline)


# separators of an ISA with the usual fixed-width elements (ISA06/08 of 15 characters ...)
_ISA_SEPS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_isa_cache: dict[tuple[str, ...], Delimiters | None] = {}


def _delimiters(head: str, file_name: str) -> Delimiters | None:
    """``isa_delimiters(head, 0)``, or None where it raises. For the usual fixed-width ISA the
    result depends only on the separator, ISA11, ISA12, ISA16 and the character after it:
    computed once per such key."""
    key = None
    if len(head) > 105:
        el = head[3]
        t = head[105]
        if (
            all(head[p] == el for p in _ISA_SEPS)
            and head.count(el, 0, 104) == 16
            and t not in BLANKS
            and not t.isalnum()
        ):
            key = (el, head[82], head[84:89], head[104], t)
            if key in _isa_cache:
                return _isa_cache[key]
    try:
        d: Delimiters | None = isa_delimiters(head, 0, file_name)  # reads ~110 characters of the head
    except InputFileError:
        d = None
    if key is not None and len(_isa_cache) < 1024:
        _isa_cache[key] = d
    return d


def _one_block(data: bytes, d: Delimiters, file_name: str) -> bool:
    """The tokenizer's block detection: no other ISA declares other delimiters."""
    text = data.decode("utf-8")
    p = text.find("ISA", 3)
    while p >= 0:
        if _segment_start(text, p, d.segment):
            try:
                d2 = isa_delimiters(text, p, file_name)
            except InputFileError:
                d2 = d
            if d2 != d:
                return False
        p = text.find("ISA", p + 3)
    return True


# ---------------------------------------------------------------------------------------------
# numpy / arrow helpers


def _np_array(a: np.ndarray, typ: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """numpy -> Arrow without ``pa.array`` (which imports pandas on its first call)."""
    np_type = {pa.int64(): np.int64, pa.int32(): np.int32, pa.date32(): np.int32}[typ]
    a = np.ascontiguousarray(a, dtype=np_type)
    bitmap = None
    if valid is not None and not valid.all():
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(typ, len(a), [bitmap, pa.py_buffer(a)])


def _np_bool(a: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(pa.bool_(), len(a), [None, pa.py_buffer(np.packbits(a, bitorder="little"))])


def _take(arr: pa.Array, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """arr[idx], null where not ``valid``."""
    if valid is not None:
        if not valid.any():
            return pa.nulls(len(idx), arr.type)
        idx = np.where(valid, idx, 0)
    return arr.take(_np_array(idx, pa.int64(), valid))


def _repeat(value: str, n: int) -> pa.Array:
    """A string array of n times ``value`` (built from its buffers)."""
    b = value.encode()
    offsets = np.arange(0, (n + 1) * len(b), len(b), dtype=np.int32) if b else np.zeros(n + 1, np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(b * n))


def _null_if_empty(a: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, a.type), a)


def _int64_of_decimal(a: pa.Array) -> np.ndarray:
    """Unscaled values of a decimal128 array without nulls (exact: at most 18 digits)."""
    if len(a) == 0:
        return np.zeros(0, np.int64)
    raw = np.frombuffer(a.buffers()[1], dtype=np.int64)
    return raw[2 * a.offset : 2 * (a.offset + len(a)) : 2].copy()


def _first_of_group(g: np.ndarray) -> np.ndarray:
    m = np.empty(len(g), bool)
    if len(g):
        m[0] = True
        np.not_equal(g[1:], g[:-1], out=m[1:])
    return m


def _last_of_group(g: np.ndarray) -> np.ndarray:
    m = np.empty(len(g), bool)
    if len(g):
        m[-1] = True
        np.not_equal(g[1:], g[:-1], out=m[:-1])
    return m


def _scatter(n: int, groups: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, valid) of length n: index[groups[i]] = rows[i] (groups unique)."""
    idx = np.zeros(n, np.int64)
    valid = np.zeros(n, bool)
    idx[groups] = rows
    valid[groups] = True
    return idx, valid


def _group_join(n: int, groups: np.ndarray, values: pa.Array, sep: str = ";") -> pa.Array:
    """Per group (0..n-1; ``groups`` nondecreasing) its values (no nulls) joined by ``sep``
    in order; null for a group without values."""
    if len(groups) == 0:
        return pa.nulls(n, pa.string())
    first = _first_of_group(groups)
    if first.all():
        return _take(values, *_scatter(n, groups, np.arange(len(groups))))
    # groups with several values: joined in Python (rare: several LQ / MOA per line / claim)
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(groups))
    multi = np.flatnonzero(ends - starts > 1)
    pyvals = values.to_pylist()
    joined = [sep.join(pyvals[a:b]) for a, b in zip(starts[multi].tolist(), ends[multi].tolist(), strict=True)]
    combined = pa.concat_arrays([values, pa.array(joined, pa.string())])
    rows = starts.copy()
    rows[multi] = len(values) + np.arange(len(multi))
    return _take(combined, *_scatter(n, groups[starts], rows))


# the bytes a number may hold: digits, point, minus
_NUMBER_BYTES = np.zeros(256, np.bool_)
_NUMBER_BYTES[48:58] = True
_NUMBER_BYTES[46] = True
_NUMBER_BYTES[45] = True


def _decimals(s: pa.Array, typ: pa.DataType) -> pa.Array:
    """Strings -> ``typ``; _Fallback unless every non-null value is what ``values._number``
    accepts (``parse_money`` for scale 2, ``parse_quantity`` for 3).

    numpy checks the characters of the whole column: digits, points and minus signs only (the
    cast would accept more: an exponent, a plus sign, blanks). Arrow's cast, value by value,
    refuses the rest of what ``_number`` refuses (a second point, a minus not in front, "-",
    ".", more significant integer digits than the precision leaves, non-zero digits beyond the
    scale) and keeps trailing zeros beyond the scale exact (12.340 -> 12.34): the tests compare
    both on every such case and with hypothesis."""
    n = len(s)
    if n == s.null_count:
        return pa.nulls(n, typ)
    offs = np.frombuffer(s.buffers()[1], dtype=np.int32)[s.offset : s.offset + n + 1]
    data = s.buffers()[2]
    if data is None:
        raise _Fallback  # only empty strings
    if not _NUMBER_BYTES[np.frombuffer(data, dtype=np.uint8)[offs[0] : offs[-1]]].all():
        raise _Fallback
    # a minus not in front and a second point are refused by the cast (per value): no check here
    try:
        return pc.cast(s, typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _Fallback from None


def _money(s: pa.Array, required: bool) -> pa.Array:
    """Strings -> decimal128(18,2); _Fallback unless every value is what parse_money accepts."""
    if required and s.null_count:
        raise _Fallback
    return _decimals(s, MONEY)


def _quantity(s: pa.Array) -> pa.Array:
    return _decimals(s, QUANTITY)


_U64 = np.uint64
_month_table: tuple[np.ndarray, np.ndarray] | None = None


def _months() -> tuple[np.ndarray, np.ndarray]:
    """Per month of the years 0001-9999 ((year - 1) * 12 + month - 1): its first day (days since
    1970-01-01) and its number of days."""
    global _month_table
    if _month_table is None:
        first = np.arange(np.datetime64("0001-01", "M"), np.datetime64("10000-01", "M") + 1).astype("datetime64[D]")
        days = (first - np.datetime64("1970-01-01", "D")).astype(np.int64)
        _month_table = (days[:-1], np.diff(days))
    return _month_table


def _ccyymmdd(v8: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the 8 bytes at each start, which must be CCYYMMDD digits forming
    a calendar date of the years 0001-9999 (no 30 February); else _Fallback.

    The 8 bytes of a date are read as one little-endian 64-bit number: a check of all eight
    digits and their value (SWAR: pairs, then quads, then all eight) in a few operations on
    whole columns; the day number from a table of months."""
    o = starts.astype(np.intp)
    raw = np.empty((len(o), 8), np.uint8)
    for i in range(8):
        raw[:, i] = v8[o + i]
    x = raw.view("<u8").ravel()
    d = x - _U64(0x3030303030303030)
    high = _U64(0xF0F0F0F0F0F0F0F0)
    if ((x & high) != _U64(0x3030303030303030)).any() or ((d + _U64(0x0606060606060606)) & high).any():
        raise _Fallback  # a byte that is not a digit
    # the first byte is the lowest: each step joins neighbours, the left one times 10^k
    v = d * _U64(10) + (d >> _U64(8))
    v &= _U64(0x00FF00FF00FF00FF)
    v = v * _U64(100) + (v >> _U64(16))
    v &= _U64(0x0000FFFF0000FFFF)
    v = v * _U64(10000) + (v >> _U64(32))
    v = (v & _U64(0xFFFFFFFF)).astype(np.int64)  # CCYYMMDD as a number
    lo, hi = (int(x.strftime("%Y%m%d")) for x in date_range())
    if len(v) and (v.min() < lo or v.max() > hi):
        raise _Fallback  # outside the plausible dates: the row parser's error
    ym = v // 100
    dd = v - ym * 100
    y = ym // 100
    m = ym - y * 100
    if ((y < 1) | (m < 1) | (m > 12) | (dd < 1)).any():
        raise _Fallback
    first, length = _months()
    k = (y - 1) * 12 + (m - 1)
    if (dd > length[k]).any():
        raise _Fallback  # 30 February
    return first[k] + (dd - 1)


def _cents_str(c: int) -> str:
    """money_str of an amount in cents."""
    return money_str(Decimal(c).scaleb(-2))


def _code_of(lit: bytes) -> int:
    """A qualifier of 1-3 bytes as the number ``code1`` gives its element."""
    c = len(lit) << 24
    for i, b in enumerate(lit):
        c |= b << (16 - 8 * i)
    return c


_id_table: np.ndarray | None = None


def _ids() -> np.ndarray:
    """Segment code by the id's bytes (b0 << 16 | b1 << 8 | b2, b2 = 0 for 2-letter ids): every
    valid id (2-3 capital letters or digits, starting with a letter) is in the table."""
    global _id_table
    if _id_table is None:
        t = np.zeros(1 << 24, np.int8)
        letters = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8).astype(np.int32)
        alnum = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", np.uint8).astype(np.int32)
        two = (letters[:, None] << 16 | alnum[None, :] << 8).ravel()
        t[two] = OTHER
        t[(two[:, None] | alnum[None, :]).ravel()] = OTHER
        for name, code in _CODES.items():
            b = name.encode().ljust(3, b"\0")
            t[b[0] << 16 | b[1] << 8 | b[2]] = code
        _id_table = t
    return _id_table


# ---------------------------------------------------------------------------------------------
# one part: some whole files, or a run of transactions of one file


class _Part:
    """Pieces of text (each a whole file or a run of whole transactions of one file), split
    and turned into columns together."""

    def __init__(self, pieces: list[bytes], files: list[int], d: Delimiters, newline: bool = False):
        self.pieces = pieces
        self.files = files  # batch file index of each piece (distinct within a part)
        self.d = d
        self.newline = newline  # some pieces may hold newlines after terminators

    def member_column(self, hash_many: Callable[[list], list]) -> None:
        """The member_id_hash column of the part's claims."""
        member: list[str | None] = [None] * self.n_claims
        for c_, h in zip(self.member_claims, hash_many(self.member_values), strict=True):
            member[c_] = h
        self.claim_cols[17] = pa.array(member, pa.string())
        del self.member_values, self.member_claims  # (member ids: not kept, not sent anywhere)

    # -- phase 1 ---------------------------------------------------------------------------
    def split(self) -> None:
        d = self.d
        el_b, term_b = ord(d.element), ord(d.segment)
        buf = self.pieces[0] if len(self.pieces) == 1 else b"".join(self.pieces)
        if len(buf) >= _MAX_PART_BYTES:
            raise _Fallback
        n_nl = buf.count(b"\n") if self.newline else 0
        u8 = np.frombuffer(buf, dtype=np.uint8)
        is_term = u8 == term_b
        sep = u8 == el_b
        sep |= is_term
        pos = np.flatnonzero(sep)
        del sep
        n_el = len(pos)
        termflag = is_term[pos]
        del is_term
        nl_before = None  # per element: newlines (each right after a terminator) before its end
        if n_nl:
            t_el = np.flatnonzero(termflag)
            nxt = pos[t_el] + 1
            nl = np.zeros(len(t_el), bool)
            inside = nxt < len(buf)
            nl[inside] = u8[nxt[inside]] == 10
            if int(nl.sum()) != n_nl:
                # a newline elsewhere (a wrapped file): removed everywhere, as by the tokenizer
                self.pieces = [p.replace(b"\n", b"") for p in self.pieces]
                self.newline = False
                return self.split()
            nl_before = np.zeros(n_el + 1, np.int32)
            nl_before[t_el + 1] = nl
            np.cumsum(nl_before, out=nl_before)
            delete = (d.element + d.segment + "\n").encode()
        else:
            delete = (d.element + d.segment).encode()
        self.buf = buf
        vals = buf.translate(None, delete)
        offs = np.empty(n_el + 1, np.int32)
        offs[0] = 0
        offs[1:] = pos
        offs[1:] -= np.arange(n_el, dtype=np.int32)
        if nl_before is not None:
            offs[1:] -= nl_before[:-1]
        del pos
        elen = np.diff(offs)
        self.offs, self.elen = offs, elen
        self.v8 = np.frombuffer(vals, dtype=np.uint8)
        self.elements = pa.StringArray.from_buffers(n_el, pa.py_buffer(offs), pa.py_buffer(vals))

        # segments: runs of elements ended by a terminator; empty ones are dropped
        tidx = np.flatnonzero(termflag)
        first = np.empty(len(tidx), np.int64)
        first[0] = 0
        first[1:] = tidx[:-1] + 1
        start = offs[first] + first  # byte of the segment in buf
        end = offs[tidx + 1] + tidx  # its terminator
        if nl_before is not None:
            start += nl_before[first]
            end += nl_before[tidx]
        nz = end > start
        # a segment starting or ending with a space: the tokenizer would strip it
        if (u8[start[nz]] == 32).any() or (u8[end[nz] - 1] == 32).any():
            raise _Fallback
        if not nz.all():
            first, tidx, start, end = first[nz], tidx[nz], start[nz], end[nz]
        if len(start) and int((end - start).max()) > MAX_SEGMENT_LENGTH:
            raise _Fallback  # the tokenizer refuses it (a length in bytes >= in characters)
        self.first, self.nel = first, tidx - first + 1
        self.seg_start, self.seg_end = start, end
        S = self.S = len(first)

        # ids -> codes
        v8 = self.v8
        ln = elen[first]
        o = offs[first].astype(np.int64)
        top = len(v8) - 1
        b0 = v8[np.minimum(o, top)].astype(np.int32)
        b1 = v8[np.minimum(o + 1, top)].astype(np.int32)
        b2 = np.where(ln == 3, v8[np.minimum(o + 2, top)], 0).astype(np.int32)
        ty = _ids()[b0 << 16 | b1 << 8 | b2]
        ty[(ln < 2) | (ln > 3)] = INVALID
        if (ty == INVALID).any():
            raise _Fallback
        self.ty = ty

        piece_start = np.cumsum([0] + [len(p) for p in self.pieces[:-1]])
        self.seg_piece = np.searchsorted(piece_start, start, side="right") - 1
        self.piece_first_seg = np.searchsorted(start, piece_start)
        self.piece_n_seg = np.diff(np.append(self.piece_first_seg, S))
        self.piece_n_isa = np.bincount(self.seg_piece[ty == ISA], minlength=len(self.pieces))
        st_se = np.flatnonzero((ty == ST) | (ty == SE))
        self.last_st_or_se = int(ty[st_se[-1]]) if len(st_se) else None
        self.starts_in_tx = self.ends_in_tx = False
        # the BPR comes before the transaction's first CLP / LX (PLB: checked in the header loop)
        st_bpr = np.flatnonzero((ty == ST) | (ty == BPR))
        claims = np.flatnonzero((ty == CLP) | (ty == LX))
        before = np.searchsorted(st_bpr, claims) - 1  # the last ST or BPR before each
        if (ty[st_bpr[before[before >= 0]]] == ST).any():
            raise _Fallback  # a CLP or LX between ST and BPR: the row parser's error
        self.claims_before_st_bpr = bool(len(claims) and before[0] < 0)
        self.last_st_or_bpr = int(ty[st_bpr[-1]]) if len(st_bpr) else None
        self.bpr_open = False

    # -- phase 2 ---------------------------------------------------------------------------
    def columns(self, arg: tuple[list[int], list[str]]) -> None:
        """``arg``: (segment number offset of each piece, file id of each piece)."""
        seg_offset, file_ids = arg
        S, ty, first, nel, elen, offs, v8 = self.S, self.ty, self.first, self.nel, self.elen, self.offs, self.v8
        elements = self.elements
        comp = self.d.component
        piece = self.seg_piece
        seg_no = np.arange(1, S + 1) - (self.piece_first_seg - np.asarray(seg_offset, np.int64))[piece]
        self.seg_no = seg_no
        n_pieces = len(self.pieces)
        fid_arr = pa.array(file_ids, pa.string())
        idx = np.arange(S)
        # ty_pad[-1]: what was open before the part: nothing, or a transaction (a part cut
        # before a CLP of the file the part before holds)
        ty_pad = np.append(ty, np.int8(ST if self.starts_in_tx else INVALID))

        def prev_of(mask: np.ndarray) -> np.ndarray:
            a = np.where(mask, idx, -1)
            np.maximum.accumulate(a, out=a)
            out = np.empty(S, np.int64)
            out[0] = -1
            out[1:] = a[:-1]
            return out

        def is_(*codes: int) -> np.ndarray:
            m = ty == codes[0]
            for c in codes[1:]:
                m |= ty == c
            return m

        is_st, is_se, is_clp, is_svc = is_(ST), is_(SE), is_(CLP), is_(SVC)
        is_env = is_(ISA, GS, GE, IEA, ST)
        # every segment but the envelope ones lies inside a transaction (ST ... SE)
        if not np.array_equal(ty_pad[prev_of(is_st | is_se)] == ST, ~is_env):
            raise _Fallback
        cb = is_clp | is_(LX, PLB) | is_se | is_st
        pcb = prev_of(cb)
        claim_open = ty_pad[pcb] == CLP
        lb = cb | is_svc
        plb = prev_of(lb)
        line_open = ty_pad[plb] == SVC
        if not claim_open[is_(CAS, SVC, MOA, MIA)].all():
            raise _Fallback
        claim_row = np.where(claim_open, (np.cumsum(is_clp) - 1)[pcb], -1)
        line_row = np.where(line_open, (np.cumsum(is_svc) - 1)[plb], -1)
        st_rank = np.cumsum(is_st) - 1

        at_of: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

        def eidx(sg: np.ndarray, k: Any) -> tuple[np.ndarray, np.ndarray]:
            # first[sg] and nel[sg] once per segment selection (the entry keeps sg alive: its
            # id cannot be reused by another array while the cache holds it)
            c = at_of.get(id(sg))
            if c is None or c[0] is not sg:
                c = at_of[id(sg)] = (sg, first[sg], nel[sg])
            ok = c[2] > k
            return np.where(ok, c[1] + k, 0), ok

        def has(sg: np.ndarray, k: Any) -> np.ndarray:
            j, ok = eidx(sg, k)
            return ok & (elen[j] > 0)

        def get(sg: np.ndarray, k: Any, empty_null: bool = True) -> pa.Array:
            j, ok = eidx(sg, k)
            if empty_null:
                ok &= elen[j] > 0
            return _take(elements, j, ok)

        top = len(v8) - 1

        def code1(sg: np.ndarray) -> np.ndarray:
            """Element 1 of each segment as a number (:func:`_code_of`); -1 when it is missing or
            longer than 3 bytes. Qualifiers are compared as such numbers."""
            j, ok = eidx(sg, 1)
            ln = np.where(ok, elen[j], 0).astype(np.int32)
            o = offs[j].astype(np.int64)
            c = ln << 24
            for i in range(3):
                c |= np.where(ln > i, v8[np.minimum(o + i, top)], 0).astype(np.int32) << (16 - 8 * i)
            c[~ok | (ln > 3)] = -1
            return c

        def dates(sg: np.ndarray, k: int) -> pa.Array:
            """CCYYMMDD in element k (present, not empty) -> date32; else _Fallback."""
            n = len(sg)
            if n == 0:
                return pa.nulls(0, pa.date32())
            j, ok = eidx(sg, k)
            if not (ok.all() and (elen[j] == 8).all()):
                raise _Fallback
            return _np_array(_ccyymmdd(v8, offs[j]), pa.date32())

        def file_col(sg: np.ndarray) -> pa.Array:
            if n_pieces == 1:
                return _repeat(file_ids[0], len(sg))
            return fid_arr.take(_np_array(piece[sg], pa.int64()))

        def ids_of(sg: np.ndarray) -> pa.Array:
            """``{file_id}-{segment number}``"""
            no = pc.cast(_np_array(seg_no[sg], pa.int64()), pa.string())
            return pc.binary_join_element_wise(file_col(sg), no, "-")

        # ---- claims ---------------------------------------------------------------------
        cl = np.flatnonzero(is_clp)
        n_cl = len(cl)
        if not (has(cl, 1).all() and has(cl, 2).all()):
            raise _Fallback
        clp_charge = _money(get(cl, 3), True)
        clp_paid = _money(get(cl, 4), True)
        cid = ids_of(cl)
        paid_c = _int64_of_decimal(clp_paid)
        charge_c = _int64_of_decimal(clp_charge)

        # ---- lines ----------------------------------------------------------------------
        sv = np.flatnonzero(is_svc)
        n_sv = len(sv)
        sv_claim = claim_row[sv]
        grp_start = np.zeros(n_sv, np.int64)
        starts = np.flatnonzero(_first_of_group(sv_claim))
        grp_start[starts] = starts
        np.maximum.accumulate(grp_start, out=grp_start)
        line_number = np.arange(n_sv) - grp_start + 1
        lid = pc.binary_join_element_wise(
            cid.take(_np_array(sv_claim, pa.int64())), pc.cast(_np_array(line_number, pa.int64()), pa.string()), "-"
        )
        svc1 = get(sv, 1)
        if svc1.null_count:
            raise _Fallback
        parts = pc.split_pattern(svc1, comp)
        p_offs = np.frombuffer(parts.buffers()[1], dtype=np.int32)[parts.offset : parts.offset + n_sv + 1]
        p_vals = parts.values
        p_start = p_offs[:-1].astype(np.int64) - p_offs[0]
        p_len = np.diff(p_offs)
        p_voffs = np.frombuffer(p_vals.buffers()[1], dtype=np.int32)[p_vals.offset : p_vals.offset + len(p_vals) + 1]
        p_vlen = np.diff(p_voffs)

        def part(k: int) -> pa.Array:
            ok = p_len > k
            j = np.where(ok, p_start + k, 0)
            ok &= p_vlen[j] > 0
            return _take(p_vals, j, ok)

        proc_qual = part(0)
        if proc_qual.null_count:
            raise _Fallback
        proc_code = part(1)
        if (p_len > 2).any():
            # ":".join(non-empty components 3-6) or None (pc.binary_join_element_wise with
            # null_handling="skip" drops rows whose inputs are all null: not used)
            sl = pc.list_slice(parts, 2, 6)
            lo = np.frombuffer(sl.buffers()[1], dtype=np.int32)[sl.offset : sl.offset + n_sv + 1]
            flat = sl.values
            fo = np.frombuffer(flat.buffers()[1], dtype=np.int32)[flat.offset : flat.offset + len(flat) + 1]
            keep = np.diff(fo) > 0
            kept = np.zeros(len(keep) + 1, np.int32)
            np.cumsum(keep, out=kept[1:])
            joined = pc.binary_join(
                pa.ListArray.from_arrays(_np_array(kept[lo - lo[0]], pa.int32()), flat.filter(_np_bool(keep))), ":"
            )
            mods = _null_if_empty(joined)
        else:
            mods = pa.nulls(n_sv, pa.string())
        sv_charge = _money(get(sv, 2), True)
        sv_paid = _money(get(sv, 3), True)
        sv_charge_c = _int64_of_decimal(sv_charge)
        sv_paid_c = _int64_of_decimal(sv_paid)

        # ---- DTM ------------------------------------------------------------------------
        dtm = np.flatnonzero(ty == DTM)
        if not (nel[dtm] >= 2).all():
            raise _Fallback  # the row parser reads DTM01 of every DTM
        in_line = line_open[dtm]
        service_date = pa.nulls(n_sv, pa.date32())
        dcode = code1(dtm)
        ld = dtm[in_line]
        m472, m150 = dcode[in_line] == _code_of(b"472"), dcode[in_line] == _code_of(b"150")
        sel = m472 | m150
        if sel.any():
            ld, m472, m150 = ld[sel], m472[sel], m150[sel]
            dts = dates(ld, 2)
            lr = line_row[ld]
            rows = np.arange(len(ld))
            # the last DTM*472 of the line, else its first DTM*150
            idx_d = np.zeros(n_sv, np.int64)
            ok_d = np.zeros(n_sv, bool)
            g = lr[m150]
            f = _first_of_group(g)
            idx_d[g[f]] = rows[m150][f]
            ok_d[g[f]] = True
            g = lr[m472]
            f = _last_of_group(g)
            idx_d[g[f]] = rows[m472][f]
            ok_d[g[f]] = True
            service_date = _take(dts, idx_d, ok_d)
        in_claim = claim_open[dtm] & ~in_line
        cdt, cdcode = dtm[in_claim], dcode[in_claim]
        claim_dates = {}
        for qual, col in ((b"232", "statement_from"), (b"233", "statement_to"), (b"050", "claim_received_date")):
            segs = cdt[cdcode == _code_of(qual)]
            if not len(segs):
                claim_dates[col] = pa.nulls(n_cl, pa.date32())
                continue
            dts = dates(segs, 2)
            g = claim_row[segs]
            f = _last_of_group(g)
            claim_dates[col] = _take(dts, *_scatter(n_cl, g[f], np.flatnonzero(f)))

        # ---- REF*6R, AMT*B6, LQ*HE in lines ---------------------------------------------
        def line_segs(code: int, qual: bytes) -> tuple[np.ndarray, np.ndarray]:
            segs = np.flatnonzero((ty == code) & line_open)
            if not (nel[segs] >= 2).all():
                raise _Fallback  # the row parser reads element 1 of these
            segs = segs[code1(segs) == _code_of(qual)]
            return segs, line_row[segs]

        segs, g = line_segs(REF, b"6R")
        if not (nel[segs] >= 3).all():
            raise _Fallback
        f = _last_of_group(g)
        lcn_idx, lcn_ok = _scatter(n_sv, g[f], first[segs[f]] + 2)
        lcn = _take(elements, lcn_idx, lcn_ok & (elen[lcn_idx] > 0))  # an empty REF02: None
        segs, g = line_segs(AMT, b"B6")
        if not (nel[segs] >= 3).all():
            raise _Fallback
        amounts = _money(get(segs, 2), True)  # every AMT*B6 is read, the last one kept
        f = _last_of_group(g)
        allowed = _take(amounts, *_scatter(n_sv, g[f], np.flatnonzero(f)))
        segs, g = line_segs(LQ, b"HE")
        h = has(segs, 2)
        lq_remarks = _group_join(n_sv, g[h], get(segs[h], 2))

        # ---- CAS ------------------------------------------------------------------------
        cas = np.flatnonzero(ty == CAS)
        if (nel[cas] > 20).any() or not has(cas, 1).all():
            raise _Fallback
        r_seg, r_t = [], []
        for t in range(1, 7):
            k = 3 * t - 1
            sub = cas[nel[cas] > k]
            if not len(sub):
                break
            hr, ha, hq = has(sub, k), has(sub, k + 1), has(sub, k + 2)
            row = hr | ha | hq
            if not (hr[row] & ha[row]).all():
                raise _Fallback  # reason and amount are required in a triple
            r_seg.append(sub[row])
            r_t.append(np.full(int(row.sum()), t, np.int64))
        a_seg = np.concatenate(r_seg) if r_seg else np.zeros(0, np.int64)
        a_t = np.concatenate(r_t) if r_t else np.zeros(0, np.int64)
        if len(r_seg) > 1:
            order = np.argsort(a_seg * 8 + a_t, kind="stable")
            a_seg, a_t = a_seg[order], a_t[order]
        a_amount = _money(_take(elements, first[a_seg] + 3 * a_t), True)
        q_j, q_ok = eidx(a_seg, 3 * a_t + 1)
        q_ok &= elen[q_j] > 0
        a_qty = _quantity(_take(elements, q_j, q_ok))
        a_claim = claim_row[a_seg]
        a_line = line_row[a_seg]
        a_cents = _int64_of_decimal(a_amount)
        a_is_line = a_line >= 0

        # ---- balancing (integers in cents: exact while no sum can overflow) --------------
        big = max(
            int(np.abs(x).sum()) if len(x) else 0 for x in (a_cents, charge_c, paid_c, sv_charge_c, sv_paid_c)
        )
        if big >= 2**62:
            raise _Fallback
        line_cas = np.zeros(n_sv, np.int64)
        np.add.at(line_cas, a_line[a_is_line], a_cents[a_is_line])
        claim_cas = np.zeros(n_cl, np.int64)
        np.add.at(claim_cas, a_claim[~a_is_line], a_cents[~a_is_line])
        np.add.at(claim_cas, sv_claim, line_cas)
        # (piece, segment number where it is recorded, order, finding)
        self.findings: list[tuple[int, int, int, Finding]] = []
        bad_lines = np.flatnonzero(sv_charge_c - line_cas != sv_paid_c)
        bad_claims = np.flatnonzero(charge_c - claim_cas != paid_c)
        if len(bad_lines) or len(bad_claims):
            lb_pos = np.flatnonzero(lb)
            cb_pos = np.flatnonzero(cb)
            def closing(pos: np.ndarray, s: int) -> int:
                """Segment number of the boundary closing the line / claim at s (the next
                part's first segment when it is open at the end of this part)."""
                k = int(np.searchsorted(pos, s, side="right"))
                return int(seg_no[pos[k]]) if k < len(pos) else int(seg_no[S - 1]) + 1

            for r in bad_lines.tolist():
                s = int(sv[r])
                close = closing(lb_pos, s)
                ch, ca, pd = int(sv_charge_c[r]), int(line_cas[r]), int(sv_paid_c[r])
                self.findings.append((int(piece[s]), close, 0, Finding(
                    "warning", SVC_UNBALANCED, f"segment {int(seg_no[s])} (SVC)",
                    f"SVC02 {_cents_str(ch)} - line CAS {_cents_str(ca)} = {_cents_str(ch - ca)} "
                    f"but SVC03 is {_cents_str(pd)}",
                )))  # fmt: skip
            for r in bad_claims.tolist():
                s = int(cl[r])
                close = closing(cb_pos, s)
                ch, ca, pd = int(charge_c[r]), int(claim_cas[r]), int(paid_c[r])
                self.findings.append((int(piece[s]), close, 1, Finding(
                    "warning", CLP_UNBALANCED, f"segment {int(seg_no[s])} (CLP)",
                    f"CLP03 {_cents_str(ch)} - all CAS of the claim {_cents_str(ca)} = {_cents_str(ch - ca)} "
                    f"but CLP04 is {_cents_str(pd)}",
                )))  # fmt: skip

        # ---- member id (hashed later, in one thread), MOA/MIA remarks ----------------------
        nm = np.flatnonzero((ty == NM1) & claim_open & ~line_open)
        self.member_values: list[Any] = []
        self.member_claims: list[int] = []
        if len(nm):
            ncode = code1(nm)
            mqc, mil = ncode == _code_of(b"QC"), ncode == _code_of(b"IL")
            nm_claim = claim_row[nm]
            # the subscriber (IL) wins over the patient (QC); the last of each
            pick = np.zeros(n_cl, np.int64)
            picked = np.zeros(n_cl, bool)
            for m_ in (mqc, mil):
                g = nm_claim[m_]
                f = _last_of_group(g)
                pick[g[f]] = nm[m_][f]
                picked[g[f]] = True
            if picked.any():
                rows = np.flatnonzero(picked)
                j, ok = eidx(pick[rows], 9)  # NM109; None when the NM1 is shorter
                self.member_values = _take(elements, j, ok).to_pylist()
                self.member_claims = rows.tolist()
        self.n_claims = n_cl

        mm = np.flatnonzero(is_(MOA, MIA))
        if len(mm):
            is_moa = ty[mm] == MOA
            rs, ro = [], []
            for order_k, (ks, mask) in enumerate((((3, 4, 5, 6, 7), is_moa), ((5, 20, 21, 22, 23), ~is_moa))):
                sub = mm[mask]
                for pos_k, k in enumerate(ks):
                    hk = has(sub, k)
                    rs.append(sub[hk])
                    ro.append(np.full(int(hk.sum()), order_k * 8 + pos_k, np.int64))
            r_seg_m = np.concatenate(rs)
            r_ord = np.concatenate(ro)
            order = np.lexsort((r_ord, r_seg_m))
            r_seg_m, r_ord = r_seg_m[order], r_ord[order]
            k_of = np.array([3, 4, 5, 6, 7, 0, 0, 0, 5, 20, 21, 22, 23], np.int64)[r_ord]
            remarks = _group_join(n_cl, claim_row[r_seg_m], _take(elements, first[r_seg_m] + k_of))
        else:
            remarks = pa.nulls(n_cl, pa.string())

        # ---- per transaction: sum of CLP04 (for the BPR check) ---------------------------
        n_st = int(is_st.sum())
        self.st_paid = np.zeros(n_st + 1, np.int64)  # [0]: the transaction the part began in
        np.add.at(self.st_paid, st_rank[cl] + 1, paid_c)
        self.n_st = n_st

        # ---- envelope and header segments, for the Python loop ----------------------------
        header = np.flatnonzero(is_(TRN, N1, REF) & ~claim_open)
        # of the REF outside claims only REF*2U is read (the payer id after N1*PR)
        header = header[(ty[header] != REF) | (code1(header) == _code_of(b"2U"))]
        ctl = np.union1d(np.flatnonzero(is_env | is_se | is_(BPR, PLB)), header)
        # (the segment's bytes, code, piece, segment number): the bytes, not positions in buf,
        # so that the part can be sent from another process without its text
        buf = self.buf
        self.ctl = [
            (buf[a:b], t, p, no)
            for a, b, t, p, no in zip(
                self.seg_start[ctl].tolist(), self.seg_end[ctl].tolist(), ty[ctl].tolist(), piece[ctl].tolist(),
                seg_no[ctl].tolist(), strict=True,
            )
        ]  # fmt: skip

        # ---- tables without what the Python loop and the hasher add ------------------------
        self.claim_cols = [
            file_col(cl), _np_array(seg_no[cl], pa.int64()), st_rank[cl], cid,
            get(cl, 1), get(cl, 2), clp_charge, clp_paid, _money(get(cl, 5), False),
            get(cl, 6), get(cl, 7), get(cl, 8), get(cl, 9),
            claim_dates["statement_from"], claim_dates["statement_to"], claim_dates["claim_received_date"],
            remarks, None,
        ]  # fmt: skip
        self.lines = pa.Table.from_arrays([
            file_col(sv), _np_array(seg_no[sv], pa.int64()), cid.take(_np_array(sv_claim, pa.int64())), lid,
            _np_array(line_number, pa.int32()), proc_qual, proc_code, mods, sv_charge, sv_paid, get(sv, 4),
            _quantity(get(sv, 5)), service_date, lcn, allowed, lq_remarks,
        ], schema=SCHEMAS["remit_lines"])  # fmt: skip
        level = pa.array(["claim", "line"], pa.string()).take(_np_array(a_is_line.astype(np.int64), pa.int64()))
        self.adjustments = pa.Table.from_arrays([
            file_col(a_seg), _np_array(seg_no[a_seg], pa.int64()), cid.take(_np_array(a_claim, pa.int64())),
            _take(lid, a_line, a_is_line), level, get(a_seg, 1), _take(elements, first[a_seg] + 3 * a_t - 1),
            a_amount, a_qty, _np_array(a_t, pa.int32()),
        ], schema=SCHEMAS["remit_adjustments"])  # fmt: skip
        # rows of each piece: [start, end) per table
        self.cuts = {
            "remit_claims": np.searchsorted(piece[cl], np.arange(n_pieces + 1)).tolist(),
            "remit_lines": np.searchsorted(piece[sv], np.arange(n_pieces + 1)).tolist(),
            "remit_adjustments": np.searchsorted(piece[a_seg], np.arange(n_pieces + 1)).tolist(),
        }
        # the big arrays are not needed any more
        del self.elements, self.offs, self.elen, self.v8

    def slim(self) -> None:
        """Drop the text and the per-segment arrays once the columns are built: what is left is
        what ``_fast`` reads (columns, tables, findings, control segments, counts) and what the
        next part reads (``files``, ``ends_in_tx``, ``bpr_open``), small enough to send from
        another process."""
        for name in ("pieces", "buf", "first", "nel", "seg_start", "seg_end", "ty", "seg_piece", "seg_no",
                     "piece_first_seg"):  # fmt: skip
            self.__dict__.pop(name, None)


# ---------------------------------------------------------------------------------------------
# a batch: split in parts, columns, then the envelope loop, hashing and the tables per file


def _fast(
    preps: list[_Prep],
    d: Delimiters,
    names: list[str],
    file_ids: list[str],
    hasher: HashMemberId,
    n_threads: int,
    processes: int = 1,
) -> tuple[dict[str, pa.Table], list[tuple[int, list[Finding], dict[str, int]]]]:
    """The batch's tables (rows grouped by file, files in order) and, per file, (segments,
    findings, rows per table); _Fallback when the batch is not for the fast path.
    ``processes``: 1, 2 or _AUTO (:func:`parse_835_files`)."""
    n_files = len(preps)
    el = d.element
    parts = _make_parts(preps, d)
    many = getattr(hasher, "hash_many", None)  # MemberIdHasher: the same values, faster
    large = n_files == 1 and many is not None and len(parts) > 1 and len(preps[0].c) >= _PROCESS_MIN_FILE_BYTES
    if large and processes == _AUTO and _cores() >= 2 and not _worker_ready():
        _start_worker_soon()  # for the next large files; this one here
        out = _pipeline(parts, file_ids, n_threads, many)
    elif large and (processes == 2 or (processes == _AUTO and _cores() >= 2)):
        out = _pipeline_two_processes(parts, preps[0], file_ids, hasher, many, n_threads)
    else:
        out = _pipeline(parts, file_ids, n_threads, many)
    seen = [out.seen.get(f, 0) for f in range(n_files)]
    n_isa = [out.isa.get(f, 0) for f in range(n_files)]
    for f in np.flatnonzero(np.asarray(n_isa) > 1).tolist():  # several ISA: the tokenizer's block check
        if not _one_block(preps[f].data, d, names[f]):
            raise _Fallback

    # ---- envelope and header segments: Python, as in the row parser -------------------------
    pay_rows: list[list[Any]] = []
    plb_rows: list[list[Any]] = []
    pid_list: list[str] = []
    pay_file: list[int] = []
    plb_file: list[int] = []
    pending: list[list[tuple[int, int, Finding]]] = [[] for _ in range(n_files)]
    for part in parts:
        for p_, no, order, f in part.findings:
            pending[part.files[p_]].append((no, order, f))
    st_paid: list[int] = []
    for part in parts:
        carried, *own = part.st_paid.tolist()
        if part.starts_in_tx:
            st_paid[-1] += carried
        elif carried:
            raise _Fallback  # claims outside any transaction (the checks above refuse them)
        st_paid.extend(own)
    comp = d.component
    cur_f = -1
    env: Envelope | None = None
    env_f: list[Finding] = []
    pay: list[Any] = []
    st_bpr = None
    st_plb = Decimal(0)
    n1 = ""
    pr_id = ref_2u = trn03 = None
    v4010 = False
    pid = ""
    st_i = -1
    try:
        for part in parts:
            for seg, t_, p_, no in part.ctl:
                f_ = part.files[p_]
                if f_ != cur_f:
                    if env is not None:
                        env.finish()
                    cur_f = f_
                    env_f = []
                    env = Envelope(names[f_], env_f)
                e = seg.decode("utf-8").split(el)
                nf = len(env_f)
                if t_ == BPR:
                    if len(e) < 17:
                        e.extend([""] * (17 - len(e)))
                    st_bpr = parse_money(e[2].strip(" "), "BPR02")
                    pay[6] = e[1] or None
                    pay[7] = st_bpr
                    pay[8] = e[3] or None
                    pay[9] = e[4] or None
                    if not e[16].strip(" "):
                        raise _Fallback  # no payment date: the row parser dates it by DTM*405
                    pay[10] = parse_date(e[16].strip(" "), "BPR16", yymmdd=v4010)
                elif t_ == TRN:
                    if pay[11] is None:
                        pay[11] = e[2] if len(e) > 2 and e[2] else None
                        trn03 = e[3] if len(e) > 3 and e[3] else None
                elif t_ == N1:
                    if len(e) < 5:
                        e.extend([""] * (5 - len(e)))
                    n1 = e[1]
                    if n1 == "PR":
                        pay[13] = e[2] or None
                        pr_id = e[4] or None
                    elif n1 == "PE":
                        pay[14] = e[2] or None
                        if e[3] == "XX":
                            pay[15] = e[4] or None
                elif t_ == REF:
                    if n1 == "PR" and len(e) > 2 and e[1] == "2U":
                        ref_2u = e[2] or None
                elif t_ == PLB:
                    if st_bpr is None:
                        raise _Fallback  # a PLB before the BPR: the row parser's error
                    n = len(e)
                    if n > 15:
                        raise _Fallback
                    prov = e[1] if n > 1 else ""
                    fp = parse_date(e[2].strip(" "), "PLB02", yymmdd=v4010) if n > 2 and e[2] else None
                    k = 3
                    pidx = 1
                    while k < n:
                        rc = e[k]
                        a = e[k + 1] if k + 1 < n else ""
                        if rc or a:
                            c = rc.split(comp)
                            if not c[0]:
                                raise _Fallback
                            amt = parse_money(a.strip(" "), _PLB_ELEMENTS[pidx - 1][1])
                            plb_rows.append([
                                file_ids[f_], no, pid, prov or None, fp, c[0], c[1] or None if len(c) > 1 else None,
                                amt, pidx,
                            ])  # fmt: skip
                            plb_file.append(f_)
                            st_plb += amt
                        k += 2
                        pidx += 1
                elif t_ == SE:
                    if st_bpr is None:
                        raise _Fallback
                    pay[12] = pr_id or ref_2u or trn03
                    sp = Decimal(st_paid[st_i]).scaleb(-2)
                    if sp - st_plb != st_bpr:
                        pending[f_].append((no, 2, Finding(
                            "warning", BPR_UNBALANCED, f"ST {pay[5] or ''}",
                            f"sum CLP04 {money_str(sp)} - PLB {money_str(st_plb)} = "
                            f"{money_str(sp - st_plb)} but BPR02 is {money_str(st_bpr)}",
                        )))  # fmt: skip
                    env.se(no, e)
                elif t_ == ST:
                    env.st(no, e)
                    st01 = e[1].strip() if len(e) > 1 else ""
                    if st01 != "835":
                        raise _Fallback
                    st_i += 1
                    pid = f"{file_ids[f_]}-{no}"
                    ver = env.version(e[3] if len(e) > 3 else "")
                    v4010 = bool(ver and ver.startswith("00401"))
                    pay = [file_ids[f_], no, pid, "835", ver, e[2] if len(e) > 2 and e[2] else None]
                    pay.extend([None] * 10)
                    pay.append(env.gs_created)
                    pay_rows.append(pay)
                    pay_file.append(f_)
                    pid_list.append(pid)
                    st_plb = Decimal(0)
                    st_bpr = None
                    n1 = ""
                    pr_id = ref_2u = trn03 = None
                elif t_ == ISA:
                    env.isa(no, e)
                elif t_ == GS:
                    env.gs(no, e)
                elif t_ == GE:
                    env.ge(no, e)
                else:
                    env.iea(no, e)
                if len(env_f) > nf:
                    pending[f_].extend((no, 3, x) for x in env_f[nf:])
        if env is not None:
            env.finish()
    except (BadValue, Misplaced, InputFileError, IndexError, TypeError):
        raise _Fallback from None
    if cur_f != n_files - 1:
        raise _Fallback

    # ---- member ids: hashed once per distinct value (by hash_many: in the pipeline) ----------
    cache: dict[Any, str | None] = {}
    for part in parts:
        if many is not None:
            continue
        member: list[str | None] = [None] * part.n_claims
        for c_, v in zip(part.member_claims, part.member_values, strict=True):
            h = cache.get(v, _MISSING)
            if h is _MISSING:
                h = cache[v] = hasher(v)
            member[c_] = h
        part.claim_cols[17] = pa.array(member, pa.string())

    # ---- tables -----------------------------------------------------------------------------
    pid_arr = pa.array(pid_list, pa.string())
    st_base = 0
    for part in parts:
        cols = part.claim_cols
        cols[2] = pid_arr.take(_np_array(cols[2] + st_base, pa.int64()))
        st_base += part.n_st
        part.claims = pa.Table.from_arrays(cols, schema=SCHEMAS["remit_claims"])
    payments = pa.Table.from_arrays(
        [pa.array([r[k] for r in pay_rows], f.type) for k, f in enumerate(SCHEMAS["remit_payments"])],
        schema=SCHEMAS["remit_payments"],
    )
    plbs = pa.Table.from_arrays(
        [pa.array([r[k] for r in plb_rows], f.type) for k, f in enumerate(SCHEMAS["provider_adjustments"])],
        schema=SCHEMAS["provider_adjustments"],
    )
    counts = {name: [0] * n_files for name in _TABLES}
    for f_ in pay_file:
        counts["remit_payments"][f_] += 1
    for f_ in plb_file:
        counts["provider_adjustments"][f_] += 1
    for part in parts:
        for name in ("remit_claims", "remit_lines", "remit_adjustments"):
            cut = part.cuts[name]
            for p_, f_ in enumerate(part.files):
                counts[name][f_] += cut[p_ + 1] - cut[p_]
    files = []
    for f_ in range(n_files):
        pend = pending[f_]
        pend.sort(key=lambda x: (x[0], x[1]))
        findings = [x[2] for x in pend]
        if counts["remit_payments"][f_] == 0:
            findings.append(Finding("warning", NO_TRANSACTIONS, None, "the file holds no 835 transaction"))
        files.append((seen[f_], findings, {name: counts[name][f_] for name in _TABLES}))

    def joined(tabs: list[pa.Table]) -> pa.Table:
        return tabs[0] if len(tabs) == 1 else pa.concat_tables(tabs)

    tables = {
        "remit_payments": payments,
        "remit_claims": joined([p.claims for p in parts]),
        "remit_lines": joined([p.lines for p in parts]),
        "remit_adjustments": joined([p.adjustments for p in parts]),
        "provider_adjustments": plbs,
    }
    return tables, files


__all__ = [
    "SCHEMAS", "Batch835", "FileRows", "parse_835_arrow", "parse_835_batch", "parse_835_files", "to_arrow",
    "try_parse_835_arrow",
]  # fmt: skip
