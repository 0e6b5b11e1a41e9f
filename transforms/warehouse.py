"""The warehouse file: schema creation and the raw tables' column types."""

from __future__ import annotations

import functools
import os
import re
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from transforms.errors import ConfigError, DenialsError

SQL_DIR = Path(__file__).parent / "sql"
SCHEMA_SQL = SQL_DIR / "raw" / "schema.sql"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw, audit and ref schemas and tables if they do not exist (idempotent)."""
    con.execute(SCHEMA_SQL.read_text())


class WarehouseError(DenialsError):
    """The warehouse file cannot be opened: the message names the path and what was expected."""


class WarehouseLockedError(WarehouseError):
    """Another process still holds the DuckDB file's lock (DuckDB lets one process write a file)."""


# How long the pipeline waits for another process's lock on the warehouse file before it gives
# up: about what dagster_duckdb's retries allowed (0.1 s, doubling, ten times).
LOCK_WAIT_SECONDS = 100.0


def _expected(read_only: bool) -> str:
    return "expected a DuckDB database file" + ("" if read_only else ", or a path where one can be created")


RESERVED_NAMES = {"raw", "ref", "audit", "staging", "intermediate", "marts", "run_cache"}


def check_path(path: Path | str, read_only: bool = False) -> Path:
    """What can be told about the warehouse path without opening it: not a folder, its folder not
    a file, and (read-only) that it exists. Raises WarehouseError naming the path."""
    path = Path(path)
    if path.is_dir():
        raise WarehouseError(f"warehouse {path}: is a directory ({_expected(read_only)})")
    if path.stem.lower() in RESERVED_NAMES:
        # DuckDB names the database after the file: 'ref.duckdb' is catalog "ref", and "ref.x"
        # becomes ambiguous with the schema ref
        raise WarehouseError(f"warehouse {path}: a file named {path.stem!r} clashes with the warehouse's schema of that "
                             f"name (expected another file name, e.g. denials.duckdb)")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise WarehouseError(f"warehouse {path}: {folder} is a file (expected a folder to hold the DuckDB database file)")
    if read_only and not path.exists():
        raise WarehouseError(f"warehouse {path}: not found (expected an existing DuckDB database file; run `denials run` first)")
    return path


def _is_lock_conflict(message: str) -> bool:
    return "Could not set lock on file" in message or "Conflicting lock" in message


def _explain(path: Path, message: str, read_only: bool) -> str:
    """One line for an error DuckDB gave when opening the file (anything but a lock conflict)."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    if "not a valid DuckDB database" in message:
        return f"warehouse {path}: not a DuckDB database file ({_expected(read_only)})"
    if "Is a directory" in message:
        return f"warehouse {path}: is a directory ({_expected(read_only)})"
    if "Not a directory" in message:
        return f"warehouse {path}: a part of its folder path is a file (expected a folder to hold the DuckDB database file)"
    if "Permission denied" in message or "Read-only file system" in message:
        need = "read" if read_only else "read and write"
        return f"warehouse {path}: permission denied (expected a DuckDB database file this user can {need}, in a folder it can write to)"
    if "database does not exist" in message or "No such file or directory" in message:
        return f"warehouse {path}: not found (expected an existing DuckDB database file)"
    return f"warehouse {path}: cannot be opened as a DuckDB database ({first})"


# DuckDB's memory for one run (its buffer manager; operators past it spill to <warehouse>.tmp/).
# DuckDB's own default is 80% of the machine's memory, which it then keeps as cache: a run at a
# million claims went past the 4 GB the project allows itself; with this one it stays under, at
# the same speed (docs/performance.md).
# DENIALS_DUCKDB_MEMORY sets another limit ("6GB", "75%").
DEFAULT_MEMORY_LIMIT = "1.5GB"


def memory_limit() -> str:
    value = os.environ.get("DENIALS_DUCKDB_MEMORY", "").strip() or DEFAULT_MEMORY_LIMIT
    if not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?B|B|%)", value, flags=re.IGNORECASE):
        raise ConfigError(f"DENIALS_DUCKDB_MEMORY={value!r}: expected a size such as 1.5GB or 8GB, or a share such as 50%")
    return value


def connect(path: Path | str, read_only: bool = False, lock_wait: float = 0.0,
            config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file (created when missing, unless ``read_only``).

    Only a lock held by another process is retried (with growing pauses, for up to ``lock_wait``
    seconds), then WarehouseLockedError. Anything else (not a DuckDB file, a directory, permission
    denied, a missing file or a file where a folder should be) raises WarehouseError at once,
    one line naming the path and what was expected. ``:memory:`` opens an in-memory database."""
    config = {"memory_limit": memory_limit(), **(config or {})}
    if str(path) in ("", ":memory:"):
        return duckdb.connect(":memory:", read_only=read_only, config=config)
    path = check_path(path, read_only)
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise WarehouseError(f"warehouse {path}: cannot create its folder {path.parent} ({e.strerror})") from None
    deadline, pause = time.monotonic() + lock_wait, 0.1
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as e:
            message = str(e)
            if not _is_lock_conflict(message):
                raise WarehouseError(_explain(path, message, read_only)) from None
            left = deadline - time.monotonic()
            if left <= 0:
                holder = re.search(r"\(PID (\d+)\)", message)
                who = f"process {holder.group(1)}" if holder else "another process"
                waited = f" (waited {lock_wait:.0f} s)" if lock_wait else ""
                raise WarehouseLockedError(
                    f"warehouse {path}: in use by {who}{waited}; DuckDB lets one process open it for "
                    "writing: run again when that process has finished"
                ) from None
            time.sleep(min(pause, left))
            pause = min(pause * 2, 5.0)


# Vacuum is put off during a run and allowed at its end only when a table carries this share of
# deleted rows. An incremental build deletes and re-inserts the rows of the claims in scope,
# spread over every row group of its tables; with vacuum allowed, the checkpoints of those
# commits rewrite most of those row groups at every commit of a new week (measured in
# docs/performance.md). DuckDB's vacuum only merges row groups once about a third of their rows
# are deleted, so allowing it at that share reclaims what it would have reclaimed anyway.
VACUUM_DEAD_SHARE = 1 / 3


def defer_vacuum(con: duckdb.DuckDBPyConnection) -> None:
    """Checkpoints of this database (until ``finish_writes``) keep deleted rows in place."""
    con.execute("SET max_vacuum_tasks = 0")


def dead_rows(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """{table: (rows stored, live rows)} of the tables that store deleted rows."""
    out = {}
    for schema, table, stored in con.execute(
        "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
        "WHERE NOT temporary AND database_name = current_database()"
    ).fetchall():
        live = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        if stored > live:
            out[f"{schema}.{table}"] = (stored, live)
    return out


def finish_writes(con: duckdb.DuckDBPyConnection) -> bool:
    """Before the last connection closes (its checkpoint): vacuum if a table's deleted rows reach
    VACUUM_DEAD_SHARE of what it stores. Returns whether this checkpoint vacuums."""
    vacuum = any((stored - live) >= VACUUM_DEAD_SHARE * stored for stored, live in dead_rows(con).values())
    if vacuum:
        con.execute("RESET max_vacuum_tasks")
    return vacuum


_ARROW = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
}


def _arrow_type(duck_type: str) -> pa.DataType:
    m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", duck_type)
    if m:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    return _ARROW[duck_type]


@functools.cache
def raw_columns() -> dict[str, dict[str, pa.DataType]]:
    """{raw table: {column: arrow type}} read from schema.sql."""
    con = duckdb.connect()
    try:
        ensure_schema(con)
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, pa.DataType]] = {}
    for table, col, typ in rows:
        out.setdefault(table, {})[col] = _arrow_type(typ)
    return out
