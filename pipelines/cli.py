"""`denials`: the command-line tool.

    denials demo                       the whole pipeline on the built-in sample data
    denials run --landing DIR ...      the whole pipeline on your own files
    denials generate ...               synthetic claims and remittances with planted patterns
    denials inspect FILE...            a JSON summary of X12 files, without loading anything
    denials report --week 2026-W45     rewrite the weekly report of one week from the warehouse
    denials backfill 2026-W40..2026-W45  rewrite the reports of past weeks from today's data
    denials ui                         the Dagster UI and daemon (dg dev) on the same folders
    denials export-sources             the models' sources as Parquet, for Spark (docs/scale-out.md)
"""

from __future__ import annotations

import json
import math
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = PROJECT_ROOT / "sample_data"

DEFAULT_SETTINGS_FILE = Path("denials.yaml")  # read by default when present in the working folder

app = typer.Typer(
    name="denials",
    help="Denial analytics and revenue-cycle reporting: X12 835/837 and CSV claims into DuckDB, "
    "KPIs, weekly dashboards, worklists and data-quality reports.",
    epilog="Exit codes: 0 done; 1 the run did not complete (a step failed: the message says which); "
    "2 the command cannot start (a path, a settings or mapping file, the member-id key: the message "
    "says what); 3 the warehouse is in use by another run (pass --wait to queue). Every option "
    "can also be set by the DENIALS_* variable shown beside it; a denials.yaml in the working "
    "folder is read as --config when none is given.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"denials {version('denials')}")
        except PackageNotFoundError:
            typer.echo("denials (not installed as a package)")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Denial analytics and revenue-cycle reporting."""


LandingOpt = Annotated[Path, typer.Option("--landing", envvar="DENIALS_LANDING", show_envvar=True,
                                          help="Landing folder with claim and remittance files (read recursively).")]
WarehouseOpt = Annotated[Path, typer.Option("--warehouse", envvar="DENIALS_WAREHOUSE", show_envvar=True,
                                            help="DuckDB warehouse file (created if missing).")]
OutOpt = Annotated[Path, typer.Option("--out", envvar="DENIALS_OUTPUT", show_envvar=True,
                                      help="Output folder for reports, worklists and data-quality results.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", envvar="DENIALS_SETTINGS", show_envvar=True,
                                                help="YAML file of metric settings (docs/metrics.md); default ./denials.yaml if present.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Dagster's step-by-step log.")]
MappingsOpt = Annotated[Path | None, typer.Option(
    "--mappings", envvar="DENIALS_MAPPINGS", show_envvar=True,
    help="Folder of mapping files for non-canonical CSV exports, instead of the project's mappings/ (mappings/README.md).",
)]


def _fail(message: str, code: int = 2) -> NoReturn:
    """A project error: one line on stderr, no traceback."""
    typer.secho(" ".join(str(message).split()), fg="red", err=True)
    raise typer.Exit(code)


def _check_out(out: Path) -> None:
    """The output folder, checked before anything runs: a folder, or a path where one can be made."""
    expected = "expected a folder, or a path where one can be created"
    folder = out
    if out.exists():
        if not out.is_dir():
            _fail(f"output folder (--out) {out}: is a file ({expected})")
    else:
        folder = out.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            _fail(f"output folder (--out) {out}: {folder} is a file ({expected})")
    if not os.access(folder, os.W_OK | os.X_OK):
        _fail(f"output folder (--out) {out}: permission denied ({folder} is not writable by this user)")


def _open_warehouse(warehouse: Path, wait: bool = False, read_only: bool = False):
    """Open the warehouse, waiting only for another process's lock on it (see transforms/warehouse.py)."""
    from transforms.warehouse import LOCK_WAIT_SECONDS, connect

    return connect(warehouse, read_only=read_only, lock_wait=math.inf if wait else LOCK_WAIT_SECONDS)


@contextmanager
def _progress(enabled: bool = True):
    """A progress bar on a terminal while the pipeline runs (stage, step, elapsed time); nothing
    when the output is not a terminal (logs, CI)."""
    from pipelines import progress
    from pipelines.definitions import PIPELINE_ASSETS

    if not enabled or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    steps = sum(len(a.keys) for a in PIPELINE_ASSETS)
    bar = Progress(SpinnerColumn(), TextColumn("{task.fields[stage]:<8}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.description}"), TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task("starting", total=steps, stage="")

    import time

    # time spent in each stage (the steps of a stage are not always consecutive: the graph runs in
    # dependency order), shown as lines that stay when the bar goes
    spent: dict[str, list] = {}  # stage -> [seconds, steps, checks]
    current = {"stage": "", "since": time.monotonic()}

    def account(now: float) -> None:
        if current["stage"]:
            spent[current["stage"]][0] += now - current["since"]
        current["since"] = now

    def on_step(stage: str, detail: str) -> None:
        account(time.monotonic())
        kind = "models" if stage == "checks" else stage  # a model's checks are part of its step
        entry = spent.setdefault(kind, [0.0, 0, 0])
        if stage == "checks":
            entry[2] += 1
        else:
            entry[1] += 1
            bar.advance(task)
        current["stage"] = kind
        bar.update(task, description=detail, stage=stage)

    progress.listen(on_step)
    try:
        with bar:
            yield
            account(time.monotonic())
            for stage, (secs, steps, checks) in spent.items():
                extra = f", {checks} check{'s' * (checks != 1)}" if checks else ""
                bar.console.print(f"[green]✓[/green] {stage:<8} {secs:6.1f} s  ({steps} step{'s' * (steps != 1)}{extra})",
                                  highlight=False)
    finally:
        progress.listen(None)


def _model_status(warehouse: Path) -> None:
    """One line: which load batches the models hold, or what is pending (a run stopped midway)."""
    import duckdb

    from transforms import incremental

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return
    try:
        st = incremental.status(con)
    finally:
        con.close()
    typer.secho(st.sentence(), fg=None if st.complete else "yellow")


def _run(landing: Path, warehouse: Path, out: Path, config: Path | None, verbose: bool, wait: bool = False,
         full_rebuild: bool = False, mappings: Path | None = None) -> None:
    from pipelines.resources import check_mappings
    from pipelines.run import WarehouseBusyError, resources_for, run_pipeline, warehouse_lock
    from transforms.errors import ConfigError
    from transforms.ingest.phi import check_key_before_run
    from transforms.settings import load_settings
    from transforms.warehouse import WarehouseError, WarehouseLockedError, check_path

    if not landing.is_dir():
        _fail(f"landing folder not found: {landing}")
    if config is not None and not config.is_file():
        _fail(f"settings file not found: {config}")
    _check_out(out)
    try:
        load_settings(config)
        if mappings is not None:
            check_mappings(mappings)
        check_path(warehouse)
    except (ConfigError, WarehouseError) as e:
        _fail(str(e))
    typer.echo(f"Loading {landing} into {warehouse} and running the pipeline ...")
    try:
        with warehouse_lock(warehouse, wait=wait):
            resources = resources_for(landing, warehouse, out, config, mappings)
            con = _open_warehouse(warehouse, wait)  # what is not a DuckDB file fails here, not in a step
            try:  # another member-id key than the warehouse's: refused here, in one line, not in a step
                check_key_before_run(con, Path(resources["denials"].phi_key_file))
            finally:
                con.close()
            with _progress(enabled=not verbose):
                outcome = run_pipeline(resources, log_level="INFO" if verbose else "WARNING", full_rebuild=full_rebuild)
    except (WarehouseBusyError, WarehouseLockedError) as e:
        _fail(str(e), 3)
    except (WarehouseError, ConfigError) as e:
        _fail(str(e))
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
    _model_status(warehouse)
    if not outcome.success:
        typer.secho(f"The run did not complete: {outcome.error or 'a blocking data-quality check failed'}", fg="red", err=True)
        raise typer.Exit(1)


@app.command()
def demo(
    out: OutOpt = Path("out/demo"),
    verbose: VerboseOpt = False,
) -> None:
    """Run the whole pipeline on the built-in sample data (sample_data/) and print where the outputs are.

    The sample data is canonical CSV and X12: the demo reads no mapping files (DENIALS_MAPPINGS is
    for `denials run`)."""
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
    mappings: MappingsOpt = None,
) -> None:
    """Load new files from a landing folder, rebuild the marts, validate, and write the reports.

    Files already loaded (same sha256) are skipped; unreadable files are quarantined with the
    reason, and the rest of the batch loads. Models are rebuilt only for the claims the new files
    touch (docs/operations.md), unless --full-rebuild. Exports that are not canonical CSV are read
    through the mapping files of --mappings (or DENIALS_MAPPINGS; default the project's mappings/).
    """
    if config is None and DEFAULT_SETTINGS_FILE.is_file():
        config = DEFAULT_SETTINGS_FILE.resolve()
        typer.echo(f"Settings: {config}")
    _run(landing.resolve(), warehouse.resolve(), out.resolve(), config, verbose, wait, full_rebuild,
         mappings.resolve() if mappings else None)


@app.command()
def ui(
    landing: LandingOpt = Path("landing"),
    warehouse: WarehouseOpt = Path("warehouse/denials.duckdb"),
    out: OutOpt = Path("out"),
    config: ConfigOpt = None,
    mappings: MappingsOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address the UI listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port the UI listens on.")] = 3000,
    dagster_home: Annotated[Path | None, typer.Option(
        "--dagster-home", envvar="DAGSTER_HOME", show_envvar=True,
        help="Dagster's instance folder (its dagster.yaml, run history); default the project folder.")] = None,
) -> None:
    """Serve the Dagster UI and daemon (`dg dev`) on these folders: the asset graph, runs, the
    landing sensor and the weekly schedule.

    The folders are passed to Dagster as DENIALS_* variables, read when each run starts; runs are
    queued one at a time (dagster.yaml) so DuckDB writers never collide. Stop with Ctrl-C.
    """
    import subprocess

    from pipelines.resources import dagster_env

    if config is None and DEFAULT_SETTINGS_FILE.is_file():
        config = DEFAULT_SETTINGS_FILE
    if config is not None and not config.is_file():
        _fail(f"settings file (--config) {config}: not found (expected a YAML file, docs/metrics.md)")
    _check_out(out)
    home = (dagster_home or PROJECT_ROOT).resolve()
    if not (home / "dagster.yaml").is_file():
        _fail(f"Dagster home (--dagster-home) {home}: no dagster.yaml there (expected the project's, or your own)")
    env = {**os.environ, **dagster_env(landing, warehouse, out, config, mappings), "DAGSTER_HOME": str(home)}
    dg_exe = Path(sys.executable).with_name("dg")
    if dg_exe.exists() and (PROJECT_ROOT / "pyproject.toml").is_file():
        cmd, cwd = [str(dg_exe), "dev", "--host", host, "--port", str(port)], PROJECT_ROOT
    else:  # installed as a package: the module, from anywhere
        cmd = [str(Path(sys.executable).with_name("dagster")), "dev", "-m", "pipelines.definitions", "-h", host, "-p", str(port)]
        cwd = Path.cwd()
    typer.echo(f"Dagster UI at http://{host}:{port}  (warehouse {env['DENIALS_WAREHOUSE']}, "
               f"landing {env['DENIALS_LANDING']}, output {env['DENIALS_OUTPUT']}; DAGSTER_HOME {home})")
    try:
        raise typer.Exit(subprocess.call(cmd, cwd=cwd, env=env))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command("export-sources")
def export_sources(
    warehouse: WarehouseOpt = Path("warehouse/denials.duckdb"),
    out: Annotated[Path, typer.Option("--out", help="Folder for the Parquet files (<schema>/<table>/data.parquet).")] = Path("sources-parquet"),
) -> None:
    """Write the dbt project's sources (raw, ref and audit tables) as Parquet, for another engine.

    `dbt run --target spark` (transforms/dbt/profiles.yml) builds every model from them, with
    DENIALS_SOURCES_PARQUET pointing at this folder (docs/scale-out.md).
    """
    from transforms import parquet_export

    if not warehouse.is_file():
        _fail(f"warehouse (--warehouse) {warehouse}: not found (expected the DuckDB file a run loaded)")
    _check_out(out)
    con = _open_warehouse(warehouse, read_only=True)
    try:
        written = parquet_export.export_sources(con, out.resolve())
    finally:
        con.close()
    for table, rows in written.items():
        typer.echo(f"  {table:<28} {rows:>12,} rows")
    typer.echo(f"Sources written under {out.resolve()} (set DENIALS_SOURCES_PARQUET to it for the spark target).")


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
    """Rewrite the reports of past weeks from the current marts, as of each week's snapshot date: one
    run per week of the report_week partitions. Backfilling a week twice gives the same page."""
    from pipelines.run import WarehouseBusyError, backfill_weeks, resources_for, warehouse_lock
    from transforms.errors import DenialsError
    from transforms.warehouse import WarehouseLockedError, check_path

    warehouse, out = warehouse.resolve(), out.resolve()
    if not warehouse.exists():
        _fail(f"warehouse not found: {warehouse} (run `denials run` first)")
    _check_out(out)
    try:
        keys = [w for spec in weeks for w in _week_range(spec)]
        check_path(warehouse)
        with warehouse_lock(warehouse, wait=wait):
            _open_warehouse(warehouse, wait).close()
            outcomes = backfill_weeks(resources_for(warehouse.parent, warehouse, out), keys)
    except (WarehouseBusyError, WarehouseLockedError) as e:
        _fail(str(e), 3)
    except DenialsError as e:
        _fail(str(e))
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
    from transforms.warehouse import WarehouseError, WarehouseLockedError

    if not warehouse.exists():
        _fail(f"warehouse not found: {warehouse} (run `denials run` first)")
    _check_out(out.resolve())
    try:
        con = _open_warehouse(warehouse, read_only=True)
    except WarehouseLockedError as e:
        _fail(str(e), 3)
    except WarehouseError as e:
        _fail(str(e))
    try:
        path = build_weekly_dashboard(con, out.resolve(), week)
    except NoDataError as e:
        _fail(str(e))
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
    from transforms.warehouse import WarehouseError, WarehouseLockedError, check_path

    if not warehouse.exists():
        _fail(f"warehouse not found: {warehouse}")
    try:
        check_path(warehouse)
        with warehouse_lock(warehouse.resolve()):
            con = _open_warehouse(warehouse)
            try:
                names = do_release(con, file, reason)
            finally:
                con.close()
    except (WarehouseBusyError, WarehouseLockedError) as e:
        _fail(str(e), 3)
    except WarehouseError as e:
        _fail(str(e))
    if not names:
        typer.secho(f"no quarantined file matches {file!r}", fg="red", err=True)
        raise typer.Exit(2)
    typer.echo(f"released {', '.join(names)}: the next run tries again")


def main() -> None:  # pragma: no cover
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
