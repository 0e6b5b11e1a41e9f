"""The project's own error types.

Every problem with *input* (a file a user gave us) is raised as :class:`InputFileError`, which
names the file, the place in it and what was expected. Messages never carry PHI values: they say
which element was wrong and what was expected, not what the element held, except for values that
are structural (a segment id, a code, a delimiter).
"""

from __future__ import annotations


class DenialsError(Exception):
    """Base class of every error this project raises on purpose."""


class InputFileError(DenialsError):
    """A file could not be read. The whole file is quarantined; nothing of it is loaded.

    ``location`` is human readable: ``"line 12, column total_charge"`` for CSV,
    ``"segment 57 (CLP), element CLP03"`` for X12.
    """

    def __init__(self, file_name: str, location: str | None, expected: str, code: str = "bad_input"):
        self.file_name = file_name
        self.location = location
        self.expected = expected
        self.code = code
        where = f", {location}" if location else ""
        super().__init__(f"{file_name}{where}: {expected}")


class ConfigError(DenialsError):
    """A setting or mapping file is wrong."""
