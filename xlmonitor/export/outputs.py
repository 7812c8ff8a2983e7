"""Export: the Dashboard as PDF/PNG for the council letter, the tables as tidy data.

Both read the master workbook itself, never the inbox, and never change it: everything happens
on a scratch copy.

**Dashboard at a peilperiode.** The Dashboard's figures are formulas over ``tblData`` that
depend on one input cell, the defined name ``Peilperiode``. :func:`export_dashboard` writes
the chosen quarter into that cell of a scratch copy *at the zip/XML level* (one ``<c>``
element of one sheet part replaced by an inline string) and lets headless LibreOffice
recalculate and print the Dashboard (:func:`xlmonitor.libreoffice.to_pdf`). An openpyxl round
trip would be simpler but drops the trend charts and the icon-set conditional formats, so it
is not used. The Dashboard's own print setup (A4 landscape, fit to one page wide and tall) makes
the PDF one page; the PNG is that page rendered by poppler at ``dpi`` (150 by default: 1754 ×
1241 px, sharp in a letter at full text width).

**Tidy data.** :func:`export_tables` writes ``tblData``, ``tblInzendingen`` and
``tblBevindingen`` as ``data``, ``inzendingen`` and ``bevindingen`` ``.csv`` (or ``.parquet``
with pyarrow). Tables are found by name through the workbook's table parts (the same
definitions openpyxl exposes as ``ws.tables``) and read with openpyxl's read-only mode, which
streams the 84,000-row Data sheet instead of building it in memory.

CSV format, chosen for Power BI / Power Query (the audience of this export; Excel users have
the master's tables themselves):

* UTF-8 **with BOM**: Power Query infers UTF-8 only from a BOM (otherwise it assumes the
  Windows code page and garbles ``ë``, ``·``, ``€``); Excel reads the BOM too;
* **comma** separator, fields quoted only when needed (RFC 4180, CRLF line ends): Power Query
  treats a ``.csv`` as comma-separated, pandas and R too. Dutch Excel's double-click expects
  ``;``, but *Gegevens > Van tekst/CSV* (Power Query again) reads the comma file correctly;
* numbers without thousands separator and with a **dot** decimal (all figures in these tables
  are whole numbers, so the decimal question does not arise in practice);
* dates **ISO 8601** (``2021-09-30``, date-times ``2021-10-18 10:00:00``): read as dates in
  every locale, where ``30-09-2021`` is ambiguous;
* a text that starts with ``= + - @`` (or a tab/CR) gets a leading apostrophe, the CSV form of
  the quote prefix the master uses, so Excel never runs a submitted text as a formula
  (CSV injection). Parquet keeps the text as is.
"""

from __future__ import annotations

import csv
import io
import math
import posixpath
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from xlmonitor.atomic import write_bytes_atomically
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.libreoffice import pdf_to_png, to_pdf
from xlmonitor.periods import parse_period

__all__ = [
    "DASHBOARD_SHEET",
    "DEFAULT_DPI",
    "TIDY_TABLES",
    "MasterTable",
    "export_dashboard",
    "export_tables",
    "master_quarters",
    "read_table",
    "resolve_peilperiode",
]

DASHBOARD_SHEET = "Dashboard"
PEILPERIODE_NAME = "Peilperiode"  # defined name of the Dashboard's input cell
QUARTERS_NAME = "Kwartalen"       # defined name of the quarter list (its data validation)
DEFAULT_DPI = 150
#: file stem → table name, in the order they are written.
TIDY_TABLES = {"data": "tblData", "inzendingen": "tblInzendingen",
               "bevindingen": "tblBevindingen"}
CSV_DELIMITER = ","

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_REFERENCE = re.compile(
    r"^=?(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^!']+))!"
    r"\$?(?P<c1>[A-Z]{1,3})\$?(?P<r1>\d+)(?::\$?(?P<c2>[A-Z]{1,3})\$?(?P<r2>\d+))?$")
_RISKY_START = ("=", "+", "-", "@", "\t", "\r")


# -- the package: sheets, defined names and tables from the zip ----------------------------

@dataclass(frozen=True)
class MasterTable:
    """An Excel table (ListObject) of the master: where it is and its column names."""

    name: str
    sheet: str
    ref: str                 # A1 range including header (and totals) rows
    columns: list[str]
    header_rows: int = 1
    totals_rows: int = 0


class _Package:
    """The parts of an .xlsx/.xlsm that locate sheets, defined names and tables."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with zipfile.ZipFile(path) as archive:
                self.names = set(archive.namelist())
                workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
                rels = self._rels(archive, "xl/workbook.xml")
                self.sheet_parts: dict[str, str] = {}
                for sheet in workbook.iterfind("m:sheets/m:sheet", _NS):
                    target = rels.get(sheet.get(_R_ID, ""))
                    if target:
                        self.sheet_parts[sheet.get("name", "")] = target
                self.defined_names = {
                    node.get("name", ""): (node.text or "").strip()
                    for node in workbook.iterfind("m:definedNames/m:definedName", _NS)
                    if node.get("localSheetId") is None}
                self.tables = self._tables(archive)
        except (OSError, zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
            raise UsageError(f"'{path.name}' is geen master-werkmap (.xlsx of .xlsm) die "
                             "xlmonitor kan lezen.") from exc

    @staticmethod
    def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
        """Relationship id → absolute part name, for ``part``."""
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", f"{name}.rels")
        if rels_part not in archive.namelist():
            return {}
        root = ElementTree.fromstring(archive.read(rels_part))
        targets = {}
        for rel in root.iterfind("rel:Relationship", _NS):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            absolute = (target.lstrip("/") if target.startswith("/")
                        else posixpath.normpath(posixpath.join(folder, target)))
            targets[rel.get("Id", "")] = absolute
        return targets

    def _tables(self, archive: zipfile.ZipFile) -> dict[str, MasterTable]:
        tables = {}
        for sheet, part in self.sheet_parts.items():
            for target in self._rels(archive, part).values():
                if not re.search(r"/tables/[^/]+\.xml$", target) or target not in self.names:
                    continue
                root = ElementTree.fromstring(archive.read(target))
                name = root.get("displayName") or root.get("name") or ""
                columns = [c.get("name", "") for c in
                           root.iterfind("m:tableColumns/m:tableColumn", _NS)]
                tables[name] = MasterTable(
                    name, sheet, root.get("ref", ""), columns,
                    int(root.get("headerRowCount", "1")), int(root.get("totalsRowCount", "0")))
        return tables

    def reference(self, name: str) -> tuple[str, str]:
        """(sheet, ``A1`` or ``A1:B9``) of a workbook-level defined name."""
        text = self.defined_names.get(name)
        match = _REFERENCE.match(text or "")
        if not match:
            raise UsageError(f"De master '{self.path.name}' heeft geen naam '{name}'"
                             f"{' die naar één cel of bereik wijst' if text else ''}; is dit "
                             "een master van xlmonitor?")
        sheet = match["quoted"].replace("''", "'") if match["quoted"] else match["plain"]
        cells = f"{match['c1']}{match['r1']}"
        if match["c2"]:
            cells += f":{match['c2']}{match['r2']}"
        return sheet, cells

    def table(self, name: str) -> MasterTable:
        if name not in self.tables:
            raise UsageError(f"De master '{self.path.name}' heeft geen tabel '{name}'; "
                             f"aanwezige tabellen: {', '.join(sorted(self.tables)) or 'geen'}.")
        return self.tables[name]


def _master(path: str | Path) -> _Package:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"Bestand '{path}' bestaat niet.")
    return _Package(path)


def _read_range(path: Path, sheet: str, ref: str) -> list[tuple[object, ...]]:
    """Cell values (cached results for formulas) of ``sheet!ref``, row by row."""
    import openpyxl
    from openpyxl.utils.cell import range_boundaries

    min_col, min_row, max_col, max_row = range_boundaries(ref)
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook[sheet]
        return [tuple(row) for row in worksheet.iter_rows(
            min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col,
            values_only=True)]
    finally:
        workbook.close()


# -- peilperiode ---------------------------------------------------------------------------

def master_quarters(master: str | Path) -> list[str]:
    """The quarters the master offers as peilperiode (its ``Kwartalen`` list)."""
    package = _master(master)
    sheet, ref = package.reference(QUARTERS_NAME)
    values = [row[0] for row in _read_range(package.path, sheet, ref) if row]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def resolve_peilperiode(master: str | Path, peilperiode: str) -> str:
    """``peilperiode`` in canonical form, checked against the master's quarter list.

    Raises :class:`UsageError` (one Dutch line) for a text that is no quarter or a quarter the
    master does not know.
    """
    canonical = parse_period(peilperiode)
    if canonical is None:
        raise UsageError(f"Ongeldige peilperiode '{peilperiode}'. Schrijf een kwartaal als "
                         "2021-Q3.")
    quarters = master_quarters(master)
    if canonical not in quarters:
        listed = ", ".join(quarters) if quarters else "geen"
        raise UsageError(f"Peilperiode {canonical} staat niet in de master "
                         f"'{Path(master).name}'; kies uit {listed}.")
    return canonical


def _cell_pattern(cell: str) -> re.Pattern[str]:
    # One <c> element with r="B4", with or without a namespace prefix, empty or with content.
    # Cells never nest, so the lazy match ends at this cell's own closing tag.
    return re.compile(
        rf'<(?P<prefix>(?:\w+:)?)c\b(?P<attrs>[^>]*?\sr="{cell}"[^>]*?)'
        r"(?:/>|>(?P<body>.*?)</(?P=prefix)c>)",
        re.DOTALL)


def _copy_with_cell_text(package: _Package, dest: Path, sheet: str, cell: str,
                         text: str) -> None:
    """Copy the workbook to ``dest`` with ``sheet!cell`` holding the string ``text``.

    Only that one element of that one sheet part changes; every other zip entry (charts,
    drawings, styles with their conditional formats, VBA) is copied byte for byte. The value
    becomes an inline string (``t="inlineStr"``), so the shared-string table need not change.
    Cached formula results stay stale in the copy; LibreOffice recalculates on load.
    """
    part = package.sheet_parts.get(sheet)
    if part is None:
        raise UsageError(f"De master '{package.path.name}' heeft geen werkblad '{sheet}'.")
    cell = cell.replace("$", "")
    with zipfile.ZipFile(package.path) as zin, zipfile.ZipFile(
            dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == part:
                xml = data.decode("utf-8")

                def replace(match: re.Match[str]) -> str:
                    prefix = match["prefix"]
                    attrs = re.sub(r'\s+t="[^"]*"', "", match["attrs"]).rstrip(" /")
                    return (f'<{prefix}c{attrs} t="inlineStr"><{prefix}is><{prefix}t>'
                            f"{escape(text)}</{prefix}t></{prefix}is></{prefix}c>")

                new_xml, count = _cell_pattern(cell).subn(replace, xml, count=1)
                if count != 1:
                    raise UsageError(f"De cel {sheet}!{cell} ({PEILPERIODE_NAME}) ontbreekt in "
                                     f"'{package.path.name}'; is dit een master van xlmonitor?")
                data = new_xml.encode("utf-8")
            zout.writestr(item, data)


# -- Dashboard as PDF / PNG ----------------------------------------------------------------

def export_dashboard(master: str | Path, *, pdf: str | Path | None = None,
                     png: str | Path | None = None, peilperiode: str | None = None,
                     dpi: int = DEFAULT_DPI, timeout: float = 180) -> list[Path]:
    """Write the Dashboard of ``master`` as a one-page landscape PDF and/or a PNG.

    ``peilperiode`` (default: the one saved in the master) is set in a scratch copy; the
    master is only read. Returns the files written. Raises :class:`UsageError` for a bad
    peilperiode or master, :class:`~xlmonitor.errors.LibreOfficeError` (Dutch) when
    LibreOffice or poppler is missing or fails, :class:`WriteError` when an output cannot be
    written.
    """
    if pdf is None and png is None:
        raise UsageError("Kies een PDF- en/of PNG-bestand om het Dashboard in te schrijven.")
    if not 36 <= int(dpi) <= 600:
        raise UsageError(f"Ongeldige resolutie {dpi} dpi; kies een waarde van 36 tot 600.")
    package = _master(master)
    outputs = [Path(p) for p in (pdf, png) if p is not None]
    _check_outputs(package.path, outputs)
    sheet, cell = package.reference(PEILPERIODE_NAME)
    chosen = resolve_peilperiode(package.path, peilperiode) if peilperiode else None

    written = []
    with tempfile.TemporaryDirectory(prefix="xlmonitor-export-") as scratch:
        work = Path(scratch) / f"dashboard{package.path.suffix.lower()}"
        if chosen is None:
            shutil.copyfile(package.path, work)
        else:
            _copy_with_cell_text(package, work, sheet, cell, chosen)
        pdf_path = Path(pdf) if pdf is not None else Path(scratch) / "dashboard.pdf"
        with _writing(pdf_path):
            to_pdf(work, pdf_path, sheet=DASHBOARD_SHEET, timeout=timeout)
        if pdf is not None:
            written.append(pdf_path)
        if png is not None:
            with _writing(Path(png)):
                written.append(pdf_to_png(pdf_path, Path(png), dpi=int(dpi)))
    return written


def _check_outputs(master: Path, outputs: Sequence[Path]) -> None:
    for output in outputs:
        if output.exists() and output.resolve() == master.resolve():
            raise UsageError(f"'{output}' is de master zelf; kies een ander uitvoerbestand.")


class _writing:
    """Turn an OSError while writing ``path`` into a Dutch :class:`WriteError` (exit 3)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if isinstance(error, OSError):
            raise WriteError(f"'{self.path}' kan niet worden geschreven "
                             f"({error.strerror or error}); is de map schrijfbaar en het "
                             "bestand niet geopend?") from error
        return False


# -- tidy data -----------------------------------------------------------------------------

def read_table(master: str | Path, name: str) -> tuple[list[str], list[tuple[object, ...]]]:
    """Column names and body rows of the table ``name`` in ``master``.

    Rows that are entirely empty are left out (XlsxWriter gives an empty table one blank body
    row, and Excel users sometimes clear a row without deleting it).
    """
    package = _master(master)
    table = package.table(name)
    rows = _read_range(package.path, table.sheet, table.ref)
    body = rows[table.header_rows:len(rows) - table.totals_rows]
    width = len(table.columns)
    body = [tuple(row[:width]) + (None,) * (width - len(row)) for row in body]
    return list(table.columns), [row for row in body if any(_present(v) for v in row)]


def export_tables(master: str | Path, outdir: str | Path, *, fmt: str = "csv") -> list[Path]:
    """Write ``data``, ``inzendingen`` and ``bevindingen`` (``fmt`` ``csv`` or ``parquet``)
    into ``outdir`` from the master's tables; returns the files written.

    Each file is written beside its target and then moved over it, so a reader never sees a
    half-written file.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise UsageError("Parquet schrijven vraagt het pakket pyarrow. Installeer het met: "
                             "pip install \"xlmonitor[export]\" (of kies --csv).") from None
    package = _master(master)
    for name in TIDY_TABLES.values():
        package.table(name)  # every table present before anything is written
    outdir = Path(outdir)
    with _writing(outdir):
        outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, name in TIDY_TABLES.items():
        columns, rows = read_table(package.path, name)
        target = outdir / f"{stem}.{fmt}"
        with _writing(target):
            if fmt == "csv":
                _replace_atomically(target, _csv_bytes(columns, rows))
            else:
                _replace_atomically(target, _parquet_bytes(columns, rows))
        written.append(target)
    return written


def _present(value: object) -> bool:
    return value is not None and value != ""


#: The type of each known column, so an export has the same schema whether or not a column
#: happens to hold values (an empty "Ingevuld op" is still a date column in Parquet).
COLUMN_KINDS = {
    "Kwartaaleinde": "date", "Aanmeldingen": "int", "Gestarte trajecten": "int",
    "Afgeronde scholing": "int", "Bemiddeld naar werk": "int",
    "Ingevuld op": "date", "Gewijzigd": "datetime", "Fouten": "int", "Waarschuwingen": "int",
}
#: kind → the value kinds it can hold.
_HOLDS = {"int": {"int"}, "float": {"int", "float"}, "date": {"date"},
          "datetime": {"date", "datetime"}}


def _column_kinds(columns: Sequence[str], rows: Sequence[tuple[object, ...]]) -> list[str]:
    """Per column: ``int``, ``float``, ``date``, ``datetime`` or ``text``.

    A known column keeps its declared kind unless a value does not fit (someone typed text
    into the master's table); other columns get the narrowest kind that holds every value.
    """
    kinds = []
    for j, column in enumerate(columns):
        seen = {_kind(row[j]) for row in rows if _present(row[j])}
        declared = COLUMN_KINDS.get(column)
        if declared is not None and seen <= _HOLDS[declared]:
            kinds.append(declared)
            continue
        fitting = [kind for kind in ("int", "float", "date", "datetime")
                   if seen and seen <= _HOLDS[kind]]
        kinds.append(fitting[0] if fitting else "text")
    return kinds


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "text"
    if isinstance(value, datetime):
        return "date" if value.time() == time() else "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "int" if math.isfinite(value) and value.is_integer() else "float"
    return "text"


def _csv_value(value: object, kind: str) -> str:
    if not _present(value):
        return ""
    if kind == "int":
        return str(int(value))  # type: ignore[arg-type]
    if kind == "float":
        return repr(float(value))  # type: ignore[arg-type]
    if kind == "date":
        return (value.date() if isinstance(value, datetime) else value).isoformat()  # type: ignore[union-attr]
    if kind == "datetime":
        moment = value if isinstance(value, datetime) else datetime.combine(value, time())  # type: ignore[arg-type]
        return moment.isoformat(sep=" ", timespec="seconds")
    text = _text(value)
    # CSV injection: Excel runs a field starting with = + - @ as a formula. The apostrophe is
    # what Excel itself shows for a quote-prefixed cell.
    return "'" + text if text.startswith(_RISKY_START) else text


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _csv_bytes(columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> bytes:
    rows = list(rows)
    kinds = _column_kinds(columns, rows)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(v, k) for v, k in zip(row, kinds, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")


def _parquet_bytes(columns: Sequence[str], rows: Sequence[tuple[object, ...]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = _column_kinds(columns, rows)
    types = {"int": pa.int64(), "float": pa.float64(), "date": pa.date32(),
             "datetime": pa.timestamp("s"), "text": pa.string()}
    arrays = []
    for j, kind in enumerate(kinds):
        values: list[object] = []
        for row in rows:
            value = row[j]
            if not _present(value):
                values.append(None if kind != "text" or value is None else "")
            elif kind == "int":
                values.append(int(value))  # type: ignore[arg-type]
            elif kind == "float":
                values.append(float(value))  # type: ignore[arg-type]
            elif kind == "date":
                values.append(value.date() if isinstance(value, datetime) else value)
            elif kind == "datetime":
                values.append(value if isinstance(value, datetime)
                              else datetime.combine(value, time()))  # type: ignore[arg-type]
            else:
                values.append(_text(value))
        arrays.append(pa.array(values, type=types[kind]))
    table = pa.Table.from_arrays(arrays, names=list(columns))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _replace_atomically(target: Path, data: bytes) -> None:
    write_bytes_atomically(target, data)
