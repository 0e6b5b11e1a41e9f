"""837 replacement and void claims name the claim they correct by the payer's claim number
(REF*F8 = CLP07 of that claim's adjudication). Kept raw as ``original_payer_claim_number``;
staging resolves it to the claim id, so the claim family, the initial adjudication and the A/R
ledger treat an 837 replacement like a CSV one. Every expected value below is worked out by hand
from the files written here.

Story (payer PAYER1 unless said otherwise):
  bill 2026-03-02: A1 100.00, E1 60.00, F1 40.00, B1 30.00 (frequency 1)
  remit 2026-03-09 (PAYER1): A1 denied (CLP02 4, CO-16 100.00), CLP07 ICN-A;
                             F1 paid 40.00, CLP07 ICN-F; F2 (not ours) paid 10.00, also ICN-F;
                             B1 paid 30.00, CLP07 ICN-B
  remit 2026-03-09 (PAYER2): E1 paid 60.00, CLP07 ICN-E
  bill 2026-03-16: A1R1 (7, F8 ICN-A) 100.00, E1R1 (7, F8 ICN-E) 60.00, F1R1 (7, F8 ICN-F) 40.00,
                   B1V (8, F8 ICN-NONE) 30.00
  remit 2026-03-23 (PAYER1): A1R1 paid 80.00, CO-45 20.00, CLP07 ICN-A2

  A1R1 -> A1 (ICN-A from its own payer); E1R1 -> E1 (ICN-E only from PAYER2: any payer, one claim
  id); F1R1 unresolved (ICN-F names F1 and F2); B1V unresolved (ICN-NONE never remitted).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from tests.helpers import load_and_build

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260301*1200*^*00501*{ctl:09d}*0*T*:~\n"


def _envelope(gs: str, version: str, body: list[str], ctl: int) -> str:
    st = [body[0]] + body[1:]
    segs = st + [f"SE*{len(st) + 1}*0001"]
    return (
        ISA.format(ctl=ctl)
        + f"GS*{gs}*SENDER*RECEIVER*20260301*1200*{ctl}*X*{version}~\n"
        + "".join(s + "~\n" for s in segs)
        + f"GE*1*{ctl}~\nIEA*1*{ctl:09d}~\n"
    )


def bill(date: str, claims: list[tuple[str, str, str, str | None]], ctl: int) -> str:
    """An 837P: one subscriber of PAYER1; claims (id, charge, frequency, REF*F8)."""
    body = [
        "ST*837*0001*005010X222A1", f"BHT*0019*00*{ctl}*{date}*1200*CH",
        "NM1*41*2*CLINIC*****46*S1", "NM1*40*2*PAYER ONE*****46*PAYER1",
        "HL*1**20*1", "NM1*85*2*CLINIC*****XX*1234567893",
        "HL*2*1*22*0", "SBR*P*18*******CI", "NM1*IL*1*DOE*JOHN****MI*M0001",
        "NM1*PR*2*PAYER ONE*****PI*PAYER1",
    ]  # fmt: skip
    for cid, charge, freq, f8 in claims:
        body.append(f"CLM*{cid}*{charge}***11:B:{freq}*Y*A*Y*I")
        body.append("DTP*472*D8*20260226")
        if f8:
            body.append(f"REF*F8*{f8}")
        body += ["LX*1", f"SV1*HC:99213*{charge}*UN*1***11", "DTP*472*D8*20260226"]
    return _envelope("HC", "005010X222A1", body, ctl)


def remit(date: str, payer: str, claims: list[tuple[str, str, str, str, str, list[str]]], ctl: int) -> str:
    """An 835 of ``payer``; claims (CLP01, CLP02, CLP03, CLP04, CLP07, CAS segments)."""
    total = sum(D(c[3]) for c in claims)
    body = [
        "ST*835*0001", f"BPR*I*{total:.2f}*C*ACH*CCP*01*999999999*DA*1*1512345678**01*999988880*DA*2*{date}",
        f"TRN*1*T{ctl}*1{payer}", f"N1*PR*{payer} NAME*XV*{payer}", "N1*PE*CLINIC*XX*1234567893", "LX*1",
    ]  # fmt: skip
    for clp01, status, charge, paid, icn, cas in claims:
        body.append(f"CLP*{clp01}*{status}*{charge}*{paid}**12*{icn}*11*1")
        body += cas
    return _envelope("HP", "005010X221A1", body, ctl)


def story_files() -> dict[str, str]:
    """The files of the story in the module docstring, by name, in the order they arrive."""
    return {
        "bill1.837": bill("20260302", [("A1", "100", "1", None), ("E1", "60", "1", None), ("F1", "40", "1", None),
                                       ("B1", "30", "1", None)], 1),
        "remit1.835": remit("20260309", "PAYER1", [
            ("A1", "4", "100", "0", "ICN-A", ["CAS*CO*16*100"]), ("F1", "1", "40", "40", "ICN-F", []),
            ("F2", "1", "10", "10", "ICN-F", []), ("B1", "1", "30", "30", "ICN-B", []),
        ], 2),
        "remit2.835": remit("20260309", "PAYER2", [("E1", "1", "60", "60", "ICN-E", [])], 3),
        "bill2.837": bill("20260316", [("A1R1", "100", "7", "ICN-A"), ("E1R1", "60", "7", "ICN-E"),
                                       ("F1R1", "40", "7", "ICN-F"), ("B1V", "30", "8", "ICN-NONE")], 4),
        "remit3.835": remit("20260323", "PAYER1", [("A1R1", "1", "100", "80", "ICN-A2", ["CAS*CO*45*20"])], 5),
    }  # fmt: skip


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("f8")
    landing = tmp / "landing"
    landing.mkdir()
    files = story_files()
    for name, text in files.items():
        (landing / name).write_text(text)
    c = load_and_build(landing, tmp / "w.duckdb", dt.date(2026, 3, 29))
    yield c
    c.close()


def test_raw_keeps_ref_f8(con):
    rows = con.execute(
        "SELECT claim_id, frequency_code, original_claim_id, original_payer_claim_number FROM raw.claims ORDER BY claim_id"
    ).fetchall()
    assert rows == [
        ("A1", "1", None, None), ("A1R1", "7", None, "ICN-A"), ("B1", "1", None, None), ("B1V", "8", None, "ICN-NONE"),
        ("E1", "1", None, None), ("E1R1", "7", None, "ICN-E"), ("F1", "1", None, None), ("F1R1", "7", None, "ICN-F"),
    ]  # fmt: skip


def test_staging_resolves_the_payer_claim_number(con):
    rows = dict(
        (r[0], r[1:])
        for r in con.execute(
            "SELECT claim_id, original_claim_id, original_payer_claim_number FROM staging.stg_claim_submissions"
        ).fetchall()
    )
    assert rows["A1R1"] == ("A1", "ICN-A")  # CLP07 ICN-A of PAYER1 -> CLP01 A1
    assert rows["E1R1"] == ("E1", "ICN-E")  # only PAYER2 sent ICN-E, for one claim id
    assert rows["F1R1"] == (None, "ICN-F")  # ICN-F names F1 and F2: ambiguous
    assert rows["B1V"] == (None, "ICN-NONE")  # never remitted
    assert rows["A1"] == (None, None)


def test_claim_family(con):
    fam = dict(
        (r[0], r[1:])
        for r in con.execute("SELECT claim_id, claim_family_id, resubmission_depth FROM staging.stg_claims").fetchall()
    )
    assert fam["A1R1"] == ("A1", 1)
    assert fam["E1R1"] == ("E1", 1)
    assert fam["F1R1"] == ("F1R1", 0)
    assert fam["B1V"] == ("B1V", 0)


def test_initial_adjudication_is_the_original_claims(con):
    rows = con.execute(
        """SELECT clp01, match_method, claim_family_id, primary_seq, is_denied, paid_amount
           FROM intermediate.int_adjudications WHERE claim_family_id = 'A1' ORDER BY primary_seq"""
    ).fetchall()
    # the denial of A1 is the family's initial adjudication; the replacement's payment the second
    assert rows == [("A1", "claim_id", "A1", 1, True, D("0.00")), ("A1R1", "claim_id", "A1", 2, False, D("80.00"))]


def test_ar_ledger_closes_the_replaced_claim(con):
    rows = con.execute(
        """SELECT claim_id, event_date, event_type, amount FROM intermediate.int_ar_ledger
           WHERE claim_id IN ('A1', 'A1R1') ORDER BY claim_id, event_date, event_type"""
    ).fetchall()
    d = dt.date
    assert rows == [
        ("A1", d(2026, 3, 2), "charge", D("100.00")),
        ("A1", d(2026, 3, 16), "replaced", D("-100.00")),  # A1's charge; its denial moved nothing
        ("A1R1", d(2026, 3, 16), "rebill", D("100.00")),
        ("A1R1", d(2026, 3, 23), "contractual", D("-20.00")),
        ("A1R1", d(2026, 3, 23), "payment", D("-80.00")),
    ]


def test_a_warehouse_from_before_gets_the_column(tmp_path):
    from transforms import warehouse

    c = warehouse.connect(tmp_path / "old.duckdb")
    warehouse.ensure_schema(c)
    c.execute("ALTER TABLE raw.claims DROP COLUMN original_payer_claim_number")  # as created before
    # rows loaded before: an 837 replacement with its REF*F8 in original_claim_id, a CSV one
    for fmt, cid, orig in (("837P", "A1R1", "ICN-A"), ("csv", "C1R1", "C1"), ("837I", "D1", None)):
        c.execute(
            "INSERT INTO raw.claims (file_id, source_row, source_format, claim_id, claim_type, frequency_code, "
            "original_claim_id, total_charge) VALUES ('f', 1, ?, ?, 'professional', '7', ?, 1)",
            [fmt, cid, orig],
        )
    warehouse.ensure_schema(c)
    cols = [r[0] for r in c.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'claims'").fetchall()]
    assert cols[-1] == "original_payer_claim_number"
    rows = c.execute("SELECT claim_id, original_claim_id, original_payer_claim_number FROM raw.claims ORDER BY 1").fetchall()
    assert rows == [("A1R1", None, "ICN-A"), ("C1R1", "C1", None), ("D1", None, None)]
    warehouse.ensure_schema(c)  # again: nothing changes
    assert c.execute("SELECT claim_id, original_claim_id, original_payer_claim_number FROM raw.claims ORDER BY 1").fetchall() == rows
    c.close()
