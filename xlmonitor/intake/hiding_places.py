"""Every place in a workbook where a person can type text, scanned for BSNs.

:func:`find_personal_data` gives :mod:`xlmonitor.intake.read` the masked
:class:`~xlmonitor.privacy.Hit` of every BSN in the file: in the cells of every sheet (hidden
ones too; judged with the cell's number format and header, :func:`xlmonitor.privacy.find_bsns`)
and everywhere else a colleague may have typed one. What is reached, per format:

=========================  =================================  ==================================
place                      xlsx / xlsm (the zip's XML)         ods (the zip's XML)
=========================  =================================  ==================================
cell values                calamine + number formats           calamine + value types, styles
sheet names (all states)   ``xl/workbook.xml``                 calamine
cell notes                 ``xl/comments*.xml`` (at the cell)  ``office:annotation`` (at the cell)
threaded comments          ``xl/threadedComments/*.xml``       (ods has notes only)
defined names              ``definedName`` (name and value)    ``named-range``/``named-expression``
headers and footers        ``headerFooter`` of each sheet      ``style:header``/``footer`` (styles)
document properties        ``docProps/core|app|custom.xml``    ``meta.xml``
data-validation messages   ``dataValidation`` (+ x14 ext)      ``content-validation``
text boxes, shapes, charts every other XML part (text only)    ``draw:`` shapes on a sheet
=========================  =================================  ==================================

An .xls is an OLE file calamine reads only the cells and sheet names of: its number formats
come from the BIFF records (:func:`_xls_number_formats`, olefile), its other text (notes,
headers, names, document properties) is reached by scanning the raw bytes, as 8-bit and as
UTF-16 text, for nine digits that pass the eleven-test and are not in a cell or sheet name; such
a hit cannot say where it is ("elders in het bestand"). Not covered: VBA code (a macro is
reported by ``macro-aanwezig``), embedded objects and images.

Only BSNs are looked for outside cells; e-mail addresses and phone numbers are reported in
remarks only (and masked everywhere in the feedback copy).

A part over :data:`MAX_PARSED_BYTES`, or one that does not parse, is scanned as text instead
(its hits name the part, not the place).

Numbers stored in XML (a chart's cached values ``<c:v>``, a pivot cache's ``v="..."``
attributes) are copies of cells and are not scanned twice; a cell's own value is calamine's.
"""

from __future__ import annotations

import html
import re
import struct
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import PurePosixPath

from defusedxml import ElementTree

from xlmonitor.intake.workbookfile import Sheet, WorkbookFile, a1
from xlmonitor.privacy import (
    BSN,
    Hit,
    bsn_digits_in_text,
    find_bsns,
    find_bsns_in_text,
    mask_bsn,
    mask_text,
    may_hold_bsn,
)

#: Dutch names of document properties (Bestand > Info > Eigenschappen), by XML local name.
PROPERTY_NAMES = {
    "title": "Titel", "subject": "Onderwerp", "keywords": "Trefwoorden", "keyword": "Trefwoorden",
    "description": "Opmerkingen", "category": "Categorie", "creator": "Auteur",
    "initial-creator": "Auteur", "lastModifiedBy": "Laatst gewijzigd door",
    "contentStatus": "Status", "identifier": "Id", "Company": "Bedrijf", "Manager": "Manager",
    "HyperlinkBase": "Hyperlinkbasis",
}
_OTHER_PARTS_SKIPPED = re.compile(
    r"^(?:xl/(?:worksheets/|sharedStrings|styles|calcChain|workbook\.xml|comments|"
    r"threadedComments/|theme/|printerSettings/|media/|embeddings/|vbaProject)|docProps/|"
    r"\[Content_Types\]|.*\.rels$)")
_VALUE_ELEMENT = re.compile(rb"<((?:\w+:)?v)\b[^>]*>.*?</\1>", re.S)  # cached cell values
_TAG = re.compile(rb"<[^>]*>")
_HEADER_FOOTER = re.compile(rb"<(?:\w+:)?headerFooter\b.*?</(?:\w+:)?headerFooter>", re.S)
_VALIDATION = re.compile(rb"<((?:\w+:)?dataValidation)\b.*?(?:/>|</\1>)", re.S)
_SQREF = re.compile(r"\bsqref=\"([^\"]*)\"|<(?:\w+:)?sqref>([^<]*)<")
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
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_NUMBER = "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
_ODS_VALUE_TYPES = {"currency": "€ #,##0", "percentage": "0%", "date": "d-m-yyyy",
                    "time": "h:mm"}


#: A part larger than this is never parsed into a tree in this process (a hostile 100 MB part
#: would take gigabytes): it is scanned as text, and its hits say the part, not the place.
MAX_PARSED_BYTES = 16 * 2**20


def _tree(xml: bytes):
    if len(xml) > MAX_PARSED_BYTES:
        raise ValueError(f"part of {len(xml)} bytes: scanned as text")
    return ElementTree.fromstring(xml)


def find_personal_data(book: WorkbookFile, sheets: list[Sheet]) -> list[Hit]:
    """Every BSN in the workbook, masked: cells first (sheet by sheet), then the other
    places. Never raises for a damaged part: what cannot be parsed is scanned as text."""
    formats = _NumberFormats(book)
    hits = [hit for sheet in sheets
            for hit in find_bsns(sheet.name, sheet.grid, formats.of(sheet.name))]
    names = dict.fromkeys([*book.sheet_parts, *(sheet.name for sheet in sheets)])
    hits += [Hit(BSN, name, "", masked, place=f"de naam van blad '{name}'")
             for name in names for masked in find_bsns_in_text(name)]
    if book.is_ooxml:
        hits += _ooxml_places(book)
    elif book.archive is not None:
        hits += _ods_places(book, sheets)
    else:
        hits += _binary_places(book, sheets)
    return list(dict.fromkeys(hits))


# -- cell number formats (xlsx) ----------------------------------------------------------------

class _NumberFormats:
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
                        _tree(self.book.part("content.xml")),
                        _tree(self.book.part("styles.xml") or b"<x/>"))
            except Exception:  # a damaged part: formats unknown, nothing excused
                self._by_sheet = {}
        return self._by_sheet

    def _styles(self) -> list[str]:
        if self._by_style is None:
            self._by_style = []
            try:
                root = _tree(self.book.part("xl/styles.xml"))
            except Exception:  # no or a damaged styles part: formats unknown, nothing excused
                return self._by_style
            custom = {int(el.get("numFmtId", -1)): el.get("formatCode") or ""
                      for el in root.iter(f"{_MAIN}numFmt")}
            xfs = root.find(f"{_MAIN}cellXfs")
            for xf in (xfs if xfs is not None else []):
                number = int(xf.get("numFmtId") or 0)
                self._by_style.append(custom.get(number, _BUILTIN_FORMATS.get(number, "")))
        return self._by_style


# -- xlsx / xlsm -------------------------------------------------------------------------------

def _ooxml_places(book: WorkbookFile) -> list[Hit]:
    """Every place but the cells of an xlsx/xlsm. A part whose text holds no nine digits at all
    is not parsed (most parts of most files): the look costs microseconds, a parse a
    millisecond."""
    hits = _workbook_names(book)
    hits += _properties(book)
    for sheet, (member, _state) in book.sheet_parts.items():
        xml = book.part(member)  # its cells are calamine's; searched for two elements only
        hits += _headers_and_footers(sheet, xml)
        hits += _validations(sheet, xml)
    others = [name for name in book.part_names if not _OTHER_PARTS_SKIPPED.match(name) or
              name.startswith(("xl/comments", "xl/threadedComments/"))]
    flagged = [name for name in others if name.lower().endswith((".xml", ".vml")) and
               _may_hold(book.part(name))]
    if not flagged:
        return hits
    owners = {target: (sheet, kind) for sheet, (member, _) in book.sheet_parts.items()
              for kind, target in _related(book, member)}
    for name in flagged:
        sheet, kind = owners.get(name, ("", ""))
        if kind.endswith("/comments"):
            hits += _notes(book, sheet, name, "notitie")
        elif kind.endswith("/threadedComment"):
            hits += _notes(book, sheet, name, "opmerking")
        elif kind.endswith("/drawing"):
            hits += _part_text(book, name, f"een tekstvak, vorm of grafiek op blad '{sheet}'",
                               sheet)
        elif not kind.endswith("/vmlDrawing"):  # a note's shape: its text is the note's
            hits += _part_text(book, name, f"een onderdeel van het bestand ({name})", "")
    return hits


def _may_hold(xml: bytes) -> bool:
    """Nine digits in the part, attributes included (names, titles), or in its text with the
    tags taken out (a note's formatting runs join up)."""
    return may_hold_bsn(xml) or may_hold_bsn(_TAG.sub(b"", xml))


def _related(book: WorkbookFile, member: str) -> list[tuple[str, str]]:
    """(relationship type, zip member) of the parts ``member`` refers to."""
    path = PurePosixPath(member)
    try:
        rels = _tree(book.part(f"{path.parent}/_rels/{path.name}.rels"))
    except Exception:  # no relationships
        return []
    result = []
    for el in rels:
        target = el.get("Target") or ""
        if el.get("TargetMode") == "External" or not target:
            continue
        resolved = target.lstrip("/") if target.startswith("/") else \
            _normalise(f"{path.parent}/{target}")
        result.append((el.get("Type") or "", resolved))
    return result


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _workbook_names(book: WorkbookFile) -> list[Hit]:
    """Defined names (Formules > Namen beheren): the name and what it stands for."""
    xml = book.part("xl/workbook.xml")
    if not _may_hold(xml):
        return []
    try:
        root = _tree(xml)
    except Exception:  # too large or damaged: its text, attributes too
        return _raw_hits(xml, "xl/workbook.xml", set())
    hits = []
    for el in root.iter(f"{_MAIN}definedName"):
        name = el.get("name") or ""
        for masked in find_bsns_in_text(f"{name}\x00{el.text or ''}"):
            hits.append(Hit(BSN, "", "", masked,
                            place=f"de naam '{name}' (Formules > Namen beheren)"))
    return hits


def _properties(book: WorkbookFile) -> list[Hit]:
    """Document properties: core (title, subject, keywords, description, ...), the company and
    manager of app.xml, and custom properties (their names too)."""
    hits = []
    for member in ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml"):
        xml = book.part(member)
        if not _may_hold(xml):
            continue
        try:
            root = _tree(xml)
        except Exception:  # too large or damaged: its text, attributes too
            hits += _raw_hits(xml, member, set())
            continue
        for el in root:
            local = el.tag.rsplit("}", 1)[-1]
            if member.endswith("custom.xml"):
                hits += _property_hits(el.get("name") or "", "".join(el.itertext()), True)
            elif member.endswith("core.xml") or local in ("Company", "Manager",
                                                           "HyperlinkBase"):
                hits += _property_hits(PROPERTY_NAMES.get(local, local), el.text or "")
    return hits


def _property_hits(name: str, text: str, named_by_user: bool = False) -> list[Hit]:
    scanned = f"{name}\x00{text}" if named_by_user else text
    return [Hit(BSN, "", "", masked,
                place=f"de documenteigenschap {mask_text(name)} (Bestand > Info)")
            for masked in find_bsns_in_text(scanned)]


def _headers_and_footers(sheet: str, xml: bytes) -> list[Hit]:
    match = _HEADER_FOOTER.search(xml) if b"eaderFooter" in xml else None
    if not match or not _may_hold(match.group()):
        return []
    text = _text_of(match.group())
    return [Hit(BSN, sheet, "", masked,
                place=f"de kop- of voettekst van blad '{sheet}' (Pagina-instelling)")
            for masked in find_bsns_in_text(text)]


def _validations(sheet: str, xml: bytes) -> list[Hit]:
    """Data validation (Gegevens > Gegevensvalidatie): input and error messages, and the
    values of a list, in the sheet's own and in the x14 extension's validations."""
    if b"ataValidation" not in xml:
        return []
    hits = []
    for match in _VALIDATION.finditer(xml):
        element = html.unescape(match.group().decode("utf-8", "replace"))
        where = _SQREF.search(element)
        ranges = (where.group(1) or where.group(2) or "").strip() if where else ""
        texts = re.findall(r'\b(?:promptTitle|prompt|errorTitle|error)="([^"]*)"', element)
        texts.append(_text_of(match.group()))
        first = ranges.split()[0].split(":")[0] if ranges else ""
        for masked in find_bsns_in_text("\x00".join(texts)):
            hits.append(Hit(BSN, sheet, first, masked,
                            place=f"de gegevensvalidatie van {ranges or 'een cel'} op blad "
                                  f"'{sheet}'"))
    return hits


def _notes(book: WorkbookFile, sheet: str, member: str, what: str) -> list[Hit]:
    """Legacy notes (``notitie``) or threaded comments (``opmerking``) at their cells."""
    try:
        root = _tree(book.part(member))
    except Exception:
        return _part_text(book, member, f"een {what} op blad '{sheet}'", sheet)
    hits = []
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] in ("comment", "threadedComment") and el.get("ref"):
            cell = el.get("ref") or ""
            for masked in find_bsns_in_text("".join(el.itertext())):
                hits.append(Hit(BSN, sheet, cell, masked,
                                place=f"de {what} bij cel {cell} op blad '{sheet}'"))
    return hits


def _part_text(book: WorkbookFile, member: str, place: str, sheet: str) -> list[Hit]:
    """Any other part (text boxes, shapes, chart titles, VML): its text, tags taken out and
    cached cell values left out (they are copies of cells)."""
    return [Hit(BSN, sheet, "", masked, place=place)
            for masked in find_bsns_in_text(_text_of(book.part(member)))]


def _text_of(xml: bytes) -> str:
    text = _TAG.sub(b"\x00", _VALUE_ELEMENT.sub(b"\x00", xml))
    return html.unescape(text.decode("utf-8", "replace"))


# -- ods ---------------------------------------------------------------------------------------

def _ods_places(book: WorkbookFile, sheets: list[Sheet]) -> list[Hit]:
    """Every place but the cells of an ods: notes and shapes of each sheet, names and
    validations (content.xml), headers and footers (styles.xml), properties (meta.xml)."""
    hits = []
    for member, read in (("content.xml", _ods_content), ("styles.xml", _ods_headers_and_footers),
                         ("meta.xml", _ods_properties)):
        xml = book.part(member)
        if not _may_hold(xml):
            continue
        try:
            root = _tree(xml)
        except Exception:  # too large or damaged: its text minus what the cells hold
            hits += _raw_hits(xml, member, _cell_digits(sheets) if member == "content.xml"
                              else set())
            continue
        hits += read(root)
    return hits


def _ods_content(content) -> list[Hit]:
    hits = []
    for table in content.iter(f"{{{_TABLE}}}table"):
        hits += _ods_sheet(table)
    return hits + _ods_names_and_validations(content)


def _ods_headers_and_footers(styles) -> list[Hit]:
    """Page styles' headers and footers (not per sheet: a page style serves many)."""
    hits = []
    for el in styles.iter():
        if el.tag.rsplit("}", 1)[-1] in ("header", "footer", "header-left", "footer-left",
                                         "header-first", "footer-first"):
            hits += [Hit(BSN, "", "", masked, place="de kop- of voettekst (Opmaak > Pagina)")
                     for masked in find_bsns_in_text("\x00".join(el.itertext()))]
    return hits


def _ods_properties(meta) -> list[Hit]:
    """meta.xml: title, subject, keywords, description, ... and user-defined properties."""
    hits = []
    for el in meta.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if el is not meta and not len(el):
            user = el.get(f"{{{_NS_META}}}name")
            hits += _property_hits(user or PROPERTY_NAMES.get(local, local), el.text or "",
                                   bool(user))
    return hits


_NS_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"


def _ods_sheet(table) -> list[Hit]:
    """Notes (``office:annotation``) at their cells, and text in shapes on the sheet."""
    sheet = table.get(f"{{{_TABLE}}}name") or ""
    hits = []
    for row_number, column, cell in _ods_cells(table):
        for note in cell.iter(f"{{{_OFFICE}}}annotation"):
            text = "\x00".join("".join(p.itertext()) for p in note.iter(f"{{{_TEXT}}}p"))
            ref = a1(row_number, column)
            hits += [Hit(BSN, sheet, ref, masked, place=f"de notitie bij cel {ref} op blad "
                                                       f"'{sheet}'")
                     for masked in find_bsns_in_text(text)]
    for shape in table.iter():
        if shape.tag.startswith(f"{{{_DRAW}}}") and shape.tag.endswith(("}frame",
                                                                       "}custom-shape")):
            hits += [Hit(BSN, sheet, "", masked,
                         place=f"een tekstvak of vorm op blad '{sheet}'")
                     for masked in find_bsns_in_text("\x00".join(shape.itertext()))]
    return hits


def _ods_cells(table) -> Iterator[tuple[int, int, object]]:
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
        for row, column, cell in _ods_cells(table):
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


def _ods_names_and_validations(content) -> list[Hit]:
    hits = []
    for el in content.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if local in ("named-range", "named-expression"):
            name = el.get(f"{{{_TABLE}}}name") or ""
            text = "\x00".join([name, *(v for k, v in el.attrib.items() if
                                        k.endswith(("}expression", "}cell-range-address")))])
            hits += [Hit(BSN, "", "", masked,
                         place=f"de naam '{name}' (Blad > Benoemde bereiken)")
                     for masked in find_bsns_in_text(text)]
        elif local == "content-validation":  # the condition (a list), messages and titles
            text = "\x00".join(chain.from_iterable([*sub.attrib.values(), sub.text or ""]
                                                   for sub in el.iter()))
            hits += [Hit(BSN, "", "", masked, place="een gegevensvalidatie (Gegevens > "
                                                     "Geldigheid)")
                     for masked in find_bsns_in_text(text)]
    return hits


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


# -- xls (OLE): the raw bytes --------------------------------------------------------------------

def _cell_digits(sheets: list[Sheet]) -> set[str]:
    """The nine digits of every BSN in the cells (text and numbers) and sheet names: a scan of
    raw bytes leaves these out, they are reported at their cells."""
    known = set()
    for sheet in sheets:
        texts = [sheet.name]
        for row in sheet.grid:
            for value in row:
                if isinstance(value, str):
                    texts.append(value)
                elif isinstance(value, (int, float)) and not isinstance(value, bool) and \
                        10_000_000 <= value <= 999_999_999 and value == int(value):
                    texts.append(f"{int(value):09d}")
        known.update(bsn_digits_in_text("\x00".join(texts)))
    return known


def _raw_hits(xml: bytes, member: str, known: set[str]) -> list[Hit]:
    """A part too large (or too damaged) to parse: its text, attributes included, as is."""
    text = html.unescape(xml.decode("utf-8", "replace"))
    return [Hit(BSN, "", "", mask_bsn(digits), place=f"een onderdeel van het bestand ({member})")
            for digits in dict.fromkeys(bsn_digits_in_text(text)) if digits not in known]


def _binary_places(book: WorkbookFile, sheets: list[Sheet]) -> list[Hit]:
    """BSNs in an .xls outside its cells and sheet names: its text as 8-bit and UTF-16."""
    known = _cell_digits(sheets)
    data = book.data
    found = []
    for text in (data.decode("latin-1"), data.decode("utf-16-le", "replace"),
                 data[1:].decode("utf-16-le", "replace")):
        found += [digits for digits in bsn_digits_in_text(text) if digits not in known]
    place = ("elders in het bestand (een notitie, kop- of voettekst, naam of "
             "documenteigenschap)")
    return [Hit(BSN, "", "", mask_bsn(digits), place=place) for digits in dict.fromkeys(found)]
