"""Run an expectation suite with Great Expectations on a table fetched from DuckDB.

GX's SQL datasource does not work on DuckDB (its engine closes the connection before fetching),
so the table is fetched as Arrow, turned into a pandas DataFrame, and validated with GX's pandas
datasource in an ephemeral context. Only counts leave this module: never the unexpected values
themselves, so no value of any row reaches a report or a log.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import duckdb

from transforms.quality.suites import Suite


@dataclass(frozen=True)
class ExpectationOutcome:
    suite: str
    table: str
    expectation: str
    column: str | None
    severity: str
    kind: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    description: str


@functools.cache
def _gx_context():
    """One ephemeral GX context per process (nothing is written to disk)."""
    import great_expectations as gx  # slow import: only when validating
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return gx, context


def _resolve(value, today: dt.date):
    """Dates in suites are written as ISO strings (or TODAY); DataFrame date columns hold dates."""
    from transforms.quality.suites import TODAY

    if value == TODAY:
        return today
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return dt.date.fromisoformat(value)
    return value


def run_suite(con: duckdb.DuckDBPyConnection, suite: Suite, where: str | None = None) -> list[ExpectationOutcome]:
    """Validate the suite's table (only its rows matching ``where``, an SQL condition, if given)."""
    gx, context = _gx_context()
    import great_expectations.expectations as gxe

    cols = {e.kwargs.get("column") for e in suite.expectations} | {
        c for e in suite.expectations for c in (e.kwargs.get("column_A"), e.kwargs.get("column_B"))
    } | {c for e in suite.expectations for c in e.kwargs.get("column_list", [])}
    cols.discard(None)
    select = ", ".join(f'"{c}"' for c in sorted(cols)) or "*"
    df = con.execute(f"SELECT {select} FROM {suite.table}" + (f" WHERE {where}" if where else "")).arrow()
    df = (df.read_all() if hasattr(df, "read_all") else df).to_pandas()

    name = f"warehouse_{suite.name}"
    if name in context.data_sources.all():
        context.data_sources.delete(name)
    source = context.data_sources.add_pandas(name=name)
    asset = source.add_dataframe_asset(name=suite.table)
    batch_def = asset.add_batch_definition_whole_dataframe("whole_table")
    gx_suite = gx.ExpectationSuite(name=suite.name)
    today = dt.date.today()
    for i, e in enumerate(suite.expectations):
        cls = getattr(gxe, e.gx_type)
        kwargs = {k: _resolve(v, today) for k, v in e.kwargs.items()}
        gx_suite.add_expectation(
            cls(**kwargs, severity="critical" if e.severity == "error" else "warning", description=e.description,
                meta={"denials_index": i})
        )
    batch = batch_def.get_batch(batch_parameters={"dataframe": df})
    # BASIC would carry sample values; SUMMARY is trimmed below to counts only
    result = batch.validate(gx_suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0})

    # GX does not keep the suite's order in its results: match them by the index kept in meta
    by_index = {int(r.expectation_config.meta["denials_index"]): r for r in result.results}
    if sorted(by_index) != list(range(len(suite.expectations))):
        raise RuntimeError(f"suite {suite.name}: Great Expectations returned {len(by_index)} results for {len(suite.expectations)} expectations")
    outcomes = []
    for i, e in enumerate(suite.expectations):
        r = by_index[i]
        res = r.result or {}
        outcomes.append(
            ExpectationOutcome(
                suite=suite.name,
                table=suite.table,
                expectation=e.gx_type,
                column=e.kwargs.get("column") or ",".join(
                    c for c in (e.kwargs.get("column_A"), e.kwargs.get("column_B")) if c
                ) or ",".join(e.kwargs.get("column_list", [])) or None,
                severity=e.severity,
                kind=e.kind,
                success=bool(r.success),
                element_count=res.get("element_count", len(df)),
                unexpected_count=res.get("unexpected_count"),
                unexpected_percent=res.get("unexpected_percent"),
                description=e.description,
            )
        )
    return outcomes


def record(con: duckdb.DuckDBPyConnection, run_id: str, outcomes: list[ExpectationOutcome],
           now: dt.datetime | None = None) -> None:
    """Append outcomes to audit.dq_results (the history of every run's data quality)."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.executemany(
        "INSERT INTO audit.dq_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [run_id, now, o.suite, o.table, o.expectation, o.column, o.severity, o.success,
             o.element_count, o.unexpected_count, o.unexpected_percent, o.description]
            for o in outcomes
        ],
    )
