"""The master workbook's contract with its readers: sheet, table and cell positions.

The writer (:mod:`xlmonitor.master.publish`, :mod:`xlmonitor.master.settings_sheet`) and the
Consolideer button (:mod:`xlmonitor.excel`) both read these names, so they cannot drift apart.
Users, Power Query and Power BI rely on them too: change them only deliberately
(``docs/architecture.md``, "The master workbook").
"""

from __future__ import annotations

from xlmonitor.consolidation.merge import (
    DATA_COLUMNS,
    FINDING_COLUMNS,
    MATRIX_STATUSES,
    REGISTER_COLUMNS,
    REGISTER_STATUSES,
)

__all__ = [
    "DATA_COLUMNS", "FINDING_COLUMNS", "MATRIX_FIRST_COLUMN", "MATRIX_HEADER", "MATRIX_MISSING",
    "MATRIX_SHEET", "MATRIX_STATUSES", "PROGRAMME_KEY", "REGISTER_COLUMNS",
    "REGISTER_STATUSES", "SETTINGS", "SETTINGS_COLUMNS", "SETTINGS_FIELDS", "SETTINGS_SHEET",
    "SETTINGS_TABLE", "STATUS_FALLBACK", "STATUS_NAME", "TABLES", "TABLE_SHEETS",
    "matrix_header_cell",
]

SETTINGS_SHEET = "Instellingen"
SETTINGS_TABLE = "tblInstellingen"
SETTINGS_COLUMNS = ["Instelling", "Waarde"]
#: Defined name of the status cell on Dashboard (the "Bijgewerkt: …" line).
STATUS_NAME = "Status"
STATUS_FALLBACK = ("Dashboard", "A3")
#: Header cell of the municipality × period matrix on Inzendingen (publish writes it there,
#: the button reads the quarters to its right and the municipalities below it).
MATRIX_SHEET, MATRIX_HEADER = "Inzendingen", "A5"
#: Text of the header cell itself, and of the header after the last quarter (a COUNTIF of
#: ``ontbreekt`` per municipality; the button leaves that column alone).
MATRIX_FIRST_COLUMN, MATRIX_MISSING = "Gemeente", "Ontbreekt"

#: Setting of the sheet → field of :class:`xlmonitor.run.settings.Settings` it sets for a
#: click (``Python`` is the VBA's business: it starts the interpreter).
SETTINGS_FIELDS = {"Inbox": "inbox", "Terugkoppeling": "feedback", "Programma": "programme"}

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

#: Projectcode of programme-level targets in tblDoelen. Project codes start with a letter
#: or digit, so this cannot collide; it has no wildcard characters (* ? ~) either, which
#: SUMIFS would interpret.
PROGRAMME_KEY = "(programma)"


def matrix_header_cell() -> tuple[int, int]:
    """(row, column), 0-based, of :data:`MATRIX_HEADER`."""
    letters = MATRIX_HEADER.rstrip("0123456789")
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter.upper()) - ord("A") + 1
    return int(MATRIX_HEADER[len(letters):]) - 1, column - 1
