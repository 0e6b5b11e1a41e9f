"""Field by field checks of the parsed tables on the public fixtures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from x12support import fixture_bytes, hasher

from transforms.x12 import parse_x12

FID = "0123456789abcdef"


def rows(name: str, table: str) -> list[dict]:
    t = parse_x12(fixture_bytes(name), name, FID, hasher()).tables[table]
    return [dict(zip(t, r, strict=True)) for r in zip(*t.values(), strict=True)]


def test_835_payment_header():
    (p,) = rows("lfh__medicare-part-a.835", "remit_payments")
    assert p == {
        "file_id": FID, "source_row": 3, "payment_id": f"{FID}-3", "source_format": "835",
        "x12_version": "005010X221A1", "st_control_number": "1234", "handling_code": "C",
        "payment_amount": Decimal("150000.00"), "credit_debit": "C", "payment_method": "ACH",
        "payment_date": dt.date(2002, 9, 13), "trace_number": "12345", "payer_id": "999",
        "payer_name": "INSURANCE COMPANY OF TIMBUCKTU", "payee_name": "REGIONAL HOPE HOSPITAL",
        "payee_npi": "6543210903", "interchange_created": "201310311147",
    }  # fmt: skip


def test_835_claim_and_remarks():
    c = rows("lfh__medicare-part-a.835", "remit_claims")
    assert c[1]["claim_id"] == "777777"
    assert c[1]["remark_codes"] == "MA02"  # MOA03
    assert c[1]["payer_claim_number"] == "1999999444445"
    assert (c[1]["claim_filing_indicator"], c[1]["facility_type_code"], c[1]["claim_frequency_code"]) == (
        "MB", "13", "1",
    )  # fmt: skip
    assert (c[0]["statement_from"], c[0]["statement_to"]) == (
        dt.date(2002, 8, 16),
        dt.date(2002, 8, 24),
    )


def test_835_lines_and_line_adjustments():
    lines = rows("badx12__X221-secondary-payments.edi", "remit_lines")
    assert [
        (x["procedure_qualifier"], x["procedure_code"], x["modifiers"]) for x in lines
    ] == [
        ("HC", "12345", "26"),
        ("HC", "66543", "26"),
    ]
    assert [x["allowed_amount"] for x in lines] == [Decimal(150), Decimal(500)]
    assert [x["revenue_code"] for x in lines] == [None, "220"]
    adj = rows("badx12__X221-secondary-payments.edi", "remit_adjustments")
    # CAS*PR*1*150**2*70: two triples of one segment
    pr = [
        (a["carc"], a["amount"], a["triple_index"], a["source_row"])
        for a in adj
        if a["group_code"] == "PR"
    ]
    assert pr == [("1", Decimal(150), 1, 37), ("2", Decimal(70), 2, 37)]
    loops = rows("pyx12__835_mult_loops.txt", "remit_lines")
    assert [x["remark_codes"] for x in loops] == ["N14", "N14", "N14"]
    assert loops[0]["service_date"] == dt.date(
        2003, 11, 29
    )  # DTM*150 when there is no DTM*472
    assert loops[0]["units"] == Decimal(68)


def test_835_plb_pairs():
    plb = rows("e835__nevada_medicaid.txt", "provider_adjustments")
    assert [
        (p["reason_code"], p["reference_id"], p["amount"], p["pair_index"]) for p in plb
    ] == [
        ("CT", "888888888", Decimal("-1092.46"), 1),
        ("CT", "888888888", Decimal("-719.81"), 2),
        ("CS", "8888888888887", Decimal("-181.55"), 3),
        ("CS", "8888888888887", Decimal("181.55"), 4),
        ("CS", "8888888888888", Decimal(-130), 5),
        ("CS", "8888888888888", Decimal(130), 6),
    ]
    assert {
        (p["provider_id"], p["fiscal_period_date"], p["payment_id"]) for p in plb
    } == {("8888888888", dt.date(2018, 12, 31), f"{FID}-54")}


def test_837p_claim():
    (c,) = rows("lfh__demo.837", "claims")
    h = hasher()
    assert c == {
        "file_id": FID, "source_row": 28, "source_format": "837P", "claim_id": "26463774",
        "claim_type": "professional", "frequency_code": "1", "original_claim_id": None,
        "submission_date": dt.date(2006, 10, 15), "service_from": dt.date(2006, 10, 3),
        "service_to": dt.date(2006, 10, 10), "total_charge": Decimal(100), "payer_id": "999996666",
        "payer_name": "KEY INSURANCE COMPANY", "payer_sequence": "P", "billing_npi": "1912301953",
        "rendering_npi": None, "place_of_service": "11", "prior_auth_number": None,
        "principal_diagnosis": "0340", "diagnosis_codes": "0340;V7389", "member_id_hash": h("JS00111223333"),
        "original_payer_claim_number": None,
    }  # fmt: skip
    lines = rows("lfh__demo.837", "claim_lines")
    assert [
        (x["line_number"], x["procedure_code"], x["line_charge"], x["units"])
        for x in lines
    ] == [
        (1, "99213", Decimal(40), Decimal("1.0")),
        (2, "87070", Decimal(15), Decimal("1.0")),
        (3, "99214", Decimal(35), Decimal("1.0")),
        (4, "86663", Decimal(10), Decimal("1.0")),
    ]
    assert {(x["claim_id"], x["claim_source_row"]) for x in lines} == {("26463774", 28)}
    assert [x["source_row"] for x in lines] == [32, 35, 38, 41]


def test_837i_claim_ignores_other_payer_loops():
    (c,) = rows("lfh__demo.837i", "claims")
    # the claim's payer is 2010BB (MEDICARE B), not the 2330B other payer (STATE TEACHERS)
    assert (c["payer_name"], c["payer_id"], c["payer_sequence"]) == (
        "MEDICARE B",
        "00435",
        "P",
    )
    assert c["member_id_hash"] == hasher()(
        "030005074A"
    )  # 2010BA, not the 2330A other subscriber
    assert (c["claim_type"], c["source_format"]) == ("institutional", "837I")
    assert (c["service_from"], c["service_to"]) == (
        dt.date(1996, 9, 11),
        dt.date(1996, 9, 11),
    )  # DTP*434
    assert (c["principal_diagnosis"], c["diagnosis_codes"]) == (
        "3669",
        "3669;4019;79431",
    )
    lines = rows("lfh__demo.837i", "claim_lines")
    assert [(x["revenue_code"], x["procedure_code"], x["units"]) for x in lines] == [
        ("0305", "85025", Decimal("1.00")),
        ("0730", "93005", Decimal("3.00")),
    ]


def test_837_replacement_claim_references():
    data = fixture_bytes("lfh__demo.837").replace(b"CLM*26463774*100***11:B:1*Y*A*Y*I~\n", (
        b"CLM*26463774*100***11:B:7*Y*A*Y*I~\nREF*F8*PAYER123~\nREF*G1*AUTH9~\nNM1*82*1*DOC*A****XX*1234567893~\n"
    ))  # fmt: skip
    data = data.replace(b"HI*BK:0340*BF:V7389", b"HI*ABK:A021*ABF:Z0000*ABF:R69")
    data = data.replace(b"SE*41*0021", b"SE*44*0021")
    p = parse_x12(data, "r.837", FID, hasher())
    assert p.findings == []
    (c,) = [
        dict(zip(p.tables["claims"], r, strict=True))
        for r in zip(*p.tables["claims"].values(), strict=True)
    ]
    assert (c["frequency_code"], c["original_payer_claim_number"], c["prior_auth_number"], c["rendering_npi"]) == (
        "7", "PAYER123", "AUTH9", "1234567893",
    )  # fmt: skip
    assert c["original_claim_id"] is None  # REF*F8 is the payer's number, not a claim id of ours
    assert (c["principal_diagnosis"], c["diagnosis_codes"]) == (
        "A021",
        "A021;Z0000;R69",
    )


def test_835_subscriber_id_wins_over_patient_id():
    name = "badx12__X221-secondary-payments.edi"
    data = fixture_bytes(name).replace(
        b"NM1*QC*1*BAKI*ANGI****MI*456789123~",
        b"NM1*QC*1*BAKI*ANGI****MI*456789123~NM1*IL*1*X*Y****MI*SUB777~",
    )
    data = data.replace(b"SE*39*0001", b"SE*40*0001")
    p = parse_x12(data, name, FID, hasher())
    assert p.findings == []
    assert p.tables["remit_claims"]["member_id_hash"][1] == hasher()("SUB777")


def test_4010_remittance():
    data = fixture_bytes("pyx12__835_mult_loops.txt").replace(
        b"005010X221A1", b"004010X091A1"
    )
    data = data.replace(b"*^*00501*", b"*U*00401*").replace(
        b"CAS*OA*A7*127.8", b"CAS*CR*A7*127.8"
    )
    data = data.replace(b"DTM*150*20031129", b"DTM*472*031129")
    p = parse_x12(data, "old.835", FID, hasher())
    assert p.findings == []
    assert p.tables["remit_payments"]["x12_version"] == ["004010X091A1"]
    assert p.tables["remit_adjustments"]["group_code"] == ["CO", "CR", "OA"]
    assert p.tables["remit_lines"]["service_date"][0] == dt.date(2003, 11, 29)


def test_837_several_subscribers_and_patients():
    text = fixture_bytes("lfh__demo.837").decode()
    segs = [s.strip() for s in text.split("~") if s.strip()]
    head = segs[: segs.index("HL*2*1*22*1")]
    sub = segs[segs.index("HL*2*1*22*1") : segs.index("SE*41*0021")]
    sub2 = [
        "HL*4*1*22*0", "SBR*S*18*******MB", "NM1*IL*1*ROE*RAY****MI*MEMBER2",
        "NM1*PR*2*OTHER PAYER*****PI*PAYER2", "CLM*SECOND*25***21:B:8*Y*A*Y*I", "REF*F8*ORIG1",
        "LX*1", "SV1*HC:99213:25:59*25*UN*2***1", "DTP*472*RD8*20061001-20061005", "REF*6R*LCN1",
        "CLM*THIRD*5***21:B:1*Y*A*Y*I", "LX*1", "SV1*HC:99211*5*UN*1***1", "DTP*472*D8*20061007",
    ]  # fmt: skip
    body = head + sub + sub2
    st = body.index("ST*837*0021*005010X222A2")
    body += [f"SE*{len(body) - st + 1}*0021", "GE*1*1", "IEA*1*000000907"]
    p = parse_x12(("~\n".join(body) + "~\n").encode(), "multi.837", FID, hasher())
    assert p.findings == []
    c = p.tables["claims"]
    h = hasher()
    assert c["claim_id"] == ["26463774", "SECOND", "THIRD"]
    assert c["payer_id"] == ["999996666", "PAYER2", "PAYER2"]
    assert c["payer_sequence"] == ["P", "S", "S"]
    assert c["member_id_hash"] == [h("JS00111223333"), h("MEMBER2"), h("MEMBER2")]
    assert c["billing_npi"] == ["1912301953"] * 3
    assert c["frequency_code"] == ["1", "8", "1"]
    assert c["original_claim_id"] == [None, None, None]
    assert c["original_payer_claim_number"] == [None, "ORIG1", None]
    assert c["principal_diagnosis"] == ["0340", None, None]
    # no claim-level date: the span of the line dates (an RD8 line period counts to its end)
    assert c["service_from"][1] == dt.date(2006, 10, 1)
    assert c["service_to"][1] == dt.date(2006, 10, 5)
    assert c["place_of_service"] == ["11", "21", "21"]
    ln = p.tables["claim_lines"]
    assert ln["claim_id"][-2:] == ["SECOND", "THIRD"]
    assert ln["modifiers"][-2:] == ["25:59", None]
    assert ln["line_control_number"][-2:] == ["LCN1", None]
    assert ln["service_date"][-2:] == [dt.date(2006, 10, 1), dt.date(2006, 10, 7)]
    assert ln["units"][-2:] == [Decimal(2), Decimal(1)]
