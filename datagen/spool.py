"""A disk spool: text for output files that are not complete yet.

An X12 file (one per submission date, or per payer and payment date) receives claims simulated in
several different weeks, and its envelope needs totals known only at the end. Rendered loops are
appended to a spool file per output file; when no later week can add to it, the file is assembled
and its spool removed. Memory stays bounded by one week's claims.
"""

from __future__ import annotations

import shutil
from collections.abc import Hashable
from pathlib import Path


class Spool:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._buffer: dict[Hashable, list[str]] = {}
        self._names: dict[Hashable, Path] = {}

    def add(self, key: tuple[object, ...], text: str) -> None:
        self._buffer.setdefault(key, []).append(text)

    def commit(self) -> None:
        """Append the buffered text to the spool files (once per file per week)."""
        for key, parts in self._buffer.items():
            path = self._names.get(key)
            if path is None:
                path = self.root / ("_".join(str(k) for k in key) + ".spool")
                self._names[key] = path
            with path.open("a", encoding="ascii", newline="") as f:
                f.write("".join(parts))
        self._buffer.clear()

    def keys(self) -> list[Hashable]:
        return list(self._names)

    def take(self, key: Hashable) -> str:
        """The spooled text of ``key``; the spool file is removed."""
        path = self._names.pop(key)
        text = path.read_text(encoding="ascii")
        path.unlink()
        return text

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
