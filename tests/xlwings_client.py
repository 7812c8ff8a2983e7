"""What xlwings' VBA client posts: ``RunServerPython`` of ``xlwings/addin/Remote.bas``
(xlwings 0.37.8), rebuilt in Python from a workbook file, so tests can post to the server
what Excel would.

Remote.bas builds a Dictionary and VBA-Web's ``ConvertToJson`` (``addin/WebHelpers.bas``)
writes it:

* ``client`` ``"VBA"``, ``version`` the workbook's ``XLWINGS_VERSION``;
* ``book``: name, ``active_sheet_index`` (0-based), ``selection`` (``A1`` form, no ``$``);
* ``names``: every name that refers to a range: name (``Sheet!Name`` for a sheet-scoped
  one), ``sheet_index``, ``address`` without ``$``, ``book_scope``, scope sheet name/index;
* ``sheets``: per worksheet its name, ``pictures`` and ``tables`` (only for sheets not
  excluded), and ``values``: ``Range(A1, last used cell).Value``, or ``[[]]`` for an
  excluded or empty sheet. ``include`` lists the sheets to send; every other one is excluded.

Values as ConvertToJson writes them: Empty → null, dates ``yyyy-mm-ddTHH:MM:SS.000Z``
(local time, no conversion), errors as ``#N/A`` etc., and a text of 16–100 characters of
digits, ``.``, ``E`` or ``e`` unquoted, as a number.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries

_LARGE_NUMBER = re.compile(r"[0-9.Ee]{16,100}")


def vba_json_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%dT00:00:00.000Z")
    if isinstance(value, time):
        return f"1899-12-30T{value:%H:%M:%S}.000Z"
    if isinstance(value, str) and _LARGE_NUMBER.fullmatch(value):
        try:  # written unquoted: the server reads a number
            return json.loads(value)
        except ValueError:
            return value
    return value


def dumps(payload: dict) -> bytes:
    """The request body: compact JSON in UTF-8."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _absolute(min_col: int, min_row: int, max_col: int, max_row: int) -> str:
    first = f"${get_column_letter(min_col)}${min_row}"
    if (min_col, min_row) == (max_col, max_row):
        return first
    return f"{first}:${get_column_letter(max_col)}${max_row}"


def _tables(ws) -> list[dict]:
    tables = []
    for table in ws.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        totals = bool(table.totalsRowCount)
        body_end = max_row - 1 if totals else max_row
        tables.append({
            "name": table.name,
            "range_address": _absolute(min_col, min_row, max_col, max_row),
            "header_row_range_address": _absolute(min_col, min_row, max_col, min_row),
            "data_body_range_address": (_absolute(min_col, min_row + 1, max_col, body_end)
                                        if body_end > min_row else None),
            "total_row_range_address": (_absolute(min_col, max_row, max_col, max_row)
                                        if totals else None),
            "show_headers": True,
            "show_totals": totals,
            "table_style": table.tableStyleInfo.name if table.tableStyleInfo else "",
            "show_autofilter": table.autoFilter is not None,
        })
    return tables


def _values(ws) -> list[list]:
    if ws.max_row == 1 and ws.max_column == 1 and ws["A1"].value is None:
        return [[]]
    return [[vba_json_value(v) for v in row] for row in
            ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column,
                         values_only=True)]


def _names(book) -> list[dict]:
    titles = book.sheetnames
    names = []
    for name, defined in book.defined_names.items():
        for sheet, ref in defined.destinations:
            names.append({"name": name, "sheet_index": titles.index(sheet),
                          "address": ref.replace("$", ""), "book_scope": True,
                          "scope_sheet_name": None, "scope_sheet_index": None})
    for index, ws in enumerate(book.worksheets):
        if ws.print_area:
            ref = ws.print_area.split("!")[-1].replace("$", "")
            names.append({"name": f"{ws.title}!Print_Area", "sheet_index": index,
                          "address": ref, "book_scope": False, "scope_sheet_name": ws.title,
                          "scope_sheet_index": index})
    return names


def payload(path: Path, *, include: list[str] | None = None, version: str,
            active_sheet: int = 0, selection: str = "A1") -> dict:
    """What ``RunServerPython url, include:=",".join(include)`` posts for the open ``path``
    (cached values, as Excel holds them after opening)."""
    book = openpyxl.load_workbook(path, data_only=True)
    try:
        sheets = []
        for ws in book.worksheets:
            sent = include is None or ws.title in include
            sheets.append({"name": ws.title, "pictures": [],
                           "tables": _tables(ws) if sent else [],
                           "values": _values(ws) if sent else [[]]})
        return {"client": "VBA", "version": version,
                "book": {"name": path.name, "active_sheet_index": active_sheet,
                         "selection": selection},
                "names": _names(book), "sheets": sheets}
    finally:
        book.close()
