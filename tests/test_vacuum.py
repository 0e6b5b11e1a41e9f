"""Deferred vacuum (transforms/warehouse.py): during a run, checkpoints keep deleted rows in place;
the run's last checkpoint vacuums once a table's deleted rows reach VACUUM_DEAD_SHARE."""

from __future__ import annotations

import dagster as dg

from pipelines.resources import Warehouse
from transforms import warehouse

N = 1_000_000


def _run(db, *sql) -> list[str]:
    """Statements executed as a run's steps execute them (the run's one database, a cursor each);
    returns max_vacuum_tasks as each step saw it."""
    res = Warehouse(database=str(db))
    res.setup_for_execution(dg.build_init_resource_context())
    seen = []
    for statement in sql:
        with res.get_connection() as con:
            seen.append(con.execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0])
            con.execute(statement)
    res.teardown_after_execution(dg.build_init_resource_context())
    return seen


def _state(db):
    con = warehouse.connect(db, read_only=True)
    try:
        stored = con.execute("SELECT estimated_size FROM duckdb_tables() WHERE table_name = 't'").fetchone()[0]
        count, total = con.execute("SELECT count(*), sum(i) FROM t").fetchone()
        return stored, count, total
    finally:
        con.close()


def test_deleted_rows_stay_until_their_share_is_worth_a_vacuum(tmp_path):
    db = tmp_path / "w.duckdb"
    con = warehouse.connect(db)
    con.execute(f"CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range({N})")
    con.close()
    # a fifth of the rows, spread over every row group (as a scoped rebuild deletes): kept in place
    assert _run(db, "DELETE FROM t WHERE i % 10 = 0", "DELETE FROM t WHERE i % 10 = 1") == [0, 0]
    stored, count, total = _state(db)
    assert (stored, count) == (N, 800_000)
    assert total == sum(i for i in range(N) if i % 10 > 1)
    assert warehouse.dead_rows(warehouse.connect(db, read_only=True)) == {"main.t": (N, 800_000)}
    # two more tenths: 40% of what is stored is dead, the run's last checkpoint vacuums
    _run(db, "DELETE FROM t WHERE i % 10 IN (2, 3)")
    stored, count, total = _state(db)
    assert count == 600_000 and total == sum(i for i in range(N) if i % 10 > 3)
    assert stored < 0.8 * N  # row groups merged


def test_finish_writes_decides_by_the_share_of_deleted_rows(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    con.execute(f"CREATE TABLE t AS SELECT range AS i FROM range({N})")
    con.execute("CHECKPOINT")
    warehouse.defer_vacuum(con)
    con.execute("DELETE FROM t WHERE i % 4 = 0")
    assert not warehouse.finish_writes(con)  # 25%
    assert con.execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0] == 0
    con.execute("DELETE FROM t WHERE i % 4 = 1")
    assert warehouse.finish_writes(con)  # 50%
    assert con.execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0] > 0
    con.close()
