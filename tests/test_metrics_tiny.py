"""Every KPI on the tiny hand-built dataset (tests/data/tiny/README.md tells each claim's story),
with the expected value worked out by hand in the comments. As-of date: 2026-03-29 (a Sunday).

Weeks (ISO, Monday start): W11 = 03-09..03-15, W12 = 03-16..03-22, W13 = 03-23..03-29.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.conftest import TINY_AS_OF
from tests.helpers import load_and_build, scalar


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    from tests.conftest import TINY

    c = load_and_build(TINY, tmp_path_factory.mktemp("tiny") / "w.duckdb", TINY_AS_OF)
    yield c
    c.close()


def kpi(con, week: str, col: str):
    return scalar(con, f"SELECT {col} FROM marts.mart_weekly_kpis WHERE iso_week = ?", [week])


def test_initial_adjudications_are_first_primary_non_reversal(con):
    # C2's family (C2, C2R1) is adjudicated first on 03-10 (denied): that is its initial adjudication.
    # C4's reversal (A5) and re-adjudication (A6) are later; C5's secondary (A10) is not primary.
    rows = dict(con.execute(
        "SELECT claim_family_id, initial_remit_claim_id FROM intermediate.int_claim_outcomes").fetchall())
    assert rows == {"C1": "A1", "C2": "A2", "C3": "A3", "C4": "A4", "C5": "A7", "X9": "A8", "C8": "A9", "C6": "A12"}


def test_initial_denial_rate_count(con):
    # W11 initial adjudications: C1 (clean), C2 (CO-197, full), C3 (CO-16 on line 2, partial), C4 (clean)
    #   -> 2 denied / 4 adjudicated = 0.5
    assert kpi(con, "2026-W11", "claims_adjudicated") == 4
    assert kpi(con, "2026-W11", "claims_denied") == 2
    assert kpi(con, "2026-W11", "initial_denial_rate") == pytest.approx(0.5)
    # W12: C5 (primary forwarded, clean), C8 (CO-50, full), X9 (unmatched, paid) -> 1 / 3
    assert kpi(con, "2026-W12", "initial_denial_rate") == pytest.approx(1 / 3)
    # W13: C6 (CLP02=4, CO-29) -> 1 / 1. C8's second denial (03-27) is a repeat, not an initial one.
    assert kpi(con, "2026-W13", "claims_adjudicated") == 1
    assert kpi(con, "2026-W13", "initial_denial_rate") == pytest.approx(1.0)


def test_initial_denial_rate_dollars(con):
    # W11: charges adjudicated 100 + 200 + 300 + 150 = 750; charges of denied claims 200 + 300 = 500
    assert kpi(con, "2026-W11", "charges_adjudicated") == D("750.00")
    assert kpi(con, "2026-W11", "charges_denied") == D("500.00")
    assert kpi(con, "2026-W11", "initial_denial_rate_dollars") == pytest.approx(500 / 750)
    # W12: 500 (C5) + 400 (C8) + 40 (X9, CLP03 as no billed claim) = 940; denied 400
    assert kpi(con, "2026-W12", "initial_denial_rate_dollars") == pytest.approx(400 / 940)


def test_denial_rate_by_payer(con):
    # W11 by payer: P1 has C1 (clean) and C2 (denied) -> 1/2; P2 has C3 (partial) -> 1/1; MCR C4 -> 0/1
    got = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT payer_id, claims_denied, claims_adjudicated FROM marts.mart_weekly_denial_rates WHERE iso_week = '2026-W11'"
    ).fetchall()}
    assert got == {"P1": (1, 2), "P2": (1, 1), "MCR": (0, 1)}
    partial = scalar(con, "SELECT claims_partially_denied FROM marts.mart_weekly_denial_rates WHERE iso_week='2026-W11' AND payer_id='P2'")
    assert partial == 1


def test_denied_dollar_rate_beside_the_claim_charge_rate(con):
    # Denied dollars over charges adjudicated: a partly denied claim counts for its denied part only.
    # W11: C2 CO-197 200 (in full) + C3 CO-16 200 (one line of 300) = 400 / 750, against the claim-charge
    # rate 500 / 750 above. W13: C6 CLP02=4 CO-29 250 of 250 -> 1.
    assert kpi(con, "2026-W11", "denied_amount") == D("400.00")
    assert kpi(con, "2026-W11", "denied_dollar_rate") == pytest.approx(400 / 750)
    assert kpi(con, "2026-W13", "denied_dollar_rate") == pytest.approx(1.0)


def test_no_clean_claim_rate(con):
    # "Clean claim rate" (MAP Key CL-1) is about pre-submission edits, which no 835 or 837 carries;
    # counted from remittances it was exactly 1 - the initial denial rate: not a measure of its own.
    cols = {r[0] for r in con.execute("DESCRIBE marts.mart_weekly_kpis").fetchall()}
    assert "clean_claim_rate" not in cols


def test_denials_by_category_initial_and_repeat(con):
    # initial: authorization (C2 CO-197 200), missing info (C3 CO-16 200), medical necessity
    # (C8 CO-50 400), timely filing (C6 CO-29 250); repeat: C8 again (CO-50 400) on 03-27.
    got = {(r[0], r[1]): (r[2], r[3]) for r in con.execute(
        "SELECT category, kind, sum(claims_denied), sum(denied_amount) FROM marts.mart_denials_by_category GROUP BY ALL"
    ).fetchall()}
    assert got == {
        ("authorization_referral", "initial"): (1, D("200.00")),
        ("missing_invalid_information", "initial"): (1, D("200.00")),
        ("medical_necessity", "initial"): (1, D("400.00")),
        ("timely_filing", "initial"): (1, D("250.00")),
        ("medical_necessity", "repeat"): (1, D("400.00")),
    }
    # the same $400 line denied twice is $400 of initial denials, never $800
    assert scalar(con, "SELECT sum(denied_amount) FROM marts.mart_denials_by_category WHERE kind = 'initial'") == D("1050.00")


def test_rarc_and_owner_on_denial_events(con):
    r = con.execute("SELECT rarc, owner, preventable, adjustment_level FROM intermediate.int_denial_events WHERE claim_id = 'C3'").fetchone()
    assert r == ("M76", "billing", True, "line")


def test_ar_balance_by_claim_at_as_of(con):
    # Ledger to 03-29:
    # C1: +100 -70 -20 (CO-45) -10 (PR moves to the patient) = 0
    # C2: +200, denied (no event), replaced by C2R1 on 03-16: -200 = 0
    # C2R1: +200 -150 -50 = 0
    # C3: +300 -80 -20 = 200 (the CO-16 denial of line 2 stays open)
    # C4: +150 -100 -30 -20, reversal +100 +30 +20, re-adjudication -90 -40 -20 = 0
    # C5: +500 -300 -100 (PR 100 forwarded, stays), secondary -80 -20 (its PR) = 0
    # C6: +250, denied, written off -250 = 0
    # C7: +120 (not adjudicated); C8: +400, rebilled (-400 +400), denied again = 400; C9: +1000
    got = dict(con.execute(
        "SELECT claim_id, balance FROM marts.mart_ar_claim_balances WHERE snapshot_date = DATE '2026-03-29'").fetchall())
    assert got == {"C3": D("200.00"), "C7": D("120.00"), "C8": D("400.00"), "C9": D("1000.00")}


def test_ar_trend_week_by_week(con):
    # 03-08: C1 100 + C2 200 + C3 300 + C4 150 + C9 1000 = 1750
    # 03-15: C2 200 + C3 200 + C5 500 + C8 400 + C9 1000 = 2300
    # 03-22: C2R1 200 + C3 200 + C5 100 + C6 250 + C8 400 + C9 1000 = 2150
    # 03-29: 200 + 120 + 400 + 1000 = 1720
    got = dict(con.execute("SELECT iso_week, ar_balance FROM marts.mart_days_in_ar WHERE week_start >= DATE '2026-03-02'").fetchall())
    assert got == {"2026-W10": D("1750.00"), "2026-W11": D("2300.00"), "2026-W12": D("2150.00"), "2026-W13": D("1720.00")}


def test_days_in_ar_gross_90(con):
    # Charges first billed in (2025-12-29, 2026-03-29]: C1 100, C2 200, C3 300, C4 150, C5 500,
    # C6 250, C7 120, C8 400 = 2020 (rebills C2R1 and C8's second version are not new charges;
    # C9, billed 2025-12-05, is outside the window).
    # Average daily charges = 2020 / 90 = 22.444...; days in A/R = 1720 / 22.444... = 76.63
    r = con.execute("SELECT charges_in_window, days_in_ar FROM marts.mart_days_in_ar WHERE iso_week = '2026-W13'").fetchone()
    assert r[0] == D("2020.00")
    assert r[1] == pytest.approx(1720 / (2020 / 90))


def test_days_in_ar_net_basis(tmp_path):
    from tests.conftest import TINY

    con = load_and_build(TINY, tmp_path / "w.duckdb", TINY_AS_OF, ar_basis="net")
    # contractual posted in the window: C1 20 + C2R1 50 + C3 20 + C4 (30 - 30 + 40) + C5 100 = 230
    # net charges = 2020 - 230 = 1790; days = 1720 / (1790 / 90)
    assert scalar(con, "SELECT days_in_ar FROM marts.mart_days_in_ar WHERE iso_week = '2026-W13'") == pytest.approx(1720 / (1790 / 90))


def test_aging_buckets_and_share_over_90(con):
    # At 03-29 by date of service: C3 (03-03) 26 days, C7 (03-23) 6, C8 (03-09) 20 -> 0-30: 720
    # C9 (2025-12-01) 118 days -> 91-120: 1000. Share over 90 = 1000 / 1720.
    got = dict(con.execute(
        "SELECT aging_bucket, sum(ar_balance) FROM marts.mart_ar_aging WHERE snapshot_date = DATE '2026-03-29' GROUP BY 1").fetchall())
    assert got == {"0-30": D("720.00"), "91-120": D("1000.00")}
    assert kpi(con, "2026-W13", "ar_over_90_share") == pytest.approx(1000 / 1720)


def test_aging_from_bill_date(tmp_path):
    from tests.conftest import TINY

    con = load_and_build(TINY, tmp_path / "w.duckdb", TINY_AS_OF, aging_basis="bill")
    # C9 first billed 2025-12-05: 03-29 - 12-05 = 114 days -> still 91-120; C8 first billed 03-10 -> 19 days
    assert scalar(con, "SELECT age_days FROM marts.mart_ar_claim_balances WHERE claim_id='C9' AND snapshot_date = DATE '2026-03-29'") == 114
    assert scalar(con, "SELECT age_days FROM marts.mart_ar_claim_balances WHERE claim_id='C8' AND snapshot_date = DATE '2026-03-29'") == 19


def test_net_collection_rate(con):
    # Payments, contractual and patient share posted in the 91 days to 03-29, from the adjudications
    # of billed claims (X9 is unmatched: left out): payments 70 + 150 + 80 + 100 - 100 + 90 + 300 + 80
    # = 770; contractual CO-45 20 + 20 + 30 - 30 + 40 + 100 + 50 = 230; patient share left with the
    # patient: C1 PR-2 10, C4 20 - 20 + 20, C5's primary forwarded its 100 (CLP02=19) and the
    # secondary left PR-2 20 -> 50.
    assert kpi(con, "2026-W13", "payments_13w") == D("770.00")
    assert kpi(con, "2026-W13", "contractual_13w") == D("230.00")
    assert kpi(con, "2026-W13", "patient_13w") == D("50.00")
    # The rate matches the periods (MGMA/AAFP): the families initially adjudicated in the 13 weeks
    # (C1, C2+C2R1, C3, C4, C5, C6, C8; not C7, billed and not yet adjudicated) and what was posted
    # on them to 03-29. Charges: the billed charge of the claim each family's latest primary
    # adjudication settled: 100 + 200 (C2R1) + 300 + 150 + 500 + 250 + 400 = 1900.
    # 770 / (1900 - 230 - 50) = 770 / 1620.
    assert kpi(con, "2026-W13", "ncr_charges") == D("1900.00")
    assert kpi(con, "2026-W13", "ncr_claims") == 7
    assert kpi(con, "2026-W13", "net_collection_rate") == pytest.approx(770 / 1620)
    # W11 (to 03-15): C1, C2, C3, C4 adjudicated; posted by then 70 + 0 + 80 + 100 = 250; contractual
    # 20 + 20 + 30 = 70; patient 10 + 20 = 30; charges 100 + 200 + 300 + 150 = 750 -> 250 / 650
    assert kpi(con, "2026-W11", "net_collection_rate") == pytest.approx(250 / 650)


def test_kpi_windows_at_the_start_of_the_history(con):
    # The history starts 2025-12-05 (C9's bill). W49 of 2025 ends 12-07: 3 days of history. Days in
    # A/R divides the balance (C9's 1000) by the charges per day of those 3 days: 1000 / (1000 / 3) = 3,
    # flagged as a partial window; the 13-week collection window is not full either.
    row = con.execute(
        "SELECT days_in_ar, ar_window_days_used, ar_window_full, ncr_window_full FROM marts.mart_weekly_kpis "
        "WHERE iso_week = '2025-W49'").fetchone()
    assert row == (pytest.approx(3.0), 3, False, False)
    # 90 days of history are reached on 03-04 (12-05 + 89): W10 (ends 03-08) is the first full week
    assert scalar(con, "SELECT min(iso_week) FROM marts.mart_weekly_kpis WHERE ar_window_full") == "2026-W10"
    assert scalar(con, "SELECT min(iso_week) FROM marts.mart_weekly_kpis WHERE ncr_window_full") == "2026-W10"


def test_overturn_and_resolution(con):
    # C2 denied 03-10, its replacement C2R1 paid 03-24: overturned, resolved 03-24.
    # C6 written off 03-27: resolved, not overturned. C3 and C8 still open.
    got = {r[0]: (r[1], str(r[2]) if r[2] else None) for r in con.execute(
        "SELECT claim_family_id, overturned, resolution_date FROM intermediate.int_claim_outcomes WHERE initially_denied").fetchall()}
    assert got == {"C2": (True, "2026-03-24"), "C3": (False, None), "C6": (False, "2026-03-27"), "C8": (False, None)}


def test_worklist(con):
    # Open denials with a balance: C8 (repeat denial 03-27, 400) and C3 (partial, 03-11, 200).
    # Deadlines with the default 90-day window: C8 06-25 (88 days left), C3 06-09 (72 days).
    # Both more than 30 days out: ranked by dollars -> C8 first.
    rows = con.execute("SELECT priority, claim_id, open_balance, days_left, denial_kind FROM marts.mart_denial_worklist ORDER BY priority").fetchall()
    assert rows == [(1, "C8", D("400.00"), 88, "repeat"), (2, "C3", D("200.00"), 72, "initial")]


def test_money_reconciles_with_source_to_the_cent(con):
    # Source files: CLP04 sum = 70+0+80+100-100+90+300+40+0+80+150+0+0 = 810
    # CLP03 sum = 100+200+300+150-150+150+500+40+400+500+200+250+400 = 3040
    # CAS sum = 20+10+200+20+200+30+20-30-20+40+20+100+100+400+400+20+50+250+400 = 2230 = 3040 - 810
    assert scalar(con, "SELECT sum(paid_amount) FROM intermediate.int_adjudications") == D("810.00")
    assert scalar(con, "SELECT sum(charge_amount) FROM intermediate.int_adjudications") == D("3040.00")
    assert scalar(con, "SELECT sum(amount) FROM intermediate.int_adjustments") == D("2230.00")
    # every adjudication balances: CLP03 - CAS = CLP04
    assert scalar(con, "SELECT bool_and(is_balanced) FROM intermediate.int_adjudications")


def test_unmatched_remittance_is_kept_and_flagged(con):
    assert con.execute("SELECT claim_id FROM intermediate.int_adjudications WHERE NOT is_matched").fetchall() == [("X9",)]


def test_primary_denial_rate(con):
    # Primary, non-reversal remits by payment week, zero paid / all:
    # W11: A1 70, A2 0, A3 80, A4 100 -> 1/4.  W12: A6 90 (A5 is the reversal), A7 300 (CLP02=19
    # is primary), A8 40, A9 0 -> 1/4.  W13: A11 150, A12 0, A13 0 -> 2/3 (A10 is secondary).
    assert kpi(con, "2026-W11", "primary_denial_rate") == pytest.approx(1 / 4)
    assert kpi(con, "2026-W12", "primary_denial_rate") == pytest.approx(1 / 4)
    assert kpi(con, "2026-W13", "primary_denial_rate") == pytest.approx(2 / 3)


def test_final_denial_rate(con):
    # Denial write-offs in the 91 days to 03-29: C6 250. Net revenue: charges 2020 - contractual 230.
    assert kpi(con, "2026-W13", "denial_writeoffs_13w") == D("250.00")
    assert kpi(con, "2026-W13", "final_denial_rate") == pytest.approx(250 / 1790)


def test_overturn_rate(con):
    # Initial denials of W11: C2 (paid on C2R1 03-24: overturned) and C3 (open) -> 1/2.
    # W12: C8 not overturned -> 0; W13: C6 written off -> 0.
    assert kpi(con, "2026-W11", "overturn_rate") == pytest.approx(0.5)
    assert kpi(con, "2026-W12", "overturn_rate") == 0
    assert kpi(con, "2026-W13", "overturn_rate") == 0


def test_days_to_payment(con):
    # First payment minus first bill date: C1 03-10 - 03-03 = 7, C3 03-11 - 03-04 = 7,
    # C4 03-12 - 03-04 = 8 (all first paid in W11: mean 22/3); C5 03-17 - 03-10 = 7 (W12);
    # C2 (family) first paid 03-24 on C2R1 - 03-03 = 21 (W13). X9 has no bill date.
    assert kpi(con, "2026-W11", "avg_days_to_payment") == pytest.approx(22 / 3)
    assert kpi(con, "2026-W12", "avg_days_to_payment") == pytest.approx(7)
    assert kpi(con, "2026-W13", "avg_days_to_payment") == pytest.approx(21)


def test_denial_days_to_resolution(con):
    # C2: denied 03-10, paid 03-24 -> 14 days. C6: denied 03-24, written off 03-27 -> 3. Both in W13.
    assert kpi(con, "2026-W13", "avg_days_to_resolution") == pytest.approx((14 + 3) / 2)
    assert kpi(con, "2026-W13", "denials_resolved") == 2


def test_claim_facts_carry_every_slice(con):
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT claim_id, category, reason, procedure_code, provider_npi, department, location FROM marts.mart_claim_facts").fetchall()}
    assert rows["C3"] == ("missing_invalid_information", "CO-16", "99213", "1987654328", "ORTH", "NORTH")
    assert rows["C1"][0:2] == ("none", "none")


def test_kpi_by_any_dimension_agrees_with_the_weekly_mart(con):
    from transforms.metrics import kpi_by

    # W11 by department: CARD has C1 (clean), C2 (denied) -> 1/2; ORTH has C3 (denied), C4 -> 1/2
    rows = {r["department"]: (r["numerator"], r["denominator"]) for r in kpi_by(con, "initial_denial_rate", ["department"], ("2026-W11", "2026-W11"))}
    assert rows == {"CARD": (1, 2), "ORTH": (1, 2)}
    # summing any slice gives the weekly mart's figure
    for dim in ("payer", "location", "provider", "category", "carc", "procedure"):
        by = kpi_by(con, "initial_denial_rate", [dim, "week"])
        for week in ("2026-W11", "2026-W12", "2026-W13"):
            num = sum(r["numerator"] for r in by if r["week"] == week)
            den = sum(r["denominator"] for r in by if r["week"] == week)
            assert num / den == pytest.approx(kpi(con, week, "initial_denial_rate"))
    # overturn rate by payer: P1's one denied family (C2) was overturned
    assert {r["payer"]: r["value"] for r in kpi_by(con, "overturn_rate", ["payer"])}["ALPHA HEALTH"] == 1.0


def test_claim_kpis_over_13_weeks_and_by_slice(con):
    # marts.mart_claim_kpis defines the claim-level KPIs once; a 13-week row adds up the weeks' parts.
    # The 13 weeks to W13 (W01..W13) hold W11's 4 initial adjudications, W12's 3 and W13's 1: 8
    # claims, 4 denied (C2, C3, C8, C6) -> 0.5; charges 750 + 940 + 250 = 1940, of the denied claims
    # 200 + 300 + 400 + 250 = 1150; denied dollars 200 + 200 + 400 + 250 = 1050; overturned: C2 (paid
    # on its replacement C2R1) -> 1 of 4.
    cols = ("claims_adjudicated, claims_denied, charges_adjudicated, charges_denied, denied_amount, claims_overturned, "
            "initial_denial_rate, overturn_rate")
    row = con.execute(f"SELECT {cols} FROM marts.mart_claim_kpis WHERE iso_week = '2026-W13' AND window_weeks = 13 "
                      "AND dimension = 'all'").fetchone()
    assert row == (8, 4, D("1940.00"), D("1150.00"), D("1050.00"), 1, 0.5, 0.25)
    # by department: CARD has C1, C2 (denied), C5 -> 1/3 of 800; ORTH C3, C4, C8, C6 -> 3/4 of 1100
    # (denied charges 300 + 400 + 250 = 950); X9 (never billed here) is unassigned, paid -> 0/1
    got = {r[0]: r[1:] for r in con.execute(
        "SELECT member, claims_denied, claims_adjudicated, charges_adjudicated, charges_denied, initial_denial_rate "
        "FROM marts.mart_claim_kpis WHERE iso_week = '2026-W13' AND window_weeks = 13 AND dimension = 'department'").fetchall()}
    assert got == {"CARD": (1, 3, D("800.00"), D("200.00"), pytest.approx(1 / 3)), "ORTH": (3, 4, D("1100.00"), D("950.00"), 0.75),
                   "unassigned": (0, 1, D("40.00"), D("0.00"), 0.0)}
    # the weekly marts read these rows, they do not count again: W11 of all claims, P2's W11
    assert con.execute("SELECT claims_denied, claims_adjudicated, initial_denial_rate_dollars, denied_dollar_rate, overturn_rate "
                       "FROM marts.mart_claim_kpis WHERE iso_week = '2026-W11' AND window_weeks = 1 AND dimension = 'all'"
                       ).fetchone() == (2, 4, pytest.approx(500 / 750), pytest.approx(400 / 750), 0.5)
    assert con.execute("SELECT member_name, claims_denied, claims_adjudicated FROM marts.mart_claim_kpis "
                       "WHERE iso_week = '2026-W11' AND window_weeks = 1 AND dimension = 'payer' AND member = 'P2'"
                       ).fetchone() == ("BETA CARE", 1, 1)


def test_root_causes_of_13_weeks(con):
    # Initial denials of the 13 weeks to W13, by category, ranked by denied dollars (ties by code):
    # medical necessity 400 (C8), timely filing 250 (C6), authorization 200 (C2), missing info 200
    # (C3); the Pareto line adds them up: 400, 650, 850, 1050 of 1050.
    rows = con.execute("""SELECT category, claims_denied, denied_amount, rank, cumulative_share FROM marts.mart_root_causes_13w
                          WHERE iso_week = '2026-W13' AND view = 'category' ORDER BY rank""").fetchall()
    assert rows == [("medical_necessity", 1, D("400.00"), 1, pytest.approx(400 / 1050)),
                    ("timely_filing", 1, D("250.00"), 2, pytest.approx(650 / 1050)),
                    ("authorization_referral", 1, D("200.00"), 3, pytest.approx(850 / 1050)),
                    ("missing_invalid_information", 1, D("200.00"), 4, 1.0)]
    # by payer: P2 (BETA CARE) has C3, C8 and C6; P1 (ALPHA HEALTH) C2
    cells = {(r[0], r[1]): r[2] for r in con.execute(
        """SELECT payer_name, category, denied_amount FROM marts.mart_root_causes_13w
           WHERE iso_week = '2026-W13' AND view = 'payer_category'""").fetchall()}
    assert cells == {("BETA CARE", "medical_necessity"): D("400.00"), ("BETA CARE", "timely_filing"): D("250.00"),
                     ("BETA CARE", "missing_invalid_information"): D("200.00"), ("ALPHA HEALTH", "authorization_referral"): D("200.00")}
    # by reason code: CO-50, CO-29, then the two 200s by code (CO-16 before CO-197)
    assert [r[0] for r in con.execute("SELECT reason FROM marts.mart_root_causes_13w WHERE iso_week = '2026-W13' "
                                      "AND view = 'reason' ORDER BY rank").fetchall()] == ["CO-50", "CO-29", "CO-16", "CO-197"]
    # the 13 weeks to W11 hold W11's denials only: C2 and C3
    assert con.execute("SELECT sum(denied_amount) FROM marts.mart_root_causes_13w WHERE iso_week = '2026-W11' "
                       "AND view = 'category'").fetchone()[0] == D("400.00")


def test_headline_tiles_and_their_baselines(con):
    def tile(week, kpi):
        cur = con.execute("SELECT * FROM marts.mart_weekly_tiles WHERE iso_week = ? AND kpi = ?", [week, kpi])
        return dict(zip([c[0] for c in cur.description], cur.fetchone(), strict=True))

    # W13's initial denial rate 1/1 against W12's 1/3: +2/3. No 13-week average: the weeks before
    # W11 adjudicated nothing, so they have no rate.
    t = tile("2026-W13", "initial_denial_rate")
    assert (t["value"], t["baseline_last_week"], t["baseline_13_weeks"]) == (1.0, pytest.approx(1 / 3), None)
    assert t["change_last_week"] == pytest.approx(2 / 3) and t["change_13_weeks"] is None
    # days in A/R: W12 = 2150 / (1900 / 90) (charges first billed in the 90 days to 03-22: C1..C6 and
    # C8); W13 = 1720 / (2020 / 90) (test_days_in_ar_gross_90); both windows full
    t = tile("2026-W13", "days_in_ar")
    assert t["value"] == pytest.approx(1720 / (2020 / 90)) and t["baseline_last_week"] == pytest.approx(2150 / (1900 / 90))
    assert (t["window_full"], t["window_days_used"], t["window_days"]) == (True, 90, 90)
    # the first week (2025-W49, 3 days of history) is partial; W10, the first full week, has no
    # baseline (W09 is partial); W11 has W10's
    t = tile("2025-W49", "days_in_ar")
    assert (t["window_full"], t["window_days_used"], t["window_days"], t["baseline_last_week"]) == (False, 3, 90, None)
    assert tile("2026-W10", "days_in_ar")["baseline_last_week"] is None
    assert tile("2026-W11", "days_in_ar")["baseline_last_week"] == pytest.approx(tile("2026-W10", "days_in_ar")["value"])
    ncr = tile("2025-W49", "net_collection_rate")
    assert (ncr["window_full"], ncr["window_days_used"], ncr["window_days"]) == (False, 3, 91)
    # A/R over 90 days has no window: C9 (1000, served 12-01) is over 90 days from W10 on, so the
    # share is 0 in every week before, 1000 / 1750 in W10 and 1000 / 2300 in W11; the mean of the 13
    # weeks before W12 (2025-W51 .. 2026-W11) is their sum / 13
    t = tile("2026-W12", "ar_over_90_share")
    assert t["baseline_13_weeks"] == pytest.approx((1000 / 1750 + 1000 / 2300) / 13)
    assert t["change_13_weeks"] == pytest.approx(1000 / 2150 - (1000 / 1750 + 1000 / 2300) / 13)


def test_remit_balancing(con):
    # 2 remittance lines and 13 remittance claims, all balanced; no 835 file
    assert con.execute("SELECT balancing_check, checked, unbalanced, difference FROM marts.mart_remit_balancing "
                       "ORDER BY check_order").fetchall() == [
        ("service lines (SVC02 - CAS = SVC03)", 2, 0, D("0.00")), ("claims (CLP03 - CAS = CLP04)", 13, 0, D("0.00")),
        ("835 payments (sum CLP04 - PLB = BPR02)", 0, 0, D("0.00"))]


def test_kpi_by_rejects_unknown_names(con):
    from transforms.errors import ConfigError
    from transforms.metrics import kpi_by

    with pytest.raises(ConfigError, match="unknown KPI"):
        kpi_by(con, "denial_ratio", [])
    with pytest.raises(ConfigError, match="unknown dimension"):
        kpi_by(con, "initial_denial_rate", ["patient"])
    with pytest.raises(ConfigError, match="one dimension"):
        kpi_by(con, "initial_denial_rate", ["payer", "department"])


def test_remittance_matched_by_line_control_number_or_payer_claim_number(tmp_path):
    """A remittance whose CLP01 was mangled by the payer still finds its claim: first through the
    REF*6R line control numbers of its lines, else through the payer claim number (CLP07) of an
    earlier adjudication of the same payer."""
    import shutil

    from tests.conftest import TINY

    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    rc = landing / "remittances" / "remit_claims.csv"
    # A3 (C3, lines C3-1 / C3-2) comes back as "C3X"; A6 (C4 re-adjudicated, PCN4B) as "C4X"
    # with the payer claim number PCN4 of A4, which matched C4
    text = rc.read_text().replace(",C3,1,300.00,", ",C3X,1,300.00,").replace("A6,T400,2026-03-19,MCR,MEDICARE,C4,1,150.00,90.00,20.00,PCN4B",
                                                                          "A6,T400,2026-03-19,MCR,MEDICARE,C4X,1,150.00,90.00,20.00,PCN4")
    rc.write_text(text)
    c = load_and_build(landing, tmp_path / "w.duckdb", TINY_AS_OF)
    got = dict(c.execute("SELECT remit_claim_id, match_method || ':' || claim_id FROM intermediate.int_adjudications "
                         "WHERE remit_claim_id IN ('A3', 'A6', 'A8')").fetchall())
    assert got == {"A3": "line_control_number:C3", "A6": "payer_claim_number:C4", "A8": "unmatched:X9"}
    # the KPIs do not move: W11 is still 2 of 4 denied
    assert scalar(c, "SELECT initial_denial_rate FROM marts.mart_weekly_kpis WHERE iso_week = '2026-W11'") == pytest.approx(0.5)
