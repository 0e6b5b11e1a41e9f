"""Dagster's SQLite storage, with its database connections kept open between uses.

Dagster's SQLite storage (``storage: sqlite`` in dagster.yaml) opens a new SQLAlchemy engine and
SQLite connection for every read and write and closes it afterwards. A run of this project's job
writes about 200 events; with the asset index, run and schedule reads behind them that is about
800 connections per run. Closing the last connection to a database in WAL mode checkpoints the
WAL into the database file (with an fsync), so each costs 1-5 ms: 1-2 s of every run, whatever
the size of the data (docs/performance.md).

``PooledSqliteStorage`` is that storage, with the same files and layout, except that each
database (the asset and event index ``index.db``, ``runs.db``, ``schedules.db`` and each run's
event database) is used through one pooled engine per process, whose connections stay open.
Each use is still one transaction, committed with SQLite's default durability. A process keeps
at most ``PooledSqliteEventLogStorage.RUN_SHARDS`` run databases open (a webserver shows many
runs). The UI's live view of a run watches that run's database file; a write through an open
connection changes the file's WAL (``<run>.db-wal``) instead, so the watch follows both.

A pooled connection must not cross a ``fork``: the engines are kept per process id, and this
process's are closed before it forks. Switching back to ``storage: sqlite`` is safe at any time:
the files are Dagster's own.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from watchdog.observers import Observer

_engines: dict[tuple[int, str], Engine] = {}
_engines_lock = threading.Lock()


def pooled_engine(conn_string: str) -> Engine:
    """One engine per database and process; its connections stay open in its pool."""
    key = (os.getpid(), conn_string)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            # SQLAlchemy's default pool for a file database: connections are reused, each by one
            # thread at a time
            engine = _engines[key] = create_engine(conn_string, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        return engine


def dispose_engine(conn_string: str) -> None:
    with _engines_lock:
        engine = _engines.pop((os.getpid(), conn_string), None)
    if engine is not None:
        engine.dispose()


def dispose_engines() -> None:
    """Close this process's pooled connections (the next use opens new ones)."""
    with _engines_lock:
        mine = [k for k in _engines if k[0] == os.getpid()]
        for key in mine:
            _engines.pop(key).dispose()


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


class _Watchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watch of one run's event database, also fired by writes to its WAL file: a pooled
    connection's commits change that file, not the database file, until a checkpoint."""

    def __init__(self, event_log_storage, run_id, callback, cursor, **kwargs):
        super().__init__(event_log_storage, run_id, callback, cursor, **kwargs)
        self._patterns = [self._log_path, self._log_path + "-wal"]

    def on_modified(self, event) -> None:
        self._process_log()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """The asset and event index (``index.db``) and the runs' event databases through pooled
    engines; the latter at most ``RUN_SHARDS`` per process, least recently used closed first."""

    RUN_SHARDS = 8

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data=inst_data)
        self._shards: OrderedDict[str, None] = OrderedDict()

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            conn_string = self.conn_string_for_shard(shard)
            if shard != INDEX_SHARD_NAME:
                self._shards[conn_string] = None
                self._shards.move_to_end(conn_string)
                while len(self._shards) > self.RUN_SHARDS:
                    dispose_engine(self._shards.popitem(last=False)[0])
            engine = pooled_engine(conn_string)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with _transaction(engine) as conn:
                yield conn

    def watch(self, run_id: str, cursor: str | None, callback) -> None:
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _Watchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))

    def wipe(self) -> None:
        dispose_engines()  # before the run databases' files are deleted
        self._shards.clear()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        dispose_engines()


class _PooledConnect:
    """``connect`` of Dagster's SQLite run and schedule storages, through the pooled engine."""

    _conn_string: str

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with _transaction(pooled_engine(self._conn_string)) as conn:
            yield conn

    def dispose(self) -> None:
        super().dispose()
        dispose_engines()


class PooledSqliteRunStorage(_PooledConnect, SqliteRunStorage):
    pass


class PooledSqliteScheduleStorage(_PooledConnect, SqliteScheduleStorage):
    pass


class PooledSqliteStorage(DagsterSqliteStorage):
    """``storage: sqlite`` with pooled connections to its databases (module docstring).

    dagster.yaml::

        storage:
          custom:
            module: pipelines.storage
            class: PooledSqliteStorage
            config:
              base_dir: .dagster_home/storage
    """

    def __init__(self, base_dir: str, inst_data=None):  # DagsterSqliteStorage's, with the pooled storages
        self.base_dir = base_dir
        self._run_storage = PooledSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = PooledSqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        DagsterStorage.__init__(self)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)


# a forked child must not use its parent's open connections: it opens its own (the engines are
# kept per process id); the parent's are closed before the fork so that the child inherits none
os.register_at_fork(before=dispose_engines)
