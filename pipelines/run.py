"""Run the asset graph in-process (what `denials demo` and `denials run` do)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.definitions import PIPELINE_ASSETS, WEEKLY_ASSETS
from pipelines.report_assets import data_quality_report
from pipelines.resources import DenialsConfig, Warehouse
from transforms.warehouse import WarehouseError


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    materialized: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    metadata: dict[str, dict] = field(default_factory=dict)
    error: str | None = None


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse."""


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, wait: bool = False):
    """Hold ``<warehouse>.lock`` for the whole run: DuckDB allows one writer per file, and two runs
    interleaving their steps would each see half of the other's work. A second run fails at once
    with the holder's process id (or waits for it with ``wait=True``)."""
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        f = open(lock_path, "a+")  # noqa: SIM115 (closed by the with below)
    except OSError as e:
        raise WarehouseError(
            f"warehouse {warehouse}: cannot create its lock file {lock_path} ({e.strerror}; "
            "expected a folder this user can write to)"
        ) from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise WarehouseBusyError(
                f"the warehouse {warehouse} is in use by another run (process {holder}); "
                "run again when it has finished, or pass --wait to queue behind it"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


def resources_for(landing: Path, warehouse: Path, output: Path, settings: Path | None = None,
                  mappings: Path | None = None) -> dict:
    from pipelines.dbt_assets import dbt_resource

    return {
        "duckdb": Warehouse(database=str(warehouse)),
        "dbt": dbt_resource(),
        "denials": DenialsConfig(
            landing_dir=str(landing),
            output_dir=str(output),
            settings_path=str(settings) if settings else None,
            phi_key_file=str(warehouse.parent / "phi.key"),
            mappings_dir=str(mappings) if mappings else None,
        ),
    }


def _instance() -> dg.DagsterInstance:
    # Runs are recorded in the Dagster instance when DAGSTER_HOME is set (so `dg dev` shows
    # them); otherwise the run is ephemeral and only its results in the warehouse remain.
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_pipeline(resources: dict, log_level: str = "WARNING", selection=None, full_rebuild: bool = False) -> RunOutcome:
    logging.getLogger("dagster").setLevel(log_level)
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if full_rebuild:
        run_config["ops"] = {"model_plan": {"config": {"full_rebuild": True}}}
    with _instance() as instance:
        result = dg.materialize(
            PIPELINE_ASSETS, resources=resources, instance=instance, raise_on_error=False, run_config=run_config,
            selection=selection,
        )
        outcome = _outcome(result)
        dq_key = data_quality_report.key.to_user_string()
        if selection is None and dq_key not in outcome.materialized:
            # A blocking check stopped the graph: the auditor still gets the data-quality report.
            again = dg.materialize(
                PIPELINE_ASSETS, resources=resources, instance=instance, raise_on_error=False, run_config=run_config,
                selection=[data_quality_report.key],
            )
            extra = _outcome(again)
            outcome.materialized += extra.materialized
            outcome.metadata.update(extra.metadata)
    return outcome


def backfill_weeks(resources: dict, weeks: list[str], log_level: str = "WARNING") -> list[RunOutcome]:
    """Rewrite each week's report from the current marts: one run per week of the report_week
    partitions (the same week twice gives the same page)."""
    from pipelines.report_assets import REPORT_WEEKS
    from transforms.published import week_start

    for w in weeks:
        week_start(w)  # a clear error for a key that is not an ISO week
    logging.getLogger("dagster").setLevel(log_level)
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    outcomes = []
    with _instance() as instance:
        known = set(instance.get_dynamic_partitions(REPORT_WEEKS.name))
        instance.add_dynamic_partitions(REPORT_WEEKS.name, [w for w in weeks if w not in known])
        for w in weeks:
            result = dg.materialize(
                WEEKLY_ASSETS, resources=resources, instance=instance, raise_on_error=False, run_config=run_config,
                partition_key=w,
            )
            outcomes.append(_outcome(result))
    return outcomes


def _outcome(result: dg.ExecuteInProcessResult) -> RunOutcome:
    out = RunOutcome(success=result.success, run_id=result.run_id)
    for ev in result.get_asset_materialization_events():
        key = ev.asset_key.to_user_string()
        out.materialized.append(key)
        out.metadata[key] = {k: v.value for k, v in ev.materialization.metadata.items()}
    for ev in result.get_asset_check_evaluations():
        if not ev.passed:
            out.failed_checks.append(f"{ev.asset_key.to_user_string()}:{ev.check_name} ({ev.severity.value})")
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        if failures:
            out.error = "; ".join(
                f"{e.step_key}: {e.step_failure_data.error.message.strip().splitlines()[0] if e.step_failure_data.error else 'failed'}"
                for e in failures
            )
    return out
