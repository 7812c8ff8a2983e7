"""The workbook as a file: every check intake makes before and while cells are parsed, and
the parsing itself. :mod:`xlmonitor.intake.read` reads the layout from what this gives it.

Nothing here trusts the file. In order, :meth:`WorkbookFile.check` refuses:

* a password-protected file: an OLE file holding an ``EncryptedPackage`` (.xlsx), a .xls
  whose workbook stream starts with a ``FilePass`` record (XOR, RC4, RC4 CryptoAPI) and an
  .ods whose manifest has ``encryption-data`` (:mod:`xlmonitor.intake.sniff`: calamine calls
  those unreadable);
* a BIFF stream without its OLE container (Excel 2.x-4.0), and anything else that is
  neither OLE (.xls) nor zip (xlsx, xlsm, ods);
* a zip with more parts than :attr:`Limits.max_members` (counted in the raw bytes, before
  :mod:`zipfile` builds an object per central-directory entry), whose *declared* unpacked size
  is over :attr:`Limits.max_unpacked_bytes`, or whose parts *actually* inflate to more than
  they declare: every part is inflated once, in 64 KB steps, counting bytes and checking the
  CRC, so a zip bomb with a lying central directory is refused with bounded memory before a
  parser sees it (calamine's zip reader also stops at the declared size; an honest 2 GB part
  makes calamine abort the process on the allocation, so the declared size must be checked
  first). Parts compressed with anything but deflate or stored are refused: Excel and
  LibreOffice write nothing else;
* XML with a document type definition (``<!DOCTYPE``/``<!ENTITY``): an entity bomb ("billion
  laughs") needs one, and Excel and LibreOffice never write one. calamine (quick-xml) does not
  expand custom entities (it stops with "unrecognized entity") and openpyxl, which writes the
  feedback copy, parses through defusedxml (``EntitiesForbidden``); refusing first gives one
  clear finding instead of two different parser errors;
* a sheet whose grid, from A1 to its farthest cell *or* its declared ``<dimension>``, is over
  :attr:`Limits.max_grid_cells`: calamine allocates the whole grid at once and aborts the
  process (uncatchable) when that fails.

Macros are noted (``macro-aanwezig``) and never run: calamine reads stored values only.
External links are noted by file name only (a full path can hold a user name).

:meth:`WorkbookFile.read_sheets` parses every worksheet, hidden ones too (personal data can
hide there), and refuses a sheet with more rows or columns than the limits or a cell with more
text than Excel allows (32,767 characters: such a file was not written by Excel).

**Time per file** (:attr:`Limits.seconds`), decided per format. .xls and .ods, and any
xlsx/xlsm unpacking to more than :attr:`Limits.child_above_bytes`, are parsed in a child
process that is killed when the file's time is up, and whose address space is capped
(:attr:`Limits.child_memory_bytes`): a hang or an abort there costs that file only. A normal
xlsx/xlsm (about 50 KB unpacked; 10 ms) is parsed in-process: a child would cost more than the
parse, and the size limits above bound its parse time. The elapsed time is also checked
between stages (after the container checks, after parsing, before the layout is read), so a
file over its budget gets ``limiet-overschreden`` instead of running on.
"""

from __future__ import annotations

import bisect
import html
import io
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import chain
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from defusedxml import ElementTree
from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from xlmonitor.errors import XlmonitorError
from xlmonitor.findings import Finding, finding
from xlmonitor.intake import sniff
from xlmonitor.intake.child import run_in_child

METADATA_SHEET = "_xlmonitor"   # the template's veryHidden key/value sheet

REASON_OPEN = "het bestand kan niet worden geopend"
REASON_NOT_WORKBOOK = "het is geen Excel- of LibreOffice-werkmap"
REASON_DAMAGED = "het bestand is beschadigd of niet volledig opgeslagen"
REASON_CONTENT = "de inhoud kan niet worden gelezen"
REASON_OLD_EXCEL = "het is in een oud Excel-formaat opgeslagen"
REASON_DTD = ("het bestand bevat een XML-documenttypedefinitie (DTD), die Excel en LibreOffice "
              "nooit schrijven")


@dataclass(frozen=True)
class Limits:
    """What one submission may cost. Exceeding a limit is a finding (``bestand-te-groot``
    or ``limiet-overschreden``), never a hang; pass your own to
    ``read_submission(path, programme, limits=Limits(max_rows=50_000))``."""

    max_file_bytes: int = 50 * 2**20      # a quarterly workbook is kilobytes
    max_unpacked_bytes: int = 100 * 2**20  # all zip parts inflated, declared and actual
    max_members: int = 5_000              # parts in the zip (an xlsx has about 15)
    max_grid_cells: int = 5_000_000       # one sheet from A1 to its farthest cell
    max_rows: int = 20_000                # rows of one sheet, up to its last value
    max_columns: int = 1_000              # columns of one sheet, up to its last value
    max_text_chars: int = 32_767          # text in one cell (Excel's own limit)
    seconds: float = 60.0                 # reading one file, all stages together
    child_above_bytes: int = 16 * 2**20   # xlsx/xlsm unpacking to more: parsed in a child
    child_memory_bytes: int = 2**30       # address space a child may add to the parent's


DEFAULT_LIMITS = Limits()


class WorkbookRefused(XlmonitorError):
    """Reading stops: the file gets the single finding ``code`` (with ``params`` for the
    Dutch message). Raised inside :mod:`xlmonitor.intake.read` only; never escapes
    ``read_submission``."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code}: {params.get('detail', '')}")
        self.code, self.params = code, params


Position = tuple[int, int]  # 0-based (row, column)


@dataclass
class Sheet:
    """One worksheet as a full grid: row i, column j is A1 cell (j+1, i+1)."""

    name: str
    grid: list[list[object]]
    merged: dict[Position, int]   # top-left (row, column) -> last column of the merge
    merges: list[tuple[Position, Position]] = field(default_factory=list)  # (top-left, end)
    visible: bool = True

    def merges_over(self, cells: set[Position]) -> list[tuple[Position, Position]]:
        """The merged ranges that cover two or more of ``cells``."""
        by_row: dict[int, list[int]] = {}
        for r, c in sorted(cells):
            by_row.setdefault(r, []).append(c)
        rows = sorted(by_row)
        result = []
        for (top, left), (bottom, right) in self.merges[:10_000]:
            covered = 0
            for r in rows[bisect.bisect_left(rows, top):bisect.bisect_right(rows, bottom)]:
                columns = by_row[r]
                covered += bisect.bisect_right(columns, right) - bisect.bisect_left(columns, left)
                if covered > 1:
                    result.append(((top, left), (bottom, right)))
                    break
        return result


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")  # OOXML saved with a password
_VBA_STREAM = "_VBA_PROJECT".encode("utf-16-le")            # .xls with macros
_CENTRAL_ENTRY = b"PK\x01\x02"
_LOCAL_HEADER = b"PK\x03\x04"
_STEP = 64 * 1024
_XML_PARTS = (".xml", ".rels", ".vml")
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")
_MAX_TAG = 2**20  # no tag Excel or LibreOffice writes comes near this
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL_OPEN = re.compile(rb"<(?:\w+:)?c\b([^>]*?)>")
_CELL_CLOSE = re.compile(rb"</(?:\w+:)?c>")
_MAX_CELL_HEAD = 4096  # bytes searched back from a formula for its cell's start tag
_FORMULA_XML = re.compile(rb"<(?:\w+:)?f\b")
# A cached result: <v>…</v> with something in it. openpyxl with lxml writes <v></v> for a
# formula it cannot calculate (without lxml it writes no <v>); calamine reads both as empty.
_VALUE_XML = re.compile(rb"<(?:\w+:)?v>[^<]")
_CELL_REF = re.compile(rb'<(?:\w+:)?(?:c|row)\b[^>]*?\br="([A-Z]{0,3})(\d+)"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="(?:[A-Z]+\d+:)?([A-Z]{1,3})(\d+)"')


class WorkbookFile:
    """One submitted file's bytes: :meth:`check` the container, then :meth:`read_sheets`.

    ``notes`` collects the findings that do not stop reading (``macro-aanwezig``,
    ``externe-koppeling``); a refusal raises :class:`WorkbookRefused`."""

    def __init__(self, data: bytes, path: Path, limits: Limits = DEFAULT_LIMITS, *,
                 deadline: float | None = None) -> None:
        self.data, self.path, self.limits = data, Path(path), limits
        self.deadline = time.monotonic() + limits.seconds if deadline is None else deadline
        self.archive: zipfile.ZipFile | None = None
        self.notes: list[Finding] = []
        self.unpacked = 0  # bytes all zip parts actually inflate to

    # -- the container ----------------------------------------------------------------------
    def check(self) -> None:
        """Encryption, damage, size limits, entity bombs, macros and external links, before
        any cell is parsed."""
        data = self.data
        if data.startswith(_OLE_MAGIC):
            # An OLE compound file is either a legacy .xls or an encrypted OOXML workbook
            # (Excel wraps a password-protected .xlsx in OLE with an EncryptedPackage stream).
            if _ENCRYPTED_STREAM in data:
                raise WorkbookRefused("bestand-versleuteld",
                                      detail="OLE container with EncryptedPackage")
            if kind := sniff.biff_encryption(data):
                raise WorkbookRefused("bestand-versleuteld", detail=f"BIFF FilePass: {kind}")
            if _VBA_STREAM in data:
                self._note("macro-aanwezig", detail="_VBA_PROJECT stream in .xls")
            return
        if not data.startswith(b"PK"):
            if version := sniff.is_raw_biff(data):
                older = " (Excel 4.0 of ouder)" if version != "BIFF5/8" else ""
                raise WorkbookRefused("bestand-onleesbaar", reason=REASON_OLD_EXCEL + older,
                                      detail=f"{version} stream without an OLE container")
            raise WorkbookRefused("bestand-onleesbaar", reason=REASON_NOT_WORKBOOK,
                                  detail=f"no zip or OLE signature: {data[:8]!r}")
        if (members := data.count(_CENTRAL_ENTRY)) > self.limits.max_members:
            raise self._limit(f"het bestand bestaat uit {members} onderdelen (hoogstens "
                              f"{self.limits.max_members})", f"{members} central entries")
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            infos = archive.infolist()
        except Exception as exc:  # BadZipFile, OSError, NotImplementedError("zip file version")
            raise WorkbookRefused("bestand-onleesbaar", reason=REASON_DAMAGED,
                                  detail=repr(exc)) from None
        declared = sum(info.file_size for info in infos)
        if declared > self.limits.max_unpacked_bytes:
            raise self._limit(f"uitgepakt is het bestand {declared // 2**20} MB groot",
                              f"declared uncompressed size {declared} bytes")
        self.archive = archive
        if "META-INF/manifest.xml" in self.part_names and sniff.odf_encrypted(
                self.part("META-INF/manifest.xml")):
            raise WorkbookRefused("bestand-versleuteld", detail="ODF manifest: encryption-data")
        if any(n.lower().endswith("vbaproject.bin") or n.startswith(("Basic/", "xl/macrosheets/"))
               for n in self.part_names):
            self._note("macro-aanwezig", detail="VBA project")
        sheets = {member: name for name, (member, _state) in self.sheet_parts.items()}
        for info in infos:
            self._inflate(info, sheets.get(info.filename))
        if links := self._external_links():
            self._note("externe-koppeling", value=", ".join(links), detail="xl/externalLinks")

    @property
    def is_ooxml(self) -> bool:
        return self.archive is not None and "xl/workbook.xml" in self.part_names

    @cached_property
    def part_names(self) -> list[str]:
        return self.archive.namelist() if self.archive is not None else []

    def _note(self, code: str, **params: object) -> None:
        self.notes.append(finding(code, file=self.path, **params))

    def _limit(self, reason: str, detail: str) -> WorkbookRefused:
        return WorkbookRefused("limiet-overschreden", reason=reason, detail=detail)

    def _damaged(self, detail: str) -> WorkbookRefused:
        return WorkbookRefused("bestand-onleesbaar", reason=REASON_DAMAGED, detail=detail)

    def _inflate(self, info: zipfile.ZipInfo, sheet: str | None) -> None:
        """Inflate one part in steps, counting the bytes it really produces: more than its
        header declares (a lying zip bomb) or than the limit left is refused on the spot.
        XML is searched for a DTD on the way, and a sheet's XML for its extent: how far its
        cells (or its ``<dimension>``) reach."""
        name = info.filename
        if info.flag_bits & 0x1:
            raise WorkbookRefused("bestand-versleuteld", detail=f"zip part {name} encrypted")
        raw = self._raw(info)
        budget = self.limits.max_unpacked_bytes - self.unpacked
        if info.compress_type == zipfile.ZIP_STORED:
            if len(raw) != info.file_size:
                raise self._damaged(f"stored part {name}: {len(raw)} != {info.file_size} bytes")
            chunks = (raw[i:i + _STEP] for i in range(0, len(raw), _STEP))
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            chunks = _inflated(raw)
        else:
            raise self._damaged(f"part {name}: compression method {info.compress_type}")
        xml = name.lower().endswith(_XML_PARTS)
        extent = _Extent() if sheet is not None else None
        produced, crc, tail = 0, 0, b""
        try:
            for chunk in chunks:
                produced += len(chunk)
                if produced > info.file_size:
                    raise self._damaged(f"part {name} inflates beyond its declared "
                                        f"{info.file_size} bytes")
                if produced > budget:
                    raise self._limit("uitgepakt is het bestand groter dan "
                                      f"{self.limits.max_unpacked_bytes // 2**20} MB",
                                      f"part {name} passes the unpacked limit")
                crc = zlib.crc32(chunk, crc)
                if not xml:
                    continue
                # Whole tags only: a tag cut off at the end of the chunk waits for the next.
                window = tail + bytes(chunk)
                start, end = window.rfind(b"<"), window.rfind(b">")
                cut = start if start > end else len(window)
                if any(mark in window for mark in _DTD_MARKS):
                    raise WorkbookRefused("bestand-onleesbaar", reason=REASON_DTD,
                                          detail=f"DTD in {name}")
                if extent is not None and extent.add(window, cut) > self.limits.max_grid_cells:
                    raise _too_far(sheet, extent.last_cell, self.limits)
                tail = window[cut:]
                if len(tail) > _MAX_TAG:
                    raise self._damaged(f"part {name}: a tag of more than {_MAX_TAG} bytes")
        except zlib.error as exc:
            raise self._damaged(f"part {name}: {exc}") from None
        if produced != info.file_size or crc != info.CRC:
            raise self._damaged(f"part {name}: {produced} bytes, crc {crc:08x}; declared "
                                f"{info.file_size} bytes, crc {info.CRC:08x}")
        self.unpacked += produced

    def _raw(self, info: zipfile.ZipInfo) -> memoryview:
        """The compressed bytes of a part, found through its local header."""
        start = info.header_offset
        if self.data[start:start + 4] != _LOCAL_HEADER:
            raise self._damaged(f"part {info.filename}: no local header at {start}")
        name_length, extra_length = struct.unpack_from("<HH", self.data, start + 26)
        begin = start + 30 + name_length + extra_length
        raw = memoryview(self.data)[begin:begin + info.compress_size]
        if len(raw) < info.compress_size:
            raise self._damaged(f"part {info.filename} cut off")
        return raw

    def part(self, member: str) -> bytes:
        """One part, inflated whole: zipfile stops at the declared size, which is within the
        limit by then."""
        try:
            return self.archive.read(member) if member and self.archive else b""
        except Exception:  # missing part: calamine will report the file
            return b""

    @cached_property
    def sheet_parts(self) -> dict[str, tuple[str, str]]:
        """Sheet name → (zip member, state) of an xlsx/xlsm, from workbook.xml and its rels."""
        if not self.is_ooxml:
            return {}
        try:
            book = ElementTree.fromstring(self.part("xl/workbook.xml"))
            rels = ElementTree.fromstring(self.part("xl/_rels/workbook.xml.rels"))
        except Exception:  # no workbook part, or a damaged one: calamine will tell
            return {}
        targets = {el.get("Id"): el.get("Target") or "" for el in rels}
        parts = {}
        for el in book.iter():
            if el.tag.endswith("}sheet") and (target := targets.get(el.get(f"{{{_R}}}id"))):
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                parts[el.get("name") or ""] = (member, el.get("state") or "visible")
        return parts

    def _external_links(self) -> list[str]:
        """File names (never full paths: they can hold user names) of linked workbooks."""
        result = []
        for name in self.part_names:
            if name.startswith("xl/externalLinks/_rels/") and name.endswith(".rels"):
                text = self.part(name).decode("utf-8", "replace")
                for target in re.findall(r'Target="([^"]+)"', text):
                    # As Excel writes it: XML-escaped (&amp;) and URL-encoded (%20).
                    target = unquote(html.unescape(target)).replace("\\", "/")
                    result.append(PurePosixPath(target).name or target)
        return sorted(set(result))

    def error_values(self) -> list[tuple[str, str, str]]:
        """Up to five (sheet, A1 cell, value) of cells holding an error value (``#VALUE!``),
        which calamine reads as empty; sheet and cell are "" in a .xls or .ods."""
        if self.is_ooxml:
            return [(sheet, cell, value) for sheet, (member, state) in self.sheet_parts.items()
                    if state == "visible"
                    for cell, value in sniff.ooxml_error_values(self.part(member))][:5]
        if self.archive is not None:
            return [("", "", value) for value in sniff.odf_error_values(self.part("content.xml"))]
        return [("", "", value) for value in sniff.biff_error_values(self.data)]

    def formula_cells_without_value(self, sheet: str) -> set[str]:
        """A1 cells of ``sheet`` holding a formula but no cached result. Such a file was
        written by a program that does not calculate (openpyxl, a script) and never opened
        in Excel; calamine reads those cells as empty."""
        xml = self.part(self.sheet_parts.get(sheet, ("", ""))[0])
        if b"<f" not in xml and b":f" not in xml:
            return set()
        cells = set()
        for formula in _FORMULA_XML.finditer(xml):
            # Only the cells around a formula: most of a sheet's cells hold none.
            heads = list(_CELL_OPEN.finditer(xml, max(0, formula.start() - _MAX_CELL_HEAD),
                                             formula.start()))
            opened = heads[-1] if heads else None
            closed = _CELL_CLOSE.search(xml, formula.end())
            if opened is None or closed is None or _VALUE_XML.search(
                    xml, opened.end(), closed.start()):
                continue
            ref = re.search(rb'\br="([A-Z]+\d+)"', opened.group(1))
            if ref:
                cells.add(ref.group(1).decode())
        return cells

    # -- the cells --------------------------------------------------------------------------
    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise self._limit(f"het inlezen duurde langer dan {self.limits.seconds:g} seconden",
                              "time per file exceeded")

    def read_sheets(self) -> list[Sheet]:
        """Every worksheet; hidden ones (and the template's metadata sheet) have ``visible``
        False."""
        self.check_time()
        in_child = not self.is_ooxml or self.unpacked > self.limits.child_above_bytes
        try:
            result = self._parse_in_child() if in_child else _parse(self.data, self.limits)
        except PasswordError as exc:
            raise WorkbookRefused("bestand-versleuteld", detail=repr(exc)) from None
        except WorkbookRefused:
            raise
        except BaseException as exc:  # noqa: B036 - see is_reader_failure
            if not is_reader_failure(exc):
                raise
            raise WorkbookRefused("bestand-onleesbaar", reason=REASON_CONTENT,
                                  detail=repr(exc)) from None
        self.check_time()
        sheets, macro_sheets = result
        if macro_sheets and not any(f.code == "macro-aanwezig" for f in self.notes):
            self._note("macro-aanwezig", detail="Excel 4.0 macro sheet")
        return sheets

    def _parse_in_child(self) -> tuple[list[Sheet], bool]:
        """Parse in a child process (:mod:`xlmonitor.intake.child`): an abort or hang costs
        this file only, and what Rust prints goes to the detail, not the terminal."""
        outcome = run_in_child(_parse_outcome, (self.data, self.limits),
                               seconds=max(0.5, self.deadline - time.monotonic()),
                               memory_bytes=self.limits.child_memory_bytes)
        if outcome.timed_out:
            raise self._limit(f"het inlezen duurde langer dan {self.limits.seconds:g} seconden",
                              "reader process killed after the time per file")
        if outcome.value is None:
            raise _ChildFailed(outcome.failure())
        kind, payload = outcome.value
        if kind == "password":
            raise PasswordError(payload)
        if kind == "refused":
            raise WorkbookRefused(payload[0], **payload[1])
        return payload


def _too_far(sheet: str, cell: str, limits: Limits) -> WorkbookRefused:
    return WorkbookRefused(
        "limiet-overschreden", detail=f"grid up to {cell} > {limits.max_grid_cells} cells",
        reason=f"het blad '{sheet}' loopt door tot cel {cell}; verwijder de lege rijen en "
               "kolommen onder en naast de tabel")


class _ChildFailed(Exception):
    """The separate process reading a workbook died or failed."""


def is_reader_failure(exc: BaseException) -> bool:
    """calamine raises CalamineError (and ValueError, OSError) for files it cannot parse, but
    on some damaged files its Rust code panics: pyo3 turns that into ``PanicException``,
    which derives from BaseException, not Exception, so ``except Exception`` misses it."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _inflated(raw: memoryview) -> Iterator[bytes]:
    """Inflated chunks of at most _STEP bytes of a raw deflate stream: memory stays bounded
    however far the stream inflates."""
    inflater = zlib.decompressobj(-15)
    for start in range(0, len(raw), _STEP):
        pending = raw[start:start + _STEP]
        while True:
            chunk = inflater.decompress(pending, _STEP)
            pending = inflater.unconsumed_tail
            if chunk:
                yield chunk
            if inflater.eof:
                return
            if not pending and len(chunk) < _STEP:  # this input gave all its output
                break


class _Extent:
    """How far a sheet reaches, from A1 to the farthest cell its XML names or declares. One
    value typed in XFD1048576 makes a 5 KB file a grid of 17 billion cells."""

    def __init__(self) -> None:
        self.rows, self.columns = 0, b""

    def add(self, xml: bytes, end: int) -> int:
        """Take in the cell references of ``xml[:end]``; the grid size so far."""
        refs = _CELL_REF.findall(xml, 0, end)
        if not self.rows:
            refs += _DIMENSION.findall(xml, 0, min(end, 4096))  # it precedes the cells
        if refs:  # few distinct rows and columns: compare those, not every reference
            numbers, columns = {number for _, number in refs}, {letters for letters, _ in refs}
            self.rows = max(self.rows, max(map(int, numbers)))
            self.columns = max([self.columns, *columns],
                               key=lambda letters: (len(letters), letters))
        return self.rows * _column_number(self.columns)

    @property
    def last_cell(self) -> str:
        return a1(self.rows - 1, _column_number(self.columns) - 1)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _parse(data: bytes, limits: Limits) -> tuple[list[Sheet], bool]:
    return _read_sheets(CalamineWorkbook.from_filelike(io.BytesIO(data)), limits)


def _parse_outcome(data: bytes, limits: Limits) -> tuple[str, object]:
    """:func:`_parse` in the child, its refusals as data (an exception with keyword
    arguments does not survive pickling)."""
    try:
        return "ok", _parse(data, limits)
    except PasswordError as exc:
        return "password", repr(exc)
    except WorkbookRefused as exc:
        return "refused", (exc.code, exc.params)


def _read_sheets(workbook: CalamineWorkbook, limits: Limits) -> tuple[list[Sheet], bool]:
    """Every worksheet as a full grid (with ``skip_empty_area=False`` calamine does not trim
    leading empty rows and columns), and whether the workbook has Excel 4.0 macro sheets."""
    sheets: list[Sheet] = []
    macro_sheets = False
    for meta in workbook.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            macro_sheets = macro_sheets or meta.typ == SheetTypeEnum.MacroSheet
            continue
        sheet = workbook.get_sheet_by_name(meta.name)
        if sheet.end:
            rows, columns = sheet.end[0] + 1, sheet.end[1] + 1
            if rows * columns > limits.max_grid_cells:
                raise _too_far(meta.name, a1(*sheet.end), limits)
            for count, limit, what in ((rows, limits.max_rows, "rijen"),
                                       (columns, limits.max_columns, "kolommen")):
                if count > limit:
                    raise WorkbookRefused(
                        "limiet-overschreden", detail=f"{count} {what} > {limit}",
                        reason=f"het blad '{meta.name}' heeft {count} {what} (hoogstens {limit})")
        grid = sheet.to_python(skip_empty_area=False)
        _check_text_length(meta.name, grid, limits.max_text_chars)
        ranges = [(tuple(start), tuple(end)) for start, end in (sheet.merged_cell_ranges or [])]
        visible = meta.visible == SheetVisibleEnum.Visible and meta.name != METADATA_SHEET
        sheets.append(Sheet(meta.name, grid, {start: end[1] for start, end in ranges}, ranges,
                            visible))
    return sheets, macro_sheets


def _check_text_length(sheet: str, grid: list[list[object]], limit: int) -> None:
    texts = [v for v in chain.from_iterable(grid) if v.__class__ is str and len(v) > limit]
    if not texts:
        return
    longest = max(texts, key=len)
    cell = next(a1(r, c) for r, row in enumerate(grid) for c, v in enumerate(row)
                if v is longest)
    raise WorkbookRefused(
        "limiet-overschreden",
        reason=f"cel {cell} op blad '{sheet}' bevat {len(longest)} tekens (Excel staat "
               f"hoogstens {limit} toe); kort de tekst in",
        detail=f"text of {len(longest)} characters in {sheet}!{cell}")


@lru_cache(maxsize=65536)  # every file names the same few hundred cells
def a1(row: int, column: int | None) -> str:
    """0-based grid position → A1 cell name ("" without a column)."""
    if column is None:
        return ""
    letters, number = "", column + 1
    while number:  # no upper bound: a damaged file may claim column 60000
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def clean(value: object) -> object:
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


def as_text(value: object) -> str:
    cleaned = clean(value)
    return "" if cleaned is None else str(cleaned)


def read_metadata(sheets: list[Sheet]) -> dict[str, str]:
    """The template's hidden key/value sheet (``_xlmonitor``) as a dict, keys lower case."""
    metadata: dict[str, str] = {}
    for sheet in sheets:
        if sheet.name == METADATA_SHEET:
            for row in sheet.grid[:100]:
                if len(row) >= 2 and str(row[0]).strip():
                    metadata[str(row[0]).strip().lower()] = as_text(row[1])
    return metadata
