"""The dbt models as Dagster assets (dagster-dbt), and the Great Expectations suites as blocking
checks on them.

One asset per dbt model, keyed ``[layer, model]`` in the group of its layer. The models are built
by three ops, one per layer (staging, intermediate, marts), each running ``dbt build`` on its
layer: dbt's data tests come back as asset checks of the models they test. The Great Expectations
suites (transforms/quality/suites.py) are checks of their own, run after their model's layer;
their error expectations are blocking: a failure explained by files quarantines those files and
rebuilds (transforms/quality/gate.py), a failure no file explains stops the models downstream.
How each layer is built (``--full-refresh`` or dbt's incremental models on the plan's scope) is
the plan's decision (transforms/incremental.py, asset audit/model_plan).
"""


import contextlib
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from pipelines import progress
from pipelines.resources import Warehouse
from transforms import dbt_runner, incremental, warehouse
from transforms.quality import gate, suites, validate

INGEST_KEY = dg.AssetKey(["raw", "landed_files"])
REFERENCE_KEY = dg.AssetKey(["ref", "reference_tables"])
PLAN_KEY = dg.AssetKey(["audit", "model_plan"])
OWNERS = ["team:revenue-cycle-analytics"]


class Translator(DagsterDbtTranslator):
    """Models keyed [layer, name] in their layer's group, sources [schema, table]: the tables the
    ingestion, reference and plan assets write (pipelines/assets.py, SOURCE_TABLES)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"] if dbt_resource_props["resource_type"] == "model" else None

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return OWNERS


TRANSLATOR = Translator()


def source_keys(schema: str) -> list[dg.AssetKey]:
    """The asset keys of the dbt sources of one schema (sources.yml)."""
    from transforms.parquet_export import source_tables

    return [dg.AssetKey([s, t]) for s, t in source_tables() if s == schema]
MANIFEST = dbt_runner.ensure_manifest()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=os.fspath(dbt_runner.DBT_DIR), profiles_dir=os.fspath(dbt_runner.DBT_DIR),
                          dbt_executable=dbt_runner.dbt_executable())


@contextlib.contextmanager
def _dbt_environment(database: str):
    """The warehouse dbt opens (profiles.yml reads DENIALS_WAREHOUSE), for this step only."""
    saved = {k: os.environ.get(k) for k in ("DENIALS_WAREHOUSE", "DENIALS_DUCKDB_MEMORY")}
    os.environ.update(DENIALS_WAREHOUSE=str(Path(database).resolve()), DENIALS_DUCKDB_MEMORY=warehouse.memory_limit())
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _layer_assets(layer: str) -> dg.AssetsDefinition:
    @dbt_assets(manifest=MANIFEST, select=f"fqn:denials.{layer}.*", name=f"dbt_{layer}", dagster_dbt_translator=TRANSLATOR)
    def _layer(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: Warehouse):
        with duckdb.get_connection() as con:
            plan = incremental.latest_plan(con)
        duckdb.release()  # dbt opens the file in its own process
        progress.report("models", f"{layer} ({'full' if plan is None or plan.mode == 'full' else 'incremental'})")
        with _dbt_environment(duckdb.database):
            invocation = dbt.cli(["build", "--indirect-selection", "buildable", *incremental.dbt_args(plan)], context=context,
                                 target_path=dbt_runner.target_path(duckdb.database) / layer)
            yield from invocation.stream()

    return _layer


DBT_ASSETS = [_layer_assets(layer) for layer in dbt_runner.LAYERS]


def _check_specs(suite: suites.Suite) -> list[dg.AssetCheckSpec]:
    key = dg.AssetKey(suite.table.split("."))
    specs = []
    for severity in ("error", "warning"):
        exps = [e for e in suite.expectations if e.severity == severity]
        if exps:
            specs.append(dg.AssetCheckSpec(
                name=f"{suite.name}_{severity}s", asset=key, blocking=severity == "error",
                description=f"Great Expectations suite '{suite.name}', {severity} expectations: "
                + "; ".join(e.description for e in exps)))
    return specs


def _suite_check(suite: suites.Suite) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(specs=_check_specs(suite), name=f"gx_{suite.name}", can_subset=False)
    def _check(context: dg.AssetCheckExecutionContext, duckdb: Warehouse):
        # an incremental build is validated on the rows it rebuilt; rows failing a blocking check
        # quarantine their files, and the model and what it reads are rebuilt and validated whole
        progress.report("checks", suite.name)
        with duckdb.get_connection() as con:
            where = incremental.scope_filter(con, suite.table)
        duckdb.release()
        gated = gate.validate_and_gate(duckdb.database, suite, context.op_execution_context.run_id, where=where)
        with duckdb.get_connection() as con:
            if gated.before is not None:
                # the failure that quarantined files, kept in the history as severity 'quarantine'
                names = ", ".join(f.file_name for f in gated.quarantined)
                validate.record(con, context.op_execution_context.run_id, [
                    dataclasses.replace(o, severity="quarantine", description=f"{o.description} (quarantined: {names})")
                    for o in gated.before if o.severity == "error" and not o.success])
                for f in gated.quarantined:
                    context.log.warning(f"quarantined {f.file_name}: {f.message} ({f.location})")
            validate.record(con, context.op_execution_context.run_id, gated.outcomes)
        yield from _check_results(suite, gated.outcomes, gated.quarantined)

    return _check


def _check_results(suite: suites.Suite, outcomes: list[validate.ExpectationOutcome],
                   quarantined: list[gate.QuarantinedFile] | None = None):
    for severity in ("error", "warning"):
        mine = [o for o in outcomes if o.severity == severity]
        if not mine:
            continue
        failed = [o for o in mine if not o.success]
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey(suite.table.split(".")),
            check_name=f"{suite.name}_{severity}s",
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR if severity == "error" else dg.AssetCheckSeverity.WARN,
            metadata={
                "expectations": len(mine),
                "failed": len(failed),
                "failures": dg.MetadataValue.md(
                    "\n".join(f"- {o.description}: {o.unexpected_count} of {o.element_count} rows" for o in failed)
                    or "none"),
                "quarantined_files": dg.MetadataValue.md(
                    "\n".join(f"- {f.file_name}: {f.message}" for f in quarantined or []) or "none"),
            },
        )


GX_CHECKS = [_suite_check(s) for s in suites.SUITES]
