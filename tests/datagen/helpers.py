"""Small independent readers of the generated files (no datagen code is used to read them back)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------------------------------------
# A minimal 835 reader (delimiters from the ISA, as DOMAIN.md describes)
# ------------------------------------------------------------------------------------------------


def segments(path: Path) -> Iterator[list[str]]:
    text = path.read_text(encoding="ascii")
    assert text.startswith("ISA")
    elem, comp, term = text[3], text[104], text[105]
    assert comp == ":" and elem == "*"
    for raw in text.split(term):
        raw = raw.strip()
        if raw:
            yield raw.split(elem)


@dataclass
class Svc:
    charge: Decimal
    paid: Decimal
    adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)


@dataclass
class Clp:
    file: str
    payment_date: str
    payer_id: str
    elements: list[str]
    adjustments: list[tuple[str, str, Decimal]] = field(
        default_factory=list
    )  # claim level
    lines: list[Svc] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # MOA

    @property
    def icn(self) -> str:
        return self.elements[7]

    @property
    def claim_id(self) -> str:
        return self.elements[1]

    @property
    def status(self) -> str:
        return self.elements[2]

    @property
    def charge(self) -> Decimal:
        return Decimal(self.elements[3])

    @property
    def paid(self) -> Decimal:
        return Decimal(self.elements[4])

    @property
    def patient_resp(self) -> Decimal:
        return Decimal(self.elements[5] or "0")

    def all_adjustments(self) -> list[tuple[str, str, Decimal]]:
        return self.adjustments + [a for s in self.lines for a in s.adjustments]


@dataclass
class Transaction:
    file: str
    bpr02: Decimal
    payment_date: str
    payer_id: str
    claims: list[Clp] = field(default_factory=list)
    plb: list[tuple[str, str, Decimal]] = field(default_factory=list)
    trace: str = ""  # TRN02
    sent: tuple[str, str] = ("", "")  # its file's GS04 date and ISA13 control number


def cas_pairs(seg: list[str]) -> list[tuple[str, str, Decimal]]:
    out = []
    for k in range(2, len(seg), 3):
        if seg[k]:
            out.append((seg[1], seg[k], Decimal(seg[k + 1])))
    return out


def read_835(path: Path) -> list[Transaction]:
    out: list[Transaction] = []
    st: Transaction | None = None
    clp: Clp | None = None
    svc: Svc | None = None
    control = ""
    sent: tuple[str, str] = ("", "")
    for seg in segments(path):
        sid = seg[0]
        if sid == "ISA":
            control = seg[13]
        elif sid == "GS":
            sent = (seg[4], control)
        elif sid == "ST":
            st = Transaction(path.name, Decimal(0), "", "", sent=sent)
            out.append(st)
            clp = svc = None
        elif sid == "TRN":
            assert st is not None
            st.trace = seg[2]
        elif sid == "BPR":
            assert st is not None
            st.bpr02 = Decimal(seg[2])
            st.payment_date = seg[16]
        elif sid == "N1" and seg[1] == "PR":
            assert st is not None
            st.payer_id = seg[4]
        elif sid == "CLP":
            assert st is not None
            clp = Clp(path.name, st.payment_date, st.payer_id, seg)
            st.claims.append(clp)
            svc = None
        elif sid == "MOA":
            assert clp is not None
            clp.remarks.extend(r for r in seg[3:] if r)
        elif sid == "SVC":
            assert clp is not None
            svc = Svc(Decimal(seg[2]), Decimal(seg[3]))
            clp.lines.append(svc)
        elif sid == "CAS":
            assert clp is not None
            (svc.adjustments if svc is not None else clp.adjustments).extend(
                cas_pairs(seg)
            )
        elif sid == "PLB":
            assert st is not None
            for k in range(3, len(seg), 2):
                reason, _, ref_id = seg[k].partition(":")
                st.plb.append((reason, ref_id, Decimal(seg[k + 1])))
        elif sid == "SE":
            clp = svc = None
    return out


def read_remittances(folder: Path) -> list[Transaction]:
    """Every transaction of every 835 file (resent copies and the copies they supersede)."""
    out: list[Transaction] = []
    for path in sorted(folder.glob("*.835")):
        out.extend(read_835(path))
    return out


def payments_that_count(remittances: list[Transaction]) -> list[Transaction]:
    """A later file (by its GS date, then control number) with the same payer and TRN02 replaces
    the earlier file's payments with that trace; within one file every payment counts."""
    latest: dict[tuple[str, str], tuple[str, str]] = {}
    for st in remittances:
        key = (st.payer_id, st.trace)
        if key not in latest or st.sent > latest[key]:
            latest[key] = st.sent
    return [st for st in remittances if st.sent == latest[(st.payer_id, st.trace)]]


def adjudications(st: Transaction) -> list[list[Clp]]:
    """The transaction's adjudications: the CLP loops with the same CLP01 and no CLP02=22 between
    them are one (a payer's split claim); a reversal is one of its own."""
    units: dict[tuple[str, int], list[Clp]] = {}
    out: list[list[Clp]] = []
    reversals: dict[str, int] = {}
    for c in st.claims:
        if c.status == "22":
            reversals[c.claim_id] = reversals.get(c.claim_id, 0) + 1
            out.append([c])
            continue
        key = (c.claim_id, reversals.get(c.claim_id, 0))
        if key not in units:
            units[key] = []
            out.append(units[key])
        units[key].append(c)
    return out


@dataclass
class Generated:
    """A generated data set, its ground truth and its 835s as read by :func:`read_835`."""

    path: Path
    truth: dict
    remittances: list[Transaction]  # every file's

    @property
    def payments(self) -> list[Transaction]:
        return payments_that_count(self.remittances)
