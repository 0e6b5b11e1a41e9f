"""The dbt project of the SQL models (``transforms/dbt``) and how the pipeline runs it.

The models are a dbt project (staging -> intermediate -> marts); dbt builds them on the warehouse
with dbt-duckdb. This module knows the project through the manifest ``dbt parse`` writes (the
models, what each reads, its incremental key), and runs dbt on a warehouse file the way the
pipeline, the tests and the benchmarks do outside Dagster (Dagster runs the same project through
dagster-dbt: pipelines/dbt_assets.py).

dbt opens the warehouse in its own process: the caller must not hold a connection to it open.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from transforms.errors import DenialsError

DBT_DIR = Path(__file__).parent / "dbt"
SQL_DIR = DBT_DIR / "models"
LAYERS = ("staging", "intermediate", "marts")
MANIFEST_DIR = DBT_DIR / "target"  # the manifest Dagster's definitions and discover() read
KEYS = ("claim_id", "remit_claim_id", "claim_family_id")


class ModelError(DenialsError):
    """A dbt model failed to build (its table is left as it was: dbt builds in a transaction)."""


@dataclass(frozen=True)
class Model:
    layer: str
    name: str
    path: Path
    description: str
    deps: tuple[str, ...]  # "schema.table" of the models and sources it reads
    incremental_key: str | None = None  # the scope key of an incremental model

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"


def dbt_executable() -> str:
    exe = Path(sys.executable).with_name("dbt")
    return str(exe) if exe.exists() else "dbt"


def project_hash() -> str:
    """What the models' results depend on in the project: every model, macro and config file."""
    h = hashlib.sha256()
    for p in sorted(DBT_DIR.rglob("*")):
        if p.is_file() and p.suffix in (".sql", ".yml", ".md") and "target" not in p.relative_to(DBT_DIR).parts[:1]:
            h.update(str(p.relative_to(DBT_DIR)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def dbt_env(warehouse: Path | str | None = None) -> dict[str, str]:
    """The environment dbt runs in: the warehouse file and DuckDB's memory limit (profiles.yml)."""
    from transforms import warehouse as wh

    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DENIALS_DUCKDB_MEMORY": wh.memory_limit()}
    if warehouse is not None:
        env["DENIALS_WAREHOUSE"] = str(Path(warehouse).resolve())
    return env


def ensure_manifest() -> Path:
    """``target/manifest.json`` of the project as it is now (``dbt parse`` when a file changed)."""
    MANIFEST_DIR.mkdir(parents=True, exist_ok=True)
    manifest, stamp = MANIFEST_DIR / "manifest.json", MANIFEST_DIR / "project.hash"
    want = project_hash()
    if manifest.exists() and stamp.exists() and stamp.read_text() == want:
        return manifest
    with open(MANIFEST_DIR / ".parse.lock", "a") as lock:  # two processes parsing at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and stamp.exists() and stamp.read_text() == want:
            return manifest
        r = subprocess.run(
            [dbt_executable(), "parse", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
             "--target-path", str(MANIFEST_DIR), "--log-path", str(MANIFEST_DIR), "--quiet"],
            env=dbt_env(), capture_output=True, text=True, cwd=DBT_DIR)
        if r.returncode != 0:
            raise ModelError(f"dbt parse of {DBT_DIR} failed:\n{(r.stdout + r.stderr).strip()[-3000:]}")
        stamp.write_text(want)
    return manifest


@functools.cache
def manifest() -> dict:
    return json.loads(ensure_manifest().read_text())


def _table(node: dict) -> str:
    return f"{node['schema']}.{node.get('alias') or node['name']}"


@functools.cache
def discover() -> tuple[Model, ...]:
    """All models, in an order that builds every model after what it reads."""
    m = manifest()
    nodes = {uid: n for uid, n in m["nodes"].items() if n["resource_type"] == "model"}
    names = {**{uid: _table(n) for uid, n in nodes.items()},
             **{uid: f"{s['source_name']}.{s['name']}" for uid, s in m["sources"].items()}}
    found = {}
    for n in nodes.values():
        key = n["config"].get("unique_key") if n["config"].get("incremental_strategy") == "scoped" else None
        if key is not None and key not in KEYS:
            raise ModelError(f"{n['original_file_path']}: scope key {key!r} is not one of {KEYS}")
        deps = tuple(sorted(names[d] for d in n["depends_on"]["nodes"] if d in names))
        found[_table(n)] = Model(n["schema"], n["name"], DBT_DIR / n["original_file_path"],
                                 n.get("description") or "", deps, key)
    graph = {t: [d for d in model.deps if d in found] for t, model in found.items()}
    return tuple(found[t] for t in TopologicalSorter(graph).static_order())


def target_path(warehouse: Path | str) -> Path:
    """dbt's artifacts (run_results.json, logs) for one warehouse: beside it."""
    w = Path(warehouse).resolve()
    return w.parent / f".{w.stem}.dbt"


@dataclass(frozen=True)
class DbtRun:
    results: dict[str, str]  # "schema.table" -> dbt's status (success, error, skipped, pass, fail ...)
    seconds: float


def _parse_cache(warehouse: Path) -> Path:
    """dbt's partial-parse file for warehouses of this file name (dbt reparses the whole project,
    seconds, when the profile changes; with the path given relative to the warehouse's folder, the
    profile is the same for every warehouse of one name)."""
    return MANIFEST_DIR / "parse" / f"{project_hash()}-{warehouse.name}.msgpack"


def run(warehouse: Path | str, args: list[str]) -> DbtRun:
    """Run a dbt command on the warehouse (e.g. ``["run"]``, ``["run", "--full-refresh"]``); a
    failed model raises ModelError naming it, its SQL file and dbt's message."""
    ensure_manifest()
    warehouse = Path(warehouse).resolve()
    tp = target_path(warehouse)
    tp.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (tp / "run_results.json").unlink()
    cache, parsed = _parse_cache(warehouse), tp / "partial_parse.msgpack"
    if cache.exists() and not parsed.exists():
        shutil.copy(cache, parsed)
    env = {**dbt_env(), "DENIALS_WAREHOUSE": warehouse.name}  # relative to cwd (above)
    r = subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(tp), "--log-path", str(tp), "--quiet"],
        env=env, capture_output=True, text=True, cwd=warehouse.parent)
    if parsed.exists() and not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        shutil.copy(parsed, tmp)
        os.replace(tmp, cache)
    results, seconds, failed = {}, 0.0, []
    if (tp / "run_results.json").exists():
        rr = json.loads((tp / "run_results.json").read_text())
        seconds = rr.get("elapsed_time", 0.0)
        nodes = manifest()["nodes"]
        for res in rr["results"]:
            node = nodes.get(res["unique_id"])
            name = _table(node) if node and node["resource_type"] == "model" else res["unique_id"]
            results[name] = res["status"]
            if res["status"] in ("error", "fail"):
                where = f" ({node['original_file_path']})" if node else ""
                failed.append(f"{name}{where}: {(res.get('message') or '').strip()}")
    if r.returncode != 0:
        detail = "; ".join(failed) or (r.stdout + r.stderr).strip()[-3000:]
        raise ModelError(f"dbt {' '.join(args)} on {warehouse} failed: {detail}")
    return DbtRun(results, seconds)


def build_all(warehouse: Path | str, full_refresh: bool = True, select: str | None = None) -> DbtRun:
    """Build the models with dbt (``--full-refresh``: every model whole)."""
    args = ["run"] + (["--full-refresh"] if full_refresh else []) + (["--select", select] if select else [])
    return run(warehouse, args)
