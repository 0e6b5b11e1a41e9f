"""The remittance rules that real 835s need (docs/metrics.md "What counts as a denial", docs/x12.md
"Repeated CLP01" and "Resent and corrected ERAs"), each on a small story written here as X12 files,
with every expected figure worked out by hand from the files.

Story (bills 2026-03-02, payer PAYER1, as-of date 2026-03-29):
  bill1.837   S1 300, P1 100, P2 80, D4 120, D5 90, R1 200, Q1 40, Q2 60, T1 100 (frequency 1)
  remit1.835  2026-03-09, trace TR1:
                S1 split by the payer: CLP S1 100 paid 80 (CO-45 20, ICN-S1A) and CLP S1 200 paid 0
                   (CO-197 200, ICN-S1B): one adjudication of S1, charge 300, paid 80, denied 200
                P1 100 paid 0, PR-32 100 (not an eligible dependent): an eligibility denial
                P2 80 paid 0, PR-2 80 (coinsurance): cost sharing, not a denial
                D4 CLP02=4 120 paid 0, OA-23 120 only: denied, 120 'payer_denied_unspecified'
                D5 CLP02=4 90 paid 0, CR-18 90 (a 4010 group): denied, 90 'duplicate'
                R1 200 paid 150, CO-45 50
                PATACCT 50 paid 50 (ICN-U1) and PATACCT 70 paid 60, CO-45 10 (ICN-U2): a patient
                   control number billed by nobody here, twice with different CLP07: two claims
  remit2.835  2026-03-10: two transactions with the same trace TR2: Q1 paid 40, Q2 paid 60 (both count)
  bill2.837   2026-03-16: R1R 200 (frequency 7, REF*F8 ICN-R1, replacing R1)
  remit3.835  2026-03-23, trace TR3: R1 reversed (CLP02=22, -200, paid -150, CO-45 -50); R1R 200 paid
              170, CO-45 30
  remit4.835  2026-03-24, trace TR4: T1 100 paid 100 (loaded in a first run)
  remit4_resent.835 (second run): the same payment TR4 sent again, corrected: T1 paid 99.99, CO-45 0.01
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal as D

import pytest

from tests.helpers import TEST_KEY, load_and_build, scalar
from tests.test_replacement_837 import ISA, bill
from transforms import incremental, reference, warehouse
from transforms.ingest import loader
from transforms.ingest.phi import MemberIdHasher
from transforms.settings import Settings

AS_OF = dt.date(2026, 3, 29)
Clp = tuple[str, str, str, str, str, list[str]]  # CLP01, CLP02, CLP03, CLP04, CLP07, CAS segments


def transaction(date: str, trace: str, claims: list[Clp], st: str = "0001") -> list[str]:
    total = sum(D(c[3]) for c in claims)
    body = [
        f"ST*835*{st}", f"BPR*I*{total:.2f}*C*ACH*CCP*01*999999999*DA*1*1512345678**01*999988880*DA*2*{date}",
        f"TRN*1*{trace}*1PAYER1", "N1*PR*PAYER ONE*XV*PAYER1", "N1*PE*CLINIC*XX*1234567893", "LX*1",
    ]  # fmt: skip
    for clp01, status, charge, paid, icn, cas in claims:
        body.append(f"CLP*{clp01}*{status}*{charge}*{paid}**12*{icn}*11*1")
        body += cas
    return body + [f"SE*{len(body) + 1}*{st}"]


def era(transactions: list[list[str]], ctl: int) -> str:
    """An 835 file of one or more transactions (each with its own SE)."""
    segs = [s for t in transactions for s in t]
    return (
        ISA.format(ctl=ctl) + f"GS*HP*SENDER*RECEIVER*20260301*1200*{ctl}*X*005010X221A1~\n"
        + "".join(s + "~\n" for s in segs) + f"GE*{len(transactions)}*{ctl}~\nIEA*1*{ctl:09d}~\n"
    )


FIRST = {
    "bill1.837": bill("20260302", [(c, amt, "1", None) for c, amt in [
        ("S1", "300"), ("P1", "100"), ("P2", "80"), ("D4", "120"), ("D5", "90"), ("R1", "200"), ("Q1", "40"),
        ("Q2", "60"), ("T1", "100")]], 1),
    "remit1.835": era([transaction("20260309", "TR1", [
        ("S1", "1", "100", "80", "ICN-S1A", ["CAS*CO*45*20"]),
        ("P1", "1", "100", "0", "ICN-P1", ["CAS*PR*32*100"]),
        ("S1", "1", "200", "0", "ICN-S1B", ["CAS*CO*197*200"]),
        ("P2", "1", "80", "0", "ICN-P2", ["CAS*PR*2*80"]),
        ("D4", "4", "120", "0", "ICN-D4", ["CAS*OA*23*120"]),
        ("D5", "4", "90", "0", "ICN-D5", ["CAS*CR*18*90"]),
        ("R1", "1", "200", "150", "ICN-R1", ["CAS*CO*45*50"]),
        ("PATACCT", "1", "50", "50", "ICN-U1", []),
        ("PATACCT", "1", "70", "60", "ICN-U2", ["CAS*CO*45*10"]),
    ])], 2),
    "remit2.835": era([transaction("20260310", "TR2", [("Q1", "1", "40", "40", "ICN-Q1", [])], "0001"),
                       transaction("20260310", "TR2", [("Q2", "1", "60", "60", "ICN-Q2", [])], "0002")], 3),
    "bill2.837": bill("20260316", [("R1R", "200", "7", "ICN-R1")], 4),
    "remit3.835": era([transaction("20260323", "TR3", [
        ("R1", "22", "-200", "-150", "ICN-R1", ["CAS*CO*45*-50"]),
        ("R1R", "1", "200", "170", "ICN-R1R", ["CAS*CO*45*30"]),
    ])], 5),
    "remit4.835": era([transaction("20260324", "TR4", [("T1", "1", "100", "100", "ICN-T1", [])])], 6),
}  # fmt: skip
RESENT = {
    "remit4_resent.835": era([transaction("20260324", "TR4", [("T1", "1", "100", "99.99", "ICN-T1", ["CAS*CO*45*0.01"])])], 7),
}


def _load(db, landing):
    con = warehouse.connect(db)
    loader.load_batch(con, loader.discover(landing), MemberIdHasher(TEST_KEY))
    s = Settings(as_of_date=AS_OF)
    reference.load_reference(con, s)
    con.close()
    incremental.build_all(db, s)
    return warehouse.connect(db)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rules")
    landing = tmp / "landing"
    landing.mkdir()
    for name, text in FIRST.items():
        (landing / name).write_text(text)
    c = load_and_build(landing, tmp / "w.duckdb", AS_OF)
    for name, text in RESENT.items():
        (landing / name).write_text(text)
    c.close()
    c = _load(tmp / "w.duckdb", landing)  # a second run: only the resent file is new
    yield c
    c.close()


def outcome(con, family: str) -> tuple:
    return con.execute(
        """SELECT charge_amount, initial_paid_amount, initially_denied, initially_fully_denied, initial_denied_amount,
                  initial_denial_category, initial_denial_reason
           FROM intermediate.int_claim_outcomes WHERE claim_family_id = ?""", [family]).fetchone()


def test_every_file_loaded(con):
    assert scalar(con, "SELECT count(*) FROM audit.file_manifest WHERE status = 'loaded'") == 7


# 1. PR denials: the CARC decides, not the group
def test_pr_coverage_denial_is_an_eligibility_denial(con):
    assert outcome(con, "P1") == (D("100.00"), D("0.00"), True, True, D("100.00"), "eligibility_registration", "PR-32")


def test_cost_sharing_is_never_a_denial(con):
    assert outcome(con, "P2")[2:5] == (False, False, D("0.00"))


def test_pr_denial_still_leaves_insurance_ar(con):
    # the payer shifted P1's bill to the patient: it leaves insurance A/R like any patient share
    assert scalar(con, "SELECT count(*) FROM marts.mart_ar_claim_balances WHERE claim_id IN ('P1', 'P2') "
                       "AND snapshot_date = DATE '2026-03-29'") == 0


# 2. CLP02=4 is denied whatever its CAS say, and its dollars agree with the count
def test_status_4_without_denial_carc(con):
    assert outcome(con, "D4") == (D("120.00"), D("0.00"), True, True, D("120.00"), "payer_denied_unspecified", "CLP02=4")
    row = con.execute("SELECT reasons, category, denied_amount FROM marts.mart_denied_claims WHERE claim_id = 'D4'").fetchall()
    assert row == [("CLP02=4", "payer_denied_unspecified", D("120.00"))]


def test_status_4_with_a_4010_group(con):
    assert outcome(con, "D5") == (D("90.00"), D("0.00"), True, True, D("90.00"), "duplicate", "CR-18")


def test_every_denied_claim_is_in_the_drill_down_with_its_dollars(con):
    # counts and dollars agree: the denied claims of the rates are the drill-down's claims, to the cent
    rates = con.execute("SELECT sum(claims_denied), sum(denied_amount) FROM marts.mart_weekly_denial_rates").fetchone()
    drill = con.execute("SELECT count(DISTINCT remit_claim_id), sum(denied_amount) FROM marts.mart_denied_claims").fetchone()
    # S1 200 (CO-197), P1 100, D4 120, D5 90
    assert rates == drill == (4, D("510.00"))


# 3. Repeated CLP01 in one payment
def test_split_claim_is_one_adjudication_with_every_dollar(con):
    # S1: 100 + 200 charged, 80 + 0 paid, CO-197 200 denied: one partly denied claim of 300
    assert outcome(con, "S1") == (D("300.00"), D("80.00"), True, False, D("200.00"), "authorization_referral", "CO-197")
    assert scalar(con, "SELECT count(*) FROM intermediate.int_claim_outcomes WHERE claim_family_id = 'S1'") == 1
    assert scalar(con, "SELECT count(DISTINCT adjudication_id) FROM intermediate.int_adjudications WHERE claim_id = 'S1'") == 1


def test_unmatched_repeated_clp01_with_other_payer_claim_numbers_are_two_claims(con):
    rows = con.execute(
        "SELECT claim_family_id, charge_amount, initial_paid_amount FROM intermediate.int_claim_outcomes "
        "WHERE claim_family_id LIKE 'PATACCT%' ORDER BY 1").fetchall()
    assert rows == [("PATACCT #ICN-U1", D("50.00"), D("50.00")), ("PATACCT #ICN-U2", D("70.00"), D("60.00"))]


def test_findings_name_the_file(con):
    got = {(r[0], r[1]) for r in con.execute("SELECT code, file_name FROM intermediate.int_remit_findings").fetchall()}
    assert got == {
        ("split_claim", "remit1.835"), ("ambiguous_clp01", "remit1.835"), ("denied_without_carc", "remit1.835"),
        ("repeated_trace_in_file", "remit2.835"), ("superseded_payment", "remit4.835"),
    }
    msg = scalar(con, "SELECT message FROM intermediate.int_remit_findings WHERE code = 'superseded_payment'")
    assert "remit4_resent.835" in msg and "100.00" in msg and "99.99" in msg


# 4. A trace number repeated inside one file is not a duplicate
def test_repeated_trace_in_one_file_keeps_both_payments(con):
    assert scalar(con, "SELECT count(*) FROM staging.stg_remit_claims WHERE claim_id IN ('Q1', 'Q2')") == 2
    assert scalar(con, "SELECT sum(total_paid) FROM intermediate.int_claim_outcomes WHERE claim_family_id IN ('Q1', 'Q2')") == D("100.00")


# 5. A resent ERA replaces the earlier copy: nothing doubles
def test_resent_era_replaces_the_earlier_copy(con):
    assert con.execute("SELECT paid_amount, file_id IN (SELECT file_id FROM audit.file_manifest WHERE file_name = 'remit4_resent.835') "
                       "FROM staging.stg_remit_claims WHERE claim_id = 'T1'").fetchall() == [(D("99.99"), True)]
    assert scalar(con, "SELECT count(*) FROM staging.stg_remit_payments WHERE trace_number = 'TR4' AND NOT is_duplicate") == 1


def test_money_kept_equals_the_files_less_the_superseded_copy(con):
    # CLP04 of every file: remit1 80+0+0+0+0+0+150+50+60 = 340; remit2 100; remit3 -150+170 = 20;
    # remit4 100 (superseded), resent 99.99 -> 340 + 100 + 20 + 99.99 = 559.99
    assert scalar(con, "SELECT sum(paid_amount) FROM intermediate.int_adjudications") == D("559.99")
    assert scalar(con, "SELECT sum(payment_amount) FROM staging.stg_remit_payments WHERE NOT is_duplicate") == D("559.99")


def test_incremental_build_equals_a_full_rebuild(con, tmp_path):
    full = load_and_build(_landing_all(tmp_path), tmp_path / "full.duckdb", AS_OF)
    try:
        for table in ("intermediate.int_adjudications", "intermediate.int_claim_outcomes", "marts.mart_weekly_kpis",
                      "marts.mart_denied_claims", "intermediate.int_denial_events"):
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in ("loaded_at", "file_id", "payment_id",
                    "remit_claim_id", "adjudication_id", "initial_remit_claim_id", "received_at")]
            q = f"SELECT {', '.join(cols)} FROM {table} ORDER BY ALL"
            assert con.execute(q).fetchall() == full.execute(q).fetchall(), table
    finally:
        full.close()


def _landing_all(tmp_path):
    landing = tmp_path / "all"
    landing.mkdir()
    for i, (name, text) in enumerate({**FIRST, **RESENT}.items()):
        (landing / name).write_text(text)
        os.utime(landing / name, (1_770_000_000 + i, 1_770_000_000 + i))  # the resent file is the newest
    return landing


# 6. Collections from the adjudications: a reversal after a replacement nets out
def test_reversal_after_replacement_nets_out_of_collections(con):
    # R1 family: 150 - 150 + 170 = 170 paid; contractual 50 - 50 + 30 = 30; charge of R1R 200:
    # the family alone collects 170 / (200 - 30) = 100%
    row = con.execute(
        """SELECT sum(paid_amount), sum(contractual_amount) FROM intermediate.int_adjudications
           WHERE claim_family_id = (SELECT claim_family_id FROM staging.stg_claims WHERE claim_id = 'R1R')""").fetchone()
    assert row == (D("170.00"), D("30.00"))
    # The whole book at 03-29 (billed claims only; PATACCT is unmatched). Payments 80 + 150 + 100 - 150 + 170
    # + 99.99 = 449.99; contractual 20 + 50 - 50 + 30 + 0.01 = 50.01; patient share P2 80 + P1 100 = 180.
    # Charges of the settled claims: S1 300, P1 100, P2 80, D4 120, D5 90, R1R 200, Q1 40, Q2 60, T1 100 = 1090
    k = con.execute("SELECT payments_13w, contractual_13w, patient_13w, ncr_charges, net_collection_rate "
                    "FROM marts.mart_weekly_kpis WHERE iso_week = '2026-W13'").fetchone()
    assert k[:4] == (D("449.99"), D("50.01"), D("180.00"), D("1090.00"))
    assert k[4] == pytest.approx(449.99 / (1090 - 50.01 - 180))


def test_data_quality_report_lists_each_decision_with_its_file(con, tmp_path):
    import json

    from reports import data_quality

    paths = data_quality.build_data_quality_report(con, tmp_path)
    page = (tmp_path / "data_quality" / "index.html").read_text()
    assert "Payments replaced, combined or ambiguous" in page
    assert "remit4_resent.835" in page and "repeated_trace_in_file" in page and "ambiguous_clp01" in page
    summary = json.loads(next(p for p in paths.values() if str(p).endswith(".json")).read_text())
    assert {d["code"] for d in summary["remittance_decisions"]} == {
        "superseded_payment", "repeated_trace_in_file", "split_claim", "ambiguous_clp01", "denied_without_carc"}


def test_a_resent_csv_remittance_is_stated_with_a_message(tmp_path):
    """A CSV remittance carries no payment total: the finding of its resent copy still says what
    happened (not an empty message) and names both files."""
    import shutil

    from tests.conftest import TINY, TINY_AS_OF

    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    con = load_and_build(landing, tmp_path / "w.duckdb", TINY_AS_OF)
    resent = landing / "resent"
    resent.mkdir()
    text = (TINY / "remittances" / "remit_claims.csv").read_text()
    (resent / "remit_claims_again.csv").write_text(text.replace("adjudication_id,", '"adjudication_id",', 1))
    con.close()
    con = load_and_build(landing, tmp_path / "w.duckdb", TINY_AS_OF)
    rows = con.execute("SELECT file_name, message FROM intermediate.int_remit_findings "
                       "WHERE code = 'superseded_payment' ORDER BY ALL").fetchall()
    assert rows and all(m is not None and "no total in the file" in m and "remit_claims_again.csv" in m for _, m in rows)
    assert {f for f, _ in rows} == {"remit_claims.csv"}
