"""ISA/GS/ST envelope bookkeeping shared by the 835 and 837 parsers.

Structural problems that make the content doubtful (a transaction, group or interchange that is
never closed, an envelope segment out of place) raise InputFileError. Count and control-number
mismatches do not stop the load: they become warning findings, one code per check.
"""

from __future__ import annotations

from transforms.errors import InputFileError
from transforms.ingest.records import Finding

# finding codes
SE01_COUNT = "se01_count"
ST02_SE02 = "st02_se02"
GS_GE_CONTROL = "gs_ge_control"
GE01_COUNT = "ge01_count"
ISA_IEA_CONTROL = "isa_iea_control"
IEA01_COUNT = "iea01_count"
ENVELOPE_CODES = (
    SE01_COUNT,
    ST02_SE02,
    GS_GE_CONTROL,
    GE01_COUNT,
    ISA_IEA_CONTROL,
    IEA01_COUNT,
)


def _el(e: list[str], k: int) -> str:
    return e[k].strip() if k < len(e) else ""


def _same_control(a: str, b: str) -> bool:
    if a == b:
        return True
    return (
        a.isdigit() and b.isdigit() and a.isascii() and b.isascii() and int(a) == int(b)
    )


class Envelope:
    """Tracks open ISA/GS/ST, counts what each holds and checks the trailers."""

    def __init__(self, file_name: str, findings: list[Finding]):
        self.file_name = file_name
        self.findings = findings
        self.isa_seg: int | None = None
        self.isa13 = ""
        self.gs_created: str | None = None
        self.n_gs = 0
        self.gs_seg: int | None = None
        self.gs06 = ""
        self.gs08: str | None = None
        self.n_st = 0
        self.st_seg: int | None = None
        self.st02 = ""
        # file totals
        self.n_isa = 0
        self.n_gs_total = 0
        self.st_types: dict[str, int] = {}  # ST01 -> count (a dict: cheaper to make than a Counter)
        self.gs08_versions: list[str] = []

    # -- helpers ---------------------------------------------------------------------------
    def _error(
        self, seg_no: int, seg_id: str, expected: str, code: str
    ) -> InputFileError:
        return InputFileError(
            self.file_name, f"segment {seg_no} ({seg_id})", expected, code=code
        )

    def _warn(self, code: str, location: str, message: str) -> None:
        self.findings.append(Finding("warning", code, location, message))

    def _not_open(self, seg_no: int, seg_id: str) -> None:
        if self.st_seg is not None:
            raise self._error(
                self.st_seg,
                "ST",
                f"an SE closing this transaction before segment {seg_no} ({seg_id})",
                "truncated",
            )

    # -- segments --------------------------------------------------------------------------
    def isa(self, seg_no: int, e: list[str]) -> None:
        self._not_open(seg_no, "ISA")
        if self.gs_seg is not None:
            raise self._error(
                self.gs_seg,
                "GS",
                f"a GE closing this group before segment {seg_no} (ISA)",
                "truncated",
            )
        if self.isa_seg is not None:
            raise self._error(
                self.isa_seg,
                "ISA",
                f"an IEA closing this interchange before segment {seg_no} (ISA)",
                "truncated",
            )
        if len(e) != 17:
            raise self._error(
                seg_no, "ISA", "an ISA segment with 16 elements", "malformed_isa"
            )
        self.isa_seg = seg_no
        self.isa13 = _el(e, 13)
        self.n_gs = 0
        self.n_isa += 1

    def iea(self, seg_no: int, e: list[str]) -> None:
        self._not_open(seg_no, "IEA")
        if self.gs_seg is not None:
            raise self._error(
                self.gs_seg,
                "GS",
                f"a GE closing this group before segment {seg_no} (IEA)",
                "truncated",
            )
        if self.isa_seg is None:
            raise self._error(
                seg_no, "IEA", "an IEA only after an ISA", "malformed_envelope"
            )
        where = f"ISA {self.isa13}"
        iea01, iea02 = _el(e, 1), _el(e, 2)
        if not _same_control(iea02, self.isa13):
            self._warn(ISA_IEA_CONTROL, where, f"IEA02={iea02} != ISA13={self.isa13}")
        if not _same_control(iea01, str(self.n_gs)):
            self._warn(
                IEA01_COUNT, where, f"IEA01={iea01} but {self.n_gs} GS in interchange"
            )
        self.isa_seg = None

    def gs(self, seg_no: int, e: list[str]) -> None:
        self._not_open(seg_no, "GS")
        if self.gs_seg is not None:
            raise self._error(
                self.gs_seg,
                "GS",
                f"a GE closing this group before segment {seg_no} (GS)",
                "truncated",
            )
        self.gs_seg = seg_no
        self.gs06 = _el(e, 6)
        # when the sender made the group (GS04 CCYYMMDD, GS05 HHMM): which of two copies of a
        # payment is the later one (docs/x12.md "Resent and corrected ERAs")
        gs04, gs05 = _el(e, 4), _el(e, 5)
        self.gs_created = (gs04[:8] + (gs05 + "0000")[:4]) if len(gs04) >= 8 and gs04[:8].isdigit() else None
        self.gs08 = _el(e, 8) or None
        if self.gs08 and self.gs08 not in self.gs08_versions:
            self.gs08_versions.append(self.gs08)
        self.n_st = 0
        self.n_gs += 1
        self.n_gs_total += 1

    def ge(self, seg_no: int, e: list[str]) -> None:
        self._not_open(seg_no, "GE")
        if self.gs_seg is None:
            raise self._error(
                seg_no, "GE", "a GE only after a GS", "malformed_envelope"
            )
        where = f"GS {self.gs06}"
        ge01, ge02 = _el(e, 1), _el(e, 2)
        if not _same_control(ge02, self.gs06):
            self._warn(GS_GE_CONTROL, where, f"GE02={ge02} != GS06={self.gs06}")
        if not _same_control(ge01, str(self.n_st)):
            self._warn(GE01_COUNT, where, f"GE01={ge01} but {self.n_st} ST in group")
        self.gs_seg = None

    def st(self, seg_no: int, e: list[str]) -> None:
        self._not_open(seg_no, "ST")
        self.st_seg = seg_no
        self.st02 = _el(e, 2)
        self.n_st += 1
        st01 = _el(e, 1)
        self.st_types[st01] = self.st_types.get(st01, 0) + 1

    def se(self, seg_no: int, e: list[str]) -> None:
        if self.st_seg is None:
            raise self._error(
                seg_no, "SE", "an SE only after an ST", "malformed_envelope"
            )
        where = f"ST {self.st02}"
        n = seg_no - self.st_seg + 1
        se01, se02 = _el(e, 1), _el(e, 2)
        if not _same_control(se01, str(n)):
            self._warn(SE01_COUNT, where, f"SE01={se01} but {n} segments in {where}")
        if se02 != self.st02:
            self._warn(ST02_SE02, where, f"SE02={se02} != ST02={self.st02}")
        self.st_seg = None

    def version(self, st03: str) -> str | None:
        """GS08, else ST03."""
        return self.gs08 or (st03.strip() or None)

    def finish(self) -> None:
        """At the end of the file: everything opened must be closed."""
        if self.st_seg is not None:
            raise self._error(
                self.st_seg,
                "ST",
                "an SE closing this transaction before the end of the file",
                "truncated",
            )
        if self.gs_seg is not None:
            raise self._error(
                self.gs_seg,
                "GS",
                "a GE closing this group before the end of the file",
                "truncated",
            )
        if self.isa_seg is not None:
            raise self._error(
                self.isa_seg,
                "ISA",
                "an IEA closing this interchange before the end of the file",
                "truncated",
            )
