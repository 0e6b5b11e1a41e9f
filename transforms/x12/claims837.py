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
    KNOWN_SEGMENT_IDS,
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
    p = _Parser837(file_name, file_id, hash_member_id, lenient)
    p.run(tokens)
    return p.result(len(tokens.segments)), p.bad_values, p.env


class _Parser837(SegmentDispatch):
    """One pass over the segments, a method per segment id (``_handlers``), rows built as lists.

    The state is that of the loops being read: the transaction (ST), the billing provider (HL
    20), the subscriber (HL 22) and the open claim (CLM) with its open service line (LX, SV1/SV2).
    """

    def __init__(self, file_name: str, file_id: str, hasher: HashMemberId, lenient: bool):
        self.file_name = file_name
        self.file_id = file_id
        self.hasher = hasher
        self.lenient = lenient
        self.findings: list[Finding] = []
        self.env = Envelope(file_name, self.findings)
        self.bad_values: list[str] = []
        self.clm_rows: list[list[Any]] = []
        self.line_rows: list[list[Any]] = []
        self.kinds: list[str] = []  # the kind (837P / 837I) of each claim
        self.comp = ""  # the component separator of the interchange being read
        self.no = 0  # in lenient mode, the segment being read (number, id): where a bad value is
        self.t = ""
        # transaction (ST)
        self.in_st = False
        self.ttype: str | None = None
        self.submission: dt.date | None = None
        self.hl03 = ""  # HL03 of the last HL: 20 billing provider, 22 subscriber
        # billing provider (HL 20) and subscriber (HL 22): copied to each claim
        self.billing_npi: str | None = None
        self.payer_seq: str | None = None
        self.payer_id: str | None = None
        self.payer_name: str | None = None
        self.member_hash: str | None = None
        # the open claim (CLM) and its service lines
        self.claim: list[Any] | None = None
        self.clm_type: str | None = None
        self.clm_dates = False  # the claim has its own service dates (DTP 434/472)
        self.in_2320 = False  # in an other subscriber / other payer loop (2320 and on)
        self.dx: list[str] = []
        self.line: list[Any] | None = None
        self.lines_total = ZERO
        self.n_clm_lines = 0
        self.lx01: int | None = None  # LX01 of the line to come
        self.line_dates: list[dt.date] = []

    def _handlers(self) -> dict[str, Callable[[int, list[str]], None]]:
        """Segment id -> method; ids not here go to ``_other``."""
        env = self.env
        h = {
            "LX": self.lx, "SV1": self.sv, "SV2": self.sv, "DTP": self.dtp, "REF": self.ref,
            "NM1": self.nm1, "HI": self.hi, "CLM": self.clm, "SBR": self.sbr, "HL": self.hl,
            "BHT": self.bht, "ST": self.st, "SE": self.se, "SV3": self.sv3,
            "ISA": env.isa, "GS": env.gs, "GE": env.ge, "IEA": env.iea,
        }  # fmt: skip
        for t in KNOWN_SEGMENT_IDS - h.keys():  # N3, N4, DMG, PRV...: valid ids, not read
            h[t] = self._skip
        return h

    def finish(self) -> None:
        self.env.finish()

    def result(self, n_segments: int) -> ParsedFile:
        """The tables, and the file's kind: that of its first claim, else of its transaction type."""
        findings = self.findings
        if not self.env.st_types:
            findings.append(
                Finding(
                    "warning", NO_TRANSACTIONS, None, "the file holds no 837 transaction"
                )
            )
        kind = (
            self.kinds[0]
            if self.kinds
            else _TYPES.get(self.ttype or "professional", _TYPES["professional"])[1]
        )
        tables = {
            "claims": rows_to_columns(CLAIM_COLUMNS, self.clm_rows),
            "claim_lines": rows_to_columns(LINE_COLUMNS, self.line_rows),
        }
        return ParsedFile(kind, tables, n_segments, findings)

    # -- values: in lenient mode a bad one is recorded and counts as 0 / missing ------------
    def _soft(self, exc: BadValue) -> None:
        if not self.lenient:
            raise exc
        self.bad_values.append(segment_location(self.no, self.t, exc.element))

    def money(self, s: str, element: str) -> Decimal:
        try:
            return parse_money(s.strip(" "), element)
        except BadValue as exc:
            self._soft(exc)
            return ZERO

    def qty(self, s: str, element: str) -> Decimal | None:
        try:
            return parse_quantity(s.strip(" "), element)
        except BadValue as exc:
            self._soft(exc)
            return None

    def date(self, s: str, element: str) -> dt.date | None:
        try:
            return parse_date(s.strip(" "), element)
        except BadValue as exc:
            self._soft(exc)
            return None

    def period(self, fmt: str, s: str, element: str) -> tuple[dt.date | None, dt.date | None]:
        if fmt == "RD8":
            a, _, b = s.partition("-")
            return self.date(a, element), self.date(b, element)
        d = self.date(s, element)
        return d, d

    # -- claims ---------------------------------------------------------------------------
    def _close_claim(self) -> None:
        """Finish the open claim's row (at CLM, HL and SE)."""
        claim = self.claim
        if claim is None:
            return
        ctype = self.clm_type or self.ttype
        if ctype is None:
            ctype = "professional"
            self.findings.append(
                Finding(
                    "warning",
                    CLAIM_TYPE_UNKNOWN,
                    f"segment {claim[1]} (CLM)",
                    "claim type not given by GS08/ST03, CLM05-2 or the service lines: professional assumed",
                )
            )
        claim[2], kind = _TYPES[ctype]
        claim[4] = ctype
        self.kinds.append(kind)
        if not self.clm_dates and self.line_dates:
            claim[8], claim[9] = min(self.line_dates), max(self.line_dates)
        if self.dx:
            claim[19] = ";".join(self.dx)
        if self.n_clm_lines and self.lines_total != claim[10]:
            self.findings.append(
                Finding(
                    "warning",
                    CLM_LINES_UNBALANCED,
                    f"segment {claim[1]} (CLM)",
                    f"CLM02 {money_str(claim[10])} but the service lines sum to {money_str(self.lines_total)}",
                )
            )
        self.claim = None
        self.line = None

    def clm(self, no: int, e: list[str]) -> None:
        if not self.in_st:
            raise Misplaced("a CLM only inside a transaction (after ST)")
        self._close_claim()
        if len(e) < 6:
            e.extend(_PAD[: 6 - len(e)])
        if not e[1]:
            raise BadValue("CLM01", "a claim id (patient control number)")
        c = e[5].split(self.comp)
        freq = c[2] if len(c) > 2 and c[2] else None
        if freq is None:
            freq = "1"
            self.findings.append(
                Finding(
                    "warning",
                    CLM_FREQUENCY_MISSING,
                    f"segment {no} (CLM)",
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
        if self.ttype is not None:
            clm_type = self.ttype
        self.clm_type = clm_type
        self.claim = [
            self.file_id, no, None, e[1], None, freq, None, self.submission, None, None,
            self.money(e[2], "CLM02"), self.payer_id, self.payer_name, self.payer_seq,
            self.billing_npi, None, c[0] or None, None, None, None, self.member_hash, None,
        ]  # fmt: skip
        self.clm_rows.append(self.claim)
        self.clm_dates = False
        self.in_2320 = False
        self.dx = []
        self.line = None
        self.lx01 = None
        self.lines_total = ZERO
        self.n_clm_lines = 0
        self.line_dates = []

    def sbr(self, no: int, e: list[str]) -> None:
        if self.claim is not None:
            self.in_2320 = True  # other subscriber / other payer loops: not this claim's
        elif self.hl03 == "22":
            self.payer_seq = e[1] if len(e) > 1 and e[1] else None

    def dtp(self, no: int, e: list[str]) -> None:
        claim = self.claim
        if claim is None:
            return
        if len(e) < 4:
            e.extend(_PAD[: 4 - len(e)])
        q = e[1]
        line = self.line
        if line is not None:
            if q == "472":
                d, d_to = self.period(e[2], e[3], "DTP03")
                line[10] = d  # a line period (RD8) keeps its first day
                self.line_dates.extend(x for x in (d, d_to) if x is not None)
        elif not self.in_2320 and (q == "434" or q == "472"):
            claim[8], claim[9] = self.period(e[2], e[3], "DTP03")
            self.clm_dates = True

    def ref(self, no: int, e: list[str]) -> None:
        claim = self.claim
        if claim is None or len(e) < 3:
            return
        q = e[1]
        line = self.line
        if line is not None:
            if q == "6R":
                line[12] = e[2] or None
        elif not self.in_2320:
            if q == "G1":
                claim[17] = e[2] or None
            elif q == "F8":
                # the payer's claim number (CLP07) of the claim replaced or voided;
                # not a claim id of ours (staging resolves it: stg_claim_submissions)
                claim[21] = e[2] or None

    def hi(self, no: int, e: list[str]) -> None:
        claim = self.claim
        if claim is None or self.in_2320:
            return
        comp = self.comp
        dx = self.dx
        for v in e[1:]:
            c = v.split(comp)
            if len(c) > 1 and c[1]:
                if c[0] in _PRINCIPAL:
                    if claim[18] is None:
                        claim[18] = c[1]
                        dx.insert(0, c[1])
                    else:
                        dx.append(c[1])
                elif c[0] in _OTHER_DX:
                    dx.append(c[1])

    def nm1(self, no: int, e: list[str]) -> None:
        if len(e) < 10:
            e.extend(_PAD[: 10 - len(e)])
        q = e[1]
        claim = self.claim
        if claim is None:
            hl = self.hl03
            if q == "85" and hl == "20":
                self.billing_npi = e[9] if e[8] == "XX" and e[9] else self.billing_npi
            elif q == "IL" and hl == "22":
                self.member_hash = self.hasher(e[9] or None)
            elif q == "PR" and hl == "22":
                self.payer_name = e[3] or None
                self.payer_id = e[9] or None
        elif (
            q == "82"
            and e[8] == "XX"
            and e[9]
            and not self.in_2320
            and (self.line is None or claim[15] is None)
        ):
            # 2310B rendering provider; else the first 2420A line rendering provider
            claim[15] = e[9]

    # -- service lines --------------------------------------------------------------------
    def lx(self, no: int, e: list[str]) -> None:
        if self.claim is None:
            raise Misplaced("an LX only inside a claim (after CLM)")
        self.lx01 = parse_int(e[1] if len(e) > 1 else "", "LX01")
        self.in_2320 = False
        self.line = None

    def sv(self, no: int, e: list[str]) -> None:
        """SV1 (professional) or SV2 (institutional): a service line of the open claim."""
        t = e[0]
        claim = self.claim
        if claim is None:
            raise Misplaced(f"an {t} only inside a claim (after CLM)")
        self.in_2320 = False
        if len(e) < 8:
            e.extend(_PAD[: 8 - len(e)])
        self.n_clm_lines += 1
        if t == "SV1":
            c = e[1].split(self.comp)
            charge = self.money(e[2], "SV102")
            units = self.qty(e[4], "SV104") if e[4] else None
            rev = None
            pos = e[5] or None
            line_type = "professional"
        else:
            c = e[2].split(self.comp)
            charge = self.money(e[3], "SV203")
            units = self.qty(e[5], "SV205") if e[5] else None
            rev = e[1] or None
            pos = None
            line_type = "institutional"
        if self.clm_type is None and self.ttype is None:
            self.clm_type = line_type
        self.lines_total += charge
        lx01 = self.lx01
        self.line = line = [
            self.file_id, no, claim[3], claim[1], lx01 if lx01 is not None else self.n_clm_lines,
            c[1] or None if len(c) > 1 else None,
            ":".join(filter(None, c[2:6])) or None if len(c) > 2 else None,
            rev, units, charge, None, pos, None,
        ]  # fmt: skip
        self.lx01 = None
        self.line_rows.append(line)

    def sv3(self, no: int, e: list[str]) -> None:
        raise Misplaced(
            "an 837 professional or institutional claim (dental is not supported)",
            "unsupported_transaction",
        )

    # -- transaction and hierarchy --------------------------------------------------------
    def st(self, no: int, e: list[str]) -> None:
        env = self.env
        env.st(no, e)
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
        self.ttype = transaction_type(env.version(e[3] if len(e) > 3 else ""))
        if self.ttype == "dental":
            raise BadValue(
                "ST03",
                "an 837 professional or institutional claim (dental is not supported)",
                "unsupported_transaction",
            )
        self.in_st = True
        self.submission = None
        self.hl03 = ""
        self.billing_npi = self.payer_seq = self.payer_id = self.payer_name = self.member_hash = None

    def bht(self, no: int, e: list[str]) -> None:
        if not self.in_st:
            raise Misplaced("a BHT only inside a transaction (after ST)")
        self.submission = self.date(e[4], "BHT04") if len(e) > 4 and e[4] else None

    def hl(self, no: int, e: list[str]) -> None:
        if not self.in_st:
            raise Misplaced("an HL only inside a transaction (after ST)")
        self._close_claim()
        self.hl03 = hl = e[3] if len(e) > 3 else ""
        if hl == "20":
            self.billing_npi = None
        elif hl == "22":
            self.payer_seq = self.payer_id = self.payer_name = self.member_hash = None

    def se(self, no: int, e: list[str]) -> None:
        if self.in_st:
            self._close_claim()
        self.env.se(no, e)
        self.in_st = False

    def _skip(self, no: int, e: list[str]) -> None:
        """A known segment id this parser does not read (``_other`` without the id check)."""
        if not self.in_st:
            raise Misplaced("a segment only inside a transaction (after ST)")

    def _other(self, no: int, e: list[str]) -> None:
        """A segment not read: an error when its id is not one, or outside a transaction."""
        if not valid_segment_id(e[0]):
            raise InputFileError(
                self.file_name,
                f"segment {no}",
                "a segment id of 2-3 capital letters or digits",
                code="malformed_segment",
            )
        if not self.in_st:
            raise Misplaced("a segment only inside a transaction (after ST)")
