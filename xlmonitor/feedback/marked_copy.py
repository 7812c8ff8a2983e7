"""The feedback copy: the municipality's own workbook with every finding marked at its cell.

``write_feedback_copy`` writes ``<outdir>/<name>.controle.xlsx`` (:func:`feedback_path`):

* a first, active sheet ``Controle``: title, a one-line verdict, how to use the copy, and a
  table Ernst · Blad · Cel · Melding (errors first) whose Cel links to the cell;
* the submission's own sheets, each offending cell filled (red for ``fout``, yellow for
  ``waarschuwing``), bordered, and carrying one comment (author ``xlmonitor``) that lists the
  Dutch messages for that cell.

The source file is only read. The copy is always a macro-free ``.xlsx``. When openpyxl cannot
open the source (``.xls``, ``.ods``, CSV, a password-protected or corrupt file) the copy holds
only the ``Controle`` sheet, without links; a bad source never raises. A source intake refused
as unreadable or over a limit is not opened at all (a zip or entity bomb stays closed).

Personal data (:mod:`xlmonitor.privacy`: BSN, e-mail address, phone number) is masked in every
cell value and note of the copy, its sheet names, headers and footers, names, data validations
and document properties (:mod:`xlmonitor.feedback.masking`; the Controle sheet then says so) and
every message, whatever ``mask`` says; also in the source's *name*, wherever the copy shows it
and in the copy's own name (:func:`feedback_path`).

The same source and findings give the same bytes on every run: the copy says it was saved when
the source was (the source's modification time, :func:`~xlmonitor.reproducible.save_workbook`),
not when xlmonitor ran.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from xlmonitor import privacy
from xlmonitor.atomic import replace_atomically
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.feedback.masking import mask_personal_data
from xlmonitor.findings import Finding, group_findings
from xlmonitor.reproducible import save_workbook, utc_time

__all__ = [
    "COMMENT_AUTHOR",
    "CONTROL_SHEET",
    "FeedbackInInboxError",
    "feedback_path",
    "write_feedback_copy",
]

log = logging.getLogger(__name__)

CONTROL_SHEET = "Controle"
COMMENT_AUTHOR = "xlmonitor"
SUFFIX = ".controle.xlsx"

# Excel's own "Bad" and "Neutral" cell styles, so the marks look familiar to Excel users.
_FILL = {
    True: PatternFill("solid", fgColor="FFC7CE"),
    False: PatternFill("solid", fgColor="FFEB9C"),
}
_FONT_COLOUR = {True: "9C0006", False: "9C5700"}
_BORDER = {
    True: Border(*(Side("medium", color="C00000"),) * 4),
    False: Border(*(Side("thin", color="BF8F00"),) * 4),
}
_LABEL = {True: "Fout", False: "Waarschuwing"}

#: Sources whose parts unpack to more than this are not opened (a zip bomb costs memory).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: A finding on a range marks at most this many cells (the comment goes on the first).
MAX_CELLS_PER_FINDING = 500

#: Intake refused these sources before reading cells: openpyxl does not open them either.
_NOT_OPENED = {"bestand-onleesbaar", "bestand-te-groot", "bestand-versleuteld",
               "limiet-overschreden"}

_CELL_REF = re.compile(r"^\$?[A-Za-z]{1,3}\$?\d{1,7}(?::\$?[A-Za-z]{1,3}\$?\d{1,7})?$")

Mask = Callable[[str], str]


class FeedbackInInboxError(UsageError, ValueError):
    """The feedback folder is the submission's own folder: the inbox is never written to.

    A ``ValueError`` for library callers and a :class:`UsageError` (exit code 2, Dutch
    message) for the command line.
    """


@dataclass
class _Row:
    """One line of the Controle table."""

    finding: Finding
    message: str
    sheet_order: int = 10**6
    position: tuple[int, int] = (0, 0)
    target: str | None = None  # internal link location, e.g. "'Invoer'!D12"
    renamed_sheet: str = ""  # the copy's name of a sheet named after personal data


def feedback_path(source: Path, outdir: Path) -> Path:
    """Where the feedback copy of ``source`` goes: ``<outdir>/<name>.controle.xlsx``.

    ``<name>`` is the source's stem for an ``.xlsx`` (``Huizen.xlsx`` gets
    ``Huizen.controle.xlsx``) and its whole name otherwise (``Huizen.xls`` gets
    ``Huizen.xls.controle.xlsx``), so a municipality that re-saves ``X.xls`` as ``X.xlsx``
    gets two copies, not one that overwrites the other. An ``.xlsx`` whose stem itself ends in
    a workbook extension keeps its whole name too (``X.xls.xlsx`` gets
    ``X.xls.xlsx.controle.xlsx``, not ``X.xls``'s name). Two files whose names end in
    :data:`_SUBMISSION_SUFFIXES` (whatever the case) therefore never share a copy.

    A name with personal data in it is masked, with ``x`` (Windows allows no ``*`` in a file
    name), and gets the first 8 hex digits of the source's sha256 (as in the register's
    ``sha256`` column): two names can mask to the same text, and one copy must not overwrite
    the other. A digest of the *name* would not do: the masked digits leave few enough
    candidates to try them all.
    """
    source = Path(source)
    shown = privacy.shown_file_name(source.name)
    base = _copy_base(shown)
    if shown != source.name:
        base = base.replace("*", "x")
        try:
            with open(source, "rb") as handle:
                base += "-" + hashlib.file_digest(handle, "sha256").hexdigest()[:8]
        except OSError:  # gone or unreadable: the copy, if any, only lists the findings
            pass
    return Path(outdir) / f"{base}{SUFFIX}"


#: What a submission's name ends in (any case); ``.csv`` because ``validate`` takes it too.
_SUBMISSION_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")


def _copy_base(name: str) -> str:
    """The stem of an ``.xlsx`` name (exactly that case) whose stem has no workbook
    extension of its own; any other name whole."""
    stem = name.removesuffix(".xlsx")
    if stem and stem != name and Path(stem).suffix.lower() not in _SUBMISSION_SUFFIXES:
        return stem
    return name


def write_feedback_copy(
    source: Path,
    findings: list[Finding],
    outdir: Path,
    *,
    mask: Mask | None = None,
) -> Path | None:
    """Write the feedback copy of ``source`` into ``outdir``; returns its path.

    Returns ``None`` when there are no findings; a copy left by an earlier run for the same
    file name is then removed, so a fixed submission does not keep an outdated list. ``mask``
    is applied to every message written (comments and the Controle sheet). Raises
    :class:`FeedbackInInboxError` (a ``ValueError``) when ``outdir`` is the source's own
    folder (the inbox) and :class:`~xlmonitor.errors.WriteError` when the copy cannot be
    written.
    """
    source, outdir = Path(source), Path(outdir)
    if outdir.resolve() == source.resolve().parent:
        raise FeedbackInInboxError(
            f"De map voor terugkoppeling ({outdir}) is de map van het bestand "
            f"{privacy.shown_file_name(source.name)} "
            "(de inbox); kies een andere map, controlebestanden komen nooit in de inbox."
        )
    target = feedback_path(source, outdir)
    if not findings:
        try:
            target.unlink(missing_ok=True)
        except OSError:  # open in Excel: an outdated list is no reason to stop the run
            log.warning("could not remove outdated feedback copy %s", target, exc_info=True)
        return None

    rows = [_Row(f, (mask or _identity)(privacy.mask_text(f.message))) for f in findings]
    saved_at = _saved_at(source)
    if any(f.code in _NOT_OPENED for f in findings):
        workbook, note = None, _unreadable(source)
    else:
        workbook, note = _open_source(source)
    if workbook is not None:
        try:
            masked, renamed = mask_personal_data(workbook, COMMENT_AUTHOR)
            if masked:
                note = " ".join(filter(None, [note, _masked_note(masked)]))
            _mark_cells(workbook, rows, renamed)
            _add_control_sheet(workbook, source, _grouped_rows(rows, mask), note)
            return _save(workbook, target, saved_at)
        except WriteError:
            raise
        except Exception:  # a workbook openpyxl reads but cannot write back
            log.warning("feedback copy of %s falls back to a list only", source, exc_info=True)
            note = (
                "Uw werkmap kon niet worden gekopieerd; daarom staan hieronder alleen de "
                "meldingen, zonder koppelingen naar de cellen."
            )
            for row in rows:
                row.target = None
    workbook = Workbook()
    workbook.remove(workbook.active)
    _add_control_sheet(workbook, source, _grouped_rows(rows, mask), note)
    return _save(workbook, target, saved_at)


def _grouped_rows(rows: list[_Row], mask: Mask | None) -> list[_Row]:
    """The Controle table's lines: ``rows`` (one per finding, each cell marked and
    commented) grouped into cell ranges (:func:`~xlmonitor.findings.group_findings`); a
    group links to, and sorts by, its first cell."""
    by_finding = {id(row.finding): row for row in rows}
    by_cell = {(r.finding.sheet, r.finding.cell, r.finding.code): r for r in rows}
    table = []
    for item in group_findings([row.finding for row in rows]):
        if id(item) in by_finding:
            table.append(by_finding[id(item)])
            continue
        first = by_cell[(item.sheet, item.cells[0], item.code)]
        grouped = _Row(item, (mask or _identity)(privacy.mask_text(item.message)),
                       first.sheet_order, first.position, first.target)
        grouped.renamed_sheet = first.renamed_sheet  # set by _mark_cells
        table.append(grouped)
    return table


def _identity(text: str) -> str:
    return text


def _saved_at(source: Path) -> datetime:
    """The time the copy claims: the source's modification time, so the same inbox gives the
    same copy. A source that cannot be looked at: the zip format's first day."""
    try:
        return utc_time(source.stat().st_mtime)
    except OSError:
        return datetime(1980, 1, 1)


# --------------------------------------------------------------------------- reading


def _unreadable(source: Path) -> str:
    return (
        f"Uw bestand {privacy.shown_file_name(source.name)} kon niet als Excel-werkmap "
        "worden geopend; daarom staan "
        "hieronder alleen de meldingen, zonder koppelingen naar de cellen."
    )


def _open_source(source: Path) -> tuple[Workbook | None, str]:
    """The submission as an editable workbook, or ``None`` and why not (Dutch, for the sheet)."""
    unreadable = _unreadable(source)
    try:
        data = source.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                return None, unreadable
        # openpyxl accepts only .xlsx/.xlsm/.xltx/.xltm *names*; from bytes it checks content.
        # keep_vba=False drops the VBA project, so the copy is an ordinary, macro-free .xlsx.
        # openpyxl warns about every extension it drops (slicers, x14 validations, ...): the
        # copy is for reading, so those warnings are noise here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), keep_vba=False, rich_text=True)
    except Exception:  # bad zip, missing parts, broken XML, encrypted (OLE) file, ...
        log.info("feedback copy: %s cannot be opened with openpyxl", source, exc_info=True)
        return None, unreadable
    workbook.template = False  # an .xltx/.xltm source still becomes a plain workbook
    note = ""
    if source.suffix.lower() in {".xlsm", ".xltm"} or "xl/vbaProject.bin" in names:
        note = (
            f"Uw bestand {privacy.shown_file_name(source.name)} bevat macro's. Deze kopie is "
            "opgeslagen als .xlsx "
            "zonder macro's, zodat hij veilig kan worden gemaild; in uw eigen bestand blijven "
            "ze staan."
        )
    return workbook, note


# --------------------------------------------------------------------------- marking


def _masked_note(places: list[str]) -> str:
    listed = places[0] if len(places) == 1 else f"{', '.join(places[:-1])} en {places[-1]}"
    return (f"Wat op persoonsgegevens lijkt, is in deze kopie onherkenbaar gemaakt ({listed}): "
            "er staat bijvoorbeeld *****6782 in plaats van een burgerservicenummer. Uw eigen "
            "bestand is niet veranderd; de meldingen hieronder zeggen wat u daar weghaalt.")


def _mark_cells(workbook: Workbook, rows: list[_Row], renamed: dict[str, Worksheet]) -> None:
    """Fill, border and comment every offending cell; set each row's link target. A finding
    names a renamed sheet as ``renamed`` does (masked with ``*``)."""
    sheets = {ws.title: ws for ws in workbook.worksheets}
    folded = {title.casefold(): ws for title, ws in sheets.items()}
    order = {ws.title: index for index, ws in enumerate(workbook.worksheets)}
    notes: dict[tuple[str, str], list[_Row]] = {}
    for row in rows:
        f = row.finding
        ws = (sheets.get(f.sheet) or folded.get(f.sheet.casefold()) or renamed.get(f.sheet)) \
            if f.sheet else None
        if ws is None:
            continue
        if renamed.get(f.sheet) is ws:  # the Blad column names the tab as the copy shows it
            row.renamed_sheet = ws.title
            ws.sheet_state = "visible"  # a hidden sheet named after a client: show where
        row.sheet_order = order[ws.title]
        ref = _clean_ref(f.cell)
        if ref is None:  # a sheet-level finding (missing column, ...): link to the sheet
            row.target = f"{_quote(ws.title)}!A1"
            continue
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        anchor = _top_left_of_merge(ws, min_row, min_col)
        row.position = (min_row, min_col)
        row.target = f"{_quote(ws.title)}!{anchor}"
        if ws.sheet_state != "visible":  # a link into a hidden sheet goes nowhere
            ws.sheet_state = "visible"
        for coordinate in _cells(ws, min_row, min_col, max_row, max_col):
            _paint(ws, coordinate, f.is_error)
        notes.setdefault((ws.title, anchor), []).append(row)
    marked: dict[str, bool] = {}
    for (title, anchor), cell_rows in notes.items():
        _comment(sheets[title][anchor], cell_rows)
        has_error = any(r.finding.is_error for r in cell_rows)
        marked[title] = marked.get(title, False) or has_error
    for title, has_error in marked.items():
        ws = sheets[title]
        ws.sheet_properties.tabColor = "C00000" if has_error else "BF8F00"
        # Excel then prints the comments on a page after the sheet (Pagina-instelling > Blad).
        ws.page_setup.cellComments = "atEnd"


def _clean_ref(cell: str) -> str | None:
    ref = cell.strip().rsplit("!", 1)[-1].replace("$", "").upper()
    return ref if ref and _CELL_REF.match(ref) else None


def _quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _merged_range(ws: Worksheet, row: int, col: int) -> CellRange | None:
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= col <= merged.max_col:
            return merged
    return None


def _top_left_of_merge(ws: Worksheet, row: int, col: int) -> str:
    """The cell that holds a merged range's value and comment (Excel ignores the others)."""
    merged = _merged_range(ws, row, col)
    if merged is not None:
        row, col = merged.min_row, merged.min_col
    return f"{get_column_letter(col)}{row}"


def _cells(ws: Worksheet, min_row: int, min_col: int, max_row: int, max_col: int) -> list[str]:
    """Coordinates to paint: the range, widened to whole merged ranges, capped."""
    coordinates: set[str] = set()
    for r in range(min_row, max_row + 1):
        for c in range(min_col, max_col + 1):
            if len(coordinates) >= MAX_CELLS_PER_FINDING:
                return sorted(coordinates)
            merged = _merged_range(ws, r, c)
            if merged is None:
                coordinates.add(f"{get_column_letter(c)}{r}")
            else:
                # openpyxl copied the top-left border to the edges at load time; a new
                # border must be set on every cell of the range to outline all of it.
                coordinates.update(
                    f"{get_column_letter(mc)}{mr}"
                    for mr in range(merged.min_row, merged.max_row + 1)
                    for mc in range(merged.min_col, merged.max_col + 1)
                )
    return sorted(coordinates)


def _paint(ws: Worksheet, coordinate: str, is_error: bool) -> None:
    cell = ws[coordinate]
    if cell.fill == _FILL[True] and not is_error:
        return  # a cell with an error stays red when a warning is added
    cell.fill = _FILL[is_error]
    cell.border = _BORDER[is_error]
    # The marked cell must be visible, or the link and the fill show nothing.
    ws.row_dimensions[cell.row].hidden = False
    for dimension in ws.column_dimensions.values():
        if dimension.hidden and dimension.min and dimension.max:
            if dimension.min <= cell.column <= dimension.max:
                dimension.hidden = False


def _comment(cell: Cell, rows: list[_Row]) -> None:
    rows = sorted(rows, key=lambda r: not r.finding.is_error)
    parts = [f"{_LABEL[r.finding.is_error]}: {r.message}" for r in rows]
    if cell.comment is not None and cell.comment.text.strip():
        parts.append(f"Eerdere opmerking: {cell.comment.text.strip()}")
    text = "\n\n".join(parts)
    comment = Comment(text, COMMENT_AUTHOR)
    # openpyxl writes these as VML pixels; Excel's note font (9 pt) fits about 52 characters
    # on a 340 px line and needs about 13 px per line.
    lines = sum(max(1, math.ceil(len(line) / 52)) for line in text.split("\n"))
    comment.width = 340
    comment.height = min(420, 16 + 13 * lines)
    cell.comment = comment


# --------------------------------------------------------------------------- the Controle sheet


# Fonts are named: a Font without a name makes LibreOffice fall back to a serif face.
_FONT_NAME = "Calibri"
_TITLE_FONT = Font(name=_FONT_NAME, bold=True, size=14)
_BOLD = Font(name=_FONT_NAME, bold=True)
_PLAIN = Font(name=_FONT_NAME)
_LINK_FONT = Font(name=_FONT_NAME, color="0563C1", underline="single")
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_THIN = Side("thin", color="A6A6A6")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_COLUMNS = (("Ernst", 15), ("Blad", 18), ("Cel", 9), ("Melding", 72))
_TABLE_CHARS = sum(width for _, width in _COLUMNS)
#: The Cel column widens (and Melding narrows as much) for grouped findings' ranges, up to
#: this: LibreOffice does not wrap a cell that holds a link, so a range list must fit.
_WIDEST_CEL = 20


def _widths(rows: list[_Row]) -> list[int]:
    """Column widths of the table: :data:`_COLUMNS`, Cel as wide as its longest text."""
    widths = [width for _, width in _COLUMNS]
    longest = max((len(r.finding.cell) for r in rows), default=0)
    extra = min(max(longest + 2 - widths[2], 0), _WIDEST_CEL - widths[2])
    widths[2] += extra
    widths[3] -= extra
    return widths


def _add_control_sheet(workbook: Workbook, source: Path, rows: list[_Row], note: str) -> None:
    title = CONTROL_SHEET
    while title in workbook.sheetnames:  # the municipality has its own sheet of that name
        title = f"{CONTROL_SHEET} xlmonitor" if title == CONTROL_SHEET else f"{title}+"
    ws = workbook.create_sheet(title, 0)
    # Two selected tabs would group the sheets in Excel: typing would change both.
    for other in workbook.worksheets[1:]:
        other.sheet_view.tabSelected = False
    for chart in workbook.chartsheets:
        for view in chart.sheetViews.sheetView:
            view.tabSelected = False
    ws.sheet_view.tabSelected = True
    workbook.active = 0
    for view in workbook.views:
        view.firstSheet = 0
    errors = sum(r.finding.is_error for r in rows)
    ws.sheet_properties.tabColor = "C00000" if errors else "BF8F00"
    ws.sheet_view.showGridLines = False

    widths = _widths(rows)
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    _text(ws.cell(1, 1), f"Controle van {privacy.shown_file_name(source.name)}").font = \
        _TITLE_FONT
    verdict = _text(ws.cell(2, 1), _verdict(errors, len(rows) - errors))
    verdict.font = Font(name=_FONT_NAME, bold=True, size=12, color=_FONT_COLOUR[bool(errors)])
    intro = [_how_to_use(has_links=any(r.target for r in rows))]
    if note:
        intro.append(note)
    line = 3
    for text in intro:
        _banner(ws, line, text)
        line += 1

    header = line + 1
    for column, (name, _) in enumerate(_COLUMNS, start=1):
        cell = _text(ws.cell(header, column), name)
        cell.font, cell.fill, cell.border = _BOLD, _HEADER_FILL, _GRID
    ordered = sorted(
        rows,
        key=lambda r: (
            not r.finding.is_error,  # errors first
            bool(r.finding.sheet),  # then whole-file findings, then in sheet and cell order
            bool(r.finding.cell),
            r.sheet_order,
            r.position,
        ),
    )
    for offset, row in enumerate(ordered, start=1):
        _table_row(ws, header + offset, row, widths)
    last = header + len(ordered)

    ws.freeze_panes = ws.cell(header + 1, 1)
    ws.auto_filter.ref = f"A{header}:D{last}"
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.oddFooter.center.text = "Pagina &P van &N"


def _verdict(errors: int, warnings_: int) -> str:
    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    if errors and warnings_:
        counts = f"{count(errors, 'fout', 'fouten')}, "
        counts += count(warnings_, "waarschuwing", "waarschuwingen")
    elif errors:
        counts = count(errors, "fout", "fouten")
    else:
        return (
            f"Geen fouten; alleen {count(warnings_, 'waarschuwing', 'waarschuwingen')} — "
            "opnieuw aanleveren is niet nodig, maar kijk de meldingen wel na."
        )
    return f"{counts} — los de fouten op en lever het bestand opnieuw aan."


def _how_to_use(*, has_links: bool) -> str:
    if not has_links:
        return (
            "Hieronder staat wat er aan het bestand moet worden verbeterd. Verbeter uw eigen "
            "bestand en lever dat opnieuw aan."
        )
    return (
        "Klik in de kolom Cel om naar de cel te gaan. In de werkbladen is een cel met een fout "
        "rood gekleurd en een cel met een waarschuwing geel; de melding staat ook in de "
        "opmerking bij de cel. Verbeter de cellen in uw eigen bestand (niet in deze kopie) en "
        "lever dat opnieuw aan."
    )


def _banner(ws: Worksheet, row: int, text: str) -> None:
    """A wrapped line of text across the table's width."""
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(_COLUMNS))
    cell = _text(ws.cell(row, 1), text)
    cell.alignment, cell.font = _WRAP_TOP, _PLAIN
    ws.row_dimensions[row].height = _height(_lines(text, _TABLE_CHARS))


def _lines(text: str, width: float) -> int:
    """Lines ``text`` needs in a wrapped cell ``width`` characters wide (a safe guess).

    A column width counts digits; Calibri prose is narrower, about 1.2 characters per digit
    width (measured in LibreOffice with Carlito, Calibri's metric twin).
    """
    per_line = max(1.0, width * 1.2 - 2)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _height(lines: int) -> float:
    # Row heights are set, not left to the reader: LibreOffice does not grow a row for
    # wrapped text it loads from xlsx, and neither program sizes a merged row.
    return 15.0 * lines + 3


def _table_row(ws: Worksheet, row: int, item: _Row, widths: list[int]) -> None:
    f = item.finding
    ernst = _text(ws.cell(row, 1), _LABEL[f.is_error])
    ernst.fill = _FILL[f.is_error]
    ernst.font = Font(name=_FONT_NAME, bold=True, color=_FONT_COLOUR[f.is_error])
    _text(ws.cell(row, 2), item.renamed_sheet or f.sheet or "(hele bestand)")
    cel = _text(ws.cell(row, 3), f.cell)
    melding = _text(ws.cell(row, 4), item.message)
    if item.target:
        link = cel if f.cell else ws.cell(row, 2)
        # A location-only hyperlink is an in-workbook jump: no relationship, no "#" target.
        link.hyperlink = Hyperlink(ref=link.coordinate, location=item.target)
        link.font = _LINK_FONT
    for cell in (ernst, ws.cell(row, 2), cel, melding):
        cell.border = _GRID
        cell.alignment = _WRAP_TOP
        if not cell.hyperlink and cell is not ernst:
            cell.font = _PLAIN
    lines = max(
        _lines(str(c.value or ""), w)
        for c, w in zip((ernst, ws.cell(row, 2), cel, melding), widths, strict=True)
    )
    ws.row_dimensions[row].height = _height(lines)


def _text(cell: Cell, value: str) -> Cell:
    """Write ``value`` as text, never as a formula (a sheet name or message may start '=')."""
    cell.value = value
    if value:
        cell.data_type = "s"
    return cell


# --------------------------------------------------------------------------- writing


def _save(workbook: Workbook, target: Path, saved_at: datetime) -> Path:
    """Save beside ``target`` and replace it in one step: never a half-written copy. The copy
    says it was created and last saved at ``saved_at``, whatever the clock says, so a re-run
    gives the same bytes. (Not the source's own creation date: openpyxl fills in "now" when a
    source has none, and cannot tell which it did.)"""
    try:
        return replace_atomically(target, lambda tmp: save_workbook(
            workbook, tmp, saved_at=saved_at, created=saved_at))
    except OSError as exc:
        raise WriteError(
            f"Het controlebestand {target} kan niet worden geschreven ({exc}); "
            "is het geopend in Excel?"
        ) from exc
