"""A blocking check quarantines the files behind its failing rows; it never stops the batch.

When an ``error`` expectation fails on a model's table, the rows it rejects are traced to their
files (every staging row carries ``file_id`` and ``source_row``). Those files are quarantined
after the fact, as a file that cannot be read is at load: ``audit.file_manifest.status`` becomes
``quarantined``, ``audit.quarantine`` records the check, the table, how many rows and where, and
their rows leave the raw tables (the file on disk is untouched: ``denials release`` reloads it once
fixed). The run's plan becomes a full rebuild, the models built so far in the run are rebuilt
without those rows, and the table is validated again: the rest of the batch is modelled and
reported. A failure that no file explains (an aggregate mart) still blocks what depends on it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms import dbt_runner, incremental, warehouse
from transforms.quality import validate
from transforms.quality.suites import TODAY, Expect, Suite

ERROR_CODE = "failed_check"


@dataclass(frozen=True)
class QuarantinedFile:
    file_id: str
    file_name: str
    location: str
    message: str


def _q(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def _literal(v) -> str:
    if v == TODAY:
        return f"DATE '{dt.date.today().isoformat()}'"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return str(v)


def failing_rows(e: Expect, table: str) -> str | None:
    """An SQL condition true for the rows of ``table`` that ``e`` rejects, or None when the
    expectation is not about single rows."""
    k = e.kwargs
    col = k.get("column")
    if e.gx_type == "ExpectColumnValuesToNotBeNull":
        return f"{_q(col)} IS NULL"
    if e.gx_type == "ExpectColumnValuesToBeBetween":
        parts = []
        if k.get("min_value") is not None:
            parts.append(f"{_q(col)} < {_literal(k['min_value'])}")
        if k.get("max_value") is not None:
            parts.append(f"{_q(col)} > {_literal(k['max_value'])}")
        return " OR ".join(parts) or None
    if e.gx_type == "ExpectColumnValuesToBeInSet":
        return f"{_q(col)} NOT IN ({', '.join(_literal(v) for v in k['value_set'])})"
    if e.gx_type == "ExpectColumnValuesToMatchRegex":
        return f"NOT regexp_full_match({_q(col)}, {_literal(k['regex'])})"
    if e.gx_type == "ExpectColumnValuesToBeUnique":
        # the copies after the first (load order): the file that brought the repeat is at fault
        return (f"(file_id, source_row) IN (SELECT (x.file_id, x.source_row) FROM (SELECT t.file_id, t.source_row, row_number() "
                f"OVER (PARTITION BY t.{_q(col)} ORDER BY m.loaded_at, t.file_id, t.source_row) AS n "
                f"FROM {table} AS t JOIN audit.file_manifest AS m USING (file_id) WHERE t.{_q(col)} IS NOT NULL) AS x WHERE x.n > 1)")
    return None


def files_behind(con: duckdb.DuckDBPyConnection, suite: Suite, failed: list[validate.ExpectationOutcome],
                 where: str | None = None) -> list[QuarantinedFile]:
    """The files whose rows the failed error expectations reject (none if the table has no file_id)."""
    cols = {r[0] for r in con.execute(f"DESCRIBE {suite.table}").fetchall()}
    if not {"file_id", "source_row"} <= cols:
        return []
    by_desc = {e.description: e for e in suite.expectations}
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for o in failed:
        e = by_desc.get(o.description)
        cond = failing_rows(e, suite.table) if e is not None else None
        if cond is None:
            continue
        scope = f" AND ({where})" if where else ""
        for file_id, n, rows in con.execute(
            f"""SELECT file_id, count(*), list(source_row ORDER BY source_row)[1:5]
                FROM {suite.table} WHERE ({cond}){scope} AND file_id IS NOT NULL GROUP BY file_id ORDER BY file_id"""
        ).fetchall():
            place = ", ".join(str(r) for r in rows) + (" ..." if n > len(rows) else "")
            found[file_id].append((o.description, f"{suite.table}: {n} row(s) failing, source rows {place}"))
    names = dict(con.execute("SELECT file_id, file_name FROM audit.file_manifest WHERE status = 'loaded'").fetchall())
    return [
        QuarantinedFile(fid, names[fid], "; ".join(p for _, p in hits),
                        "rows fail the blocking check: " + "; ".join(d for d, _ in hits))
        for fid, hits in sorted(found.items()) if fid in names
    ]


def quarantine(con: duckdb.DuckDBPyConnection, files: list[QuarantinedFile], batch_id: str) -> None:
    """Quarantine loaded files (one transaction): manifest status, a quarantine record each, and
    their rows out of every raw table."""
    raw_tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'raw' AND column_name = 'file_id' "
        "AND database_name = current_database()").fetchall()]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        for f in files:
            con.execute("UPDATE audit.file_manifest SET status = 'quarantined', rows_quarantined = rows_read, "
                        "rows_loaded = 0, error_count = error_count + 1 WHERE file_id = ?", [f.file_id])
            con.execute("INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [f.file_id, f.file_name, now, batch_id, ERROR_CODE, f.location, f.message])
            for t in raw_tables:
                con.execute(f"DELETE FROM raw.{t} WHERE file_id = ?", [f.file_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def rebuild_through(db: Path | str, table: str) -> None:
    """After a quarantine: the latest plan becomes a full rebuild of the loaded files, and dbt
    rebuilds ``table`` and every model it reads, whole; the later models follow the plan."""
    con = warehouse.connect(db)
    try:
        plan = incremental.latest_plan(con)
        if plan is not None:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("UPDATE audit.model_plans SET mode = 'full', reason = reason || ' (rebuilt whole: files quarantined by a "
                            "blocking check)' WHERE plan_id = ?", [plan.plan_id])
                for target in incremental.SCOPE_TABLES.values():
                    con.execute(f"DELETE FROM {target}")
                con.execute("DELETE FROM audit.model_files")
                con.execute("INSERT INTO audit.model_files SELECT file_id, ? FROM audit.file_manifest WHERE status = 'loaded'",
                            [plan.plan_id])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    finally:
        con.close()
    dbt_runner.run(db, ["run", "--full-refresh", "--select", "+" + table.split(".")[1]])


@dataclass(frozen=True)
class Gated:
    outcomes: list[validate.ExpectationOutcome]  # what the table holds now
    quarantined: list[QuarantinedFile]
    before: list[validate.ExpectationOutcome] | None = None  # the failing validation, when files were quarantined


def validate_and_gate(db: Path | str, suite: Suite, run_id: str, where: str | None = None) -> Gated:
    """Validate (the rows ``where`` selects, else the whole table); when error expectations fail
    on rows that files explain, quarantine those files, rebuild with dbt, and validate the whole
    table again. Opens the warehouse itself (dbt needs it closed to rebuild)."""
    with warehouse.connect(db) as con:
        outcomes = validate.run_suite(con, suite, where=where)
        failed = [o for o in outcomes if o.severity == "error" and not o.success]
        if not failed:
            return Gated(outcomes, [])
        files = files_behind(con, suite, failed, where=where)
        if not files:
            return Gated(outcomes, [])
        quarantine(con, files, run_id)
    rebuild_through(db, suite.table)
    with warehouse.connect(db) as con:
        return Gated(validate.run_suite(con, suite), files, outcomes)
