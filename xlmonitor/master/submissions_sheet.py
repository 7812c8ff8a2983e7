"""The sheet ``Inzendingen``: which municipality delivered which quarter (the status matrix)
and every file in the inbox with its status (``tblInzendingen``)."""

from __future__ import annotations

import xlsxwriter

from xlmonitor.consolidation.register import REGISTER_COLUMNS, matrix_for_periods
from xlmonitor.master.cells import LAST_ROW, is_missing, wrapped_height, write_text, write_value
from xlmonitor.master.contract import (
    MATRIX_FIRST_COLUMN,
    MATRIX_MISSING,
    MATRIX_SHEET,
    MATRIX_STATUSES,
    REGISTER_STATUSES,
    matrix_header_cell,
)
from xlmonitor.master.styles import LIGHT_COLOURS, NAVY, SLATE, Styles, add_table

#: Matrix status → (fill, font). Same colours as the traffic lights: green is good, orange
#: still to do, red needs action; a quarter that is not yet due is a quiet light grey.
MATRIX_COLOURS: dict[str, tuple[str, str]] = dict(zip(MATRIX_STATUSES, (
    LIGHT_COLOURS["groen"], LIGHT_COLOURS["rood"], LIGHT_COLOURS["oranje"],
    ("#EDEDED", "#7F7F7F")), strict=True))
MATRIX_LEGEND = dict(zip(MATRIX_STATUSES, (
    "verwerkt", "fouten: niet verwerkt", "nog niet ontvangen",
    "kwartaal nog niet aan de beurt"), strict=True))
#: Register status → traffic light of its cell (the rest: grey, the file does not count).
REGISTER_LIGHTS = {"ontvangen": "groen", "afgekeurd": "rood", "in aanvoer": "oranje"}
COLUMN_WIDTH = 16


def write_inzendingen(workbook, styles: Styles, consolidation, periods: list[str]) -> None:
    """Sheet ``Inzendingen``: the municipality × period matrix (what is still missing, at a
    glance) over every quarter of ``periods`` and below it ``tblInzendingen``, one row per
    file. Both share the columns, so B… have one width."""
    sheet = workbook.add_worksheet(MATRIX_SHEET)
    sheet.hide_gridlines(2)
    last_col = max(len(periods) + 1, len(REGISTER_COLUMNS) - 1)
    digest = REGISTER_COLUMNS.index("sha256")
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, last_col, COLUMN_WIDTH)
    if digest > len(periods) + 1:
        sheet.set_column(digest, digest, 52)
    # else the column is one of the matrix's: the digest (small print, nothing to its right)
    # runs on over the empty cells beside it, as text does in Excel and LibreOffice.
    header, _ = matrix_header_cell()  # column A: the sheet's first column is the names'
    last_row = _write_matrix(workbook, sheet, styles, consolidation, periods)
    _write_register(workbook, sheet, styles, consolidation, last_row + 3, last_col)
    sheet.freeze_panes(header + 1, 1)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


def _write_matrix(workbook, sheet, styles: Styles, consolidation, periods: list[str]) -> int:
    """Title, legend and the matrix (a COUNTIF of what is missing per municipality);
    returns the matrix's last row."""
    matrix = matrix_for_periods(consolidation.matrix, periods)
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, "Inzendingen per gemeente en kwartaal", styles.title)
    sheet.write_string(1, 0, "Welke gemeente heeft welk kwartaal aangeleverd. Daaronder: elk "
                             "bestand in de inbox met zijn status.", styles.note)
    fills = {status: workbook.add_format({"bg_color": fill, "font_color": font, "bold": True,
                                          "align": "center", "font_size": 10,
                                          "border": 1, "border_color": "#FFFFFF"})
             for status, (fill, font) in MATRIX_COLOURS.items()}
    sheet.write_string(2, 0, "Legenda", styles.label)
    for j, (status, text) in enumerate(MATRIX_LEGEND.items()):
        sheet.write_string(2, 1 + 3 * j, status, fills[status])
        sheet.write_string(2, 2 + 3 * j, text, styles.note)

    header, _ = matrix_header_cell()
    sheet.set_row(header, 20)
    sheet.write_string(header, 0, MATRIX_FIRST_COLUMN, styles.header)
    for j, period in enumerate(periods, start=1):
        sheet.write_string(header, j, period, styles.header_center)
    missing_col = len(periods) + 1
    sheet.write_string(header, missing_col, MATRIX_MISSING, styles.header_right)
    cell = workbook.add_format({"align": "center", "font_size": 10, "border": 1,
                                "border_color": "#FFFFFF"})
    for i, (municipality, statuses) in enumerate(matrix.iterrows(), start=header + 1):
        sheet.write_string(i, 0, str(municipality), styles.name)
        for j, status in enumerate(statuses, start=1):
            write_text(sheet, i, j, "" if is_missing(status) else str(status), styles, cell)
        missing = sum(1 for s in statuses if s == "ontbreekt")
        first = xlsxwriter.utility.xl_rowcol_to_cell(i, 1)
        last = xlsxwriter.utility.xl_rowcol_to_cell(i, max(len(periods), 1))
        sheet.write_formula(i, missing_col, f'=COUNTIF({first}:{last},"ontbreekt")',
                            styles.count_bold, missing)
    last_row = header + max(len(matrix), 1)
    if periods:
        for status, fmt in fills.items():
            sheet.conditional_format(header + 1, 1, last_row, len(periods), {
                "type": "cell", "criteria": "==", "value": f'"{status}"', "format": fmt})
    return last_row


def _write_register(workbook, sheet, styles: Styles, consolidation, top: int,
                    last_col: int) -> None:
    """``tblInzendingen`` from row ``top``, statuses coloured down to the sheet's end."""
    digest = REGISTER_COLUMNS.index("sha256")
    sheet.write_string(top - 1, 0, "Bestanden in de inbox", styles.section)
    for c in range(1, last_col + 1):
        sheet.write_blank(top - 1, c, None, styles.section)
    register = consolidation.shown_register()  # file names with personal data masked
    add_table(sheet, top, 0, REGISTER_COLUMNS, "tblInzendingen", rows=len(register),
              style="Table Style Light 9", styles=styles,
              numeric=("Fouten", "Waarschuwingen"))
    sheet.set_row(top, 30)
    # An indent keeps the digest apart from the right-aligned "Waarschuwingen" before it.
    sheet.write_string(top, digest, "sha256", workbook.add_format(
        {"bold": True, "font_name": "Calibri", "font_size": 10, "valign": "bottom",
         "font_color": "#FFFFFF", "bg_color": NAVY, "align": "left", "indent": 2}))
    digest_format = workbook.add_format({
        "font_name": "Calibri", "font_size": 8, "font_color": SLATE, "valign": "vcenter",
        "align": "left", "indent": 2, "bottom": 1, "bottom_color": "#D9D9D9"})
    wrapped = [REGISTER_COLUMNS.index("Periodes"), REGISTER_COLUMNS.index("Vervangen door")]
    for r, row in enumerate(register[REGISTER_COLUMNS].itertuples(index=False), start=top + 1):
        texts = []
        for c, value in enumerate(row):
            present = not is_missing(value) and str(value) != ""
            if c in wrapped and present:
                text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) \
                    else str(value)
                write_text(sheet, r, c, text, styles, styles.wrap_center)
                texts.append(text)
            elif c == digest and present:
                write_text(sheet, r, c, str(value), styles, digest_format)
            else:
                write_value(sheet, r, c, value, styles)
        height = wrapped_height(texts, [COLUMN_WIDTH] * len(texts))
        if height:
            sheet.set_row(r, height)
    status_col = REGISTER_COLUMNS.index("Status")
    body = (top + 1, status_col, LAST_ROW, status_col)  # rows the button adds, too
    unused = workbook.add_format({"bg_color": "#D9D9D9", "font_color": "#404040"})
    for status, fmt in sorted(
            ((s, styles.lights[REGISTER_LIGHTS[s]] if s in REGISTER_LIGHTS else unused)
             for s in REGISTER_STATUSES),
            key=lambda item: item[0] not in REGISTER_LIGHTS):  # the lights' order first
        sheet.conditional_format(*body, {"type": "cell", "criteria": "==",
                                         "value": f'"{status}"', "format": fmt})
