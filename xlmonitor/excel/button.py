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
is the pure "which values go in which table" step, testable without Excel. Where the values
go (sheets, tables, the status cell) is the master's contract, :mod:`xlmonitor.master.contract`.

Importing this module does not import xlwings.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from xlmonitor.consolidation.cache import FOLDER_NAME as CACHE_FOLDER_NAME
from xlmonitor.consolidation.merge import DATA_COLUMNS, FINDING_COLUMNS
from xlmonitor.consolidation.register import REGISTER_COLUMNS, matrix_for_periods
from xlmonitor.errors import UsageError, XlmonitorError
from xlmonitor.master.contract import (
    MATRIX_HEADER,
    MATRIX_SHEET,
    SETTINGS,
    SETTINGS_SHEET,
    SETTINGS_TABLE,
    STATUS_FALLBACK,
    STATUS_NAME,
    TABLE_SHEETS,
    TABLES,
)
from xlmonitor.privacy import shown_file_name

__all__ = ["consolideer", "read_settings", "table_values"]

TITLE = "Consolideer"


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
    from xlmonitor.consolidation.cache import SubmissionCache

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
    :mod:`xlmonitor.master.publish` writes into those tables."""
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
    rule (:func:`~xlmonitor.consolidation.register.matrix_for_periods`); a municipality it does not
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


#: The Status cell of a master book (public: the server writes why a click was refused there).
status_cell = _status_cell


def refresh_book(book, consolidation, when: datetime, feedback: int = 0) -> None:
    """Write the consolidation into the open master ``book`` (an ``xlwings.Book``)."""
    for name, rows in table_values(consolidation).items():
        _replace_body(book.sheets[TABLE_SHEETS[name]], name, rows, len(TABLES[name]))
    _refresh_matrix(book, consolidation)
    _status_cell(book).value = "'" + status_text(consolidation, when, feedback)


def consolideer(book=None, *, now: datetime | None = None):
    """Entry point of the Consolideer button. ``book`` defaults to ``xlwings.Book.caller()``;
    returns the :class:`~xlmonitor.consolidation.merge.Consolidation`, or None when it failed (the
    user then got a Dutch message)."""
    from xlmonitor.consolidation.merge import consolidate
    from xlmonitor.feedback.marked_copy import write_feedback_copy
    from xlmonitor.programme.definition import load_programme

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
