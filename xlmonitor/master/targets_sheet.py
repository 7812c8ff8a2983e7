"""The sheet ``Doelen``: programme settings, traffic-light thresholds, quarters, targets and
project dates, which the Dashboard and Gemeenten formulas read (:class:`DoelenLayout` holds
the addresses they refer to)."""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.utility import xl_col_to_name

from xlmonitor.master.contract import PROGRAMME_KEY
from xlmonitor.master.styles import Styles, add_table, excel_serial
from xlmonitor.periods import period_end


@dataclass
class DoelenLayout:
    """Cell addresses on ``Doelen`` that Dashboard formulas refer to."""

    thresholds: list[tuple[str, str]]   # (kleur, absolute ref of its 'Vanaf' cell), high → low
    project_rows: dict[str, int]        # project code → 1-based row in tblProjectinfo
    project_cols: dict[str, str]        # column name → letter in tblProjectinfo
    periods_first_row: int              # 1-based rows of tblKwartalen data
    periods_last_row: int


_SETTINGS_ROW = 4          # 0-based row of 'Naam'; Start and Eind follow
_THRESHOLD_HEADER = 11     # 0-based header row of tblStoplicht
_TARGET_COL = 4            # tblDoelen starts in column E
_PROJECT_COL = 13          # tblProjectinfo starts in column N
TARGET_COLUMNS = ["Projectcode", "Project", "Indicatorcode", "Indicator", "Doel",
                  "Geldig vanaf", "Geldig tot", "Bron"]
PROJECT_INFO_COLUMNS = ["Projectcode", "Project", "Status", "Start", "Eind",
                        "Stuurindicatorcode", "Stuurindicator"]


def doelen_layout(programme, periods: list[str]) -> DoelenLayout:
    thresholds = []
    for i, kleur in enumerate(programme.thresholds["kleur"]):
        thresholds.append((str(kleur), f"Doelen!$B${_THRESHOLD_HEADER + 2 + i}"))
    period_header = _THRESHOLD_HEADER + len(programme.thresholds) + 3
    project_rows = {code: 5 + i for i, code in enumerate(programme.projects.index)}
    project_cols = {name: xl_col_to_name(_PROJECT_COL + i)
                    for i, name in enumerate(PROJECT_INFO_COLUMNS)}
    return DoelenLayout(thresholds, project_rows, project_cols,
                        period_header + 2, period_header + 1 + len(periods))


def write_doelen(workbook, styles: Styles, programme, periods: list[str],
                 layout: DoelenLayout) -> None:
    """Sheet ``Doelen``: programme settings, thresholds, quarters, targets, project dates."""
    sheet = workbook.add_worksheet("Doelen")
    sheet.hide_gridlines(2)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 14)
    sheet.set_column(2, 2, 24)
    sheet.set_column(3, 3, 3)
    sheet.write_string(0, 0, "Doelen en instellingen", styles.title)
    sheet.write_string(1, 0, "Deze bladen lezen de formules op Dashboard en Gemeenten. Wijzig "
                             "doelen in programma.xlsx en consolideer opnieuw; een wijziging "
                             "hier werkt direct door tot de volgende verwerking.", styles.note)
    sheet.write_string(3, 0, "Programma", styles.section)
    sheet.write_string(3, 1, "", styles.section)
    sheet.write_string(3, 2, "", styles.section)
    settings = [("Naam", str(programme.settings.get("naam", ""))),
                ("Regio", str(programme.settings.get("regio", "")))]
    row = _SETTINGS_ROW
    for key, value in settings:
        sheet.write_string(row, 0, key, styles.label)
        sheet.write_string(row, 1, value, styles.text)
        row += 1
    for key, day, name in (("Start", programme.start, "ProgrammaStart"),
                           ("Eind", programme.end, "ProgrammaEind")):
        sheet.write_string(row, 0, key, styles.label)
        sheet.write_number(row, 1, excel_serial(day), styles.date)
        workbook.define_name(name, f"=Doelen!$B${row + 1}")
        row += 1

    _write_thresholds(sheet, styles, programme)
    _write_quarters(workbook, sheet, styles, periods, layout)
    _write_targets(sheet, styles, programme)
    _write_project_info(sheet, styles, programme, layout)
    sheet.freeze_panes(3, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


def _write_thresholds(sheet, styles: Styles, programme) -> None:
    """``tblStoplicht``: the traffic-light thresholds the light formulas compare with."""
    header = _THRESHOLD_HEADER
    sheet.write_string(header - 1, 0, "Stoplicht (gerealiseerd ÷ verwacht tot nu)",
                       styles.label)
    rows = [[str(k), float(v), str(b or "")] for k, v, b in
            zip(programme.thresholds["kleur"], programme.thresholds["vanaf"],
                programme.thresholds["betekenis"], strict=True)]
    add_table(sheet, header, 0, ["Kleur", "Vanaf", "Betekenis"], "tblStoplicht",
              rows=len(rows), styles=styles, numeric=("Vanaf",))
    for i, (kleur, vanaf, betekenis) in enumerate(rows, start=header + 1):
        sheet.write_string(i, 0, kleur, styles.lights.get(kleur, styles.text))
        sheet.write_number(i, 1, vanaf, styles.percent_plain)
        sheet.write_string(i, 2, betekenis, styles.text)



def _write_quarters(workbook, sheet, styles: Styles, periods: list[str],
                    layout: DoelenLayout) -> None:
    """``tblKwartalen``: the peilperiode drop-down's list, with each quarter's end."""
    period_header = layout.periods_first_row - 2
    sheet.write_string(period_header - 1, 0, "Kwartalen (keuzelijst peilperiode)",
                       styles.label)
    add_table(sheet, period_header, 0, ["Kwartaal", "Kwartaaleinde"], "tblKwartalen",
              rows=len(periods), styles=styles)
    for i, period in enumerate(periods, start=period_header + 1):
        sheet.write_string(i, 0, period, styles.text)
        sheet.write_number(i, 1, excel_serial(period_end(period)), styles.date)
    first, last = layout.periods_first_row, layout.periods_last_row
    workbook.define_name("Kwartalen", f"=Doelen!$A${first}:$A${last}")
    workbook.define_name("Kwartaaleinden", f"=Doelen!$B${first}:$B${last}")



def _write_targets(sheet, styles: Styles, programme) -> None:
    """``tblDoelen``: one row per target, programme-level first."""
    col = _TARGET_COL
    sheet.write_string(2, col, "Doelstellingen (programma en projecten)", styles.label)
    targets = programme.targets.copy()
    targets["_level"] = (targets["project"] != "").astype(int)
    order = {code: i for i, code in enumerate(programme.projects.index)}
    targets["_order"] = targets["project"].map(order).fillna(-1)
    targets = targets.sort_values(["_level", "_order", "indicator", "geldig_vanaf"])
    add_table(sheet, 3, col, TARGET_COLUMNS, "tblDoelen", rows=len(targets), styles=styles,
              numeric=("Doel",))
    for r, target in enumerate(targets.itertuples(), start=4):
        code = target.project or PROGRAMME_KEY
        name = (programme.projects.at[target.project, "naam"] if target.project
                else "heel programma")
        sheet.write_string(r, col, code, styles.text)
        sheet.write_string(r, col + 1, str(name), styles.text)
        sheet.write_string(r, col + 2, str(target.indicator), styles.text)
        sheet.write_string(r, col + 3, programme.label(target.indicator), styles.text)
        sheet.write_number(r, col + 4, float(target.doel), styles.count)
        sheet.write_number(r, col + 5, excel_serial(target.geldig_vanaf), styles.date)
        sheet.write_number(r, col + 6, excel_serial(target.geldig_tot), styles.date)
        sheet.write_string(r, col + 7, str(target.bron or ""), styles.text)
    for offset, width in enumerate([14, 30, 20, 19, 7, 12, 12, 36]):
        sheet.set_column(col + offset, col + offset, width)
    sheet.set_column(col + 8, col + 8, 3)



def _write_project_info(sheet, styles: Styles, programme, layout: DoelenLayout) -> None:
    """``tblProjectinfo``: per project its status, dates and stuurindicator."""
    col = _PROJECT_COL
    sheet.write_string(2, col, "Projecten (looptijd en stuurindicator)", styles.label)
    add_table(sheet, 3, col, PROJECT_INFO_COLUMNS, "tblProjectinfo",
              rows=len(programme.projects), styles=styles)
    for code, r1 in layout.project_rows.items():
        project = programme.projects.loc[code]
        r = r1 - 1
        stuur = project["stuurindicator"]
        sheet.write_string(r, col, str(code), styles.text)
        sheet.write_string(r, col + 1, str(project["naam"]), styles.text)
        sheet.write_string(r, col + 2, str(project["status"]), styles.text)
        sheet.write_number(r, col + 3, excel_serial(project["start"]), styles.date)
        sheet.write_number(r, col + 4, excel_serial(project["eind"]), styles.date)
        sheet.write_string(r, col + 5, stuur, styles.text)
        sheet.write_string(r, col + 6, programme.label(stuur) if stuur else "", styles.text)
    for offset, width in enumerate([18, 40, 11, 11, 11, 20, 19]):
        sheet.set_column(col + offset, col + offset, width)
