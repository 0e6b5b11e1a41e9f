"""Jobs: the whole pipeline, and the data-quality report alone."""

import dagster as dg

WEEKLY_PARTITIONED = dg.AssetSelection.assets(dg.AssetKey(["reports", "weekly_report"]))

pipeline_job = dg.define_asset_job(
    "denials_pipeline",
    selection=dg.AssetSelection.all() - WEEKLY_PARTITIONED,
    description="Load new files, rebuild the models, validate them and write the reports.",
)
audit_report_job = dg.define_asset_job(
    "audit_report",
    selection=dg.AssetSelection.assets(dg.AssetKey(["reports", "data_quality_report"])),
    description="Rewrite the data-quality report alone (e.g. after a run blocked by a failed check).",
)
weekly_report_job = dg.define_asset_job(
    "weekly_report_backfill",
    selection=WEEKLY_PARTITIONED,
    description="Rewrite one ISO week's report from the current marts (partitioned by week: run it "
    "for a range of weeks to backfill; the same week twice gives the same page).",
)
