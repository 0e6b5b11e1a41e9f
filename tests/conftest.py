"""Shared fixtures. Everything is real: DuckDB files under tmp_path, Dagster in-process,
Chromium for pages. Nothing is mocked."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny"
TINY_AS_OF = dt.date(2026, 3, 29)


def shared_dir() -> Path:
    """The folder holding fixtures/x12: the public X12 samples copied into the repository
    (tests/fixtures/x12, with their NOTICE.md and SOURCES.tsv)."""
    return ROOT / "tests"


@pytest.fixture
def tiny_landing(tmp_path: Path) -> Path:
    """A copy of the tiny hand-built dataset, safe to modify."""
    dest = tmp_path / "landing"
    shutil.copytree(TINY, dest, ignore=shutil.ignore_patterns("README.md"))
    return dest


@pytest.fixture
def tiny_settings(tmp_path: Path) -> Path:
    p = tmp_path / "settings.yaml"
    p.write_text(f"as_of_date: {TINY_AS_OF.isoformat()}\n")
    return p


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None
