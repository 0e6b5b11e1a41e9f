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
from decimal import Decimal

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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

    # GX fingerprints every pandas batch it is given (an md5 of pandas' hash of every row, for its
    # batch markers, which nothing here reads) unless the frame uses more memory than this module
    # constant: at a million rows the fingerprint took longer than the validation itself.
    import great_expectations.execution_engine.pandas_execution_engine as pandas_engine
    from great_expectations.data_context.types.base import ProgressBarsConfig

    pandas_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return gx, context


def warm_up() -> None:
    """Import Great Expectations and make its context now (a warm run worker does this once, so
    that its runs do not)."""
    _gx_context()


def _resolve(value, today: dt.date):
    """Dates in suites are written as ISO strings (or TODAY); DataFrame date columns hold dates."""
    from transforms.quality.suites import TODAY

    if value == TODAY:
        return today
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return dt.date.fromisoformat(value)
    return value


def _frame(tbl: pa.Table, suite: Suite) -> tuple[pd.DataFrame, dict[str, int], set[str]]:
    """The DataFrame GX validates, in types its pandas engine compares with whole-column operations.

    GX falls back to a Python call per value for any column that is not int, float or
    datetime64[ns] (ExpectColumnValuesToBeBetween), and pandas' object columns of ``Decimal`` and
    ``str`` cost a Python object per value to make: at a million rows these were most of the time
    of a suite. So: dates become datetime64[ns] (the bounds of their expectations pd.Timestamp);
    amounts (DECIMAL(p, s), p <= 18) become exact integers of their smallest unit (cents; the
    bounds of their expectations are scaled alike, so each comparison is the same comparison);
    everything else stays Arrow-backed (pd.ArrowDtype: strings compare and match regexes in
    Arrow). Returns the frame, the scale of each amount column and the date columns.
    """
    data, scales, datetimes = {}, {}, set()
    columns = tbl.columns
    try:  # all or none: a pair expectation compares two date columns
        as_ns = {  # 1677-2262
            i: pc.cast(c, pa.timestamp("ns")) for i, c in enumerate(columns) if pa.types.is_date(c.type) or pa.types.is_timestamp(c.type)
        }
    except pa.ArrowInvalid:
        as_ns = {}  # a date outside that range: the dates stay dates (GX compares them one by one)
    for i, (name, col) in enumerate(zip(tbl.column_names, columns, strict=True)):
        typ = col.type
        if pa.types.is_decimal(typ) and typ.precision <= 18 and _integral_bounds(suite, name, typ.scale):
            cents = pc.cast(pc.multiply(col, pa.scalar(10**typ.scale, pa.int64())), pa.int64())
            # a column with nulls becomes float64 in pandas: exact below 2**53 of its unit
            if col.null_count == 0 or (pc.max(pc.abs(cents)).as_py() or 0) < 2**53:
                data[name], scales[name] = cents.to_pandas(), typ.scale
                continue
        elif i in as_ns:
            data[name] = as_ns[i].to_pandas()
            datetimes.add(name)
            continue
        data[name] = col.to_pandas(types_mapper=pd.ArrowDtype)
    return pd.DataFrame(data), scales, datetimes


def _scaled(value, scale: int):
    """A bound of an amount column in the column's smallest unit (exact: Decimal arithmetic)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    return int(Decimal(str(value)).scaleb(scale))


def _integral_bounds(suite: Suite, column: str, scale: int) -> bool:
    """Every numeric bound on the column is a whole number of its smallest unit (so comparing
    integers of that unit is the same comparison); else the column is validated as decimals."""
    for e in suite.expectations:
        if e.kwargs.get("column") == column and e.gx_type == "ExpectColumnValuesToBeBetween":
            for k in ("min_value", "max_value"):
                v = e.kwargs.get(k)
                if v is not None and not isinstance(v, bool) and isinstance(v, int | float | Decimal):
                    scaled = Decimal(str(v)).scaleb(scale)
                    if scaled != scaled.to_integral_value():
                        return False
    return True


def run_suite(con: duckdb.DuckDBPyConnection, suite: Suite, where: str | None = None,
              source: str | None = None) -> list[ExpectationOutcome]:
    """Validate the suite's table (only its rows matching ``where``, an SQL condition, if given),
    or the rows of ``source``, a table holding some of its rows (the run cache's copy of the rows
    an incremental build rebuilt: ``incremental.kept_rows``)."""
    gx, context = _gx_context()
    import great_expectations.expectations as gxe

    cols = {e.kwargs.get("column") for e in suite.expectations} | {
        c for e in suite.expectations for c in (e.kwargs.get("column_A"), e.kwargs.get("column_B"))
    } | {c for e in suite.expectations for c in e.kwargs.get("column_list", [])}
    cols.discard(None)
    select = ", ".join(f'"{c}"' for c in sorted(cols)) or "*"
    tbl = con.execute(f"SELECT {select} FROM {source or suite.table}" + (f" WHERE {where}" if where else "")).arrow()
    df, scales, datetimes = _frame(tbl.read_all() if hasattr(tbl, "read_all") else tbl, suite)

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
        col = e.kwargs.get("column")
        if e.gx_type == "ExpectColumnValuesToBeBetween" and col in scales:
            kwargs = {k: _scaled(v, scales[col]) if k in ("min_value", "max_value") else v for k, v in kwargs.items()}
        elif col in datetimes:
            kwargs = {k: pd.Timestamp(v) if isinstance(v, dt.date) else v for k, v in kwargs.items()}
        gx_suite.add_expectation(
            cls(**kwargs, severity="critical" if e.severity == "error" else "warning", description=e.description,
                meta={"denials_index": i})
        )
    batch = batch_def.get_batch(batch_parameters={"dataframe": df})
    # BASIC would carry sample values; SUMMARY is trimmed below to counts only
    result = batch.validate(gx_suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0})
    context.data_sources.delete(name)  # lets the frame go

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
