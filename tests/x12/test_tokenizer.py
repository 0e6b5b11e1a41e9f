"""Delimiters, layouts, envelopes and segment numbering."""

from __future__ import annotations

import pytest
from x12support import FIXTURE_NAMES, fixture_bytes, hasher, redelimit

from transforms.errors import InputFileError
from transforms.x12 import parse_x12
from transforms.x12.tokenizer import Delimiters, tokenize

MEDICARE = "lfh__medicare-part-a.835"


def tables(data: bytes, fid: str = "f" * 16):
    return parse_x12(data, "t", fid, hasher()).tables


def without_lineage(t):
    """Tables without the columns that depend on segment numbers."""
    drop = {
        "x12_version",
        "interchange_created",  # from the GS envelope
        "source_row",
        "payment_id",
        "remit_claim_id",
        "remit_line_id",
        "claim_source_row",
    }
    return {
        name: {c: v for c, v in cols.items() if c not in drop}
        for name, cols in t.items()
    }


def test_delimiters_from_isa():
    toks = tokenize(fixture_bytes(MEDICARE), "m")
    assert toks.blocks[0].delimiters == Delimiters("*", ":", "~", "^")
    assert (
        toks.segments[0].startswith("ISA*") and toks.segments[-1] == "IEA*1*000000907"
    )
    # newline as terminator
    toks = tokenize(fixture_bytes("tasty__multi-line-not-delimited.edi"), "t")
    assert toks.blocks[0].delimiters.segment == "\n"
    assert len(toks.segments) == 69
    # ISA not fixed width
    toks = tokenize(fixture_bytes("e835__nevada_medicaid.txt"), "n")
    assert toks.blocks[0].delimiters == Delimiters("*", ":", "~", "^")


def test_4010_has_no_repetition_separator():
    data = fixture_bytes(MEDICARE).replace(b"*^*00501*", b"*U*00401*")
    assert tokenize(data, "m").blocks[0].delimiters.repetition is None


@pytest.mark.parametrize("name", FIXTURE_NAMES)
@pytest.mark.parametrize(
    ("el", "comp", "term", "layout"),
    [
        ("|", ">", "'", ""),
        ("!", "\\", "~", "crlf"),
        ("*", ":", "~", "indent"),
        ("^", "}", "", "nl"),
        ("\x1d", "\x1f", "\x1e", "lf"),
    ],
)
def test_same_tables_whatever_the_delimiters_and_layout(name, el, comp, term, layout):
    data = fixture_bytes(name)
    other = redelimit(data, el, comp, term, layout)
    assert tables(other) == tables(data)


def test_bom_blank_lines_and_trailing_padding():
    data = fixture_bytes(MEDICARE)
    assert tables(
        b"\xef\xbb\xbf\r\n  " + data.replace(b"~\n", b"~\r\n\r\n\t") + b"\x00\x00\x1a"
    ) == tables(data)
    utf16 = "\ufeff".encode("utf-16-le") + data.decode().encode("utf-16-le")
    assert tables(utf16) == tables(data)


def test_segment_numbers_count_from_the_first_segment():
    data = fixture_bytes(MEDICARE)
    assert tables(data)["remit_claims"]["source_row"] == [15, 24]
    # blank lines and indentation do not count
    assert tables(b"\n\n" + data.replace(b"~\n", b"~\n\n   "))["remit_claims"][
        "source_row"
    ] == [15, 24]


def test_no_envelope_starting_at_st():
    text = fixture_bytes(MEDICARE).decode()
    lines = [
        s for s in text.split("\n") if s and s[:3] not in ("ISA", "GS*", "GE*", "IEA")
    ]
    body = "\n".join(lines).encode()
    t = tables(body)
    assert without_lineage(t) == without_lineage(tables(fixture_bytes(MEDICARE)))
    assert t["remit_claims"]["source_row"] == [13, 22]
    assert t["remit_payments"]["x12_version"] == [
        None
    ]  # no GS08, and this ST has no ST03
    # no envelope, other delimiters, newline terminator
    nl = body.replace(b"~\n", b"\n").replace(b"*", b"|")
    assert without_lineage(tables(nl)) == without_lineage(t)


def test_several_interchanges_with_different_delimiters():
    a = fixture_bytes(MEDICARE)
    b = redelimit(fixture_bytes("pyx12__835_mult_loops.txt"), "|", ">", "'", "lf")
    toks = tokenize(a + b, "ab")
    assert [blk.delimiters.element for blk in toks.blocks] == ["*", "|"]
    t = tables(a + b)
    ta, tb = tables(a), tables(fixture_bytes("pyx12__835_mult_loops.txt"))
    assert (
        t["remit_claims"]["claim_id"]
        == ta["remit_claims"]["claim_id"] + tb["remit_claims"]["claim_id"]
    )
    assert (
        t["remit_lines"]["charge_amount"]
        == ta["remit_lines"]["charge_amount"] + tb["remit_lines"]["charge_amount"]
    )
    # same delimiters: one block, segment numbers go on
    toks = tokenize(a + a, "aa")
    assert len(toks.blocks) == 1
    assert tables(a + a)["remit_claims"]["source_row"] == [15, 24, 47, 56]


def test_several_transactions_and_groups():
    t = tables(fixture_bytes("e835__nevada_medicaid.txt"))
    assert t["remit_payments"]["st_control_number"] == ["0001", "0002", "0003"]
    assert t["remit_payments"]["payment_id"] == [
        "f" * 16 + "-3",
        "f" * 16 + "-25",
        "f" * 16 + "-54",
    ]
    assert set(t["provider_adjustments"]["payment_id"]) == {"f" * 16 + "-54"}
    assert t["remit_claims"]["payment_id"] == [
        "f" * 16 + "-3",
        "f" * 16 + "-25",
        "f" * 16 + "-25",
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"ISA*00*          *00*   ",  # ISA cut short
        b"ISA*00*          *00*          *ZZ*A*ZZ*B*240101*1200*^*00501*1*0*P*:",  # nothing after ISA16
        b"ISAX00",  # alphanumeric element separator
        b"ISA*00*          *00*          *ZZ*A*ZZ*B*240101*1200*^*00501*1*0*P**~GS",  # ISA16 = element sep
    ],
)
def test_bad_isa(data):
    with pytest.raises(InputFileError) as info:
        tokenize(data, "bad")
    assert info.value.code in ("malformed_isa", "truncated")
    assert info.value.location == "segment 1 (ISA)"
