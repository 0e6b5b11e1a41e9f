"""835 remittance (005010X221A1, 004010X091A1) -> raw.remit_* and raw.provider_adjustments.

One pass over the segments, one branch per segment id, rows built as lists and turned into
columns at the end. What is read from each segment is listed in ``docs/x12.md``; patient and
subscriber names (NM1*QC, NM1*IL, NM1*74, NM1*GB ...) are never read, member ids (NM109 of
NM1*IL, else NM1*QC) only reach the tables through ``hash_member_id``.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from transforms.errors import InputFileError
from transforms.ingest.records import Finding, ParsedFile
from transforms.x12.envelope import Envelope
from transforms.x12.segments import (
    Misplaced,
    SegmentDispatch,
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
_MOA_REMARKS = (3, 4, 5, 6, 7)
_MIA_REMARKS = (5, 20, 21, 22, 23)
_CLAIM_DATES = {"232": 13, "233": 14, "050": 15}  # DTM qualifier -> column of the claim row
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
        p = _Remit835(file_name, file_id, hash_member_id, lenient)
        p.run(tokens)
        tables = {
            "remit_payments": rows_to_columns(PAYMENT_COLUMNS, p.pay_rows),
            "remit_claims": rows_to_columns(CLAIM_COLUMNS, p.clm_rows),
            "remit_lines": rows_to_columns(LINE_COLUMNS, p.line_rows),
            "remit_adjustments": rows_to_columns(ADJUSTMENT_COLUMNS, p.adj_rows),
            "provider_adjustments": rows_to_columns(PLB_COLUMNS, p.plb_rows),
        }
        return ParsedFile(KIND_835, tables, len(tokens.segments), p.findings), p.bad_values, p.env
    finally:
        if enabled:
            gc.enable()


class RemitHeader:
    """The segments of an 835 outside its claims: the envelope (``Envelope``), the payment row
    of each transaction (ST, BPR, TRN, N1, REF*2U, DTM*405, SE, with the BPR balance check) and
    the provider adjustments (PLB). Each method takes a segment (its number and elements).

    Shared by both parsers: the row parser (``_Remit835``) calls these methods as it meets
    the segments; the fast path (``fast835``) builds the claims as columns and calls them for
    these segments only, with ``st_paid`` (the sum of the transaction's CLP04) set before SE.
    Amounts and dates go through :meth:`money` and :meth:`date` (the row parser's cache them
    and, in lenient mode, let bad values pass)."""

    def __init__(self, file_name: str, file_id: str, findings: list[Finding] | None = None):
        self.file_id = file_id
        self.findings: list[Finding] = [] if findings is None else findings
        self.env = Envelope(file_name, self.findings)
        self.comp = ":"  # component separator (of the block being read)
        self.pay_rows: list[list[Any]] = []
        self.plb_rows: list[list[Any]] = []
        self.pay: list[Any] | None = None  # the payment row of the open transaction
        self.pid = ""
        self.v4010 = False  # version 004010: dates may be YYMMDD
        self.st_paid = ZERO
        self.st_plb = ZERO
        self.st_bpr: Decimal | None = None
        self.st_production: str | None = None  # DTM*405 of the header: the date when BPR16 is empty
        self.entity = ""  # N101 of the last N1 (PR: the payer)
        self.pr_id: str | None = None
        self.ref_2u: str | None = None
        self.trn03: str | None = None

    def money(self, s: str, element: str) -> Decimal:
        return parse_money(s.strip(" "), element)

    def date(self, s: str, element: str) -> dt.date | None:
        return parse_date(s.strip(" "), element, yymmdd=self.v4010)

    def _open(self, seg: str) -> list[Any]:
        """The open transaction's payment row; ``seg`` ("a DTM") is misplaced without one."""
        if self.pay is None:
            raise Misplaced(f"{seg} only inside a transaction (after ST)")
        return self.pay

    def isa(self, no: int, e: list[str]) -> None:
        self.env.isa(no, e)

    def gs(self, no: int, e: list[str]) -> None:
        self.env.gs(no, e)

    def ge(self, no: int, e: list[str]) -> None:
        self.env.ge(no, e)

    def iea(self, no: int, e: list[str]) -> None:
        self.env.iea(no, e)

    def st(self, no: int, e: list[str]) -> None:
        self.env.st(no, e)
        st01 = e[1].strip() if len(e) > 1 else ""
        if st01 != "835":
            shown = f" (found {st01})" if st01.isdigit() and len(st01) <= 3 else ""
            raise BadValue("ST01", f"an 835 transaction set{shown}", "unsupported_transaction")
        self.pid = f"{self.file_id}-{no}"
        ver = self.env.version(e[3] if len(e) > 3 else "")
        self.v4010 = bool(ver and ver.startswith("00401"))
        pay = [self.file_id, no, self.pid, "835", ver, e[2] if len(e) > 2 and e[2] else None]
        pay.extend([None] * 10)
        pay.append(self.env.gs_created)
        self.pay_rows.append(pay)
        self.pay = pay
        self.st_paid = self.st_plb = ZERO
        self.st_bpr = None
        self.st_production = None
        self.entity = ""
        self.pr_id = self.ref_2u = self.trn03 = None

    def bpr(self, no: int, e: list[str]) -> None:
        pay = self._open("a BPR")
        if len(e) < 17:
            e.extend(_PAD[: 17 - len(e)])
        self.st_bpr = self.money(e[2], "BPR02")
        pay[6] = e[1] or None
        pay[7] = self.st_bpr
        pay[8] = e[3] or None
        pay[9] = e[4] or None
        pay[10] = self.date(e[16], "BPR16") if e[16] else None

    def trn(self, no: int, e: list[str]) -> None:
        pay = self._open("a TRN")
        if pay[11] is None:
            pay[11] = e[2] if len(e) > 2 and e[2] else None
            self.trn03 = e[3] if len(e) > 3 and e[3] else None

    def n1(self, no: int, e: list[str]) -> None:
        pay = self._open("an N1")
        if len(e) < 5:
            e.extend(_PAD[: 5 - len(e)])
        self.entity = e[1]
        if self.entity == "PR":
            pay[13] = e[2] or None
            self.pr_id = e[4] or None
        elif self.entity == "PE":
            pay[14] = e[2] or None
            if e[3] == "XX":
                pay[15] = e[4] or None

    def ref(self, no: int, e: list[str]) -> None:
        self._open("a REF")
        if self.entity == "PR" and len(e) > 2 and e[1] == "2U":
            self.ref_2u = e[2] or None

    def dtm(self, no: int, e: list[str]) -> None:
        q = e[1]
        self._open("a DTM")
        if q == "405" and len(e) > 2 and e[2]:
            self.st_production = e[2]  # the production date, read only if BPR16 is empty

    def plb(self, no: int, e: list[str]) -> None:
        self._open("a PLB")
        if self.st_bpr is None:
            raise Misplaced(bpr_first("PLB"))
        n = len(e)
        if n > 15:
            raise BadValue("PLB15", "at most 6 adjustment reason/amount pairs")
        prov = e[1] if n > 1 else ""
        fp = self.date(e[2], "PLB02") if n > 2 and e[2] else None
        k = 3
        idx = 1
        while k < n:
            rc = e[k]
            a = e[k + 1] if k + 1 < n else ""
            if rc or a:
                names = _PLB_ELEMENTS[idx - 1]
                c = rc.split(self.comp)
                if not c[0]:
                    raise BadValue(names[0] + "-1", "a provider adjustment reason code")
                amt = self.money(a, names[1])
                self.plb_rows.append([
                    self.file_id, no, self.pid, prov or None, fp, c[0], c[1] or None if len(c) > 1 else None, amt, idx,
                ])  # fmt: skip
                self.st_plb += amt
            k += 2
            idx += 1

    def se(self, no: int, e: list[str]) -> None:
        pay = self.pay
        if pay is None:
            self.env.se(no, e)  # raises: an SE without ST
            raise Misplaced("an SE only inside a transaction (after ST)")
        if self.st_bpr is None:
            raise Misplaced("a BPR segment in this transaction", "missing_segment")
        pay[12] = self.pr_id or self.ref_2u or self.trn03
        if pay[10] is None:
            if self.st_production is None:
                raise BadValue(
                    "BPR16", "a payment date in BPR16 (or a production date, DTM*405, in the header)",
                    "missing_payment_date",
                )  # fmt: skip
            pay[10] = self.date(self.st_production, "DTM02")
            self.findings.append(Finding(
                "warning", PAYMENT_DATE_FROM_DTM405, f"ST {pay[5] or ''}",
                "BPR16 (the payment date) is empty: the payment is dated by the production date "
                "(DTM*405), as payers who leave BPR16 empty intend",
            ))  # fmt: skip
        paid, plb, bpr = self.st_paid, self.st_plb, self.st_bpr
        if paid - plb != bpr:
            self.findings.append(Finding(
                "warning", BPR_UNBALANCED, f"ST {pay[5] or ''}",
                f"sum CLP04 {money_str(paid)} - PLB {money_str(plb)} = {money_str(paid - plb)} "
                f"but BPR02 is {money_str(bpr)}",
            ))  # fmt: skip
        self.env.se(no, e)
        self.pay = None

    def finish(self) -> None:
        """At the end of the file: every envelope closed; a finding when it held no 835."""
        self.env.finish()
        if not self.pay_rows:
            self.findings.append(Finding("warning", NO_TRANSACTIONS, None, "the file holds no 835 transaction"))


class _Remit835(RemitHeader, SegmentDispatch):
    """The row parser: one pass over the segments, a method per segment id (``_handlers``),
    rows built as lists."""

    def __init__(self, file_name: str, file_id: str, hasher: HashMemberId, lenient: bool):
        super().__init__(file_name, file_id)
        self.file_name = file_name
        self.hasher = hasher
        self.lenient = lenient
        self.bad_values: list[str] = []
        self.clm_rows: list[list[Any]] = []
        self.line_rows: list[list[Any]] = []
        self.adj_rows: list[list[Any]] = []
        self.money_cache: dict[str, Decimal] = {}
        self.qty_cache: dict[str, Decimal] = {}
        self.date_cache: dict[str, dt.date] = {}
        self.clm: list[Any] | None = None  # the open claim's row
        self.cid = ""
        self.clm_il = False
        self.line: list[Any] | None = None  # the open service line's row
        self.lid = ""
        self.n_lines = 0
        self.clm_charge = self.clm_paid = self.clm_cas = ZERO
        self.line_charge = self.line_paid = self.line_cas = ZERO
        self.no = 0  # in lenient mode, the segment being read (number, id): where a bad value is
        self.t = ""

    def _handlers(self) -> dict[str, Callable[[int, list[str]], None]]:
        h = {
            "CAS": self.cas, "DTM": self.dtm, "SVC": self.svc, "AMT": self.amt, "REF": self.ref,
            "NM1": self.nm1, "LQ": self.lq, "CLP": self.clp, "LX": self.lx, "PLB": self.plb, "SE": self.se,
            "MOA": self.moa, "MIA": self.mia, "BPR": self.bpr, "TRN": self.trn, "N1": self.n1, "ST": self.st,
            "ISA": self.isa, "GS": self.gs, "GE": self.ge, "IEA": self.iea,
        }  # fmt: skip
        for t in _IGNORED:
            h[t] = self._ignored
        return h


    # -- values: cached; in lenient mode a bad one is recorded and counts as 0 / missing ----
    def _soft(self, exc: BadValue) -> None:
        if not self.lenient:
            raise exc
        self.bad_values.append(segment_location(self.no, self.t, exc.element))

    def money(self, s: str, element: str) -> Decimal:
        d = self.money_cache.get(s)
        if d is None:
            try:
                d = parse_money(s.strip(" "), element)
            except BadValue as exc:
                self._soft(exc)
                return ZERO
            self.money_cache[s] = d
        return d

    def qty(self, s: str, element: str) -> Decimal | None:
        d = self.qty_cache.get(s)
        if d is None:
            try:
                d = parse_quantity(s.strip(" "), element)
            except BadValue as exc:
                self._soft(exc)
                return None
            self.qty_cache[s] = d
        return d

    def date(self, s: str, element: str) -> dt.date | None:
        d = self.date_cache.get(s)
        if d is None:
            try:
                d = parse_date(s.strip(" "), element, yymmdd=self.v4010)
            except BadValue as exc:
                self._soft(exc)
                return None
            if len(s) == 8:
                self.date_cache[s] = d
        return d

    # -- claims and lines ----------------------------------------------------------------
    def _claim(self, seg: str) -> list[Any]:
        """The open claim's row; ``seg`` ("a CAS") is misplaced without one."""
        if self.clm is None:
            raise Misplaced(f"{seg} only inside a claim (after CLP)")
        return self.clm

    def _close_line(self) -> None:
        line = self.line
        if line is not None:
            if self.line_charge - self.line_cas != self.line_paid:
                self.findings.append(svc_finding(line[1], self.line_charge, self.line_cas, self.line_paid))
            self.clm_cas += self.line_cas

    def _close_claim(self) -> None:
        """Close the open line and claim (at CLP, LX, PLB and SE)."""
        self._close_line()
        self.line = None
        clm = self.clm
        if clm is not None:
            if self.clm_charge - self.clm_cas != self.clm_paid:
                self.findings.append(clp_finding(clm[1], self.clm_charge, self.clm_cas, self.clm_paid))
            self.clm = None

    def _boundary(self, t: str, no: int, e: list[str]) -> None:
        """CLP, LX, PLB and SE end the open claim; each only inside a transaction, the first three
        after its BPR."""
        if self.pay is None:
            if t == "SE":
                self.env.se(no, e)  # raises: SE without ST
            raise Misplaced(f"a {t} only inside a transaction (after ST)")
        if self.st_bpr is None and t != "SE":
            raise Misplaced(bpr_first(t))
        self._close_claim()

    def cas(self, no: int, e: list[str]) -> None:
        self._claim("a CAS")
        n = len(e)
        g = e[1] if n > 1 else ""
        if not g:
            raise BadValue("CAS01", "a claim adjustment group code")
        if n > 20:
            raise BadValue("CAS20", "at most 6 reason/amount/quantity triples")
        level, lref = ("claim", None) if self.line is None else ("line", self.lid)
        k = 2
        idx = 1
        while k < n:
            r = e[k]
            a = e[k + 1] if k + 1 < n else ""
            qv = e[k + 2] if k + 2 < n else ""
            if r or a or qv:
                names = _CAS_ELEMENTS[idx - 1]
                if not r:
                    raise BadValue(names[0], "a claim adjustment reason code")
                amt = self.money(a, names[1])
                self.adj_rows.append([
                    self.file_id, no, self.cid, lref, level, g, r, amt, self.qty(qv, names[2]) if qv else None, idx,
                ])  # fmt: skip
                if lref is None:
                    self.clm_cas += amt
                else:
                    self.line_cas += amt
            k += 3
            idx += 1

    def dtm(self, no: int, e: list[str]) -> None:
        q = e[1]
        line = self.line
        if line is not None:
            if q == "472" or q == "150" and line[12] is None:
                line[12] = self.date(e[2], "DTM02")
        elif self.clm is not None:
            col = _CLAIM_DATES.get(q)
            if col is not None:
                self.clm[col] = self.date(e[2], "DTM02")
        else:
            super().dtm(no, e)

    def svc(self, no: int, e: list[str]) -> None:
        self._claim("an SVC")
        self._close_line()
        if len(e) < 6:
            e.extend(_PAD[: 6 - len(e)])
        c = e[1].split(self.comp)
        if not c[0]:
            raise BadValue("SVC01-1", "a product/service id qualifier")
        self.line_charge = self.money(e[2], "SVC02")
        self.line_paid = self.money(e[3], "SVC03")
        self.line_cas = ZERO
        self.n_lines += 1
        self.lid = f"{self.cid}-{self.n_lines}"
        self.line = [
            self.file_id, no, self.cid, self.lid, self.n_lines, c[0],
            c[1] or None if len(c) > 1 else None,
            ":".join(filter(None, c[2:6])) or None if len(c) > 2 else None,
            self.line_charge, self.line_paid, e[4] or None,
            self.qty(e[5], "SVC05") if e[5] else None,
            None, None, None, None,
        ]  # fmt: skip
        self.line_rows.append(self.line)

    def amt(self, no: int, e: list[str]) -> None:
        if self.line is not None:
            if e[1] == "B6":
                self.line[14] = self.money(e[2], "AMT02")
        elif self.clm is None:
            self._open("an AMT")

    def ref(self, no: int, e: list[str]) -> None:
        if self.line is not None:
            if e[1] == "6R":
                self.line[13] = e[2] or None
        elif self.clm is None:
            super().ref(no, e)

    def nm1(self, no: int, e: list[str]) -> None:
        clm = self.clm
        if clm is not None and self.line is None:
            q = e[1] if len(e) > 1 else ""
            if q == "QC":
                if not self.clm_il:
                    clm[17] = self.hasher(e[9] if len(e) > 9 else None)
            elif q == "IL":
                clm[17] = self.hasher(e[9] if len(e) > 9 else None)
                self.clm_il = True
        elif self.pay is None:
            self._open("an NM1")

    def lq(self, no: int, e: list[str]) -> None:
        line = self.line
        if line is not None:
            if e[1] == "HE" and len(e) > 2 and e[2]:
                line[15] = e[2] if line[15] is None else f"{line[15]};{e[2]}"
        elif self.pay is None:
            self._open("an LQ")

    def clp(self, no: int, e: list[str]) -> None:
        self._boundary("CLP", no, e)
        if len(e) < 10:
            e.extend(_PAD[: 10 - len(e)])
        if not e[1]:
            raise BadValue("CLP01", "a claim id (patient control number)")
        if not e[2]:
            raise BadValue("CLP02", "a claim status code")
        self.clm_charge = self.money(e[3], "CLP03")
        self.clm_paid = self.money(e[4], "CLP04")
        self.clm_cas = ZERO
        self.cid = f"{self.file_id}-{no}"
        self.clm = [
            self.file_id, no, self.pid, self.cid, e[1], e[2], self.clm_charge, self.clm_paid,
            self.money(e[5], "CLP05") if e[5] else None,
            e[6] or None, e[7] or None, e[8] or None, e[9] or None,
            None, None, None, None, None,
        ]  # fmt: skip
        self.clm_rows.append(self.clm)
        self.clm_il = False
        self.n_lines = 0
        self.st_paid += self.clm_paid

    def lx(self, no: int, e: list[str]) -> None:
        self._boundary("LX", no, e)

    def plb(self, no: int, e: list[str]) -> None:
        self._boundary("PLB", no, e)
        super().plb(no, e)

    def se(self, no: int, e: list[str]) -> None:
        self._boundary("SE", no, e)
        super().se(no, e)

    def _remarks(self, t: str, e: list[str], ks: Sequence[int]) -> None:
        clm = self._claim(t)
        for k in ks:
            if k < len(e) and e[k]:
                clm[16] = e[k] if clm[16] is None else f"{clm[16]};{e[k]}"

    def moa(self, no: int, e: list[str]) -> None:
        self._remarks("a MOA", e, _MOA_REMARKS)

    def mia(self, no: int, e: list[str]) -> None:
        self._remarks("a MIA", e, _MIA_REMARKS)

    # -- header ---------------------------------------------------------------------------
    def trn(self, no: int, e: list[str]) -> None:
        if self.clm is None:
            super().trn(no, e)

    def n1(self, no: int, e: list[str]) -> None:
        if self.clm is None:
            super().n1(no, e)

    def st(self, no: int, e: list[str]) -> None:
        super().st(no, e)
        self.clm = self.line = None

    def _ignored(self, no: int, e: list[str]) -> None:
        self._open(f"a {e[0]}")

    def _other(self, no: int, e: list[str]) -> None:
        if not valid_segment_id(e[0]):
            raise InputFileError(
                self.env.file_name, f"segment {no}", "a segment id of 2-3 capital letters or digits",
                code="malformed_segment",
            )  # fmt: skip
        if self.pay is None:
            raise Misplaced("a segment only inside a transaction (after ST)")


def bpr_first(seg_id: str) -> str:
    """What is expected when a claim (CLP), its LX header or a PLB comes before the BPR."""
    return (
        f"a BPR segment before this {seg_id}: in an 835 transaction the BPR (payment amount) comes right after ST, "
        "before the claims and provider adjustments"
    )


def svc_finding(seg_no: int, charge: Decimal, cas: Decimal, paid: Decimal) -> Finding:
    """A service line (its SVC at ``seg_no``) whose charge less its CAS is not its payment."""
    return Finding(
        "warning",
        SVC_UNBALANCED,
        f"segment {seg_no} (SVC)",
        f"SVC02 {money_str(charge)} - line CAS {money_str(cas)} = {money_str(charge - cas)} "
        f"but SVC03 is {money_str(paid)}",
    )


def clp_finding(seg_no: int, charge: Decimal, cas: Decimal, paid: Decimal) -> Finding:
    """A claim (its CLP at ``seg_no``) whose charge less all its CAS is not its payment."""
    return Finding(
        "warning",
        CLP_UNBALANCED,
        f"segment {seg_no} (CLP)",
        f"CLP03 {money_str(charge)} - all CAS of the claim {money_str(cas)} = {money_str(charge - cas)} "
        f"but CLP04 is {money_str(paid)}",
    )
