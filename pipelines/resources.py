"""Dagster resources: where things are, and the settings that shape the figures."""

from __future__ import annotations

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

    def release(self) -> None:
        """Close the run's connection (checkpointing the file): dbt opens the warehouse in its own
        process, and DuckDB allows one writing process per file. The next step reopens it."""
        stack, root, self._stack, self._root = self._stack, self._root, None, None
        if stack is not None:
            try:
                warehouse.finish_writes(root)
            finally:
                stack.close()

    @contextmanager
    def _open(self):
        # Instead of DuckDBResource's: that one retried any IOException ten times with a growing
        # pause (for each step) and ended with DuckDB's bare message. Here only another process's lock
        # is waited for; a path that is no DuckDB file fails at once, naming it (WarehouseError).
        config = {"custom_user_agent": "dagster", **self.connection_config}
        con = warehouse.connect(self.database, lock_wait=warehouse.LOCK_WAIT_SECONDS, config=config)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def get_connection(self):
        if not self._in_run:
            with self._open() as con:
                yield con
            return
        if self._root is None:
            stack = ExitStack()
            self._root = stack.enter_context(self._open())
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
    settings_path: optional YAML file of metric settings (docs/metrics.md); empty or None: none.
    phi_key_file: the member-id hashing key (used when DENIALS_PHI_KEY is not set).
    mappings_dir: mapping files for non-canonical CSV exports (empty or None: the project's mappings/).
    """

    landing_dir: str = DEFAULT_LANDING
    output_dir: str = DEFAULT_OUTPUT
    settings_path: str | None = None
    phi_key_file: str = "warehouse/phi.key"
    mappings_dir: str | None = None

    def settings(self) -> Settings:
        return load_settings(self.settings_path or None)

    def hasher(self) -> MemberIdHasher:
        return MemberIdHasher(load_key(Path(self.phi_key_file)))

    def output_path(self) -> Path:
        p = Path(self.output_dir)
        p.mkdir(parents=True, exist_ok=True)
        return p


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _mapping_shape(raw) -> str | None:
    """What is wrong with the layout of a parsed mapping file (mappings/README.md), or None."""
    if not isinstance(raw, dict):
        return "expected a YAML mapping with 'name', 'match' and 'outputs' (mappings/README.md)"
    match = raw.get("match")
    if not isinstance(match, dict) or not isinstance(match.get("required_columns"), list) or not match["required_columns"]:
        return "expected 'match: {required_columns: [...]}' listing the header names that identify the export"
    outputs = raw.get("outputs")
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, dict) for o in outputs):
        return "expected 'outputs' to be a list of {target: ..., columns: {...}}"
    for i, o in enumerate(outputs, start=1):
        if o.get("columns") is not None and not isinstance(o["columns"], dict):
            return f"output {i}: expected 'columns' to map canonical columns to source columns"
    return None


def check_mappings(folder: Path) -> tuple:
    """Read every mapping file of ``folder`` (``*.yaml``) as a run would, before anything is
    loaded. Raises ConfigError, one line naming the folder or the file and what is wrong; a run
    would otherwise stop at the first export needing a mapping, or never say anything."""
    import yaml

    from transforms.errors import ConfigError
    from transforms.ingest import mapping

    if not folder.is_dir():
        what = "is a file" if folder.exists() else "not found"
        raise ConfigError(f"mappings folder {folder}: {what} (expected a folder of mapping files, mappings/README.md)")
    misnamed = sorted(folder.glob("*.yml"))
    if misnamed:
        raise ConfigError(f"mapping {misnamed[0]}: not read (mapping files end in .yaml; rename it)")
    found = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(e, "problem", None) or e
            raise ConfigError(f"mapping {path}: not valid YAML{where}: {_one_line(problem)}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"mapping {path}: cannot be read ({_one_line(e)})") from None
        problem = _mapping_shape(raw)
        if problem is None:
            try:
                found.append(mapping.load_mapping(path))
            except ConfigError as e:
                problem = _one_line(str(e).replace(f"{path}: ", "", 1))
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                problem = f"not a valid mapping ({type(e).__name__}: {_one_line(e)}; see mappings/README.md)"
        if problem is not None:
            raise ConfigError(f"mapping {path}: {problem}")
    return tuple(found)


# The settings `dg dev` and the daemon read, each from its environment variable when a run starts
# (dg.EnvVar: resolved at run time, shown as such in the UI). `denials ui` sets them all from its
# options and their defaults; to run `dg dev` by hand, set them in the shell or in a `.env` file
# (.env.example; Dagster loads `.env` from the project folder, and its values win over the shell's).
# An empty DENIALS_SETTINGS or DENIALS_MAPPINGS means none.
DAGSTER_ENV_VARS = ("DENIALS_WAREHOUSE", "DENIALS_LANDING", "DENIALS_OUTPUT", "DENIALS_PHI_KEY_FILE",
                    "DENIALS_SETTINGS", "DENIALS_MAPPINGS")


def dagster_env(landing: Path, warehouse: Path, out: Path, settings: Path | None = None,
                mappings: Path | None = None, phi_key_file: Path | None = None) -> dict[str, str]:
    """The DENIALS_* variables for a Dagster process (absolute paths), as `denials ui` sets them."""
    warehouse = Path(warehouse).resolve()
    return {
        "DENIALS_WAREHOUSE": str(warehouse),
        "DENIALS_LANDING": str(Path(landing).resolve()),
        "DENIALS_OUTPUT": str(Path(out).resolve()),
        "DENIALS_PHI_KEY_FILE": str(Path(phi_key_file).resolve() if phi_key_file else warehouse.parent / "phi.key"),
        "DENIALS_SETTINGS": str(Path(settings).resolve()) if settings else "",
        "DENIALS_MAPPINGS": str(Path(mappings).resolve()) if mappings else "",
    }


def default_resources() -> dict:
    """Resources for `dg dev` and the daemon, configured from DENIALS_* when a run starts (the CLI passes its own)."""
    from pipelines.dbt_assets import dbt_resource

    return {
        "duckdb": Warehouse(database=dg.EnvVar("DENIALS_WAREHOUSE")),
        "dbt": dbt_resource(),
        "denials": DenialsConfig(
            landing_dir=dg.EnvVar("DENIALS_LANDING"),
            output_dir=dg.EnvVar("DENIALS_OUTPUT"),
            settings_path=dg.EnvVar("DENIALS_SETTINGS"),
            phi_key_file=dg.EnvVar("DENIALS_PHI_KEY_FILE"),
            mappings_dir=dg.EnvVar("DENIALS_MAPPINGS"),
        ),
    }
