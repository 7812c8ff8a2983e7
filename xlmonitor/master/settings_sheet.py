"""The sheet ``Instellingen`` of a master with the Consolideer button, and that master.

Every master with the button has it, including the one the scheduled ``xlmonitor consolidate
INBOX -o master.xlsm`` writes (:func:`~xlmonitor.master.publish.write_button_master`); a scheduled
rewrite keeps what the
analyst filled in (:func:`saved_settings`).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

from xlmonitor.master.contract import SETTINGS, SETTINGS_COLUMNS, SETTINGS_SHEET, SETTINGS_TABLE


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
            "Python": interpreter,
            "Server": "",
            "Token": ""}


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
