"""A disk spool: text for output files that are not complete yet.

An X12 file (one per submission date, or per payer and payment date) receives claims simulated in
several different weeks, and its envelope needs totals known only at the end. Rendered loops are
appended to a spool file per output file; when no later week can add to it, the file is assembled
and its spool removed. Memory stays bounded by one week's claims.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path


class Spool:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._buffer: dict[tuple[object, ...], list[str]] = {}
        self._held: dict[tuple[object, ...], list[str]] = {}
        self._names: dict[tuple[object, ...], Path] = {}

    def add(self, key: tuple[object, ...], text: str) -> None:
        self._buffer.setdefault(key, []).append(text)

    def commit(self, hold: Callable[[tuple[object, ...]], bool] | None = None) -> None:
        """Append the buffered text to the spool files (once per file per week). Text of files
        for which ``hold(key)`` is true (files about to be assembled) stays in memory instead."""
        for key, parts in self._buffer.items():
            if hold is not None and hold(key):
                self._held.setdefault(key, []).extend(parts)
                continue
            path = self._names.get(key)
            if path is None:
                path = self.root / ("_".join(str(k) for k in key) + ".spool")
                self._names[key] = path
            with path.open("a", encoding="ascii", newline="") as f:
                f.write("".join(parts))
        self._buffer.clear()

    def take(self, key: tuple[object, ...]) -> str:
        """All text of ``key`` (spooled first, then held); its spool file is removed."""
        text = ""
        path = self._names.pop(key, None)
        if path is not None:
            text = path.read_text(encoding="ascii")
            path.unlink()
        return text + "".join(self._held.pop(key, ()))

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
