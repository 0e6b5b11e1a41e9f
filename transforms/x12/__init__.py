"""X12 835 remittances and 837P/837I claims: tokenizer, parsers into the raw tables, inspect.

Pure logic (no Dagster, no DuckDB). Entry points:

* :func:`parse_835`, :func:`parse_837`, :func:`parse_x12` -> ``ParsedFile``
* :func:`inspect_file`, :func:`inspect_paths` -> JSON-able summaries
"""

from transforms.x12.claims837 import parse_837
from transforms.x12.inspect import inspect_file, inspect_paths
from transforms.x12.parse import parse_x12
from transforms.x12.remit835 import parse_835

__all__ = ["inspect_file", "inspect_paths", "parse_835", "parse_837", "parse_x12"]
