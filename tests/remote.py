"""A real xlwings ``Book`` without Excel: xlwings' remote-interpreter engine,
``xlwings.Book(json=…)``, fed the JSON its VBA client (``xlwings/addin/Remote.bas``) sends,
here read from a workbook file; the actions the book collects (``book.json()``) are what
Excel would be told to do. The ``remote_book`` fixture (conftest) opens one."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import xlwings
from openpyxl.utils import get_column_letter, range_boundaries


def _json(value: object) -> object:
    """A cell value as xlwings' VBA client sends it (JsonConverter: dates ISO 8601, UTC)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%dT00:00:00.000Z")
    return "" if value is None else value


def _absolute(ref: str) -> str:
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    first = f"${get_column_letter(min_col)}${min_row}"
    return first if (min_col, min_row) == (max_col, max_row) else \
        f"{first}:${get_column_letter(max_col)}${max_row}"


def remote_payload(path: Path) -> dict:
    """What ``RunRemotePython`` (xlwings/addin/Remote.bas) posts for the open workbook
    ``path``: book, range names, and per sheet its values from A1, tables and pictures."""
    book = openpyxl.load_workbook(path, data_only=True)
    titles = book.sheetnames
    sheets = []
    for ws in book.worksheets:
        values = [[_json(v) for v in row] for row in
                  ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column,
                               values_only=True)]
        tables = []
        for table in ws.tables.values():
            min_col, min_row, max_col, max_row = range_boundaries(table.ref)
            first, last = get_column_letter(min_col), get_column_letter(max_col)
            tables.append({
                "name": table.name, "range_address": _absolute(table.ref),
                "header_row_range_address": f"${first}${min_row}:${last}${min_row}",
                "data_body_range_address": f"${first}${min_row + 1}:${last}${max_row}",
                "total_row_range_address": None, "show_headers": True,
                "show_totals": bool(table.totalsRowCount), "show_autofilter": True,
                "table_style": table.tableStyleInfo.name if table.tableStyleInfo else ""})
        sheets.append({"name": ws.title, "values": values, "pictures": [], "tables": tables})
    names = [{"name": name, "sheet_index": titles.index(sheet),
              "address": ref.replace("$", ""), "book_scope": True,
              "scope_sheet_name": None, "scope_sheet_index": None}
             for name, defined in book.defined_names.items()
             for sheet, ref in defined.destinations]
    book.close()
    return {"client": "VBA", "version": xlwings.__version__,
            "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
            "names": names, "sheets": sheets}
