"""What a parser hands to the loader.

A parser reads one file and returns a :class:`ParsedFile`: for each raw warehouse table it fills
(see ``transforms/sql/raw/schema.sql``), the rows as columns (``dict[str, list]``) or as a
``pyarrow.Table``. Column names are the raw table's; columns a parser does not know may be left
out (they load as NULL). Money values are ``decimal.Decimal`` (at most two decimal places),
dates ``datetime.date``. A parser raises :class:`transforms.errors.InputFileError` when the file
cannot be read; problems that do not stop the load go in ``findings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Columns = dict[str, list[Any]]


@dataclass(frozen=True)
class Finding:
    """A problem recorded without stopping the load (audit.load_findings)."""

    severity: str  # "warning" | "info"
    code: str  # short machine code, e.g. "se01_count"
    location: str | None
    message: str  # plain words, no PHI


@dataclass
class ParsedFile:
    kind: str  # file_kind for the manifest, e.g. "x12_835", "claims_csv"
    tables: dict[str, Any]  # raw table name (without schema) -> Columns | pyarrow.Table
    rows_read: int  # records read: CSV data rows, or X12 segments
    findings: list[Finding] = field(default_factory=list)

    def rows_loaded(self) -> int:
        total = 0
        for t in self.tables.values():
            if hasattr(t, "num_rows"):
                total += t.num_rows
            elif t:
                total += len(next(iter(t.values())))
        return total
