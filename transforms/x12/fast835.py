"""Columnar fast path for 835 files: the same tables as ``remit835`` as ``pyarrow.Table``.

The row-by-row parser (``remit835._parse_835``) spends its time in Python per segment and per
value (``Decimal``, ``datetime.date``). Here a file (or a batch of files) is split once with
numpy: every element of every segment becomes one entry of a single Arrow string array, and
each output column is a gather from it (``take``) followed by a column-wise check and cast:

* money: the strings must fully match what ``values.parse_money`` accepts (one regular
  expression for the whole column), then ``cast`` to ``decimal128(18,2)``, which is exact for
  those strings; quantities the same with three decimals;
* dates: exactly 8 ASCII digits forming a calendar date, computed with numpy ``datetime64``;
* structure (which claim / line / transaction a segment belongs to) from running maxima over
  the positions of the boundary segments (CLP, SVC, LX, PLB, ST, SE).

Only the few envelope and header segments (ISA, GS, ST, BPR, TRN, N1, REF outside claims, PLB,
SE, GE, IEA) go through a Python loop, with the same code and the same ``Envelope`` as the row
parser.

Exactness: the fast path handles the common shape of a file and checks its preconditions as it
goes (one interchange block, no blanks around segments, UTF-8, every segment where it may be,
every amount and date strict, no element missing that the row parser would index ...). When
any check fails it gives up on the batch (``_Fallback``) and the row parser runs on the file:
that parser raises the exact error (file, segment number, segment id, element) or, when the
fast path was only stricter than needed, returns the tables, converted to Arrow. So the result
is always what the row parser gives; the fast path only decides how quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
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
from transforms.x12.segments import Misplaced, valid_segment_id
from transforms.x12.tokenizer import _RARE_BLANKS, Delimiters, _segment_start, isa_delimiters, tokenize
from transforms.x12.values import BadValue, money_str, parse_date, parse_money

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

# What values.parse_money / parse_quantity accept (after strip(" "), which is left to the row
# parser: a value with blanks fails here and the file takes the row path).
_MONEY_RE = r"^-?(?:0*[0-9]{1,16}(?:\.[0-9]{0,2}0*)?|\.[0-9]{1,2}0*)$"
_QTY_RE = r"^-?(?:0*[0-9]{1,15}(?:\.[0-9]{0,3}0*)?|\.[0-9]{1,3}0*)$"

# segment codes
(INVALID, ISA, GS, GE, IEA, ST, SE, BPR, TRN, N1, REF, DTM, CLP, CAS, NM1, MOA, MIA, SVC, AMT, LQ, LX, PLB,
 OTHER) = range(23)  # fmt: skip
_CODES = {
    "ISA": ISA, "GS": GS, "GE": GE, "IEA": IEA, "ST": ST, "SE": SE, "BPR": BPR, "TRN": TRN, "N1": N1,
    "REF": REF, "DTM": DTM, "CLP": CLP, "CAS": CAS, "NM1": NM1, "MOA": MOA, "MIA": MIA, "SVC": SVC,
    "AMT": AMT, "LQ": LQ, "LX": LX, "PLB": PLB,
}  # fmt: skip
_PLB_ELEMENTS = [(f"PLB{k:02d}", f"PLB{k + 1:02d}") for k in range(3, 15, 2)]
_RARE_BLANK_BYTES = tuple(c.encode("utf-8") for c in _RARE_BLANKS)
_MAX_BATCH_BYTES = 1 << 30  # int32 offsets of the element array


_MISSING: Any = object()


class _Fallback(Exception):
    """The fast path does not handle this input: the row parser decides."""


# ---------------------------------------------------------------------------------------------
# entry points


def parse_835_arrow(data: bytes, file_name: str, file_id: str, hash_member_id: HashMemberId) -> ParsedFile:
    """Like ``parse_835`` but the tables are ``pyarrow.Table`` (schemas: :data:`SCHEMAS`).
    Raises the same InputFileError as ``parse_835``."""
    out = parse_835_batch([(data, file_name, file_id)], hash_member_id)[0]
    if isinstance(out, InputFileError):
        raise out
    return out


def parse_835_batch(
    items: Sequence[tuple[bytes, str, str]], hash_member_id: HashMemberId
) -> list[ParsedFile | InputFileError]:
    """Parse many 835 files ``(data, file_name, file_id)`` at once (small files are vectorised
    together). One result per item, in order: a ParsedFile with Arrow tables, or the
    InputFileError that ``parse_835`` raises for that file."""
    out: list[ParsedFile | InputFileError | None] = [None] * len(items)
    groups: dict[Delimiters, list[tuple[int, bytes]]] = {}
    for k, (data, file_name, _fid) in enumerate(items):
        prep = _prepare(data, file_name)
        if prep is None:
            out[k] = _row_path(*items[k], hash_member_id)
        else:
            groups.setdefault(prep[1], []).append((k, prep[0]))
    for d, members in groups.items():
        # bounded batches: int32 offsets, and memory
        batch: list[tuple[int, bytes]] = []
        size = 0
        for m in members:
            if batch and size + len(m[1]) > _MAX_BATCH_BYTES // 4:
                _run_batch(batch, d, items, hash_member_id, out)
                batch, size = [], 0
            batch.append(m)
            size += len(m[1])
        if batch:
            _run_batch(batch, d, items, hash_member_id, out)
    return out  # type: ignore[return-value]


def _run_batch(batch, d, items, hash_member_id, out) -> None:
    try:
        res = _fast(
            [c for _, c in batch], d, [items[k][1] for k, _ in batch], [items[k][2] for k, _ in batch], hash_member_id
        )
    except _Fallback:
        if len(batch) == 1:
            k = batch[0][0]
            out[k] = _row_path(*items[k], hash_member_id)
            return
        # one file of the batch is unusual: each file on its own
        for m in batch:
            _run_batch([m], d, items, hash_member_id, out)
        return
    for (k, _), pf in zip(batch, res, strict=True):
        out[k] = pf


def _row_path(data: bytes, file_name: str, file_id: str, hash_member_id: HashMemberId) -> ParsedFile | InputFileError:
    try:
        parsed, _, _ = parse_835_tokens(tokenize(data, file_name), file_name, file_id, hash_member_id)
    except InputFileError as e:
        return e
    return to_arrow(parsed)


def to_arrow(parsed: ParsedFile) -> ParsedFile:
    """The row parser's dict-of-lists tables as Arrow tables with :data:`SCHEMAS`."""
    tables = {}
    for name, cols in parsed.tables.items():
        schema = SCHEMAS[name]
        tables[name] = pa.Table.from_arrays([pa.array(cols[f.name], type=f.type) for f in schema], schema=schema)
    return ParsedFile(parsed.kind, tables, parsed.rows_read, list(parsed.findings))


# ---------------------------------------------------------------------------------------------
# preparation of one file: delimiters, one block, the text the tokenizer would split


def _prepare(data: Any, file_name: str) -> tuple[bytes, Delimiters] | None:
    """(bytes to split, delimiters) when the file has the usual shape, else None."""
    if not isinstance(data, bytes) or data[:3] != b"ISA":
        return None
    try:
        text = data.decode("ascii") if data.isascii() else data.decode("utf-8")
    except UnicodeDecodeError:
        return None  # read as Latin-1 by the tokenizer
    try:
        d = isa_delimiters(text, 0, file_name)
    except InputFileError:
        return None
    if not (d.element.isascii() and d.component.isascii() and d.segment.isascii()):
        return None
    # the tokenizer's block detection: another ISA with other delimiters starts a new block
    p = text.find("ISA", 3)
    while p >= 0:
        if _segment_start(text, p, d.segment):
            try:
                d2 = isa_delimiters(text, p, file_name)
            except InputFileError:
                d2 = d
            if d2 != d:
                return None
        p = text.find("ISA", p + 3)
    term = d.segment.encode()
    c = data
    if term == b"\n":
        if b"\r" in c:
            c = c.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    else:
        if b"\n" in c:
            c = c.replace(b"\n", b"")
        if b"\r" in c:
            c = c.replace(b"\r", b"")
    # the tokenizer would strip blanks around segments: leave such files to it
    if b" " + term in c or term + b" " in c or c[:1] == b" " or c[-1:] == b" ":
        return None
    if any(b in c for b in _RARE_BLANK_BYTES):
        return None
    if not c.endswith(term):
        c += term
    return c, d


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


def _take(arr: pa.Array, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """arr[idx], null where not ``valid``."""
    if valid is not None:
        if not valid.any():
            return pa.nulls(len(idx), arr.type)
        idx = np.where(valid, idx, 0)
    return arr.take(_np_array(idx, pa.int64(), valid))


def _bool(a: pa.Array) -> np.ndarray:
    return pc.fill_null(a, False).to_numpy(zero_copy_only=False)


def _int64_of_decimal(a: pa.Array) -> np.ndarray:
    """Unscaled values of a decimal128 array (exact: at most 18 digits), 0 for nulls."""
    if len(a) == 0:
        return np.zeros(0, np.int64)
    a = pc.fill_null(a, pa.scalar(Decimal(0), a.type)) if a.null_count else a
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
    """Per group (0..n-1; ``groups`` nondecreasing), its non-null values joined by ``sep`` in
    order; null for a group without values."""
    keep = _bool(values.is_valid()) if values.null_count else None
    if keep is not None:
        groups = groups[keep]
        values = values.filter(_np_bool(keep))
    if len(groups) == 0:
        return pa.nulls(n, pa.string())
    first = _first_of_group(groups)
    if first.all():
        idx, valid = _scatter(n, groups, np.arange(len(groups)))
        return _take(values, idx, valid)
    # groups with several values: joined in Python (rare: several LQ / MOA per line / claim)
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(groups))
    multi = np.flatnonzero(ends - starts > 1)
    pyvals = values.to_pylist()
    joined = [sep.join(pyvals[starts[m] : ends[m]]) for m in multi.tolist()]
    combined = pa.concat_arrays([values, pa.array(joined, pa.string())])
    rows = starts.copy()
    rows[multi] = len(values) + np.arange(len(multi))
    idx, valid = _scatter(n, groups[starts], rows)
    return _take(combined, idx, valid)


def _np_bool(a: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(pa.bool_(), len(a), [None, pa.py_buffer(np.packbits(a, bitorder="little"))])


def _money(s: pa.Array, required: bool) -> pa.Array:
    """Strings -> decimal128(18,2); _Fallback unless every value is what parse_money accepts."""
    if required and s.null_count:
        raise _Fallback
    if len(s) == s.null_count:
        return pa.nulls(len(s), MONEY)
    if not pc.all(pc.match_substring_regex(s, _MONEY_RE)).as_py():
        raise _Fallback
    return pc.cast(s, MONEY)


def _quantity(s: pa.Array) -> pa.Array:
    if len(s) == s.null_count:
        return pa.nulls(len(s), QUANTITY)
    if not pc.all(pc.match_substring_regex(s, _QTY_RE)).as_py():
        raise _Fallback
    return pc.cast(s, QUANTITY)


_EPOCH_MONTH = np.datetime64("1970-01", "M")


def _dates(s: pa.Array) -> pa.Array:
    """CCYYMMDD strings (no nulls) -> date32; _Fallback unless every one is a calendar date."""
    n = len(s)
    if s.null_count:
        raise _Fallback
    if n == 0:
        return pa.array([], pa.date32())
    offs = np.frombuffer(s.buffers()[1], dtype=np.int32)[s.offset : s.offset + n + 1]
    if not (np.diff(offs) == 8).all():
        raise _Fallback
    data = np.frombuffer(s.buffers()[2], dtype=np.uint8)
    dg = data[offs[:-1, None] + np.arange(8)].astype(np.int64) - 48
    if ((dg < 0) | (dg > 9)).any():
        raise _Fallback
    y = dg[:, 0] * 1000 + dg[:, 1] * 100 + dg[:, 2] * 10 + dg[:, 3]
    m = dg[:, 4] * 10 + dg[:, 5]
    d = dg[:, 6] * 10 + dg[:, 7]
    if ((y < 1) | (m < 1) | (m > 12) | (d < 1) | (d > 31)).any():
        raise _Fallback
    months = (y - 1970) * 12 + (m - 1)
    days = (_EPOCH_MONTH + months).astype("datetime64[D]") + (d - 1)
    if not ((days.astype("datetime64[M]") - _EPOCH_MONTH).astype(np.int64) == months).all():
        raise _Fallback  # 30 February
    return _np_array(days.astype(np.int64), pa.date32())


def _cents_str(c: int) -> str:
    """money_str of an amount in cents."""
    return money_str(Decimal(c).scaleb(-2))


# ---------------------------------------------------------------------------------------------
# the batch


def _fast(
    cs: list[bytes], d: Delimiters, names: list[str], file_ids: list[str], hasher: HashMemberId
) -> list[ParsedFile]:
    el_b = ord(d.element)
    term_b = ord(d.segment)
    comp = d.component
    buf = cs[0] if len(cs) == 1 else b"".join(cs)
    if len(buf) >= _MAX_BATCH_BYTES:
        raise _Fallback
    u8 = np.frombuffer(buf, dtype=np.uint8)
    is_term = u8 == term_b
    sep = is_term | (u8 == el_b)
    pos = np.flatnonzero(sep)
    n_el = len(pos)
    termflag = is_term[pos]
    del is_term
    vals = u8[~sep]
    del sep
    offs = np.empty(n_el + 1, np.int32)
    offs[0] = 0
    np.subtract(pos, np.arange(n_el), out=offs[1:], casting="unsafe")
    elen = np.diff(offs)
    elements = pa.StringArray.from_buffers(n_el, pa.py_buffer(offs), pa.py_buffer(vals))

    # segments: runs of elements ended by a terminator; empty ones are dropped
    tidx = np.flatnonzero(termflag)
    first = np.empty(len(tidx), np.int64)
    first[0] = 0
    first[1:] = tidx[:-1] + 1
    nel = tidx - first + 1
    nonempty = (nel > 1) | (elen[first] > 0)
    if not nonempty.all():
        first, nel = first[nonempty], nel[nonempty]
    S = len(first)
    seg_byte = np.where(first > 0, pos[first - 1] + 1, 0)
    seg_end_byte = pos[first + nel - 1]
    file_bytes = np.cumsum([0] + [len(c) for c in cs[:-1]])
    file_first_seg = np.searchsorted(seg_byte, file_bytes)
    file_of_seg = np.searchsorted(file_bytes, seg_byte, side="right") - 1
    seg_no = np.arange(S) - file_first_seg[file_of_seg] + 1

    # segment ids -> codes
    de = elements.take(_np_array(first, pa.int64())).dictionary_encode()
    codes = []
    for t in de.dictionary.to_pylist():
        c = _CODES.get(t)
        if c is None:
            c = OTHER if valid_segment_id(t) else INVALID
        codes.append(c)
    code_arr = np.array(codes + [INVALID], np.int8)
    ty = code_arr[de.indices.to_numpy()]
    if (ty == INVALID).any():
        raise _Fallback
    ty_pad = np.append(ty, np.int8(INVALID))  # ty_pad[-1]: "no segment"
    idx = np.arange(S)

    def prev_of(mask: np.ndarray) -> np.ndarray:
        a = np.where(mask, idx, -1)
        np.maximum.accumulate(a, out=a)
        out = np.empty(S, np.int64)
        out[0] = -1
        out[1:] = a[:-1]
        return out

    def is_(*cs_: int) -> np.ndarray:
        m = ty == cs_[0]
        for c_ in cs_[1:]:
            m |= ty == c_
        return m

    is_st, is_se, is_clp, is_svc = is_(ST), is_(SE), is_(CLP), is_(SVC)
    is_env = is_(ISA, GS, GE, IEA, ST)
    # every segment but the envelope ones lies inside a transaction (ST ... SE)
    tx_open = ty_pad[prev_of(is_st | is_se)] == ST
    if not np.array_equal(tx_open, ~is_env):
        raise _Fallback
    cb = is_clp | is_(LX, PLB) | is_se | is_st
    pcb = prev_of(cb)
    claim_open = ty_pad[pcb] == CLP
    lb = cb | is_svc
    plb = prev_of(lb)
    line_open = ty_pad[plb] == SVC
    if not claim_open[is_(CAS, SVC, MOA, MIA)].all():
        raise _Fallback
    clp_rank = np.cumsum(is_clp) - 1
    svc_rank = np.cumsum(is_svc) - 1
    st_rank = np.cumsum(is_st) - 1
    claim_row = np.where(claim_open, clp_rank[pcb], -1)
    line_row = np.where(line_open, svc_rank[plb], -1)

    def eidx(sg: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        ok = nel[sg] > k
        j = np.where(ok, first[sg] + k, 0)
        return j, ok

    def has(sg: np.ndarray, k: int) -> np.ndarray:
        j, ok = eidx(sg, k)
        return ok & (elen[j] > 0)

    def get(sg: np.ndarray, k: int, empty_null: bool = True) -> pa.Array:
        j, ok = eidx(sg, k)
        if empty_null:
            ok &= elen[j] > 0
        return _take(elements, j, ok)

    def eq(a: pa.Array, v: str) -> np.ndarray:
        return _bool(pc.equal(a, v))

    fid_arr = pa.array(file_ids, pa.string())

    def file_col(sg: np.ndarray) -> pa.Array:
        if len(cs) == 1:
            return pa.repeat(pa.scalar(file_ids[0]), len(sg))
        return fid_arr.take(_np_array(file_of_seg[sg], pa.int64()))

    def ids_of(sg: np.ndarray) -> pa.Array:
        """``{file_id}-{segment number}``"""
        return pc.binary_join_element_wise(file_col(sg), pc.cast(_np_array(seg_no[sg], pa.int64()), pa.string()), "-")

    # ---- claims -------------------------------------------------------------------------
    cl = np.flatnonzero(is_clp)
    n_cl = len(cl)
    if not (has(cl, 1).all() and has(cl, 2).all()):
        raise _Fallback
    clp_charge = _money(get(cl, 3), True)
    clp_paid = _money(get(cl, 4), True)
    clp_patresp = _money(get(cl, 5), False)
    cid = ids_of(cl)
    paid_c = _int64_of_decimal(clp_paid)
    charge_c = _int64_of_decimal(clp_charge)

    # ---- lines --------------------------------------------------------------------------
    sv = np.flatnonzero(is_svc)
    n_sv = len(sv)
    sv_claim = claim_row[sv]
    sv_start = np.flatnonzero(_first_of_group(sv_claim))
    grp_start = np.zeros(n_sv, np.int64)
    grp_start[sv_start] = sv_start
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
    p_vlen = np.diff(np.frombuffer(p_vals.buffers()[1], dtype=np.int32)[p_vals.offset : p_vals.offset + len(p_vals) + 1])

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
        # ":".join(nonempty components 3-6) or None (pc.binary_join_element_wise with
        # null_handling="skip" drops rows whose inputs are all null: not used)
        sl = pc.list_slice(parts, 2, 6)
        lo = np.frombuffer(sl.buffers()[1], dtype=np.int32)[sl.offset : sl.offset + n_sv + 1]
        flat = sl.values
        fo = np.frombuffer(flat.buffers()[1], dtype=np.int32)[flat.offset : flat.offset + len(flat) + 1]
        keep = np.diff(fo) > 0
        kept = np.zeros(len(keep) + 1, np.int32)
        np.cumsum(keep, out=kept[1:])
        new_offs = kept[lo - lo[0]]
        mods = pc.binary_join(pa.ListArray.from_arrays(_np_array(new_offs, pa.int32()), flat.filter(_np_bool(keep))), ":")
        mods = pc.if_else(pc.equal(mods, ""), pa.scalar(None, pa.string()), mods)
    else:
        mods = pa.nulls(n_sv, pa.string())
    sv_charge = _money(get(sv, 2), True)
    sv_paid = _money(get(sv, 3), True)
    revenue = get(sv, 4)
    units = _quantity(get(sv, 5))
    sv_charge_c = _int64_of_decimal(sv_charge)
    sv_paid_c = _int64_of_decimal(sv_paid)

    # ---- DTM ----------------------------------------------------------------------------
    dtm = np.flatnonzero(ty == DTM)
    if not (nel[dtm] >= 2).all():
        raise _Fallback
    dq = get(dtm, 1, empty_null=False)
    ld_m = line_open[dtm]
    cd_m = claim_open[dtm] & ~ld_m
    service_date = pa.nulls(n_sv, pa.date32())
    if ld_m.any():
        ld = dtm[ld_m]
        q = dq.filter(_np_bool(ld_m))
        m472, m150 = eq(q, "472"), eq(q, "150")
        sel = m472 | m150
        ld, m472, m150 = ld[sel], m472[sel], m150[sel]
        if len(ld):
            if not (nel[ld] >= 3).all():
                raise _Fallback
            dates = _dates(get(ld, 2))
            lr = line_row[ld]
            rows = np.arange(len(ld))
            g150 = lr[m150]
            f150 = _first_of_group(g150)
            idx_d = np.zeros(n_sv, np.int64)
            ok_d = np.zeros(n_sv, bool)
            idx_d[g150[f150]] = rows[m150][f150]
            ok_d[g150[f150]] = True
            g472 = lr[m472]
            l472 = _last_of_group(g472)
            idx_d[g472[l472]] = rows[m472][l472]
            ok_d[g472[l472]] = True
            service_date = _take(dates, idx_d, ok_d)
    claim_dates = {}
    cq = dq.filter(_np_bool(cd_m)) if cd_m.any() else None
    cdt = dtm[cd_m]
    for qual, col in (("232", "statement_from"), ("233", "statement_to"), ("050", "claim_received_date")):
        claim_dates[col] = pa.nulls(n_cl, pa.date32())
        if cq is None:
            continue
        m = eq(cq, qual)
        if not m.any():
            continue
        segs = cdt[m]
        if not (nel[segs] >= 3).all():
            raise _Fallback
        dates = _dates(get(segs, 2))
        g = claim_row[segs]
        last = _last_of_group(g)
        i_, ok_ = _scatter(n_cl, g[last], np.flatnonzero(last))
        claim_dates[col] = _take(dates, i_, ok_)

    # ---- REF*6R, AMT*B6, LQ*HE in lines --------------------------------------------------
    def line_segs(code: int, qual: str) -> tuple[np.ndarray, np.ndarray]:
        segs = np.flatnonzero((ty == code) & line_open)
        if not (nel[segs] >= 2).all():
            raise _Fallback
        m = eq(get(segs, 1, empty_null=False), qual)
        segs = segs[m]
        return segs, line_row[segs]

    segs, g = line_segs(REF, "6R")
    if not (nel[segs] >= 3).all():
        raise _Fallback
    last = _last_of_group(g)
    lcn = _take(elements, *_scatter(n_sv, g[last], eidx(segs[last], 2)[0]))
    lcn = pc.if_else(pc.equal(lcn, ""), pa.scalar(None, pa.string()), lcn)
    segs, g = line_segs(AMT, "B6")
    if not (nel[segs] >= 3).all():
        raise _Fallback
    allowed_v = _money(get(segs, 2), True)
    last = _last_of_group(g)
    allowed = _take(allowed_v, *_scatter(n_sv, g[last], np.flatnonzero(last)))
    segs, g = line_segs(LQ, "HE")
    lq_remarks = _group_join(n_sv, g, get(segs, 2))

    # ---- CAS ----------------------------------------------------------------------------
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
    q_j, q_ok = eidx(a_seg, 3 * a_t + 1) if len(a_seg) else (np.zeros(0, np.int64), np.zeros(0, bool))
    q_ok &= elen[q_j] > 0
    a_qty = _quantity(_take(elements, q_j, q_ok))
    a_claim = claim_row[a_seg]
    a_line = line_row[a_seg]
    a_cents = _int64_of_decimal(a_amount)
    a_is_line = a_line >= 0

    # balancing (integers in cents; exact while no sum can overflow)
    if max(
        np.abs(a_cents).sum() if len(a_cents) else 0,
        np.abs(charge_c).sum() if n_cl else 0,
        np.abs(paid_c).sum() if n_cl else 0,
        np.abs(sv_charge_c).sum() + np.abs(sv_paid_c).sum() if n_sv else 0,
    ) >= 2**62:
        raise _Fallback
    line_cas = np.zeros(n_sv, np.int64)
    np.add.at(line_cas, a_line[a_is_line], a_cents[a_is_line])
    claim_cas = np.zeros(n_cl, np.int64)
    np.add.at(claim_cas, a_claim[~a_is_line], a_cents[~a_is_line])
    np.add.at(claim_cas, sv_claim, line_cas)
    pending: list[list[tuple[int, int, Finding]]] = [[] for _ in cs]  # (segment index, order, finding)
    bad_lines = np.flatnonzero(sv_charge_c - line_cas != sv_paid_c)
    bad_claims = np.flatnonzero(charge_c - claim_cas != paid_c)
    if len(bad_lines) or len(bad_claims):
        lb_pos = np.flatnonzero(lb)
        cb_pos = np.flatnonzero(cb)
        for r in bad_lines.tolist():
            s = int(sv[r])
            close = int(lb_pos[np.searchsorted(lb_pos, s, side="right")])
            ch, ca, pd = int(sv_charge_c[r]), int(line_cas[r]), int(sv_paid_c[r])
            pending[file_of_seg[s]].append((close, 0, Finding(
                "warning", SVC_UNBALANCED, f"segment {int(seg_no[s])} (SVC)",
                f"SVC02 {_cents_str(ch)} - line CAS {_cents_str(ca)} = {_cents_str(ch - ca)} but SVC03 is {_cents_str(pd)}",
            )))  # fmt: skip
        for r in bad_claims.tolist():
            s = int(cl[r])
            close = int(cb_pos[np.searchsorted(cb_pos, s, side="right")])
            ch, ca, pd = int(charge_c[r]), int(claim_cas[r]), int(paid_c[r])
            pending[file_of_seg[s]].append((close, 1, Finding(
                "warning", CLP_UNBALANCED, f"segment {int(seg_no[s])} (CLP)",
                f"CLP03 {_cents_str(ch)} - all CAS of the claim {_cents_str(ca)} = {_cents_str(ch - ca)} "
                f"but CLP04 is {_cents_str(pd)}",
            )))  # fmt: skip

    # ---- claim-level NM1 (member id), MOA/MIA remarks ------------------------------------
    nm = np.flatnonzero((ty == NM1) & claim_open & ~line_open)
    member_arr = pa.nulls(n_cl, pa.string())
    if len(nm):
        q = get(nm, 1, empty_null=False)
        mqc, mil = eq(q, "QC"), eq(q, "IL")
        nm_claim = claim_row[nm]
        # the subscriber (IL) wins over the patient (QC); the last of each
        pick = np.zeros(n_cl, np.int64)
        picked = np.zeros(n_cl, bool)
        for m_ in (mqc, mil):
            g = nm_claim[m_]
            last = _last_of_group(g)
            pick[g[last]] = nm[m_][last]
            picked[g[last]] = True
        if picked.any():
            # NM109, None when the NM1 has fewer elements (the hasher still sees it)
            j, ok = eidx(pick, 9)
            values = _take(elements, j, ok & picked).to_pylist()
            has_value = (ok & picked).tolist()
            cache: dict[str | None, str | None] = {}
            member: list[str | None] = [None] * n_cl
            for c_ in np.flatnonzero(picked).tolist():
                v = values[c_] if has_value[c_] else None
                h = cache.get(v, _MISSING)
                if h is _MISSING:
                    h = cache[v] = hasher(v)
                member[c_] = h
            member_arr = pa.array(member, pa.string())

    mm = np.flatnonzero(is_(MOA, MIA))
    if len(mm):
        is_moa = ty[mm] == MOA
        rs, ro = [], []
        for order_k, (ks, mask) in enumerate(
            (((3, 4, 5, 6, 7), is_moa), ((5, 20, 21, 22, 23), ~is_moa))
        ):
            sub = mm[mask]
            for pos_k, k in enumerate(ks):
                h = has(sub, k)
                rs.append(sub[h])
                ro.append(np.full(int(h.sum()), order_k * 8 + pos_k, np.int64))
        r_seg_m = np.concatenate(rs)
        r_ord = np.concatenate(ro)
        order = np.lexsort((r_ord, r_seg_m))
        r_seg_m, r_ord = r_seg_m[order], r_ord[order]
        k_of = np.array([3, 4, 5, 6, 7, 0, 0, 0, 5, 20, 21, 22, 23], np.int64)[r_ord]
        remarks = _group_join(n_cl, claim_row[r_seg_m], _take(elements, first[r_seg_m] + k_of))
    else:
        remarks = pa.nulls(n_cl, pa.string())

    # ---- st_paid per transaction (for the BPR check in the Python loop) --------------------
    n_st = int(is_st.sum())
    st_paid = np.zeros(n_st, np.int64)
    np.add.at(st_paid, st_rank[cl], paid_c)

    # ---- envelope and header segments: Python, as in the row parser -----------------------
    ctl = np.flatnonzero(is_env | is_se | is_(BPR, PLB) | (is_(TRN, N1, REF) & ~claim_open))
    pay_rows: list[list[Any]] = []
    plb_rows: list[list[Any]] = []
    pid_list: list[str] = []
    findings: list[list[Finding]] = [[] for _ in cs]
    n_pay_file = [0] * len(cs)
    el = d.element
    ctl_l = ctl.tolist()
    sb_l = seg_byte[ctl].tolist()
    se_l = seg_end_byte[ctl].tolist()
    ty_l = ty[ctl].tolist()
    f_l = file_of_seg[ctl].tolist()
    cur_f = -1
    env: Envelope | None = None
    env_f: list[Finding] = []
    pay: list[Any] | None = None
    st_bpr = None
    st_plb = Decimal(0)
    n1 = ""
    pr_id = ref_2u = trn03 = None
    v4010 = False
    pid = ""
    st_i = -1
    try:
        for i, a_, b_, t_, f_ in zip(ctl_l, sb_l, se_l, ty_l, f_l, strict=True):
            if f_ != cur_f:
                if env is not None:
                    env.finish()
                cur_f = f_
                env_f = []
                env = Envelope(names[f_], env_f)
                pay = None
            e = buf[a_:b_].decode("utf-8").split(el)
            no = i - int(file_first_seg[f_]) + 1
            fid = file_ids[f_]
            nf = len(env_f)
            if t_ == BPR:
                if len(e) < 17:
                    e.extend([""] * (17 - len(e)))
                st_bpr = parse_money(e[2].strip(" "), "BPR02")
                pay[6] = e[1] or None
                pay[7] = st_bpr
                pay[8] = e[3] or None
                pay[9] = e[4] or None
                pay[10] = parse_date(e[16].strip(" "), "BPR16", yymmdd=v4010) if e[16] else None
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
                            fid, no, pid, prov or None, fp, c[0], c[1] or None if len(c) > 1 else None, amt, pidx,
                        ])  # fmt: skip
                        st_plb += amt
                    k += 2
                    pidx += 1
            elif t_ == SE:
                if st_bpr is None:
                    raise _Fallback
                pay[12] = pr_id or ref_2u or trn03
                sp = Decimal(int(st_paid[st_i])).scaleb(-2)
                if sp - st_plb != st_bpr:
                    pending[f_].append((i, 2, Finding(
                        "warning", BPR_UNBALANCED, f"ST {pay[5] or ''}",
                        f"sum CLP04 {money_str(sp)} - PLB {money_str(st_plb)} = "
                        f"{money_str(sp - st_plb)} but BPR02 is {money_str(st_bpr)}",
                    )))  # fmt: skip
                env.se(no, e)
                pay = None
            elif t_ == ST:
                env.st(no, e)
                st01 = e[1].strip() if len(e) > 1 else ""
                if st01 != "835":
                    raise _Fallback
                st_i += 1
                pid = f"{fid}-{no}"
                ver = env.version(e[3] if len(e) > 3 else "")
                v4010 = bool(ver and ver.startswith("00401"))
                pay = [fid, no, pid, "835", ver, e[2] if len(e) > 2 and e[2] else None]
                pay.extend([None] * 10)
                pay_rows.append(pay)
                pid_list.append(pid)
                n_pay_file[f_] += 1
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
                pending[f_].extend((i, 3, f) for f in env_f[nf:])
        if env is not None:
            env.finish()
    except (BadValue, Misplaced, InputFileError, IndexError, TypeError):
        raise _Fallback from None
    if cur_f != len(cs) - 1:
        raise _Fallback  # a file without any envelope segment (cannot happen: each starts with ISA)

    for f_ in range(len(cs)):
        pend = pending[f_]
        pend.sort(key=lambda x: (x[0], x[1]))
        findings[f_] = [x[2] for x in pend]
        if n_pay_file[f_] == 0:
            findings[f_].append(Finding("warning", NO_TRANSACTIONS, None, "the file holds no 835 transaction"))

    # ---- tables -------------------------------------------------------------------------
    pid_arr = pa.array(pid_list, pa.string())

    def table(name: str, arrays: list[pa.Array]) -> pa.Table:
        return pa.Table.from_arrays(arrays, schema=SCHEMAS[name])

    payments = table(
        "remit_payments",
        [pa.array([r[k] for r in pay_rows], SCHEMAS["remit_payments"].field(k).type) for k in range(16)],
    )
    claims = table("remit_claims", [
        file_col(cl), _np_array(seg_no[cl], pa.int64()), pid_arr.take(_np_array(st_rank[cl], pa.int64())), cid,
        get(cl, 1), get(cl, 2), clp_charge, clp_paid, clp_patresp,
        get(cl, 6), get(cl, 7), get(cl, 8), get(cl, 9),
        claim_dates["statement_from"], claim_dates["statement_to"], claim_dates["claim_received_date"],
        remarks, member_arr,
    ])  # fmt: skip
    lines = table("remit_lines", [
        file_col(sv), _np_array(seg_no[sv], pa.int64()), cid.take(_np_array(sv_claim, pa.int64())), lid,
        _np_array(line_number, pa.int32()), proc_qual, proc_code, mods, sv_charge, sv_paid, revenue, units,
        service_date, lcn, allowed, lq_remarks,
    ])  # fmt: skip
    level = pa.array(["claim", "line"], pa.string()).take(_np_array(a_is_line.astype(np.int64), pa.int64()))
    adjustments = table("remit_adjustments", [
        file_col(a_seg), _np_array(seg_no[a_seg], pa.int64()), cid.take(_np_array(a_claim, pa.int64())),
        _take(lid, a_line, a_is_line), level, get(a_seg, 1), _take(elements, first[a_seg] + 3 * a_t - 1),
        a_amount, a_qty, _np_array(a_t, pa.int32()),
    ])  # fmt: skip
    plbs = table(
        "provider_adjustments",
        [pa.array([r[k] for r in plb_rows], SCHEMAS["provider_adjustments"].field(k).type) for k in range(9)],
    )

    if len(cs) == 1:
        tables = {
            "remit_payments": payments, "remit_claims": claims, "remit_lines": lines,
            "remit_adjustments": adjustments, "provider_adjustments": plbs,
        }  # fmt: skip
        return [ParsedFile(KIND_835, tables, S, findings[0])]

    # per file: the rows of each table are in segment order, so in file order
    bounds = file_first_seg
    n_seg_file = np.diff(np.append(file_first_seg, S))

    def cuts(seg_of_rows: np.ndarray) -> list[int]:
        return np.searchsorted(seg_of_rows, bounds).tolist() + [len(seg_of_rows)]

    pay_files = np.repeat(np.arange(len(cs)), n_pay_file)
    plb_file = np.searchsorted(np.cumsum(n_pay_file), _plb_pay_index(plb_rows, pid_list), side="right")
    c_pay = np.searchsorted(pay_files, np.arange(len(cs))).tolist() + [len(pay_files)]
    c_plb = np.searchsorted(plb_file, np.arange(len(cs))).tolist() + [len(plb_file)]
    c_cl, c_sv, c_a = cuts(cl), cuts(sv), cuts(a_seg)
    out = []
    for f_ in range(len(cs)):
        tables = {
            "remit_payments": payments.slice(c_pay[f_], c_pay[f_ + 1] - c_pay[f_]),
            "remit_claims": claims.slice(c_cl[f_], c_cl[f_ + 1] - c_cl[f_]),
            "remit_lines": lines.slice(c_sv[f_], c_sv[f_ + 1] - c_sv[f_]),
            "remit_adjustments": adjustments.slice(c_a[f_], c_a[f_ + 1] - c_a[f_]),
            "provider_adjustments": plbs.slice(c_plb[f_], c_plb[f_ + 1] - c_plb[f_]),
        }
        out.append(ParsedFile(KIND_835, tables, int(n_seg_file[f_]), findings[f_]))
    return out


def _plb_pay_index(plb_rows: list[list[Any]], pid_list: list[str]) -> np.ndarray:
    where = {p: k for k, p in enumerate(pid_list)}
    return np.array([where[r[2]] for r in plb_rows], np.int64)


__all__ = ["SCHEMAS", "parse_835_arrow", "parse_835_batch", "to_arrow"]
