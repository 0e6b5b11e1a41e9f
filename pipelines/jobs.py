"""Jobs: the whole pipeline, and the data-quality report alone."""

import dagster as dg

pipeline_job = dg.define_asset_job(
    "denials_pipeline",
    selection=dg.AssetSelection.all(),
    description="Load new files, rebuild the models, validate them and write the reports.",
)
audit_report_job = dg.define_asset_job(
    "audit_report",
    selection=dg.AssetSelection.assets(dg.AssetKey(["reports", "data_quality_report"])),
    description="Rewrite the data-quality report alone (e.g. after a run blocked by a failed check).",
)
