"""The denial worklist as CSV and XLSX: denied claims to work, ranked (marts.mart_denial_worklist)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import xlsxwriter

from reports.data import rows

COLUMNS = [
    "priority", "claim_id", "claim_family_id", "payer_id", "payer_name", "department", "location", "service_from",
    "denial_date", "denial_kind", "adjudication_number", "is_full_denial", "category", "reason", "rarc", "owner",
    "preventable", "charge_amount", "denied_amount", "open_balance", "appeal_window_days", "appeal_deadline",
    "days_left", "as_of_date",
]
MONEY = {"charge_amount", "denied_amount", "open_balance"}


def write_worklist(con: duckdb.DuckDBPyConnection, output_dir: Path) -> dict[str, Path]:
    data = rows(con, f"SELECT {', '.join(COLUMNS)} FROM marts.mart_denial_worklist ORDER BY priority")
    folder = Path(output_dir) / "worklist"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "denial_worklist.csv"
    tmp = csv_path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in data:
            w.writerow(["" if r[c] is None else r[c] for c in COLUMNS])
    tmp.replace(csv_path)

    xlsx_path = folder / "denial_worklist.xlsx"
    tmpx = folder / "denial_worklist.tmp.xlsx"
    # XlsxWriter streams rows to the file (constant memory); openpyxl took 10 s for 5,000 rows
    wb = xlsxwriter.Workbook(str(tmpx), {"constant_memory": True, "default_date_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("Denial worklist")
    bold, money = wb.add_format({"bold": True}), wb.add_format({"num_format": "#,##0.00"})
    for idx, c in enumerate(COLUMNS):
        ws.set_column(idx, idx, max(12, len(c) + 2), money if c in MONEY else None)
    ws.write_row(0, 0, COLUMNS, bold)
    for i, r in enumerate(data, start=1):
        ws.write_row(i, 0, [float(v) if isinstance(v, Decimal) else v for v in (r[c] for c in COLUMNS)])
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, len(data), len(COLUMNS) - 1)
    wb.close()
    tmpx.replace(xlsx_path)
    return {"csv": csv_path, "xlsx": xlsx_path, "rows": len(data)}
