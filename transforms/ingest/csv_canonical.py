"""Reader of the canonical CSV formats (docs/data-formats.md).

The file is read by DuckDB (all columns as text), then every typed column is checked in SQL;
the first bad value stops the file with an :class:`InputFileError` naming the line and column.
Values are then cast exactly (money to DECIMAL(18,2)) and handed over as Arrow tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from transforms.errors import InputFileError
from transforms.ingest.records import Finding, ParsedFile
from transforms.x12.values import date_range, range_text

MONEY_RE = r"^-?([0-9]+(\.[0-9]{0,2})?|\.[0-9]{1,2})$"
DECIMAL_RE = r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
INT_RE = r"^-?[0-9]+$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@dataclass(frozen=True)
class Col:
    name: str
    type: str = "text"  # text | money | decimal | int | date | phi_drop | phi_hash
    required: bool = False
    default: str | None = None
    allowed: tuple[str, ...] | None = None  # closed set of values (compared as given)


@dataclass(frozen=True)
class CsvSpec:
    kind: str  # manifest file_kind
    table: str  # raw table name
    columns: tuple[Col, ...]

    @property
    def required(self) -> set[str]:
        return {c.name for c in self.columns if c.required}


SPECS: dict[str, CsvSpec] = {
    s.kind: s
    for s in (
        CsvSpec(
            "claims_csv",
            "claims",
            (
                Col("claim_id", required=True),
                Col("claim_type", required=True, allowed=("professional", "institutional")),
                Col("frequency_code", default="1", allowed=("1", "7", "8")),
                Col("original_claim_id"),
                Col("submission_date", "date", required=True),
                Col("service_from", "date", required=True),
                Col("service_to", "date"),
                Col("total_charge", "money", required=True),
                Col("payer_id", required=True),
                Col("payer_name"),
                Col("payer_type"),
                Col("payer_sequence", default="P", allowed=("P", "S", "T")),
                Col("billing_npi"),
                Col("rendering_npi"),
                Col("department"),
                Col("location"),
                Col("place_of_service"),
                Col("prior_auth_number"),
                Col("principal_diagnosis"),
                Col("diagnosis_codes"),
                Col("member_id", "phi_hash"),
                Col("patient_name", "phi_drop"),
                Col("patient_birth_date", "phi_drop"),
            ),
        ),
        CsvSpec(
            "claim_lines_csv",
            "claim_lines",
            (
                Col("claim_id", required=True),
                Col("line_number", "int", required=True),
                Col("procedure_code", required=True),
                Col("modifiers"),
                Col("revenue_code"),
                Col("units", "decimal", default="1"),
                Col("line_charge", "money", required=True),
                Col("service_date", "date"),
                Col("place_of_service"),
                Col("line_control_number"),
            ),
        ),
        CsvSpec(
            "remit_claims_csv",
            "remit_claims",
            (
                Col("adjudication_id", required=True),
                Col("trace_number", required=True),
                Col("payment_date", "date", required=True),
                Col("payer_id", required=True),
                Col("payer_name"),
                Col("claim_id", required=True),
                Col("status_code", required=True),
                Col("charge_amount", "money", required=True),
                Col("paid_amount", "money", required=True),
                Col("patient_responsibility", "money"),
                Col("payer_claim_number"),
                Col("claim_received_date", "date"),
                Col("remark_codes"),
                Col("member_id", "phi_hash"),
                Col("patient_name", "phi_drop"),
            ),
        ),
        CsvSpec(
            "remit_lines_csv",
            "remit_lines",
            (
                Col("adjudication_id", required=True),
                Col("line_number", "int", required=True),
                Col("procedure_code", required=True),
                Col("modifiers"),
                Col("charge_amount", "money", required=True),
                Col("paid_amount", "money", required=True),
                Col("units", "decimal"),
                Col("service_date", "date"),
                Col("line_control_number"),
                Col("allowed_amount", "money"),
                Col("remark_codes"),
            ),
        ),
        CsvSpec(
            "remit_adjustments_csv",
            "remit_adjustments",
            (
                Col("adjudication_id", required=True),
                Col("line_number", "int"),
                Col("group_code", required=True, allowed=("CO", "PR", "OA", "PI", "CR")),
                Col("carc", required=True),
                Col("amount", "money", required=True),
                Col("quantity", "decimal"),
            ),
        ),
        CsvSpec(
            "write_offs_csv",
            "write_offs",
            (
                Col("claim_id", required=True),
                Col("writeoff_date", "date", required=True),
                Col("amount", "money", required=True),
                Col(
                    "reason",
                    required=True,
                    allowed=("denial", "small_balance", "bad_debt", "charity", "administrative"),
                ),
                Col("carc"),
            ),
        ),
    )
}

EXPECTED = {
    "money": "an amount like 1234.56 (at most two decimals, no currency sign or thousands separator)",
    "decimal": "a number like 1 or 2.5",
    "int": "a whole number",
    "date": "a date as YYYY-MM-DD",
}
PATTERN = {"money": MONEY_RE, "decimal": DECIMAL_RE, "int": INT_RE, "date": DATE_RE}
CAST = {"money": "DECIMAL(18,2)", "decimal": "DECIMAL(18,3)", "int": "INTEGER", "date": "DATE"}
RANGE = {"money": ", below 10^16", "decimal": ", below 10^15", "int": ", at most 2147483647", "date": ""}


def read_header(path: Path) -> list[str] | None:
    """The normalised header of a CSV file, or None when the file has no readable header."""
    try:
        with open(path, encoding="utf-8-sig", errors="strict", newline="") as f:
            first = f.readline()
    except (UnicodeDecodeError, OSError):
        return None
    if not first.strip():
        return None
    delim = sniff_delimiter(first)
    return [h.strip().strip('"').strip().lower() for h in first.rstrip("\r\n").split(delim)]


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    return max(counts, key=lambda d: counts[d]) if max(counts.values()) > 0 else ","


def match_spec(header: list[str]) -> CsvSpec | None:
    """The canonical spec whose required columns the header holds (most specific first)."""
    cols = set(header)
    best = None
    for spec in SPECS.values():
        if spec.required <= cols and (best is None or len(spec.required) > len(best.required)):
            best = spec
    return best


def closest_spec(header: list[str]) -> CsvSpec | None:
    """For a header that matches no spec: the spec it most resembles (at least half of its
    required columns present), so the error can name the missing columns."""
    cols = set(header)
    scored = [(len(s.required & cols) / len(s.required), len(s.required), s) for s in SPECS.values()]
    score, _, spec = max(scored, key=lambda t: (t[0], t[1]))
    return spec if score >= 0.5 else None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parse_canonical_csv(path: Path, spec: CsvSpec, file_id: str, hash_member_id) -> ParsedFile:
    name = path.name
    header = read_header(path)
    if header is None:
        raise InputFileError(name, "line 1", "a UTF-8 CSV file with a header row", "empty_or_unreadable")
    findings: list[Finding] = []
    blank = [i + 1 for i, h in enumerate(header) if not h]
    if blank:  # e.g. a trailing delimiter: the rows' values could not be told apart from it
        raise InputFileError(name, f"line 1 (header), column {blank[0]}", "a name for every column (a trailing delimiter?)",
                             "empty_column_name")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputFileError(name, "line 1 (header)", f"each column once; repeated: {', '.join(dupes)}", "duplicate_column")
    missing = sorted(spec.required - set(header))
    if missing:
        raise InputFileError(name, "line 1 (header)", f"required columns {', '.join(missing)}", "missing_column")
    known = {c.name for c in spec.columns}
    unknown = [h for h in header if h not in known]
    if unknown:
        findings.append(
            Finding("warning", "unknown_column", "line 1 (header)", f"columns ignored: {', '.join(unknown)}")
        )
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        delim = sniff_delimiter(f.readline())
    check_line_lengths(path, name)

    con = duckdb.connect()
    try:
        # One copy of the file, every value of a known column trimmed and empty -> NULL. A table
        # made from read_csv keeps the file's order, so rowid is the record's index: the header is
        # line 1, the first record line 2 (line = rowid + 2). Every column is read (also the
        # dropped and unknown ones), so a malformed row anywhere stops the file. Unknown columns
        # keep their names, except one called rowid, which would hide DuckDB's rowid.
        values = ", ".join(
            f'NULLIF(trim("{i}"), \'\') AS {_q(h)}' if h in known else f'"{i}" AS {_q(h if h != "rowid" else f"__column_{i}")}'
            for i, h in enumerate(header)
        )
        try:
            _read_csv(con, path, delim, len(header), values)
        except duckdb.ParserException:
            # a header name that is no SQL name (an empty one): DuckDB's error, after the rows were
            # read, as when the columns were renamed in a second statement
            _read_csv(con, path, delim, len(header), "*", name)
            raise
        except duckdb.Error as e:
            raise _malformed(name, e) from None
        cols_present = [c for c in spec.columns if c.name in header]
        n_rows, error = _first_error(con, name, cols_present)
        if error is not None:
            raise error

        # the same claim billed twice on the same day with the same frequency code, or the same
        # adjudication twice, is a duplicate (a resubmission under the same id is not)
        key_cols = {"claims_csv": ["claim_id", "submission_date", "frequency_code"], "remit_claims_csv": ["adjudication_id"]}.get(spec.kind)
        if key_cols:
            key_cols = [k for k in key_cols if k in header]
            finding = _duplicates(con, key_cols)
            if finding is not None:
                findings.append(finding)

        exprs = ["'" + file_id + "' AS file_id", "rowid + 2 AS source_row"]
        for c in spec.columns:
            if c.type == "phi_drop":
                continue
            present = c.name in header
            if c.type == "phi_hash":
                # the member id itself here: replaced by its keyed hash below, before anything leaves
                exprs.append(f"{_q(c.name)} AS member_id_hash" if present else "NULL::VARCHAR AS member_id_hash")
                continue
            v = _q(c.name) if present else "NULL"
            if c.default is not None:
                v = f"coalesce({v}, '{c.default}')"
            if c.type in CAST:
                v = f"CAST({v} AS {CAST[c.type]})"
            exprs.append(f"{v} AS {_q(c.name)}")
        # selecting from src keeps its order (no ORDER BY needed: preserve_insertion_order)
        tables = _shape(con, spec, f"SELECT {', '.join(exprs)} FROM src", file_id)
    finally:
        con.close()

    # keyed hash of member ids (computed in Python: DuckDB has no HMAC), once per distinct id
    tables = {k: _hash_member_ids(t, hash_member_id) for k, t in tables.items()}
    return ParsedFile(kind=spec.kind, tables=tables, rows_read=n_rows, findings=findings)


MAX_LINE_BYTES = 2 * 1024 * 1024  # DuckDB's CSV reader's own line limit (max_line_size)


def check_line_lengths(path: Path, name: str, limit: int = MAX_LINE_BYTES) -> None:
    """Refuse a file with a physical line longer than ``limit`` bytes, naming the line: DuckDB's
    reader refuses such a line among others, but reads a file whose only record is one as empty
    (a 200 MB field was loaded as 0 rows). One pass in 1 MB chunks: bounded memory."""
    chunk_size = 1 << 20  # smaller than the limit: a line longer than it spans chunks
    line, run = 1, 0
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            first = chunk.find(b"\n")
            if first < 0:
                run += len(chunk)
            else:
                run += first
                if run <= limit:
                    line += chunk.count(b"\n")
                    run = len(chunk) - chunk.rfind(b"\n") - 1
            if run > limit:
                raise InputFileError(
                    name, f"line {line}",
                    f"a CSV line of at most {limit:,} bytes (this one is longer: a value too large to be a claim field)",
                    "line_too_long")


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, delim: str, n_columns: int, values: str, name: str | None = None) -> None:
    """``CREATE TABLE src AS SELECT {values}`` from the file, every column as text. With ``name``:
    a malformed row raises the file's InputFileError."""
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE src AS
            SELECT {values} FROM read_csv(?, all_varchar=true, header=true, delim=?, quote='"', escape='"',
                          strict_mode=true, null_padding=false, auto_detect=false,
                          columns={{{", ".join(f"'{i}': 'VARCHAR'" for i in range(n_columns))}}},
                          encoding='utf-8')""",
            [str(path), delim],
        )
    except duckdb.ParserException:
        raise
    except duckdb.Error as e:
        if name is None:
            raise
        raise _malformed(name, e) from None


def _malformed(name: str, e: duckdb.Error) -> InputFileError:
    """Malformed rows, a wrong column count, bad encoding: DuckDB's message without the row it quotes."""
    return InputFileError(name, _duck_location(str(e)), "well-formed CSV rows" + _duck_detail(str(e)), "malformed_csv")


def _checks(cols_present: list[Col]) -> list[tuple[str, str, str, str]]:
    """Every check of the values, in the order they are reported: column by column in the spec's
    order, for each column required, then its pattern, then its closed set of values.
    Each is (condition of a bad value, column, expected, code)."""
    out = []
    for c in cols_present:
        col = _q(c.name)
        if c.required:
            out.append((f"{col} IS NULL", c.name, "a value (the column is required)", "missing_value"))
        if c.type in PATTERN:
            cond = f"NOT regexp_full_match({col}, '{PATTERN[c.type]}')"
            if c.type == "date":
                lo, hi = date_range()
                cond = (f"({cond} OR try_strptime({col}, '%Y-%m-%d') IS NULL "
                        f"OR try_strptime({col}, '%Y-%m-%d')::DATE NOT BETWEEN DATE '{lo}' AND DATE '{hi}')")
            else:  # too large for its column (DECIMAL(18,2), DECIMAL(18,3), INTEGER): refused here, not by the cast
                cond = f"({cond} OR try_cast({col} AS {CAST[c.type]}) IS NULL)"
            rng = range_text(*date_range(), fmt="%Y-%m-%d") if c.type == "date" else RANGE[c.type]
            out.append((f"{col} IS NOT NULL AND {cond}", c.name, EXPECTED[c.type] + rng, "bad_value"))
        if c.allowed:
            lst = ", ".join("'" + a + "'" for a in c.allowed)
            out.append((f"{col} IS NOT NULL AND {col} NOT IN ({lst})", c.name, "one of " + ", ".join(c.allowed), "bad_value"))
    return out


def _first_error(con: duckdb.DuckDBPyConnection, name: str, cols_present: list[Col]) -> tuple[int, InputFileError | None]:
    """The number of records, and the error for the first check (in :func:`_checks` order) that a
    value fails, at the first line that fails it; all checks in one pass over the file."""
    checks = _checks(cols_present)
    aggs = ["count(*)"] + [f"min(rowid) FILTER (WHERE {cond})" for cond, *_ in checks]
    row = con.execute(f"SELECT {', '.join(aggs)} FROM src").fetchone()
    for (_, column, expected, code), bad in zip(checks, row[1:], strict=True):
        if bad is not None:
            return row[0], InputFileError(name, f"line {bad + 2}, column {column}", expected, code)
    return row[0], None


def _duplicates(con: duckdb.DuckDBPyConnection, key_cols: list[str]) -> Finding | None:
    """A warning naming the lines of the first five keys that appear more than once (by first line)."""
    keys = ", ".join(_q(k) for k in key_cols)
    con.execute(f"CREATE TABLE __dup AS SELECT {keys}, min(rowid) AS first FROM src GROUP BY {keys} HAVING count(*) > 1")
    n_dup = con.execute("SELECT count(*) FROM __dup").fetchone()[0]
    if not n_dup:
        return None
    same = " AND ".join(f"s.{_q(k)} IS NOT DISTINCT FROM d.{_q(k)}" for k in key_cols)
    dup = con.execute(
        f"""SELECT list(s.rowid + 2 ORDER BY s.rowid) FROM src AS s
            JOIN (SELECT * FROM __dup ORDER BY first LIMIT 5) AS d ON {same}
            GROUP BY d.first ORDER BY d.first"""
    ).fetchall()
    where = "; ".join("lines " + ", ".join(str(x) for x in lines) for (lines,) in dup)
    return Finding(
        "warning", f"duplicate_{key_cols[0]}", where,
        f"{n_dup} {' + '.join(key_cols)} value(s) appear on more than one line (the last one is used)",
    )


def _hash_member_ids(t: pa.Table, hash_member_id) -> pa.Table:
    """``member_id_hash`` (which holds the member id until here) replaced by the keyed hash of the id."""
    if "member_id_hash" not in t.column_names:
        return t
    col = t.column("member_id_hash")
    ids = pc.unique(col).drop_null()
    many = getattr(hash_member_id, "hash_many", None)
    py_ids = ids.to_pylist()
    hashes = pa.array(many(py_ids) if many is not None else [hash_member_id(v) for v in py_ids], pa.string())
    hashed = pc.take(hashes, pc.index_in(col, value_set=ids))
    return t.set_column(t.schema.get_field_index("member_id_hash"), "member_id_hash", hashed)


def _shape(con: duckdb.DuckDBPyConnection, spec: CsvSpec, rows_sql: str, file_id: str) -> dict[str, pa.Table]:
    """Map canonical CSV columns (the rows of ``rows_sql``, in file order) onto raw table columns."""
    with_t = f"WITH t AS ({rows_sql}) "
    if spec.kind == "claims_csv":
        return {"claims": _arrow(con, with_t + "SELECT *, 'csv' AS source_format FROM t")}
    if spec.kind == "claim_lines_csv":
        return {"claim_lines": _arrow(con, with_t + "SELECT * FROM t")}
    if spec.kind == "remit_claims_csv":
        pay = _arrow(
            con,
            with_t + f"""SELECT '{file_id}' AS file_id, min(source_row) AS source_row,
                   'csv-' || payer_id || '-' || trace_number AS payment_id, 'csv' AS source_format,
                   any_value(payment_date) AS payment_date, trace_number, payer_id,
                   any_value(payer_name) AS payer_name
            FROM t GROUP BY payer_id, trace_number ORDER BY min(source_row)""",
        )
        claims = _arrow(
            con,
            with_t + """SELECT file_id, source_row, 'csv-' || payer_id || '-' || trace_number AS payment_id,
                   adjudication_id AS remit_claim_id, claim_id, status_code, charge_amount, paid_amount,
                   patient_responsibility, payer_claim_number, claim_received_date, remark_codes, member_id_hash
            FROM t""",
        )
        return {"remit_payments": pay, "remit_claims": claims}
    if spec.kind == "remit_lines_csv":
        return {
            "remit_lines": _arrow(
                con,
                with_t + """SELECT *, adjudication_id AS remit_claim_id,
                       adjudication_id || '-' || line_number AS remit_line_id
                   FROM t""",
            )
        }
    if spec.kind == "remit_adjustments_csv":
        return {
            "remit_adjustments": _arrow(
                con,
                with_t + """SELECT file_id, source_row, adjudication_id AS remit_claim_id,
                       CASE WHEN line_number IS NULL THEN NULL ELSE adjudication_id || '-' || line_number END AS remit_line_id,
                       CASE WHEN line_number IS NULL THEN 'claim' ELSE 'line' END AS adjustment_level,
                       group_code, carc, amount, quantity, 1 AS triple_index
                   FROM t""",
            )
        }
    if spec.kind == "write_offs_csv":
        return {"write_offs": _arrow(con, with_t + "SELECT * FROM t")}
    raise AssertionError(spec.kind)


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    # batches of a row group each: the loader inserts them without regrouping (loader.row_group_batches)
    r = con.execute(sql).arrow(122_880)
    return r.read_all() if hasattr(r, "read_all") else r


def _duck_detail(msg: str) -> str:
    """The part of DuckDB's CSV error that describes the problem. DuckDB also quotes the
    offending line, which may hold PHI: that part is never passed on."""
    import re

    m = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", msg)
    if m:
        return f" with {m.group(1)} columns, found {m.group(2)}"
    if "unicode" in msg.lower() or "utf" in msg.lower():
        return " in UTF-8 text"
    return ""


def _duck_location(msg: str) -> str | None:
    import re

    m = re.search(r"[Ll]ine:?\s*(\d+)", msg)
    return f"line {m.group(1)}" if m else None
