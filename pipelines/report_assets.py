"""Report assets: the weekly dashboard, the worklist files and the data-quality report."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import progress
from pipelines.assets import INGEST_KEY, OWNERS
from pipelines.resources import DenialsConfig
from reports import dashboard, data_quality, worklist
from transforms import incremental, published
from transforms.quality import suites

# One partition per completed ISO week (e.g. 2026-W45), added by the pipeline as weeks complete.
REPORT_WEEKS = dg.DynamicPartitionsDefinition(name="report_week")

DASHBOARD_DEPS = [
    dg.AssetKey(["marts", n])
    # the marts the weekly page reads (reports/dashboard.py), row for row
    for n in ("mart_weekly_kpis", "mart_weekly_tiles", "mart_weekly_denial_rates", "mart_root_causes_13w", "mart_claim_kpis",
              "mart_ar_aging", "mart_days_in_ar", "mart_denial_worklist", "mart_trend_alerts", "mart_denied_claims")
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
def weekly_dashboard(context: dg.AssetExecutionContext, duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    progress.report("reports", "weekly dashboards")
    out = denials.output_path()
    with duckdb.get_connection() as con:
        weeks = published.completed_weeks(con)
        plan = incremental.latest_plan(con)
        if plan is None or plan.mode == "full":
            render = set(weeks)  # every page: the figures of every week may have changed
        else:
            # pages already written are kept as they were written; the latest week and any week
            # without a page are written (a backfill of the report_week partitions rewrites older ones)
            render = {w for w in weeks if not (out / "weekly" / f"{w}.html").exists()} | set(weeks[-1:])
        published.drop_published_tables(con)  # earlier versions kept copies of the weekly marts there
        pages = dashboard.build_all_weeks(con, out, only=render)
    known = set(context.instance.get_dynamic_partitions(REPORT_WEEKS.name))
    if new_weeks := [w for w in weeks if w not in known]:
        context.instance.add_dynamic_partitions(REPORT_WEEKS.name, new_weeks)
    latest = pages["latest"]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(latest)) if latest else "no completed week",
            "index": dg.MetadataValue.path(str(pages["index"])),
            "weeks": len(weeks),
            "pages_written": len(pages["weeks"]),
        }
    )


@dg.asset(
    key=["reports", "weekly_report"],
    partitions_def=REPORT_WEEKS,
    group_name="reports",
    kinds={"html", "plotly"},
    owners=OWNERS,
    deps=DASHBOARD_DEPS,
    description="The weekly report of one ISO week (output_dir/weekly/<week>.html), rewritten from the "
    "current marts as of the week's snapshot date (as the pipeline writes it), and the index of all weeks. "
    "Backfill a range of weeks to restate their reports from today's data.",
)
def weekly_report(context: dg.AssetExecutionContext, duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    out = denials.output_path()
    with duckdb.get_connection() as con:
        pages = dashboard.build_all_weeks(con, out, only={context.partition_key})
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(pages["weeks"][0])),
                                          "index": dg.MetadataValue.path(str(pages["index"]))})


@dg.asset(
    key=["reports", "denial_worklist_files"],
    group_name="reports",
    kinds={"csv", "excel"},
    owners=OWNERS,
    deps=[dg.AssetKey(["marts", "mart_denial_worklist"])],
    description="The denial worklist as CSV and XLSX (output_dir/worklist/), ranked by appeal deadline and dollars.",
)
def denial_worklist_files(duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    progress.report("reports", "denial worklist")
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
    deps=[INGEST_KEY, dg.AssetKey(["marts", "mart_remit_balancing"]), dg.AssetKey(["intermediate", "int_remit_findings"])] + [dg.AssetKey(s.asset_path) for s in suites.SUITES],
    description="The auditor's data-quality report (output_dir/data_quality/index.html and results.json): "
    "files loaded, quarantine, load findings, and this run's Great Expectations results.",
)
def data_quality_report(context: dg.AssetExecutionContext, duckdb: DuckDBResource, denials: DenialsConfig) -> dg.MaterializeResult:
    progress.report("reports", "data-quality report")
    with duckdb.get_connection() as con:
        paths = data_quality.build_data_quality_report(con, denials.output_path())
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(paths["html"])), "json": dg.MetadataValue.path(str(paths["json"]))}
    )
