"""The asset graph: ingestion -> reference -> staging -> intermediate -> marts -> reports.

Wiring only: every asset calls one function in transforms/ or reports/.
"""


import dataclasses
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import progress
from pipelines.resources import DenialsConfig
from transforms import incremental, models, reference, warehouse
from transforms.ingest import loader
from transforms.quality import gate, suites, validate

INGEST_KEY = dg.AssetKey(["raw", "landed_files"])
REFERENCE_KEY = dg.AssetKey(["ref", "reference_tables"])
PLAN_KEY = dg.AssetKey(["audit", "model_plan"])
OWNERS = ["team:revenue-cycle-analytics"]


@dg.asset(
    key=INGEST_KEY,
    group_name="ingestion",
    kinds={"duckdb", "python"},
    owners=OWNERS,
    description="Loads new files from the landing folder (X12 835/837, canonical CSV) into the raw "
    "tables in one transaction; records each in audit.file_manifest and quarantines unreadable ones.",
)
def landed_files(context: dg.AssetExecutionContext, duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    if denials.mappings_dir:  # a broken mapping file stops the run here, naming it (pipelines/resources.py)
        from pipelines.resources import check_mappings

        check_mappings(Path(denials.mappings_dir))
    paths, skipped = loader.scan(Path(denials.landing_dir))
    progress.report("ingest", f"{len(paths)} files in {denials.landing_dir}")
    with duckdb.get_connection() as con:
        result = loader.load_batch(
            con, paths, denials.hasher(), mappings_dir=Path(denials.mappings_dir) if denials.mappings_dir else None
        )
        loader.record_skipped(con, skipped, result.batch_id)
        totals = dict(con.execute("SELECT 'manifest_files', count(*) FROM audit.file_manifest").fetchall())
    for s in skipped:
        context.log.warning(f"skipped {s.path}: {s.reason}")
    for f in result.files:
        if f.status == "quarantined":
            context.log.warning(f"quarantined {f.path.name}: {f.error}")
    context.log.info(
        f"batch {result.batch_id}: {result.count('loaded')} loaded, {result.count('skipped')} already loaded, "
        f"{result.count('quarantined')} quarantined, {result.rows_loaded} rows"
    )
    return dg.MaterializeResult(
        metadata={
            "batch_id": result.batch_id,
            "files_seen": len(result.files),
            "files_loaded": result.count("loaded"),
            "files_skipped": result.count("skipped"),
            "files_skipped_quarantined_before": sum(f.previously_quarantined for f in result.files),
            "files_quarantined": result.count("quarantined"),
            "paths_skipped": len(skipped),
            "rows_loaded": result.rows_loaded,
            "files_in_manifest": totals["manifest_files"],
        }
    )


@dg.asset(
    key=REFERENCE_KEY,
    group_name="reference",
    kinds={"duckdb", "csv"},
    owners=OWNERS,
    description="CARC root-cause categories (transforms/reference/carc_categories.csv or the "
    "carc_categories_path setting) and payer settings (appeal windows) as ref tables.",
)
def reference_tables(duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    progress.report("plan", "reference tables")
    with duckdb.get_connection() as con:
        warehouse.ensure_schema(con)
        counts = reference.load_reference(con, denials.settings())
    return dg.MaterializeResult(metadata={f"rows_{k}": v for k, v in counts.items()})


class PlanConfig(dg.Config):
    full_rebuild: bool = False  # rebuild every model whole, whatever changed


@dg.asset(
    key=PLAN_KEY,
    group_name="ingestion",
    kinds={"duckdb", "python"},
    owners=OWNERS,
    deps=[INGEST_KEY, REFERENCE_KEY],
    description="How this run builds the models (transforms/incremental.py): 'incremental' rebuilds the "
    "rows of the claim families the new files touch, 'full' every model whole (first build, changed "
    "settings, reference tables or SQL, an unfinished previous run), 'none' when nothing is new. "
    "Recorded in audit.model_plans.",
)
def model_plan(config: PlanConfig, duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    progress.report("plan", "what the new files touch")
    with duckdb.get_connection() as con:
        plan = incremental.make_plan(con, denials.settings(), force_full=config.full_rebuild)
    return dg.MaterializeResult(
        metadata={
            "plan_id": plan.plan_id,
            "mode": plan.mode,
            "reason": plan.reason,
            "new_files": plan.new_files,
            "claims_in_scope": plan.scope_claims if plan.scope_claims is not None else "all",
            "remittances_in_scope": plan.scope_remits if plan.scope_remits is not None else "all",
        }
    )


def _dep_key(table: str) -> dg.AssetKey:
    schema, _ = table.split(".")
    if schema in ("raw", "audit"):
        return INGEST_KEY
    if schema == "ref":
        return REFERENCE_KEY
    return dg.AssetKey(table.split("."))


def _check_specs(model: models.Model) -> list[dg.AssetCheckSpec]:
    suite = suites.suite_for(model.table)
    if suite is None:
        return []
    key = dg.AssetKey([model.layer, model.name])
    specs = []
    for severity in ("error", "warning"):
        exps = [e for e in suite.expectations if e.severity == severity]
        if exps:
            specs.append(
                dg.AssetCheckSpec(
                    name=f"{suite.name}_{severity}s",
                    asset=key,
                    blocking=severity == "error",
                    description=f"Great Expectations suite '{suite.name}', {severity} expectations: "
                    + "; ".join(e.description for e in exps),
                )
            )
    return specs


def _model_asset(model: models.Model) -> dg.AssetsDefinition:
    suite = suites.suite_for(model.table)

    @dg.asset(
        key=[model.layer, model.name],
        group_name=model.layer,
        kinds={"duckdb", "sql"},
        owners=OWNERS,
        description=model.description or None,
        deps=sorted({_dep_key(d) for d in model.deps} | {PLAN_KEY}, key=lambda k: k.to_user_string()),
        check_specs=_check_specs(model),
        metadata={"sql_file": str(model.path.relative_to(models.SQL_DIR.parent.parent)), "table": model.table},
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource, denials: DenialsConfig):
        settings = denials.settings()
        progress.report("models", model.table)
        with duckdb.get_connection() as con:
            built = incremental.build(con, model, settings)
            yield dg.MaterializeResult(
                metadata={
                    "dagster/row_count": built.rows,
                    "dagster/table_name": model.table,
                    "dagster/column_schema": _table_schema(con, model.table),
                    "build": built.mode,
                    "rows_written": built.rows_written,
                }
            )
            if suite is not None:
                # an incremental build is validated on the rows it rebuilt; rows failing a blocking
                # check quarantine their files and the rest is rebuilt and validated (gate.py)
                progress.report("checks", suite.name)
                source, where = incremental.rebuilt_rows(con, model.table)
                gated = gate.validate_and_gate(con, suite, settings, context.run_id, where=where, source=source)
                if gated.before is not None:
                    # the failure that quarantined files, kept in the history as severity 'quarantine'
                    names = ", ".join(f.file_name for f in gated.quarantined)
                    validate.record(con, context.run_id, [
                        dataclasses.replace(o, severity="quarantine", description=f"{o.description} (quarantined: {names})")
                        for o in gated.before if o.severity == "error" and not o.success])
                    for f in gated.quarantined:
                        context.log.warning(f"quarantined {f.file_name}: {f.message} ({f.location})")
                validate.record(con, context.run_id, gated.outcomes)
                yield from _check_results(suite, gated.outcomes, gated.quarantined)

    return _asset


def _table_schema(con, table: str) -> dg.TableSchema:
    """The table's columns and types, as Dagster shows them (the asset's Columns tab)."""
    schema, name = table.split(".")
    return dg.TableSchema(columns=[
        dg.TableColumn(name=c, type=t) for c, t in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
            "AND database_name = current_database() ORDER BY column_index", [schema, name]).fetchall()])


def _check_results(suite: suites.Suite, outcomes: list[validate.ExpectationOutcome],
                   quarantined: list[gate.QuarantinedFile] | None = None):
    for severity in ("error", "warning"):
        mine = [o for o in outcomes if o.severity == severity]
        if not mine:
            continue
        failed = [o for o in mine if not o.success]
        yield dg.AssetCheckResult(
            check_name=f"{suite.name}_{severity}s",
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR if severity == "error" else dg.AssetCheckSeverity.WARN,
            metadata={
                "expectations": len(mine),
                "failed": len(failed),
                "failures": dg.MetadataValue.md(
                    "\n".join(f"- {o.description}: {o.unexpected_count} of {o.element_count} rows" for o in failed)
                    or "none"
                ),
                "quarantined_files": dg.MetadataValue.md(
                    "\n".join(f"- {f.file_name}: {f.message}" for f in quarantined or []) or "none"),
            },
        )


MODEL_ASSETS = [_model_asset(m) for m in models.discover()]


@dg.asset(
    key=["marts", "mart_trend_alerts"],
    group_name="marts",
    kinds={"duckdb", "python"},
    owners=OWNERS,
    deps=[dg.AssetKey(["marts", "mart_claim_facts"]), dg.AssetKey(["intermediate", "int_denial_events"]),
          dg.AssetKey(["intermediate", "int_calendar_weeks"])],
    description="Denial-rate trend alerts: weekly initial denial rates of every payer, category, and "
    "payer/department/location by category, against p-chart limits with an exact binomial test "
    "(transforms/trends.py); each alert with start week, size, dollars at stake and a sentence.",
)
def mart_trend_alerts(duckdb: DuckDBResource) -> dg.MaterializeResult:
    from transforms import trends

    progress.report("trends", "denial-rate alerts")
    with duckdb.get_connection() as con:
        alerts = trends.detect(con)
        trends.write_alerts(con, alerts)
    return dg.MaterializeResult(
        metadata={"alerts": len(alerts), "top": dg.MetadataValue.md("\n".join(f"- {a.sentence}" for a in alerts[:5]) or "none")}
    )
