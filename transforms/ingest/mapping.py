"""Practice-management CSV exports that are not in the canonical format, read through a mapping
file (YAML, one per source system; examples in mappings/).

A mapping says how to recognise the export (columns its header always has) and, for each
canonical file type it yields (``outputs``), which source column fills each canonical column,
with the date format, the money format and code translations. The export is rewritten as
canonical CSV (same record order) and read by the canonical reader, so the same checks apply;
errors name the source line and both column names.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import yaml

from transforms.errors import ConfigError, InputFileError
from transforms.ingest import csv_canonical
from transforms.ingest.records import Finding, ParsedFile

DEFAULT_MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"
TARGETS = {s.table: s for s in csv_canonical.SPECS.values()}


@dataclass(frozen=True)
class Source:
    column: str | None = None  # source column
    value: str | None = None  # constant
    split: str | None = None  # split the source value on this separator ...
    part: int = 1  # ... and take this part (1-based)
    values: dict[str, str] = field(default_factory=dict)  # code translation


@dataclass(frozen=True)
class Output:
    target: str  # canonical table: claims, claim_lines, remit_claims, remit_lines, remit_adjustments, write_offs
    columns: dict[str, Source]
    distinct_on: tuple[str, ...] = ()  # canonical columns: keep the first row of each key
    skip_blank: tuple[str, ...] = ()  # canonical columns: rows where one is empty yield nothing here


@dataclass(frozen=True)
class Mapping:
    name: str
    path: Path
    required_columns: tuple[str, ...]
    outputs: tuple[Output, ...]
    date_format: str = "%Y-%m-%d"
    money_format: str = "plain"  # plain | accounting ("$1,234.50", "(12.00)")
    delimiter: str | None = None


def _source(spec, where: str) -> Source:
    if isinstance(spec, str):
        return Source(column=spec)
    if isinstance(spec, dict):
        unknown = set(spec) - {"column", "value", "split", "part", "values"}
        if unknown or ("column" in spec) == ("value" in spec):
            raise ConfigError(f"{where}: give either 'column' or 'value' (and optionally split, part, values)")
        return Source(
            column=spec.get("column"), value=None if spec.get("value") is None else str(spec["value"]),
            split=spec.get("split"), part=int(spec.get("part", 1)),
            values={str(k): str(v) for k, v in (spec.get("values") or {}).items()},
        )
    raise ConfigError(f"{where}: expected a source column name or a mapping")


def load_mapping(path: Path) -> Mapping:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read mapping {path}: {e}") from None
    if not isinstance(raw, dict) or "outputs" not in raw or "match" not in raw:
        raise ConfigError(f"{path}: a mapping needs 'name', 'match' and 'outputs'")
    outputs = []
    for i, o in enumerate(raw["outputs"], start=1):
        target = o.get("target")
        if target not in TARGETS:
            raise ConfigError(f"{path}: output {i}: target must be one of {', '.join(sorted(TARGETS))}")
        spec = TARGETS[target]
        cols = {k: _source(v, f"{path}: output {i}, column {k}") for k, v in (o.get("columns") or {}).items()}
        known = {c.name for c in spec.columns}
        bad = sorted(set(cols) - known)
        if bad:
            raise ConfigError(f"{path}: output {i}: not columns of {target}: {', '.join(bad)}")
        missing = sorted(spec.required - set(cols))
        if missing:
            raise ConfigError(f"{path}: output {i}: {target} needs columns {', '.join(missing)}")
        outputs.append(Output(target, cols, tuple(o.get("distinct_on") or ()), tuple(o.get("skip_blank") or ())))
    money = raw.get("money_format", "plain")
    if money not in ("plain", "accounting"):
        raise ConfigError(f"{path}: money_format must be 'plain' or 'accounting'")
    return Mapping(
        name=str(raw.get("name") or path.stem),
        path=path,
        required_columns=tuple(c.strip().lower() for c in raw["match"]["required_columns"]),
        outputs=tuple(outputs),
        date_format=raw.get("date_format", "%Y-%m-%d"),
        money_format=money,
        delimiter=raw.get("delimiter"),
    )


@functools.cache
def load_mappings(folder: Path = DEFAULT_MAPPINGS_DIR) -> tuple[Mapping, ...]:
    if not folder.is_dir():
        return ()
    return tuple(load_mapping(p) for p in sorted(folder.glob("*.yaml")))


def find_mapping(header: list[str], folder: Path = DEFAULT_MAPPINGS_DIR) -> Mapping | None:
    cols = set(header)
    found = [m for m in load_mappings(folder) if set(m.required_columns) <= cols]
    return max(found, key=lambda m: len(m.required_columns)) if found else None


_ACCOUNTING = re.compile(r"^\(?-?\$?\s*[0-9,]*\.?[0-9]*\)?$")


def _money(v: str, fmt: str) -> str:
    if fmt == "plain" or not v or not _ACCOUNTING.match(v.strip()):
        return v
    s = v.strip()
    neg = s.startswith("(") and s.endswith(")")
    s = s.strip("()").replace("$", "").replace(",", "").strip()
    if neg and s and not s.startswith("-"):
        s = "-" + s
    return s


def _date(v: str, fmt: str) -> str:
    if not v or fmt == "%Y-%m-%d":
        return v
    try:
        return dt.datetime.strptime(v.strip(), fmt).date().isoformat()
    except ValueError:
        return v  # left as is: the canonical reader names the line and column


def parse_mapped_csv(path: Path, mapping: Mapping, file_id: str, hash_member_id) -> ParsedFile:
    with open(path, encoding="utf-8-sig", newline="") as f:
        first = f.readline()
        delim = mapping.delimiter or csv_canonical.sniff_delimiter(first)
        f.seek(0)
        if f.read(1) != "\ufeff":
            f.seek(0)
        reader = csv.reader(f, delimiter=delim)
        try:
            header = [h.strip().lower() for h in next(reader)]
            records = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
        except (csv.Error, UnicodeDecodeError) as e:
            raise InputFileError(path.name, None, f"a readable CSV export for mapping '{mapping.name}' ({e})", "malformed_csv") from None
    index = {h: i for i, h in enumerate(header)}
    for line, row in records:
        if len(row) != len(header):
            raise InputFileError(path.name, f"line {line}", f"{len(header)} columns as in the header, found {len(row)}", "malformed_csv")

    tables: dict[str, pa.Table] = {}
    findings = [Finding("info", "mapped_export", None, f"read through mapping '{mapping.name}' ({mapping.path.name})")]
    for out in mapping.outputs:
        spec = TARGETS[out.target]
        types = {c.name: c.type for c in spec.columns}
        canon_cols = list(out.columns)
        seen: set[tuple] = set()
        lines: list[int] = []
        rows: list[list[str]] = []
        for line, row in records:
            values = []
            for col in canon_cols:
                src = out.columns[col]
                if src.value is not None:
                    v = src.value
                else:
                    i = index.get(src.column.strip().lower())
                    if i is None:
                        raise InputFileError(path.name, "line 1 (header)", f"column '{src.column}' (mapping '{mapping.name}')", "missing_column")
                    v = row[i].strip()
                    if src.split is not None:
                        parts = v.split(src.split)
                        v = parts[src.part - 1].strip() if len(parts) >= src.part else ""
                v = src.values.get(v, v)
                if types[col] == "date":
                    v = _date(v, mapping.date_format)
                elif types[col] == "money":
                    v = _money(v, mapping.money_format)
                values.append(v)
            if any(not values[canon_cols.index(k)] for k in out.skip_blank):
                continue
            if out.distinct_on:
                key = tuple(values[canon_cols.index(k)] for k in out.distinct_on)
                if key in seen:
                    continue
                seen.add(key)
            lines.append(line)
            rows.append(values)
        with tempfile.TemporaryDirectory() as tmp:
            canon = Path(tmp) / path.name
            with open(canon, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(canon_cols)
                w.writerows(rows)
            try:
                parsed = csv_canonical.parse_canonical_csv(canon, spec, file_id, hash_member_id)
            except InputFileError as e:
                raise _translate(e, path.name, lines, out) from None
        for table, t in parsed.tables.items():
            src_rows = pa.array([lines[r - 2] for r in t.column("source_row").to_pylist()], pa.int64())
            t = t.set_column(t.schema.get_field_index("source_row"), "source_row", src_rows)
            tables[table] = pa.concat_tables([tables[table], t]) if table in tables else t
        findings += parsed.findings
    return ParsedFile(kind=f"mapped_csv:{mapping.name}", tables=tables, rows_read=len(records), findings=findings)


def _translate(e: InputFileError, name: str, lines: list[int], out: Output) -> InputFileError:
    loc = e.location or ""
    m = re.match(r"line (\d+)(.*)", loc)
    if m and int(m.group(1)) >= 2 and int(m.group(1)) - 2 < len(lines):
        loc = f"line {lines[int(m.group(1)) - 2]}{m.group(2)}"
    m = re.search(r"column (\w+)", loc)
    if m and m.group(1) in out.columns and out.columns[m.group(1)].column:
        loc = f"{loc} (source column '{out.columns[m.group(1)].column}')"
    return InputFileError(name, loc, e.expected, e.code)

