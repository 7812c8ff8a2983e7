"""The master workbook's contract with its readers: sheet, table and cell positions.

The writer (:mod:`xlmonitor.master.publish`, :mod:`xlmonitor.master.settings_sheet`) and the
Consolideer button (:mod:`xlmonitor.excel`) both read these names, so they cannot drift apart.
Users, Power Query and Power BI rely on them too: change them only deliberately
(``docs/architecture.md``, "The master workbook").
"""

from __future__ import annotations

from xlmonitor.consolidation.merge import DATA_COLUMNS, FINDING_COLUMNS
from xlmonitor.consolidation.register import MATRIX_STATUSES, REGISTER_COLUMNS, REGISTER_STATUSES

__all__ = [
    "DATA_COLUMNS", "FINDING_COLUMNS", "MATRIX_FIRST_COLUMN", "MATRIX_HEADER", "MATRIX_MISSING",
    "MATRIX_SHEET", "MATRIX_STATUSES", "NOTES_COLUMNS", "NOTES_INPUT", "NOTES_SHEET",
    "NOTES_TABLE", "PROGRAMME_KEY", "REGISTER_COLUMNS", "REGISTER_STATUSES", "SERVER_SHEETS",
    "SETTINGS", "SETTINGS_COLUMNS", "SETTINGS_FIELDS", "SETTINGS_SHEET", "SETTINGS_TABLE",
    "STATUS_FALLBACK", "STATUS_NAME", "TABLES", "TABLE_SHEETS", "matrix_header_cell",
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
    "Server": ("", "Adres van de xlmonitor-server (van functioneel beheer), bijvoorbeeld "
                   "https://monitor.regio.local:8765: dan is Python hier niet nodig. Leeg: "
                   "Python op deze computer."),
    "Token": ("", "Toegangssleutel van de server (van functioneel beheer). Leeg: de sleutel "
                  "AUTH uit xlwings.conf op deze computer."),
}
#: Sheets the button sends to the server (xlwings' RunServerPython ``include``): the ones
#: whose tables and cells it refreshes. The Status cell is reached through its defined
#: name, which is sent for every sheet. ``macros/Consolideren.bas`` lists the same.
SERVER_SHEETS = ("Data", "Inzendingen", "Validatie")

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

#: The analyst's explanation per project and peilperiode, which the report (``xlmonitor
#: rapport``) prints under "Voortgang per project". Written by publish, kept by the nightly
#: run (:func:`xlmonitor.master.notes_sheet.saved_notes`), never touched by the button.
NOTES_SHEET = "Toelichting"
NOTES_TABLE = "tblToelichting"
NOTES_COLUMNS = ["Projectcode", "Project", "Peilperiode", "Tekst", "Eigen stoplicht", "Reden"]
#: Columns the analyst fills in: a row with any of them filled is kept across rewrites.
NOTES_INPUT = ("Tekst", "Eigen stoplicht", "Reden")


def matrix_header_cell() -> tuple[int, int]:
    """(row, column), 0-based, of :data:`MATRIX_HEADER`."""
    letters = MATRIX_HEADER.rstrip("0123456789")
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter.upper()) - ord("A") + 1
    return int(MATRIX_HEADER[len(letters):]) - 1, column - 1
