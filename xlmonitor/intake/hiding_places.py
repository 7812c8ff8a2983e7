"""Every place in a workbook where a person can type text, scanned for BSNs.

:func:`find_personal_data` gives :mod:`xlmonitor.intake.read` the masked
:class:`~xlmonitor.privacy.Hit` of every BSN in the file: in the cells of every sheet (hidden
ones too; judged with the cell's number format (:mod:`xlmonitor.intake.number_formats`) and
header, :func:`xlmonitor.privacy.find_bsns`)
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
come from the BIFF records (olefile), its other text (notes,
headers, names, document properties) is reached by scanning the raw bytes, as 8-bit and as
UTF-16 text, for nine digits that pass the eleven-test and are not in a cell or sheet name; such
a hit cannot say where it is ("elders in het bestand"). Not covered: VBA code (a macro is
reported by ``macro-aanwezig``), embedded objects and images.

Only BSNs are looked for outside cells; e-mail addresses and phone numbers are reported in
remarks only (and masked everywhere in the feedback copy).

A part over :data:`~xlmonitor.intake.number_formats.MAX_PARSED_BYTES`, or one that does not
parse, is scanned as text instead (its hits name the part, not the place).

Numbers stored in XML (a chart's cached values ``<c:v>``, a pivot cache's ``v="..."``
attributes) are copies of cells and are not scanned twice; a cell's own value is calamine's.
"""

from __future__ import annotations

import html
import re
from itertools import chain
from pathlib import PurePosixPath

from xlmonitor.intake.number_formats import NumberFormats, ods_cells, parse_part
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
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
def find_personal_data(book: WorkbookFile, sheets: list[Sheet]) -> list[Hit]:
    """Every BSN in the workbook, masked: cells first (sheet by sheet), then the other
    places. Never raises for a damaged part: what cannot be parsed is scanned as text."""
    formats = NumberFormats(book)
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
        rels = parse_part(book.part(f"{path.parent}/_rels/{path.name}.rels"))
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
        root = parse_part(xml)
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
            root = parse_part(xml)
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
        root = parse_part(book.part(member))
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
            root = parse_part(xml)
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
    for row_number, column, cell in ods_cells(table):
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
