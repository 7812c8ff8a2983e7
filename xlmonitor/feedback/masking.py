"""Personal data out of the feedback copy: every place intake scans
(:mod:`xlmonitor.intake.hiding_places`) that openpyxl keeps is masked before the copy is written.

Masked: cell values (text, rich text, and numbers that are a BSN by the same precision rules as
the findings, :func:`xlmonitor.privacy.judge_number`), cell notes (a note holding a BSN is
replaced by a masked one), sheet names (``*`` is not allowed in a sheet name: masked with ``x``,
``Cliënt xxxxx6782``), headers and footers, defined names (their value masked; a name that
itself holds a BSN is removed), data-validation messages and lists, chart titles (a chart
holding a BSN anywhere else is left out) and the document properties.
openpyxl drops threaded comments (it keeps their legacy note, masked as a note), text boxes,
shapes and custom document properties it cannot read, so those cannot travel into the copy.
Formulas that name a renamed sheet are not rewritten: the copy is for reading.
"""

from __future__ import annotations

from collections import defaultdict

from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

from xlmonitor import privacy

#: Text fields of docProps/core.xml (File > Info in Excel): a title can name a client too.
_PROPERTIES = ("title", "subject", "description", "keywords", "category", "creator",
               "lastModifiedBy", "identifier", "contentStatus")
_VALIDATION_TEXTS = ("promptTitle", "prompt", "errorTitle", "error", "formula1", "formula2")

#: How each masked place is named on the Controle sheet, in this order.
PLACE_NAMES = {"cell": "cellen", "note": "notities", "sheet": "bladnamen",
               "header": "kop- en voetteksten", "name": "namen",
               "validation": "gegevensvalidaties", "chart": "grafieken",
               "property": "documenteigenschappen"}


def mask_personal_data(workbook: Workbook, author: str) -> tuple[list[str], dict[str, Worksheet]]:
    """Mask the copy in place. Returns the Dutch names of the kinds of places where something
    was masked (for the Controle sheet) and each renamed sheet by its name as findings show
    it (masked with ``*``)."""
    masked: set[str] = set()
    if _mask_properties(workbook):
        masked.add("property")
    if _mask_names(workbook):
        masked.add("name")
    renamed = _mask_sheet_names(workbook)
    if renamed:
        masked.add("sheet")
    for ws in workbook.worksheets:
        masked |= _mask_cells(ws, author)
        if _mask_headers(ws):
            masked.add("header")
        if _mask_validations(ws):
            masked.add("validation")
        if _mask_charts(ws):
            masked.add("chart")
    return [PLACE_NAMES[kind] for kind in PLACE_NAMES if kind in masked], renamed


def _masked(text: object) -> object:
    return privacy.mask_text(text) if isinstance(text, str) else text


def _mask_properties(workbook: Workbook) -> bool:
    changed = False
    for name in _PROPERTIES:
        value = getattr(workbook.properties, name, None)
        if isinstance(value, str) and (masked := privacy.mask_text(value)) != value:
            setattr(workbook.properties, name, masked)
            changed = True
    for prop in list(getattr(workbook, "custom_doc_props", None) or []):
        if privacy.find_bsns_in_text(f"{prop.name}\x00{prop.value}"):
            workbook.custom_doc_props.props.remove(prop)
            changed = True
    return changed


def _mask_names(workbook: Workbook) -> bool:
    changed = False
    owners = [workbook.defined_names, *(ws.defined_names for ws in workbook.worksheets)]
    for names in owners:
        for key, defined in list(names.items()):
            if privacy.find_bsns_in_text(key):
                del names[key]
                changed = True
            elif isinstance(defined.value, str) and \
                    (value := privacy.mask_text(defined.value)) != defined.value:
                defined.value = value
                changed = True
    return changed


def _mask_sheet_names(workbook: Workbook) -> dict[str, Worksheet]:
    renamed = {}
    for ws in workbook.worksheets:
        shown = privacy.mask_text(ws.title)
        if shown == ws.title:
            continue
        title = shown.replace("*", "x")
        number = 2
        while title in workbook.sheetnames:
            title = f"{shown.replace('*', 'x')[:27]} ({number})"
            number += 1
        ws.title = title
        renamed[shown] = ws
    return renamed


def _mask_cells(ws: Worksheet, author: str) -> set[str]:
    masked: set[str] = set()
    # ws._cells holds the stored cells only; iter_rows() would create every empty cell of the
    # used range.
    cells = list(ws._cells.values())
    labels = _Labels(cells)
    for cell in cells:
        value = cell.value
        if value.__class__.__name__ == "CellRichText":  # rich text: masked as plain text
            value = str(value)
            if (shown := privacy.mask_text(value)) != value:
                _text(cell, shown)
                masked.add("cell")
        elif isinstance(value, str):
            if (shown := privacy.mask_text(value)) != value:
                _text(cell, shown)
                masked.add("cell")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = privacy.mask_value(value)
            if shown != value and privacy.judge_number(
                    cell.number_format, labels.of(cell)) is not None:
                _text(cell, shown)
                masked.add("cell")
        if cell.comment is not None:
            text = privacy.mask_text(cell.comment.text or "")
            if text != cell.comment.text:
                cell.comment = Comment(text, cell.comment.author or author)
                masked.add("note")
    return masked


class _Labels:
    """The text nearest above a cell in its column and to its left in its row, as
    :func:`xlmonitor.privacy.find_bsns` sees them."""

    def __init__(self, cells: list[Cell]) -> None:
        self.columns: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.rows: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.strip() and \
                    not privacy.find_bsns_in_text(cell.value):
                self.columns[cell.column].append((cell.row, cell.value))
                self.rows[cell.row].append((cell.column, cell.value))

    def of(self, cell: Cell) -> tuple[str, str]:
        above = max((item for item in self.columns[cell.column] if item[0] < cell.row),
                    default=(0, ""))[1]
        left = max((item for item in self.rows[cell.row] if item[0] < cell.column),
                   default=(0, ""))[1]
        return above, left


def _mask_headers(ws: Worksheet) -> bool:
    changed = False
    for header in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter, ws.firstHeader,
                   ws.firstFooter):
        for part in (header.left, header.center, header.right):
            if isinstance(part.text, str) and (text := privacy.mask_text(part.text)) != part.text:
                part.text = text
                changed = True
    return changed


def _mask_validations(ws: Worksheet) -> bool:
    changed = False
    for validation in ws.data_validations.dataValidation:
        for name in _VALIDATION_TEXTS:
            value = getattr(validation, name, None)
            if isinstance(value, str) and (text := privacy.mask_text(value)) != value:
                setattr(validation, name, text)
                changed = True
    return changed


def _mask_charts(ws: Worksheet) -> bool:
    """Chart titles masked; a chart that still holds a BSN elsewhere (a cached series name,
    an axis label) is left out of the copy."""
    changed = False
    for chart in list(ws._charts):
        axes = [getattr(chart, name, None) for name in ("x_axis", "y_axis")]
        for title in (chart.title, *(getattr(axis, "title", None) for axis in axes)):
            rich = getattr(getattr(title, "tx", None), "rich", None)
            for run in (run for paragraph in (rich.p if rich else []) for run in
                        (paragraph.r or [])):
                if isinstance(run.t, str) and (text := privacy.mask_text(run.t)) != run.t:
                    run.t = text
                    changed = True
        if privacy.find_bsns_in_text(tostring(chart._write()).decode("utf-8", "replace")):
            ws._charts.remove(chart)
            changed = True
    return changed


def _text(cell: Cell, value: str) -> None:
    """Write ``value`` as text, never as a formula."""
    cell.value = value
    if value:
        cell.data_type = "s"
