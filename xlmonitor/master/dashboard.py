"""The live sheets of the master workbook: ``Dashboard``, ``Gemeenten`` and ``Doelen``.

Every figure on Dashboard and Gemeenten is a formula over ``tblData`` and the tables on
``Doelen``, so a corrected number in ``Data`` (or a changed target on ``Doelen``) changes the
dashboard in Excel without Python. Each formula is written with the value pandas computed for
it (:func:`xlmonitor.master.figures.compute_figures`) as its cached result, because readers that do
not calculate (Power Query, pandas, previews, LibreOffice with default settings) show the
cached value.

Formula rules, measured in Excel 2016+ and LibreOffice 7.4 (see docs/design.md):

* whole-column structured references (``tblData[Aanmeldingen]``) work in both; the this-row
  form ``[@Projectcode]`` as XlsxWriter writes it gives ``#N/A`` in LibreOffice, so rows refer
  to plain cells (``$A16``);
* only functions both engines have: SUMIFS, COUNTIFS, SUMPRODUCT, INDEX/MATCH, IF, MIN, MAX,
  DATE, NA. No MAXIFS, IFS, XLOOKUP or LET (missing in Excel 2016 or differing in Calc);
* the target valid at the peildatum is a SUMIFS over ``tblDoelen`` with
  ``Geldig vanaf <= peildatum <= Geldig tot`` (``geldig_tot`` is derived by the programme
  loader, so at most one row matches);
* a target of "nothing" is the text ``n.v.t.``; the formulas test ``ISNUMBER`` before
  dividing, so no ``#DEEL/0!`` reaches the council.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from xlmonitor.master.contract import PROGRAMME_KEY, STATUS_NAME
from xlmonitor.master.figures import NVT, Figures, int_if_whole
from xlmonitor.master.styles import BLUE, NAVY, SLATE, Styles, add_table, excel_serial
from xlmonitor.master.targets_sheet import DoelenLayout

# -- formula pieces -----------------------------------------------------------------------

def _target_criteria(project_ref: str, indicator_ref: str, at: str) -> str:
    return (f"tblDoelen[Projectcode],{project_ref},tblDoelen[Indicatorcode],{indicator_ref},"
            f'tblDoelen[Geldig vanaf],"<="&{at},tblDoelen[Geldig tot],">="&{at}')


def target_formula(project_ref: str, indicator_ref: str, at: str, *, scale: str = "",
                   missing: str = f'"{NVT}"') -> str:
    """The target valid at ``at`` (times ``scale``), or ``missing`` when none is."""
    criteria = _target_criteria(project_ref, indicator_ref, at)
    return (f"IF(COUNTIFS({criteria})=0,{missing},"
            f"SUMIFS(tblDoelen[Doel],{criteria}){'*' + scale if scale else ''})")


def share_formula(at: str, start: str, end: str) -> str:
    """Elapsed share of start..end (both inclusive) at the end of day ``at``, 0..1."""
    return f"MIN(1,MAX(0,({at}-{start}+1)/({end}-{start}+1)))"


def expected_formula(target: str, at: str, start: str, end: str) -> str:
    return f'IF(ISNUMBER({target}),{target}*{share_formula(at, start, end)},"{NVT}")'


def percentage_formula(realised: str, expected: str) -> str:
    # Nested IFs, not AND(): Excel evaluates every AND argument, and text>0 must not decide.
    return f'IF(ISNUMBER({expected}),IF({expected}>0,{realised}/{expected},"{NVT}"),"{NVT}")'


def light_formula(percentage: str, thresholds: list[tuple[str, str]]) -> str:
    """``groen``/``oranje``/``rood`` against the threshold cells on Doelen, else n.v.t."""
    inner = '"rood"'  # below every threshold; a "rood vanaf" bound changes nothing
    for kleur, ref in reversed(thresholds):
        if kleur != "rood":
            inner = f'IF({percentage}>={ref},"{kleur}",{inner})'
    return f'IF(ISNUMBER({percentage}),{inner},"{NVT}")'


#: Dashboard C5 when no file reports the chosen peilperiode.
NOT_REPORTED = ("Let op: over dit kwartaal zijn nog geen cijfers aangeleverd; de stoplichten "
                "zijn daardoor te streng.")


def realised_formula(label: str, *criteria: tuple[str, str], at: str = "Peildatum") -> str:
    parts = "".join(f",tblData[{column}],{value}" for column, value in criteria)
    return f'SUMIFS(tblData[{_escape(label)}]{parts},tblData[Kwartaaleinde],"<="&{at})'


def _escape(column: str) -> str:
    # Structured references escape [ ] # ' with a leading apostrophe.
    return "".join("'" + ch if ch in "[]#'" else ch for ch in column)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _cached(value: object) -> object:
    """A pandas value as a formula's cached result (None/NaN: the chart gap ``#N/A``)."""
    if value is None or (isinstance(value, float) and value != value):
        return "#N/A"
    if isinstance(value, date):
        return excel_serial(value)
    return value.item() if hasattr(value, "item") else value


# -- the Dashboard ------------------------------------------------------------------------

#: Cells every other sheet refers to through defined names.
PEILPERIODE_CELL = "$B$4"
PEILDATUM_CELL = "$B$5"
KPI_HEADER = 7            # 0-based row of the tblKPI header
KPI_COLUMNS = ["Indicator", "Gerealiseerd", "Doel", "Verwacht", "Percentage", "Stoplicht"]
PROJECT_TAIL = ["Doel", "Verwacht", "Percentage", "Stoplicht"]
TREND_COL = 11            # column L: the "Verloop per kwartaal" table
CONSOLIDATE_MACRO = "Consolideer"
REPORT_MACRO = "Rapport"


def write_dashboard(workbook, styles: Styles, consolidation, figures: Figures,
                    periods: list[str], layout: DoelenLayout, *, generated_at: datetime,
                    with_button: bool = False) -> None:
    """Sheet ``Dashboard``: peilperiode choice, programme KPIs (``tblKPI``), projects with
    their traffic lights (``tblProjecten``), a legend and the trend per quarter with charts."""
    programme = consolidation.programme
    labels = [programme.label(c) for c in programme.indicator_codes]
    sheet = workbook.add_worksheet("Dashboard")
    sheet.hide_gridlines(2)
    sheet.set_default_row(17)
    widths = [19, 50] + [12] * len(labels) + [9, 10, 12, 10]
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    last_col = len(widths) - 1
    sheet.set_column(last_col + 1, last_col + 1, 3)

    _write_heading(workbook, sheet, styles, consolidation, figures, generated_at,
                   last_col if with_button else None)
    kpi_last = _write_kpis(sheet, styles, programme, figures, layout, last_col)
    header, project_last = _write_projects(sheet, styles, programme, figures, layout, labels,
                                           kpi_last + 3, last_col)
    _write_legend(sheet, styles, programme, project_last + 1)
    last_row = _write_trend_charts(workbook, sheet, styles, programme, figures, header,
                                   project_last + 4, widths)
    _set_up_page(sheet, last_row, last_col, str(programme.settings.get("regio", "")))


def _write_heading(workbook, sheet, styles: Styles, consolidation, figures: Figures,
                   generated_at: datetime, button_col: int | None) -> None:
    """Title, status line, the peilperiode drop-down and its peildatum; the button."""
    programme = consolidation.programme
    name = str(programme.settings.get("naam", ""))
    region = str(programme.settings.get("regio", ""))
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, f"Monitor {name}", styles.title)
    sheet.write_string(1, 0, f"{region} · arbeidsmarktprogramma's · stand van zaken per "
                             "peilperiode", styles.subtitle)
    sheet.write_string(2, 0, f"Bijgewerkt: {generated_at:%d-%m-%Y %H:%M}", styles.note)
    # The Consolideer button (xlmonitor.excel.button) writes its run status into this cell.
    workbook.define_name(STATUS_NAME, "=Dashboard!$A$3")

    sheet.set_row(3, 20)
    sheet.write_string(3, 0, "Peilperiode", styles.label)
    sheet.write_string(3, 1, figures.peilperiode, styles.input)
    sheet.write_string(3, 2, "◄ kies een kwartaal: alle cijfers tellen op tot en met het "
                             "einde ervan", styles.note)
    sheet.data_validation(3, 1, 3, 1, {
        "validate": "list", "source": "=Kwartalen",
        "input_title": "Peilperiode", "input_message": "Kies het kwartaal (JJJJ-Qn).",
        "error_title": "Onbekend kwartaal",
        "error_message": "Kies een kwartaal uit de lijst.",
    })
    sheet.write_string(4, 0, "Peildatum", styles.label)
    sheet.write_formula(
        4, 1, "=DATE(VALUE(LEFT(B4,4)),VALUE(RIGHT(B4,1))*3+1,1)-1", styles.input_date,
        excel_serial(figures.peildatum))
    # A quarter nobody has reported yet can be chosen (every quarter of the programme is in
    # the list, so the Consolideer button can show a new one): say so, because its expected
    # targets have grown while its figures have not, and the lights turn red for nothing.
    reported = "Periode" in consolidation.data and \
        figures.peilperiode in set(consolidation.data["Periode"].tolist())
    sheet.write_formula(
        4, 2, f'=IF(COUNTIF(tblData[Periode],{PEILPERIODE_CELL})=0,"{NOT_REPORTED}","")',
        styles.warning, "" if reported else NOT_REPORTED)
    workbook.define_name("Peilperiode", f"=Dashboard!{PEILPERIODE_CELL}")
    workbook.define_name("Peildatum", f"=Dashboard!{PEILDATUM_CELL}")
    if button_col is not None:
        sheet.insert_button(0, button_col - 2, {
            "macro": CONSOLIDATE_MACRO, "caption": "Consolideer", "width": 150,
            "height": 34, "x_offset": 10, "y_offset": 4})
        # Rapport, left of Consolideer: writes the Monitor (.docx) beside the workbook.
        sheet.insert_button(0, button_col - 4, {
            "macro": REPORT_MACRO, "caption": "Rapport", "width": 110,
            "height": 34, "x_offset": 30, "y_offset": 4})


def _section(sheet, styles: Styles, row: int, title: str, last_col: int) -> None:
    sheet.write_string(row, 0, title, styles.section)
    for c in range(1, last_col + 1):
        sheet.write_blank(row, c, None, styles.section)


def _write_kpis(sheet, styles: Styles, programme, figures: Figures, layout: DoelenLayout,
                last_col: int) -> int:
    """``tblKPI``: the programme indicators against their targets; returns its last row."""
    _section(sheet, styles, KPI_HEADER - 1, "Programma-indicatoren (cumulatief)", last_col)
    kpi_col = 1  # column B: the indicator names need the wide column
    add_table(sheet, KPI_HEADER, kpi_col, KPI_COLUMNS, "tblKPI", rows=len(figures.kpi),
           style="Table Style Medium 2", styles=styles, numeric=tuple(KPI_COLUMNS[1:4]))
    thresholds = layout.thresholds
    for i, (code, kpi) in enumerate(figures.kpi.iterrows()):
        r = KPI_HEADER + 1 + i
        cell = {name: xl_rowcol_to_cell(r, kpi_col + j)
                for j, name in enumerate(KPI_COLUMNS)}
        sheet.write_string(r, kpi_col, str(kpi["Indicator"]), styles.label)
        sheet.write_formula(r, kpi_col + 1, "=" + realised_formula(kpi["Indicator"]),
                            styles.count_bold, _cached(kpi["Gerealiseerd"]))
        sheet.write_formula(r, kpi_col + 2,
                            "=" + target_formula(_quote(PROGRAMME_KEY), _quote(code),
                                                 "Peildatum"),
                            styles.count, _cached(kpi["Doel"]))
        sheet.write_formula(r, kpi_col + 3,
                            "=" + expected_formula(cell["Doel"], "Peildatum",
                                                   "ProgrammaStart", "ProgrammaEind"),
                            styles.expected, _cached(kpi["Verwacht"]))
        sheet.write_formula(r, kpi_col + 4,
                            "=" + percentage_formula(cell["Gerealiseerd"], cell["Verwacht"]),
                            styles.percent, _cached(kpi["Percentage"]))
        sheet.write_formula(r, kpi_col + 5, "=" + light_formula(cell["Percentage"], thresholds),
                            styles.center, _cached(kpi["Stoplicht"]))
    kpi_last = KPI_HEADER + len(figures.kpi)
    _traffic_light_formats(sheet, styles, KPI_HEADER + 1, kpi_last, kpi_col + 4, kpi_col + 5,
                           programme)
    return kpi_last


def _write_projects(sheet, styles: Styles, programme, figures: Figures, layout: DoelenLayout,
                    labels: list[str], header: int, last_col: int) -> tuple[int, int]:
    """``tblProjecten`` from row ``header``: per project its figures, the target of its
    stuurindicator, expected, percentage and light; returns (header row, last row)."""
    thresholds = layout.thresholds
    _section(sheet, styles, header - 1, "Projecten (stoplicht op de stuurindicator, "
                                        "cumulatief)", last_col)
    columns = ["Projectcode", "Project", *labels, *PROJECT_TAIL]
    add_table(sheet, header, 0, columns, "tblProjecten", rows=len(figures.projects),
           style="Table Style Medium 2", styles=styles, numeric=tuple(columns[2:-2]))
    sheet.set_row(header, 30)
    pcols = layout.project_cols
    tail = len(labels) + 2
    label_range = (f"${xl_col_to_name(2)}${header + 1}:"
                   f"${xl_col_to_name(1 + len(labels))}${header + 1}")
    for i, (code, project) in enumerate(figures.projects.iterrows()):
        r = header + 1 + i
        info = layout.project_rows[code]

        def doelen(column: str, info: int = info) -> str:
            return f"Doelen!${pcols[column]}${info}"

        stuur = programme.projects.at[code, "stuurindicator"]
        sheet.write_string(r, 0, str(code), styles.text)
        sheet.write_string(r, 1, str(project["Project"]), styles.text)
        for j, label in enumerate(labels):
            key = stuur and programme.label(stuur) == label
            sheet.write_formula(r, 2 + j,
                                "=" + realised_formula(label, ("Projectcode", f"$A{r + 1}")),
                                styles.count_key if key else styles.count, _cached(project[label]))
        cells = {name: xl_rowcol_to_cell(r, tail + j) for j, name in enumerate(PROJECT_TAIL)}
        target = target_formula(f"$A{r + 1}", doelen("Stuurindicatorcode"), "Peildatum")
        sheet.write_formula(
            r, tail,
            f'=IF(OR({doelen("Stuurindicatorcode")}="",Peildatum<{doelen("Start")}),'
            f'"{NVT}",{target})',
            styles.count, _cached(project["Doel"]))
        sheet.write_formula(r, tail + 1,
                            "=" + expected_formula(cells["Doel"], "Peildatum", doelen("Start"),
                                                   doelen("Eind")),
                            styles.expected, _cached(project["Verwacht"]))
        realised = (f"INDEX($C{r + 1}:${xl_col_to_name(1 + len(labels))}{r + 1},"
                    f"MATCH({doelen('Stuurindicator')},{label_range},0))")
        sheet.write_formula(r, tail + 2,
                            f'=IF({doelen("Stuurindicatorcode")}="","{NVT}",'
                            f'{percentage_formula(realised, cells["Verwacht"])})',
                            styles.percent, _cached(project["Percentage"]))
        sheet.write_formula(r, tail + 3, "=" + light_formula(cells["Percentage"], thresholds),
                            styles.center, _cached(project["Stoplicht"]))
    project_last = header + max(len(figures.projects), 1)
    _traffic_light_formats(sheet, styles, header + 1, project_last, tail + 2, tail + 3,
                           programme)
    return header, project_last


def _write_legend(sheet, styles: Styles, programme, r: int) -> None:
    """Text only: the traffic-light colours appear where a status is, nowhere else."""
    sheet.write_string(r, 0, "Stoplicht", styles.label)
    sheet.write_string(r, 1, f"{_threshold_text(programme)} · n.v.t.: geen doel of nog niet "
                             "gestart.", styles.note)
    sheet.write_string(r + 1, 1, "Verwacht = doel × verstreken deel van de looptijd (van het "
                                 "project of het programma). Onderstreept: de stuurindicator "
                                 "van het project.", styles.note)


def _write_trend_charts(workbook, sheet, styles: Styles, programme, figures: Figures,
                        project_header: int, chart_row: int, widths: list[float]) -> int:
    """The trend table on the right and a chart per programme indicator below the legend;
    returns the last row the charts cover."""
    last_col = len(widths) - 1
    sheet.set_row(chart_row, 20)
    _section(sheet, styles, chart_row, "Verloop per kwartaal (cumulatief) tegen het verwachte "
                                       "doel", last_col)
    trend_first, trend_last = _write_trend(sheet, styles, programme, figures, project_header)
    chart_height = 215
    n = max(len(programme.kpi_codes), 1)
    total_px = sum(_px(w) for w in widths)
    chart_width = total_px // n
    for i, code in enumerate(programme.kpi_codes):
        chart = _trend_chart(workbook, programme, code, i, trend_first, trend_last,
                             chart_width, chart_height)
        sheet.insert_chart(chart_row + 1, 0, chart,
                           {"x_offset": i * chart_width + 2, "y_offset": 6,
                            "object_position": 3})
    last_row = chart_row + 1 + (chart_height + 12) // 17 + 1
    return last_row


def _set_up_page(sheet, last_row: int, last_col: int, region: str) -> None:
    """One landscape A4 page, the region in the footer; Dashboard opens first."""
    sheet.print_area(0, 0, last_row, last_col)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 1)
    sheet.center_horizontally()
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    sheet.set_footer(f"&L&8{_footer(region)}")
    sheet.freeze_panes(5, 0)
    sheet.activate()



def _threshold_text(programme) -> str:
    """``groen ≥ 90% · oranje ≥ 70% · rood < 70% van verwacht`` from the thresholds."""
    parts = []
    lowest = None
    for kleur, vanaf in zip(programme.thresholds["kleur"], programme.thresholds["vanaf"],
                            strict=True):
        if float(vanaf) > 0:
            parts.append(f"{kleur} ≥ {float(vanaf):.0%}")
            lowest = float(vanaf)
    if lowest is not None:
        parts.append(f"rood < {lowest:.0%}")
    return " · ".join(parts) + " van verwacht"


def _footer(text: str) -> str:
    return text.replace("&", "&&")


def _px(width: float) -> int:
    """Pixels of a column of ``width`` characters (Calibri 11, as XlsxWriter computes)."""
    return int(width * 7 + 5) if width >= 1 else int(width * 12 + 0.5)


def _traffic_light_formats(sheet, styles: Styles, first: int, last: int, pct_col: int,
                           light_col: int, programme) -> None:
    for status, fmt in styles.lights.items():
        sheet.conditional_format(first, light_col, last, light_col, {
            "type": "cell", "criteria": "==", "value": _quote(status), "format": fmt})
    bounds = dict(zip(programme.thresholds["kleur"], programme.thresholds["vanaf"],
                      strict=True))
    green = float(bounds.get("groen", 1.0))
    orange = float(bounds.get("oranje", green))
    # Icon sets compare numbers; text (n.v.t.) gets no icon. The bounds are the programme's
    # thresholds at the time of writing (icon criteria cannot point at another sheet in
    # every Excel version); the Stoplicht text follows the cells on Doelen.
    sheet.conditional_format(first, pct_col, last, pct_col, {
        "type": "icon_set", "icon_style": "3_traffic_lights",
        "icons": [{"criteria": ">=", "type": "number", "value": green},
                  {"criteria": ">=", "type": "number", "value": orange}]})


def _write_trend(sheet, styles: Styles, programme, figures: Figures,
                 header: int) -> tuple[int, int]:
    """Table tblVerloop (Kwartaal, Kwartaaleinde, realised and expected per KPI)."""
    col = TREND_COL
    codes = programme.kpi_codes
    columns = ["Kwartaal", "Kwartaaleinde"]
    for code in codes:
        columns += [f"{programme.label(code)} gerealiseerd", f"{programme.label(code)} verwacht"]
    sheet.write_string(header - 1, col, "Verloop per kwartaal (voor de grafieken)",
                       styles.section)
    for c in range(col + 1, col + len(columns)):
        sheet.write_blank(header - 1, c, None, styles.section)
    sheet.set_column(col, col, 9)
    sheet.set_column(col + 1, col + 1, 11)
    sheet.set_column(col + 2, col + len(columns) - 1, 11)
    add_table(sheet, header, col, columns, "tblVerloop", rows=len(figures.trend),
           style="Table Style Medium 2", styles=styles, numeric=tuple(columns[2:]))
    sheet.set_row(header, 30)
    for i, (period, row) in enumerate(figures.trend.iterrows()):
        r = header + 1 + i
        quarter = xl_rowcol_to_cell(r, col, col_abs=True)
        end = xl_rowcol_to_cell(r, col + 1, col_abs=True)
        sheet.write_string(r, col, str(period), styles.text)
        sheet.write_formula(
            r, col + 1,
            f"=DATE(VALUE(LEFT({quarter},4)),VALUE(RIGHT({quarter},1))*3+1,1)-1",
            styles.date, excel_serial(row["Kwartaaleinde"]))
        for j, code in enumerate(codes):
            label = programme.label(code)
            realised = realised_formula(label, at=end)
            sheet.write_formula(r, col + 2 + 2 * j, f"=IF({end}<=Peildatum,{realised},NA())",
                                styles.count, _cached(row[(code, "realised")]))
            expected = "=" + target_formula(
                _quote(PROGRAMME_KEY), _quote(code), end, missing="NA()",
                scale=share_formula(end, "ProgrammaStart", "ProgrammaEind"))
            sheet.write_formula(r, col + 3 + 2 * j, expected, styles.count,
                                _cached(row[(code, "expected")]))
    return header + 1, header + max(len(figures.trend), 1)


def _trend_chart(workbook, programme, code: str, index: int, first: int, last: int,
                 width: int, height: int):
    col = TREND_COL + 2 + 2 * index
    label = programme.label(code)
    columns = workbook.add_chart({"type": "column"})
    columns.add_series({
        "name": "Gerealiseerd",
        "categories": ["Dashboard", first, TREND_COL, last, TREND_COL],
        "values": ["Dashboard", first, col, last, col],
        "fill": {"color": BLUE}, "border": {"none": True}, "gap": 60,
    })
    line = workbook.add_chart({"type": "line"})
    line.add_series({
        "name": "Verwacht (doel naar rato)",
        "categories": ["Dashboard", first, TREND_COL, last, TREND_COL],
        "values": ["Dashboard", first, col + 1, last, col + 1],
        "line": {"color": SLATE, "width": 2, "dash_type": "dash"},
        "marker": {"type": "none"},
    })
    columns.combine(line)
    columns.set_title({"name": label, "name_font": {"size": 11, "bold": True,
                                                    "color": NAVY}})
    columns.set_x_axis({"num_font": {"size": 8, "rotation": -45}})
    columns.set_y_axis({"name": "Aantal (cumulatief)", "num_format": "0", "min": 0,
                        "num_font": {"size": 8}, "name_font": {"size": 9, "bold": False},
                        "major_gridlines": {"visible": True,
                                            "line": {"color": "#D9D9D9", "width": 0.5}}})
    columns.set_legend({"position": "top", "font": {"size": 8}})
    columns.show_na_as_empty_cell()
    columns.set_size({"width": width - 6, "height": height})
    columns.set_chartarea({"border": {"color": "#D9D9D9"}})
    return columns


# -- Gemeenten ----------------------------------------------------------------------------

GEMEENTEN_HEADER = 4   # 0-based row of the tblGemeenten header


def write_gemeenten(workbook, styles: Styles, consolidation, figures: Figures) -> None:
    programme = consolidation.programme
    labels = [programme.label(c) for c in programme.indicator_codes]
    sheet = workbook.add_worksheet("Gemeenten")
    sheet.hide_gridlines(2)
    widths = [18, 10] + [13] * len(labels) + [12]
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    sheet.write_string(0, 0, "Resultaten per gemeente", styles.title)
    sheet.set_row(0, 28)
    sheet.write_string(1, 0, "Peilperiode", styles.label)
    sheet.write_formula(1, 1, "=Peilperiode", styles.label, figures.peilperiode)
    sheet.write_string(1, 2, "cumulatief tot en met de peildatum; kies de peilperiode op het "
                             "Dashboard", styles.note)
    sheet.write_string(2, 0, "Peildatum", styles.label)
    sheet.write_formula(2, 1, "=Peildatum", styles.date_plain, excel_serial(figures.peildatum))

    columns = ["Gemeente", "CBS-code", *labels, "Kwartalen geleverd"]
    header = GEMEENTEN_HEADER
    rows = len(figures.municipalities)
    first, last = header + 1, header + max(rows, 1)
    specs = [{"header": "Gemeente", "total_string": "Totaal", "header_format": styles.header},
             {"header": "CBS-code", "header_format": styles.header}]
    totals = figures.municipalities[labels].sum() if rows else pd.Series(0, index=labels)
    for j, column in enumerate([*labels, "Kwartalen geleverd"]):
        letter = xl_col_to_name(2 + j)
        if column in labels:
            specs.append({"header": column, "header_format": styles.header_right,
                          "total_function": f"=SUM({letter}{first + 1}:{letter}{last + 1})",
                          "total_value": int_if_whole(totals[column])})
        else:
            specs.append({"header": column, "header_format": styles.header_right})
    add_table(sheet, header, 0, columns, "tblGemeenten", rows=rows, style="Table Style Medium 2",
           total_row=True, columns=specs)
    sheet.set_row(header, 30)
    # The total row again, now with its format (a table column "format" would also become
    # the column's style for rows a user adds).
    total_row = last + 1
    sheet.write_string(total_row, 0, "Totaal", styles.total_label)
    sheet.write_blank(total_row, 1, None, styles.total)
    for j, column in enumerate(labels):
        letter = xl_col_to_name(2 + j)
        sheet.write_formula(total_row, 2 + j, f"=SUM({letter}{first + 1}:{letter}{last + 1})",
                            styles.total, _cached(int_if_whole(totals[column])))
    sheet.write_blank(total_row, 2 + len(labels), None, styles.total)
    sheet.write_string(total_row + 2, 0, "Het totaal is gelijk aan 'Gerealiseerd' op het "
                                         "Dashboard.", styles.note)
    for i, (name, row) in enumerate(figures.municipalities.iterrows()):
        r = header + 1 + i
        sheet.write_string(r, 0, str(name), styles.name)
        sheet.write_string(r, 1, str(row["CBS-code"]), styles.text)
        for j, label in enumerate(labels):
            sheet.write_formula(r, 2 + j,
                                "=" + realised_formula(label, ("Gemeente", f"$A{r + 1}")),
                                styles.count, _cached(row[label]))
        # Distinct quarters with data: one COUNTIFS per quarter of the Kwartalen list,
        # evaluated as an array inside SUMPRODUCT (no COUNTA(UNIQUE()) before Excel 365).
        sheet.write_formula(
            r, 2 + len(labels),
            f"=SUMPRODUCT((COUNTIFS(tblData[Gemeente],$A{r + 1},tblData[Periode],Kwartalen)>0)"
            f"*(Kwartaaleinden<=Peildatum))",
            styles.count, _cached(row["Kwartalen geleverd"]))
    sheet.freeze_panes(header + 1, 1)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
