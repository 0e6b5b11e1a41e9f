"""The asset graph: ingestion -> reference -> plan -> the dbt models (pipelines/dbt_assets.py:
staging -> intermediate -> marts) -> trend alerts -> reports.

Wiring only: every asset calls one function in transforms/ or reports/.
"""


from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import progress
from pipelines.dbt_assets import INGEST_KEY, OWNERS, PLAN_KEY, REFERENCE_KEY, source_keys
from pipelines.resources import DenialsConfig
from transforms import incremental, reference, warehouse
from transforms.ingest import loader

# the dbt sources each asset writes (transforms/dbt/models/sources.yml): their lineage to the models
LOADED_TABLES = [*source_keys("raw"), dg.AssetKey(["audit", "file_manifest"])]
REFERENCE_TABLES = [k for k in source_keys("ref") if k.path[1] != "settings"]
PLAN_TABLES = [dg.AssetKey(["ref", "settings"]), *(k for k in source_keys("audit") if k.path[1].startswith("scope_"))]


def _tables(keys: list[dg.AssetKey], group: str, dep: dg.AssetKey, what: str) -> list[dg.AssetSpec]:
    return [dg.AssetSpec(k, group_name=group, kinds={"duckdb"}, owners=OWNERS, deps=[dep],
                         description=f"{'.'.join(k.path)}: {what}") for k in keys]


def _tables_written(keys: list[dg.AssetKey]):
    for k in keys:
        yield dg.MaterializeResult(asset_key=k, metadata={"dagster/table_name": ".".join(k.path)})


@dg.multi_asset(
    name="landed_files",
    specs=[dg.AssetSpec(
        INGEST_KEY, group_name="ingestion", kinds={"duckdb", "python"}, owners=OWNERS,
        description="Loads new files from the landing folder (X12 835/837, canonical CSV) into the raw "
        "tables in one transaction; records each in audit.file_manifest and quarantines unreadable ones."),
        *_tables(LOADED_TABLES, "ingestion", INGEST_KEY, "loaded from the landing folder")],
)
def landed_files(context: dg.AssetExecutionContext, duckdb: DuckDBResource, denials: DenialsConfig):
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
    yield dg.MaterializeResult(
        asset_key=INGEST_KEY,
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
    yield from _tables_written(LOADED_TABLES)


@dg.multi_asset(
    name="reference_tables",
    specs=[dg.AssetSpec(
        REFERENCE_KEY, group_name="reference", kinds={"duckdb", "csv"}, owners=OWNERS,
        description="CARC root-cause categories (transforms/reference/carc_categories.csv or the "
        "carc_categories_path setting) and payer settings (appeal windows) as ref tables."),
        *_tables(REFERENCE_TABLES, "reference", REFERENCE_KEY, "reference table")],
)
def reference_tables(duckdb: DuckDBResource, denials: DenialsConfig):
    progress.report("plan", "reference tables")
    with duckdb.get_connection() as con:
        warehouse.ensure_schema(con)
        counts = reference.load_reference(con, denials.settings())
    yield dg.MaterializeResult(asset_key=REFERENCE_KEY, metadata={f"rows_{k}": v for k, v in counts.items()})
    yield from _tables_written(REFERENCE_TABLES)


class PlanConfig(dg.Config):
    full_rebuild: bool = False  # rebuild every model whole, whatever changed


@dg.multi_asset(
    name="model_plan",
    specs=[dg.AssetSpec(
        PLAN_KEY, group_name="ingestion", kinds={"duckdb", "python"}, owners=OWNERS, deps=[INGEST_KEY, REFERENCE_KEY],
        description="How this run builds the dbt models (transforms/incremental.py): 'incremental' rebuilds the "
    "rows of the claim families the new files touch (dbt's incremental models on that scope), 'full' every model whole (first build, changed "
    "settings, reference tables or SQL, an unfinished previous run), 'none' when nothing is new. "
    "Recorded in audit.model_plans."),
        *_tables(PLAN_TABLES, "ingestion", PLAN_KEY, "written by the plan (settings the models read, keys in scope)")],
)
def model_plan(config: PlanConfig, duckdb: DuckDBResource, denials: DenialsConfig):
    progress.report("plan", "what the new files touch")
    with duckdb.get_connection() as con:
        plan = incremental.make_plan(con, denials.settings(), force_full=config.full_rebuild)
    yield dg.MaterializeResult(
        asset_key=PLAN_KEY,
        metadata={
            "plan_id": plan.plan_id,
            "mode": plan.mode,
            "reason": plan.reason,
            "new_files": plan.new_files,
            "claims_in_scope": plan.scope_claims if plan.scope_claims is not None else "all",
            "remittances_in_scope": plan.scope_remits if plan.scope_remits is not None else "all",
        }
    )
    yield from _tables_written(PLAN_TABLES)


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
