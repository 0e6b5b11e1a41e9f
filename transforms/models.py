"""SQL models: the dbt project's models (``transforms/dbt/models/<layer>/<name>.sql``), in layers
(staging -> intermediate -> marts).

A model file holds one SELECT, reading other models with ``{{ ref('name') }}`` and the loaded
tables with ``{{ source('raw' | 'ref' | 'audit', 'table') }}``, as dbt reads it. Here it is
rendered to plain ``schema.table`` names (``Model.sql``): its table is ``<layer>.<file stem>``,
its dependencies are the tables it reads. Building a model replaces its table in one transaction,
so a failed build leaves the previous table in place.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from transforms.errors import DenialsError
from transforms.settings import SETTINGS_COLUMNS, Settings

DBT_DIR = Path(__file__).parent / "dbt"
SQL_DIR = DBT_DIR / "models"
LAYERS = ("staging", "intermediate", "marts")
SOURCE_SCHEMAS = ("raw", "ref", "audit")
_REF = re.compile(r"\b(raw|ref|audit|staging|intermediate|marts)\.([a-z_][a-z0-9_]*)\b")
# "-- incremental: <key column>[, calendar][; whole: schema.table, ...][; ledger: schema.table]" in a
# model's header: its rows can be rebuilt for a set of keys alone (transforms/incremental.py);
# ", calendar": its rows also depend on the reporting calendar, and weeks whose snapshot changed
# are rebuilt for every key; "whole:": inputs read whole rather than restricted to the keys in
# scope (the rows of a key depend on rows of that input that belong to other keys); "ledger:" (a
# calendar model whose `balance` at a snapshot is the running sum of that input's `amount` by
# `event_date`): a changed week is built from the last unchanged snapshot's balances and the
# ledger's later events, not from the whole ledger.
_INCREMENTAL = re.compile(
    r"^-- incremental: ([a-z_]+)(, calendar)?(?:; whole: ([a-z_., ]+?))?(?:; ledger: ([a-z_.]+))?\s*$", re.MULTILINE
)
REF = _REF  # a "schema.table" reference in a model's SQL
KEYS = ("claim_id", "remit_claim_id", "claim_family_id")


class ModelError(DenialsError):
    """A SQL model failed to build (its table is left as it was)."""


@dataclass(frozen=True)
class Model:
    layer: str
    name: str
    path: Path
    description: str
    deps: tuple[str, ...]  # "schema.table"
    incremental_key: str | None = None  # one of KEYS, or None: always rebuilt whole
    calendar: bool = False  # rows also depend on int_calendar_weeks' snapshots
    read_whole: tuple[str, ...] = ()  # inputs never restricted to the scope
    ledger: str | None = None  # a calendar model's running-sum input (see _INCREMENTAL)

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def sql(self) -> str:
        return render(self.path.read_text())


@functools.cache
def _layers() -> dict[str, str]:
    return {p.stem: layer for layer in LAYERS for p in (SQL_DIR / layer).glob("*.sql")}


def _ref(name: str) -> str:
    layer = _layers().get(name)
    if layer is None:
        raise ModelError(f"ref('{name}'): no model of that name under {SQL_DIR}")
    return f"{layer}.{name}"


def _source(schema: str, table: str) -> str:
    if schema not in SOURCE_SCHEMAS:
        raise ModelError(f"source('{schema}', '{table}'): the sources are {SOURCE_SCHEMAS}")
    return f"{schema}.{table}"


@functools.cache
def _jinja():
    """A Jinja environment rendering the models as dbt does on DuckDB: ref(), source(), and the
    project's macros (transforms/dbt/macros) bound to their duckdb__ (else default__) variant."""
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             extensions=["jinja2.ext.do"])
    env.globals.update(ref=_ref, source=_source)
    modules = [env.from_string(p.read_text()).module for p in sorted((DBT_DIR / "macros").glob("*.sql"))]
    for prefix in ("default__", "duckdb__"):  # a duckdb__ variant wins over the default
        for module in modules:
            for attr in dir(module):
                if attr.startswith(prefix):
                    env.globals[attr.removeprefix(prefix)] = getattr(module, attr)
    return env


@functools.lru_cache(maxsize=256)  # Model.sql is read by the plan, the builds and the incremental rewrite
def render(text: str) -> str:
    """A model's dbt SQL as DuckDB runs it: ``ref()`` and ``source()`` as ``schema.table`` (what
    dbt compiles them to, without the database name), the macros expanded."""
    return _jinja().from_string(text).render()


def _description(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        if not _INCREMENTAL.match(line):
            lines.append(line[2:].strip())
    return " ".join(lines)


@functools.cache
def discover() -> tuple[Model, ...]:
    """All models, in an order that builds every model after what it reads."""
    found: dict[str, Model] = {}
    for layer in LAYERS:
        for path in sorted((SQL_DIR / layer).glob("*.sql")):
            sql = render(path.read_text())
            body = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
            table = f"{layer}.{path.stem}"
            deps = tuple(sorted({f"{s}.{t}" for s, t in _REF.findall(body)} - {table}))
            m = _INCREMENTAL.search(sql)
            if m and m.group(1) not in KEYS:
                raise ModelError(f"{path.name}: incremental key {m.group(1)!r} is not one of {KEYS}")
            whole = tuple(t.strip() for t in m.group(3).split(",")) if m and m.group(3) else ()
            if set(whole) - set(deps):
                raise ModelError(f"{path.name}: 'whole:' names tables the model does not read: {sorted(set(whole) - set(deps))}")
            ledger = m.group(4) if m else None
            if ledger is not None and (ledger not in deps or not m.group(2)):
                raise ModelError(f"{path.name}: 'ledger:' needs ', calendar' and a table the model reads, not {ledger!r}")
            found[table] = Model(layer, path.stem, path, _description(sql), deps,
                                 m.group(1) if m else None, bool(m and m.group(2)), whole, ledger)
    graph = {t: [d for d in m.deps if d in found] for t, m in found.items()}
    order = TopologicalSorter(graph).static_order()
    return tuple(found[t] for t in order)


def set_variables(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Write the settings the models read (``ref.settings``, one row: plain SQL any engine runs)."""
    v = settings.sql_variables()
    con.execute("CREATE SCHEMA IF NOT EXISTS ref")
    con.execute(
        f"CREATE OR REPLACE TABLE ref.settings AS SELECT {', '.join(f'?::{t} AS {n}' for n, t in SETTINGS_COLUMNS)}",
        [v[n] for n, _ in SETTINGS_COLUMNS],
    )


def build(con: duckdb.DuckDBPyConnection, model: Model, settings: Settings) -> int:
    """(Re)build one model's table; returns its row count."""
    set_variables(con, settings)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {model.layer}")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {model.table} AS\n{model.sql}")
        con.execute("COMMIT")
    except duckdb.Error as e:
        con.execute("ROLLBACK")
        raise ModelError(f"model {model.table} ({model.path.relative_to(SQL_DIR)}) failed: {e}") from e
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]


def build_all(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    return {m.table: build(con, m, settings) for m in discover()}
