"""Incremental builds equal full rebuilds.

The same files are loaded batch by batch; after each batch the models are built incrementally
(transforms/incremental.py), and every model table is compared, as a multiset of rows, with a
full rebuild of a copy of the same warehouse file (same files, same load times).
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from datagen.split import split_by_date
from tests.conftest import ROOT, TINY, TINY_AS_OF
from tests.helpers import TEST_KEY
from transforms import incremental, models, reference, warehouse
from transforms.ingest import loader
from transforms.ingest.phi import MemberIdHasher
from transforms.quality import suites, validate
from transforms.settings import Settings

SAMPLE = ROOT / "sample_data"


def _differences(db: Path, tmp: Path, settings: Settings) -> dict[str, tuple[int, int]]:
    """{table: (rows only in the incremental build, rows only in the full rebuild)} for tables that differ."""
    copy = tmp / f"full_{db.stem}.duckdb"
    shutil.copy(db, copy)
    con = warehouse.connect(copy)
    models.build_all(con, settings)
    con.close()
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"ATTACH '{copy}' AS full_build (READ_ONLY)")
    out = {}
    for m in models.discover():
        a = con.execute(f"SELECT count(*) FROM (SELECT * FROM {m.table} EXCEPT ALL SELECT * FROM full_build.{m.table})").fetchone()[0]
        b = con.execute(f"SELECT count(*) FROM (SELECT * FROM full_build.{m.table} EXCEPT ALL SELECT * FROM {m.table})").fetchone()[0]
        if a or b:
            out[m.table] = (a, b)
    con.close()
    copy.unlink()
    return out


def _run_batches(batches: list[Path], tmp: Path, settings: Settings, full_share: float = incremental.FULL_SHARE
                 ) -> list[incremental.Plan]:
    db = tmp / "w.duckdb"
    plans = []
    for batch in batches:
        con = warehouse.connect(db)
        loader.load_batch(con, loader.discover(batch), MemberIdHasher(TEST_KEY))
        reference.load_reference(con, settings)
        plan, _ = incremental.build_all(con, settings, full_share=full_share)
        con.close()
        plans.append(plan)
        assert _differences(db, tmp, settings) == {}, f"after {batch.name} ({plan.mode}: {plan.reason})"
    return plans


def _built_then_loaded(db: Path, batches: list[Path], settings: Settings) -> duckdb.DuckDBPyConnection:
    """The first batch loaded and built, the second loaded (not built): an open connection."""
    con = warehouse.connect(db)
    loader.load_batch(con, loader.discover(batches[0]), MemberIdHasher(TEST_KEY))
    reference.load_reference(con, settings)
    incremental.build_all(con, settings)
    loader.load_batch(con, loader.discover(batches[1]), MemberIdHasher(TEST_KEY))
    return con


def _split_tiny(dest: Path, n: int, seed: int) -> list[Path]:
    """The tiny dataset's rows dealt at random into n batches (a claim's lines with the claim row,
    a remittance's lines and adjustments with the remittance), each batch a folder of CSVs."""
    rng = random.Random(seed)
    read = lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)  # noqa: E731
    claims = read(TINY / "claims" / "claims.csv")
    lines = read(TINY / "claims" / "claim_lines.csv")
    writeoffs = read(TINY / "claims" / "write_offs.csv")
    remits = read(TINY / "remittances" / "remit_claims.csv")
    rlines = read(TINY / "remittances" / "remit_lines.csv")
    radj = read(TINY / "remittances" / "remit_adjustments.csv")
    claim_batch = {c: rng.randrange(n) for c in claims["claim_id"].unique()}
    remit_batch = {a: rng.randrange(n) for a in remits["adjudication_id"]}
    writeoff_batch = pd.Series([rng.randrange(n) for _ in range(len(writeoffs))], index=writeoffs.index)
    out = []
    for b in range(n):
        folder = dest / f"batch{b}"
        (folder / "claims").mkdir(parents=True)
        (folder / "remittances").mkdir(parents=True)
        parts = {
            "claims/claims.csv": claims[claims["claim_id"].map(claim_batch) == b],
            "claims/claim_lines.csv": lines[lines["claim_id"].map(claim_batch) == b],
            "claims/write_offs.csv": writeoffs[writeoff_batch == b],
            "remittances/remit_claims.csv": remits[remits["adjudication_id"].map(remit_batch) == b],
            "remittances/remit_lines.csv": rlines[rlines["adjudication_id"].map(remit_batch) == b],
            "remittances/remit_adjustments.csv": radj[radj["adjudication_id"].map(remit_batch) == b],
        }
        for name, df in parts.items():
            if len(df):
                df.to_csv(folder / name.replace(".csv", f"_{b}.csv"), index=False)
        out.append(folder)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_tiny_in_random_batches_equals_full_rebuild(tmp_path: Path, seed: int):
    """Claims, replacements, remittances (matched by claim id, line control number or payer
    claim number, or unmatched until their claim arrives), reversals, secondary payers and
    write-offs, arriving in any order. Every batch after the first is built incrementally
    (full_share=1: however large its scope)."""
    settings = Settings(as_of_date=TINY_AS_OF)
    plans = _run_batches(_split_tiny(tmp_path / "batches", 4, seed), tmp_path, settings, full_share=1.0)
    assert plans[0].mode == "full"
    assert all(p.mode in ("incremental", "none") for p in plans[1:]), [p.reason for p in plans]


def test_sample_week_by_week_equals_full_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The sample data (5,000 claims, 26 weeks of 835s) loaded as 22 weeks, then one week at a
    time: each new week is built incrementally and equals a full rebuild. The claim balances of
    the weeks whose snapshot moved are carried from the last unchanged snapshot (not the whole
    ledger) in both incremental builds."""
    carried = []
    real = incremental._carry_ledger
    monkeypatch.setattr(incremental, "_carry_ledger", lambda *a: carried.append(real(*a)) or carried[-1])
    cuts = [dt.date(2026, 10, 26), dt.date(2026, 11, 2)]
    settings = Settings()
    plans = _run_batches(split_by_date(SAMPLE, tmp_path / "batches", cuts), tmp_path, settings)
    assert plans[0].mode == "full"
    assert [p.mode for p in plans[1:]] == ["incremental"] * 2, [p.reason for p in plans]
    assert carried == [True, True]
    # a week touches a small part of the history
    assert all(p.scope_claims < 0.35 * 5000 for p in plans[1:])


def test_remittance_adjustments_arriving_alone_equal_full_rebuild(tmp_path: Path):
    """A CSV export's adjustments file loaded in a later batch than its remittance claims and
    lines: the remittances it adjusts are in the next build's scope."""
    first, later = tmp_path / "batches" / "first", tmp_path / "batches" / "later"
    shutil.copytree(TINY, first)
    (later / "remittances").mkdir(parents=True)
    shutil.move(first / "remittances" / "remit_adjustments.csv", later / "remittances" / "remit_adjustments.csv")
    plans = _run_batches([first, later], tmp_path, Settings(as_of_date=TINY_AS_OF), full_share=1.0)
    assert [p.mode for p in plans] == ["full", "incremental"], [p.reason for p in plans]
    assert plans[1].scope_remits > 0


def test_no_new_files_builds_nothing_and_changed_settings_rebuild(tmp_path: Path):
    db = tmp_path / "w.duckdb"
    con = warehouse.connect(db)
    loader.load_batch(con, loader.discover(TINY), MemberIdHasher(TEST_KEY))
    settings = Settings(as_of_date=TINY_AS_OF)
    reference.load_reference(con, settings)
    first, _ = incremental.build_all(con, settings)
    again, builds = incremental.build_all(con, settings)
    assert (first.mode, again.mode) == ("full", "none")
    assert {b.mode for b in builds} == {"unchanged"}
    changed, builds = incremental.build_all(con, Settings(as_of_date=TINY_AS_OF, ar_window_days=30))
    assert changed.mode == "full" and "settings" in changed.reason
    assert {b.mode for b in builds} == {"full"}
    con.close()


def test_an_unfinished_plan_is_followed_by_a_full_rebuild(tmp_path: Path):
    """A run that stopped part way (a failed check, a crash) leaves some models behind: the next
    run rebuilds everything rather than trust a partial state."""
    db, settings = tmp_path / "w.duckdb", Settings(as_of_date=TINY_AS_OF)
    con = _built_then_loaded(db, _split_tiny(tmp_path / "batches", 2, seed=7), settings)
    incremental.make_plan(con, settings)
    for m in models.discover()[:3]:  # the run stops after three models
        incremental.build(con, m, settings)
    plan, _ = incremental.build_all(con, settings)
    assert plan.mode == "full" and "did not build every model" in plan.reason
    con.close()
    assert _differences(db, tmp_path, settings) == {}


@pytest.mark.parametrize("order", [(0, 1, 2, 3, 4), (4, 3, 2, 1, 0), (1, 2, 4, 0, 3)])
def test_837_replacements_in_any_order_equal_full_rebuild(tmp_path: Path, order: tuple[int, ...]):
    """837 replacements name their original by the payer's claim number (REF*F8 = CLP07): the
    link is made or changed by whichever of the bill and the remittance arrives later."""
    from tests.test_replacement_837 import story_files

    files = list(story_files().items())
    batches = []
    for i, k in enumerate(order):
        folder = tmp_path / "batches" / f"b{i}"
        folder.mkdir(parents=True)
        (folder / files[k][0]).write_text(files[k][1])
        batches.append(folder)
    plans = _run_batches(batches, tmp_path, Settings(as_of_date=dt.date(2026, 3, 29)), full_share=1.0)
    assert [p.mode for p in plans[1:]] == ["incremental"] * 4, [p.reason for p in plans]


@pytest.mark.parametrize("seed", range(8))
def test_closure_on_new_members_only_equals_the_fixed_point_on_random_links(seed: int, monkeypatch: pytest.MonkeyPatch):
    """``_close_scope`` on random link tables between three sets (every kind of term: from each
    set to each set, itself included; the first case a chain of claims alone) reaches the fixed
    point computed here by brute force."""
    rng = random.Random(seed)
    con = duckdb.connect()
    names = {"C": "c", "R": "r", "F": "f"}
    links = {(a, b): {(f"{names[a]}{rng.randrange(25)}", f"{names[b]}{rng.randrange(25)}") for _ in range(rng.randrange(5, 30))}
             for a in names for b in names}
    sets = {x: {f"{names[x]}{rng.randrange(25)}" for _ in range(rng.randrange(0, 3))} for x in names}
    if seed == 0:  # one chain of claims alone: each link is found by the step that added its start
        links = {(a, b): {("c1", "c2"), ("c2", "c3"), ("c3", "c4")} if (a, b) == ("C", "C") else set() for a in names for b in names}
        sets = {"C": {"c1"}, "R": set(), "F": set()}
    for (a, b), pairs in links.items():
        con.execute(f"CREATE TABLE link_{a}{b} (src VARCHAR, dst VARCHAR)")
        if pairs:
            con.executemany(f"INSERT INTO link_{a}{b} VALUES (?, ?)", sorted(pairs))
    for x, members in sets.items():
        con.execute(f"CREATE TEMP TABLE set_{x} (k VARCHAR, g INTEGER)")
        if members:
            con.executemany(f"INSERT INTO set_{x} VALUES (?, 0)", [[m] for m in sorted(members)])
    monkeypatch.setattr(incremental, "_SETS", {x: (f"set_{x}", "k") for x in names})
    monkeypatch.setattr(incremental, "_CLOSURE", [
        (b, [(a, f"SELECT dst FROM link_{a}{b} WHERE src IN {{{a}}}") for a in names]) for b in ("F", "C", "R")])
    incremental._close_scope(con)
    expected = {x: set(v) for x, v in sets.items()}
    while True:
        before = sum(map(len, expected.values()))
        for (a, b), pairs in links.items():
            expected[b] |= {dst for src, dst in pairs if src in expected[a]}
        if sum(map(len, expected.values())) == before:
            break
    assert {x: {r[0] for r in con.execute(f"SELECT k FROM set_{x}").fetchall()} for x in names} == expected


@pytest.mark.parametrize("data", ["sample", "replacements 0-2", "replacements 0,4", "replacements 1,3"])
def test_closure_on_new_members_only_reaches_the_naive_fixed_point(tmp_path: Path, data: str):
    """The plan evaluates each closure term on the members added since it last ran; evaluating
    every term on the whole sets until nothing is added gives the same scope. The sample data's
    22 weeks, then the rest (the late weeks' 835s settle claims billed earlier); 837 replacements
    linked by payer claim numbers, some files first, then the others."""
    if data == "sample":
        settings = Settings()
        batches = split_by_date(SAMPLE, tmp_path / "batches", [dt.date(2026, 10, 26)])
    else:
        from tests.test_replacement_837 import story_files

        settings = Settings(as_of_date=dt.date(2026, 3, 29))
        first = {int(i) for i in data.split()[1].replace("-", ",1,").split(",")}
        files = list(story_files().items())
        batches = [tmp_path / "b0", tmp_path / "b1"]
        for i, (name, text) in enumerate(files):
            folder = batches[0 if i in first else 1]
            folder.mkdir(exist_ok=True)
            (folder / name).write_text(text)
    con = _built_then_loaded(tmp_path / "w.duckdb", batches, settings)
    plan = incremental.make_plan(con, settings, full_share=1.0)
    assert plan.mode == "incremental"
    # the seeds are the rows of generation 0 the plan left in its temporary sets
    sets = {x: {r[0] for r in con.execute(f"SELECT {key} FROM {table} WHERE g = 0").fetchall()}
            for x, (table, key) in incremental._SETS.items()}
    assert sets["C"] and sets["R"] and not sets["F"]
    productive_rounds = 0
    while True:
        added = 0
        for target, terms in incremental._CLOSURE:
            for x, (_, key) in incremental._SETS.items():
                con.execute(f"CREATE OR REPLACE TEMP TABLE _naive_{x} AS SELECT unnest(?::VARCHAR[]) AS {key}",
                            [sorted(sets[x] - {None})])
            found = set()
            for src, term in terms:
                key = incremental._SETS[src][1]
                found |= {r[0] for r in con.execute(term.format(**{src: f"(SELECT {key} FROM _naive_{src})"})).fetchall()}
            added += len(found - sets[target])
            sets[target] |= found
        if added == 0:
            break
        productive_rounds += 1
    scope = {x: {r[0] for r in con.execute(f"SELECT {key} FROM {incremental.SCOPE_TABLES[key]}").fetchall()}
             for x, (_, key) in incremental._SETS.items()}
    assert scope == {x: v - {None} for x, v in sets.items()}
    if data == "sample":
        assert productive_rounds >= 2  # links found in one round led further in the next
    con.close()


def test_readers_use_the_rows_a_scoped_build_kept_and_only_while_valid(tmp_path: Path):
    """A scoped build keeps the rows it rebuilt (in memory) for the models that read it: they are
    the table's rows of the keys in scope. An entry serves only the plan that wrote it, with the
    same scope; the cache is gone when the build is over, and the tables equal a full rebuild."""
    db, settings = tmp_path / "w.duckdb", Settings(as_of_date=TINY_AS_OF)
    con = _built_then_loaded(db, _split_tiny(tmp_path / "batches", 2, seed=3), settings)
    plan = incremental.make_plan(con, settings, full_share=1.0)
    assert plan.mode == "incremental"
    kept = {}
    for m in models.discover():
        incremental.build(con, m, settings)
        if m.incremental_key:
            kept[m.table] = incremental._cached(con, m.table, m.incremental_key, plan.plan_id)
    # every scoped model some scoped model reads kept its rows; the calendar model and the last ones did not
    assert kept["staging.stg_claims"] and kept["intermediate.int_adjudications"] and kept["intermediate.int_claim_outcomes"]
    assert kept["marts.mart_ar_claim_balances"] is None and kept["marts.mart_claim_facts"] is None
    for table, cache in kept.items():
        if cache is None:
            continue
        key = next(m.incremental_key for m in models.discover() if m.table == table)
        scoped = f"SELECT * FROM {table} WHERE {key} IN (SELECT {key} FROM {incremental.SCOPE_TABLES[key]})"
        assert con.execute(f"SELECT count(*) FROM ({scoped})").fetchone()[0] > 0, table
        for a, b in ((scoped, f"SELECT * FROM {cache}"), (f"SELECT * FROM {cache}", scoped)):
            assert con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0] == 0, table
    # a model's checks read its kept rows and get the outcomes of validating the table in scope
    for table in ("staging.stg_claims", "intermediate.int_adjudications"):
        assert incremental.kept_rows(con, table) == kept[table]
        from_table = validate.run_suite(con, suites.suite_for(table), where=incremental.scope_filter(con, table))
        from_kept = validate.run_suite(con, suites.suite_for(table), source=kept[table])
        assert from_kept == from_table and from_kept[0].element_count > 0, table
    assert incremental.kept_rows(con, "marts.mart_weekly_denial_rates") is None  # rebuilt whole
    # another plan, or a scope that changed since: the table is read
    assert incremental._cached(con, "staging.stg_claims", "claim_id", plan.plan_id + 1) is None
    con.execute("INSERT INTO audit.scope_claims VALUES ('not-a-claim')")
    assert incremental._cached(con, "staging.stg_claims", "claim_id", plan.plan_id) is None
    con.execute("DELETE FROM audit.scope_claims WHERE claim_id = 'not-a-claim'")
    incremental.drop_cache(con)
    assert incremental._cached(con, "staging.stg_claims", "claim_id", plan.plan_id) is None
    # warehouse housekeeping looks at the warehouse's own tables, not the attached cache
    incremental._attach_cache(con)
    assert not any(t.startswith(incremental.CACHE_DB) or "entries" in t for t in warehouse.dead_rows(con))
    warehouse.finish_writes(con)
    con.close()
    assert _differences(db, tmp_path, settings) == {}


def test_build_all_leaves_no_cache_attached(tmp_path: Path):
    batches = _split_tiny(tmp_path / "batches", 2, seed=5)
    con = warehouse.connect(tmp_path / "w.duckdb")
    settings = Settings(as_of_date=TINY_AS_OF)
    for batch in batches:
        loader.load_batch(con, loader.discover(batch), MemberIdHasher(TEST_KEY))
        reference.load_reference(con, settings)
        plan, _ = incremental.build_all(con, settings, full_share=1.0)
    assert plan.mode == "incremental"
    assert con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [incremental.CACHE_DB]).fetchone()[0] == 0
    con.close()
