"""Incremental model builds: a new week of files costs about a week of work, not the history.

Once per run, after loading and before the models, ``make_plan`` decides how the models are
built and records it in ``audit.model_plans``:

* ``full``: every model is rebuilt whole (the first build; settings, reference tables or a
  model's SQL changed; the previous run did not finish every model; or the new files touch
  more than ``FULL_SHARE`` of the claims, when a rebuild is cheaper);
* ``none``: no file was loaded since the last complete plan: nothing is rebuilt;
* ``incremental``: the *scope* of the new files is computed (below) into ``audit.scope_*``, and
  dbt builds the models incrementally: each model configured with the ``scoped`` strategy
  (transforms/dbt/macros/scoped_incremental.sql) deletes the rows of the keys in scope and
  inserts them again, computed from its inputs restricted to the scope; the other models (the
  calendar and the aggregates by week, payer, CARC ...) are small and rebuilt whole.

The scope is closed: every row of a scoped model depends only on the rows of one claim family
(claims linked by replacement), its remittances, and global tables (payments, the calendar,
reference tables). So the scope is the claim families touched by the new files, with all their
claims and remittances:

* claims in new claim, line and write-off files; the claims they replace, and the claims that
  name them as the claim they replace;
* remittance claims in new files, and those whose lines or adjustments are in new files (a CSV
  export's lines and adjustments are files of their own);
* then, until nothing is added: every claim and remittance of the families (as last built) of
  what is in scope; claims a remittance in scope could match (its CLP01, the billed lines with
  its lines' REF*6R, the claims matched by remittances with its payer claim number), and
  remittances that could match a claim in scope; 837 replacements naming (REF*F8) the payer
  claim number of a remittance in scope, and the claims of the remittances a claim in scope
  names that way.

A model configured ``scoped_calendar`` (the claim balances at each weekly snapshot) also depends
on the calendar: the weeks whose snapshot date changed (a new week, the as-of date moving inside
the current week) are rebuilt for every claim. ``tests/test_incremental.py`` checks that loading in
batches and building incrementally gives exactly the tables of a full rebuild.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms import dbt_runner, warehouse
from transforms.settings import SETTINGS_COLUMNS, Settings

FULL_SHARE = 0.35  # above this share of all claims in scope, a full rebuild is cheaper

SCOPE_TABLES = {
    "claim_id": "audit.scope_claims",
    "remit_claim_id": "audit.scope_remits",
    "claim_family_id": "audit.scope_families",
}
RAW_KEYS = {
    "raw.claims": "claim_id",
    "raw.claim_lines": "claim_id",
    "raw.write_offs": "claim_id",
    "raw.remit_claims": "remit_claim_id",
    "raw.remit_lines": "remit_claim_id",
    "raw.remit_adjustments": "remit_claim_id",
}


@dataclass(frozen=True)
class Plan:
    plan_id: int
    mode: str  # full | incremental | none
    reason: str
    new_files: int
    scope_claims: int | None = None
    scope_remits: int | None = None


@dataclass(frozen=True)
class Build:
    table: str
    mode: str  # full | incremental | unchanged
    rows: int  # rows in the table after the build
    rows_written: int  # rows inserted by this build


def fingerprint(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """What the models' results depend on besides the data: settings, reference tables, SQL."""
    h = hashlib.sha256()
    h.update(json.dumps(settings.sql_variables(), default=str, sort_keys=True).encode())
    h.update(warehouse.SCHEMA_SQL.read_bytes())
    h.update(dbt_runner.project_hash().encode())
    for table in ("ref.carc_categories", "ref.payer_settings"):
        h.update(repr(con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()).encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class ModelStatus:
    """What the warehouse's models hold, for every report and the CLI to state."""

    plan_id: int | None
    plan_mode: str | None
    planned_at: dt.datetime | None
    last_batch: str | None  # the latest load batch whose files the models include
    files_modelled: int
    files_pending: int  # loaded, not yet in any model build
    models_pending: tuple[str, ...]  # models the latest plan has not built yet

    @property
    def complete(self) -> bool:
        return not self.files_pending and not self.models_pending

    def sentence(self) -> str:
        if self.plan_id is None:
            return "No model has been built yet."
        base = (f"Figures include load batches through {self.last_batch or '(none)'} ({self.files_modelled:,} files), "
                f"models built by plan {self.plan_id} ({self.plan_mode}) at {self.planned_at:%Y-%m-%d %H:%M} UTC.")
        if self.complete:
            return base
        parts = []
        if self.files_pending:
            parts.append(f"{self.files_pending:,} loaded file(s) not yet modelled")
        if self.models_pending:
            parts.append(f"{len(self.models_pending)} model(s) of this plan not yet built ({', '.join(self.models_pending[:3])}"
                         + (" ..." if len(self.models_pending) > 3 else "") + ")")
        return base + " PENDING: " + "; ".join(parts) + ": the next run (`denials run`, even with no new file) finishes them."


def status(con: duckdb.DuckDBPyConnection) -> ModelStatus:
    """Whether the models hold every loaded file and the latest plan built every model. A run
    killed after its load, or between two models, leaves this pending until the next run."""
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'audit' AND database_name = current_database()").fetchall()}
    if not {"model_plans", "model_files", "model_state", "file_manifest"} <= have:  # read-only: nothing is created here
        return ModelStatus(None, None, None, None, 0, 0, ())
    plan = con.execute("SELECT plan_id, mode, created_at FROM audit.model_plans ORDER BY plan_id DESC LIMIT 1").fetchone()
    modelled, pending, last_batch = con.execute(
        """SELECT count(*) FILTER (WHERE mf.file_id IS NOT NULL), count(*) FILTER (WHERE mf.file_id IS NULL),
                  max(m.batch_id) FILTER (WHERE mf.file_id IS NOT NULL)
           FROM audit.file_manifest AS m LEFT JOIN audit.model_files AS mf USING (file_id)
           WHERE m.status = 'loaded'""").fetchone()
    if plan is None:
        return ModelStatus(None, None, None, None, 0, pending, ())
    built = {r[0] for r in con.execute("SELECT model FROM audit.model_state WHERE plan_id = ?", [plan[0]]).fetchall()}
    missing = tuple(m.table for m in dbt_runner.discover() if m.table not in built)
    return ModelStatus(plan[0], plan[1], plan[2], last_batch, modelled, pending, missing)


def latest_plan(con: duckdb.DuckDBPyConnection) -> Plan | None:
    row = con.execute(
        "SELECT plan_id, mode, reason, new_files, scope_claims, scope_remits FROM audit.model_plans "
        "ORDER BY plan_id DESC LIMIT 1"
    ).fetchone()
    return Plan(*row) if row else None


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}


def _decide(con: duckdb.DuckDBPyConnection, fp: str, new_files: int, force_full: bool) -> tuple[str, str]:
    last = con.execute("SELECT plan_id, fingerprint FROM audit.model_plans ORDER BY plan_id DESC LIMIT 1").fetchone()
    if last is None:
        return "full", "first build"
    if force_full:
        return "full", "a full rebuild was asked for"
    if last[1] != fp:
        return "full", "settings, reference tables or model SQL changed"
    states = dict(con.execute("SELECT model, plan_id FROM audit.model_state").fetchall())
    everything = dbt_runner.discover()
    if any(states.get(m.table) != last[0] for m in everything):
        return "full", "the previous run did not build every model"
    if any(m.table not in _existing_tables(con) for m in everything):
        return "full", "a model's table is missing"
    if new_files == 0:
        return "none", "no new files since the last build"
    return "incremental", f"{new_files} new file(s)"


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# Each step adds to the scope what the scope so far implies (see the module docstring). The
# families are those of the last build (staging.stg_claims, intermediate.int_adjudications):
# the new files' own links are in the seed. A step is a union of terms; each term reads one set
# ({C} claims, {R} remittances, {F} families) and is a union over its members, so it need only be
# evaluated on the members added since it last ran (semi-naive evaluation): the closure reached is
# the same, and the last round, which finds nothing, reads a few thousand keys, not the scope.
_SETS = {"C": ("_sc_claims", "claim_id"), "R": ("_sc_remits", "remit_claim_id"), "F": ("_sc_families", "claim_family_id")}
_CLOSURE: list[tuple[str, list[tuple[str, str]]]] = [
    ("F", [
        ("C", "SELECT claim_family_id FROM staging.stg_claims WHERE claim_id IN {C}"),
        ("C", "SELECT claim_id FROM {C}"),
        ("R", "SELECT claim_family_id FROM intermediate.int_adjudications WHERE remit_claim_id IN {R}"),
        ("R", "SELECT claim_id FROM raw.remit_claims WHERE remit_claim_id IN {R}"),
    ]),
    ("C", [
        ("F", "SELECT claim_id FROM staging.stg_claims WHERE claim_family_id IN {F}"),
        ("R", """SELECT claim_id FROM raw.claims
                 WHERE claim_id IN (SELECT claim_id FROM raw.remit_claims WHERE remit_claim_id IN {R})"""),
        ("R", """SELECT claim_id FROM raw.claim_lines
                 WHERE line_control_number IN (SELECT line_control_number FROM raw.remit_lines
                                               WHERE remit_claim_id IN {R})"""),
        # an 837 replacement names the claim it replaces by the payer's claim number (REF*F8 = CLP07)
        ("R", """SELECT claim_id FROM raw.claims
                 WHERE original_payer_claim_number IN (SELECT payer_claim_number FROM raw.remit_claims
                                                       WHERE remit_claim_id IN {R})"""),
        ("C", """SELECT claim_id FROM raw.remit_claims
                 WHERE payer_claim_number IN (SELECT original_payer_claim_number FROM raw.claims
                                              WHERE claim_id IN {C})"""),
    ]),
    ("R", [
        ("F", "SELECT remit_claim_id FROM intermediate.int_adjudications WHERE claim_family_id IN {F}"),
        ("C", "SELECT remit_claim_id FROM raw.remit_claims WHERE claim_id IN {C}"),
        ("C", """SELECT remit_claim_id FROM raw.remit_lines
                 WHERE line_control_number IN (SELECT line_control_number FROM raw.claim_lines
                                               WHERE claim_id IN {C})"""),
        ("R", """SELECT remit_claim_id FROM raw.remit_claims
                 WHERE payer_claim_number IN (SELECT payer_claim_number FROM raw.remit_claims
                                              WHERE remit_claim_id IN {R})"""),
        # the CLP loops of one payment with the same CLP01 are decided together (a split claim,
        # or claims sharing a patient control number: int_adjudications)
        ("R", """SELECT r.remit_claim_id FROM raw.remit_claims AS r
                 JOIN (SELECT DISTINCT payment_id, claim_id FROM raw.remit_claims WHERE remit_claim_id IN {R}) AS s
                   ON s.payment_id = r.payment_id AND s.claim_id = r.claim_id"""),
    ]),
]


def _close_scope(con: duckdb.DuckDBPyConnection) -> None:
    """Run the closure's steps until no term has members it has not read; each set's rows carry
    the generation (``g``) of the step that added them."""
    added_at: dict[str, list[tuple[int, int]]] = {x: [(0, _count(con, _SETS[x][0]))] for x in _SETS}
    seen = {(i, j): -1 for i, (_, terms) in enumerate(_CLOSURE) for j in range(len(terms))}
    gen, idle = 0, 0
    while idle < len(_CLOSURE):
        i = gen % len(_CLOSURE)
        target, terms = _CLOSURE[i]
        parts = []
        for j, (src, term) in enumerate(terms):
            if any(g > seen[i, j] and n for g, n in added_at[src]):
                table, key = _SETS[src]
                parts.append(term.format(**{src: f"(SELECT {key} FROM {table} WHERE g > {seen[i, j]})"}))
                seen[i, j] = gen
        gen += 1
        if not parts:
            idle += 1
            continue
        table, key = _SETS[target]
        n = con.execute(
            f"INSERT INTO {table} SELECT k, {gen} FROM ({' UNION '.join(parts)} EXCEPT SELECT {key} FROM {table}) AS t(k)"
        ).fetchone()[0]
        added_at[target].append((gen, n))
        idle = 0 if n else idle + 1


def _compute_scope(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    new = "(SELECT file_id FROM _new_files)"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _sc_claims AS SELECT claim_id, 0 AS g FROM (
            SELECT claim_id FROM raw.claims WHERE file_id IN {new}
            UNION SELECT original_claim_id FROM raw.claims WHERE file_id IN {new} AND original_claim_id IS NOT NULL
            UNION SELECT claim_id FROM raw.claim_lines WHERE file_id IN {new}
            UNION SELECT claim_id FROM raw.write_offs WHERE file_id IN {new}) AS t(claim_id)"""
    )
    con.execute(
        "INSERT INTO _sc_claims SELECT claim_id, 0 FROM raw.claims WHERE original_claim_id IN (SELECT claim_id FROM _sc_claims) "
        "EXCEPT SELECT claim_id, 0 FROM _sc_claims"
    )
    # a CSV export's remittance lines and adjustments are files of their own (they may come later);
    # a payment sent again in a new file (same payer and trace number) supersedes the earlier
    # copies: their remittance claims leave the models, and those of the new file enter
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _sc_remits AS SELECT remit_claim_id, 0 AS g FROM (
            SELECT remit_claim_id FROM raw.remit_claims WHERE file_id IN {new}
            UNION SELECT remit_claim_id FROM raw.remit_lines WHERE file_id IN {new}
            UNION SELECT remit_claim_id FROM raw.remit_adjustments WHERE file_id IN {new}
            UNION SELECT r.remit_claim_id FROM raw.remit_claims AS r
                JOIN raw.remit_payments AS p ON p.payment_id = r.payment_id AND p.file_id = r.file_id
                JOIN (SELECT DISTINCT trace_number, coalesce(payer_id, payer_name, 'unknown') AS payer_key
                      FROM raw.remit_payments WHERE file_id IN {new} AND trace_number IS NOT NULL) AS n
                  ON n.trace_number = p.trace_number AND n.payer_key = coalesce(p.payer_id, p.payer_name, 'unknown')
            ) AS t(remit_claim_id)"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _sc_families (claim_family_id VARCHAR, g INTEGER)")
    _close_scope(con)
    sources = {key: table for table, key in _SETS.values()}
    for key, target in SCOPE_TABLES.items():
        source = sources[key]
        con.execute(f"DELETE FROM {target}")
        con.execute(f"INSERT INTO {target} SELECT DISTINCT {key} FROM {source} WHERE {key} IS NOT NULL")
    return _count(con, "audit.scope_claims"), _count(con, "audit.scope_remits")


def set_variables(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Write the settings the models read (``ref.settings``, one row: plain SQL any engine runs)."""
    v = settings.sql_variables()
    con.execute("CREATE SCHEMA IF NOT EXISTS ref")
    con.execute(
        f"CREATE OR REPLACE TABLE ref.settings AS SELECT {', '.join(f'?::{t} AS {n}' for n, t in SETTINGS_COLUMNS)}",
        [v[n] for n, _ in SETTINGS_COLUMNS],
    )


def make_plan(
    con: duckdb.DuckDBPyConnection, settings: Settings, force_full: bool = False, full_share: float | None = None
) -> Plan:
    """Decide how this run builds the models, and record it (one transaction); writes the
    settings the models read."""
    warehouse.ensure_schema(con)
    set_variables(con, settings)
    fp = fingerprint(con, settings)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _new_files AS SELECT file_id FROM audit.file_manifest "
            "WHERE status = 'loaded' AND file_id NOT IN (SELECT file_id FROM audit.model_files)"
        )
        new_files = _count(con, "_new_files")
        mode, reason = _decide(con, fp, new_files, force_full)
        n_claims = n_remits = None
        if mode == "incremental":
            n_claims, n_remits = _compute_scope(con)
            total, billed = con.execute(
                "SELECT count(DISTINCT claim_id), count(DISTINCT claim_id) FILTER "
                "(WHERE claim_id IN (SELECT claim_id FROM audit.scope_claims)) FROM raw.claims"
            ).fetchone()
            if total and billed > (FULL_SHARE if full_share is None else full_share) * total:
                mode, reason = "full", f"the new files touch {billed:,} of {total:,} claims (a rebuild is cheaper)"
        if mode != "incremental":
            for target in SCOPE_TABLES.values():
                con.execute(f"DELETE FROM {target}")
        plan_id = con.execute("SELECT coalesce(max(plan_id), 0) + 1 FROM audit.model_plans").fetchone()[0]
        if mode == "full":
            con.execute("DELETE FROM audit.model_files")
            con.execute(f"INSERT INTO audit.model_files SELECT file_id, {plan_id} FROM audit.file_manifest WHERE status = 'loaded'")
        else:
            con.execute(f"INSERT INTO audit.model_files SELECT file_id, {plan_id} FROM _new_files")
        con.execute(
            "INSERT INTO audit.model_plans VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [plan_id, dt.datetime.now(), mode, reason, fp, new_files, n_claims, n_remits],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Plan(plan_id, mode, reason, new_files, n_claims, n_remits)


def dbt_args(plan: Plan | None) -> list[str]:
    """The dbt arguments that build the models as the plan says: ``--full-refresh`` for a full
    plan (or none), else dbt's incremental builds on the plan's scope (empty for 'none': only the
    small whole-table models and the weeks whose snapshot changed are rebuilt)."""
    return ["--full-refresh"] if plan is None or plan.mode == "full" else []


def build_all(
    db: Path | str, settings: Settings, force_full: bool = False, full_share: float | None = None
) -> tuple[Plan, dbt_runner.DbtRun]:
    """Plan, then build every model with dbt (what the Dagster job does, without Dagster). The
    warehouse must not be open in this process."""
    con = warehouse.connect(db)
    try:
        plan = make_plan(con, settings, force_full=force_full, full_share=full_share)
    finally:
        con.close()
    return plan, dbt_runner.run(db, ["run", *dbt_args(plan)])


def rebuilt_rows(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str | None, str | None]:
    """(source, where) for ``validate.run_suite``: the rows the latest plan rebuilt in ``table``
    ((None, None): the whole table was built)."""
    return None, scope_filter(con, table)


def scope_filter(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """A WHERE clause selecting the rows the latest incremental plan rebuilt in ``table`` (for
    validating those alone), or None when the whole table was built."""
    plan = latest_plan(con)
    if plan is None or plan.mode == "full":
        return None
    model = next((m for m in dbt_runner.discover() if m.table == table), None)
    if model is None or model.incremental_key is None:
        return None
    key = model.incremental_key
    return f"{key} IN (SELECT {key} FROM {SCOPE_TABLES[key]})"
