"""Done-when: the Dagster webserver serves the asset graph (GraphQL) on a localhost port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.resources import dagster_env
from transforms import dbt_runner

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_webserver_serves_every_asset(tmp_path):
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path),
           **dagster_env(tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "out")}
    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    exe = Path(sys.executable).parent / "dagster-webserver"
    proc = subprocess.Popen(
        [str(exe), "-m", "pipelines.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 120
        data = None
        while time.time() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"webserver exited: {proc.stdout.read().decode(errors='replace')[-2000:]}")
            try:
                data = graphql(port, "{ assetNodes { assetKey { path } groupName } }")
                break
            except OSError:
                time.sleep(1)
        assert data is not None, "webserver did not answer in time"
        served = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in data["data"]["assetNodes"]}
        expected = {f"{m.layer}/{m.name}": m.layer for m in dbt_runner.discover()}
        expected |= {"marts/mart_trend_alerts": "marts", "raw/landed_files": "ingestion", "audit/model_plan": "ingestion", "ref/reference_tables": "reference",
                     "reports/weekly_dashboard": "reports", "reports/denial_worklist_files": "reports",
                     "reports/data_quality_report": "reports",
                     "reports/weekly_report": "reports"}
        from pipelines.assets import LOADED_TABLES, PLAN_TABLES, REFERENCE_TABLES

        # the dbt sources, written by the ingestion, reference and plan assets
        expected |= {k.to_user_string(): g for keys, g in ((LOADED_TABLES, "ingestion"), (REFERENCE_TABLES, "reference"),
                                                            (PLAN_TABLES, "ingestion")) for k in keys}
        assert served == expected
        checks = graphql(port, '{ assetNodeOrError(assetKey: {path: ["staging", "stg_remit_claims"]}) '
                               '{ ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } } }')
        names = {c["name"]: c["blocking"] for c in checks["data"]["assetNodeOrError"]["assetChecksOrError"]["checks"]}
        # the Great Expectations suite (errors blocking), and dbt's data tests of the model
        assert {k: v for k, v in names.items() if k.startswith("remit_claims_")} == {
            "remit_claims_errors": True, "remit_claims_warnings": False}
        assert "not_null_stg_remit_claims_claim_id" in names and len(names) > 10
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
def test_dg_check_defs_passes(tmp_path):
    # the definitions load with no DENIALS_* set: the resources read them when a run starts (dg.EnvVar)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DENIALS_")} | {"DAGSTER_HOME": str(tmp_path)}
    r = subprocess.run([str(Path(sys.executable).parent / "dg"), "check", "defs"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "All definitions loaded successfully" in r.stdout + r.stderr
