"""Intake: read any submission (standard template or a municipality's own layout) into rows
with provenance — file, sheet and the A1 cell of every value, and the file's sha256.

CONTRACT (other stages rely on it; see docs/architecture.md):

``read_submission(path, programme, layouts=None) -> Submission`` never raises for a bad file:
problems become ``Finding``s in ``submission.findings`` (codes ``bestand-onleesbaar``,
``bestand-leeg``, ``bestand-versleuteld``, ``bestand-te-groot``, ``limiet-overschreden``,
``indeling-onbekend``, ``kolom-ontbreekt``, ``gemeente-onbekend``, ``gemeente-ontbreekt``,
``periode-ongeldig``, ``periode-ontbreekt``, ``project-onbekend``, ``indicator-onbekend``,
``formule-zonder-waarde``, ``macro-aanwezig``, ``externe-koppeling``). Values are returned
*as read* (int, float, str, None, datetime; whole floats as int; text stripped, blank =
None): type checks are :mod:`xlmonitor.validate`'s job. Rows labelled as totals go to
``submission.totals``; a project name the programme does not know keeps its row with
``projectcode`` None.

How a file is read: python-calamine parses it (xlsx, xlsm, xls, ods; a formula gives its
cached value; macros are never run), every visible sheet's top rows are scored against each
layout spec (:mod:`xlmonitor.layouts`), and the best fit is read by its orientation.
"""

from __future__ import annotations

import faulthandler
import hashlib
import io
import multiprocessing
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath

import pandas as pd
from defusedxml import ElementTree
from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from xlmonitor.findings import Finding, finding
from xlmonitor.layouts import (
    HeaderMatch,
    LayoutSpec,
    Sources,
    header_key,
    load_layouts,
    match_header,
)
from xlmonitor.periods import parse_period, period_of
from xlmonitor.programme import INDICATOR_CODES, Programme

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
MAX_GRID_CELLS = 5_000_000      # a read sheet, from A1 to its last cell (about 200 MB)
CHILD_TIMEOUT_SECONDS = 60      # reading one .xls/.ods in its own process

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
        stat = path.stat()
        submission.size = stat.st_size
        submission.modified = datetime.fromtimestamp(stat.st_mtime)
        if stat.st_size > MAX_FILE_BYTES:
            return _stop(submission, "bestand-te-groot", reason=f"{stat.st_size // 2**20} MB",
                         detail=f"{stat.st_size} bytes > {MAX_FILE_BYTES}")
        data = path.read_bytes()  # once: the hash and the cells come from the same bytes
    except OSError as exc:
        return _stop(submission, "bestand-onleesbaar", reason=REASON_OPEN, detail=repr(exc))
    submission.size = len(data)
    submission.sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        return _stop(submission, "bestand-leeg", detail="zero bytes")
    readable, archive = _inspect_container(data, submission)
    if not readable:
        return submission
    try:
        # xlsx/xlsm are checked above (_oversized_sheet); .xls and .ods are read in a child
        # process, where calamine may abort without taking the run down (_parse_in_child)
        ooxml = archive is not None and "xl/workbook.xml" in archive.namelist()
        sheets, metadata = _parse(data) if ooxml else _parse_in_child(data)
    except PasswordError as exc:
        return _stop(submission, "bestand-versleuteld", detail=repr(exc))
    except _GridTooLarge as exc:
        return _too_large(submission, *exc.args)
    except BaseException as exc:  # noqa: B036 - see _is_reader_failure
        if not _is_reader_failure(exc):
            raise
        return _stop(submission, "bestand-onleesbaar", reason=REASON_CONTENT, detail=repr(exc))
    if not any(v not in ("", None) for sheet in sheets for row in sheet.grid for v in row):
        return _stop(submission, "bestand-leeg", detail="no filled cells on visible sheets")
    submission.template_version = metadata.get("sjabloonversie") or None
    specs = layouts if layouts is not None else load_layouts()
    try:
        _Reader(submission, programme, specs, sheets, metadata, archive).read()
    except BaseException as exc:  # noqa: B036 - never let one odd file stop a run
        if not _is_reader_failure(exc):
            raise
        submission.findings.append(finding(
            "bestand-onleesbaar", file=path, reason=REASON_CONTENT,
            detail=f"intake failed: {exc!r}"))
    return submission


def _is_reader_failure(exc: BaseException) -> bool:
    """calamine raises CalamineError (and ValueError, OSError) for files it cannot parse, but
    on some damaged files its Rust code panics: pyo3 turns that into ``PanicException``,
    which derives from BaseException, not Exception, so ``except Exception`` misses it."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


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
    except Exception as exc:  # BadZipFile, OSError, NotImplementedError("zip file version")
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
    if oversized := _oversized_sheet(archive):
        _too_large(submission, *oversized)
        return False, None
    links = _external_links(archive, names)
    if links:
        submission.findings.append(finding("externe-koppeling", file=path,
                                           value=", ".join(links), detail="xl/externalLinks"))
    return True, archive


def _too_large(submission: Submission, sheet: str, cell: str) -> Submission:
    return _stop(submission, "limiet-overschreden",
                 reason=f"het blad '{sheet}' loopt door tot cel {cell}; verwijder de lege "
                        "rijen en kolommen onder en naast de tabel",
                 detail=f"grid up to {cell} > {MAX_GRID_CELLS} cells")


class _GridTooLarge(Exception):
    """args: (sheet, last cell)."""


def _external_links(archive: zipfile.ZipFile, names: list[str]) -> list[str]:
    """File names (never full paths: they can hold user names) of linked workbooks."""
    result = []
    for name in names:
        if name.startswith("xl/externalLinks/_rels/") and name.endswith(".rels"):
            try:
                text = archive.read(name).decode("utf-8", "replace")
            except Exception:  # a damaged member: calamine will report the file
                continue
            for target in re.findall(r'Target="([^"]+)"', text):
                result.append(PurePosixPath(target.replace("\\", "/")).name or target)
    return sorted(set(result))


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Sheet name → (zip member, state) of an xlsx/xlsm, from workbook.xml and its rels."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # no workbook part, or a damaged one: calamine will tell
        return {}
    targets = {el.get("Id"): el.get("Target") or "" for el in rels}
    parts = {}
    for el in book.iter():
        if el.tag.endswith("}sheet") and (target := targets.get(el.get(f"{{{_R}}}id"))):
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            parts[el.get("name") or ""] = (member, el.get("state") or "visible")
    return parts


def _sheet_xml(archive: zipfile.ZipFile | None, sheet: str) -> bytes:
    member = _sheet_parts(archive).get(sheet, ("", ""))[0] if archive is not None else ""
    try:
        return archive.read(member) if member else b""  # type: ignore[union-attr]
    except Exception:  # missing or damaged member: nothing to check
        return b""


def _oversized_sheet(archive: zipfile.ZipFile) -> tuple[str, str] | None:
    """(sheet, last cell) of a visible sheet whose grid would exceed MAX_GRID_CELLS. One
    value typed in XFD1048576 makes a 5 KB file a grid of 17 billion cells, and calamine
    aborts the process when that allocation fails (checked with calamine 0.37)."""
    for name, (member, state) in _sheet_parts(archive).items():
        if state != "visible" and name != METADATA_SHEET:
            continue
        try:
            refs = _CELL_REF.findall(archive.read(member))
        except Exception:
            continue
        rows = max((int(number) for _, number in refs), default=0)
        columns = max((_column_number(letters) for letters, _ in refs if letters), default=0)
        if rows * columns > MAX_GRID_CELLS:
            return name, a1(rows - 1, columns - 1)
    return None


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _formula_cells_without_value(archive: zipfile.ZipFile | None, sheet: str) -> set[str]:
    """A1 cells of ``sheet`` holding a formula but no cached result. Such a file was written
    by a program that does not calculate (openpyxl, a script) and never opened in Excel;
    calamine reads those cells as empty."""
    xml = _sheet_xml(archive, sheet)
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
_CELL_REF = re.compile(rb'<(?:\w+:)?(?:c|row)\b[^>]*?\br="([A-Z]{0,3})(\d+)"')


def _parse(data: bytes) -> tuple[list[_Sheet], dict[str, str]]:
    return _read_sheets(CalamineWorkbook.from_filelike(io.BytesIO(data)))


class _ChildFailed(Exception):
    """The separate process reading an .xls or .ods died or timed out."""


def _parse_in_child(data: bytes) -> tuple[list[_Sheet], dict[str, str]]:
    """Parse a workbook in a child process. On damaged .xls files (and on any sheet whose
    last cell is far away) calamine can ask for terabytes of memory, and Rust aborts the
    whole process on a failed allocation — nothing Python can catch. Only the child dies
    then; the run goes on. xlsx/xlsm are read in-process: fuzzing showed no aborts and
    their extent is checked beforehand (:func:`_oversized_sheet`)."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_parse_for_parent, args=(data, sender), daemon=True)
    child.start()
    sender.close()
    try:
        result = receiver.recv() if receiver.poll(CHILD_TIMEOUT_SECONDS) else None
    except (EOFError, OSError):
        result = None
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()
    if result is None:
        raise _ChildFailed(f"reader process ended with exit code {child.exitcode}")
    kind, payload = result
    if kind == "password":
        raise PasswordError(payload)
    if kind == "too-large":
        raise _GridTooLarge(*payload)
    if kind == "error":
        raise _ChildFailed(payload)
    return payload


def _parse_for_parent(data: bytes, sender) -> None:
    faulthandler.disable()  # an abort here is reported by the parent; no stack dump
    try:
        sender.send(("ok", _parse(data)))
    except PasswordError as exc:
        sender.send(("password", repr(exc)))
    except _GridTooLarge as exc:
        sender.send(("too-large", exc.args))
    except BaseException as exc:  # noqa: B036 - a Rust panic is a BaseException
        sender.send(("error", repr(exc)))
    finally:
        sender.close()


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
            rows = workbook.get_sheet_by_name(meta.name).to_python(nrows=100)
            for row in rows:
                if len(row) >= 2 and str(row[0]).strip():
                    metadata[str(row[0]).strip().lower()] = _text(row[1])
            continue
        if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
            continue
        sheet = workbook.get_sheet_by_name(meta.name)
        if sheet.end and (sheet.end[0] + 1) * (sheet.end[1] + 1) > MAX_GRID_CELLS:
            raise _GridTooLarge(meta.name, a1(*sheet.end))
        merged = {start: end[1] for start, end in (sheet.merged_cell_ranges or [])}
        sheets.append(_Sheet(meta.name, sheet.to_python(skip_empty_area=False), merged))
    return sheets, metadata


# -- values ------------------------------------------------------------------------------

def a1(row: int, column: int | None) -> str:
    """0-based grid position → A1 cell name ("" without a column)."""
    if column is None:
        return ""
    letters, number = "", column + 1
    while number:  # no upper bound: a damaged file may claim column 60000
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


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


@lru_cache(maxsize=2048)
def period_in_text(value: object) -> str | None:
    """The quarter a cell, title, sheet name or file name mentions, if any."""
    if isinstance(value, date):  # a datetime is a date too
        return period_of(value)
    text = _text(value)
    if not text:
        return None
    found = parse_period(text) or parse_period(text.partition(":")[2])
    return found or next((p for w in _windows(text) if (p := parse_period(w))), None)


@lru_cache(maxsize=2048)
def quarter_number(text: object) -> int | None:
    """``Q3``, ``3``, ``3e kwartaal``, ``kwartaal 3`` → 3."""
    match = _QUARTER.match(re.sub(r"\s+", " ", _text(text).lower()))
    return int(match.group(1)) if match else None


@lru_cache(maxsize=1024)
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
    """A file-level value (municipality, period, year, date) and where it was read."""

    value: object              # canonical value, None if the text did not resolve
    text: str = ""             # as written
    cell: str = ""             # A1 cell on the data sheet ("" for names and metadata)


#: What each file-level target looks for in the metadata sheet and in a table column.
_METADATA_KEYS = {"municipality": ("gemeente", "gemeente_code"), "period": ("periode",),
                  "submitted_on": ("ingevuld_op",), "year": ()}
_COLUMN_FIELD = {"municipality": "gemeente"}


class _Reader:
    """Reads the sheet that fits a layout best into rows, totals and findings."""

    def __init__(self, submission: Submission, programme: Programme,
                 specs: list[LayoutSpec], sheets: list[_Sheet],
                 metadata: dict[str, str], archive: zipfile.ZipFile | None) -> None:
        self.submission, self.programme, self.specs = submission, programme, specs
        self.sheets, self.metadata, self.archive = sheets, metadata, archive
        self.file, self.findings = submission.path, submission.findings
        self.rows: list[dict] = []
        self.totals: list[dict] = []
        self._reported: set[tuple[str, str]] = set()
        self._file_period: _Found | None | bool = False  # False: not looked up yet

    # -- choosing the layout ------------------------------------------------------------
    def read(self) -> None:
        matches = [match_header(spec, sheet.name, index, sheet.grid, _is_quarter_label)
                   for spec in self.specs for index, sheet in enumerate(self.sheets)]
        best = max(matches, key=HeaderMatch.rank)
        sheet = self.sheets[best.sheet_index]
        self.sheet, self.grid, self.merged = sheet.name, sheet.grid, sheet.merged
        self.match, self.spec, self.header = best, best.spec, best.row
        if not best.fits:
            missing = [
                "kwartaalkoppen (Q1 … Q4) boven de kolomkoppen" if name == "kwartaalkoppen"
                else f"'{best.spec.header_name(name)}'"
                for name in (best.missing_required if best.row >= 0 else best.spec.required)]
            self.findings.append(finding(
                "indeling-onbekend", file=self.file, sheet=self.sheet, cell=self._header_cell(),
                layout=best.spec.title, missing=", ".join(missing),
                detail=f"closest layout {best.spec.name}, header row {best.row + 1}"))
            return
        self.submission.layout, self.submission.sheet = self.spec.name, self.sheet
        for missing in best.missing_required:
            self.findings.append(finding(
                "kolom-ontbreekt", file=self.file, sheet=self.sheet, cell=self._header_cell(),
                column=self.spec.header_name(missing), detail=f"layout {self.spec.name}"))
        self.municipality = self._find_municipality()
        found = self._lookup("submitted_on", lambda value, explicit: _as_date(value))
        self.submission.submitted_on = found.value if found else None  # type: ignore[assignment]
        {"wide": self._read_wide, "quarter-groups": self._read_groups,
         "long": self._read_long}[self.spec.orientation]()
        self._finish()

    def _header_cell(self) -> str:
        if self.header < 0:
            return ""
        row = self.grid[self.header]
        return a1(self.header, next((c for c, v in enumerate(row) if _clean(v) is not None), 0))

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

    def _above_header(self) -> Iterator[tuple[int, int, object]]:
        """(row, column, value) of every filled cell above the header row."""
        for r in range(self.header):
            for c, raw in enumerate(self.grid[r]):
                if (value := _clean(raw)) is not None:
                    yield r, c, value

    def _label(self, sources: Sources) -> tuple[object, str] | None:
        """The value next to a label cell (``Gemeente:`` | ``Huizen``) or after the colon in
        the label cell itself (``Periode: 3e kwartaal 2021``), with its cell. The value must
        be in the cell right after the label (or after the label's merged range), so a hint
        further right is never taken for an empty input cell."""
        for r, c, value in self._above_header():
            if isinstance(value, str):
                head, colon, tail = value.partition(":")
                if header_key(head) in sources.label_keys:
                    if colon and tail.strip():
                        return tail.strip(), a1(r, c)
                    after = self.merged.get((r, c), c) + 1
                    return self.value(r, after), a1(r, after)
        return None

    def _cell(self, source: str) -> tuple[object, str]:
        """The value of ``cell:B3``."""
        cell = source.partition(":")[2].strip().upper()
        match = re.fullmatch(r"([A-Z]{1,3})(\d+)", cell)
        if not match:
            return None, ""
        column = 0
        for letter in match.group(1):
            column = column * 26 + ord(letter) - 64
        return self.value(int(match.group(2)) - 1, column - 1), cell

    # -- file-level values: municipality, period, year, fill-in date ----------------------
    def _candidates(self, target: str, source: str
                    ) -> Iterator[tuple[object, str, bool]]:
        """(value, cell, explicit) from one source. An explicit value was written to answer
        the question (next to a label, in a named cell, in metadata or a column), so one
        that does not resolve is reported; titles and names are only searched."""
        sources = self.spec.period if target == "year" else getattr(self.spec, target)
        if source == "label":
            if (hit := self._label(sources)) is not None and hit[0] is not None:
                yield hit[0], hit[1], True
        elif source == "title":
            for r, c, value in self._above_header():
                yield value, a1(r, c), False
        elif source.startswith("cell:"):
            value, cell = self._cell(source)
            if value is not None:
                yield value, cell, True
        elif source == "metadata":
            for key in _METADATA_KEYS[target]:
                if self.metadata.get(key):
                    yield self.metadata[key], "", True
        elif source == "column" and (c := self.column(_COLUMN_FIELD[target])) is not None:
            r = next((r for r in self._data_rows() if self.value(r, c) is not None), None)
            if r is not None:
                yield self.value(r, c), a1(r, c), True
        elif source == "sheet-name":
            yield self.sheet, "", False
        elif source == "filename":
            yield self.file.stem, "", False

    def _lookup(self, target: str, resolve: Callable[[object, bool], object]) -> _Found | None:
        """First value the spec's sources give for ``target`` that ``resolve(value,
        explicit)`` accepts; else the first explicit value that it did not (to report);
        else None."""
        spec_sources = self.spec.period if target == "year" else getattr(self.spec, target)
        order = spec_sources.year_from if target == "year" else spec_sources.order
        failed = None
        for source in order:
            for value, cell, explicit in self._candidates(target, source):
                if (resolved := resolve(value, explicit)) is not None:
                    return _Found(resolved, _text(value), cell)
                if explicit and failed is None:
                    failed = _Found(None, _text(value), cell)
        return failed

    def _find_municipality(self) -> _Found | None:
        def resolve(value: object, explicit: bool) -> str | None:
            text = _text(value)
            return self.programme.municipality(text) or (None if explicit else next(
                (m for w in _windows(text) if (m := self.programme.municipality(w))), None))

        found = self._lookup("municipality", resolve)
        if found is None and "title" in self.spec.municipality.order:
            found = next((_Found(None, v, a1(r, c)) for r, c, v in self._above_header()
                          if isinstance(v, str) and re.match(r"(?i)gemeente\s+\w[^:]*$", v)),
                         None)  # "Gemeente Hilverson": a title naming a municipality, misspelt
        if found is not None and found.value is None:
            self._unknown_municipality(found.text, found.cell)
        elif found is None:
            self._missing("gemeente-ontbreekt", self.spec.municipality)
        return found

    def _unknown_municipality(self, text: str, cell: str) -> None:
        if ("gemeente", text) not in self._reported:
            self._reported.add(("gemeente", text))
            self.findings.append(finding(
                "gemeente-onbekend", file=self.file, sheet=self.sheet, cell=cell, value=text,
                expected=", ".join(self.programme.municipalities.index),
                detail="not a programme municipality"))

    def _row_municipality(self, r: int) -> str | None:
        """A row's own Gemeente column when the layout has one, else the file's."""
        c = self.column("gemeente")
        if "column" in self.spec.municipality.order and (value := self.value(r, c)) is not None:
            if (name := self.programme.municipality(_text(value))) is None:
                self._unknown_municipality(_text(value), a1(r, c))
            return name
        return self.municipality.value if self.municipality else None  # type: ignore[return-value]

    def _sheet_period(self) -> _Found | None:
        """The period for the whole sheet (layouts with one quarter per sheet), once."""
        if self._file_period is False:
            found = self._lookup("period", lambda value, explicit: period_in_text(value))
            if found is not None and found.value is None:
                self._invalid_period(found.text, found.cell)
            elif found is None:
                self._missing("periode-ontbreekt", self.spec.period)
            self._file_period = found
        return self._file_period  # type: ignore[return-value]

    def _year(self) -> int | None:
        """The year for bare quarters (``Q3``, ``3``): ``[period] year_from`` sources."""
        def resolve(value: object, explicit: bool) -> int | None:
            match = _YEAR.search(_text(value))
            return int(match.group(1)) if match else None

        found = self._lookup("year", resolve)
        return found.value if found else None  # type: ignore[return-value]

    def _invalid_period(self, text: str, cell: str) -> None:
        if ("periode", cell or text) not in self._reported:
            self._reported.add(("periode", cell or text))
            self.findings.append(finding("periode-ongeldig", file=self.file, sheet=self.sheet,
                                         cell=cell, value=text, detail="unreadable period"))

    def _row_period(self, r: int) -> tuple[str | None, str]:
        """(period, cell) of data row ``r``: its own Periode, or Jaar + Kwartaal, columns
        when the layout reads periods per row (``columns``), else the sheet's period."""
        c_period, c_quarter = self.column("periode"), self.column("kwartaal")
        if "columns" in self.spec.period.order:
            if (text := self.value(r, c_period)) is not None:
                cell, period = a1(r, c_period), period_in_text(text)
            elif (quarter := self.value(r, c_quarter)) is not None:
                year = self.value(r, self.column("jaar"))
                cell, period = a1(r, c_quarter), period_in_text(quarter)
                if period is None and quarter_number(quarter):
                    year = year if year is not None else self._year()
                    if year is not None and _YEAR.fullmatch(_text(year)):
                        period = f"{_text(year)}-Q{quarter_number(quarter)}"
                text = f"{_text(year)} {_text(quarter)}".strip()
            else:
                text = None
            if text is not None:
                if period is None:
                    self._invalid_period(_text(text), cell)
                return period, cell
        found = self._sheet_period()
        return (found.value, found.cell) if found else (None, "")  # type: ignore[return-value]

    def _missing(self, code: str, sources: Sources) -> None:
        """``gemeente-ontbreekt`` / ``periode-ontbreekt``, saying in Dutch where the value
        belongs: the empty cell after its label if the sheet has one, else the first
        source of the spec."""
        source = next((s for s in sources.order if s not in ("groups", "metadata")), "")
        hit = self._label(sources) if "label" in sources.order else None
        cell = hit[1] if hit else source[5:] if source.startswith("cell:") else ""
        where = f" in cel {cell} (blad {self.sheet})" if cell else {
            "label": f" bovenaan blad {self.sheet}", "title": f" bovenaan blad {self.sheet}",
            "column": " in de kolommen van de tabel", "columns": " in de kolommen van de tabel",
            "filename": " in de bestandsnaam", "sheet-name": " in de bladnaam"}.get(source, "")
        self.findings.append(finding(code, file=self.file, sheet=self.sheet, cell=cell,
                                     where=where, detail=f"nothing found in {sources.order}"))

    # -- rows ---------------------------------------------------------------------------
    def _new_row(self, r: int, municipality: str | None, period: tuple[str | None, str],
                 code_column: int | None, name_column: int | None) -> dict:
        code, name = self.value(r, code_column), self.value(r, name_column)
        row = dict.fromkeys(ROW_COLUMNS)
        row.update({f"cel_{f}": "" for f in _VALUE_FIELDS})
        row.update(gemeente=municipality, periode=period[0], cel_periode=period[1],
                   blad=self.sheet, project_tekst=_text(name if name is not None else code) or None,
                   cel_project=a1(r, code_column if name is None and code is not None
                                  else name_column),
                   _code=_text(code), _r=r)
        return row

    def _set(self, row: dict, field_name: str, r: int, c: int | None) -> None:
        if c is not None:
            value = self.value(r, c)
            if value is None and self.spec.blank_cell == "zero" and field_name != "toelichting":
                value = 0
            row[field_name], row[f"cel_{field_name}"] = value, a1(r, c)

    def _project_code(self, row: dict) -> str | None:
        return self.programme.project_code(row["_code"]) or \
            self.programme.project_code(row["project_tekst"])

    def _is_total(self, row: dict) -> bool:
        key = header_key(row["project_tekst"] or "")
        return bool(key) and any(key.startswith(t) for t in self.spec.total_keys) and \
            self._project_code(row) is None

    def _keep(self, row: dict) -> None:
        """File a row under totals, rows or nowhere (a blank line or a footnote)."""
        if self._is_total(row):
            self.totals.append(row)
        elif self._project_code(row) or any(row[f] is not None for f in INDICATOR_CODES):
            self.rows.append(row)

    def _read_wide(self) -> None:
        code_column, name_column = self.column("projectcode"), self.column("project")
        for r in self._data_rows():
            row = self._new_row(r, None, (None, ""), code_column, name_column)
            for field_name in _VALUE_FIELDS:
                self._set(row, field_name, r, self.column(field_name))
            if row["project_tekst"] is not None or any(row[f] is not None
                                                       for f in INDICATOR_CODES):
                row["gemeente"] = self._row_municipality(r)
                row["periode"], row["cel_periode"] = self._row_period(r)
                self._keep(row)

    def _read_groups(self) -> None:
        """Quarter groups (Huizen): the same indicator columns repeated under a quarter
        label. A label cell merged over its group is read at its first column only, so a
        label covers every column up to the next label."""
        starts = [c for c, _ in self.match.groups]
        ends = [*starts[1:], max(len(self.grid[self.header]), starts[-1] + 1)]
        code_column, name_column = (
            next((c for c in self.match.columns.get(f, []) if c < starts[0]), None)
            for f in ("projectcode", "project"))
        year = self._year()
        for (start, label), end in zip(self.match.groups, ends, strict=True):
            columns = {f: next((c for c in cols if start <= c < end), None)
                       for f, cols in self.match.columns.items() if f in _VALUE_FIELDS}
            cell = a1(self.header + self.spec.group_label_row, start)
            period = parse_period(label) or (f"{year}-Q{quarter_number(label)}" if year else None)
            if period is None:
                self.findings.append(finding(
                    "periode-ontbreekt", file=self.file, sheet=self.sheet, cell=cell,
                    where=f" (het jaar bij '{label}' in cel {cell}, of in de bladnaam)",
                    detail="quarter label without a year"))
            group = []
            for r in self._data_rows():
                row = self._new_row(r, None, (period, cell), code_column, name_column)
                for field_name, c in columns.items():
                    self._set(row, field_name, r, c)
                if row["project_tekst"] is not None or any(row[f] is not None
                                                           for f in INDICATOR_CODES):
                    row["gemeente"] = self._row_municipality(r)
                    group.append(row)
            reported = any(row[f] is not None for row in group if not self._is_total(row)
                           for f in INDICATOR_CODES)
            if reported or self.spec.blank_group != "not-reported":
                for row in group:  # a quarter not yet reported gives no rows, no warnings
                    self._keep(row)

    def _read_long(self) -> None:
        """One line per project × indicator × quarter (Gooise Meren's export); lines of the
        same municipality, quarter and project make one row. A second line for an indicator
        already seen starts a new row, so validate reports the double."""
        words = self.spec.indicator_words
        c_project, c_code = self.column("project"), self.column("projectcode")
        c_indicator, c_amount = self.column("indicator"), self.column("aantal")
        open_rows: dict[tuple, dict] = {}
        for r in self._data_rows():
            project, word = self.value(r, c_project), self.value(r, c_indicator)
            if project is None and word is None and self.value(r, c_amount) is None:
                continue
            if (indicator := words.get(header_key(_text(word)))) is None:
                self.findings.append(finding(
                    "indicator-onbekend", file=self.file, sheet=self.sheet,
                    cell=a1(r, c_indicator), value=_text(word),
                    expected=", ".join(f"'{w[0]}'" for w in self.spec.indicators.values()),
                    detail="indicator word not in the layout's [indicators]"))
                continue
            municipality, period = self._row_municipality(r), self._row_period(r)
            key = (municipality, period[0], header_key(_text(project)))
            row = open_rows.get(key)
            if row is None or row[f"cel_{indicator}"]:
                row = open_rows[key] = self._new_row(r, municipality, period, c_code, c_project)
                (self.totals if self._is_total(row) else self.rows).append(row)
            self._set(row, indicator, r, c_amount)
            if row["toelichting"] is None:
                self._set(row, "toelichting", r, self.column("toelichting"))

    # -- finishing ----------------------------------------------------------------------
    def _finish(self) -> None:
        for row in self.rows:
            row["projectcode"] = self._project_code(row)
            if row["projectcode"] is None:
                text = row["project_tekst"] or "(leeg)"
                suggestion = self.programme.suggest_project(text)
                self.findings.append(finding(
                    "project-onbekend", file=self.file, sheet=self.sheet,
                    cell=row["cel_project"], value=text,
                    suggestion=f" Bedoelde u '{suggestion}'?" if suggestion else "",
                    detail="no programme project, code or alias"))
        read = {row[f"cel_{f}"] for row in self.rows + self.totals for f in _VALUE_FIELDS}
        for cell in sorted(_formula_cells_without_value(self.archive, self.sheet) & read,
                           key=_cell_order):
            self.findings.append(finding("formule-zonder-waarde", file=self.file,
                                         sheet=self.sheet, cell=cell,
                                         detail="formula without cached value"))
        self.submission.rows, self.submission.totals = _frame(self.rows), _frame(self.totals)
        c = self.column("gemeente")
        per_row = [(row["gemeente"], a1(row["_r"], c)) for row in self.rows
                   if c is not None and row["gemeente"] and self.value(row["_r"], c) is not None]
        if per_row:  # a Gemeente column: the submission's municipality is its usual value
            name = Counter(n for n, _ in per_row).most_common(1)[0][0]
            self.submission.municipality = name
            self.submission.municipality_cell = next(cell for n, cell in per_row if n == name)
        elif self.municipality is not None:
            self.submission.municipality = self.municipality.value  # type: ignore[assignment]
            self.submission.municipality_cell = self.municipality.cell


def _frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=ROW_COLUMNS)
    return pd.DataFrame(rows, columns=ROW_COLUMNS, dtype=object)


def _cell_order(cell: str) -> tuple[int, str]:
    letters, number = re.match(r"([A-Z]+)(\d+)", cell).groups()
    return int(number), letters.rjust(3)
