"""A blocking check quarantines the files behind its failing rows and the rest of the batch is
modelled (transforms/quality/gate.py), with real DuckDB and real Great Expectations.

The failing rows are made here the way issue 24 met them: a payment loaded without a payment date
(the loader now dates such a payment by DTM*405 or quarantines the file itself, so the raw row is
emptied by hand to stand for any value a future input brings that the loader lets through)."""

from __future__ import annotations

from decimal import Decimal as D

from tests.helpers import TEST_KEY, load_and_build, scalar
from tests.test_remit_rules import AS_OF, FIRST
from transforms import incremental, reference, warehouse
from transforms.ingest import loader
from transforms.ingest.phi import MemberIdHasher
from transforms.quality import gate, suites
from transforms.settings import Settings


def _built(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    for name, text in FIRST.items():
        (landing / name).write_text(text)
    con = load_and_build(landing, tmp_path / "w.duckdb", AS_OF)
    return con, landing


def test_failing_rows_quarantine_their_file_and_the_rest_is_modelled(tmp_path):
    con, landing = _built(tmp_path)
    db = tmp_path / "w.duckdb"
    s = Settings(as_of_date=AS_OF)
    con.execute("UPDATE raw.remit_payments SET payment_date = NULL WHERE file_id = "
                "(SELECT file_id FROM audit.file_manifest WHERE file_name = 'remit2.835')")
    con.close()
    incremental.build_all(db, s, force_full=True)
    suite = suites.suite_for("staging.stg_remit_claims")
    gated = gate.validate_and_gate(db, suite, "run-1")
    con = warehouse.connect(db)
    # the first validation failed on the two claims of remit2.835, which is quarantined ...
    assert [o.description for o in gated.before if not o.success and o.severity == "error"] == ["every row has a payment date"]
    assert [(f.file_name, f.message) for f in gated.quarantined] == [
        ("remit2.835", "rows fail the blocking check: every row has a payment date")]
    assert "staging.stg_remit_claims: 2 row(s) failing, source rows" in gated.quarantined[0].location
    assert scalar(con, "SELECT status FROM audit.file_manifest WHERE file_name = 'remit2.835'") == "quarantined"
    assert con.execute("SELECT error_code FROM audit.quarantine WHERE file_name = 'remit2.835'").fetchall() == [("failed_check",)]
    # ... its rows leave the warehouse, the table passes, and the rest of the batch is modelled
    assert all(o.success for o in gated.outcomes if o.severity == "error")
    assert scalar(con, "SELECT count(*) FROM raw.remit_claims WHERE claim_id IN ('Q1', 'Q2')") == 0
    plan = incremental.latest_plan(con)
    con.close()
    incremental.dbt_runner.run(db, ["run", *incremental.dbt_args(plan)])  # the later models follow the plan, now a full one
    con = warehouse.connect(db)
    assert scalar(con, "SELECT count(*) FROM intermediate.int_claim_outcomes WHERE claim_family_id IN ('Q1', 'Q2')") == 0
    assert scalar(con, "SELECT sum(total_paid) FROM intermediate.int_claim_outcomes WHERE claim_family_id = 'S1'") == D("80.00")
    assert scalar(con, "SELECT mode FROM audit.model_plans ORDER BY plan_id DESC LIMIT 1") == "full"
    # released, the file on disk (which was fine) loads again
    assert loader.release(con, "remit2.835") == ["remit2.835"]
    loader.load_batch(con, loader.discover(landing), MemberIdHasher(TEST_KEY))
    reference.load_reference(con, s)
    con.close()
    incremental.build_all(db, s)
    con = warehouse.connect(db)
    assert scalar(con, "SELECT count(*) FROM staging.stg_remit_claims WHERE claim_id IN ('Q1', 'Q2')") == 2


def test_a_check_no_file_explains_still_blocks(tmp_path):
    con, _ = _built(tmp_path)
    con.execute("UPDATE marts.mart_weekly_denial_rates SET denial_rate = 2")
    con.close()
    gated = gate.validate_and_gate(tmp_path / "w.duckdb", suites.suite_for("marts.mart_weekly_denial_rates"), "run-2")
    con = warehouse.connect(tmp_path / "w.duckdb")
    assert gated.quarantined == [] and gated.before is None
    assert not all(o.success for o in gated.outcomes if o.severity == "error")
    assert scalar(con, "SELECT count(*) FROM audit.file_manifest WHERE status = 'quarantined'") == 0


def test_failing_row_conditions_match_great_expectations():
    # every error expectation of every suite has a row condition, but the aggregate marts' pairs
    traced = {(s.table, e.gx_type) for s in suites.SUITES for e in s.expectations
              if e.severity == "error" and gate.failing_rows(e, s.table) is None}
    assert traced == {("marts.mart_weekly_denial_rates", "ExpectColumnPairValuesAToBeGreaterThanB"),
                      ("marts.mart_weekly_denial_rates", "ExpectCompoundColumnsToBeUnique")}
