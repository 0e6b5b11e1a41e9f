"""Formula injection in the CSVs the project writes: a text cell a spreadsheet would execute
(it begins with =, +, -, @, a tab or a carriage return) is written with a single quote before it;
numbers, negative amounts among them, stay numbers.

The CSVs: the worklist (reports/worklist.py, DuckDB COPY) and the reports' "Export CSV" buttons
(reports/templates/csv.js, in the browser). reports/csv_safe.py holds the rule; the SQL and the
JavaScript versions are checked against it on the same cases.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from reports import csv_safe, dashboard, worklist
from tests.conftest import TINY, TINY_AS_OF
from tests.helpers import load_and_build
from transforms import trends

ROOT = Path(__file__).resolve().parents[1]
CSV_JS = ROOT / "reports" / "templates" / "csv.js"
HYPERLINK = '=HYPERLINK("http://x","y")'
SUM = "@SUM(1)"
RENAMED = {"C3": HYPERLINK, "C8": SUM}

# (value, neutralised)
CASES = [
    (HYPERLINK, "'" + HYPERLINK),
    (SUM, "'@SUM(1)"),
    ("=1+1", "'=1+1"),
    ("+SUM(A1)", "'+SUM(A1)"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-", "'-"),
    ("+", "'+"),
    ("-12.50\n=1", "'-12.50\n=1"),  # a number, then a line: not a plain number
    ("--1", "'--1"),
    ("-12.50", "-12.50"),  # plain numbers as text: read as numbers, nothing to execute
    ("+3", "+3"),
    ("-0.035", "-0.035"),
    ("-1e-05", "-1e-05"),
    ("-.5", "-.5"),
    ("12.50", "12.50"),
    ("plain", "plain"),
    ("a=1", "a=1"),
    (" =1+1", " =1+1"),
    ("'=1", "'=1"),
    ("", ""),
    ("CARD-MAIN", "CARD-MAIN"),
    ("2026-03-02", "2026-03-02"),
]


def test_the_rule():
    for value, want in CASES:
        assert csv_safe.neutralise(value) == want, value
    assert csv_safe.neutralise(None) is None
    assert csv_safe.neutralise(-12.5) == -12.5 and csv_safe.neutralise(Decimal("-12.50")) == Decimal("-12.50")


def test_the_sql_rule_is_the_same():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [[i, v] for i, (v, _) in enumerate(CASES)] + [[len(CASES), None]])
    got = [r[0] for r in con.execute(f"SELECT {csv_safe.sql_neutralise('v')} FROM t ORDER BY i").fetchall()]
    assert got == [want for _, want in CASES] + [None]


def _js_csv(lines: list[list]) -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed (the browser test checks the same code)")
    script = CSV_JS.read_text() + f"\nprocess.stdout.write(JSON.stringify(denialsCsv({json.dumps(lines)})));\n"
    r = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_the_javascript_rule_is_the_same():
    lines = [["value"]] + [[v] for v, _ in CASES] + [[None], [-12.5], [-0.035], [1234.5], ['q"q,x']]
    got = _js_csv(lines)
    rows = list(csv.reader(io.StringIO(got, newline="")))
    assert [r[0] if r else "" for r in rows] == (
        ["value"] + [want for _, want in CASES] + ["", "-12.5", "-0.035", "1234.5", 'q"q,x'])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tiny data set with two claim ids a spreadsheet would run (in claims, lines and
    remittances), built; then, in the worklist mart, a negative balance and more awkward text."""
    tmp = tmp_path_factory.mktemp("csv_injection")
    landing = tmp / "landing"
    shutil.copytree(TINY, landing, ignore=shutil.ignore_patterns("README.md"))
    for path in (landing / "claims" / "claims.csv", landing / "claims" / "claim_lines.csv",
                 landing / "remittances" / "remit_claims.csv"):
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            fields = list(rows[0])
        for r in rows:
            for col in ("claim_id", "original_claim_id"):
                if r.get(col) in RENAMED:
                    r[col] = RENAMED[r[col]]
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fields)
            w.writeheader()
            w.writerows(rows)
    con = load_and_build(landing, tmp / "w.duckdb", TINY_AS_OF)
    ids = {r[0] for r in con.execute("SELECT claim_id FROM marts.mart_denial_worklist").fetchall()}
    assert {HYPERLINK, SUM} <= ids, ids  # the ids came through loading and the models
    con.execute(
        "UPDATE marts.mart_denial_worklist SET open_balance = -12.50, location = '-12.50', department = chr(9) || 'TAB', "
        "reason = '-2+3', payer_name = '+cmd' WHERE claim_id = ?", [SUM])
    out = tmp / "out"
    files = worklist.write_worklist(con, out)
    yield con, out, files
    con.close()


def test_worklist_csv_neutralises_formulas_and_keeps_numbers(built):
    con, _, files = built
    raw = files["csv"].read_bytes()
    assert raw.count(b"\r\n") == files["rows"] + 1  # the format is unchanged: CRLF lines, a header
    with open(files["csv"], newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == worklist.COLUMNS
    by_id = {r[1]: dict(zip(worklist.COLUMNS, r, strict=True)) for r in rows[1:]}
    link, summed = by_id["'" + HYPERLINK], by_id["'" + SUM]
    assert link["claim_family_id"] == "'" + HYPERLINK and summed["claim_family_id"] == "'" + SUM
    assert summed["payer_name"] == "'+cmd" and summed["reason"] == "'-2+3" and summed["department"] == "'\tTAB"
    # a negative amount stays a number (no quote), as does text that is a plain number
    assert summed["open_balance"] == "-12.50" and Decimal(summed["open_balance"]) == Decimal("-12.50")
    assert summed["location"] == "-12.50"
    assert Decimal(summed["charge_amount"]) > 0 and summed["priority"].isdigit()

    # every cell is the mart's value, neutralised where a spreadsheet would run it, and no cell
    # left would be run
    mart = con.execute(f"SELECT {', '.join(worklist.COLUMNS)} FROM marts.mart_denial_worklist ORDER BY priority").fetchall()
    text = lambda v: "" if v is None else str(v)  # noqa: E731
    assert rows[1:] == [[text(csv_safe.neutralise(v)) for v in row] for row in mart]
    for row in rows[1:]:
        for cell in row:
            assert csv_safe.neutralise(cell) == cell or cell.startswith("'"), cell

    # the XLSX keeps the values themselves: its cells are typed text, which Excel does not run
    ws = openpyxl.load_workbook(files["xlsx"]).active
    claim_ids = {ws.cell(r, 2).value for r in range(2, ws.max_row + 1)}
    assert {HYPERLINK, SUM} <= claim_ids
    assert all(ws.cell(r, 2).data_type == "s" for r in range(2, ws.max_row + 1))


@pytest.mark.slow
def test_report_export_buttons_neutralise_formulas(built, tmp_path):
    """The weekly report's "Export CSV" (a table, and the claim drill-down) in the real browser."""
    from tests.browser import browser, open_page

    con, out, _ = built
    trends.write_alerts(con, trends.detect(con))
    page_path = dashboard.build_weekly_dashboard(con, out, "2026-W13")
    html = page_path.read_text()
    assert "var denialsCsv" in html  # csv.js is in the page (base.html)
    with browser() as b:
        page, visit = open_page(b, page_path)
        got = {}
        for name, button in (("worklist", "button[data-export='table-worklist']"), ("claims", "#claims button[data-drill-export]")):
            with page.expect_download() as dl:
                page.click(button)
            got[name] = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text(), newline="")))
        page.close()
    for name, rows in got.items():
        cells = [c for r in rows[1:] for c in r]
        assert "'" + HYPERLINK in cells and "'" + SUM in cells, (name, rows)
        assert HYPERLINK not in cells and SUM not in cells
        assert all(csv_safe.neutralise(c) == c or c.startswith("'") for c in cells), name
    # the worklist table: the negative balance stays a number
    head, *body = got["worklist"]
    summed = next(dict(zip(head, r, strict=True)) for r in body if "'" + SUM in r)
    negative = [c for c in summed.values() if c.startswith("-")]
    assert negative and all(Decimal(c) < 0 for c in negative), summed
