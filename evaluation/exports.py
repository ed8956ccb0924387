"""Each funder-report table as CSV and as XLSX (openpyxl), cell for cell what the page shows.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula, so
such text is prefixed with an apostrophe, as volunteering/export.py does. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from .report import Cell, Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Cell) -> Cell:
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(cell) for cell in table.header])
    for row in table.rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def table_xlsx(table: Table, period: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = table.slug[:31]
    sheet.append([safe_cell(cell) for cell in table.header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([safe_cell(cell) for cell in row])
    sheet.append([])
    sheet.append(
        [safe_cell(f"{table.caption}, {period}. Counts of 1 to 4 are shown as fewer than 5.")]
    )
    sheet.column_dimensions["A"].width = (
        max([len(table.header[0])] + [len(str(row[0])) for row in table.rows]) + 4
    )
    sheet.column_dimensions["B"].width = 16
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
