"""The Dagster definitions: `dg dev` and `dg check defs` load this module."""

from __future__ import annotations

import dagster as dg

from pipelines.assets import MODEL_ASSETS, landed_files, mart_trend_alerts, reference_tables
from pipelines.report_assets import data_quality_report, denial_worklist_files, weekly_dashboard
from pipelines.resources import default_resources

ALL_ASSETS = [landed_files, reference_tables, *MODEL_ASSETS, mart_trend_alerts, weekly_dashboard, denial_worklist_files, data_quality_report]

pipeline_job = dg.define_asset_job(
    "denials_pipeline",
    selection=dg.AssetSelection.all(),
    description="Load new files, rebuild the models, validate them and write the reports.",
)
audit_report_job = dg.define_asset_job(
    "audit_report",
    selection=dg.AssetSelection.assets(data_quality_report),
    description="Rewrite the data-quality report alone (e.g. after a run blocked by a failed check).",
)

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[pipeline_job, audit_report_job],
    resources=default_resources(),
    # One process, one DuckDB writer: steps of a run never open the warehouse concurrently.
    executor=dg.in_process_executor,
)
