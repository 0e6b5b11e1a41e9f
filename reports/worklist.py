"""The denial worklist as CSV and XLSX: denied claims to work, ranked (marts.mart_denial_worklist).

The XLSX's cells are made by DuckDB: XlsxWriter writes the workbook around them (header, column
widths and formats, frozen panes, the filter), then the sheet's rows, one XML string per row from
one query, are streamed into the workbook's zip. Writing them cell by cell through XlsxWriter took
~0.5 s per 1,000 rows (6 s of a 1M-claim run, 2 s of a new week's). Every value is a cell of its
own type, as XlsxWriter writes it: numbers and money as numbers (money formatted ``#,##0.00``),
dates as dates, booleans as booleans, text as text. Text is always text: a value beginning with
``=`` is not turned into a formula, nor an address into a link (formula injection from an input file).
In the CSV, which has no types, such text is written with a single quote before it (reports/csv_safe.py).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import duckdb
import xlsxwriter

from reports.csv_safe import sql_neutralise

COLUMNS = [
    "priority", "claim_id", "claim_family_id", "payer_id", "payer_name", "department", "location", "service_from",
    "denial_date", "denial_kind", "adjudication_number", "is_full_denial", "category", "reason", "rarc", "owner",
    "preventable", "charge_amount", "denied_amount", "open_balance", "appeal_window_days", "appeal_deadline",
    "days_left", "as_of_date",
]
MONEY = {"charge_amount", "denied_amount", "open_balance"}
DATE_FORMAT, MONEY_FORMAT = "yyyy-mm-dd", "#,##0.00"
SHEET = "xl/worksheets/sheet1.xml"
BATCH_ROWS = 20_000
MAX_TEXT = 32_767  # Excel's longest cell text (XlsxWriter truncates to it too)


def write_worklist(con: duckdb.DuckDBPyConnection, output_dir: Path) -> dict[str, Path]:
    select = f"SELECT {', '.join(COLUMNS)} FROM marts.mart_denial_worklist"
    n_rows = con.execute("SELECT count(*) FROM marts.mart_denial_worklist").fetchone()[0]
    folder = Path(output_dir) / "worklist"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "denial_worklist.csv"
    tmp = csv_path.with_suffix(".tmp")
    # written by DuckDB: a header row, rows ending CRLF (as Excel writes them), NULL as an empty
    # field, booleans True/False; text a spreadsheet would run as a formula (=HYPERLINK(...) as a
    # claim id) with a single quote before it (reports/csv_safe.py), numbers as they are
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {select})").fetchall())
    cells = ", ".join(_csv_cell(c, types[c]) for c in COLUMNS)
    try:
        con.execute(f"COPY (SELECT {cells} FROM marts.mart_denial_worklist ORDER BY priority) "
                    f"TO '{_sql_path(tmp)}' (FORMAT csv, HEADER, NEW_LINE '\r\n')")
        tmp.replace(csv_path)
    finally:
        tmp.unlink(missing_ok=True)

    xlsx_path = folder / "denial_worklist.xlsx"
    write_xlsx(con, select, "priority", xlsx_path, "Denial worklist", money=MONEY, n_rows=n_rows)
    return {"csv": csv_path, "xlsx": xlsx_path, "rows": n_rows}


def _csv_cell(column: str, duck_type: str) -> str:
    """The worklist CSV's cell of ``column``: booleans True/False, text neutralised, the rest as is."""
    if duck_type == "BOOLEAN":
        return f"CASE WHEN {column} THEN 'True' WHEN NOT {column} THEN 'False' END AS {column}"
    if duck_type == "VARCHAR":
        return f"{sql_neutralise(column)} AS {column}"
    return column


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def write_xlsx(
    con: duckdb.DuckDBPyConnection, query: str, order_by: str, path: Path, sheet: str, money: set[str], n_rows: int
) -> None:
    """Write the rows of ``query``, ordered by ``order_by``, as one sheet with a bold header row, the first
    two columns frozen and a filter; replaces ``path`` only when complete."""
    rel = con.execute(f"SELECT * FROM ({query}) LIMIT 0")
    columns = [d[0] for d in rel.description]
    types = [str(t) for t in (d[1] for d in rel.description)]
    folder = path.parent
    skeleton, tmp = folder / f".{path.stem}.skeleton.xlsx", folder / f".{path.stem}.tmp.xlsx"
    wb = xlsxwriter.Workbook(str(skeleton), {"constant_memory": True})
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True})
    money_fmt, date_fmt = wb.add_format({"num_format": MONEY_FORMAT}), wb.add_format({"num_format": DATE_FORMAT})
    for idx, c in enumerate(columns):
        ws.set_column(idx, idx, max(12, len(c) + 2), money_fmt if c in money else date_fmt if types[idx] == "DATE" else None)
    ws.write_row(0, 0, columns, bold)
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, n_rows, len(columns) - 1)
    wb.close()
    try:
        with zipfile.ZipFile(skeleton) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            styles = src.read("xl/styles.xml").decode()
            style = {c: _xf_index(styles, MONEY_FORMAT if c in money else DATE_FORMAT) for c, t in zip(columns, types, strict=True)
                     if c in money or t == "DATE"}
            for info in src.infolist():
                if info.filename != SHEET:
                    dst.writestr(info, src.read(info))
                    continue
                xml = src.read(info).decode()
                head, tail = xml.split("</sheetData>", 1)
                if n_rows:
                    last = f"{_column_letter(len(columns) - 1)}{n_rows + 1}"
                    head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', head, count=1)
                with dst.open(zipfile.ZipInfo(SHEET, date_time=info.date_time), "w") as out:
                    out.write(head.encode())
                    sql = _rows_sql(query, order_by, columns, types, style)
                    reader = con.execute(sql).fetch_record_batch(BATCH_ROWS)
                    for batch in reader:
                        out.write("".join(batch.column(0).to_pylist()).encode())
                    out.write(("</sheetData>" + tail).encode())
        tmp.replace(path)
    finally:
        skeleton.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


def _xf_index(styles_xml: str, num_format: str) -> int:
    """The cell-format index XlsxWriter gave the number format ``num_format`` in styles.xml."""
    fmt_id = re.search(rf'<numFmt numFmtId="(\d+)" formatCode="{re.escape(num_format)}"/>', styles_xml).group(1)
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles_xml, re.S).group(1)
    for i, xf in enumerate(re.findall(r"<xf [^>]*?/?>", xfs)):
        if f'numFmtId="{fmt_id}"' in xf:
            return i
    raise ValueError(f"no cell format with number format {num_format!r} in the workbook's styles")


def _column_letter(idx: int) -> str:
    letters = ""
    idx += 1
    while idx:
        idx, rem = divmod(idx - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# Control characters are written as Excel writes them (_xHHHH_, and a literal "_xHHHH_" escaped
# as "_x005F_xHHHH_"), as XlsxWriter does; only evaluated for the rare text that has any.
_CONTROL = [c for c in range(0x01, 0x20) if c not in (0x09, 0x0A)]


def _text(col: str) -> str:
    """The text of a VARCHAR value as Excel stores it (control characters escaped), NULL for none."""
    v = f"left({col}, {MAX_TEXT})"
    escaped = f"regexp_replace({v}, '(_x[0-9a-fA-F]{{4}}_)', '_x005F\\1', 'g')"
    escaped = (
        f"array_to_string(list_transform(string_split({escaped}, ''), ch -> CASE WHEN ord(ch) IN ({', '.join(map(str, _CONTROL))}, "
        "65534, 65535) THEN printf('_x%04X_', ord(ch)) ELSE ch END), '')"
    )
    controls = "[" + "".join(f"\\x{c:02x}" for c in _CONTROL) + "\\x{fffe}\\x{ffff}]|_x[0-9a-fA-F]{4}_"
    return f"CASE WHEN {col} = '' THEN NULL WHEN regexp_matches({v}, {_sql_text(controls)}) THEN {escaped} ELSE {v} END"


def _text_cell(text: str, ref: str) -> str:
    """An inline-string cell of ``text`` (from ``_text``), as XlsxWriter writes it; '' for NULL."""
    preserve = f"CASE WHEN regexp_matches({text}, '^\\s|\\s$') THEN ' xml:space=\"preserve\"' ELSE '' END"
    xml = f"replace(replace(replace({text}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    return (
        f"CASE WHEN {text} IS NULL THEN '' "
        f"ELSE '<c r=\"' || {ref} || '\" t=\"inlineStr\"><is><t' || {preserve} || '>' || {xml} || '</t></is></c>' END"
    )


def _rows_sql(query: str, order_by: str, columns: list[str], types: list[str], style: dict[str, int]) -> str:
    cells = []
    for idx, (c, t) in enumerate(zip(columns, types, strict=True)):
        col = f"q.{_quote(c)}"
        ref = f"'{_column_letter(idx)}' || rn"
        if t == "BOOLEAN":
            cell = f"CASE WHEN {col} IS NULL THEN '' ELSE '<c r=\"' || {ref} || '\" t=\"b\"><v>' || CASE WHEN {col} THEN '1' ELSE '0' END || '</v></c>' END"
        elif t == "DATE":
            # Excel's serial day number (1900 date system: day 60 is the 29 February 1900 that never was)
            serial = f"CASE WHEN {col} < DATE '1900-03-01' THEN {col} - DATE '1899-12-31' ELSE {col} - DATE '1899-12-30' END"
            cell = f"CASE WHEN {col} IS NULL THEN '' ELSE '<c r=\"' || {ref} || '\" s=\"{style[c]}\"><v>' || ({serial}) || '</v></c>' END"
        elif t.startswith("DECIMAL"):
            # the number as XlsxWriter writes float(value): no trailing zeros after the point
            text = f"rtrim(rtrim(CAST({col} AS VARCHAR), '0'), '.')" if "," in t and not t.endswith(",0)") else f"CAST({col} AS VARCHAR)"
            s = f' s="{style[c]}"' if c in style else ""
            cell = f"CASE WHEN {col} IS NULL THEN '' ELSE '<c r=\"' || {ref} || '\"{s}><v>' || {text} || '</v></c>' END"
        elif t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT"):
            cell = f"CASE WHEN {col} IS NULL THEN '' ELSE '<c r=\"' || {ref} || '\"><v>' || CAST({col} AS VARCHAR) || '</v></c>' END"
        elif t == "VARCHAR":
            cell = _text_cell(col, ref)  # q's text columns are already _text()
        else:
            raise ValueError(f"column {c}: no XLSX cell for DuckDB type {t}")
        cells.append(cell)
    texts = ", ".join(f"{_text(_quote(c))} AS {_quote(c)}" for c, t in zip(columns, types, strict=True) if t == "VARCHAR")
    replace = f" REPLACE ({texts})" if texts else ""
    return (
        "SELECT '<row r=\"' || rn || '\">' || " + " || ".join(cells) + " || '</row>' AS xml "
        f"FROM (SELECT row_number() OVER (ORDER BY {order_by}) + 1 AS rn, *{replace} FROM ({query})) AS q ORDER BY rn"
    )
