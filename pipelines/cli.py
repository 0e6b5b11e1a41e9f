"""`denials`: the command-line tool.

    denials demo                       the whole pipeline on the built-in sample data
    denials run --landing DIR ...      the whole pipeline on your own files
    denials generate ...               synthetic claims and remittances with planted patterns
    denials inspect FILE...            a JSON summary of X12 files, without loading anything
    denials report --week 2026-W45     rewrite the weekly report of one week from the warehouse
    denials backfill 2026-W40..2026-W45  publish the figures and rewrite the reports of past weeks
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = PROJECT_ROOT / "sample_data"

app = typer.Typer(
    name="denials",
    help="Denial analytics and revenue-cycle reporting: X12 835/837 and CSV claims into DuckDB, "
    "KPIs, weekly dashboards, worklists and data-quality reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LandingOpt = Annotated[Path, typer.Option("--landing", help="Landing folder with claim and remittance files (read recursively).")]
WarehouseOpt = Annotated[Path, typer.Option("--warehouse", help="DuckDB warehouse file (created if missing).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder for reports, worklists and data-quality results.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML file of metric settings (docs/metrics.md).")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Dagster's step-by-step log.")]


def _run(landing: Path, warehouse: Path, out: Path, config: Path | None, verbose: bool, wait: bool = False,
         full_rebuild: bool = False) -> None:
    from pipelines.run import WarehouseBusyError, resources_for, run_pipeline, warehouse_lock

    if not landing.is_dir():
        typer.secho(f"landing folder not found: {landing}", fg="red", err=True)
        raise typer.Exit(2)
    if config is not None and not config.is_file():
        typer.secho(f"settings file not found: {config}", fg="red", err=True)
        raise typer.Exit(2)
    typer.echo(f"Loading {landing} into {warehouse} and running the pipeline ...")
    try:
        with warehouse_lock(warehouse, wait=wait):
            outcome = run_pipeline(resources_for(landing, warehouse, out, config), log_level="INFO" if verbose else "WARNING",
                                   full_rebuild=full_rebuild)
    except WarehouseBusyError as e:
        typer.secho(str(e), fg="red", err=True)
        raise typer.Exit(3) from None
    meta = outcome.metadata
    plan = meta.get("audit/model_plan", {})
    if plan:
        typer.echo(f"Models: {plan.get('mode')} build ({plan.get('reason')}).")
    ingest = meta.get("raw/landed_files", {})
    if ingest:
        before_q = ingest.get("files_skipped_quarantined_before", 0)
        typer.echo(
            f"Files: {ingest.get('files_loaded', 0)} loaded, {ingest.get('files_skipped', 0) - before_q} already loaded, "
            f"{ingest.get('files_quarantined', 0)} quarantined ({ingest.get('rows_loaded', 0)} rows)."
        )
        if before_q:
            typer.echo(f"       {before_q} quarantined before and unchanged (fix the file, or `denials release` it to retry).")
    for c in outcome.failed_checks:
        typer.secho(f"Data-quality check failed: {c}", fg="yellow")
    typer.echo("")
    typer.echo("Outputs:")
    dash = meta.get("reports/weekly_dashboard", {})
    if dash:
        typer.echo(f"  weekly dashboard      {dash.get('path')}")
        typer.echo(f"  all weeks             {dash.get('index')}")
    wl = meta.get("reports/denial_worklist_files", {})
    if wl:
        typer.echo(f"  denial worklist       {wl.get('xlsx')}  ({wl.get('rows')} claims; CSV beside it)")
    dq = meta.get("reports/data_quality_report", {})
    if dq:
        typer.echo(f"  data-quality report   {dq.get('path')}")
    typer.echo(f"  warehouse             {warehouse}")
    if not outcome.success:
        typer.secho(f"The run did not complete: {outcome.error or 'a blocking data-quality check failed'}", fg="red", err=True)
        raise typer.Exit(1)


@app.command()
def demo(
    out: OutOpt = Path("out/demo"),
    verbose: VerboseOpt = False,
) -> None:
    """Run the whole pipeline on the built-in sample data (sample_data/) and print where the outputs are."""
    out = out.resolve()
    _run(SAMPLE_DATA, out / "warehouse.duckdb", out, None, verbose)


@app.command()
def run(
    landing: LandingOpt = Path("landing"),
    warehouse: WarehouseOpt = Path("warehouse/denials.duckdb"),
    out: OutOpt = Path("out"),
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
    wait: Annotated[bool, typer.Option("--wait", help="If another run holds the warehouse, wait for it instead of stopping.")] = False,
    full_rebuild: Annotated[bool, typer.Option("--full-rebuild", help="Rebuild every model whole instead of only what the new files touch.")] = False,
) -> None:
    """Load new files from a landing folder, rebuild the marts, validate, and write the reports.

    Files already loaded (same sha256) are skipped; unreadable files are quarantined with the
    reason, and the rest of the batch loads. Models are rebuilt only for the claims the new files
    touch (docs/operations.md), unless --full-rebuild.
    """
    _run(landing.resolve(), warehouse.resolve(), out.resolve(), config, verbose, wait, full_rebuild)


def _week_range(spec: str) -> list[str]:
    from transforms.published import week_start

    if ".." not in spec:
        week_start(spec)
        return [spec]
    first, last = (week_start(x) for x in spec.split("..", 1))
    import datetime as dt

    weeks, d = [], first
    while d <= last:
        y, w, _ = d.isocalendar()
        weeks.append(f"{y}-W{w:02d}")
        d += dt.timedelta(days=7)
    return weeks


@app.command()
def backfill(
    weeks: Annotated[list[str], typer.Argument(help="ISO weeks (2026-W45) or ranges (2026-W40..2026-W45).")],
    warehouse: WarehouseOpt = Path("warehouse/denials.duckdb"),
    out: OutOpt = Path("out"),
    wait: Annotated[bool, typer.Option("--wait", help="If another run holds the warehouse, wait for it instead of stopping.")] = False,
) -> None:
    """Publish the figures of past weeks again (marts.published_*) and rewrite their reports, one run
    per week of the report_week partitions. Backfilling a week twice gives the same tables."""
    from pipelines.run import WarehouseBusyError, backfill_weeks, resources_for, warehouse_lock
    from transforms.errors import DenialsError

    warehouse = warehouse.resolve()
    if not warehouse.exists():
        typer.secho(f"warehouse not found: {warehouse} (run `denials run` first)", fg="red", err=True)
        raise typer.Exit(2)
    try:
        keys = [w for spec in weeks for w in _week_range(spec)]
        with warehouse_lock(warehouse, wait=wait):
            outcomes = backfill_weeks(resources_for(warehouse.parent, warehouse, out.resolve()), keys)
    except WarehouseBusyError as e:
        typer.secho(str(e), fg="red", err=True)
        raise typer.Exit(3) from None
    except DenialsError as e:
        typer.secho(str(e), fg="red", err=True)
        raise typer.Exit(2) from None
    failed = 0
    for week, o in zip(keys, outcomes, strict=True):
        if o.success:
            typer.echo(f"{week}: {o.metadata.get('reports/weekly_report', {}).get('path')}")
        else:
            failed += 1
            typer.secho(f"{week}: failed: {o.error}", fg="red", err=True)
    if failed:
        raise typer.Exit(1)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the generated files into.")] = Path("generated"),
    claims: Annotated[int, typer.Option("--claims", help="Number of claims.")] = 5000,
    weeks: Annotated[int, typer.Option("--weeks", help="Number of weeks of service dates.")] = 26,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives byte-identical files.")] = 7,
    start: Annotated[str | None, typer.Option("--start", help="First Monday of the data (YYYY-MM-DD).")] = None,
) -> None:
    """Generate synthetic claims (CSV, 837P/837I) and remittances (835, CSV) with planted patterns
    and a ground_truth.json."""
    from datagen.generate import cli_generate

    summary = cli_generate(claims=claims, weeks=weeks, seed=seed, out=out, start=start)
    typer.echo(json.dumps(summary, indent=2, default=str))


@app.command()
def inspect(
    files: Annotated[list[Path], typer.Argument(help="X12 835/837 files to summarise.")],
) -> None:
    """Print a JSON summary of each X12 file (claims, status counts, totals, CAS by group, PLB,
    balancing, envelope findings, errors) without loading anything."""
    from transforms.x12.inspect import inspect_paths

    summaries = inspect_paths(files)
    typer.echo(json.dumps(summaries, indent=2, default=str))
    if any(s.get("errors") for s in summaries):
        raise typer.Exit(1)


@app.command()
def report(
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2026-W45 (default: the latest completed week).")] = None,
    warehouse: WarehouseOpt = Path("warehouse/denials.duckdb"),
    out: OutOpt = Path("out"),
) -> None:
    """Write the weekly report of one completed week from an existing warehouse."""
    from reports.dashboard import NoDataError, build_weekly_dashboard
    from transforms.warehouse import connect

    if not warehouse.exists():
        typer.secho(f"warehouse not found: {warehouse} (run `denials run` first)", fg="red", err=True)
        raise typer.Exit(2)
    con = connect(warehouse, read_only=True)
    try:
        path = build_weekly_dashboard(con, out.resolve(), week)
    except NoDataError as e:
        typer.secho(str(e), fg="red", err=True)
        raise typer.Exit(2) from None
    finally:
        con.close()
    typer.echo(f"weekly report: {path}")


@app.command()
def release(
    file: Annotated[str, typer.Argument(help="The quarantined file: its name, file_id or sha256.")],
    warehouse: WarehouseOpt = Path("warehouse/denials.duckdb"),
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is released (kept in audit.released_files).")] = None,
) -> None:
    """Release a quarantined file so that the next run tries it again (e.g. after a fix of the
    reader). A corrected file with new content needs no release: drop it in the landing folder."""
    from pipelines.run import WarehouseBusyError, warehouse_lock
    from transforms.ingest.loader import release as do_release
    from transforms.warehouse import connect

    if not warehouse.exists():
        typer.secho(f"warehouse not found: {warehouse}", fg="red", err=True)
        raise typer.Exit(2)
    try:
        with warehouse_lock(warehouse.resolve()):
            con = connect(warehouse)
            try:
                names = do_release(con, file, reason)
            finally:
                con.close()
    except WarehouseBusyError as e:
        typer.secho(str(e), fg="red", err=True)
        raise typer.Exit(3) from None
    if not names:
        typer.secho(f"no quarantined file matches {file!r}", fg="red", err=True)
        raise typer.Exit(2)
    typer.echo(f"released {', '.join(names)}: the next run tries again")


def main() -> None:  # pragma: no cover
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
