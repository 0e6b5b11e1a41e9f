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
from transforms import dbt_runner, incremental, reference, warehouse
from transforms.ingest import loader
from transforms.ingest.phi import MemberIdHasher
from transforms.settings import Settings

SAMPLE = ROOT / "sample_data"


def _differences(db: Path, tmp: Path, settings: Settings) -> dict[str, tuple[int, int]]:
    """{table: (rows only in the incremental build, rows only in the full rebuild)} for tables that differ."""
    copy = tmp / f"full_{db.stem}.duckdb"
    shutil.copy(db, copy)
    incremental.build_all(copy, settings, force_full=True)
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"ATTACH '{copy}' AS full_build (READ_ONLY)")
    out = {}
    for m in dbt_runner.discover():
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
        con.close()
        plan, _ = incremental.build_all(db, settings, full_share=full_share)
        plans.append(plan)
        assert _differences(db, tmp, settings) == {}, f"after {batch.name} ({plan.mode}: {plan.reason})"
    return plans


def _built_then_loaded(db: Path, batches: list[Path], settings: Settings) -> duckdb.DuckDBPyConnection:
    """The first batch loaded and built, the second loaded (not built): an open connection."""
    con = warehouse.connect(db)
    loader.load_batch(con, loader.discover(batches[0]), MemberIdHasher(TEST_KEY))
    reference.load_reference(con, settings)
    con.close()
    incremental.build_all(db, settings)
    con = warehouse.connect(db)
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


def test_sample_week_by_week_equals_full_rebuild(tmp_path: Path):
    """The sample data (5,000 claims, 26 weeks of 835s) loaded as 22 weeks, then one week at a
    time: each new week is built incrementally (dbt's incremental models on the plan's scope) and
    equals a full rebuild. The claim balances are rebuilt for every claim only at the weeks whose
    snapshot moved (the last week and the new one)."""
    cuts = [dt.date(2026, 10, 26), dt.date(2026, 11, 2)]
    settings = Settings()
    plans = _run_batches(split_by_date(SAMPLE, tmp_path / "batches", cuts), tmp_path, settings)
    assert plans[0].mode == "full"
    assert [p.mode for p in plans[1:]] == ["incremental"] * 2, [p.reason for p in plans]
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM audit.changed_weeks").fetchone()[0] <= 2
    modes = dict(con.execute("SELECT model, mode FROM audit.model_state").fetchall())
    con.close()
    assert {t: modes[t] for t in ("staging.stg_claims", "intermediate.int_adjudications", "marts.mart_ar_claim_balances",
                                  "marts.mart_claim_facts")} == dict.fromkeys(
        ("staging.stg_claims", "intermediate.int_adjudications", "marts.mart_ar_claim_balances", "marts.mart_claim_facts"),
        "incremental")
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
    con.close()
    first, _ = incremental.build_all(db, settings)
    before = _tables(db)
    again, _ = incremental.build_all(db, settings)
    assert (first.mode, again.mode) == ("full", "none")
    assert _tables(db) == before
    changed, _ = incremental.build_all(db, Settings(as_of_date=TINY_AS_OF, ar_window_days=30))
    assert changed.mode == "full" and "settings" in changed.reason
    con = duckdb.connect(str(db), read_only=True)
    assert set(con.execute("SELECT mode, plan_id FROM audit.model_state").fetchall()) == {("full", changed.plan_id)}
    con.close()


def _tables(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {m.table: sorted(con.execute(f"SELECT * FROM {m.table}").fetchall(), key=repr) for m in dbt_runner.discover()}
    finally:
        con.close()


def test_an_unfinished_plan_is_followed_by_a_full_rebuild(tmp_path: Path):
    """A run that stopped part way (a failed check, a crash) leaves some models behind: the next
    run rebuilds everything rather than trust a partial state."""
    db, settings = tmp_path / "w.duckdb", Settings(as_of_date=TINY_AS_OF)
    con = _built_then_loaded(db, _split_tiny(tmp_path / "batches", 2, seed=7), settings)
    incremental.make_plan(con, settings)
    con.close()
    first = [m.name for m in dbt_runner.discover()[:3]]  # the run stops after three models
    dbt_runner.run(db, ["run", "--select", *first])
    plan, _ = incremental.build_all(db, settings)
    assert plan.mode == "full" and "did not build every model" in plan.reason
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
