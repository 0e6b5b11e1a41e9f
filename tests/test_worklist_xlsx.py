"""The worklist XLSX: cells made by DuckDB are the cells XlsxWriter writes, and read back as the
warehouse's values (openpyxl), for ordinary and awkward values alike."""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
import xlsxwriter

from reports import csv_safe, worklist
from tests.helpers import load_and_build

ROOT = Path(__file__).resolve().parents[1]

TEXTS = [
    "plain", "AT&T <Health> \"Plan\"", "  leading", "trailing  ", "tab\tinside", "line\nbreak", "bell\x07 and \x1f",
    "_x0041_ literal", "=1+1", "+SUM(A1)", "http://example.com/x", "mailto:a@b.c", "é漢字 ünïcode", "x" * 40_000, "",
    None, "\x01", "cr\rlf",
]


def _table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE t (n BIGINT, txt VARCHAR, amount DECIMAL(18,2), big DECIMAL(38,2), d DATE, flag BOOLEAN, k INTEGER)"
    )
    amounts = ["0.00", "0.10", "-5.20", "114.00", "1234567.89", "-0.01", None, "9999999.99"]
    dates = [dt.date(2026, 3, 2), dt.date(1900, 3, 1), dt.date(1900, 2, 28), dt.date(1999, 12, 31), None, dt.date(2100, 1, 1)]
    for i, text in enumerate(TEXTS):
        a = amounts[i % len(amounts)]
        con.execute(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)",
            [i + 1, text, a, None if a is None else Decimal(a) * 1000, dates[i % len(dates)], [True, False, None][i % 3], i * 7 - 20],
        )


def _reference(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The same sheet written cell by cell through XlsxWriter, each value with its own type."""
    cur = con.execute("SELECT * FROM t ORDER BY n")
    names = [d[0] for d in cur.description]
    data = cur.fetchall()
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Sheet")
    bold = wb.add_format({"bold": True})
    money, date = wb.add_format({"num_format": worklist.MONEY_FORMAT}), wb.add_format({"num_format": worklist.DATE_FORMAT})
    for i, c in enumerate(names):
        ws.set_column(i, i, max(12, len(c) + 2), money if c in ("amount", "big") else date if c == "d" else None)
    ws.write_row(0, 0, names, bold)
    for r, row in enumerate(data, start=1):
        for c, v in enumerate(row):
            if v is None or v == "":
                continue  # as XlsxWriter's write() does: no cell
            if isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, Decimal):
                ws.write_number(r, c, float(v), money)
            elif isinstance(v, dt.date):
                ws.write_datetime(r, c, v, date)
            elif isinstance(v, int):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, v)
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, len(data), len(names) - 1)
    wb.close()


def _excel_text(s: str) -> str:
    """Decode Excel's _xHHHH_ escapes, as Excel does when it reads the cell (openpyxl does not)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), s)


def _sheet(path: Path) -> str:
    return zipfile.ZipFile(path).read(worklist.SHEET).decode()


def test_cells_are_xlsxwriters_and_read_back(tmp_path):
    con = duckdb.connect()
    _table(con)
    ours, ref = tmp_path / "ours.xlsx", tmp_path / "ref.xlsx"
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]
    worklist.write_xlsx(con, "SELECT * FROM t", "n", ours, "Sheet", money={"amount", "big"}, n_rows=n)
    _reference(con, ref)
    # XlsxWriter applies a cell's format to the number itself; ours carries the same style index
    assert _sheet(ours) == _sheet(ref)
    for name in ("xl/styles.xml", "xl/workbook.xml", "[Content_Types].xml"):
        assert zipfile.ZipFile(ours).read(name) == zipfile.ZipFile(ref).read(name)

    ws = openpyxl.load_workbook(ours, read_only=True).active
    got = list(ws.iter_rows(values_only=True))
    cur = con.execute("SELECT * FROM t ORDER BY n")
    assert list(got[0]) == [d[0] for d in cur.description]
    for row, expected in zip(got[1:], cur.fetchall(), strict=True):
        for value, want in zip(row, expected, strict=True):
            if want is None or want == "":
                assert value is None
            elif isinstance(want, bool):
                assert value is want
            elif isinstance(want, Decimal):
                assert Decimal(str(value)) == want
            elif isinstance(want, dt.date):
                assert value.date() == want
            elif isinstance(want, str):
                assert _excel_text(value) == want[: worklist.MAX_TEXT]
            else:
                assert value == want


def test_money_is_written_exactly(tmp_path):
    """XlsxWriter writes float(value) with 16 digits (99999999.98999999); the cell holds the
    decimal's own digits, which Excel reads as the same double."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS n, 99999999.99::DECIMAL(18,2) AS a, -1234567890123.45::DECIMAL(38,2) AS b")
    path = tmp_path / "t.xlsx"
    worklist.write_xlsx(con, "SELECT * FROM t", "n", path, "Sheet", money={"a", "b"}, n_rows=1)
    sheet = _sheet(path)
    assert "<v>99999999.99</v>" in sheet and "<v>-1234567890123.45</v>" in sheet
    ws = openpyxl.load_workbook(path).active
    assert ws["B2"].value == float("99999999.99") and ws["C2"].value == float("-1234567890123.45")
    assert ws["B2"].number_format == worklist.MONEY_FORMAT


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS n, '=HYPERLINK(\"http://x\")' AS a, '<r><t>x</t></r>' AS b")
    path = tmp_path / "t.xlsx"
    worklist.write_xlsx(con, "SELECT * FROM t", "n", path, "Sheet", money=set(), n_rows=1)
    sheet = _sheet(path)
    assert "<f>" not in sheet and "&lt;r&gt;" in sheet
    ws = openpyxl.load_workbook(path).active
    assert ws["B2"].value == '=HYPERLINK("http://x")' and ws["B2"].data_type == "s"
    assert ws["C2"].value == "<r><t>x</t></r>"


def test_worklist_files_match_the_mart(tmp_path):
    con = load_and_build(ROOT / "sample_data", tmp_path / "w.duckdb", None)
    out = worklist.write_worklist(con, tmp_path / "out")
    assert out["rows"] > 0
    ws = openpyxl.load_workbook(out["xlsx"], read_only=True).active
    got = list(ws.iter_rows(values_only=True))
    mart = con.execute(f"SELECT {', '.join(worklist.COLUMNS)} FROM marts.mart_denial_worklist ORDER BY priority").fetchall()
    assert list(got[0]) == worklist.COLUMNS and len(got) == len(mart) + 1
    for row, want in zip(got[1:], mart, strict=True):
        for value, w in zip(row, want, strict=True):
            if isinstance(w, Decimal):
                assert Decimal(str(value)) == w
            elif isinstance(w, dt.date):
                assert value.date() == w
            else:
                assert value == (None if w == "" else w)
    # the CSV has the same rows in the same order: money with its cents, dates ISO, NULL empty,
    # booleans True/False, lines ending CRLF; text a spreadsheet would run as a formula with a
    # single quote before it (reports/csv_safe.py, tests/test_csv_injection.py)
    raw = out["csv"].read_bytes()
    assert raw.count(b"\r\n") == len(mart) + 1 and b"\n" not in raw.replace(b"\r\n", b"")
    with open(out["csv"], newline="", encoding="utf-8") as f:
        got_csv = list(csv.reader(f))
    assert got_csv[0] == worklist.COLUMNS and len(got_csv) == len(mart) + 1
    text = lambda v: "" if v is None else str(v)  # noqa: E731  (str(True) == "True", str(Decimal) keeps the cents)
    assert got_csv[1:] == [[text(csv_safe.neutralise(v)) for v in row] for row in mart]


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_single_row(tmp_path, n):
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT i AS n, 'x' AS a FROM range({n}) AS r(i)")
    path = tmp_path / "t.xlsx"
    worklist.write_xlsx(con, "SELECT * FROM t", "n", path, "Sheet", money=set(), n_rows=n)
    rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    assert rows == [("n", "a")] + [(i, "x") for i in range(n)]
    assert not list(tmp_path.glob(".*"))  # no temporary files left
