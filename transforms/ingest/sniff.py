"""Decide what a landed file is, from its content (X12) or its header row (CSV)."""

from __future__ import annotations

from pathlib import Path

from transforms.ingest import csv_canonical

X12 = "x12"
CSV = "csv"
UNKNOWN = "unknown"


def looks_like_x12(head: bytes) -> bool:
    """The first bytes of an X12 file: ISA, or ST with a separator (no envelope)."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return text[:3] == b"ISA" or (text[:2] == b"ST" and len(text) > 2 and not text[2:3].isalnum())


def sniff(path: Path) -> tuple[str, csv_canonical.CsvSpec | None]:
    """("x12", None), ("csv", spec) for a canonical CSV, ("csv", None) for another CSV, or ("unknown", None)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if looks_like_x12(head):
        return X12, None
    header = csv_canonical.read_header(path)
    if header and len(header) > 1:
        return CSV, csv_canonical.match_spec(header)
    return UNKNOWN, None
