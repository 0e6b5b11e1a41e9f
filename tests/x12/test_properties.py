"""Property tests: random valid 835s written with random delimiters and layouts parse back to the
values they were built from; random byte mutations never raise anything but InputFileError."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from x12support import FIXTURE_NAMES, fixture_bytes, hasher

from transforms.errors import InputFileError
from transforms.ingest.records import ParsedFile
from transforms.x12 import parse_x12
from transforms.x12.inspect import inspect_file

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
HASH = hasher()

ids = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=12)
names = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=10)
cents = st.integers(min_value=0, max_value=10**8)
signed_cents = st.integers(min_value=-(10**7), max_value=10**7)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2049, 12, 31))
carcs = st.sampled_from(["45", "1", "2", "3", "16", "23", "97", "A2", "B15", "253"])
groups = st.sampled_from(["CO", "PR", "OA", "PI"])


def money(c: int) -> Decimal:
    return Decimal(c) / 100


@dataclass
class Adj:
    group: str
    triples: list[tuple[str, int, int | None]]  # reason, cents, quantity


@dataclass
class Line:
    proc: str
    mods: list[str]
    charge: int
    cas: list[Adj]
    units: int | None
    date: dt.date | None
    lcn: str | None
    allowed: int | None
    remarks: list[str]

    @property
    def paid(self) -> int:
        return self.charge - sum(a for adj in self.cas for _, a, _ in adj.triples)


@dataclass
class Claim:
    id: str
    status: str
    cas: list[Adj]
    lines: list[Line]
    extra_charge: int
    patresp: int | None
    payer_claim: str
    member: str
    last: str
    first: str
    stmt: dt.date | None

    @property
    def charge(self) -> int:
        return sum(ln.charge for ln in self.lines) + self.extra_charge

    @property
    def paid(self) -> int:
        all_cas = [a for adj in self.cas for _, a, _ in adj.triples]
        all_cas += [a for ln in self.lines for adj in ln.cas for _, a, _ in adj.triples]
        return self.charge - sum(all_cas)


@dataclass
class Txn:
    st02: str
    payer: str
    trace: str
    claims: list[Claim]
    plb: list[tuple[str, str | None, int]] = field(default_factory=list)

    @property
    def bpr02(self) -> int:
        return sum(c.paid for c in self.claims) - sum(a for _, _, a in self.plb)


adjs = st.builds(
    Adj,
    groups,
    st.lists(
        st.tuples(
            carcs, cents.map(lambda c: c % 100000), st.none() | st.integers(0, 99)
        ),
        min_size=1,
        max_size=6,
    ),
)
lines = st.builds(
    Line,
    st.text("0123456789", min_size=5, max_size=5),
    st.lists(st.sampled_from(["25", "26", "59", "RT", "LT"]), max_size=4),
    cents,
    st.lists(adjs, max_size=2),
    st.none() | st.integers(1, 999),
    st.none() | dates,
    st.none() | ids,
    st.none() | cents,
    st.lists(st.sampled_from(["N130", "M15", "N14", "MA01"]), max_size=3),
)
claims = st.builds(
    Claim,
    ids,
    st.sampled_from(["1", "2", "3", "4", "19", "22", "23"]),
    st.lists(adjs, max_size=2),
    st.lists(lines, max_size=4),
    cents.map(lambda c: c % 1000000),
    st.none() | cents,
    ids,
    ids.map(lambda v: "MBR" + v),
    names.map(lambda v: "PATL" + v),
    names.map(lambda v: "PATF" + v),
    st.none() | dates,
)
txns = st.builds(
    Txn,
    st.text("0123456789", min_size=4, max_size=9),
    names,
    ids,
    st.lists(claims, max_size=4),
    st.lists(
        st.tuples(
            st.sampled_from(["WO", "L6", "FB", "72", "CS"]),
            st.none() | ids,
            signed_cents,
        ),
        max_size=6,
    ),
)


def fmt(c: int, style: int) -> str:
    """Amount as X12 may send it: 12.50, 12.5, .5, 150000."""
    s = f"{money(c):.2f}"
    if style == 0:
        return s
    s = s.rstrip("0").rstrip(".") if "." in s else s
    if style == 2 and s.lstrip("-").startswith("0."):
        s = s.replace("0.", ".", 1)
    return s or "0"


def render(
    tx: list[Txn], el: str, comp: str, style: int, envelope: bool, rep: str
) -> list[str]:
    segs: list[str] = []
    if envelope:
        segs.append(
            el.join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
                     "240101", "1200", rep, "00501", "000000001", "0", "P", comp])
        )  # fmt: skip
        segs.append(
            el.join(
                ["GS", "HP", "S", "R", "20240101", "1200", "1", "X", "005010X221A1"]
            )
        )
    for t in tx:
        start = len(segs)
        segs.append(el.join(["ST", "835", t.st02]))
        bpr = ["BPR", "I", fmt(t.bpr02, style), "C", "ACH"] + [""] * 11 + ["20240110"]
        segs.append(el.join(bpr))
        segs.append(el.join(["TRN", "1", t.trace, "1234567890"]))
        segs.append(el.join(["N1", "PR", t.payer]))
        segs.append(el.join(["N1", "PE", "PROVIDER", "XX", "1234567893"]))
        for n, c in enumerate(t.claims, 1):
            segs.append(el.join(["LX", str(n)]))
            clp = ["CLP", c.id, c.status, fmt(c.charge, style), fmt(c.paid, style),
                   fmt(c.patresp, style) if c.patresp is not None else "", "12", c.payer_claim]  # fmt: skip
            segs.append(el.join(clp))
            for a in c.cas:
                segs.append(cas(a, el, style))
            segs.append(
                el.join(["NM1", "QC", "1", c.last, c.first, "", "", "", "MI", c.member])
            )
            if c.stmt:
                segs.append(el.join(["DTM", "232", c.stmt.strftime("%Y%m%d")]))
            for ln in c.lines:
                svc = ["SVC", comp.join(["HC", ln.proc, *ln.mods]), fmt(ln.charge, style), fmt(ln.paid, style), "",
                       str(ln.units) if ln.units is not None else ""]  # fmt: skip
                segs.append(el.join(svc))
                if ln.date:
                    segs.append(el.join(["DTM", "472", ln.date.strftime("%Y%m%d")]))
                for a in ln.cas:
                    segs.append(cas(a, el, style))
                if ln.lcn:
                    segs.append(el.join(["REF", "6R", ln.lcn]))
                if ln.allowed is not None:
                    segs.append(el.join(["AMT", "B6", fmt(ln.allowed, style)]))
                for r in ln.remarks:
                    segs.append(el.join(["LQ", "HE", r]))
        if t.plb:
            plb = ["PLB", "1234567893", "20241231"]
            for reason, ref, amount in t.plb:
                plb += [comp.join([reason, ref]) if ref else reason, fmt(amount, style)]
            segs.append(el.join(plb))
        segs.append(el.join(["SE", str(len(segs) - start + 1), t.st02]))
    if envelope:
        segs.append(el.join(["GE", str(len(tx)), "1"]))
        segs.append(el.join(["IEA", "1", "000000001"]))
    return segs


def cas(a: Adj, el: str, style: int) -> str:
    out = ["CAS", a.group]
    for reason, amount, q in a.triples:
        out += [reason, fmt(amount, style), "" if q is None else str(q)]
    while out[-1] == "":
        out.pop()
    return el.join(out)


DELIMS = st.tuples(
    st.sampled_from(["*", "|", "^", "!", "\x1d"]),
    st.sampled_from([":", ">", "\\", "}", "\x1f"]),
    st.sampled_from(["~", "'", "\x1e", "\n"]),
).filter(lambda d: len(set(d)) == 3)


def layout(segs: list[str], term: str, how: str, bom: bool) -> bytes:
    if term == "\n":
        sep = {"one": "\n", "lf": "\n", "crlf": "\r\n", "indent": "\n  "}[how]
        text = sep.join(segs) + sep
    else:
        sep = {
            "one": term,
            "lf": term + "\n",
            "crlf": term + "\r\n",
            "indent": term + "\n\t  ",
        }[how]
        text = sep.join(segs) + term
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


@SETTINGS
@given(
    tx=st.lists(txns, min_size=1, max_size=3),
    delims=DELIMS,
    style=st.integers(0, 2),
    how=st.sampled_from(["one", "lf", "crlf", "indent"]),
    bom=st.booleans(),
    envelope=st.booleans(),
)
def test_random_835_round_trip(tx, delims, style, how, bom, envelope):
    el, comp, term = delims
    if not envelope:
        comp = ":"  # a file without ISA cannot declare its component separator
        if el == ":":
            el = "*"
    rep = "^" if "^" not in (el, comp, term) else "U"
    segs = render(tx, el, comp, style, envelope, rep)
    data = layout(segs, term, how, bom)
    p = parse_x12(data, "gen.835", "f" * 16, HASH)
    assert p.findings == []
    assert p.rows_read == len(segs)
    t = p.tables
    pays = t["remit_payments"]
    assert pays["st_control_number"] == [x.st02 for x in tx]
    assert pays["payment_amount"] == [money(x.bpr02) for x in tx]
    assert pays["trace_number"] == [x.trace for x in tx]
    assert pays["payer_name"] == [x.payer for x in tx]
    assert pays["payment_date"] == [dt.date(2024, 1, 10)] * len(tx)
    all_claims = [c for x in tx for c in x.claims]
    clms = t["remit_claims"]
    assert clms["claim_id"] == [c.id for c in all_claims]
    assert clms["status_code"] == [c.status for c in all_claims]
    assert clms["charge_amount"] == [money(c.charge) for c in all_claims]
    assert clms["paid_amount"] == [money(c.paid) for c in all_claims]
    assert clms["patient_responsibility"] == [
        None if c.patresp is None else money(c.patresp) for c in all_claims
    ]
    assert clms["payer_claim_number"] == [c.payer_claim for c in all_claims]
    assert clms["statement_from"] == [c.stmt for c in all_claims]
    assert clms["member_id_hash"] == [HASH(c.member) for c in all_claims]
    all_lines = [ln for c in all_claims for ln in c.lines]
    lns = t["remit_lines"]
    assert lns["procedure_code"] == [ln.proc for ln in all_lines]
    assert lns["modifiers"] == [":".join(ln.mods) or None for ln in all_lines]
    assert lns["charge_amount"] == [money(ln.charge) for ln in all_lines]
    assert lns["paid_amount"] == [money(ln.paid) for ln in all_lines]
    assert lns["units"] == [
        None if ln.units is None else Decimal(ln.units) for ln in all_lines
    ]
    assert lns["service_date"] == [ln.date for ln in all_lines]
    assert lns["line_control_number"] == [ln.lcn for ln in all_lines]
    assert lns["allowed_amount"] == [
        None if ln.allowed is None else money(ln.allowed) for ln in all_lines
    ]
    assert lns["remark_codes"] == [";".join(ln.remarks) or None for ln in all_lines]
    exp_adj = []
    for c in all_claims:
        for level, owner in [("claim", c.cas)] + [("line", ln.cas) for ln in c.lines]:
            for a in owner:
                for k, (reason, amount, q) in enumerate(a.triples, 1):
                    exp_adj.append(
                        (
                            level,
                            a.group,
                            reason,
                            money(amount),
                            None if q is None else Decimal(q),
                            k,
                        )
                    )
    adj = t["remit_adjustments"]
    got_adj = list(zip(adj["adjustment_level"], adj["group_code"], adj["carc"], adj["amount"], adj["quantity"],
                       adj["triple_index"], strict=True))  # fmt: skip
    assert got_adj == exp_adj
    plb = t["provider_adjustments"]
    exp_plb = [
        (r, ref, money(a), k) for x in tx for k, (r, ref, a) in enumerate(x.plb, 1)
    ]
    assert (
        list(
            zip(
                plb["reason_code"],
                plb["reference_id"],
                plb["amount"],
                plb["pair_index"],
                strict=True,
            )
        )
        == exp_plb
    )
    # no patient name anywhere
    cells = {str(v) for tab in t.values() for col in tab.values() for v in col}
    for c in all_claims:
        assert c.last not in cells and c.first not in cells and c.member not in cells


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    b = bytearray(data)
    for pos, op, byte in edits:
        if not b:
            break
        pos %= len(b)
        if op == 0:
            b[pos] = byte
        elif op == 1:
            b.insert(pos, byte)
        else:
            del b[pos]
    return bytes(b)


def _patient_names() -> set[str]:
    from transforms.x12.tokenizer import tokenize

    out: set[str] = set()
    for name in FIXTURE_NAMES:
        for _, e, _ in tokenize(fixture_bytes(name), name).elements():
            if e[0] == "NM1" and len(e) > 5 and e[1] in ("QC", "IL", "74", "GB"):
                out.update(v for v in e[3:6] if len(v) > 2)
    return out


PATIENT_NAMES = _patient_names()
interesting_bytes = st.sampled_from(
    list(b"*:~^\n\r 0123456789.-ABCSEGILTXPV\x00\xff\xef")
)


@SETTINGS
@given(
    name=st.sampled_from(FIXTURE_NAMES or ["none"]),
    edits=st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.integers(0, 2),
            interesting_bytes | st.integers(0, 255),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_files_raise_only_input_file_errors(name, edits, tmp_path_factory):
    if name == "none":
        return
    data = _mutate(fixture_bytes(name), edits)
    try:
        assert isinstance(parse_x12(data, name, "f" * 16, HASH), ParsedFile)
    except InputFileError as exc:
        assert exc.file_name == name
        words = set(re.split(r"[^A-Za-z0-9]+", str(exc)))
        assert not (words & PATIENT_NAMES), str(exc)
    f = tmp_path_factory.mktemp("mut") / name
    f.write_bytes(data)
    summary = inspect_file(f)  # never raises
    assert isinstance(summary["errors"], list)
