"""Weekly partitions, backfills and incremental runs through Dagster (real runs, real DuckDB files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.definitions import defs
from pipelines.run import backfill_weeks, resources_for, run_pipeline
from tests.conftest import TINY_AS_OF
from tests.test_incremental import _differences, _split_tiny
from transforms import incremental, published, warehouse
from transforms.settings import Settings


def _marts(db: Path) -> dict[str, list[tuple]]:
    """Every table of the marts schema, rows sorted."""
    con = duckdb.connect(str(db), read_only=True)
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY table_name").fetchall()]
    out = {t: sorted(con.execute(f"SELECT * FROM marts.{t}").fetchall(), key=repr) for t in tables}
    con.close()
    return out


def test_backfilling_a_week_rewrites_the_pipelines_page_and_changes_no_table(tiny_landing, tiny_settings, tmp_path):
    db, out = tmp_path / "wh" / "w.duckdb", tmp_path / "out"
    res = resources_for(tiny_landing, db, out, tiny_settings)
    assert run_pipeline(res).success
    weeks = ["2026-W11", "2026-W12"]
    page = out / "weekly" / "2026-W11.html"
    written = page.read_text()
    page.unlink()
    before = _marts(db)

    first = backfill_weeks(res, weeks)
    assert all(o.success for o in first), [o.error for o in first]
    # one way to write a page: the backfill writes the page the pipeline wrote
    assert page.read_text() == written
    second = backfill_weeks(res, weeks)
    assert all(o.success for o in second)
    assert page.read_text() == written
    # no copy of the figures is kept apart from the page
    assert _marts(db) == before and not [t for t in before if t.startswith("published_")]


def test_a_run_drops_the_published_tables_of_earlier_versions(tiny_landing, tiny_settings, tmp_path):
    db, out = tmp_path / "wh" / "w.duckdb", tmp_path / "out"
    res = resources_for(tiny_landing, db, out, tiny_settings)
    assert run_pipeline(res).success
    con = warehouse.connect(db)
    con.execute("CREATE TABLE marts.published_weekly_kpis AS SELECT '2026-W11' AS published_week, * FROM marts.mart_weekly_kpis")
    con.close()
    assert run_pipeline(res).success
    assert not [t for t in _marts(db) if t.startswith("published_")]


def test_backfill_cli_takes_a_range_and_refuses_a_bad_week(tiny_landing, tiny_settings, tmp_path):
    db, out = tmp_path / "wh" / "w.duckdb", tmp_path / "out"
    assert run_pipeline(resources_for(tiny_landing, db, out, tiny_settings)).success
    r = CliRunner().invoke(app, ["backfill", "2026-W11..2026-W12", "--warehouse", str(db), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "2026-W11:" in r.output and "2026-W12:" in r.output
    # `denials report` writes the same page as the pipeline and the backfill
    r = CliRunner().invoke(app, ["report", "--week", "2026-W11", "--warehouse", str(db), "--out", str(tmp_path / "again")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "again" / "weekly" / "2026-W11.html").read_text() == (out / "weekly" / "2026-W11.html").read_text()
    r = CliRunner().invoke(app, ["backfill", "2026-W99", "--warehouse", str(db), "--out", str(out)])
    assert r.exit_code == 2 and "not an ISO week" in r.output


def test_partitions_are_defined_and_added_by_the_pipeline(tiny_landing, tiny_settings, tmp_path, monkeypatch):
    job = defs.resolve_job_def("weekly_report_backfill")
    assert job.partitions_def is not None and job.partitions_def.name == "report_week"
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert run_pipeline(resources_for(tiny_landing, tmp_path / "w.duckdb", tmp_path / "out", tiny_settings)).success
    with dg.DagsterInstance.get() as instance:
        keys = instance.get_dynamic_partitions("report_week")
    con = warehouse.connect(tmp_path / "w.duckdb", read_only=True)
    assert keys == published.completed_weeks(con)
    con.close()


def test_pipeline_runs_incrementally_and_equals_a_full_rebuild(tmp_path, monkeypatch):
    """Two Dagster runs: the second loads a new batch, builds the models incrementally, writes
    only the pages it must, and leaves the same tables as a full rebuild."""
    batches = _split_tiny(tmp_path / "batches", 2, seed=11)
    landing = tmp_path / "landing"
    shutil.copytree(batches[0], landing)
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(f"as_of_date: {TINY_AS_OF.isoformat()}\n")
    db, out = tmp_path / "wh" / "w.duckdb", tmp_path / "out"
    res = resources_for(landing, db, out, settings_file)
    first = run_pipeline(res)
    assert first.success and first.metadata["audit/model_plan"]["mode"] == "full"
    shutil.copytree(batches[1], landing, dirs_exist_ok=True)
    # the tiny batches touch most of its 11 claims: build incrementally anyway
    monkeypatch.setattr(incremental, "FULL_SHARE", 1.0)
    second = run_pipeline(res)
    assert second.success, second.error
    plan = second.metadata["audit/model_plan"]
    assert plan["mode"] == "incremental", plan
    con = duckdb.connect(str(db), read_only=True)
    builds = dict(con.execute("SELECT model, mode FROM audit.model_state WHERE plan_id = ?", [plan["plan_id"]]).fetchall())
    con.close()
    assert builds["staging.stg_claims"] == "incremental" and builds["marts.mart_weekly_kpis"] == "full"
    assert _differences(db, tmp_path, Settings(as_of_date=TINY_AS_OF)) == {}
    assert "Models built incrementally" in (out / "data_quality" / "index.html").read_text()
    third = run_pipeline(res)
    assert third.success and third.metadata["audit/model_plan"]["mode"] == "none"
    assert third.metadata["audit/model_plan"]["new_files"] == 0
