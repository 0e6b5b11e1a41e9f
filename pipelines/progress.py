"""Progress of a run, for a display: the assets say what they start, a listener shows it.

`denials run` and `denials demo` listen (a progress bar on a terminal, pipelines/cli.py); runs
started by the daemon have no listener and these calls do nothing."""

from __future__ import annotations

from collections.abc import Callable

_listener: Callable[[str, str], None] | None = None


def listen(fn: Callable[[str, str], None] | None) -> None:
    global _listener
    _listener = fn


def report(stage: str, detail: str = "") -> None:
    """A step starts: ``stage`` (ingest, plan, models, checks, trends, reports) and what it works on."""
    if _listener is not None:
        _listener(stage, detail)
