"""The Consolideer button: what the master workbook's VBA runs through xlwings.

``macros/Consolideren.bas`` calls ``RunPython "import xlmonitor.excel;
xlmonitor.excel.consolideer()"``. :func:`consolideer` reads the sheet ``Instellingen`` of the
calling book, runs the same library calls as ``xlmonitor consolidate`` (``load_programme``,
``consolidate``, ``write_feedback_copy``) and refreshes the *open* workbook in place: the
bodies of ``tblData``, ``tblInzendingen`` and ``tblBevindingen`` (tables resized), the
municipality × period matrix on ``Inzendingen`` and the ``Status`` cell on Dashboard. The
Dashboard and Gemeenten formulas read those tables, so Excel recalculates them; nothing is
saved (the user decides, Excel asks on closing). The button adds no rows or columns outside
the tables: the master lays out every quarter of the programme when it is written (peilperiode
list, trend, matrix), so a quarter that started since is already there to fill in.

Everything here only moves values between the library and the book; :func:`table_values`
is the pure "which values go in which table" step, testable without Excel.

The sheet ``Instellingen`` (:func:`write_settings_sheet`) is part of every master with the
button, including the one the scheduled ``xlmonitor consolidate INBOX -o master.xlsm`` writes
(:func:`write_button_master`).

Importing this module does not import xlwings: the scheduled command uses
:func:`write_button_master` on machines without it.
"""

from __future__ import annotations

import math
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from xlmonitor.consolidate import (
    DATA_COLUMNS,
    FINDING_COLUMNS,
    REGISTER_COLUMNS,
    matrix_for_periods,
)
from xlmonitor.errors import UsageError, XlmonitorError
from xlmonitor.privacy import shown_file_name
from xlmonitor.settings import CACHE_FOLDER_NAME

__all__ = [
    "SETTINGS",
    "consolideer",
    "read_settings",
    "saved_settings",
    "settings_for",
    "table_values",
    "write_button_master",
    "write_settings_sheet",
]

SETTINGS_SHEET = "Instellingen"
SETTINGS_TABLE = "tblInstellingen"
SETTINGS_COLUMNS = ["Instelling", "Waarde"]
#: Defined name of the status cell on Dashboard (the "Bijgewerkt: …" line).
STATUS_NAME = "Status"
STATUS_FALLBACK = ("Dashboard", "A3")
#: Header cell of the municipality × period matrix on Inzendingen (publish writes it there).
MATRIX_SHEET, MATRIX_HEADER = "Inzendingen", "A5"
TITLE = "Consolideer"

#: Setting → (default in a new master, explanation shown next to it). Relative paths are
#: relative to the folder of the master workbook.
SETTINGS: dict[str, tuple[str, str]] = {
    "Inbox": ("inbox", "Map met de kwartaalbestanden van de gemeenten. xlmonitor leest deze "
                       "map alleen: er wordt niets in gewijzigd of verwijderd."),
    "Terugkoppeling": ("terugkoppeling", "Map voor de terugkoppeling (.controle.xlsx) van elk "
                                         "bestand met bevindingen. Leeg: geen terugkoppeling."),
    "Programma": ("", "Programmabestand (programma.xlsx) met projecten, doelen en regels. "
                      "Leeg: het programma dat met xlmonitor is meegeleverd."),
    "Python": ("", "Volledig pad naar python.exe, bijvoorbeeld "
                   r"C:\Program Files\Python312\python.exe. Leeg: de Python uit xlwings.conf "
                   "of uit het zoekpad (PATH) van Windows."),
}

TABLES: dict[str, list[str]] = {
    "tblData": DATA_COLUMNS,
    "tblInzendingen": REGISTER_COLUMNS,
    "tblBevindingen": FINDING_COLUMNS,
}
#: Sheet of each refreshed table (publish's layout).
TABLE_SHEETS = {"tblData": "Data", "tblInzendingen": "Inzendingen",
                "tblBevindingen": "Validatie"}


# -- the Instellingen sheet -----------------------------------------------------------------

def settings_for(master: str | Path, *, inbox: str | Path | None = None,
                 feedback: str | Path | None = None, programme: str | Path | None = None,
                 interpreter: str = "") -> dict[str, str]:
    """The Instellingen values for a master at ``master``: paths relative to its folder where
    they can be (so the folder can move or be mapped to another drive letter). Without
    ``inbox`` and ``feedback``, the defaults of a new master: both folders beside it."""
    folder = Path(master).resolve().parent
    new_master = inbox is None and feedback is None

    def relative(path: str | Path | None, default: str) -> str:
        if path is None:
            return default
        try:
            return Path(os.path.relpath(Path(path).resolve(), folder)).as_posix()
        except ValueError:  # another drive on Windows
            return str(Path(path).resolve())

    return {"Inbox": relative(inbox, SETTINGS["Inbox"][0]),
            "Terugkoppeling": relative(feedback,
                                       SETTINGS["Terugkoppeling"][0] if new_master else ""),
            "Programma": relative(programme, ""),
            "Python": interpreter}


def write_settings_sheet(workbook, settings: Mapping[str, str], styles=None):
    """Add sheet ``Instellingen`` with table ``tblInstellingen`` (Instelling, Waarde) to an
    XlsxWriter workbook; the explanation of each setting stands beside the table."""
    sheet = workbook.add_worksheet(SETTINGS_SHEET)
    base = {"font_name": "Calibri", "font_size": 10, "valign": "vcenter"}
    title = getattr(styles, "title", None) or workbook.add_format(
        {**base, "bold": True, "font_size": 18, "font_color": "#1F3864"})
    note = getattr(styles, "note", None) or workbook.add_format(
        {**base, "italic": True, "font_color": "#595959"})
    value = workbook.add_format({**base, "locked": False, "bg_color": "#DDEBF7"})
    label = getattr(styles, "label", None) or workbook.add_format({**base, "bold": True})
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, "Instellingen van de knop Consolideer", title)
    sheet.write_string(1, 0, "De knop op het Dashboard leest deze tabel. Een relatief pad geldt "
                             "vanaf de map van deze werkmap; een leeg veld betekent: de "
                             "standaard.", note)
    header = 3
    sheet.add_table(header, 0, header + len(SETTINGS), 1, {
        "name": SETTINGS_TABLE, "style": "Table Style Light 9",
        "columns": [{"header": c} for c in SETTINGS_COLUMNS]})
    for i, (key, (_default, explanation)) in enumerate(SETTINGS.items(), start=header + 1):
        sheet.write_string(i, 0, key, label)
        # write_string: a path is never a formula or a number, whatever it looks like.
        sheet.write_string(i, 1, str(settings.get(key, "") or ""), value)
        sheet.write_string(i, 2, explanation, note)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 60)
    sheet.set_column(2, 2, 100)
    return sheet


def write_button_master(consolidation, path: str | Path, *, settings: Mapping[str, str],
                        vba_project: bytes | str | Path | None = None,
                        peilperiode: str | None = None,
                        generated_at: datetime | None = None) -> Path:
    """Write the master with the button (``.xlsm``): :func:`publish.write_master` with the
    VBA project (bytes or a ``vbaProject.bin``; default: the one in the shipped
    ``master.xlsm``), plus the sheet ``Instellingen`` holding ``settings``."""
    from xlmonitor import publish
    from xlmonitor.vba import packaged_vba_project

    if vba_project is None:
        project = packaged_vba_project()
    elif isinstance(vba_project, bytes):
        project = vba_project
    else:
        project = Path(vba_project).read_bytes()
    with tempfile.TemporaryDirectory(prefix="xlmonitor-vba-") as tmp:
        project_file = Path(tmp) / "vbaProject.bin"
        project_file.write_bytes(project)
        options = {"peilperiode": peilperiode, "vba_project": project_file,
                   "generated_at": generated_at}
        return publish.write_master(consolidation, path, settings=dict(settings), **options)


def saved_settings(master: str | Path) -> dict[str, str]:
    """Instelling → Waarde as saved in the Instellingen sheet of an existing master file ({}
    when there is none), so a scheduled rewrite keeps what the analyst filled in there."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(master, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return {}
    try:
        if SETTINGS_SHEET not in workbook.sheetnames:
            return {}
        values = {}
        for row in workbook[SETTINGS_SHEET].iter_rows(min_col=1, max_col=2, values_only=True):
            key = str(row[0]).strip() if row and row[0] is not None else ""
            if key in SETTINGS:
                values[key] = "" if row[1] is None else str(row[1]).strip()
        return values
    finally:
        workbook.close()


@dataclass
class ButtonSettings:
    """The Instellingen of one run, as paths (Python is the VBA's business, not ours)."""

    inbox: Path
    feedback: Path | None
    programme: Path | None


def read_settings(book) -> dict[str, str]:
    """Instelling → Waarde from ``tblInstellingen`` of an xlwings book ({} without it)."""
    if SETTINGS_SHEET not in [sheet.name for sheet in book.sheets]:
        return {}
    sheet = book.sheets[SETTINGS_SHEET]
    if SETTINGS_TABLE not in [table.name for table in sheet.tables]:
        return {}
    body = sheet.tables[SETTINGS_TABLE].data_body_range
    rows = body.options(ndim=2).value if body is not None else []
    return {str(key).strip(): ("" if value is None else str(value).strip())
            for key, value, *_ in rows if key}


def resolve_settings(values: Mapping[str, str], folder: Path) -> ButtonSettings:
    """Paths of the settings, relative ones against ``folder`` (the workbook's)."""
    def path(key: str) -> Path | None:
        text = os.path.expandvars(values.get(key, "") or "").strip()
        if not text:
            return None
        candidate = Path(text)
        return candidate if candidate.is_absolute() else folder / candidate

    inbox = path("Inbox") or folder / SETTINGS["Inbox"][0]
    return ButtonSettings(inbox=inbox, feedback=path("Terugkoppeling"),
                          programme=path("Programma"))


def workbook_folder(book) -> Path:
    """Folder of the open workbook: relative settings are resolved against it."""
    fullname = str(book.fullname)
    if "://" in fullname:
        raise UsageError("Deze werkmap staat in OneDrive of SharePoint. Zet hem op de "
                         "gedeelde schijf, of vul op het blad Instellingen volledige paden in.")
    path = Path(fullname)
    return path.parent if path.is_absolute() else Path.cwd()


def shared_cache(folder: Path):
    """The nightly job's submission cache beside the master, when it keeps one
    (``cache = true`` in xlmonitor.toml): then a click reads only new and changed files.
    The button never creates one itself. (It reads in one process: starting workers from
    Excel's Python on Windows costs more than a region's files take.)"""
    from xlmonitor.cache import SubmissionCache

    cache = folder / CACHE_FOLDER_NAME
    return SubmissionCache(cache) if cache.is_dir() else None


# -- values for the book ------------------------------------------------------------------

def cell_value(value: object) -> Any:
    """A value as the book gets it: text, number, date, date-time or None (empty)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool):
        return "'ja" if value else "'nee"
    if isinstance(value, pd.Timestamp):
        value = value.tz_localize(None) if value.tzinfo else value
        return value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return value
    if hasattr(value, "dtype") and hasattr(value, "item"):  # numpy scalar
        return cell_value(value.item())
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, tuple, set)):
        value = ", ".join(str(v) for v in value)
    if value == "":
        return None
    # Excel parses a string written through Range.Value as if typed: "=…" becomes a formula
    # (DESIGN: never), "0402" the number 402, "1-2" a date, "WAAR" a boolean. The apostrophe
    # makes Excel store the text as is (it is not part of the value, only a prefix flag).
    return "'" + str(value)


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[list[Any]]:
    if frame is None or frame.empty:
        return []
    return [[cell_value(v) for v in row] for row in frame[columns].itertuples(index=False)]


def table_values(consolidation) -> dict[str, list[list[Any]]]:
    """Table name → body rows (no header), in the columns of :data:`TABLES`: the same values
    :mod:`xlmonitor.publish` writes into those tables."""
    return {
        "tblData": _rows(consolidation.shown_data(), DATA_COLUMNS),
        "tblInzendingen": _rows(consolidation.shown_register(), REGISTER_COLUMNS),
        "tblBevindingen": _rows(consolidation.findings_frame(), FINDING_COLUMNS),
    }


def matrix_values(consolidation, municipalities: list[str], periods: list[str]) -> list[list]:
    """Statuses for the matrix cells already on the sheet (rows × period columns).

    The master lays out every quarter of the programme, so a quarter that started after it
    was written has its column already: a municipality that delivered it is ``ontvangen``,
    the others ``ontbreekt``, and the quarters after it stay ``later``. A quarter on the sheet
    that the consolidation does not know (the programme changed since) follows the same
    rule (:func:`~xlmonitor.consolidate.matrix_for_periods`); a municipality it does not
    know gets empty cells."""
    matrix = consolidation.matrix
    every = sorted({*map(str, matrix.columns), *periods})
    laid = matrix_for_periods(matrix, every)
    rows = []
    for municipality in municipalities:
        if municipality in laid.index:
            rows.append(["'" + str(laid.at[municipality, period]) for period in periods])
        else:
            rows.append([None] * len(periods))
    return rows


def status_text(consolidation, when: datetime, feedback: int = 0) -> str:
    register = consolidation.register
    files = int((register["Status"] != "overgeslagen").sum()) if len(register) else 0
    errors = sum(f.is_error for f in consolidation.findings)
    warnings = len(consolidation.findings) - errors
    text = (f"Bijgewerkt: {when:%d-%m-%Y %H:%M} met de knop Consolideer · {files} bestand(en), "
            f"{len(consolidation.data)} rijen, {errors} fout(en), {warnings} waarschuwing(en)")
    return text + (f", {feedback} terugkoppeling(en)" if feedback else "")


def summary_message(consolidation, feedback_dir: Path | None, feedback: int) -> str:
    """The Dutch message at the end of a run: files, findings, missing municipalities."""
    register = consolidation.register
    counts = register["Status"].value_counts() if len(register) else pd.Series(dtype=int)
    errors = sum(f.is_error for f in consolidation.findings)
    lines = [f"{int(counts.get('ontvangen', 0))} bestand(en) verwerkt, "
             f"{int(counts.get('afgekeurd', 0))} afgekeurd, "
             f"{int(counts.get('vervangen', 0))} vervangen.",
             f"{len(consolidation.findings)} bevinding(en), waarvan {errors} fout(en): zie "
             "het blad Validatie."]
    matrix = consolidation.matrix
    for period in matrix.columns[(matrix == "ontbreekt").any()][-2:]:
        absent = matrix.index[matrix[period] == "ontbreekt"].tolist()
        lines.append(f"Ontbreekt voor {period}: {', '.join(absent)}.")
    if feedback:
        lines.append(f"Terugkoppeling voor {feedback} bestand(en) in {feedback_dir}.")
    lines.append("Sla de werkmap op om deze stand te bewaren.")
    return "\n".join(lines)


# -- moving values into the open book -----------------------------------------------------

def _replace_body(sheet, name: str, rows: list[list[Any]], width: int) -> None:
    """Resize table ``name`` to ``len(rows)`` body rows (at least one: Excel needs one) and
    write them; rows below the new end are cleared."""
    table = sheet.tables[name]
    header = table.header_row_range
    top, left = header.row, header.column
    body = table.data_body_range
    old = body.shape[0] if body is not None else 0
    new = max(len(rows), 1)
    table.resize(sheet.range((top, left), (top + new, left + width - 1)))
    if old > new:
        sheet.range((top + new + 1, left), (top + old, left + width - 1)).clear_contents()
    sheet.range((top + 1, left)).value = rows or [[None] * width]


def _refresh_matrix(book, consolidation) -> None:
    sheet = book.sheets[MATRIX_SHEET]
    header = sheet.range(MATRIX_HEADER).expand("right").options(ndim=1).value
    if not header or header[0] != "Gemeente":
        return
    periods = [str(p) for p in header[1:] if p and p != "Ontbreekt"]
    first = sheet.range(MATRIX_HEADER).offset(1, 0)
    names = first.expand("down").options(ndim=1).value if first.value else []
    municipalities = [str(n) for n in names if n][: len(consolidation.matrix.index)]
    if periods and municipalities:
        first.offset(0, 1).value = matrix_values(consolidation, municipalities, periods)


def _status_cell(book):
    if book.names.contains(STATUS_NAME):
        return book.names[STATUS_NAME].refers_to_range
    return book.sheets[STATUS_FALLBACK[0]][STATUS_FALLBACK[1]]


def refresh_book(book, consolidation, when: datetime, feedback: int = 0) -> None:
    """Write the consolidation into the open master ``book`` (an ``xlwings.Book``)."""
    for name, rows in table_values(consolidation).items():
        _replace_body(book.sheets[TABLE_SHEETS[name]], name, rows, len(TABLES[name]))
    _refresh_matrix(book, consolidation)
    _status_cell(book).value = "'" + status_text(consolidation, when, feedback)


def consolideer(book=None, *, now: datetime | None = None):
    """Entry point of the Consolideer button. ``book`` defaults to ``xlwings.Book.caller()``;
    returns the :class:`~xlmonitor.consolidate.Consolidation`, or None when it failed (the
    user then got a Dutch message)."""
    from xlmonitor.consolidate import consolidate
    from xlmonitor.feedback import write_feedback_copy
    from xlmonitor.programme import load_programme

    if book is None:
        import xlwings

        book = xlwings.Book.caller()
    when = now or datetime.now().replace(microsecond=0)
    try:
        folder = workbook_folder(book)
        settings = resolve_settings(read_settings(book), folder)
        result = consolidate(settings.inbox, load_programme(settings.programme),
                             cache=shared_cache(folder))
        written, failed = 0, []
        if settings.feedback is not None:
            for name, validation in sorted(result.validations.items()):
                findings = result.file_findings.get(name, [])
                if not findings:
                    continue
                try:  # one unwritable copy must not stop the others
                    if write_feedback_copy(validation.submission.path, findings,
                                           settings.feedback) is not None:
                        written += 1
                except OSError:
                    failed.append(name)
        refresh_book(book, result, when, written)
        book.app.calculate()
    except XlmonitorError as error:
        _status_cell(book).value = f"'Niet bijgewerkt ({when:%d-%m-%Y %H:%M}): {error}"
        book.app.alert(f"Het consolideren is niet gelukt.\n\n{error}", title=TITLE,
                       mode="critical")
        return None
    message = summary_message(result, settings.feedback, written)
    if failed:
        message += (f"\n\nTerugkoppeling niet geschreven voor {len(failed)} bestand(en), "
                    f"onder meer {shown_file_name(failed[0])}: is de map "
                    f"{settings.feedback} alleen-lezen?")
    book.app.alert(message, title=TITLE, mode="info")
    return result
