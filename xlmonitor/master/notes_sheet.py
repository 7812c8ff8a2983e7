"""The sheet ``Toelichting`` of the master: the analyst's explanation per project and
peilperiode (``tblToelichting``), which ``xlmonitor rapport`` prints beside each project's
traffic light, with optionally a light chosen by hand and its reason.

Every master has it. A new master gets an empty row per project for its peilperiode; a
scheduled rewrite keeps every row the analyst filled in (:func:`saved_notes`, as
:func:`~xlmonitor.master.settings_sheet.saved_settings` keeps Instellingen) and adds empty rows
for the new peilperiode. The Consolideer button refreshes other tables only, so it never
clears this one.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from xlmonitor.master.contract import NOTES_COLUMNS, NOTES_INPUT, NOTES_SHEET, NOTES_TABLE
from xlmonitor.master.datasheet import RISKY_START
from xlmonitor.master.styles import add_table
from xlmonitor.periods import parse_period

#: Values of the hand-chosen light (a drop-down in the sheet).
HAND_LIGHTS = ("groen", "oranje", "rood")
#: Excel's limit for the text of one cell.
_MAX_CELL = 32_767


def note_rows(programme, peilperiode: str,
              saved: Sequence[dict[str, str]] = ()) -> list[dict[str, str]]:
    """The rows of ``tblToelichting``: every saved row the analyst filled in, plus an empty
    row for each project of the programme (not on hold) at ``peilperiode`` that has none.
    Sorted by peilperiode (newest first), then the programme's project order; the Project
    column is always the programme's name of the code."""
    projects = programme.projects
    shown = projects[projects["status"] != "on hold"]
    order = {code: i for i, code in enumerate(projects.index)}
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for row in saved:
        typed = str(row.get("Peilperiode", "")).strip()
        key = (str(row.get("Projectcode", "")).strip(), parse_period(typed) or typed)
        if key[0] and any(str(row.get(c, "") or "").strip() for c in NOTES_INPUT):
            rows.setdefault(key, {c: str(row.get(c, "") or "") for c in NOTES_COLUMNS})
    for code in shown.index:
        rows.setdefault((code, peilperiode), {"Projectcode": code, "Peilperiode": peilperiode})
    result = []
    for (code, period), row in rows.items():
        name = str(projects.at[code, "naam"]) if code in projects.index else ""
        result.append({**{c: "" for c in NOTES_COLUMNS}, **row, "Project": name,
                       "Projectcode": code, "Peilperiode": period})
    # Newest quarter first: the analyst writes at the top. Unknown codes last.
    result.sort(key=lambda r: (_descending(r["Peilperiode"]),
                               order.get(r["Projectcode"], len(order)), r["Projectcode"]))
    return result


def _lines(text: str, width: int) -> int:
    """Lines ``text`` takes when wrapped in a column ``width`` characters wide (about)."""
    return sum(max(1, -(-len(part) // int(width * 1.05))) for part in text.split("\n"))


def _descending(period: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in period)


def write_notes_sheet(workbook, rows: Sequence[dict[str, str]], styles) -> None:
    """Add sheet ``Toelichting`` with ``tblToelichting`` to an XlsxWriter workbook."""
    sheet = workbook.add_worksheet(NOTES_SHEET)
    sheet.hide_gridlines(2)
    input_text = workbook.add_format({"font_name": "Calibri", "font_size": 10,
                                      "valign": "top", "text_wrap": True, "locked": False,
                                      "bg_color": "#DDEBF7", "bottom": 1,
                                      "bottom_color": "#D9D9D9"})
    input_quoted = workbook.add_format({"font_name": "Calibri", "font_size": 10,
                                        "valign": "top", "text_wrap": True, "locked": False,
                                        "bg_color": "#DDEBF7", "quote_prefix": True})
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, "Toelichting per project", styles.title)
    sheet.write_string(1, 0, "Schrijf hier per project en peilperiode de toelichting voor de "
                             "monitor (knop Rapport of xlmonitor rapport). Een eigen stoplicht "
                             "staat in het rapport naast het berekende, met de reden. Leeg: "
                             "het rapport toont de opmerkingen van de gemeenten.", styles.note)
    header = 3
    widths = [18, 46, 12, 90, 15, 40]
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    add_table(sheet, header, 0, NOTES_COLUMNS, NOTES_TABLE, rows=len(rows), styles=styles)
    inputs = {NOTES_COLUMNS.index(c) for c in NOTES_INPUT}
    for r, row in enumerate(rows, start=header + 1):
        for c, column in enumerate(NOTES_COLUMNS):
            text = str(row.get(column, "") or "")[:_MAX_CELL]
            fmt = input_text if c in inputs else styles.wrap
            if text.startswith(RISKY_START):
                fmt = input_quoted  # typed text stays text, also when edited in Excel
            if not text:
                sheet.write_blank(r, c, None, fmt)
            else:  # write_string: an explanation is never a formula, link or number.
                sheet.write_string(r, c, text, fmt)
        # LibreOffice does not grow rows for wrapped text on load: the tallest of the
        # wrapped cells (Project, Tekst, Reden) sets the height.
        lines = max(_lines(str(row.get(column, "") or ""), widths[NOTES_COLUMNS.index(column)])
                    for column in ("Project", "Tekst", "Reden"))
        if lines > 1:
            sheet.set_row(r, 13.0 * lines + 2)
    light = NOTES_COLUMNS.index("Eigen stoplicht")
    sheet.data_validation(header + 1, light, header + max(len(rows), 1), light, {
        "validate": "list", "source": list(HAND_LIGHTS), "ignore_blank": True,
        "error_title": "Eigen stoplicht", "error_message": "Kies groen, oranje of rood, of "
                                                           "laat de cel leeg."})
    for kleur in HAND_LIGHTS:
        sheet.conditional_format(header + 1, light, 1_048_575, light, {
            "type": "cell", "criteria": "==", "value": f'"{kleur}"',
            "format": styles.lights[kleur]})
    sheet.freeze_panes(header + 1, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


def saved_notes(master: str | Path) -> list[dict[str, str]]:
    """The rows of ``tblToelichting`` in an existing master file ([] when there is none), so
    a scheduled rewrite keeps what the analyst wrote there. Read by header name below the
    header row the table has on the sheet (columns the analyst moved are still found)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(master, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []
    try:
        if NOTES_SHEET not in workbook.sheetnames:
            return []
        rows = workbook[NOTES_SHEET].iter_rows(values_only=True)
        columns: dict[str, int] = {}
        result = []
        for row in rows:
            texts = ["" if v is None else str(v) for v in row]
            if not columns:
                if "Projectcode" in texts and "Tekst" in texts:
                    columns = {t.strip(): i for i, t in enumerate(texts) if t.strip()}
                continue
            result.append({c: texts[i].strip() if i < len(texts) else ""
                           for c, i in columns.items() if c in NOTES_COLUMNS})
        return result
    finally:
        workbook.close()
