"""Operations for real: `denials ui` (`dg dev`: webserver and daemon) on a localhost port; a file
dropped in the landing folder makes the sensor start a run, seen through the GraphQL API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_dagster_webserver import free_port, graphql
from transforms import warehouse

ROOT = Path(__file__).resolve().parents[1]
RUNS = """{ runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: "landing_sensor"}]}) {
  ... on Runs { results { runId status tags { key value } } } } }"""


@pytest.mark.slow
def test_sensor_starts_a_run_for_dropped_files(tmp_path):
    from tests.conftest import TINY, TINY_AS_OF

    port = free_port()
    landing, out, wh = tmp_path / "landing", tmp_path / "out", tmp_path / "wh" / "w.duckdb"
    landing.mkdir()
    (tmp_path / "settings.yaml").write_text(f"as_of_date: {TINY_AS_OF}\n")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text().replace(
        "base_dir: .dagster_home/storage", f"base_dir: {home / 'storage'}"))
    # the folders reach Dagster as DENIALS_* variables set by `denials ui` (dg.EnvVar in the resources)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DENIALS_", "DAGSTER_"))}
    exe = Path(sys.executable).parent / "denials"
    # the services' output goes to a file: a pipe nobody reads fills up and blocks the run's process
    log = tmp_path / "ui.log"
    proc = subprocess.Popen(
        [str(exe), "ui", "--landing", str(landing), "--warehouse", str(wh), "--out", str(out),
         "--config", str(tmp_path / "settings.yaml"), "--dagster-home", str(home), "--port", str(port)],
        cwd=tmp_path, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                graphql(port, "{ version }")
                break
            except OSError:
                time.sleep(1)
        # drop the files: the sensor (30 s interval) starts one run for the batch
        for sub in ("claims", "remittances"):
            shutil.copytree(TINY / sub, landing / sub)
        status, runs = None, []
        deadline = time.time() + 300
        while time.time() < deadline:
            runs = graphql(port, RUNS)["data"]["runsOrError"]["results"]
            if runs and runs[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
                status = runs[0]["status"]
                break
            time.sleep(3)
        assert status == "SUCCESS", f"sensor runs: {runs}\n{log.read_text(errors='replace')[-4000:]}"
        time.sleep(35)  # another sensor tick: the same files start no second run
        assert len(graphql(port, RUNS)["data"]["runsOrError"]["results"]) == 1
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
    con = warehouse.connect(wh, read_only=True)
    assert con.execute("SELECT count(*) FROM audit.file_manifest WHERE status = 'loaded'").fetchone()[0] == 6
    assert (out / "weekly" / "2026-W13.html").exists()
