"""Columnar fast path for 835 files: the same tables as ``remit835`` as ``pyarrow.Table``.

The row-by-row parser (``remit835``) spends its time in Python per segment and per value
(``Decimal``, ``datetime.date``). Here a file (or a batch of small files) is split once with
numpy: every element of every segment becomes one entry of a single Arrow string array (the
bytes without separators, with an offset per element), and each output column is a gather from
it (``take``) followed by a column-wise check and cast:

* money: the characters of the whole column are checked with numpy (digits, one point, a
  leading minus), then Arrow's ``cast`` to ``decimal128(18,2)`` refuses the rest of what
  ``values.parse_money`` refuses and is exact; quantities the same with three decimals. A value
  with blanks is refused here (the row parser strips them);
* dates: exactly 8 ASCII digits forming a calendar date, computed with numpy ``datetime64``;
* segment ids and qualifiers are compared as bytes with numpy;
* structure (which claim / line / transaction a segment belongs to) from running maxima over
  the positions of the boundary segments (CLP, SVC, LX, PLB, ST, SE).

The few segments outside claims (ISA, GS, ST, BPR, TRN, N1, REF*2U, DTM*405, PLB, SE, GE, IEA)
go through the row parser's own code (``remit835.RemitHeader``, with its ``Envelope``), one
segment at a time.

How a call goes (``_fast``): the text is cut in parts of about 2 MB (before an ST or a CLP);
each part is split and turned into columns (``_Part.split``, ``_Columns``), parts in order
(``_pipeline``: a part's segment numbers go on from the parts before it), on one thread or two
(numpy and Arrow release the GIL); then the segments outside claims of every part go through
``RemitHeader`` (``_headers``), and the tables are put together (``_assemble``). Many small
files are vectorised together. Everything runs in the calling process: a second process was
measured and did not pay (``docs/performance.md``).

Exactness: the fast path handles the common shape of a file and checks its preconditions as it
goes (one interchange block, no blanks around segments, UTF-8, every segment where it may be,
every amount and date strict, no element missing that the row parser would index ...). When
any check fails it gives up (``_Fallback``) and the row parser runs on the file: that parser
raises the exact error (file, segment number, segment id, element) or, when the fast path was
only stricter than needed, returns the tables, converted to Arrow. So the result is always what
the row parser gives; the fast path only decides how quickly.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputFileError
from transforms.ingest.records import Finding, ParsedFile
from transforms.x12.remit835 import (
    ADJUSTMENT_COLUMNS,
    CLAIM_COLUMNS,
    KIND_835,
    LINE_COLUMNS,
    PAYMENT_COLUMNS,
    PLB_COLUMNS,
    RemitHeader,
    clp_finding,
    parse_835_tokens,
    svc_finding,
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
from transforms.x12.values import BadValue, date_range

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
# blanks the tokenizer strips around segments, other than space and CR/LF (checked apart)
_RARE_BLANK_BYTES = (b"\t", b"\x0b", b"\x0c", b"\x00", b"\x1a")
_MAX_PART_BYTES = 1 << 30  # int32 offsets of the element array
_BATCH_BYTES = 64 << 20  # files vectorised together (memory)
_CHUNK_BYTES = 2 << 20  # a large file is split and gathered in parts of about this size
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
) -> ParsedFile:
    """Like ``parse_835`` but the tables are ``pyarrow.Table`` (schemas: :data:`SCHEMAS`).
    Raises the same InputFileError as ``parse_835``. ``threads``: 1 or 2 (default: 2 when the
    machine has two cores or more)."""
    out = parse_835_files([(data, file_name, file_id)], hash_member_id, threads=threads).parsed(0)
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
        tables, files = _fast([prep], prep.d, [file_name], [file_id], hash_member_id, _n_threads(threads))
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
) -> Batch835:
    """Parse many 835 files ``(data, file_name, file_id)`` into one :class:`Batch835`; small
    files are vectorised together, a large file is cut in parts, on ``threads`` threads."""
    return _BatchBuilder(items, hash_member_id, _n_threads(threads)).build()


class _BatchBuilder:
    """``parse_835_files``: files with the same delimiters vectorised together
    (up to ``_BATCH_BYTES``), the others and those the fast path gives up on through the row
    parser; the tables of each run collected in order."""

    def __init__(self, items: Sequence[tuple[bytes, str, str]], hasher: HashMemberId, n_threads: int):
        self.items = items
        self.hasher = hasher
        self.n_threads = n_threads
        self.results: list[FileRows | InputFileError | None] = [None] * len(items)
        self.collected: dict[str, list[pa.Table]] = {name: [] for name in _TABLES}
        self.offset = dict.fromkeys(_TABLES, 0)
        self.preps: dict[int, _Prep] = {}

    def build(self) -> Batch835:
        groups: dict[Delimiters, list[int]] = {}
        for k, (data, file_name, _fid) in enumerate(self.items):
            prep = _prepare(data, file_name)
            if prep is None:
                self._row_path(k)
            else:
                self.preps[k] = prep
                groups.setdefault(prep.d, []).append(k)
        for d, ks in groups.items():
            batch: list[int] = []
            size = 0
            for k in ks:
                n = len(self.preps[k].c)
                if batch and size + n > _BATCH_BYTES:
                    self._run(batch, d)
                    batch, size = [], 0
                batch.append(k)
                size += n
            if batch:
                self._run(batch, d)
        tables = {}
        for name in _TABLES:
            ts = self.collected[name]
            tables[name] = ts[0] if len(ts) == 1 else pa.concat_tables(ts) if ts else SCHEMAS[name].empty_table()
        return Batch835(tables, self.results)  # type: ignore[arg-type]

    def _add(self, ks: list[int], tables: dict[str, pa.Table], files) -> None:
        for name in _TABLES:
            if tables[name].num_rows:
                self.collected[name].append(tables[name])
        for k, (rows_read, findings, counts) in zip(ks, files, strict=True):
            ranges = {}
            for name in _TABLES:
                ranges[name] = (self.offset[name], counts[name])
                self.offset[name] += counts[name]
            self.results[k] = FileRows(rows_read, findings, ranges)

    def _row_path(self, k: int) -> None:
        data, file_name, file_id = self.items[k]
        try:
            parsed, _, _ = parse_835_tokens(tokenize(data, file_name), file_name, file_id, self.hasher)
        except InputFileError as e:
            self.results[k] = e
            return
        r = to_arrow(parsed)
        self._add([k], r.tables, [(r.rows_read, r.findings, {n: t.num_rows for n, t in r.tables.items()})])

    def _run(self, ks: list[int], d: Delimiters) -> None:
        items = self.items
        try:
            tables, files = _fast(
                [self.preps[k] for k in ks], d, [items[k][1] for k in ks], [items[k][2] for k in ks], self.hasher,
                self.n_threads,
            )  # fmt: skip
        except _Fallback:
            if len(ks) == 1:
                self._row_path(ks[0])
            else:
                for k in ks:  # one file of the batch is unusual: each file on its own
                    self._run([k], d)
            return
        self._add(ks, tables, files)


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


# ---------------------------------------------------------------------------------------------
# parts: cut, split and turned into columns in order, on one or two threads


_threads: ThreadPoolExecutor | None = None
_threads_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="x12-835")
    return _threads


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


def _pipeline(
    parts: list[_Part],
    file_ids: list[str],
    n_threads: int,
    hash_many: Callable[[list], list] | None = None,
    seen: dict[int, int] | None = None,
) -> tuple[dict[int, int], dict[int, int]]:
    """Split every part and build its columns, on ``n_threads`` threads, parts in order: a
    part's segment numbers go on from the same file's earlier parts, and whether it begins
    inside a transaction (and after its BPR) is read from the part before; both are known once
    that part is split. With ``hash_many`` (``MemberIdHasher.hash_many``) a part's member ids
    are hashed by the thread that built its columns, while the other thread works on the next
    part. ``seen``: segments of each file before these parts. Returns the segments of each
    file after them, and the ISA segments of each file in them."""
    seen = dict(seen or {})
    isa: dict[int, int] = {}
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
            part.follow(parts[i - 1] if i else None)
            arg = ([seen.get(f, 0) for f in part.files], [file_ids[f] for f in part.files])
            for f, n, ni in zip(part.files, part.piece_n_seg.tolist(), part.piece_n_isa.tolist(), strict=True):
                seen[f] = seen.get(f, 0) + n
                isa[f] = isa.get(f, 0) + ni
        except BaseException as e:
            failed.append(e)
            raise
        finally:
            ready[i].set()
        _Columns(part, *arg).build()
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
    return seen, isa


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
        del self.member_values, self.member_claims  # (member ids: not kept)

    def split(self) -> None:
        """Phase 1: the text -> one Arrow string array of every element, and per segment where
        it starts and ends, its first element, its number of elements, its code (``ty``) and
        its piece; _Fallback where the tokenizer would read the text otherwise."""
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

    def follow(self, prev: _Part | None) -> None:
        """What this part takes from the part before it (``prev``, split; None for the first
        part, or the first part of a run of whole transactions): whether it begins inside a
        transaction of the same file, and after that transaction's BPR. _Fallback when it holds
        a CLP or LX of a transaction whose BPR has not come (or outside one)."""
        if prev is None:
            last_file, prev_in_tx, prev_bpr = -1, False, False
        else:
            last_file, prev_in_tx, prev_bpr = prev.files[-1], prev.ends_in_tx, prev.bpr_open
        self.starts_in_tx = bool(last_file == self.files[0] and prev_in_tx)
        self.ends_in_tx = self.starts_in_tx if self.last_st_or_se is None else self.last_st_or_se == ST
        bpr_open = self.starts_in_tx and prev_bpr
        if self.claims_before_st_bpr and not bpr_open:
            raise _Fallback
        self.bpr_open = bpr_open if self.last_st_or_bpr is None else self.last_st_or_bpr == BPR

    def slim(self) -> None:
        """Drop the text and the per-segment arrays once the columns are built (a smaller working
        set): what is left is what ``_fast`` reads (columns, tables, findings, the segments for
        ``RemitHeader``, counts) and what the next part reads (``files``, ``ends_in_tx``,
        ``bpr_open``)."""
        for name in ("pieces", "buf", "elements", "offs", "elen", "v8", "first", "nel", "seg_start", "seg_end", "ty",
                     "seg_piece", "piece_first_seg"):  # fmt: skip
            self.__dict__.pop(name, None)


class _Columns:
    """Phase 2 of a part (after ``_Part.split`` and ``_Part.follow``): its structure and
    columns from the segment arrays, in steps that each read what the steps before set. The
    results go to the part (:meth:`build`); the rest is dropped with this object."""

    def __init__(self, part: _Part, seg_offset: list[int], file_ids: list[str]):
        """``seg_offset``: segments of each piece's file before the piece; ``file_ids``: the
        file id of each piece."""
        self.part = part
        self.S, self.ty, self.first, self.nel = part.S, part.ty, part.first, part.nel
        self.elen, self.offs, self.v8, self.elements = part.elen, part.offs, part.v8, part.elements
        self.piece = part.seg_piece
        self.seg_no = np.arange(1, self.S + 1) - (part.piece_first_seg - np.asarray(seg_offset, np.int64))[self.piece]
        self.file_ids = file_ids
        self.n_pieces = len(part.pieces)
        self.fid_arr = pa.array(file_ids, pa.string())
        self.idx = np.arange(self.S)
        # ty_pad[-1]: what was open before the part: nothing, or a transaction (a part cut
        # before a CLP of the file the part before holds)
        self.ty_pad = np.append(self.ty, np.int8(ST if part.starts_in_tx else INVALID))
        self._at_of: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def build(self) -> None:
        part = self.part
        self.structure()
        self.claims()
        self.lines()
        self.dates()
        self.line_references()
        self.adjustments()
        part.findings = self.balance()
        part.member_values, part.member_claims = self.members()
        part.n_claims = self.n_cl
        n_st = int(self.is_st.sum())
        part.st_paid = np.zeros(n_st + 1, np.int64)  # per transaction (CLP04 in cents); [0]: the one the part began in
        np.add.at(part.st_paid, self.st_rank[self.cl] + 1, self.paid_c)
        part.n_st = n_st
        part.ctl = self.control()
        self.tables()

    # -- element access ---------------------------------------------------------------------
    def prev_of(self, mask: np.ndarray) -> np.ndarray:
        """Per segment, the position of the last segment before it where ``mask`` holds (-1)."""
        a = np.where(mask, self.idx, -1)
        np.maximum.accumulate(a, out=a)
        out = np.empty(self.S, np.int64)
        out[0] = -1
        out[1:] = a[:-1]
        return out

    def is_(self, *codes: int) -> np.ndarray:
        ty = self.ty
        m = ty == codes[0]
        for c in codes[1:]:
            m |= ty == c
        return m

    def eidx(self, sg: np.ndarray, k: Any) -> tuple[np.ndarray, np.ndarray]:
        """(element index, present) of element k of each segment of ``sg``."""
        # first[sg] and nel[sg] once per segment selection (the entry keeps sg alive: its id
        # cannot be reused by another array while the cache holds it)
        c = self._at_of.get(id(sg))
        if c is None or c[0] is not sg:
            c = self._at_of[id(sg)] = (sg, self.first[sg], self.nel[sg])
        ok = c[2] > k
        return np.where(ok, c[1] + k, 0), ok

    def has(self, sg: np.ndarray, k: Any) -> np.ndarray:
        j, ok = self.eidx(sg, k)
        return ok & (self.elen[j] > 0)

    def get(self, sg: np.ndarray, k: Any, empty_null: bool = True) -> pa.Array:
        j, ok = self.eidx(sg, k)
        if empty_null:
            ok &= self.elen[j] > 0
        return _take(self.elements, j, ok)

    def code1(self, sg: np.ndarray) -> np.ndarray:
        """Element 1 of each segment as a number (:func:`_code_of`); -1 when it is missing or
        longer than 3 bytes. Qualifiers are compared as such numbers."""
        j, ok = self.eidx(sg, 1)
        v8 = self.v8
        top = len(v8) - 1
        ln = np.where(ok, self.elen[j], 0).astype(np.int32)
        o = self.offs[j].astype(np.int64)
        c = ln << 24
        for i in range(3):
            c |= np.where(ln > i, v8[np.minimum(o + i, top)], 0).astype(np.int32) << (16 - 8 * i)
        c[~ok | (ln > 3)] = -1
        return c

    def date_of(self, sg: np.ndarray, k: int) -> pa.Array:
        """CCYYMMDD in element k (present, not empty) -> date32; else _Fallback."""
        if len(sg) == 0:
            return pa.nulls(0, pa.date32())
        j, ok = self.eidx(sg, k)
        if not (ok.all() and (self.elen[j] == 8).all()):
            raise _Fallback
        return _np_array(_ccyymmdd(self.v8, self.offs[j]), pa.date32())

    def file_col(self, sg: np.ndarray) -> pa.Array:
        if self.n_pieces == 1:
            return _repeat(self.file_ids[0], len(sg))
        return self.fid_arr.take(_np_array(self.piece[sg], pa.int64()))

    def ids_of(self, sg: np.ndarray) -> pa.Array:
        """``{file_id}-{segment number}``"""
        no = pc.cast(_np_array(self.seg_no[sg], pa.int64()), pa.string())
        return pc.binary_join_element_wise(self.file_col(sg), no, "-")

    # -- steps --------------------------------------------------------------------------------
    def structure(self) -> None:
        """Which claim, line and transaction each segment belongs to; _Fallback when a segment
        is where the row parser would refuse it."""
        is_, ty_pad = self.is_, self.ty_pad
        self.is_st, is_se, self.is_clp, self.is_svc = is_(ST), is_(SE), is_(CLP), is_(SVC)
        self.is_env = is_(ISA, GS, GE, IEA, ST)
        # every segment but the envelope ones lies inside a transaction (ST ... SE)
        if not np.array_equal(ty_pad[self.prev_of(self.is_st | is_se)] == ST, ~self.is_env):
            raise _Fallback
        self.cb = self.is_clp | is_(LX, PLB) | is_se | self.is_st  # claim boundaries
        pcb = self.prev_of(self.cb)
        self.claim_open = ty_pad[pcb] == CLP
        self.lb = self.cb | self.is_svc  # line boundaries
        plb = self.prev_of(self.lb)
        self.line_open = ty_pad[plb] == SVC
        if not self.claim_open[is_(CAS, SVC, MOA, MIA)].all():
            raise _Fallback
        self.claim_row = np.where(self.claim_open, (np.cumsum(self.is_clp) - 1)[pcb], -1)
        self.line_row = np.where(self.line_open, (np.cumsum(self.is_svc) - 1)[plb], -1)
        self.st_rank = np.cumsum(self.is_st) - 1

    def claims(self) -> None:
        cl = self.cl = np.flatnonzero(self.is_clp)
        self.n_cl = len(cl)
        if not (self.has(cl, 1).all() and self.has(cl, 2).all()):
            raise _Fallback
        self.clp_charge = _money(self.get(cl, 3), True)
        self.clp_paid = _money(self.get(cl, 4), True)
        self.cid = self.ids_of(cl)
        self.paid_c = _int64_of_decimal(self.clp_paid)
        self.charge_c = _int64_of_decimal(self.clp_charge)

    def lines(self) -> None:
        sv = self.sv = np.flatnonzero(self.is_svc)
        n_sv = self.n_sv = len(sv)
        sv_claim = self.sv_claim = self.claim_row[sv]
        grp_start = np.zeros(n_sv, np.int64)
        starts = np.flatnonzero(_first_of_group(sv_claim))
        grp_start[starts] = starts
        np.maximum.accumulate(grp_start, out=grp_start)
        self.line_number = np.arange(n_sv) - grp_start + 1
        self.lid = pc.binary_join_element_wise(
            self.cid.take(_np_array(sv_claim, pa.int64())),
            pc.cast(_np_array(self.line_number, pa.int64()), pa.string()), "-",
        )  # fmt: skip
        svc1 = self.get(sv, 1)
        if svc1.null_count:
            raise _Fallback
        self.proc_qual, self.proc_code, self.mods = _procedure(svc1, self.part.d.component)
        self.sv_charge = _money(self.get(sv, 2), True)
        self.sv_paid = _money(self.get(sv, 3), True)
        self.sv_charge_c = _int64_of_decimal(self.sv_charge)
        self.sv_paid_c = _int64_of_decimal(self.sv_paid)

    def dates(self) -> None:
        """DTM: the service date of each line (its last DTM*472, else its first DTM*150) and the
        statement and received dates of each claim (the last DTM*232 / 233 / 050)."""
        dtm = self.dtm = np.flatnonzero(self.ty == DTM)
        if not (self.nel[dtm] >= 2).all():
            raise _Fallback  # the row parser reads DTM01 of every DTM
        in_line = self.line_open[dtm]
        self.service_date = pa.nulls(self.n_sv, pa.date32())
        dcode = self.code1(dtm)
        ld = dtm[in_line]
        m472, m150 = dcode[in_line] == _code_of(b"472"), dcode[in_line] == _code_of(b"150")
        sel = m472 | m150
        if sel.any():
            ld, m472, m150 = ld[sel], m472[sel], m150[sel]
            dts = self.date_of(ld, 2)
            lr = self.line_row[ld]
            rows = np.arange(len(ld))
            idx_d = np.zeros(self.n_sv, np.int64)
            ok_d = np.zeros(self.n_sv, bool)
            for m_, pick in ((m150, _first_of_group), (m472, _last_of_group)):
                g = lr[m_]
                f = pick(g)
                idx_d[g[f]] = rows[m_][f]
                ok_d[g[f]] = True
            self.service_date = _take(dts, idx_d, ok_d)
        in_claim = self.claim_open[dtm] & ~in_line
        cdt, cdcode = dtm[in_claim], dcode[in_claim]
        self.claim_dates = {}
        for qual, col in ((b"232", "statement_from"), (b"233", "statement_to"), (b"050", "claim_received_date")):
            segs = cdt[cdcode == _code_of(qual)]
            if not len(segs):
                self.claim_dates[col] = pa.nulls(self.n_cl, pa.date32())
                continue
            dts = self.date_of(segs, 2)
            g = self.claim_row[segs]
            f = _last_of_group(g)
            self.claim_dates[col] = _take(dts, *_scatter(self.n_cl, g[f], np.flatnonzero(f)))
        # DTM*405 outside claims: the production date, read by RemitHeader when BPR16 is empty
        head = dtm[~self.claim_open[dtm]]
        self.dtm405 = head[dcode[~self.claim_open[dtm]] == _code_of(b"405")]

    def _line_segs(self, code: int, qual: bytes) -> tuple[np.ndarray, np.ndarray]:
        segs = np.flatnonzero((self.ty == code) & self.line_open)
        if not (self.nel[segs] >= 2).all():
            raise _Fallback  # the row parser reads element 1 of these
        segs = segs[self.code1(segs) == _code_of(qual)]
        return segs, self.line_row[segs]

    def line_references(self) -> None:
        """REF*6R, AMT*B6 and LQ*HE of the lines (the last REF and AMT, every LQ)."""
        n_sv, nel, elen = self.n_sv, self.nel, self.elen
        segs, g = self._line_segs(REF, b"6R")
        if not (nel[segs] >= 3).all():
            raise _Fallback
        f = _last_of_group(g)
        lcn_idx, lcn_ok = _scatter(n_sv, g[f], self.first[segs[f]] + 2)
        self.lcn = _take(self.elements, lcn_idx, lcn_ok & (elen[lcn_idx] > 0))  # an empty REF02: None
        segs, g = self._line_segs(AMT, b"B6")
        if not (nel[segs] >= 3).all():
            raise _Fallback
        amounts = _money(self.get(segs, 2), True)  # every AMT*B6 is read, the last one kept
        f = _last_of_group(g)
        self.allowed = _take(amounts, *_scatter(n_sv, g[f], np.flatnonzero(f)))
        segs, g = self._line_segs(LQ, b"HE")
        h = self.has(segs, 2)
        self.lq_remarks = _group_join(n_sv, g[h], self.get(segs[h], 2))

    def adjustments(self) -> None:
        """CAS: one row per reason / amount / quantity triple, in order."""
        cas = np.flatnonzero(self.ty == CAS)
        nel = self.nel
        if (nel[cas] > 20).any() or not self.has(cas, 1).all():
            raise _Fallback
        r_seg, r_t = [], []
        for t in range(1, 7):
            k = 3 * t - 1
            sub = cas[nel[cas] > k]
            if not len(sub):
                break
            hr, ha, hq = self.has(sub, k), self.has(sub, k + 1), self.has(sub, k + 2)
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
        self.a_seg, self.a_t = a_seg, a_t
        self.a_amount = _money(_take(self.elements, self.first[a_seg] + 3 * a_t), True)
        q_j, q_ok = self.eidx(a_seg, 3 * a_t + 1)
        q_ok &= self.elen[q_j] > 0
        self.a_qty = _quantity(_take(self.elements, q_j, q_ok))
        self.a_claim = self.claim_row[a_seg]
        self.a_line = self.line_row[a_seg]
        self.a_cents = _int64_of_decimal(self.a_amount)
        self.a_is_line = self.a_line >= 0

    def balance(self) -> list[tuple[int, int, int, Finding]]:
        """Findings for the lines and claims that do not balance, each as (piece, number of the
        segment that closes it, order, finding); in integers of cents (exact while no sum can
        overflow, else _Fallback)."""
        a_cents, a_is_line = self.a_cents, self.a_is_line
        big = max(
            int(np.abs(x).sum()) if len(x) else 0
            for x in (a_cents, self.charge_c, self.paid_c, self.sv_charge_c, self.sv_paid_c)
        )
        if big >= 2**62:
            raise _Fallback
        line_cas = np.zeros(self.n_sv, np.int64)
        np.add.at(line_cas, self.a_line[a_is_line], a_cents[a_is_line])
        claim_cas = np.zeros(self.n_cl, np.int64)
        np.add.at(claim_cas, self.a_claim[~a_is_line], a_cents[~a_is_line])
        np.add.at(claim_cas, self.sv_claim, line_cas)
        findings: list[tuple[int, int, int, Finding]] = []
        checks = (  # the row parser's findings: (segments, charge, CAS, paid, boundaries, order, finding)
            (self.sv, self.sv_charge_c, line_cas, self.sv_paid_c, self.lb, 0, svc_finding),
            (self.cl, self.charge_c, claim_cas, self.paid_c, self.cb, 1, clp_finding),
        )
        for segs, charge, cas, paid, bounds, order, finding in checks:
            bad = np.flatnonzero(charge - cas != paid)
            if not len(bad):
                continue
            pos = np.flatnonzero(bounds)
            for r in bad.tolist():
                s = int(segs[r])
                amounts = (Decimal(int(x[r])).scaleb(-2) for x in (charge, cas, paid))
                findings.append((int(self.piece[s]), self._closing(pos, s), order, finding(int(self.seg_no[s]), *amounts)))
        return findings

    def _closing(self, pos: np.ndarray, s: int) -> int:
        """Number of the boundary segment (``pos``: positions) closing the line / claim at s (the
        next part's first segment when it is open at the end of this part)."""
        k = int(np.searchsorted(pos, s, side="right"))
        return int(self.seg_no[pos[k]]) if k < len(pos) else int(self.seg_no[self.S - 1]) + 1

    def members(self) -> tuple[list[Any], list[int]]:
        """NM109 of the claims' subscriber (NM1*IL), else patient (NM1*QC), the last of each,
        and the claims they belong to (hashed later)."""
        nm = np.flatnonzero((self.ty == NM1) & self.claim_open & ~self.line_open)
        if not len(nm):
            return [], []
        ncode = self.code1(nm)
        nm_claim = self.claim_row[nm]
        pick = np.zeros(self.n_cl, np.int64)
        picked = np.zeros(self.n_cl, bool)
        for m_ in (ncode == _code_of(b"QC"), ncode == _code_of(b"IL")):  # IL wins
            g = nm_claim[m_]
            f = _last_of_group(g)
            pick[g[f]] = nm[m_][f]
            picked[g[f]] = True
        if not picked.any():
            return [], []
        rows = np.flatnonzero(picked)
        j, ok = self.eidx(pick[rows], 9)  # NM109; None when the NM1 is shorter
        return _take(self.elements, j, ok).to_pylist(), rows.tolist()

    def remarks(self) -> pa.Array:
        """The claims' MOA03-07 and MIA05, MIA20-23 joined by ``;`` in order."""
        mm = np.flatnonzero(self.is_(MOA, MIA))
        if not len(mm):
            return pa.nulls(self.n_cl, pa.string())
        is_moa = self.ty[mm] == MOA
        rs, ro = [], []
        for order_k, (ks, mask) in enumerate((((3, 4, 5, 6, 7), is_moa), ((5, 20, 21, 22, 23), ~is_moa))):
            sub = mm[mask]
            for pos_k, k in enumerate(ks):
                hk = self.has(sub, k)
                rs.append(sub[hk])
                ro.append(np.full(int(hk.sum()), order_k * 8 + pos_k, np.int64))
        r_seg_m = np.concatenate(rs)
        r_ord = np.concatenate(ro)
        order = np.lexsort((r_ord, r_seg_m))
        r_seg_m, r_ord = r_seg_m[order], r_ord[order]
        k_of = np.array([3, 4, 5, 6, 7, 0, 0, 0, 5, 20, 21, 22, 23], np.int64)[r_ord]
        return _group_join(self.n_cl, self.claim_row[r_seg_m], _take(self.elements, self.first[r_seg_m] + k_of))

    def control(self) -> list[tuple[bytes, int, int, int]]:
        """The segments for ``RemitHeader`` (envelope, SE, BPR, PLB; TRN, N1, REF*2U and
        DTM*405 outside claims), each as (its bytes, code, piece, segment number): the bytes,
        not positions in the text, which ``_Part.slim`` drops."""
        header = np.flatnonzero(self.is_(TRN, N1, REF) & ~self.claim_open)
        # of the REF outside claims only REF*2U is read (the payer id after N1*PR)
        header = header[(self.ty[header] != REF) | (self.code1(header) == _code_of(b"2U"))]
        ctl = np.union1d(np.flatnonzero(self.is_env | self.is_(SE, BPR, PLB)), np.union1d(header, self.dtm405))
        part = self.part
        buf = part.buf
        return [
            (buf[a:b], t, p, no)
            for a, b, t, p, no in zip(
                part.seg_start[ctl].tolist(), part.seg_end[ctl].tolist(), self.ty[ctl].tolist(),
                self.piece[ctl].tolist(), self.seg_no[ctl].tolist(), strict=True,
            )
        ]  # fmt: skip

    def tables(self) -> None:
        """The part's columns and tables, without what RemitHeader and the hasher add (the
        claims' payment id and member id)."""
        part, get, seg_no, file_col = self.part, self.get, self.seg_no, self.file_col
        cl, sv, a_seg, cid = self.cl, self.sv, self.a_seg, self.cid
        part.claim_cols = [
            file_col(cl), _np_array(seg_no[cl], pa.int64()), self.st_rank[cl], cid,
            get(cl, 1), get(cl, 2), self.clp_charge, self.clp_paid, _money(get(cl, 5), False),
            get(cl, 6), get(cl, 7), get(cl, 8), get(cl, 9),
            self.claim_dates["statement_from"], self.claim_dates["statement_to"],
            self.claim_dates["claim_received_date"], self.remarks(), None,
        ]  # fmt: skip
        part.lines = pa.Table.from_arrays([
            file_col(sv), _np_array(seg_no[sv], pa.int64()), cid.take(_np_array(self.sv_claim, pa.int64())), self.lid,
            _np_array(self.line_number, pa.int32()), self.proc_qual, self.proc_code, self.mods, self.sv_charge,
            self.sv_paid, get(sv, 4), _quantity(get(sv, 5)), self.service_date, self.lcn, self.allowed,
            self.lq_remarks,
        ], schema=SCHEMAS["remit_lines"])  # fmt: skip
        level = pa.array(["claim", "line"], pa.string()).take(_np_array(self.a_is_line.astype(np.int64), pa.int64()))
        part.adjustments = pa.Table.from_arrays([
            file_col(a_seg), _np_array(seg_no[a_seg], pa.int64()), cid.take(_np_array(self.a_claim, pa.int64())),
            _take(self.lid, self.a_line, self.a_is_line), level, get(a_seg, 1),
            _take(self.elements, self.first[a_seg] + 3 * self.a_t - 1), self.a_amount, self.a_qty,
            _np_array(self.a_t, pa.int32()),
        ], schema=SCHEMAS["remit_adjustments"])  # fmt: skip
        # rows of each piece: [start, end) per table
        piece, n = self.piece, np.arange(self.n_pieces + 1)
        part.cuts = {
            "remit_claims": np.searchsorted(piece[cl], n).tolist(),
            "remit_lines": np.searchsorted(piece[sv], n).tolist(),
            "remit_adjustments": np.searchsorted(piece[a_seg], n).tolist(),
        }


def _procedure(svc1: pa.Array, comp: str) -> tuple[pa.Array, pa.Array, pa.Array]:
    """SVC01 (a composite) -> (qualifier, code, the non-empty components 3-6 joined by ":" or
    null); _Fallback when a qualifier is empty."""
    n_sv = len(svc1)
    parts = pc.split_pattern(svc1, comp)
    p_offs = np.frombuffer(parts.buffers()[1], dtype=np.int32)[parts.offset : parts.offset + n_sv + 1]
    p_vals = parts.values
    p_start = p_offs[:-1].astype(np.int64) - p_offs[0]
    p_len = np.diff(p_offs)
    p_voffs = np.frombuffer(p_vals.buffers()[1], dtype=np.int32)[p_vals.offset : p_vals.offset + len(p_vals) + 1]
    p_vlen = np.diff(p_voffs)

    def component(k: int) -> pa.Array:
        ok = p_len > k
        j = np.where(ok, p_start + k, 0)
        ok &= p_vlen[j] > 0
        return _take(p_vals, j, ok)

    proc_qual = component(0)
    if proc_qual.null_count:
        raise _Fallback
    if not (p_len > 2).any():
        return proc_qual, component(1), pa.nulls(n_sv, pa.string())
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
    return proc_qual, component(1), _null_if_empty(joined)


# ---------------------------------------------------------------------------------------------
# a batch: parts with their columns, then the segments outside claims, hashing and the tables


def _fast(
    preps: list[_Prep], d: Delimiters, names: list[str], file_ids: list[str], hasher: HashMemberId, n_threads: int
) -> tuple[dict[str, pa.Table], list[tuple[int, list[Finding], dict[str, int]]]]:
    """The batch's tables (rows grouped by file, files in order) and, per file, (segments,
    findings, rows per table); _Fallback when the batch is not for the fast path."""
    parts = _make_parts(preps, d)
    many = getattr(hasher, "hash_many", None)  # MemberIdHasher: the same values, faster
    seen, n_isa = _pipeline(parts, file_ids, n_threads, many)
    for f, n in n_isa.items():
        if n > 1 and not _one_block(preps[f].data, d, names[f]):  # several ISA: the tokenizer's block check
            raise _Fallback
    headers = _headers(parts, d, names, file_ids)
    if many is None:
        _hash_members(parts, hasher)
    return _assemble(parts, headers, [seen.get(f, 0) for f in range(len(preps))])


def _transaction_paid(parts: list[_Part]) -> list[int]:
    """The sum of CLP04 of each transaction, in cents, in order."""
    st_paid: list[int] = []
    for part in parts:
        carried, *own = part.st_paid.tolist()
        if part.starts_in_tx:
            st_paid[-1] += carried
        elif carried:
            raise _Fallback  # claims outside any transaction (the checks before refuse them)
        st_paid.extend(own)
    return st_paid


def _headers(parts: list[_Part], d: Delimiters, names: list[str], file_ids: list[str]) -> list[_FileHeader]:
    """Every segment outside claims of every part, file by file, through the row parser's code
    (``RemitHeader``); any error it raises means _Fallback (the row parser raises it again,
    with its place). Each file's findings are merged with those of its parts by segment
    number, as the row parser finds them."""
    st_paid = _transaction_paid(parts)
    st_i = -1
    headers: list[_FileHeader] = []
    h: _FileHeader | None = None
    el = d.element
    try:
        for part in parts:
            for seg, t, p, no in part.ctl:
                f = part.files[p]
                if h is None or f != h.f:
                    if h is not None:
                        h.close()
                    if f != len(headers):
                        raise _Fallback
                    h = _FileHeader(f, names[f], file_ids[f], d.component)
                    headers.append(h)
                if t == ST:
                    st_i += 1
                elif t == SE:
                    h.st_paid = Decimal(st_paid[st_i]).scaleb(-2)
                h.read(t, no, seg.decode("utf-8").split(el))
        if h is not None:
            h.close()
    except (BadValue, Misplaced, InputFileError, IndexError, TypeError):
        raise _Fallback from None
    if len(headers) != len(names):
        raise _Fallback
    for part in parts:
        for p, no, order, finding in part.findings:
            headers[part.files[p]].pending.append((no, order, finding))
    return headers


class _FileHeader(RemitHeader):
    """``RemitHeader`` of one file of the batch, its findings kept with the number of the
    segment that made each (``pending``, merged with the parts' findings in ``_assemble``)."""

    def __init__(self, f: int, file_name: str, file_id: str, comp: str):
        super().__init__(file_name, file_id)
        self.f = f
        self.comp = comp
        self.pending: list[tuple[int, int, Finding]] = []
        self.last: list[Finding] = []  # after every segment: NO_TRANSACTIONS

    def read(self, t: int, no: int, e: list[str]) -> None:
        findings = self.findings
        n = len(findings)
        _HEADER_METHODS[t](self, no, e)
        if len(findings) > n:  # after the claim's and line's findings at the same segment (orders 0 and 1)
            self.pending.extend((no, 2, x) for x in findings[n:])

    def close(self) -> None:
        n = len(self.findings)
        self.finish()
        self.last = self.findings[n:]


# the RemitHeader method that reads each segment outside claims
_HEADER_METHODS = {
    ISA: RemitHeader.isa, GS: RemitHeader.gs, GE: RemitHeader.ge, IEA: RemitHeader.iea, ST: RemitHeader.st,
    SE: RemitHeader.se, BPR: RemitHeader.bpr, TRN: RemitHeader.trn, N1: RemitHeader.n1, REF: RemitHeader.ref,
    DTM: RemitHeader.dtm, PLB: RemitHeader.plb,
}  # fmt: skip


def _hash_members(parts: list[_Part], hasher: HashMemberId) -> None:
    """The member id column of every part with a hasher without ``hash_many``: each distinct
    value hashed once."""
    cache: dict[Any, str | None] = {}
    for part in parts:
        member: list[str | None] = [None] * part.n_claims
        for c_, v in zip(part.member_claims, part.member_values, strict=True):
            h = cache.get(v, _MISSING)
            if h is _MISSING:
                h = cache[v] = hasher(v)
            member[c_] = h
        part.claim_cols[17] = pa.array(member, pa.string())


def _assemble(
    parts: list[_Part], headers: list[_FileHeader], seen: list[int]
) -> tuple[dict[str, pa.Table], list[tuple[int, list[Finding], dict[str, int]]]]:
    """The tables of the batch and, per file, (segments, findings, rows per table)."""
    pay_rows = [row for h in headers for row in h.pay_rows]
    pid_arr = pa.array([row[2] for row in pay_rows], pa.string())
    st_base = 0
    for part in parts:
        cols = part.claim_cols
        cols[2] = pid_arr.take(_np_array(cols[2] + st_base, pa.int64()))  # transaction -> payment id
        st_base += part.n_st
        part.claims = pa.Table.from_arrays(cols, schema=SCHEMAS["remit_claims"])
    counts = {name: [0] * len(headers) for name in _TABLES}
    for h in headers:
        counts["remit_payments"][h.f] = len(h.pay_rows)
        counts["provider_adjustments"][h.f] = len(h.plb_rows)
    for part in parts:
        for name in ("remit_claims", "remit_lines", "remit_adjustments"):
            cut = part.cuts[name]
            for p, f in enumerate(part.files):
                counts[name][f] += cut[p + 1] - cut[p]
    files = []
    for h in headers:
        h.pending.sort(key=lambda x: (x[0], x[1]))
        findings = [x[2] for x in h.pending] + h.last
        files.append((seen[h.f], findings, {name: counts[name][h.f] for name in _TABLES}))

    def joined(tabs: list[pa.Table]) -> pa.Table:
        return tabs[0] if len(tabs) == 1 else pa.concat_tables(tabs)

    def from_rows(name: str, rows: list[list[Any]]) -> pa.Table:
        schema = SCHEMAS[name]
        return pa.Table.from_arrays([pa.array([r[k] for r in rows], f.type) for k, f in enumerate(schema)], schema=schema)

    tables = {
        "remit_payments": from_rows("remit_payments", pay_rows),
        "remit_claims": joined([p.claims for p in parts]),
        "remit_lines": joined([p.lines for p in parts]),
        "remit_adjustments": joined([p.adjustments for p in parts]),
        "provider_adjustments": from_rows("provider_adjustments", [row for h in headers for row in h.plb_rows]),
    }
    return tables, files


__all__ = [
    "SCHEMAS", "Batch835", "FileRows", "parse_835_arrow", "parse_835_batch", "parse_835_files", "to_arrow",
    "try_parse_835_arrow",
]  # fmt: skip
