"""Cell number formats, for the precision rules of :mod:`xlmonitor.privacy` (is a number that
passes the eleven-test plainly an amount?): read only when such a number asks.

* xlsx/xlsm: the cell's ``s`` style in the sheet's XML → ``cellXfs`` → ``numFmt`` of
  ``xl/styles.xml`` (or one of Excel's built-in formats);
* ods: the cell's ``office:value-type`` (currency, percentage, date, time) and its style's data
  style (a euro sign, decimal places, grouping), in ``content.xml`` or ``styles.xml``, given as
  the Excel format code that says the same;
* xls: the BIFF8 records of the Workbook stream (FORMAT, XF, and NUMBER/RK/MULRK/FORMULA cells
  in each sheet's substream), through olefile.

Also the two helpers :mod:`xlmonitor.intake.hiding_places` shares: :func:`parse_part` (no part
over :data:`MAX_PARSED_BYTES` becomes a tree) and :func:`ods_cells`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator
from itertools import chain

from defusedxml import ElementTree

from xlmonitor.intake.workbookfile import WorkbookFile, a1

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_CELL_STYLE = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]+\d+)\"[^>]*?\bs=\"(\d+)\"")
_BUILTIN_FORMATS = {  # the number formats Excel does not write into styles.xml
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 5: "$#,##0", 6: "$#,##0",
    7: "$#,##0.00", 8: "$#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?",
    13: "# ??/??", 14: "d-m-yyyy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "d-m-yyyy h:mm", 37: "#,##0 ;(#,##0)",
    38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
    41: '_-* #,##0_-', 42: '_-€ * #,##0_-', 43: '_-* #,##0.00_-', 44: '_-€ * #,##0.00_-',
    45: "mm:ss", 46: "[h]:mm:ss", 47: "mm:ss.0", 48: "##0.0E+0", 49: "@",
}

_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_NUMBER = "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
_ODS_VALUE_TYPES = {"currency": "€ #,##0", "percentage": "0%", "date": "d-m-yyyy",
                    "time": "h:mm"}


#: A part larger than this is never parsed into a tree in this process (a hostile 100 MB part
#: would take gigabytes): it is scanned as text, and its hits say the part, not the place.
MAX_PARSED_BYTES = 16 * 2**20


def parse_part(xml: bytes):
    """A zip part as an element tree (defusedxml); too large a part raises ValueError."""
    if len(xml) > MAX_PARSED_BYTES:
        raise ValueError(f"part of {len(xml)} bytes: scanned as text")
    return ElementTree.fromstring(xml)


class NumberFormats:
    """A cell's number format code, read from styles.xml and the sheet's XML only when a
    number passing the eleven-test asks for it."""

    def __init__(self, book: WorkbookFile) -> None:
        self.book = book
        self._by_style: list[str] | None = None
        self._by_sheet: dict[str, dict[str, str]] | None = None

    def of(self, sheet: str) -> Callable[[str], str]:
        styles: dict[str, int] | None = None

        def number_format(cell: str) -> str:
            nonlocal styles
            if not self.book.is_ooxml:
                return self._other().get(sheet, {}).get(cell, "")
            if styles is None:
                xml = self.book.part(self.book.sheet_parts.get(sheet, ("", ""))[0])
                styles = {ref.decode(): int(s) for ref, s in _CELL_STYLE.findall(xml)}
            index = styles.get(cell, 0)
            by_style = self._styles()
            return by_style[index] if index < len(by_style) else ""
        return number_format

    def _other(self) -> dict[str, dict[str, str]]:
        """Sheet → cell → number format code of an .xls (its BIFF records), or of an ods (an
        Excel format code saying what the cell's value type and data style say)."""
        if self._by_sheet is None:
            try:
                if self.book.archive is None:
                    self._by_sheet = _xls_number_formats(self.book.data)
                else:
                    self._by_sheet = _ods_number_formats(
                        parse_part(self.book.part("content.xml")),
                        parse_part(self.book.part("styles.xml") or b"<x/>"))
            except Exception:  # a damaged part: formats unknown, nothing excused
                self._by_sheet = {}
        return self._by_sheet

    def _styles(self) -> list[str]:
        if self._by_style is None:
            self._by_style = []
            try:
                root = parse_part(self.book.part("xl/styles.xml"))
            except Exception:  # no or a damaged styles part: formats unknown, nothing excused
                return self._by_style
            custom = {int(el.get("numFmtId", -1)): el.get("formatCode") or ""
                      for el in root.iter(f"{_MAIN}numFmt")}
            xfs = root.find(f"{_MAIN}cellXfs")
            for xf in (xfs if xfs is not None else []):
                number = int(xf.get("numFmtId") or 0)
                self._by_style.append(custom.get(number, _BUILTIN_FORMATS.get(number, "")))
        return self._by_style


def ods_cells(table) -> Iterator[tuple[int, int, object]]:
    """(row, column, element) of every cell of an ods table, repeats counted."""
    row_number = 0
    for row in table.iter(f"{{{_TABLE}}}table-row"):
        column = 0
        for cell in row:
            if cell.tag.rsplit("}", 1)[-1] not in ("table-cell", "covered-table-cell"):
                continue
            yield row_number, column, cell
            column += int(cell.get(f"{{{_TABLE}}}number-columns-repeated") or 1)
        row_number += int(row.get(f"{{{_TABLE}}}number-rows-repeated") or 1)


def _ods_number_formats(content, styles) -> dict[str, dict[str, str]]:
    """For numbers of an ods: an Excel format code per cell of each sheet, from the cell's value
    type (currency, percentage, date, time) and its style's data style (a euro sign, decimal
    places, grouping), which content.xml or styles.xml holds."""
    data_styles = {}
    for el in chain(styles.iter(), content.iter()):
        local = el.tag.rsplit("}", 1)[-1]
        name = el.get(f"{{{_STYLE}}}name")
        if local.endswith("-style") and el.tag.startswith(f"{{{_NUMBER}}}") and name:
            data_styles[name] = _ods_format_code(local, el)
    cell_styles = {el.get(f"{{{_STYLE}}}name"): data_styles.get(
                       el.get(f"{{{_STYLE}}}data-style-name") or "", "")
                   for el in content.iter(f"{{{_STYLE}}}style")}
    result: dict[str, dict[str, str]] = {}
    for table in content.iter(f"{{{_TABLE}}}table"):
        formats = result.setdefault(table.get(f"{{{_TABLE}}}name") or "", {})
        for row, column, cell in ods_cells(table):
            kind = cell.get(f"{{{_OFFICE}}}value-type")
            if kind in ("currency", "percentage", "date", "time"):
                formats[a1(row, column)] = _ODS_VALUE_TYPES[kind]
            elif kind == "float":
                code = cell_styles.get(cell.get(f"{{{_TABLE}}}style-name"), "")
                if code:
                    formats[a1(row, column)] = code
    return result


def _ods_format_code(local: str, style) -> str:
    if local in ("currency-style", "percentage-style", "date-style", "time-style"):
        return _ODS_VALUE_TYPES[local.split("-")[0]]
    if any("€" in (text.text or "") for text in style):  # "€ #,##0" written as text + number
        return "€ #,##0"
    number = style.find(f"{{{_NUMBER}}}number")
    if style.find(f"{{{_NUMBER}}}scientific-number") is not None:
        return "0.00E+00"
    if number is None:
        return ""
    decimals = int(number.get(f"{{{_NUMBER}}}decimal-places") or 0)
    grouped = number.get(f"{{{_NUMBER}}}grouping") == "true"
    return ("#,##0" if grouped else "0") + ("." + "0" * decimals if decimals else "")


# -- xls (OLE): number formats from the BIFF8 records ---------------------------------------------

_BIFF_BOF, _BIFF_BOUNDSHEET, _BIFF_FORMAT, _BIFF_XF = 0x0809, 0x0085, 0x041E, 0x00E0
_BIFF_CELLS, _BIFF_MULRK = (0x0203, 0x027E, 0x0006), 0x00BD  # NUMBER, RK, FORMULA; MULRK


def _xls_number_formats(data: bytes) -> dict[str, dict[str, str]]:
    """Sheet → cell → number format code of every number cell of an .xls: the Workbook stream's
    FORMAT and XF records give each cell format's code, each sheet's BOF (found by its
    BOUNDSHEET offset) starts its cells (NUMBER, RK, MULRK, FORMULA)."""
    import olefile

    with olefile.OleFileIO(data) as ole:
        stream = ole.openstream("Workbook").read() if ole.exists("Workbook") else b""
    formats, xfs, sheets_at = dict(_BUILTIN_FORMATS), [], {}
    result: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    position = 0
    while position + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, position)
        body = stream[position + 4:position + 4 + size]
        if kind == _BIFF_BOF:
            name = sheets_at.get(position)
            current = result.setdefault(name, {}) if name is not None else None
        elif kind == _BIFF_BOUNDSHEET and len(body) >= 8:
            sheets_at[struct.unpack_from("<I", body)[0]] = _short_string(body[6:])
        elif kind == _BIFF_FORMAT and len(body) >= 5:
            formats[struct.unpack_from("<H", body)[0]] = _long_string(body[2:])
        elif kind == _BIFF_XF and len(body) >= 4:
            xfs.append(struct.unpack_from("<H", body, 2)[0])
        elif current is not None and kind in _BIFF_CELLS and len(body) >= 6:
            row, column, xf = struct.unpack_from("<HHH", body)
            current[a1(row, column)] = _xf_format(xf, xfs, formats)
        elif current is not None and kind == _BIFF_MULRK and len(body) >= 12:
            row, first = struct.unpack_from("<HH", body)
            for n in range((len(body) - 6) // 6):
                xf = struct.unpack_from("<H", body, 4 + 6 * n)[0]
                current[a1(row, first + n)] = _xf_format(xf, xfs, formats)
        position += 4 + size
    return result


def _xf_format(xf: int, xfs: list[int], formats: dict[int, str]) -> str:
    return formats.get(xfs[xf], "") if xf < len(xfs) else ""


def _short_string(body: bytes) -> str:
    """ShortXLUnicodeString: a count byte, a flags byte (bit 0: two bytes a character)."""
    count, flags = body[0], body[1]
    return body[2:2 + count * 2].decode("utf-16-le", "replace") if flags & 1 else \
        body[2:2 + count].decode("latin-1")


def _long_string(body: bytes) -> str:
    """XLUnicodeString: a count of two bytes, a flags byte, the characters."""
    count, flags = struct.unpack_from("<HB", body)
    return body[3:3 + count * 2].decode("utf-16-le", "replace") if flags & 1 else \
        body[3:3 + count].decode("latin-1")
