"""The SQL models as files: layered and documented (portability: tests/test_dbt_spark.py runs them on Spark)."""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms import dbt_runner

ROOT = Path(__file__).resolve().parents[1]
MODELS = dbt_runner.discover()


@pytest.mark.parametrize("model", MODELS, ids=[m.table for m in MODELS])
def test_documented(model):
    assert len(model.description) > 30, "each model starts with a comment saying what a row is"
    assert model.table in (ROOT / "docs" / "architecture.md").read_text()


def test_layers_only_read_downwards():
    rank = {"raw": 0, "audit": 0, "ref": 0, "staging": 1, "intermediate": 2, "marts": 3}
    for m in MODELS:
        for d in m.deps:
            assert rank[d.split(".")[0]] <= rank[m.layer], f"{m.table} reads {d}"
        if m.layer == "staging":
            assert all(d.split(".")[0] in ("raw", "audit", "staging") for d in m.deps)
