"""Every weekly KPI of the marts equals an independent recomputation from the raw generated files
(tests/recompute.py: plain Python over the canonical CSVs, written from docs/metrics.md), to the
cent: initial denials in counts and dollars, denied dollars by category, A/R, A/R over 90 days and
days in A/R at every week, aging at the as-of date, and the net collection rate with its parts.

The generator plants the cases real remittances bring (docs/sample-data.md): coverage denials in
group PR, CLP02=4 without a denial code, split claims, resent ERAs, reversals after replacements.
The tiny hand-made files of tests/data/tiny are recomputed too.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest

from tests.conftest import TINY, TINY_AS_OF
from tests.helpers import load_and_build
from tests.recompute import carc_table, recompute
from transforms.settings import Settings

MONEY = ["charges_adjudicated", "charges_denied", "denied_amount", "ar_balance", "ar_over_90", "charges_13w", "payments_13w",
         "contractual_13w", "patient_13w", "ncr_charges", "ncr_payments", "ncr_contractual", "ncr_patient"]
COUNTS = ["claims_adjudicated", "claims_denied", "ar_window_days_used", "ncr_claims"]


def _compare(con, expected: dict) -> None:
    cols = ", ".join(["week_start", "days_in_ar", "net_collection_rate", *MONEY, *COUNTS])
    got = {r[0]: dict(zip(cols.split(", "), r, strict=True))
           for r in con.execute(f"SELECT {cols} FROM marts.mart_weekly_kpis ORDER BY week_start").fetchall()}
    weeks = expected["weeks"]
    assert sorted(got) == sorted(weeks)
    for wk, exp in weeks.items():
        row = got[wk]
        for k in MONEY:
            assert Decimal(row[k] or 0) == exp[k], (wk, k, row[k], exp[k])
        for k in COUNTS:
            assert int(row[k] or 0) == exp[k], (wk, k, row[k], exp[k])
        if exp["days_in_ar"] is None:
            assert row["days_in_ar"] is None, wk
        else:
            assert row["days_in_ar"] == pytest.approx(exp["days_in_ar"], rel=1e-9), (wk, "days_in_ar")
        denominator = exp["ncr_charges"] - exp["ncr_contractual"] - exp["ncr_patient"]
        if denominator:
            assert row["net_collection_rate"] == pytest.approx(float(exp["ncr_payments"] / denominator), rel=1e-9), wk
    cats = dict(con.execute(
        "SELECT category, sum(denied_amount) FROM marts.mart_denials_by_category WHERE kind = 'initial' GROUP BY 1").fetchall())
    assert {k: v for k, v in cats.items() if v} == {k: v for k, v in expected["denied_by_category"].items() if v}
    aging = dict(con.execute(
        """SELECT aging_bucket, sum(balance) FROM marts.mart_ar_claim_balances
           WHERE snapshot_date = (SELECT max(snapshot_date) FROM intermediate.int_calendar_weeks) GROUP BY 1""").fetchall())
    assert aging == {k: v for k, v in expected["aging"].items() if v}


def test_tiny_data(tmp_path):
    con = load_and_build(TINY, tmp_path / "w.duckdb", TINY_AS_OF)
    try:
        _compare(con, recompute(TINY, TINY_AS_OF, carc_table(Settings().carc_table)))
    finally:
        con.close()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from datagen import generate

    tmp = tmp_path_factory.mktemp("recompute")
    # one process: a forked generator worker inside a test process that already runs DuckDB's
    # threads can crash
    generate(tmp / "gen", claims=3000, weeks=20, seed=11, formats=("claims_csv", "remittances_csv"), workers=1)
    landing = tmp / "landing"
    landing.mkdir()
    shutil.copytree(tmp / "gen" / "claims", landing / "claims")
    shutil.copytree(tmp / "gen" / "remittances_csv", landing / "remittances_csv")
    return landing


def test_generated_data(generated, tmp_path):
    as_of = dt.date.fromisoformat(max(_dates(generated)))
    con = load_and_build(generated, tmp_path / "w.duckdb", as_of)
    try:
        assert con.execute("SELECT count(*) FROM audit.file_manifest WHERE status <> 'loaded'").fetchone()[0] == 0
        _compare(con, recompute(generated, as_of, carc_table(Settings().carc_table)))
    finally:
        con.close()


def _dates(landing) -> list[str]:
    import csv

    out = []
    for p in landing.rglob("*.csv"):
        with open(p, newline="") as fh:
            for r in csv.DictReader(fh):
                out += [r[k] for k in ("submission_date", "payment_date", "writeoff_date") if r.get(k)]
    return out
