"""Run the pipeline by itself: when files land, and every Monday."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines.jobs import pipeline_job
from pipelines.resources import DenialsConfig
from transforms.ingest import loader


def _signature(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


@dg.sensor(
    job=pipeline_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches the landing folder. New or changed files start one run for the batch; the "
    "run key is made from the files' sha256, so the same files never start two runs, and files "
    "already loaded are skipped by the run itself.",
)
def landing_sensor(context: dg.SensorEvaluationContext, denials: DenialsConfig):
    landing = Path(denials.landing_dir)
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    files = loader.discover(landing)
    current = {str(p): _signature(p) for p in files}
    changed = [p for p in files if seen.get(str(p)) != current[str(p)]]
    if not changed:
        context.update_cursor(json.dumps(current, sort_keys=True))
        return dg.SkipReason(f"no new or changed file in {landing}")
    digests = sorted(loader.sha256_of(p) for p in changed)
    run_key = hashlib.sha256("".join(digests).encode()).hexdigest()[:32]
    context.update_cursor(json.dumps(current, sort_keys=True))
    return dg.RunRequest(
        run_key=run_key,
        tags={"denials/trigger": "landing_sensor", "denials/files": str(len(changed))},
    )


weekly_schedule = dg.ScheduleDefinition(
    name="weekly_report",
    job=pipeline_job,
    cron_schedule="0 6 * * 1",
    execution_timezone="UTC",  # explicit: Monday 06:00 UTC whatever the machine's zone
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every Monday at 06:00 UTC: load what landed, rebuild the marts and write the report of the "
    "week just completed.",
)
