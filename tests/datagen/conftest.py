"""Shared fixtures: one generated data set (the documented sample parameters) per session."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from datagen import generate
from tests.datagen.helpers import (
    REPO,
    Generated,
    Transaction,
    payments_that_count,
    read_remittances,
)

SAMPLE_ARGS = {"claims": 5000, "weeks": 26, "seed": 7}


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out, **SAMPLE_ARGS)
    return out


@pytest.fixture(scope="session")
def alt_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another shape: a window across the new year, fewer claims, another seed, one process."""
    out = tmp_path_factory.mktemp("generated_alt")
    generate(out, claims=3000, weeks=12, seed=5, start=date(2025, 12, 1), workers=1)
    return out


@pytest.fixture(scope="session", params=["sample", "alt"])
def generated(request: pytest.FixtureRequest) -> Generated:
    path = request.getfixturevalue(
        "dataset" if request.param == "sample" else "alt_dataset"
    )
    return Generated(
        path,
        json.loads((path / "ground_truth.json").read_text()),
        read_remittances(path / "remittances"),
    )


@pytest.fixture(scope="session")
def truth(dataset: Path) -> dict:
    return json.loads((dataset / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def carc_denial() -> dict[str, tuple[str, bool]]:
    with (REPO / "transforms/reference/carc_categories.csv").open(newline="") as f:
        return {
            r["carc"]: (r["category"], r["is_denial"] == "true")
            for r in csv.DictReader(f)
        }


@pytest.fixture(scope="session")
def remittances(dataset: Path) -> list[Transaction]:
    """Every transaction of every 835 file, the superseded copies of resent files included."""
    return read_remittances(dataset / "remittances")


@pytest.fixture(scope="session")
def payments(remittances: list[Transaction]) -> list[Transaction]:
    """The transactions that count (a resent file's copy replaces the earlier one)."""
    return payments_that_count(remittances)
