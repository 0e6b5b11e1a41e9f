"""835 remittance (005010X221A1, 004010X091A1) -> raw.remit_* and raw.provider_adjustments.

One pass over the segments, one branch per segment id, rows built as lists and turned into
columns at the end. What is read from each segment is listed in ``docs/x12.md``; patient and
subscriber names (NM1*QC, NM1*IL, NM1*74, NM1*GB ...) are never read, member ids (NM109 of
NM1*IL, else NM1*QC) only reach the tables through ``hash_member_id``.
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
    parse_money,
    parse_quantity,
)

KIND_835 = "x12_835"
HashMemberId = Callable[[str | None], str | None]

PAYMENT_COLUMNS = (
    "file_id", "source_row", "payment_id", "source_format", "x12_version", "st_control_number",
    "handling_code", "payment_amount", "credit_debit", "payment_method", "payment_date",
    "trace_number", "payer_id", "payer_name", "payee_name", "payee_npi", "interchange_created",
)  # fmt: skip
CLAIM_COLUMNS = (
    "file_id", "source_row", "payment_id", "remit_claim_id", "claim_id", "status_code",
    "charge_amount", "paid_amount", "patient_responsibility", "claim_filing_indicator",
    "payer_claim_number", "facility_type_code", "claim_frequency_code", "statement_from",
    "statement_to", "claim_received_date", "remark_codes", "member_id_hash",
)  # fmt: skip
LINE_COLUMNS = (
    "file_id", "source_row", "remit_claim_id", "remit_line_id", "line_number",
    "procedure_qualifier", "procedure_code", "modifiers", "charge_amount", "paid_amount",
    "revenue_code", "units", "service_date", "line_control_number", "allowed_amount",
    "remark_codes",
)  # fmt: skip
ADJUSTMENT_COLUMNS = (
    "file_id", "source_row", "remit_claim_id", "remit_line_id", "adjustment_level", "group_code",
    "carc", "amount", "quantity", "triple_index",
)  # fmt: skip
PLB_COLUMNS = (
    "file_id", "source_row", "payment_id", "provider_id", "fiscal_period_date", "reason_code",
    "reference_id", "amount", "pair_index",
)  # fmt: skip

# finding codes (balancing)
SVC_UNBALANCED = "svc_unbalanced"
CLP_UNBALANCED = "clp_unbalanced"
BPR_UNBALANCED = "bpr_unbalanced"
PAYMENT_DATE_FROM_DTM405 = "payment_date_from_dtm405"
NO_TRANSACTIONS = "no_transactions"

_PAD = [""] * 24
_CAS_ELEMENTS = [
    (f"CAS{k:02d}", f"CAS{k + 1:02d}", f"CAS{k + 2:02d}") for k in range(2, 20, 3)
]
_PLB_ELEMENTS = [(f"PLB{k:02d}", f"PLB{k + 1:02d}") for k in range(3, 15, 2)]
_MIA_REMARKS = (5, 20, 21, 22, 23)
_ENVELOPE = frozenset(("ISA", "IEA", "GS", "GE"))
# segments of an 835 that are read for nothing (or only mark a loop boundary)
_IGNORED = frozenset(("N3", "N4", "PER", "RDM", "QTY", "TS3", "TS2", "CUR"))


def parse_835(
    data: bytes, file_name: str, file_id: str, hash_member_id: HashMemberId
) -> ParsedFile:
    """Parse an 835 file. Raises InputFileError if it cannot be read."""
    parsed, _, _ = parse_835_tokens(
        tokenize(data, file_name), file_name, file_id, hash_member_id
    )
    return parsed


def parse_835_tokens(
    tokens: Tokens,
    file_name: str,
    file_id: str,
    hash_member_id: HashMemberId,
    lenient: bool = False,
) -> tuple[ParsedFile, list[str], Envelope]:
    """Parse tokenized 835 segments.

    With ``lenient`` (used by ``inspect``), an amount or date that is not of its type counts as
    0 / missing and its location is returned in the second value instead of raising.
    """
    # Millions of small row lists: the cyclic garbage collector would rescan them again and
    # again (quadratic time); none of them forms a cycle.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_835(tokens, file_name, file_id, hash_member_id, lenient)
    finally:
        if enabled:
            gc.enable()


def _parse_835(
    tokens: Tokens,
    file_name: str,
    file_id: str,
    hash_member_id: HashMemberId,
    lenient: bool = False,
) -> tuple[ParsedFile, list[str], Envelope]:
    segs = tokens.segments
    findings: list[Finding] = []
    env = Envelope(file_name, findings)
    bad_values: list[str] = []
    pay_rows: list[list[Any]] = []
    clm_rows: list[list[Any]] = []
    line_rows: list[list[Any]] = []
    adj_rows: list[list[Any]] = []
    plb_rows: list[list[Any]] = []
    hasher = hash_member_id

    money_cache: dict[str, Decimal] = {}
    mget = money_cache.get
    date_cache: dict[str, dt.date] = {}
    dget = date_cache.get
    i = 0
    t = ""
    v4010 = False

    def soft(exc: BadValue) -> None:
        if not lenient:
            raise exc
        bad_values.append(segment_location(i + 1, t, exc.element))

    def money(s: str, element: str) -> Decimal:
        d = mget(s)
        if d is None:
            try:
                d = parse_money(s.strip(" "), element)
            except BadValue as exc:
                soft(exc)
                return ZERO
            money_cache[s] = d
        return d

    qty_cache: dict[str, Decimal] = {}
    qget = qty_cache.get

    def qty(s: str, element: str) -> Decimal | None:
        d = qget(s)
        if d is None:
            try:
                d = parse_quantity(s.strip(" "), element)
            except BadValue as exc:
                soft(exc)
                return None
            qty_cache[s] = d
        return d

    def date(s: str, element: str) -> dt.date | None:
        d = dget(s)
        if d is None:
            try:
                d = parse_date(s.strip(" "), element, yymmdd=v4010)
            except BadValue as exc:
                soft(exc)
                return None
            if len(s) == 8:
                date_cache[s] = d
        return d

    pay: list[Any] | None = None
    pid = ""
    clm: list[Any] | None = None
    cid = ""
    clm_il = False
    line: list[Any] | None = None
    lid = ""
    n_lines = 0
    clm_charge = clm_paid = clm_cas = ZERO
    line_charge = line_paid = line_cas = ZERO
    st_paid = st_plb = ZERO
    st_bpr: Decimal | None = None
    n1 = ""
    pr_id: str | None = None
    ref_2u: str | None = None
    trn03: str | None = None
    st_production: str | None = None

    try:
        for blk in tokens.blocks:
            el = blk.delimiters.element
            comp = blk.delimiters.component
            for i in range(blk.start, blk.end):
                e = segs[i].split(el)
                t = e[0]
                if t == "CAS":
                    if clm is None:
                        raise Misplaced("a CAS only inside a claim (after CLP)")
                    n = len(e)
                    g = e[1] if n > 1 else ""
                    if not g:
                        raise BadValue("CAS01", "a claim adjustment group code")
                    if line is None:
                        level = "claim"
                        lref = None
                    else:
                        level = "line"
                        lref = lid
                    if n <= 5:  # one triple: the usual case
                        if n < 5:
                            e.extend(_PAD[: 5 - n])
                        r = e[2]
                        a = e[3]
                        qv = e[4]
                        if r or a or qv:
                            if not r:
                                raise BadValue(
                                    "CAS02", "a claim adjustment reason code"
                                )
                            amt = mget(a)
                            if amt is None:
                                amt = money(a, "CAS03")
                            adj_rows.append([
                                file_id, i + 1, cid, lref, level, g, r, amt,
                                (qget(qv) or qty(qv, "CAS04")) if qv else None, 1,
                            ])  # fmt: skip
                            if lref is None:
                                clm_cas += amt
                            else:
                                line_cas += amt
                        continue
                    if n > 20:
                        raise BadValue(
                            "CAS20", "at most 6 reason/amount/quantity triples"
                        )
                    k = 2
                    idx = 1
                    while k < n:
                        r = e[k]
                        a = e[k + 1] if k + 1 < n else ""
                        qv = e[k + 2] if k + 2 < n else ""
                        if r or a or qv:
                            names = _CAS_ELEMENTS[idx - 1]
                            if not r:
                                raise BadValue(
                                    names[0], "a claim adjustment reason code"
                                )
                            amt = money(a, names[1])
                            adj_rows.append([
                                file_id, i + 1, cid, lref, level, g, r, amt,
                                qty(qv, names[2]) if qv else None, idx,
                            ])  # fmt: skip
                            if lref is None:
                                clm_cas += amt
                            else:
                                line_cas += amt
                        k += 3
                        idx += 1
                elif t == "DTM":
                    q = e[1]
                    if line is not None:
                        if q == "472" or q == "150" and line[12] is None:
                            v = e[2]
                            d = dget(v)
                            line[12] = d if d is not None else date(v, "DTM02")
                    elif clm is not None:
                        if q == "232":
                            clm[13] = date(e[2], "DTM02")
                        elif q == "233":
                            clm[14] = date(e[2], "DTM02")
                        elif q == "050":
                            clm[15] = date(e[2], "DTM02")
                    elif pay is None:
                        raise Misplaced("a DTM only inside a transaction (after ST)")
                    elif q == "405" and len(e) > 2 and e[2]:
                        st_production = e[2]  # the header's production date, read only if BPR16 is empty
                elif t == "SVC":
                    if clm is None:
                        raise Misplaced("an SVC only inside a claim (after CLP)")
                    if line is not None:
                        if line_charge - line_cas != line_paid:
                            findings.append(
                                _svc_finding(line[1], line_charge, line_cas, line_paid)
                            )
                        clm_cas += line_cas
                    if len(e) < 6:
                        e.extend(_PAD[: 6 - len(e)])
                    c = e[1].split(comp)
                    if not c[0]:
                        raise BadValue("SVC01-1", "a product/service id qualifier")
                    v = e[2]
                    line_charge = mget(v)
                    if line_charge is None:
                        line_charge = money(v, "SVC02")
                    v = e[3]
                    line_paid = mget(v)
                    if line_paid is None:
                        line_paid = money(v, "SVC03")
                    line_cas = ZERO
                    n_lines += 1
                    lid = f"{cid}-{n_lines}"
                    line = [
                        file_id, i + 1, cid, lid, n_lines, c[0],
                        c[1] or None if len(c) > 1 else None,
                        ":".join(filter(None, c[2:6])) or None if len(c) > 2 else None,
                        line_charge, line_paid, e[4] or None,
                        (qget(e[5]) or qty(e[5], "SVC05")) if e[5] else None,
                        None, None, None, None,
                    ]  # fmt: skip
                    line_rows.append(line)
                elif t == "AMT":
                    if line is not None:
                        if e[1] == "B6":
                            v = e[2]
                            d = mget(v)
                            line[14] = d if d is not None else money(v, "AMT02")
                    elif clm is None and pay is None:
                        raise Misplaced("an AMT only inside a transaction (after ST)")
                elif t == "REF":
                    if line is not None:
                        if e[1] == "6R":
                            line[13] = e[2] or None
                    elif clm is None:
                        if pay is None:
                            raise Misplaced(
                                "a REF only inside a transaction (after ST)"
                            )
                        if n1 == "PR" and len(e) > 2 and e[1] == "2U":
                            ref_2u = e[2] or None
                elif t == "NM1":
                    if clm is not None and line is None:
                        q = e[1] if len(e) > 1 else ""
                        if q == "QC":
                            if not clm_il:
                                clm[17] = hasher(e[9] if len(e) > 9 else None)
                        elif q == "IL":
                            clm[17] = hasher(e[9] if len(e) > 9 else None)
                            clm_il = True
                    elif pay is None:
                        raise Misplaced("an NM1 only inside a transaction (after ST)")
                elif t == "LQ":
                    if line is not None:
                        if e[1] == "HE" and len(e) > 2 and e[2]:
                            line[15] = (
                                e[2] if line[15] is None else f"{line[15]};{e[2]}"
                            )
                    elif pay is None:
                        raise Misplaced("an LQ only inside a transaction (after ST)")
                elif t == "CLP" or t == "LX" or t == "PLB" or t == "SE":
                    if pay is None:
                        if t == "SE":
                            env.se(i + 1, e)  # raises: SE without ST
                        raise Misplaced(f"a {t} only inside a transaction (after ST)")
                    if st_bpr is None and t != "SE":
                        raise Misplaced(bpr_first(t))
                    # close the open line and claim
                    if line is not None:
                        if line_charge - line_cas != line_paid:
                            findings.append(
                                _svc_finding(line[1], line_charge, line_cas, line_paid)
                            )
                        clm_cas += line_cas
                        line = None
                    if clm is not None:
                        if clm_charge - clm_cas != clm_paid:
                            findings.append(
                                _clp_finding(clm[1], clm_charge, clm_cas, clm_paid)
                            )
                        clm = None
                    if t == "CLP":
                        if len(e) < 10:
                            e.extend(_PAD[: 10 - len(e)])
                        if not e[1]:
                            raise BadValue(
                                "CLP01", "a claim id (patient control number)"
                            )
                        if not e[2]:
                            raise BadValue("CLP02", "a claim status code")
                        clm_charge = money(e[3], "CLP03")
                        clm_paid = money(e[4], "CLP04")
                        clm_cas = ZERO
                        cid = f"{file_id}-{i + 1}"
                        clm = [
                            file_id, i + 1, pid, cid, e[1], e[2], clm_charge, clm_paid,
                            money(e[5], "CLP05") if e[5] else None,
                            e[6] or None, e[7] or None, e[8] or None, e[9] or None,
                            None, None, None, None, None,
                        ]  # fmt: skip
                        clm_rows.append(clm)
                        clm_il = False
                        n_lines = 0
                        st_paid += clm_paid
                    elif t == "PLB":
                        n = len(e)
                        if n > 15:
                            raise BadValue(
                                "PLB15", "at most 6 adjustment reason/amount pairs"
                            )
                        prov = e[1] if n > 1 else ""
                        fp = date(e[2], "PLB02") if n > 2 and e[2] else None
                        k = 3
                        idx = 1
                        while k < n:
                            rc = e[k]
                            a = e[k + 1] if k + 1 < n else ""
                            if rc or a:
                                names = _PLB_ELEMENTS[idx - 1]
                                c = rc.split(comp)
                                if not c[0]:
                                    raise BadValue(
                                        names[0] + "-1",
                                        "a provider adjustment reason code",
                                    )
                                amt = money(a, names[1])
                                plb_rows.append([
                                    file_id, i + 1, pid, prov or None, fp, c[0],
                                    c[1] or None if len(c) > 1 else None, amt, idx,
                                ])  # fmt: skip
                                st_plb += amt
                            k += 2
                            idx += 1
                    elif t == "SE":
                        if st_bpr is None:
                            raise Misplaced(
                                "a BPR segment in this transaction", "missing_segment"
                            )
                        pay[12] = pr_id or ref_2u or trn03
                        if pay[10] is None:
                            if st_production is None:
                                raise BadValue(
                                    "BPR16", "a payment date in BPR16 (or a production date, DTM*405, in the header)",
                                    "missing_payment_date")
                            pay[10] = date(st_production, "DTM02")
                            findings.append(Finding(
                                "warning", PAYMENT_DATE_FROM_DTM405, f"ST {pay[5] or ''}",
                                "BPR16 (the payment date) is empty: the payment is dated by the production date "
                                "(DTM*405), as payers who leave BPR16 empty intend"))
                        if st_paid - st_plb != st_bpr:
                            findings.append(
                                Finding(
                                    "warning",
                                    BPR_UNBALANCED,
                                    f"ST {pay[5] or ''}",
                                    f"sum CLP04 {money_str(st_paid)} - PLB {money_str(st_plb)} = "
                                    f"{money_str(st_paid - st_plb)} but BPR02 is {money_str(st_bpr)}",
                                )
                            )
                        env.se(i + 1, e)
                        pay = None
                elif t == "MOA" or t == "MIA":
                    if clm is None:
                        raise Misplaced(f"a {t} only inside a claim (after CLP)")
                    ks = range(3, 8) if t == "MOA" else _MIA_REMARKS
                    for k in ks:
                        if k < len(e) and e[k]:
                            clm[16] = e[k] if clm[16] is None else f"{clm[16]};{e[k]}"
                elif t == "BPR":
                    if pay is None:
                        raise Misplaced("a BPR only inside a transaction (after ST)")
                    if len(e) < 17:
                        e.extend(_PAD[: 17 - len(e)])
                    st_bpr = money(e[2], "BPR02")
                    pay[6] = e[1] or None
                    pay[7] = st_bpr
                    pay[8] = e[3] or None
                    pay[9] = e[4] or None
                    pay[10] = date(e[16], "BPR16") if e[16] else None
                elif t == "TRN":
                    if pay is None:
                        raise Misplaced("a TRN only inside a transaction (after ST)")
                    if clm is None and pay[11] is None:
                        pay[11] = e[2] if len(e) > 2 and e[2] else None
                        trn03 = e[3] if len(e) > 3 and e[3] else None
                elif t == "N1":
                    if pay is None:
                        raise Misplaced("an N1 only inside a transaction (after ST)")
                    if clm is None:
                        if len(e) < 5:
                            e.extend(_PAD[: 5 - len(e)])
                        n1 = e[1]
                        if n1 == "PR":
                            pay[13] = e[2] or None
                            pr_id = e[4] or None
                        elif n1 == "PE":
                            pay[14] = e[2] or None
                            if e[3] == "XX":
                                pay[15] = e[4] or None
                elif t == "ST":
                    env.st(i + 1, e)
                    st01 = e[1].strip() if len(e) > 1 else ""
                    if st01 != "835":
                        shown = (
                            f" (found {st01})"
                            if st01.isdigit() and len(st01) <= 3
                            else ""
                        )
                        raise BadValue(
                            "ST01",
                            f"an 835 transaction set{shown}",
                            "unsupported_transaction",
                        )
                    pid = f"{file_id}-{i + 1}"
                    ver = env.version(e[3] if len(e) > 3 else "")
                    v4010 = bool(ver and ver.startswith("00401"))
                    pay = [
                        file_id,
                        i + 1,
                        pid,
                        "835",
                        ver,
                        e[2] if len(e) > 2 and e[2] else None,
                    ]
                    pay.extend([None] * 10)
                    pay.append(env.gs_created)
                    pay_rows.append(pay)
                    clm = line = None
                    st_paid = st_plb = ZERO
                    st_bpr = None
                    st_production = None
                    n1 = ""
                    pr_id = ref_2u = trn03 = None
                elif t in _IGNORED:
                    if pay is None:
                        raise Misplaced(f"a {t} only inside a transaction (after ST)")
                elif t in _ENVELOPE:
                    if t == "ISA":
                        env.isa(i + 1, e)
                    elif t == "GS":
                        env.gs(i + 1, e)
                    elif t == "GE":
                        env.ge(i + 1, e)
                    else:
                        env.iea(i + 1, e)
                elif not valid_segment_id(t):
                    raise InputFileError(
                        file_name,
                        f"segment {i + 1}",
                        "a segment id of 2-3 capital letters or digits",
                        code="malformed_segment",
                    )
                elif pay is None:
                    raise Misplaced("a segment only inside a transaction (after ST)")
        env.finish()
    except (BadValue, Misplaced, IndexError) as exc:
        raise input_error(exc, file_name, i + 1, t) from None

    if not pay_rows:
        findings.append(
            Finding(
                "warning", NO_TRANSACTIONS, None, "the file holds no 835 transaction"
            )
        )
    tables = {
        "remit_payments": rows_to_columns(PAYMENT_COLUMNS, pay_rows),
        "remit_claims": rows_to_columns(CLAIM_COLUMNS, clm_rows),
        "remit_lines": rows_to_columns(LINE_COLUMNS, line_rows),
        "remit_adjustments": rows_to_columns(ADJUSTMENT_COLUMNS, adj_rows),
        "provider_adjustments": rows_to_columns(PLB_COLUMNS, plb_rows),
    }
    return ParsedFile(KIND_835, tables, len(segs), findings), bad_values, env


def bpr_first(seg_id: str) -> str:
    """What is expected when a claim (CLP), its LX header or a PLB comes before the BPR."""
    return (
        f"a BPR segment before this {seg_id}: in an 835 transaction the BPR (payment amount) comes right after ST, "
        "before the claims and provider adjustments"
    )


def _svc_finding(seg_no: int, charge: Decimal, cas: Decimal, paid: Decimal) -> Finding:
    return Finding(
        "warning",
        SVC_UNBALANCED,
        f"segment {seg_no} (SVC)",
        f"SVC02 {money_str(charge)} - line CAS {money_str(cas)} = {money_str(charge - cas)} "
        f"but SVC03 is {money_str(paid)}",
    )


def _clp_finding(seg_no: int, charge: Decimal, cas: Decimal, paid: Decimal) -> Finding:
    return Finding(
        "warning",
        CLP_UNBALANCED,
        f"segment {seg_no} (CLP)",
        f"CLP03 {money_str(charge)} - all CAS of the claim {money_str(cas)} = {money_str(charge - cas)} "
        f"but CLP04 is {money_str(paid)}",
    )
