"""Report assets: the weekly dashboard, the worklist files and the data-quality report."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.assets import INGEST_KEY, OWNERS
from pipelines.resources import DenialsConfig
from reports import dashboard, data_quality, worklist
from transforms.quality import suites

DASHBOARD_DEPS = [
    dg.AssetKey(["marts", n])
    for n in ("mart_weekly_kpis", "mart_weekly_denial_rates", "mart_denials_by_category", "mart_ar_aging",
              "mart_days_in_ar", "mart_denial_worklist", "mart_trend_alerts", "mart_claim_facts", "mart_denied_claims")
]


@dg.asset(
    key=["reports", "weekly_dashboard"],
    group_name="reports",
    kinds={"html", "plotly"},
    owners=OWNERS,
    deps=DASHBOARD_DEPS,
    description="The weekly denial and A/R dashboard: one offline HTML page per completed ISO week "
    "(output_dir/weekly/<week>.html) and an index; plotly.js is written once to output_dir/assets.",
)
def weekly_dashboard(duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    out = denials.output_path()
    with duckdb.get_connection() as con:
        pages = dashboard.build_all_weeks(con, out)
    latest = pages["latest"]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(latest)) if latest else "no completed week",
            "index": dg.MetadataValue.path(str(pages["index"])),
            "weeks": len(pages["weeks"]),
        }
    )


@dg.asset(
    key=["reports", "denial_worklist_files"],
    group_name="reports",
    kinds={"csv", "excel"},
    owners=OWNERS,
    deps=[dg.AssetKey(["marts", "mart_denial_worklist"])],
    description="The denial worklist as CSV and XLSX (output_dir/worklist/), ranked by appeal deadline and dollars.",
)
def denial_worklist_files(duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        paths = worklist.write_worklist(con, denials.output_path())
    return dg.MaterializeResult(
        metadata={"csv": dg.MetadataValue.path(str(paths["csv"])), "xlsx": dg.MetadataValue.path(str(paths["xlsx"])),
                  "rows": paths["rows"]}
    )


@dg.asset(
    key=["reports", "data_quality_report"],
    group_name="reports",
    kinds={"html", "great_expectations"},
    owners=OWNERS,
    deps=[INGEST_KEY] + [dg.AssetKey(s.asset_path) for s in suites.SUITES],
    description="The auditor's data-quality report (output_dir/data_quality/index.html and results.json): "
    "files loaded, quarantine, load findings, and this run's Great Expectations results.",
)
def data_quality_report(context: dg.AssetExecutionContext, duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        paths = data_quality.build_data_quality_report(con, denials.output_path())
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(paths["html"])), "json": dg.MetadataValue.path(str(paths["json"]))}
    )
