"""Shared helpers for the X12 tests: where the public fixtures are, a test hasher."""

from __future__ import annotations

import json
from pathlib import Path

from transforms.ingest.phi import MemberIdHasher

REPO = Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    """The public X12 samples copied into the repository, with their NOTICE.md."""
    return (REPO / "tests" / "fixtures" / "x12").resolve()


FIXTURES = fixtures_dir()
EXPECTED_PATH = FIXTURES / "EXPECTED.json"
EXPECTED: dict = json.loads(EXPECTED_PATH.read_text()) if EXPECTED_PATH.exists() else {}
FIXTURE_NAMES = sorted(k for k in EXPECTED if not k.startswith("_"))
X12_FILES = (
    sorted(
        p.name
        for p in FIXTURES.glob("*")
        if p.is_file() and p.suffix not in (".json", ".md", ".tsv")
    )
    if FIXTURES.exists()
    else []
)

assert EXPECTED, f"the X12 fixtures are part of the repository: {FIXTURES} (tests/fixtures/x12)"


def hasher() -> MemberIdHasher:
    return MemberIdHasher(b"x12-tests-key-0123456789abcdef")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def redelimit(
    data: bytes, element: str, component: str, terminator: str, layout: str = ""
) -> bytes:
    """A fixture written with other delimiters (the fixtures use ``*`` ``:`` and ``~`` or newline).

    ``layout``: "" one segment after the other, "lf"/"crlf" a line break after each terminator,
    "nl" the newline as terminator (``terminator`` ignored), "indent" a line break and blanks.
    """
    from transforms.x12.tokenizer import tokenize

    name = "redelimit"
    toks = tokenize(data, name)
    out = []
    for blk in toks.blocks:
        d = blk.delimiters
        for seg in toks.segments[blk.start : blk.end]:
            els = seg.split(d.element)
            if els[0] == "ISA":
                els[16] = component
                if els[11] in (element, component, terminator):
                    els[11] = "U"  # no repetition separator rather than a clash
            else:
                els = [e.replace(d.component, component) for e in els]
            out.append(element.join(els))
    if layout == "nl":
        return ("\n".join(out) + "\n").encode()
    sep = {"": "", "lf": "\n", "crlf": "\r\n", "indent": "\n    "}[layout]
    return (terminator + sep).join(out).encode() + terminator.encode()
