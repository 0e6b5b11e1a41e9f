"""Dagster resources: where things are, and the settings that shape the figures."""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from transforms import warehouse
from transforms.ingest.phi import MemberIdHasher, load_key
from transforms.settings import Settings, load_settings

DEFAULT_LANDING = "landing"
DEFAULT_OUTPUT = "out"
DEFAULT_WAREHOUSE = "warehouse/denials.duckdb"


class Warehouse(DuckDBResource):
    """The warehouse file (DuckDBResource that creates the file's folder when needed).

    Within a run, the database is opened once, at the first step that asks for it, and closed
    when the run ends: each step gets its own cursor (a DuckDB connection of its own, with its own
    transactions, temporary tables and variables, as before) on that one database. Opening the
    file and checkpointing it on close for each of the run's 30-odd steps cost seconds per run.
    Outside a run (a resource used directly), each ``get_connection`` opens and closes the file.
    """

    _in_run: bool = PrivateAttr(default=False)
    _root: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _stack: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = False
        stack, root, self._stack, self._root = self._stack, self._root, None, None
        if stack is not None:
            try:
                warehouse.finish_writes(root)  # vacuum at this checkpoint only when worth it
            finally:
                stack.close()  # the last connection: DuckDB checkpoints the write-ahead log here

    @contextmanager
    def get_connection(self):
        if self.database not in ("", ":memory:"):
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        if not self._in_run:
            with super().get_connection() as con:
                yield con
            return
        if self._root is None:
            stack = ExitStack()
            self._root = stack.enter_context(super().get_connection())
            warehouse.defer_vacuum(self._root)  # done at the run's end, when worth it (transforms/warehouse.py)
            self._stack = stack
        cursor = self._root.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


class DenialsConfig(dg.ConfigurableResource):
    """Folders and settings of one installation.

    landing_dir: where claim and remittance files are dropped (read recursively).
    output_dir: where reports, worklists and data-quality results are written.
    settings_path: optional YAML file of metric settings (docs/metrics.md).
    phi_key_file: the member-id hashing key (used when DENIALS_PHI_KEY is not set).
    mappings_dir: mapping files for non-canonical CSV exports (default: the project's mappings/).
    """

    landing_dir: str = DEFAULT_LANDING
    output_dir: str = DEFAULT_OUTPUT
    settings_path: str | None = None
    phi_key_file: str = "warehouse/phi.key"
    mappings_dir: str | None = None

    def settings(self) -> Settings:
        return load_settings(self.settings_path)

    def hasher(self) -> MemberIdHasher:
        return MemberIdHasher(load_key(Path(self.phi_key_file)))

    def output_path(self) -> Path:
        p = Path(self.output_dir)
        p.mkdir(parents=True, exist_ok=True)
        return p


def default_resources() -> dict:
    """Resources from the environment, for `dg dev` and the daemon (the CLI passes its own)."""
    warehouse = os.environ.get("DENIALS_WAREHOUSE", DEFAULT_WAREHOUSE)
    return {
        "duckdb": Warehouse(database=warehouse),
        "denials": DenialsConfig(
            landing_dir=os.environ.get("DENIALS_LANDING", DEFAULT_LANDING),
            output_dir=os.environ.get("DENIALS_OUTPUT", DEFAULT_OUTPUT),
            settings_path=os.environ.get("DENIALS_SETTINGS") or None,
            phi_key_file=os.environ.get("DENIALS_PHI_KEY_FILE", str(Path(warehouse).parent / "phi.key")),
            mappings_dir=os.environ.get("DENIALS_MAPPINGS") or None,
        ),
    }
