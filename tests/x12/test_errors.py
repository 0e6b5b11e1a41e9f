"""Unreadable input raises InputFileError naming the place; problems that do not stop the load
are findings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from x12support import fixture_bytes, hasher

from transforms.errors import InputFileError
from transforms.x12 import inspect_file, parse_835, parse_837, parse_x12
from transforms.x12.values import BadValue, parse_date, parse_money

MEDICARE = "lfh__medicare-part-a.835"
LOOPS = "pyx12__835_mult_loops.txt"


def parse(data: bytes, name: str = "t.835"):
    return parse_x12(data, name, "f" * 16, hasher())


def fail(data: bytes, name: str = "t.835") -> InputFileError:
    with pytest.raises(InputFileError) as info:
        parse(data, name)
    assert info.value.file_name == name
    assert str(info.value).startswith(name)
    return info.value


def medicare(old: bytes, new: bytes) -> bytes:
    data = fixture_bytes(MEDICARE)
    assert data.count(old) == 1
    return data.replace(old, new)


def test_non_numeric_amount_names_segment_and_element():
    err = fail(
        medicare(
            b"CLP*666123*1*211366.97*138018.40", b"CLP*666123*1*211366.97*13801X.40"
        )
    )
    assert err.code == "bad_value"
    assert err.location == "segment 15 (CLP), element CLP04"
    assert err.expected.startswith("a decimal amount")
    assert "13801X" not in str(err)


def test_error_message_never_carries_the_value():
    # a patient name where an amount should be: the message must not repeat it
    err = fail(
        medicare(b"CLP*666123*1*211366.97*138018.40", b"CLP*666123*1*JONES*138018.40")
    )
    assert err.location == "segment 15 (CLP), element CLP03"
    assert "JONES" not in str(err)
    err = fail(medicare(b"CAS*CO*45*73348.57", b"CAS*CO*45*SAM"))
    assert err.location == "segment 16 (CAS), element CAS03"
    assert "SAM" not in str(err)


def test_missing_required_amount():
    err = fail(
        medicare(
            b"CLP*666123*1*211366.97*138018.40**MA*1999999444444*11*1", b"CLP*666123*1"
        )
    )
    assert err.location == "segment 15 (CLP), element CLP03"


@pytest.mark.parametrize(
    ("old", "new", "location"),
    [
        (b"CAS*CO*45*73348.57", b"CAS**45*73348.57", "segment 16 (CAS), element CAS01"),
        (b"CAS*CO*45*73348.57", b"CAS*CO**73348.57", "segment 16 (CAS), element CAS02"),
        (b"DTM*232*20020816", b"DTM*232*20021399", "segment 19 (DTM), element DTM02"),
        (b"BPR*C*150000.00", b"BPR*C*150,000.00", "segment 4 (BPR), element BPR02"),
        (
            b"PLB*6543210903*20021231*CV:CP*-1.27",
            b"PLB*6543210903*20021231*CV:CP*-1.2.7",
            "segment 29 (PLB), element PLB04",
        ),
        (
            b"PLB*6543210903*20021231*CV:CP*-1.27",
            b"PLB*6543210903*20021231*:CP*-1.27",
            "segment 29 (PLB), element PLB03-1",
        ),
    ],
)
def test_bad_elements(old, new, location):
    err = fail(medicare(old, new))
    assert err.location == location
    assert err.code == "bad_value"


def test_truncated_file():
    data = fixture_bytes(MEDICARE)
    err = fail(data[: len(data) // 2])
    assert err.code == "truncated"
    assert err.location == "segment 3 (ST)"
    # cut inside the ISA
    err = fail(data[:50])
    assert err.code == "malformed_isa"
    assert err.location == "segment 1 (ISA)"
    # the transaction closed but not the group / interchange
    data = fixture_bytes(LOOPS)
    err = fail(data[: data.index(b"GE*")])
    assert (err.code, err.location) == ("truncated", "segment 2 (GS)")


@pytest.mark.parametrize(
    "data",
    [
        b"claim_id,total_charge\n1,2.00\n",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
        b"\x00\x01\x02\xff",
        b"IS",
        b"hello",
    ],
)
def test_not_x12(data):
    err = fail(data)
    assert err.code == "not_x12"
    assert err.location is None


@pytest.mark.parametrize(
    "data", [b"", b"   \r\n\t", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n\n"]
)
def test_empty_file(data):
    err = fail(data)
    assert err.code == "empty_file"
    assert err.location is None


def test_unsupported_transaction():
    data = fixture_bytes(MEDICARE).replace(b"ST*835*1234", b"ST*270*1234")
    err = fail(data)
    assert err.code == "unsupported_transaction"
    assert err.location == "segment 3 (ST), element ST01"
    assert "270" in err.expected
    # the right parser for the wrong file
    with pytest.raises(InputFileError) as info:
        parse_837(fixture_bytes(MEDICARE), "m.835", "f" * 16, hasher())
    assert info.value.code == "unsupported_transaction"
    with pytest.raises(InputFileError) as info:
        parse_835(fixture_bytes("lfh__demo.837"), "d.837", "f" * 16, hasher())
    assert info.value.code == "unsupported_transaction"
    # dental 837 is not read
    dental = fixture_bytes("lfh__demo.837").replace(b"005010X222A2", b"005010X224A2")
    assert fail(dental, "d.837").code == "unsupported_transaction"


def test_segment_out_of_place():
    data = fixture_bytes(LOOPS).replace(b"CLP*2005555A", b"XYZ*2005555A")
    err = fail(data)  # SVC with no claim open
    assert (err.code, err.location) == ("malformed_segment", "segment 18 (SVC)")
    err = fail(fixture_bytes(LOOPS).replace(b"CLP*2005555A", b"c#p*2005555A"))
    assert (err.code, err.location) == ("malformed_segment", "segment 15")


def test_unknown_segment_id_is_not_printed():
    # a name that became a segment id (damaged delimiter) outside a transaction
    data = fixture_bytes(LOOPS).replace(b"GE*1*383880001", b"TED*1*383880001")
    err = fail(data)
    assert "TED" not in str(err)
    assert err.location == "segment 34"


def test_inspect_never_raises_and_lists_errors(tmp_path):
    f = tmp_path / "bad.835"
    f.write_bytes(
        medicare(b"CLP*666123*1*211366.97*138018.40", b"CLP*666123*1*211366.97*DTEST")
    )
    s = inspect_file(f)
    assert [e["location"] for e in s["errors"]] == ["segment 15 (CLP), element CLP04"]
    assert s["bad_values"] == ["segment 15 (CLP), element CLP04"]
    assert (
        s["x835"]["total_paid_clp04"] == "11980.33"
    )  # counted as 0 (EXPECTED.json convention)
    for data in (b"", b"not x12", fixture_bytes(MEDICARE)[:300]):
        f.write_bytes(data)
        s = inspect_file(f)
        assert s["errors"] and "x835" not in s
    s = inspect_file(tmp_path / "missing.835")
    assert s["errors"][0]["code"] == "unreadable"


# --- findings that do not stop the load -------------------------------------------------------


def test_claim_and_transaction_balancing_findings():
    p = parse(
        medicare(
            b"CLP*666123*1*211366.97*138018.40", b"CLP*666123*1*211366.97*138018.41"
        )
    )
    got = {(f.code, f.location) for f in p.findings}
    assert got == {
        ("clp_unbalanced", "segment 15 (CLP)"),
        ("bpr_unbalanced", "ST 1234"),
    }
    assert all(f.severity == "warning" for f in p.findings)


def test_line_balancing_finding():
    data = fixture_bytes(LOOPS).replace(
        b"SVC*HC:T1005*127.8*0**16", b"SVC*HC:T1005*127.8*1**16"
    )
    p = parse(data)
    got = {(f.code, f.location) for f in p.findings}
    assert got == {
        ("svc_unbalanced", "segment 23 (SVC)")
    }  # the claim still balances (CLP vs CAS)


def test_envelope_count_findings():
    p = parse(fixture_bytes(MEDICARE).replace(b"SE*28*1234", b"SE*27*1235"))
    assert [(f.code, f.location) for f in p.findings] == [
        ("se01_count", "ST 1234"),
        ("st02_se02", "ST 1234"),
    ]
    assert "SE01=27 but 28 segments in ST 1234" in [f.message for f in p.findings]


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "v"),
    [
        ("150000", "150000"),
        (".5", "0.5"),
        ("-1.27", "-1.27"),
        ("0", "0"),
        ("12.340", "12.340"),
        ("7.", "7"),
    ],
)
def test_money_accepted(s, v):
    d = parse_money(s, "X01")
    assert d == Decimal(v)
    assert (
        d.as_tuple().exponent >= -2
    )  # at most two decimal places, as the tables expect


@pytest.mark.parametrize(
    "s",
    [
        "",
        "-",
        ".",
        "1e5",
        "NaN",
        "Infinity",
        "1_000",
        "+5",
        "1,000",
        "12.345",
        "\u0661\u0662",
        "DTEST",
        "1 2",
    ],
)
def test_money_rejected(s):
    with pytest.raises(BadValue) as info:
        parse_money(s, "CLP04")
    assert info.value.element == "CLP04"


def test_dates():
    assert parse_date("20020816", "DTM02") == dt.date(2002, 8, 16)
    assert parse_date("020816", "DTM02", yymmdd=True) == dt.date(2002, 8, 16)
    assert parse_date("960911", "DTM02", yymmdd=True) == dt.date(1996, 9, 11)
    for bad in ("020816", "2002-08-16", "20020230", "2002081", ""):
        with pytest.raises(BadValue):
            parse_date(bad, "DTM02")


def test_4010_remittance_reads_six_digit_dtm_dates():
    data = medicare(b"DTM*232*20020816", b"DTM*232*020816").replace(
        b"005010X221A1", b"004010X091A1"
    )
    p = parse(data)
    assert p.tables["remit_payments"]["x12_version"] == ["004010X091A1"]
    assert p.tables["remit_claims"]["statement_from"][0] == dt.date(2002, 8, 16)
    # a 5010 file must send CCYYMMDD
    err = fail(medicare(b"DTM*232*20020816", b"DTM*232*020816"))
    assert err.location == "segment 19 (DTM), element DTM02"


# --- segment order and size (issue #10) ----------------------------------------------------------


def _move_before_bpr(data: bytes, seg_id: bytes) -> bytes:
    """The first ``seg_id`` segment moved to right after ST (before the BPR)."""
    segs = data.split(b"~")
    k = next(i for i, s in enumerate(segs) if s.strip().startswith(seg_id + b"*"))
    seg = segs.pop(k)
    st = next(i for i, s in enumerate(segs) if s.strip().startswith(b"ST*"))
    segs.insert(st + 1, seg)
    return b"~".join(segs)


@pytest.mark.parametrize("arrow", [False, True])
@pytest.mark.parametrize("seg_id", [b"CLP", b"LX", b"PLB"])
def test_claim_before_bpr(seg_id, arrow, tmp_path):
    data = _move_before_bpr(fixture_bytes(MEDICARE), seg_id)
    with pytest.raises(InputFileError) as info:
        parse_x12(data, "o.835", "f" * 16, hasher(), arrow=arrow)
    err = info.value
    assert (err.code, err.location) == ("malformed_segment", f"segment 4 ({seg_id.decode()})")
    assert err.expected.startswith(f"a BPR segment before this {seg_id.decode()}")
    assert str(err).startswith("o.835, segment 4 (")
    f = tmp_path / "o.835"
    f.write_bytes(data)
    assert [e["location"] for e in inspect_file(f)["errors"]] == [f"segment 4 ({seg_id.decode()})"]


def test_bpr_missing_still_named_at_se():
    # a transaction without claims and without BPR: the SE says a BPR is missing
    segs = fixture_bytes(MEDICARE).split(b"~")
    lx = next(i for i, s in enumerate(segs) if s.strip().startswith(b"LX*"))
    se = next(i for i, s in enumerate(segs) if s.strip().startswith(b"SE*"))
    err = fail(b"~".join(s for s in segs[:lx] + segs[se:] if not s.strip().startswith(b"BPR")))
    assert err.code == "missing_segment"
    assert "(SE)" in err.location


def _long_segment(data: bytes, prefix: bytes, n: int) -> bytes:
    segs = data.split(b"~")
    k = next(i for i, s in enumerate(segs) if s.strip().startswith(prefix))
    segs[k] += b"*" + b"A" * n
    return b"~".join(segs)


@pytest.mark.parametrize("arrow", [False, True])
def test_segment_too_long(arrow, tmp_path):
    from transforms.x12.tokenizer import MAX_SEGMENT_LENGTH

    base = fixture_bytes(MEDICARE)
    n1 = next(s for s in base.split(b"~") if s.strip().startswith(b"N1*PR")).strip()
    # at the limit: read (the extra element is ignored)
    ok = _long_segment(base, b"N1*PR", MAX_SEGMENT_LENGTH - len(n1) - 1)
    assert parse_x12(ok, "ok.835", "f" * 16, hasher(), arrow=arrow).rows_read == 32
    # one character more: refused, with the segment's number and id
    for extra in (MAX_SEGMENT_LENGTH - len(n1), 10 << 20):
        data = _long_segment(base, b"N1*PR", extra)
        with pytest.raises(InputFileError) as info:
            parse_x12(data, "l.835", "f" * 16, hasher(), arrow=arrow)
        err = info.value
        assert (err.code, err.location) == ("segment_too_long", "segment 7 (N1)")
        assert err.expected.startswith(f"a segment of at most 65,536 characters (this one has {len(n1) + 1 + extra:,}")
        assert "AAAA" not in str(err)
    f = tmp_path / "l.835"
    f.write_bytes(data)
    assert [e["code"] for e in inspect_file(f)["errors"]] == ["segment_too_long"]


def test_segment_too_long_837_and_without_envelope(tmp_path):
    data = _long_segment(fixture_bytes("lfh__demo.837"), b"CLM*", 100_000)
    err = fail(data, "c.837")
    assert err.code == "segment_too_long"
    assert err.location.endswith("(CLM)")
    with pytest.raises(InputFileError) as info:
        parse_837(data, "c.837", "f" * 16, hasher())
    assert info.value.location == err.location
    f = tmp_path / "c.837"
    f.write_bytes(data)
    assert [e["location"] for e in inspect_file(f)["errors"]] == [err.location]
    # a file that starts at ST (no envelope), and a lost terminator: the rest of the file is one segment
    body = fixture_bytes(MEDICARE).split(b"~", 2)[2]
    err = fail(body[: body.index(b"CLP*")] + b"CLP*" + b"1" * 70_000 + b"*1*10*10~SE*5*1234~")
    assert (err.code, err.location) == ("segment_too_long", "segment 13 (CLP)")
