"""837 professional / institutional claims (005010X222A1/A2, X223A2/A3, 004010X098A1/X096A1)
-> raw.claims and raw.claim_lines.

Only what the claim tables need is read (see ``docs/x12.md``). Subscriber and patient names,
addresses, birth dates (NM1*IL/QC NM103-105, N3, N4, DMG) are never read; the subscriber member
id (2010BA NM1*IL NM109) only reaches the tables through ``hash_member_id``.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from transforms.errors import InputFileError
from transforms.ingest.records import Finding, ParsedFile
from transforms.x12.envelope import Envelope
from transforms.x12.segments import (
    Misplaced,
    input_error,
    rows_to_columns,
    segment_location,
    valid_segment_id,
)
from transforms.x12.tokenizer import Tokens, tokenize
from transforms.x12.values import (
    ZERO,
    BadValue,
    money_str,
    parse_date,
    parse_int,
    parse_money,
    parse_quantity,
)

KIND_837P = "x12_837p"
KIND_837I = "x12_837i"
HashMemberId = Callable[[str | None], str | None]

CLAIM_COLUMNS = (
    "file_id", "source_row", "source_format", "claim_id", "claim_type", "frequency_code",
    "original_claim_id", "submission_date", "service_from", "service_to", "total_charge",
    "payer_id", "payer_name", "payer_sequence", "billing_npi", "rendering_npi",
    "place_of_service", "prior_auth_number", "principal_diagnosis", "diagnosis_codes",
    "member_id_hash", "original_payer_claim_number",
)  # fmt: skip
LINE_COLUMNS = (
    "file_id", "source_row", "claim_id", "claim_source_row", "line_number", "procedure_code",
    "modifiers", "revenue_code", "units", "line_charge", "service_date", "place_of_service",
    "line_control_number",
)  # fmt: skip

# finding codes
CLM_LINES_UNBALANCED = "clm_lines_unbalanced"
CLM_FREQUENCY_MISSING = "clm_frequency_missing"
CLAIM_TYPE_UNKNOWN = "claim_type_unknown"
NO_TRANSACTIONS = "no_transactions"

_PAD = [""] * 12
_PRINCIPAL = frozenset(("ABK", "BK"))
_OTHER_DX = frozenset(("ABF", "BF"))
_ENVELOPE = frozenset(("ISA", "IEA", "GS", "GE"))
_TYPES = {"professional": ("837P", KIND_837P), "institutional": ("837I", KIND_837I)}


def transaction_type(version: str | None) -> str | None:
    """'professional', 'institutional', 'dental' or None from an implementation guide id."""
    if not version:
        return None
    if "X222" in version or "X098" in version:
        return "professional"
    if "X223" in version or "X096" in version:
        return "institutional"
    if "X224" in version or "X097" in version:
        return "dental"
    return None


def parse_837(
    data: bytes, file_name: str, file_id: str, hash_member_id: HashMemberId
) -> ParsedFile:
    """Parse an 837P or 837I file. Raises InputFileError if it cannot be read."""
    parsed, _, _ = parse_837_tokens(
        tokenize(data, file_name), file_name, file_id, hash_member_id
    )
    return parsed


def parse_837_tokens(
    tokens: Tokens,
    file_name: str,
    file_id: str,
    hash_member_id: HashMemberId,
    lenient: bool = False,
) -> tuple[ParsedFile, list[str], Envelope]:
    """Parse tokenized 837 segments (``lenient``: bad amounts/dates are listed, not raised)."""
    enabled = gc.isenabled()
    gc.disable()  # many small row lists, no cycles: see parse_835_tokens
    try:
        return _parse_837(tokens, file_name, file_id, hash_member_id, lenient)
    finally:
        if enabled:
            gc.enable()


def _parse_837(
    tokens: Tokens,
    file_name: str,
    file_id: str,
    hash_member_id: HashMemberId,
    lenient: bool,
) -> tuple[ParsedFile, list[str], Envelope]:
    segs = tokens.segments
    findings: list[Finding] = []
    env = Envelope(file_name, findings)
    bad_values: list[str] = []
    clm_rows: list[list[Any]] = []
    line_rows: list[list[Any]] = []
    hasher = hash_member_id
    i = 0
    t = ""
    kinds: list[str] = []

    def soft(exc: BadValue) -> None:
        if not lenient:
            raise exc
        bad_values.append(segment_location(i + 1, t, exc.element))

    def money(s: str, element: str) -> Decimal:
        try:
            return parse_money(s.strip(" "), element)
        except BadValue as exc:
            soft(exc)
            return ZERO

    def qty(s: str, element: str) -> Decimal | None:
        try:
            return parse_quantity(s.strip(" "), element)
        except BadValue as exc:
            soft(exc)
            return None

    def date(s: str, element: str) -> dt.date | None:
        try:
            return parse_date(s.strip(" "), element)
        except BadValue as exc:
            soft(exc)
            return None

    def period(fmt: str, s: str, element: str) -> tuple[dt.date | None, dt.date | None]:
        if fmt == "RD8":
            a, _, b = s.partition("-")
            return date(a, element), date(b, element)
        d = date(s, element)
        return d, d

    in_st = False
    ttype: str | None = None
    submission: dt.date | None = None
    hl = ""
    billing_npi: str | None = None
    payer_seq = payer_id = payer_name = member_hash = None
    clm: list[Any] | None = None
    clm_type: str | None = None
    clm_dates = False
    in_2320 = False
    dx: list[str] = []
    line: list[Any] | None = None
    lines_total = ZERO
    n_clm_lines = 0
    lx: int | None = None
    line_dates: list[dt.date] = []

    def close_claim() -> None:
        nonlocal clm, line
        if clm is None:
            return
        ctype = clm_type or ttype
        if ctype is None:
            ctype = "professional"
            findings.append(
                Finding(
                    "warning",
                    CLAIM_TYPE_UNKNOWN,
                    f"segment {clm[1]} (CLM)",
                    "claim type not given by GS08/ST03, CLM05-2 or the service lines: professional assumed",
                )
            )
        clm[2], kind = _TYPES[ctype]
        clm[4] = ctype
        kinds.append(kind)
        if not clm_dates and line_dates:
            clm[8], clm[9] = min(line_dates), max(line_dates)
        if dx:
            clm[19] = ";".join(dx)
        if n_clm_lines and lines_total != clm[10]:
            findings.append(
                Finding(
                    "warning",
                    CLM_LINES_UNBALANCED,
                    f"segment {clm[1]} (CLM)",
                    f"CLM02 {money_str(clm[10])} but the service lines sum to {money_str(lines_total)}",
                )
            )
        clm = None
        line = None

    try:
        for blk in tokens.blocks:
            el = blk.delimiters.element
            comp = blk.delimiters.component
            for i in range(blk.start, blk.end):
                e = segs[i].split(el)
                t = e[0]
                if t == "LX":
                    if clm is None:
                        raise Misplaced("an LX only inside a claim (after CLM)")
                    lx = parse_int(e[1] if len(e) > 1 else "", "LX01")
                    in_2320 = False
                    line = None
                elif t == "SV1" or t == "SV2":
                    if clm is None:
                        raise Misplaced(f"an {t} only inside a claim (after CLM)")
                    in_2320 = False
                    if len(e) < 8:
                        e.extend(_PAD[: 8 - len(e)])
                    n_clm_lines += 1
                    if t == "SV1":
                        c = e[1].split(comp)
                        charge = money(e[2], "SV102")
                        units = qty(e[4], "SV104") if e[4] else None
                        rev = None
                        pos = e[5] or None
                        line_type = "professional"
                    else:
                        c = e[2].split(comp)
                        charge = money(e[3], "SV203")
                        units = qty(e[5], "SV205") if e[5] else None
                        rev = e[1] or None
                        pos = None
                        line_type = "institutional"
                    if clm_type is None and ttype is None:
                        clm_type = line_type
                    lines_total += charge
                    line = [
                        file_id, i + 1, clm[3], clm[1], lx if lx is not None else n_clm_lines,
                        c[1] or None if len(c) > 1 else None,
                        ":".join(filter(None, c[2:6])) or None if len(c) > 2 else None,
                        rev, units, charge, None, pos, None,
                    ]  # fmt: skip
                    lx = None
                    line_rows.append(line)
                elif t == "DTP":
                    if clm is None:
                        continue
                    if len(e) < 4:
                        e.extend(_PAD[: 4 - len(e)])
                    q = e[1]
                    if line is not None:
                        if q == "472":
                            d, d_to = period(e[2], e[3], "DTP03")
                            line[10] = d  # a line period (RD8) keeps its first day
                            line_dates.extend(x for x in (d, d_to) if x is not None)
                    elif not in_2320 and (q == "434" or q == "472"):
                        clm[8], clm[9] = period(e[2], e[3], "DTP03")
                        clm_dates = True
                elif t == "REF":
                    if clm is None or len(e) < 3:
                        continue
                    q = e[1]
                    if line is not None:
                        if q == "6R":
                            line[12] = e[2] or None
                    elif not in_2320:
                        if q == "G1":
                            clm[17] = e[2] or None
                        elif q == "F8":
                            # the payer's claim number (CLP07) of the claim replaced or voided;
                            # not a claim id of ours (staging resolves it: stg_claim_submissions)
                            clm[21] = e[2] or None
                elif t == "NM1":
                    if len(e) < 10:
                        e.extend(_PAD[: 10 - len(e)])
                    q = e[1]
                    if clm is None:
                        if q == "85" and hl == "20":
                            billing_npi = e[9] if e[8] == "XX" and e[9] else billing_npi
                        elif q == "IL" and hl == "22":
                            member_hash = hasher(e[9] or None)
                        elif q == "PR" and hl == "22":
                            payer_name = e[3] or None
                            payer_id = e[9] or None
                    elif (
                        q == "82"
                        and e[8] == "XX"
                        and e[9]
                        and not in_2320
                        and (line is None or clm[15] is None)
                    ):
                        # 2310B rendering provider; else the first 2420A line rendering provider
                        clm[15] = e[9]
                elif t == "HI":
                    if clm is None or in_2320:
                        continue
                    for v in e[1:]:
                        c = v.split(comp)
                        if len(c) > 1 and c[1]:
                            if c[0] in _PRINCIPAL:
                                if clm[18] is None:
                                    clm[18] = c[1]
                                    dx.insert(0, c[1])
                                else:
                                    dx.append(c[1])
                            elif c[0] in _OTHER_DX:
                                dx.append(c[1])
                elif t == "CLM":
                    if not in_st:
                        raise Misplaced("a CLM only inside a transaction (after ST)")
                    close_claim()
                    if len(e) < 6:
                        e.extend(_PAD[: 6 - len(e)])
                    if not e[1]:
                        raise BadValue("CLM01", "a claim id (patient control number)")
                    c = e[5].split(comp)
                    freq = c[2] if len(c) > 2 and c[2] else None
                    if freq is None:
                        freq = "1"
                        findings.append(
                            Finding(
                                "warning",
                                CLM_FREQUENCY_MISSING,
                                f"segment {i + 1} (CLM)",
                                "CLM05-3 claim frequency code missing: 1 (original) assumed",
                            )
                        )
                    q = c[1] if len(c) > 1 else ""
                    clm_type = (
                        "professional"
                        if q == "B"
                        else "institutional"
                        if q == "A"
                        else None
                    )
                    if ttype is not None:
                        clm_type = ttype
                    clm = [
                        file_id, i + 1, None, e[1], None, freq, None, submission, None, None,
                        money(e[2], "CLM02"), payer_id, payer_name, payer_seq, billing_npi, None,
                        c[0] or None, None, None, None, member_hash, None,
                    ]  # fmt: skip
                    clm_rows.append(clm)
                    clm_dates = False
                    in_2320 = False
                    dx = []
                    line = None
                    lx = None
                    lines_total = ZERO
                    n_clm_lines = 0
                    line_dates = []
                elif t == "SBR":
                    if clm is not None:
                        in_2320 = True  # other subscriber / other payer loops: not this claim's
                    elif hl == "22":
                        payer_seq = e[1] if len(e) > 1 and e[1] else None
                elif t == "HL":
                    if not in_st:
                        raise Misplaced("an HL only inside a transaction (after ST)")
                    close_claim()
                    hl = e[3] if len(e) > 3 else ""
                    if hl == "20":
                        billing_npi = None
                    elif hl == "22":
                        payer_seq = payer_id = payer_name = member_hash = None
                elif t == "BHT":
                    if not in_st:
                        raise Misplaced("a BHT only inside a transaction (after ST)")
                    submission = date(e[4], "BHT04") if len(e) > 4 and e[4] else None
                elif t == "ST":
                    env.st(i + 1, e)
                    st01 = e[1].strip() if len(e) > 1 else ""
                    if st01 != "837":
                        shown = (
                            f" (found {st01})"
                            if st01.isdigit() and len(st01) <= 3
                            else ""
                        )
                        raise BadValue(
                            "ST01",
                            f"an 837 transaction set{shown}",
                            "unsupported_transaction",
                        )
                    ttype = transaction_type(env.version(e[3] if len(e) > 3 else ""))
                    if ttype == "dental":
                        raise BadValue(
                            "ST03",
                            "an 837 professional or institutional claim (dental is not supported)",
                            "unsupported_transaction",
                        )
                    in_st = True
                    submission = None
                    hl = ""
                    billing_npi = payer_seq = payer_id = payer_name = member_hash = None
                elif t == "SE":
                    if in_st:
                        close_claim()
                    env.se(i + 1, e)
                    in_st = False
                elif t in _ENVELOPE:
                    if t == "ISA":
                        env.isa(i + 1, e)
                    elif t == "GS":
                        env.gs(i + 1, e)
                    elif t == "GE":
                        env.ge(i + 1, e)
                    else:
                        env.iea(i + 1, e)
                elif t == "SV3":
                    raise Misplaced(
                        "an 837 professional or institutional claim (dental is not supported)",
                        "unsupported_transaction",
                    )
                elif not valid_segment_id(t):
                    raise InputFileError(
                        file_name,
                        f"segment {i + 1}",
                        "a segment id of 2-3 capital letters or digits",
                        code="malformed_segment",
                    )
                elif not in_st:
                    raise Misplaced("a segment only inside a transaction (after ST)")
        env.finish()
    except (BadValue, Misplaced, IndexError) as exc:
        raise input_error(exc, file_name, i + 1, t) from None

    if not env.st_types:
        findings.append(
            Finding(
                "warning", NO_TRANSACTIONS, None, "the file holds no 837 transaction"
            )
        )
    kind = (
        kinds[0]
        if kinds
        else _TYPES.get(ttype or "professional", _TYPES["professional"])[1]
    )
    tables = {
        "claims": rows_to_columns(CLAIM_COLUMNS, clm_rows),
        "claim_lines": rows_to_columns(LINE_COLUMNS, line_rows),
    }
    return ParsedFile(kind, tables, len(segs), findings), bad_values, env
