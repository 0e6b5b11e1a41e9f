"""Segment ids and how a place in an X12 file is named in errors and findings.

Only known segment ids are ever printed: after a damaged delimiter, the "id" of a segment may be
a piece of data (a name), and messages never carry data.
"""

from __future__ import annotations

from typing import Any

from transforms.x12.values import BadValue

KNOWN_SEGMENT_IDS = frozenset((
    "ISA", "IEA", "GS", "GE", "ST", "SE", "TA1", "BPR", "TRN", "CUR", "REF", "DTM", "N1", "N2",
    "N3", "N4", "PER", "RDM", "LX", "TS3", "TS2", "CLP", "CAS", "NM1", "MIA", "MOA", "AMT",
    "QTY", "SVC", "LQ", "PLB", "BHT", "HL", "PRV", "SBR", "PAT", "DMG", "CLM", "DTP", "PWK",
    "CN1", "K3", "NTE", "CR1", "CR2", "CR3", "CRC", "HI", "HCP", "CL1", "OI", "SV1", "SV2",
    "SV3", "SV5", "SVD", "LIN", "CTP", "MEA", "PS1", "TOO", "FRM",
))  # fmt: skip


class Misplaced(Exception):
    """A segment where it cannot be (the parsers turn it into InputFileError)."""

    def __init__(self, expected: str, code: str = "malformed_segment"):
        super().__init__(expected)
        self.expected = expected
        self.code = code


def input_error(exc: Exception, file_name: str, seg_no: int, seg_id: str):
    """The InputFileError a parser raises for an internal error at a segment: a BadValue (names
    its element), a Misplaced segment, or an IndexError (a required element is missing)."""
    from transforms.errors import InputFileError

    if isinstance(exc, IndexError):
        return InputFileError(file_name, segment_location(seg_no, seg_id),
                              "more elements (a required element is missing)", code="missing_element")
    return InputFileError(file_name, segment_location(seg_no, seg_id, getattr(exc, "element", None)),
                          exc.expected, code=exc.code)


def valid_segment_id(t: str) -> bool:
    """2-3 capital letters or digits, starting with a letter."""
    return (
        2 <= len(t) <= 3
        and t.isascii()
        and t.isalnum()
        and t[0].isalpha()
        and t == t.upper()
    )


def segment_location(seg_no: int, seg_id: str, element: str | None = None) -> str:
    """``segment 57 (CLP), element CLP04``; the id only when it is a known one."""
    where = (
        f"segment {seg_no} ({seg_id})"
        if seg_id in KNOWN_SEGMENT_IDS
        else f"segment {seg_no}"
    )
    return f"{where}, element {element}" if element else where


def rows_to_columns(
    names: tuple[str, ...], rows: list[list[Any]]
) -> dict[str, list[Any]]:
    """Row lists -> one list per column (``transforms.ingest.records.Columns``)."""
    if not rows:
        return {n: [] for n in names}
    return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))


class SegmentDispatch:
    """The segment loop the 835 and 837 row parsers share: each segment is split on its block's
    element separator and handed to the handler its id maps to (``_handlers``; ``_other`` for the
    rest); a BadValue, Misplaced or IndexError becomes an InputFileError naming the segment.
    A subclass sets file_name, lenient and env, and defines _handlers, _other and finish."""

    file_name: str
    lenient: bool

    def _handlers(self) -> dict:
        raise NotImplementedError

    def _other(self, no: int, e: list[str]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def run(self, tokens) -> None:
        segs = tokens.segments
        handler = self._handlers().get
        other = self._other
        lenient = self.lenient
        i = 0
        t = ""
        try:
            for blk in tokens.blocks:
                el = blk.delimiters.element
                self.comp = blk.delimiters.component
                for i in range(blk.start, blk.end):
                    e = segs[i].split(el)
                    t = e[0]
                    if lenient:  # where a bad value is, for the lenient parse's list
                        self.no, self.t = i + 1, t
                    handler(t, other)(i + 1, e)
            self.finish()
        except (BadValue, Misplaced, IndexError) as exc:
            raise input_error(exc, self.file_name, i + 1, t) from None
