"""The asset graph run for real: dg.materialize in-process, DuckDB file under tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import PIPELINE_ASSETS, defs
from pipelines.run import resources_for, run_pipeline
from transforms import dbt_runner, warehouse


def _run(landing: Path, tmp: Path, settings: Path):
    res = resources_for(landing, tmp / "wh" / "w.duckdb", tmp / "out", settings)
    return dg.materialize(PIPELINE_ASSETS, resources=res, raise_on_error=False), tmp / "wh" / "w.duckdb", tmp / "out"


def test_definitions_load_and_cover_every_model():
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    for m in dbt_runner.discover():
        assert f"{m.layer}/{m.name}" in keys
    assert {"raw/landed_files", "ref/reference_tables", "reports/weekly_dashboard", "reports/data_quality_report",
            "reports/denial_worklist_files"} <= keys
    assert defs.resolve_job_def("denials_pipeline") is not None


def test_full_graph_materializes_on_tiny_data(tiny_landing, tiny_settings, tmp_path):
    result, db, out = _run(tiny_landing, tmp_path, tiny_settings)
    assert result.success
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    # every error-severity suite passes; the one warning is the unmatched remittance X9
    assert all(passed for (_, name), passed in checks.items() if name.endswith("_errors"))
    assert checks[("intermediate/int_adjudications", "adjudications_warnings")] is False
    assert (out / "weekly" / "2026-W13.html").exists()
    assert (out / "weekly" / "index.html").exists()
    assert (out / "assets" / "plotly.min.js").exists()
    assert (out / "worklist" / "denial_worklist.csv").read_text().count("\n") == 3
    assert (out / "worklist" / "denial_worklist.xlsx").exists()
    dq = json.loads((out / "data_quality" / "results.json").read_text())
    assert dq["errors_failed"] == 0 and dq["warnings_failed"] == 1
    con = warehouse.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM audit.dq_results").fetchone()[0] == len(dq["expectations"])


def test_kpis_follow_the_input(tiny_landing, tiny_settings, tmp_path):
    """Done-when 2: change the input, see the KPI (and the report) change."""
    _, db, out = _run(tiny_landing, tmp_path / "a", tiny_settings)
    con = warehouse.connect(db, read_only=True)
    before = con.execute("SELECT initial_denial_rate FROM marts.mart_weekly_kpis WHERE iso_week = '2026-W11'").fetchone()[0]
    con.close()
    assert before == pytest.approx(0.5)
    page = (out / "weekly" / "2026-W11.html").read_text()
    assert 'data-kpi="initial_denial_rate"' in page and ">50.0%<" in page

    # C1's contractual adjustment becomes a missing-information denial (CO-16): W11 now 3 of 4 denied
    adj = tiny_landing / "remittances" / "remit_adjustments.csv"
    adj.write_text(adj.read_text().replace("A1,,CO,45,20.00,", "A1,,CO,16,20.00,"))
    _, db2, out2 = _run(tiny_landing, tmp_path / "b", tiny_settings)
    con = warehouse.connect(db2, read_only=True)
    after = con.execute("SELECT initial_denial_rate FROM marts.mart_weekly_kpis WHERE iso_week = '2026-W11'").fetchone()[0]
    assert after == pytest.approx(0.75)
    assert ">75.0%<" in (out2 / "weekly" / "2026-W11.html").read_text()


def test_a_blocking_check_quarantines_the_file_behind_it_and_the_batch_goes_on(tiny_landing, tiny_settings, tmp_path):
    """A claims file whose claim has a negative charge loads (the loader checks shapes, not this)
    and fails the blocking check 'billed charges are not negative': that file is quarantined with
    the check, the rows and the place; every other file is modelled and reported."""
    (tiny_landing / "claims" / "claims_extra.csv").write_text(
        "claim_id,claim_type,frequency_code,original_claim_id,submission_date,service_from,service_to,total_charge,payer_id\n"
        "N1,professional,1,,2026-03-25,2026-03-23,2026-03-23,-50.00,P1\n")
    outcome = run_pipeline(resources_for(tiny_landing, tmp_path / "w.duckdb", tmp_path / "out", tiny_settings))
    assert outcome.success
    assert "reports/weekly_dashboard" in outcome.materialized and "marts/mart_weekly_kpis" in outcome.materialized
    con = warehouse.connect(tmp_path / "w.duckdb", read_only=True)
    assert con.execute("SELECT file_name, error_code, location, message FROM audit.quarantine").fetchall() == [
        ("claims_extra.csv", "failed_check", "staging.stg_claims: 1 row(s) failing, source rows 2",
         "rows fail the blocking check: billed charges are not negative")]
    assert con.execute("SELECT count(*) FROM staging.stg_claims WHERE claim_id = 'N1'").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM staging.stg_claims").fetchone()[0] == 10
    dq = json.loads((tmp_path / "out" / "data_quality" / "results.json").read_text())
    assert dq["errors_failed"] == 0
    assert [q["file_name"] for q in dq["quarantine"]] == ["claims_extra.csv"]
    # the history keeps the failing validation that led to the quarantine
    assert con.execute("SELECT description FROM audit.dq_results WHERE NOT success AND severity = 'quarantine'").fetchall() == [
        ("billed charges are not negative (quarantined: claims_extra.csv)",)]


def test_a_repeated_adjudication_id_in_one_file_uses_the_last_line(tiny_landing, tiny_settings, tmp_path):
    """The same adjudication id twice in one remittance export: the loader's finding says the last
    line is used, and it is (nothing blocks)."""
    rc = tiny_landing / "remittances" / "remit_claims.csv"
    lines = rc.read_text().splitlines()
    rc.write_text("\n".join(lines + [lines[1].replace("T100", "T101")]) + "\n")  # A1 again, other payment
    outcome = run_pipeline(resources_for(tiny_landing, tmp_path / "w.duckdb", tmp_path / "out", tiny_settings))
    assert outcome.success
    con = warehouse.connect(tmp_path / "w.duckdb", read_only=True)
    assert con.execute("SELECT code FROM audit.load_findings WHERE code LIKE 'duplicate%'").fetchall() == [("duplicate_adjudication_id",)]
    assert con.execute("SELECT trace_number FROM staging.stg_remit_claims WHERE remit_claim_id = 'A1'").fetchall() == [("T101",)]
