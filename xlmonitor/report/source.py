"""Reading a master workbook for the report: its tables and named cells, as the workbook
holds them (cached values, not recalculated), with python-calamine.

The report computes nothing from the inbox or the programme file: every figure comes from
the master's own tables (``tblData``, ``tblDoelen``, ``tblProjectinfo``, ``tblStoplicht``,
``tblKwartalen``, ...), so the document shows what the workbook shows, also after the analyst
corrected a number in ``Data`` or a target on ``Doelen`` and saved the workbook.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from xlmonitor.errors import UsageError
from xlmonitor.master.contract import NOTES_COLUMNS, NOTES_TABLE
from xlmonitor.periods import parse_period

#: Tables the report cannot do without.
REQUIRED = ("tblData", "tblKPI", "tblProjecten", "tblDoelen", "tblProjectinfo",
            "tblStoplicht", "tblKwartalen", "tblGemeenten", "tblVerloop")
OPTIONAL = ("tblInzendingen", "tblBevindingen", NOTES_TABLE)
_DEFINED_NAME = re.compile(r'<definedName[^>]*\bname="([^"]+)"[^>]*>([^<]+)</definedName>')
_CELL = re.compile(r"^'?([^'!]+)'?!\$?([A-Z]+)\$?(\d+)$")
_DUTCH_DATE = re.compile(r"\b(\d{2})-(\d{2})-(\d{4})\b")


@dataclass
class MasterSource:
    """What the report reads from one master workbook."""

    path: Path
    tables: dict[str, pd.DataFrame]
    peilperiode: str                 # the Dashboard's choice (defined name Peilperiode)
    programme_start: date
    programme_end: date
    name: str                        # programme name (Doelen: Naam)
    region: str                      # Doelen: Regio
    status: str                      # the Dashboard's "Bijgewerkt: ..." line
    names: dict[str, object] = field(default_factory=dict)

    @property
    def updated(self) -> date | None:
        """The day the figures were last consolidated, from the status line."""
        match = _DUTCH_DATE.search(self.status)
        if not match:
            return None
        day, month, year = map(int, match.groups())
        return date(year, month, day)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())


def read_master(path: str | Path) -> MasterSource:
    """Read the tables and named cells of master workbook ``path`` (xlsx or xlsm).

    Raises :class:`UsageError` (Dutch) when the file is missing, is no workbook, or lacks a
    table the report needs (a master written by an older xlmonitor is fine: the sheet
    Toelichting, register and findings are optional)."""
    import python_calamine

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"De master '{path}' bestaat niet.")
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path), load_tables=True)
        with zipfile.ZipFile(path) as package:
            workbook_xml = package.read("xl/workbook.xml").decode("utf-8")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile,
            python_calamine.CalamineError) as exc:
        raise UsageError(f"'{path.name}' is geen leesbare master-werkmap ({exc}).") from exc
    missing = [t for t in REQUIRED if t not in book.table_names]
    if missing:
        raise UsageError(f"'{path.name}' is geen master van xlmonitor: de tabel(len) "
                         f"{', '.join(missing)} ontbreken.")
    tables = {name: _table(book, name) for name in (*REQUIRED, *OPTIONAL)
              if name in book.table_names}
    if NOTES_TABLE not in tables:
        tables[NOTES_TABLE] = pd.DataFrame(columns=NOTES_COLUMNS)
    names = _named_values(book, workbook_xml)
    settings = _doelen_settings(book)
    peilperiode = parse_period(names.get("Peilperiode"))
    periods = [str(p) for p in tables["tblKwartalen"]["Kwartaal"]]
    if peilperiode not in periods:
        peilperiode = periods[-1] if periods else None
    if peilperiode is None:
        raise UsageError(f"'{path.name}' heeft geen kwartalen op het blad Doelen.")
    return MasterSource(
        path=path, tables=tables, peilperiode=peilperiode,
        programme_start=_as_date(names.get("ProgrammaStart")),
        programme_end=_as_date(names.get("ProgrammaEind")),
        name=settings.get("Naam", ""), region=settings.get("Regio", ""),
        status=str(names.get("Status") or ""), names=names)


def _table(book, name: str) -> pd.DataFrame:
    table = book.get_table_by_name(name)
    rows = table.to_python()
    columns = [str(c) for c in table.columns]
    frame = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    # A table's single empty body row (Excel needs one) is no data.
    empty = frame.apply(lambda row: all(v in ("", None) for v in row), axis=1) \
        if len(frame) else pd.Series(dtype=bool)
    return frame[~empty].reset_index(drop=True) if len(frame) else frame


def _named_values(book, workbook_xml: str) -> dict[str, object]:
    """Value of every defined name that refers to one cell."""
    grids: dict[str, list[list[object]]] = {}
    values: dict[str, object] = {}
    for name, ref in _DEFINED_NAME.findall(workbook_xml):
        match = _CELL.match(ref.strip())
        if not match:
            continue
        sheet, letters, row = match.groups()
        if sheet not in grids:
            try:
                grids[sheet] = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except Exception:  # noqa: BLE001 - a name pointing at a missing sheet is no value
                continue
        col = 0
        for letter in letters:
            col = col * 26 + ord(letter) - 64
        grid = grids[sheet]
        r, c = int(row) - 1, col - 1
        values[name] = grid[r][c] if r < len(grid) and c < len(grid[r]) else None
    return values


def _doelen_settings(book) -> dict[str, str]:
    """The label → value pairs in columns A:B of Doelen (Naam, Regio, ...)."""
    try:
        rows = book.get_sheet_by_name("Doelen").to_python(skip_empty_area=False, nrows=12)
    except Exception:  # noqa: BLE001 - an older master without the rows
        return {}
    return {str(r[0]).strip(): str(r[1]).strip() for r in rows if len(r) > 1 and r[0]}


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise UsageError("De master mist de programmaperiode (ProgrammaStart/ProgrammaEind op "
                     "het blad Doelen).")
