"""Intake: read any submission (standard template or a municipality's own layout) into rows
with provenance — file, sheet and the A1 cell of every value, and the file's sha256.

CONTRACT (other stages rely on it; see docs/architecture.md):

``read_submission(path, programme, layouts=None) -> Submission`` never raises for a bad file:
problems become ``Finding``s in ``submission.findings`` (codes ``bestand-onleesbaar``,
``bestand-leeg``, ``indeling-onbekend``, ``kolom-ontbreekt``, ``gemeente-onbekend``,
``gemeente-ontbreekt``, ``periode-ongeldig``, ``periode-ontbreekt``, ``project-onbekend``,
``formule-zonder-waarde``, ``macro-aanwezig`` ...). Values are returned *as read* (int, float,
str, None, datetime): type checks are :mod:`xlmonitor.validate`'s job.

How a file is read: python-calamine parses it (xlsx, xlsm, xls, ods; a formula gives its
cached value; macros are never run), every visible sheet's top rows are scored against each
layout spec (:mod:`xlmonitor.layouts`), and the best fit is read by its orientation.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath

import pandas as pd
from defusedxml import ElementTree
from openpyxl.utils.cell import get_column_letter
from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from xlmonitor.findings import Finding, finding
from xlmonitor.layouts import HeaderMatch, LayoutSpec, Sources, load_layouts, match_header
from xlmonitor.periods import parse_period, period_of
from xlmonitor.programme import INDICATOR_CODES, Programme, normalise_name

#: Columns of ``Submission.rows`` (one row per period × project line in the file).
ROW_COLUMNS = [
    "gemeente",        # canonical municipality name (programme), or None if unknown
    "periode",         # "YYYY-Qn", or None if it could not be read
    "projectcode",     # programme project code, or None when the name is unknown
    "project_tekst",   # the project as written in the file
    "aanmeldingen", "gestarte_trajecten", "afgeronde_scholing", "bemiddeld_naar_werk",
    "toelichting",     # remark text or None
    "blad",            # sheet name
    "cel_project",     # A1 cell of the project name
    "cel_aanmeldingen", "cel_gestarte_trajecten", "cel_afgeronde_scholing",
    "cel_bemiddeld_naar_werk", "cel_toelichting",  # A1 cell of each value ("" if none)
    "cel_periode",     # A1 cell the period was read from ("" when from file or sheet name)
]

METADATA_SHEET = "_xlmonitor"   # the template's veryHidden key/value sheet
MAX_FILE_BYTES = 50 * 2**20     # a quarterly workbook is kilobytes; refuse what is not
MAX_UNPACKED_BYTES = 400 * 2**20  # zip bombs: the sum of the declared uncompressed sizes

_VALUE_FIELDS = (*INDICATOR_CODES, "toelichting")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")  # OOXML saved with a password
_VBA_STREAM = "_VBA_PROJECT".encode("utf-16-le")            # .xls with macros
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_QUARTER = re.compile(r"^(?:q|k|kw|kwartaal)?\s*([1-4])\s*(?:e|de|ste)?\s*(?:kwartaal|kw|q)?$")
_DAY_FORMATS = ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%y")

REASON_OPEN = "het bestand kan niet worden geopend"
REASON_NOT_WORKBOOK = "het is geen Excel- of LibreOffice-werkmap"
REASON_DAMAGED = "het bestand is beschadigd of niet volledig opgeslagen"
REASON_CONTENT = "de inhoud kan niet worden gelezen"


@dataclass
class Submission:
    path: Path
    sha256: str = ""
    size: int = 0
    modified: datetime | None = None      # file modification time
    submitted_on: date | None = None      # date filled in by the municipality, if any
    layout: str | None = None             # name of the layout spec that matched
    sheet: str | None = None
    municipality: str | None = None       # canonical name
    municipality_cell: str = ""           # where the municipality was read ("" = file name)
    template_version: str | None = None
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ROW_COLUMNS))
    # Rows the file itself labels as totals ("Totaal"), same columns, for totaal-klopt-niet.
    totals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ROW_COLUMNS))
    findings: list[Finding] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def periods(self) -> list[str]:
        return sorted(p for p in self.rows["periode"].dropna().unique())


def read_submission(path: str | Path, programme: Programme,
                    layouts: list[LayoutSpec] | None = None) -> Submission:
    """Read one submission into rows with provenance; problems become findings."""
    path = Path(path)
    submission = Submission(path=path)
    try:
        data = path.read_bytes()
        submission.modified = datetime.fromtimestamp(path.stat().st_mtime)
    except OSError as exc:
        return _stop(submission, "bestand-onleesbaar", reason=REASON_OPEN, detail=repr(exc))
    submission.size = len(data)
    submission.sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        return _stop(submission, "bestand-leeg", detail="zero bytes")
    if len(data) > MAX_FILE_BYTES:
        return _stop(submission, "bestand-te-groot", reason=f"{len(data) // 2**20} MB",
                     detail=f"{len(data)} bytes > {MAX_FILE_BYTES}")
    readable, archive = _inspect_container(data, submission)
    if not readable:
        return submission
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets, metadata = _read_sheets(workbook)
    except PasswordError as exc:
        return _stop(submission, "bestand-versleuteld", detail=repr(exc))
    except Exception as exc:  # calamine raises its own errors, and ValueError/IO errors
        return _stop(submission, "bestand-onleesbaar", reason=REASON_CONTENT, detail=repr(exc))
    if not any(v not in ("", None) for sheet in sheets for row in sheet.grid for v in row):
        return _stop(submission, "bestand-leeg", detail="no filled cells on visible sheets")
    submission.template_version = metadata.get("sjabloonversie") or None
    specs = layouts if layouts is not None else load_layouts()
    try:
        _Reader(submission, programme, specs, sheets, metadata, archive).read()
    except Exception as exc:  # never let one odd file stop a consolidation run
        submission.findings.append(finding(
            "bestand-onleesbaar", file=path, reason=REASON_CONTENT,
            detail=f"intake failed: {exc!r}"))
    return submission


def _stop(submission: Submission, code: str, **params: object) -> Submission:
    submission.findings.append(finding(code, file=submission.path, **params))
    return submission


# -- the file as a container -------------------------------------------------------------

def _inspect_container(data: bytes, submission: Submission
                       ) -> tuple[bool, zipfile.ZipFile | None]:
    """Encryption, damage, size limits, macros and external links, before parsing cells.
    Returns (readable, the zip archive if it is one); the findings are already added."""
    path = submission.path
    if data.startswith(_OLE_MAGIC):
        # An OLE compound file is either a legacy .xls or an encrypted OOXML workbook
        # (Excel wraps a password-protected .xlsx in OLE with an EncryptedPackage stream).
        if _ENCRYPTED_STREAM in data:
            _stop(submission, "bestand-versleuteld", detail="OLE container with EncryptedPackage")
            return False, None
        if _VBA_STREAM in data:
            submission.findings.append(finding("macro-aanwezig", file=path,
                                               detail="_VBA_PROJECT stream in .xls"))
        return True, None
    if not data.startswith(b"PK"):
        _stop(submission, "bestand-onleesbaar", reason=REASON_NOT_WORKBOOK,
              detail=f"no zip or OLE signature: {data[:8]!r}")
        return False, None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        _stop(submission, "bestand-onleesbaar", reason=REASON_DAMAGED, detail=repr(exc))
        return False, None
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED_BYTES:
        _stop(submission, "limiet-overschreden",
              reason=f"uitgepakt is het bestand {unpacked // 2**20} MB groot",
              detail=f"declared uncompressed size {unpacked} bytes")
        return False, None
    names = [info.filename for info in infos]
    if any(n.lower().endswith("vbaproject.bin") or n.startswith("Basic/") for n in names):
        submission.findings.append(finding("macro-aanwezig", file=path, detail="VBA project"))
    links = _external_links(archive, names)
    if links:
        submission.findings.append(finding("externe-koppeling", file=path,
                                           value=", ".join(links), detail="xl/externalLinks"))
    return True, archive


def _external_links(archive: zipfile.ZipFile, names: list[str]) -> list[str]:
    """File names (never full paths: they can hold user names) of linked workbooks."""
    result = []
    for name in names:
        if name.startswith("xl/externalLinks/_rels/") and name.endswith(".rels"):
            text = archive.read(name).decode("utf-8", "replace")
            for target in re.findall(r'Target="([^"]+)"', text):
                result.append(PurePosixPath(target.replace("\\", "/")).name or target)
    return sorted(set(result))


def _formula_cells_without_value(archive: zipfile.ZipFile | None, sheet: str) -> set[str]:
    """A1 cells of ``sheet`` holding a formula but no cached result. Such a file was written
    by a program that does not calculate (openpyxl, a script) and never opened in Excel;
    calamine reads those cells as empty."""
    if archive is None:
        return set()
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return set()
    rel_id = next((el.get(f"{{{_R}}}id") for el in book.iter() if el.tag.endswith("}sheet")
                   and el.get("name") == sheet), None)
    target = next((el.get("Target") for el in rels if el.get("Id") == rel_id), None)
    if not target:
        return set()
    member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    try:
        xml = archive.read(member)
    except KeyError:
        return set()
    if b"<f" not in xml and b":f" not in xml:
        return set()
    cells = set()
    for match in _CELL_XML.finditer(xml):
        inner = match.group(2) or b""
        if _FORMULA_XML.search(inner) and not _VALUE_XML.search(inner):
            ref = re.search(rb'\br="([A-Z]+\d+)"', match.group(1))
            if ref:
                cells.add(ref.group(1).decode())
    return cells


_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL_XML = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_FORMULA_XML = re.compile(rb"<(?:\w+:)?f\b")
_VALUE_XML = re.compile(rb"<(?:\w+:)?v>")


@dataclass
class _Sheet:
    name: str
    grid: list[list[object]]
    merged: dict[tuple[int, int], int]   # top-left (row, column) -> last column of the merge


def _read_sheets(workbook: CalamineWorkbook) -> tuple[list[_Sheet], dict[str, str]]:
    """Visible worksheets as full grids (row i, column j is A1 cell (j+1, i+1): with
    ``skip_empty_area=False`` calamine does not trim leading empty rows and columns), and the
    template's metadata sheet as a dict."""
    sheets: list[_Sheet] = []
    metadata: dict[str, str] = {}
    for meta in workbook.sheets_metadata:
        if meta.name == METADATA_SHEET:
            rows = workbook.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            for row in rows:
                if len(row) >= 2 and str(row[0]).strip():
                    metadata[str(row[0]).strip().lower()] = _text(row[1])
            continue
        if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
            continue
        sheet = workbook.get_sheet_by_name(meta.name)
        merged = {start: end[1] for start, end in (sheet.merged_cell_ranges or [])}
        sheets.append(_Sheet(meta.name, sheet.to_python(skip_empty_area=False), merged))
    return sheets, metadata


# -- values ------------------------------------------------------------------------------

def a1(row: int, column: int) -> str:
    """0-based grid position → A1 cell name."""
    return f"{get_column_letter(column + 1)}{row + 1}"


def _clean(value: object) -> object:
    """A cell value as intake returns it: blank → None, text stripped (a number typed as
    text stays text: validate reports it), whole floats → int (Excel stores every number as
    a float; 12.0 is the count 12)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text(value: object) -> str:
    cleaned = _clean(value)
    return "" if cleaned is None else str(cleaned)


def _windows(text: str) -> list[str]:
    """Runs of 3, 2 and 1 words of a title, sheet or file name (``Hilversum Q3 2021
    rapportage`` → ..., ``Q3 2021``, ...) to find a period or municipality inside it."""
    words = [w for w in re.split(r"[\s_]+", text.strip()) if w]
    return [" ".join(words[i:i + n]) for n in (3, 2, 1) for i in range(len(words) - n + 1)]


def period_in_text(value: object) -> str | None:
    """The quarter a cell, title, sheet name or file name mentions, if any."""
    if isinstance(value, date):  # a datetime is a date too
        return period_of(value)
    text = _text(value)
    if not text:
        return None
    found = parse_period(text) or parse_period(text.partition(":")[2])
    return found or next((p for w in _windows(text) if (p := parse_period(w))), None)


def quarter_number(text: object) -> int | None:
    """``Q3``, ``3``, ``3e kwartaal``, ``kwartaal 3`` → 3."""
    match = _QUARTER.match(re.sub(r"\s+", " ", _text(text).lower()))
    return int(match.group(1)) if match else None


def _is_quarter_label(text: str) -> bool:
    return parse_period(text) is not None or quarter_number(text) is not None


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in _DAY_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


# -- reading a sheet by its layout -------------------------------------------------------

@dataclass
class _Found:
    """A value found for the municipality, the period or a year, and where."""

    value: str | None          # canonical value, None if the text did not resolve
    text: str = ""             # as written
    cell: str = ""             # A1 cell on the data sheet ("" for names, metadata)


class _Reader:
    def __init__(self, submission: Submission, programme: Programme,
                 specs: list[LayoutSpec], sheets: list[_Sheet],
                 metadata: dict[str, str], archive: zipfile.ZipFile | None) -> None:
        self.submission = submission
        self.programme = programme
        self.specs = specs
        self.sheets = sheets
        self.metadata = metadata
        self.archive = archive
        self.file = submission.path
        self.findings = submission.findings
        self.rows: list[dict] = []
        self.totals: list[dict] = []
        self._reported: set[tuple[str, str]] = set()

    # -- choosing the layout ------------------------------------------------------------
    def read(self) -> None:
        matches = [match_header(spec, sheet.name, index, sheet.grid, _is_quarter_label)
                   for spec in self.specs for index, sheet in enumerate(self.sheets)]
        best = max(matches, key=HeaderMatch.rank)
        self._use_sheet(best)
        if not best.fits:
            self._unknown_layout(best)
            return
        self.match, self.spec = best, best.spec
        self.submission.layout, self.submission.sheet = self.spec.name, self.sheet
        header_cell = self._header_cell()
        for missing in best.missing_required:
            self.findings.append(finding(
                "kolom-ontbreekt", file=self.file, sheet=self.sheet, cell=header_cell,
                column=self.spec.header_name(missing), detail=f"layout {self.spec.name}"))
        self.file_municipality = self._find_municipality()
        self.submission.submitted_on = self._find_submitted_on()
        reader = {"wide": self._read_wide, "quarter-groups": self._read_groups,
                  "long": self._read_long}[self.spec.orientation]
        reader()
        self._finish()

    def _unknown_layout(self, best: HeaderMatch) -> None:
        missing = []
        for name in best.missing_required if best.row >= 0 else best.spec.required:
            missing.append("kwartaalkoppen (Q1 … Q4) boven de kolomkoppen"
                           if name == "kwartaalkoppen" else f"'{best.spec.header_name(name)}'")
        self.findings.append(finding(
            "indeling-onbekend", file=self.file, sheet=best.sheet,
            cell=self._header_cell() if best.row >= 0 else "", layout=best.spec.title,
            missing=", ".join(missing),
            detail=f"closest layout {best.spec.name}, sheet {best.sheet!r}, row {best.row + 1}"))

    def _use_sheet(self, match: HeaderMatch) -> None:
        sheet = self.sheets[match.sheet_index]
        self.sheet, self.grid, self.merged = sheet.name, sheet.grid, sheet.merged
        self.header = match.row

    def _header_cell(self) -> str:
        row = self.grid[self.header]
        column = next((c for c, v in enumerate(row) if _clean(v) is not None), 0)
        return a1(self.header, column)

    # -- cells --------------------------------------------------------------------------
    def value(self, r: int, c: int | None) -> object:
        if c is None or r >= len(self.grid) or c >= len(self.grid[r]):
            return None
        return _clean(self.grid[r][c])

    def column(self, field_name: str) -> int | None:
        columns = self.match.columns.get(field_name)
        return columns[0] if columns else None

    def _data_rows(self) -> range:
        return range(self.header + 1, len(self.grid))

    def _above_header(self):
        """(row, column, value) of every filled cell above the header row."""
        for r in range(self.header):
            for c, raw in enumerate(self.grid[r]):
                value = _clean(raw)
                if value is not None:
                    yield r, c, value

    def _label(self, sources: Sources) -> tuple[object, str, str] | None:
        """The value next to a label cell (``Gemeente:`` | ``Huizen``) or after the colon in
        the label cell itself (``Periode: 3e kwartaal 2021``): (value, value cell, label
        cell). The value must be in the cell right after the label (or after the label's
        merged range), so a hint further right is never taken for an empty input cell."""
        keys = sources.label_keys
        for r, c, value in self._above_header():
            if not isinstance(value, str):
                continue
            head, colon, tail = value.partition(":")
            if normalise_name(head) not in keys:
                continue
            if colon and tail.strip():
                return tail.strip(), a1(r, c), a1(r, c)
            after = self.merged.get((r, c), c) + 1
            return self.value(r, after), a1(r, after), a1(r, c)
        return None

    def _cell(self, name: str) -> tuple[object, str]:
        match = re.fullmatch(r"([A-Z]+)(\d+)", name.split(":", 1)[1].strip().upper())
        if not match:
            return None, ""
        letters, number = match.groups()
        column = 0
        for letter in letters:
            column = column * 26 + ord(letter) - 64
        return self.value(int(number) - 1, column - 1), name.split(":", 1)[1].strip().upper()

    # -- municipality -------------------------------------------------------------------
    def _municipality_in_text(self, text: object) -> str | None:
        whole = self.programme.municipality(_text(text))
        return whole or next((m for w in _windows(_text(text))
                              if (m := self.programme.municipality(w))), None)

    def _find_municipality(self) -> _Found | None:
        """The file's municipality from the spec's sources, first hit wins; an explicit value
        that is not a municipality (label, cell, column) is kept to report if nothing else
        resolves. Row-level ``column`` values are read per row as well."""
        failed: _Found | None = None
        for source in self.spec.municipality.order:
            found = self._municipality_from(source)
            if found is None:
                continue
            if found.value:
                return found
            failed = failed or found
        if failed is not None:
            self._unknown_municipality(failed.text, failed.cell)
            return failed
        first = self.spec.municipality.order[0] if self.spec.municipality.order else ""
        self.findings.append(finding(
            "gemeente-ontbreekt", file=self.file, sheet=self.sheet, where=self._where(first),
            detail=f"no municipality from {self.spec.municipality.order}"))
        return None

    def _municipality_from(self, source: str) -> _Found | None:
        resolve = self.programme.municipality
        if source == "label":
            hit = self._label(self.spec.municipality)
            if hit and hit[0] is not None:
                return _Found(resolve(_text(hit[0])), _text(hit[0]), hit[1])
        elif source == "title":
            titles = [(r, c, v) for r, c, v in self._above_header() if isinstance(v, str)]
            for r, c, value in titles:
                if name := self._municipality_in_text(value):
                    return _Found(name, value, a1(r, c))
            for r, c, value in titles:  # "Gemeente Hilverson": a title, misspelt
                if re.match(r"(?i)gemeente\s+\w", value) and ":" not in value:
                    return _Found(None, value, a1(r, c))
        elif source.startswith("cell:"):
            value, cell = self._cell(source)
            if value is not None:
                return _Found(resolve(_text(value)), _text(value), cell)
        elif source == "metadata":
            text = self.metadata.get("gemeente") or self.metadata.get("gemeente_code")
            if text:
                return _Found(resolve(text), text)
        elif source == "column":
            c = self.column("gemeente")
            for r in self._data_rows():
                if (value := self.value(r, c)) is not None:
                    return _Found(resolve(_text(value)), _text(value), a1(r, c))
        elif source == "sheet-name":
            if name := self._municipality_in_text(self.sheet):
                return _Found(name, self.sheet)
        elif source == "filename":
            if name := self._municipality_in_text(self.file.stem):
                return _Found(name, self.file.name)
        return None

    def _unknown_municipality(self, text: str, cell: str) -> None:
        if ("gemeente", text) in self._reported:
            return
        self._reported.add(("gemeente", text))
        self.findings.append(finding(
            "gemeente-onbekend", file=self.file, sheet=self.sheet if cell else "", cell=cell,
            value=text, expected=", ".join(self.programme.municipalities.index),
            detail="not a programme municipality"))

    def _row_municipality(self, r: int) -> str | None:
        c = self.column("gemeente")
        if "column" in self.spec.municipality.order and c is not None:
            value = self.value(r, c)
            if value is not None:
                name = self.programme.municipality(_text(value))
                if name is None:
                    self._unknown_municipality(_text(value), a1(r, c))
                return name
        return self.file_municipality.value if self.file_municipality else None

    # -- period -------------------------------------------------------------------------
    def _file_period(self) -> _Found | None:
        """The period for the whole sheet (layouts with one quarter per file)."""
        if hasattr(self, "_file_period_found"):
            return self._file_period_found
        failed: _Found | None = None
        result: _Found | None = None
        for source in self.spec.period.order:
            found = self._period_from(source)
            if found is None:
                continue
            if found.value:
                result = found
                break
            failed = failed or found
        if result is None and failed is not None:
            self._invalid_period(failed.text, failed.cell)
            result = failed
        elif result is None:
            order = [s for s in self.spec.period.order if s not in ("columns", "groups")]
            self.findings.append(finding(
                "periode-ontbreekt", file=self.file, sheet=self.sheet,
                where=self._where(order[0] if order else ""),
                detail=f"no period from {self.spec.period.order}"))
        self._file_period_found = result
        return result

    def _period_from(self, source: str) -> _Found | None:
        if source == "label":
            hit = self._label(self.spec.period)
            if hit and hit[0] is not None:
                return _Found(period_in_text(hit[0]), _text(hit[0]), hit[1])
        elif source == "title":
            for r, c, value in self._above_header():
                if isinstance(value, str) and (period := period_in_text(value)):
                    return _Found(period, value, a1(r, c))
        elif source.startswith("cell:"):
            value, cell = self._cell(source)
            if value is not None:
                return _Found(period_in_text(value), _text(value), cell)
        elif source == "metadata":
            if text := self.metadata.get("periode"):
                return _Found(parse_period(text), text)
        elif source == "sheet-name":
            if period := period_in_text(self.sheet):
                return _Found(period, self.sheet)
        elif source == "filename":
            if period := period_in_text(self.file.stem):
                return _Found(period, self.file.name)
        return None  # "columns" and "groups" are read per row

    def _find_year(self) -> tuple[int | None, str]:
        """The year for bare quarter labels (``Q3``): ``period.year_from`` sources."""
        for source in self.spec.period.year_from:
            texts: list[tuple[object, str]] = []
            if source == "title":
                texts = [(v, a1(r, c)) for r, c, v in self._above_header()]
            elif source.startswith("cell:"):
                texts = [self._cell(source)]
            elif source == "sheet-name":
                texts = [(self.sheet, "")]
            elif source == "filename":
                texts = [(self.file.stem, "")]
            for text, cell in texts:
                if isinstance(text, int) and 1900 <= text < 2100:
                    return text, cell
                if match := _YEAR.search(_text(text)):
                    return int(match.group(1)), cell
        return None, ""

    def _invalid_period(self, text: str, cell: str) -> None:
        if ("periode", cell or text) in self._reported:
            return
        self._reported.add(("periode", cell or text))
        self.findings.append(finding(
            "periode-ongeldig", file=self.file, sheet=self.sheet if cell else "", cell=cell,
            value=text, detail="unreadable period"))

    def _row_period(self, r: int) -> tuple[str | None, str]:
        """Period of data row ``r``: its own Periode or Jaar + Kwartaal columns when the
        layout reads periods per row, else the sheet's period."""
        if "columns" in self.spec.period.order:
            c_period, c_year, c_quarter = (self.column("periode"), self.column("jaar"),
                                           self.column("kwartaal"))
            text, cell = self.value(r, c_period), a1(r, c_period) if c_period is not None else ""
            quarter = self.value(r, c_quarter)
            if text is None and quarter is not None:
                year = self.value(r, c_year)
                cell = a1(r, c_quarter)
                period = period_in_text(quarter)
                if period is None and quarter_number(quarter):
                    if year is None:
                        year = self._find_year()[0]
                    if year is not None and _YEAR.fullmatch(_text(year)):
                        period = f"{_text(year)}-Q{quarter_number(quarter)}"
                text = f"{_text(year)} {_text(quarter)}".strip()
                if period is None:
                    self._invalid_period(text, cell)
                return period, cell
            if text is not None:
                period = period_in_text(text)
                if period is None:
                    self._invalid_period(_text(text), cell)
                return period, cell
        found = self._file_period()
        return (found.value, found.cell) if found else (None, "")

    def _where(self, source: str) -> str:
        """Dutch hint where the missing value belongs, for *-ontbreekt messages."""
        if source.startswith("cell:"):
            return f" in cel {source[5:]} (blad {self.sheet})"
        if source == "label":
            return f" bovenaan blad {self.sheet}"
        if source in ("column", "columns"):
            return " in de kolommen van de tabel"
        if source == "filename":
            return " in de bestandsnaam"
        return ""

    # -- fill-in date -------------------------------------------------------------------
    def _find_submitted_on(self) -> date | None:
        for source in self.spec.submitted_on.order:
            value: object = None
            if source == "label":
                hit = self._label(self.spec.submitted_on)
                value = hit[0] if hit else None
            elif source.startswith("cell:"):
                value = self._cell(source)[0]
            elif source == "metadata":
                value = self.metadata.get("ingevuld_op")
            if (day := _as_date(value)) is not None:
                return day
        return None

    # -- rows ---------------------------------------------------------------------------
    def _new_row(self, r: int, municipality: str | None, period: tuple[str | None, str],
                 code_column: int | None, name_column: int | None) -> dict:
        row = dict.fromkeys(ROW_COLUMNS)
        row.update({f"cel_{f}": "" for f in _VALUE_FIELDS})
        code_text = self.value(r, code_column)
        name_text = self.value(r, name_column)
        row.update(gemeente=municipality, periode=period[0], cel_periode=period[1],
                   blad=self.sheet,
                   project_tekst=_text(name_text if name_text is not None else code_text) or None,
                   cel_project=a1(r, name_column if name_text is not None or code_column is None
                                  else code_column))
        row["_code"], row["_r"] = _text(code_text), r
        return row

    def _set(self, row: dict, field_name: str, r: int, c: int | None) -> None:
        if c is None:
            return
        value = self.value(r, c)
        if value is None and self.spec.blank_cell == "zero" and field_name != "toelichting":
            value = 0
        row[field_name] = value
        row[f"cel_{field_name}"] = a1(r, c)

    def _is_total(self, row: dict) -> bool:
        key = normalise_name(row["project_tekst"] or "")
        return bool(key) and any(key.startswith(t) for t in self.spec.total_keys) and \
            self.programme.project_code(row["project_tekst"]) is None

    def _keep(self, row: dict, fields: tuple[str, ...] = INDICATOR_CODES) -> None:
        """File a row under totals, rows or nowhere (a blank line or a footnote)."""
        if self._is_total(row):
            self.totals.append(row)
            return
        has_values = any(row[f] is not None for f in fields)
        known = self.programme.project_code(row["_code"]) or \
            self.programme.project_code(row["project_tekst"])
        if known or has_values:
            self.rows.append(row)

    def _read_wide(self) -> None:
        code_column, name_column = self.column("projectcode"), self.column("project")
        for r in self._data_rows():
            row = self._new_row(r, self._row_municipality(r), (None, ""), code_column,
                                name_column)
            for field_name in _VALUE_FIELDS:
                self._set(row, field_name, r, self.column(field_name))
            if row["project_tekst"] is None and all(row[f] is None for f in INDICATOR_CODES):
                continue
            row["periode"], row["cel_periode"] = self._row_period(r)
            self._keep(row)

    def _read_groups(self) -> None:
        """Quarter groups (Huizen): the same indicator columns repeated under a quarter
        label. A label cell merged over its group is read at its first column only, so a
        label covers every column up to the next label."""
        label_row = self.header + self.spec.group_label_row
        starts = [c for c, _ in self.match.groups]
        ends = [*starts[1:], max(len(self.grid[self.header]), starts[-1] + 1)]
        row_fields = {f: [c for c in cols if c < starts[0]]
                      for f, cols in self.match.columns.items()}
        code_column = (row_fields.get("projectcode") or [None])[0]
        name_column = (row_fields.get("project") or [None])[0]
        data_rows = list(self._data_rows())
        year, _ = self._find_year()
        for (start, label), end in zip(self.match.groups, ends, strict=True):
            columns = {f: next((c for c in cols if start <= c < end), None)
                       for f, cols in self.match.columns.items() if f in _VALUE_FIELDS}
            period = parse_period(label)
            if period is None and year is not None:
                period = f"{year}-Q{quarter_number(label)}"
            cell = a1(label_row, start)
            if period is None:
                self.findings.append(finding(
                    "periode-ontbreekt", file=self.file, sheet=self.sheet,
                    where=f" (het jaar bij '{label}' in cel {cell}, of in de bladnaam)",
                    detail="quarter label without a year"))
            group_rows = []
            for r in data_rows:
                row = self._new_row(r, self._row_municipality(r), (period, cell), code_column,
                                    name_column)
                for field_name, c in columns.items():
                    self._set(row, field_name, r, c)
                if row["project_tekst"] is None and all(
                        row[f] is None for f in INDICATOR_CODES):
                    continue
                group_rows.append(row)
            reported = any(row[f] is not None for row in group_rows if not self._is_total(row)
                           for f in INDICATOR_CODES)
            if not reported and self.spec.blank_group == "not-reported":
                continue  # a quarter not yet reported: no rows, no warnings
            for row in group_rows:
                self._keep(row)

    def _read_long(self) -> None:
        """One line per project × indicator × quarter (Gooise Meren's export); lines of the
        same municipality, quarter and project make one row. A second line for an indicator
        already seen starts a new row, so validate reports the double."""
        words = self.spec.indicator_words
        c_project, c_code = self.column("project"), self.column("projectcode")
        c_indicator, c_amount = self.column("indicator"), self.column("aantal")
        c_remark = self.column("toelichting")
        open_rows: dict[tuple, dict] = {}
        for r in self._data_rows():
            project = self.value(r, c_project) if c_project is not None else None
            word, amount = self.value(r, c_indicator), self.value(r, c_amount)
            if project is None and word is None and amount is None:
                continue
            indicator = words.get(normalise_name(_text(word)))
            if indicator is None:
                self.findings.append(finding(
                    "indicator-onbekend", file=self.file, sheet=self.sheet,
                    cell=a1(r, c_indicator), value=_text(word),
                    expected=", ".join(f"'{w[0]}'" for w in self.spec.indicators.values()),
                    detail="indicator word not in the layout's [indicators]"))
                continue
            municipality = self._row_municipality(r)
            period = self._row_period(r)
            key = (municipality, period[0], normalise_name(_text(project)))
            row = open_rows.get(key)
            if row is None or row[indicator] is not None or row[f"cel_{indicator}"]:
                row = self._new_row(r, municipality, period, c_code, c_project)
                open_rows[key] = row
                self._keep_long(row)
            self._set(row, indicator, r, c_amount)
            if c_remark is not None and row["toelichting"] is None:
                self._set(row, "toelichting", r, c_remark)

    def _keep_long(self, row: dict) -> None:
        (self.totals if self._is_total(row) else self.rows).append(row)

    # -- finishing ----------------------------------------------------------------------
    def _finish(self) -> None:
        for row in self.rows:
            code = self.programme.project_code(row["_code"]) or \
                self.programme.project_code(row["project_tekst"])
            row["projectcode"] = code
            if code is None:
                text = row["project_tekst"] or "(leeg)"
                suggestion = self.programme.suggest_project(text)
                self.findings.append(finding(
                    "project-onbekend", file=self.file, sheet=self.sheet,
                    cell=row["cel_project"], value=text,
                    suggestion=f" Bedoelde u '{suggestion}'?" if suggestion else "",
                    detail="no programme project, code or alias"))
        read_cells = {row[f"cel_{f}"] for row in self.rows + self.totals for f in _VALUE_FIELDS}
        for cell in sorted(_formula_cells_without_value(self.archive, self.sheet) & read_cells,
                           key=_cell_order):
            self.findings.append(finding("formule-zonder-waarde", file=self.file,
                                         sheet=self.sheet, cell=cell,
                                         detail="formula without cached value"))
        self.submission.rows = _frame(self.rows)
        self.submission.totals = _frame(self.totals)
        names = [row["gemeente"] for row in self.rows if row["gemeente"]]
        found = self.file_municipality
        c = self.column("gemeente")
        if names and c is not None and self.value(self.rows[0]["_r"], c) is not None:
            # a per-row Gemeente column: the submission's municipality is its usual value
            self.submission.municipality = Counter(names).most_common(1)[0][0]
            self.submission.municipality_cell = next(
                a1(row["_r"], c) for row in self.rows
                if row["gemeente"] == self.submission.municipality)
        elif found is not None:
            self.submission.municipality = found.value
            self.submission.municipality_cell = found.cell


def _frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=ROW_COLUMNS)
    return pd.DataFrame(rows, columns=ROW_COLUMNS, dtype=object)


def _cell_order(cell: str) -> tuple[int, str]:
    letters, number = re.match(r"([A-Z]+)(\d+)", cell).groups()
    return int(number), letters.rjust(3)
