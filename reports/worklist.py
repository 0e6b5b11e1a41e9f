"""The denial worklist as CSV and XLSX: denied claims to work, ranked (marts.mart_denial_worklist)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

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

    wb = Workbook()
    ws = wb.active
    ws.title = "Denial worklist"
    ws.append(COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in data:
        ws.append([float(r[c]) if isinstance(r[c], Decimal) else r[c] for c in COLUMNS])
    for idx, c in enumerate(COLUMNS, start=1):
        letter = get_column_letter(idx)
        ws.column_dimensions[letter].width = max(12, len(c) + 2)
        if c in MONEY:
            for cell in ws[letter][1:]:
                cell.number_format = "#,##0.00"
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = ws.dimensions
    xlsx_path = folder / "denial_worklist.xlsx"
    tmpx = folder / "denial_worklist.tmp.xlsx"
    wb.save(tmpx)
    tmpx.replace(xlsx_path)
    return {"csv": csv_path, "xlsx": xlsx_path, "rows": len(data)}
