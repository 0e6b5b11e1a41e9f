"""The same arguments give byte-identical files; the committed sample is what the documented
command regenerates."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from datagen import cli_generate, generate
from tests.datagen.helpers import REPO


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, claims=1500, weeks=8, seed=11, workers=1)
    generate(b, claims=1500, weeks=8, seed=11, workers=2)
    da, db = digest(a), digest(b)
    assert len(da) > 40
    assert da == db
    assert not (a / ".spool").exists()


def test_regenerating_into_the_same_folder_replaces_it(tmp_path: Path) -> None:
    generate(tmp_path, claims=300, weeks=4, seed=3)
    first = digest(tmp_path)
    generate(tmp_path, claims=300, weeks=4, seed=4)
    generate(tmp_path, claims=300, weeks=4, seed=3)
    assert digest(tmp_path) == first


def test_other_seed_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", claims=300, weeks=4, seed=1, formats=("claims_csv",))
    generate(tmp_path / "b", claims=300, weeks=4, seed=2, formats=("claims_csv",))
    assert digest(tmp_path / "a") != digest(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "claims",
        "ground_truth.json",
    ]


def test_formats_do_not_change_the_data(tmp_path: Path) -> None:
    generate(tmp_path / "all", claims=400, weeks=5, seed=5)
    generate(
        tmp_path / "landing",
        claims=400,
        weeks=5,
        seed=5,
        formats=("claims_csv", "remittances_835"),
    )
    full, landing = digest(tmp_path / "all"), digest(tmp_path / "landing")
    for name, h in landing.items():
        if name != "ground_truth.json":
            assert full[name] == h, name
    ta = json.loads((tmp_path / "all/ground_truth.json").read_text())
    tl = json.loads((tmp_path / "landing/ground_truth.json").read_text())
    ta["generator"].pop("formats")
    tl["generator"].pop("formats")
    assert ta == tl


def test_start_must_be_a_monday(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, claims=10, weeks=2, start=date(2026, 5, 19))


SAMPLE = REPO / "sample_data"


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample_data not committed")
def test_sample_data_is_what_the_documented_command_makes(tmp_path: Path) -> None:
    readme = (SAMPLE / "README.md").read_text()
    assert "denials generate --claims 5000 --weeks 26 --seed 7" in readme
    cli_generate(5000, 26, 7, tmp_path, None)
    committed = digest(SAMPLE)
    committed.pop("README.md")
    committed.pop(".gitattributes", None)
    regenerated = digest(tmp_path)
    assert set(committed) == {
        k for k in regenerated if k.startswith(("claims/", "remittances/"))
    } | {"ground_truth.json"}
    assert {k: regenerated[k] for k in committed} == committed
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 5_000_000
