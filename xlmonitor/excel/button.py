"""The Consolideer button: what the master workbook's VBA runs through xlwings.

``macros/Consolideren.bas`` calls ``RunPython "import xlmonitor.excel;
xlmonitor.excel.consolideer()"``. :func:`consolideer` runs the one consolidation run of every
entry point, :func:`xlmonitor.run.schedule.run_consolidation`: the same lock as the nightly
job (a click while it runs waits, then says so), the same arrival guard (a file still being
copied is ``in aanvoer``), the same log (one line per click and per file), feedback and
summary. Its settings are the same :class:`~xlmonitor.run.settings.Settings`: the sheet
``Instellingen`` of the calling book (:func:`book_settings`) sets inbox, feedback folder and
programme, over ``xlmonitor.toml`` beside the workbook when there is one.

What differs is where the result goes (:func:`book_publisher`): into the *open* workbook
instead of the master file: the bodies of ``tblData``, ``tblInzendingen`` and
``tblBevindingen`` (tables resized), the municipality × period matrix on ``Inzendingen`` and
the ``Status`` cell on Dashboard. The Dashboard and Gemeenten formulas read those tables, so
Excel recalculates them; nothing is saved (the user decides, Excel asks on closing). The
button adds no rows or columns outside the tables: the master lays out every quarter of the
programme when it is written (peilperiode list, trend, matrix), so a quarter that started
since is already there to fill in. And how the summary is shown: in a message box.

A server endpoint that holds an xlwings Book does the same with ``via="server"``::

    settings = book_settings(book, master=path_of_the_master_on_the_share)
    result = run_consolidation(settings, publish=book_publisher(book, when, via="server"),
                               origin="server")
    lines = report_lines(result)  # what to show

Everything here only moves values between the library and the book; :func:`table_values`
is the pure "which values go in which table" step, testable without Excel. Where the values
go (sheets, tables, the status cell) is the master's contract, :mod:`xlmonitor.master.contract`.

Importing this module does not import xlwings.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from xlmonitor.consolidation.cache import FOLDER_NAME as CACHE_FOLDER_NAME
from xlmonitor.consolidation.merge import DATA_COLUMNS, FINDING_COLUMNS
from xlmonitor.consolidation.register import REGISTER_COLUMNS, matrix_for_periods
from xlmonitor.errors import UsageError, XlmonitorError
from xlmonitor.master.contract import (
    MATRIX_FIRST_COLUMN,
    MATRIX_HEADER,
    MATRIX_MISSING,
    MATRIX_SHEET,
    SETTINGS,
    SETTINGS_FIELDS,
    SETTINGS_SHEET,
    SETTINGS_TABLE,
    STATUS_FALLBACK,
    STATUS_NAME,
    TABLE_SHEETS,
    TABLES,
)
from xlmonitor.run.schedule import run_consolidation
from xlmonitor.run.settings import Settings, resolve_settings
from xlmonitor.run.summary import RunResult, report_lines, status_text
from xlmonitor.texts import text

__all__ = ["book_publisher", "book_settings", "consolideer", "read_settings", "table_values"]


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


def book_path(book) -> Path:
    """The open workbook's file: its folder holds the lock, the log and xlmonitor.toml, and
    relative settings are resolved against it."""
    fullname = str(book.fullname)
    if "://" in fullname:
        raise UsageError(text("knop.onedrive"))
    path = Path(fullname)
    return path if path.is_absolute() else Path.cwd() / path.name


def workbook_folder(book) -> Path:
    """Folder of the open workbook."""
    return book_path(book).parent


def sheet_settings(values: Mapping[str, str], master: Path, **overrides: object) -> Settings:
    """The run's :class:`Settings` for the master at ``master``: the Instellingen ``values``
    (paths relative to its folder, ``%VAR%``/``$VAR`` expanded) over ``xlmonitor.toml``
    beside it, with ``overrides`` on top. An empty Inbox is the default folder beside the
    master; an empty Terugkoppeling or Programma leaves the toml's (else none, the shipped
    programme)."""
    folder = master.parent

    def path(key: str) -> Path | None:
        value = os.path.expandvars(values.get(key, "") or "").strip()
        if not value:
            return None
        candidate = Path(value)
        return candidate if candidate.is_absolute() else folder / candidate

    given = {field: path(key) for key, field in SETTINGS_FIELDS.items()}
    given["inbox"] = given["inbox"] or folder / SETTINGS["Inbox"][0]
    settings = resolve_settings(master=master, **given, **overrides)
    if not settings.cache and shared_cache(folder) is not None:
        settings.cache = shared_cache(folder)
    return settings


def book_settings(book, *, master: Path | None = None, **overrides: object) -> Settings:
    """:func:`sheet_settings` of an open xlwings book. ``master``: where that book lives, when
    the caller knows better than ``book.fullname`` (a server receives a remote book's name
    only). A click reads in one process (``jobs=1``): starting workers from Excel's Python on
    Windows costs more than a region's files take."""
    return sheet_settings(read_settings(book), Path(master) if master else book_path(book),
                          **{"jobs": 1, **overrides})


def shared_cache(folder: Path) -> Path | None:
    """The nightly job's submission cache beside the master, when it keeps one
    (``cache = true`` in xlmonitor.toml): then a click reads only new and changed files.
    The button never creates one itself."""
    cache = folder / CACHE_FOLDER_NAME
    return cache if cache.is_dir() else None


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
    if not header or header[0] != MATRIX_FIRST_COLUMN:
        return
    periods = [str(p) for p in header[1:] if p and p != MATRIX_MISSING]
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


def refresh_book(book, result: RunResult, when: datetime, via: str = "knop") -> None:
    """Write the run's consolidation into the open master ``book`` (an ``xlwings.Book``)."""
    for name, rows in table_values(result.consolidation).items():
        _replace_body(book.sheets[TABLE_SHEETS[name]], name, rows, len(TABLES[name]))
    _refresh_matrix(book, result.consolidation)
    _status_cell(book).value = "'" + status_text(result, when, via=via)


def book_publisher(book, when: datetime, *, via: str = "knop") -> Callable[[RunResult], None]:
    """The ``publish`` of :func:`~xlmonitor.run.schedule.run_consolidation` for an open
    workbook: refresh it and let Excel recalculate."""
    def publish(result: RunResult) -> None:
        refresh_book(book, result, when, via)
        book.app.calculate()

    return publish


def message(result: RunResult) -> str:
    """The run's summary as the button shows it: :func:`report_lines`, unindented."""
    return "\n".join(line[2:] if line.startswith("  ") else line
                     for line in report_lines(result))


def consolideer(book=None, *, now: datetime | None = None) -> RunResult | None:
    """Entry point of the Consolideer button. ``book`` defaults to ``xlwings.Book.caller()``;
    returns the :class:`~xlmonitor.run.summary.RunResult`, or None when it failed (the user
    then got a Dutch message, and the status cell says so)."""
    if book is None:
        import xlwings

        book = xlwings.Book.caller()
    when = now or datetime.now().replace(microsecond=0)
    try:
        result = run_consolidation(book_settings(book), publish=book_publisher(book, when),
                                   origin="knop")
    except XlmonitorError as error:
        _status_cell(book).value = "'" + text("status.niet-bijgewerkt",
                                              when=f"{when:%d-%m-%Y %H:%M}", error=error)
        book.app.alert(text("knop.mislukt", error=error), title=text("knop.titel"),
                       mode="critical")
        return None
    book.app.alert(message(result), title=text("knop.titel"), mode="info")
    return result
