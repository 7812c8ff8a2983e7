"""Publish: write the master workbook from a :class:`~xlmonitor.consolidation.merge.Consolidation`.

Sheets, in this order: ``Dashboard``, ``Gemeenten`` (live formulas, see
:mod:`xlmonitor.master.dashboard`), ``Inzendingen`` (municipality × period matrix and the register
``tblInzendingen``), ``Validatie`` (``tblBevindingen``), ``Data`` (``tblData``, the long table
with provenance) and ``Doelen`` (targets, project dates, thresholds the formulas read).

Guarantees:

* never a half-written master: the workbook is written beside the target and moved over it
  with :func:`os.replace`;
* the same consolidation gives the same bytes (fixed creation time, fixed zip timestamps,
  no "now" unless ``generated_at`` is passed);
* no personal data in a file name reaches the master: the register, the Data sheet and the
  findings show such names masked (:meth:`Consolidation.shown_register`, ...);
* no value from a submission becomes a formula: every submitted string is written with
  ``write_string`` and the workbook has ``strings_to_formulas`` off. Strings starting with
  ``= + - @`` also get Excel's quote prefix, so editing the cell in Excel keeps it text.
"""

from __future__ import annotations

import io
import math
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import xlsxwriter

from xlmonitor.consolidation.merge import (
    FINDING_COLUMNS,
    REGISTER_COLUMNS,
    matrix_for_periods,
    programme_periods,
)
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.master.contract import (
    MATRIX_FIRST_COLUMN,
    MATRIX_MISSING,
    MATRIX_SHEET,
    MATRIX_STATUSES,
    REGISTER_STATUSES,
    matrix_header_cell,
)
from xlmonitor.master.dashboard import write_dashboard, write_gemeenten
from xlmonitor.master.datasheet import RISKY_START, add_data_sheet, write_package
from xlmonitor.master.figures import compute_figures
from xlmonitor.master.settings_sheet import write_settings_sheet
from xlmonitor.master.styles import LIGHT_COLOURS, NAVY, SLATE, Styles, add_table, excel_serial
from xlmonitor.master.targets_sheet import doelen_layout, write_doelen
from xlmonitor.periods import parse_period

__all__ = ["default_generated_at", "write_button_master", "write_master"]

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
#: Last row (0-based) of a worksheet: conditional formats on a table column reach it, so the
#: rows the Consolideer button adds to the table are coloured too.
LAST_ROW = 1_048_575
_EPOCH = datetime(1899, 12, 30)


def write_master(consolidation, path: str | Path, *, peilperiode: str | None = None,
                 vba_project: str | Path | None = None,
                 generated_at: datetime | None = None,
                 settings: Mapping[str, str] | None = None) -> Path:
    """Write the master workbook to ``path`` (``.xlsm`` with ``vba_project``); returns it.

    ``peilperiode`` defaults to ``consolidation.peilperiode`` (else the last quarter with
    data, else the first quarter). Every quarter of the programme is laid out (peilperiode
    list, trend, matrix), reported or not
    (:func:`~xlmonitor.consolidation.merge.programme_periods`).
    ``generated_at`` is shown as "Bijgewerkt" and stored as the creation time; by default it
    is derived from the data (:func:`default_generated_at`) so re-runs give identical bytes.
    ``settings`` (the Consolideer button's Instelling → Waarde) adds the sheet
    ``Instellingen`` after ``Doelen``
    (:func:`xlmonitor.master.settings_sheet.write_settings_sheet`).
    Raises :class:`UsageError` for an unknown peilperiode or a wrong extension and
    :class:`WriteError` when the file cannot be replaced (open in Excel, read-only folder).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    wanted = ".xlsm" if vba_project is not None else ".xlsx"
    if suffix != wanted:
        reason = "met macro's" if vba_project is not None else "zonder macro's"
        raise UsageError(f"De master '{path.name}' moet de extensie {wanted} hebben "
                         f"({reason}).")
    if vba_project is not None and not Path(vba_project).is_file():
        raise UsageError(f"Het VBA-project '{vba_project}' bestaat niet.")
    periods = _periods(consolidation)
    chosen = peilperiode or consolidation.peilperiode or _last_reported(consolidation, periods)
    if parse_period(chosen) != chosen or chosen not in periods:
        raise UsageError(f"Peilperiode '{chosen}' is onbekend; kies uit "
                         f"{', '.join(periods)}.")
    stamp = (generated_at or default_generated_at(consolidation)).replace(tzinfo=None,
                                                                           microsecond=0)

    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        _write_workbook(tmp, consolidation, chosen, periods, stamp, vba_project, settings)
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(
            f"De master '{path}' kan niet worden geschreven ({exc.strerror or exc}); is het "
            "bestand geopend in Excel, of is de map alleen-lezen?") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


# XlsxWriter rewrites dynamic-array functions to their "_xlfn." names with ~30 regular
# expressions per formula: a fifth of writing a national master's dashboard. The master's
# formulas use none of them, so a formula naming none is passed on as XlsxWriter would leave
# it; one that might (or ``\SINGLE\(``'s "any character + INGLE(") goes through XlsxWriter.
_RENAMED = re.compile(
    r"(?:ANCHORARRAY|BYCOL|BYROW|CHOOSECOLS|CHOOSEROWS|DROP|EXPAND|FILTER|HSTACK|LAMBDA|"
    r"MAKEARRAY|MAP|RANDARRAY|REDUCE|SCAN|INGLE|SEQUENCE|SORT|SORTBY|SWITCH|TAKE|TEXTSPLIT|"
    r"TOCOL|TOROW|UNIQUE|VSTACK|WRAPCOLS|WRAPROWS|XLOOKUP)\(")


def write_button_master(consolidation, path: str | Path, *, settings: Mapping[str, str],
                        vba_project: bytes | str | Path | None = None,
                        peilperiode: str | None = None,
                        generated_at: datetime | None = None) -> Path:
    """Write the master with the button (``.xlsm``): :func:`write_master` with the
    VBA project (bytes or a ``vbaProject.bin``; default: the one in the shipped
    ``master.xlsm``), plus the sheet ``Instellingen`` holding ``settings``."""
    from xlmonitor.master.vba import packaged_vba_project

    if vba_project is None:
        project = packaged_vba_project()
    elif isinstance(vba_project, bytes):
        project = vba_project
    else:
        project = Path(vba_project).read_bytes()
    with tempfile.TemporaryDirectory(prefix="xlmonitor-vba-") as tmp:
        project_file = Path(tmp) / "vbaProject.bin"
        project_file.write_bytes(project)
        options = {"peilperiode": peilperiode, "vba_project": project_file,
                   "generated_at": generated_at}
        return write_master(consolidation, path, settings=dict(settings), **options)


class _Worksheet(xlsxwriter.worksheet.Worksheet):
    def _prepare_formula(self, formula, expand_future_functions=False):
        if self.use_future_functions or expand_future_functions or _RENAMED.search(formula):
            return super()._prepare_formula(formula, expand_future_functions)
        formula = formula.removeprefix("{").removeprefix("=")
        return formula.removesuffix("}")


def default_generated_at(consolidation) -> datetime:
    """A "Bijgewerkt" time that only depends on the inbox: the newest file time in the
    register, else the end of the last reported quarter, else the programme start."""
    register = consolidation.register
    if len(register) and "Gewijzigd" in register:
        times = pd.to_datetime(register["Gewijzigd"], errors="coerce").dropna()
        if len(times):
            newest = times.max()
            return newest.tz_localize(None).to_pydatetime() if newest.tzinfo else \
                newest.to_pydatetime()
    data = consolidation.data
    if len(data):
        return datetime.combine(pd.to_datetime(data["Kwartaaleinde"]).max().date(), time())
    return datetime.combine(consolidation.programme.start, time())


def _periods(consolidation) -> list[str]:
    """Quarters the master lays out: every quarter of the programme, widened to any quarter
    of the consolidation or its data outside it."""
    periods = set(consolidation.periods)
    if len(consolidation.data):
        periods |= {str(p) for p in consolidation.data["Periode"].dropna().unique()}
    return programme_periods(consolidation.programme, sorted(periods))


def _last_reported(consolidation, periods: list[str]) -> str:
    data = consolidation.data
    return str(data["Periode"].max()) if len(data) else periods[0]


def _write_workbook(target: Path, consolidation, peilperiode: str, periods: list[str],
                    stamp: datetime, vba_project: str | Path | None,
                    settings: Mapping[str, str] | None = None) -> None:
    programme = consolidation.programme
    package = io.BytesIO()  # the Data sheet's rows are added on the way to ``target``
    workbook = xlsxwriter.Workbook(package, {
        # A submitted "=HYPERLINK(...)" or "+31 6 ..." must stay text, never a formula/link.
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "use_future_functions": False,
        # In memory: fixed zip timestamps (reproducible bytes) and no temp files.
        "in_memory": True,
    })
    workbook.worksheet_class = _Worksheet
    try:
        name = str(programme.settings.get("naam", ""))
        region = str(programme.settings.get("regio", ""))
        workbook.set_properties({
            "title": f"Monitor {name}", "subject": f"Arbeidsmarktmonitor {region}",
            "author": "xlmonitor", "company": region, "created": stamp,
            "comments": f"Peilperiode {peilperiode}; gemaakt door xlmonitor uit de inbox.",
        })
        if vba_project is not None:
            workbook.add_vba_project(str(vba_project))
        styles = Styles(workbook)
        figures = compute_figures(consolidation, peilperiode, periods)
        layout = doelen_layout(programme, periods)
        write_dashboard(workbook, styles, consolidation, figures, periods, layout,
                        generated_at=stamp, with_button=vba_project is not None)
        write_gemeenten(workbook, styles, consolidation, figures)
        _write_inzendingen(workbook, styles, consolidation, periods)
        _write_validatie(workbook, styles, consolidation)
        data_rows = add_data_sheet(workbook, styles, consolidation.shown_data())
        write_doelen(workbook, styles, programme, periods, layout)
        if settings is not None:
            write_settings_sheet(workbook, settings, styles)
    finally:
        workbook.close()
    write_package(package, target, data_rows)


# -- cell values --------------------------------------------------------------------------

def _is_missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, str)) else False
    except (TypeError, ValueError):
        return False


def _write_text(sheet, row: int, col: int, text: str, styles: Styles, fmt=None) -> None:
    # Submitted text: always write_string. The quote prefix keeps "=1+1" text even when a
    # user later edits the cell in Excel.
    if text.startswith(RISKY_START):
        fmt = styles.quoted
    sheet.write_string(row, col, text, fmt)


def _wrapped_height(texts: list[str], widths: list[float]) -> float | None:
    """Row height (points) for wrapped ``texts`` in columns of ``widths`` characters, or None
    for one line. LibreOffice does not grow rows for wrapped text on load, so we do."""
    lines = max((math.ceil(len(t) / max(w * 1.15, 1)) for t, w in zip(texts, widths, strict=True)
                 if t), default=1)
    return 13.0 * lines + 2 if lines > 1 else None


def _write_value(sheet, row: int, col: int, value: object, styles: Styles) -> None:
    """One register/finding value, typed: text, number, date or date-time."""
    if _is_missing(value):
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, "ja" if value else "nee")
    elif isinstance(value, (datetime, pd.Timestamp)):
        moment = pd.Timestamp(value).tz_localize(None) if pd.Timestamp(value).tzinfo else \
            pd.Timestamp(value)
        serial = (moment.to_pydatetime() - _EPOCH).total_seconds() / 86400
        fmt = styles.date if moment.time() == time() else styles.datetime
        sheet.write_number(row, col, serial, fmt)
    elif isinstance(value, date):
        sheet.write_number(row, col, excel_serial(value), styles.date)
    elif isinstance(value, (int, float)) or hasattr(value, "dtype"):
        sheet.write_number(row, col, float(value), styles.count)
    elif isinstance(value, (list, tuple, set)):
        _write_text(sheet, row, col, ", ".join(str(v) for v in value), styles, styles.text)
    else:
        _write_text(sheet, row, col, str(value), styles, styles.text)


# -- Inzendingen ----------------------------------------------------------------------------

def _write_inzendingen(workbook, styles: Styles, consolidation, periods: list[str]) -> None:
    """The municipality × period matrix (what is still missing, at a glance) over every
    quarter of ``periods`` and below it ``tblInzendingen``, one row per file. Both share the
    columns, so B… have one width."""
    sheet = workbook.add_worksheet(MATRIX_SHEET)
    sheet.hide_gridlines(2)
    matrix = matrix_for_periods(consolidation.matrix, periods)
    width = 16
    last_col = max(len(periods) + 1, len(REGISTER_COLUMNS) - 1)
    digest = REGISTER_COLUMNS.index("sha256")
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, last_col, width)
    if digest > len(periods) + 1:
        sheet.set_column(digest, digest, 52)
    # else the column is one of the matrix's: the digest (small print, nothing to its right)
    # runs on over the empty cells beside it, as text does in Excel and LibreOffice.
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

    header, _ = matrix_header_cell()  # column A: the sheet's first column is the names'
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
            _write_text(sheet, i, j, "" if _is_missing(status) else str(status), styles, cell)
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

    top = last_row + 3
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
            present = not _is_missing(value) and str(value) != ""
            if c in wrapped and present:
                text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) \
                    else str(value)
                _write_text(sheet, r, c, text, styles, styles.wrap_center)
                texts.append(text)
            elif c == digest and present:
                _write_text(sheet, r, c, str(value), styles, digest_format)
            else:
                _write_value(sheet, r, c, value, styles)
        height = _wrapped_height(texts, [width] * len(texts))
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
    sheet.freeze_panes(header + 1, 1)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


# -- Validatie ----------------------------------------------------------------------------

def _write_validatie(workbook, styles: Styles, consolidation) -> None:
    sheet = workbook.add_worksheet("Validatie")
    findings = consolidation.findings_frame()
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, "Bevindingen bij de inzendingen", styles.title)
    errors = int((findings["Ernst"] == "fout").sum())
    warnings = int((findings["Ernst"] == "waarschuwing").sum())
    sheet.write_string(1, 0, "Fouten", styles.label)
    sheet.write_formula(1, 1, '=COUNTIF(tblBevindingen[Ernst],"fout")', styles.count_bold,
                        errors)
    sheet.write_string(1, 2, "fout: het bestand is niet verwerkt · waarschuwing: verwerkt, "
                             "maar controleer de cel", styles.note)
    sheet.write_string(2, 0, "Waarschuwingen", styles.label)
    sheet.write_formula(2, 1, '=COUNTIF(tblBevindingen[Ernst],"waarschuwing")',
                        styles.count_bold, warnings)
    header = 4
    add_table(sheet, header, 0, FINDING_COLUMNS, "tblBevindingen", rows=len(findings),
              style="Table Style Light 9", styles=styles)
    widths = [44, 18, 8, 26, 13, 100]
    message = FINDING_COLUMNS.index("Melding")
    for r, row in enumerate(findings.itertuples(index=False), start=header + 1):
        for c, value in enumerate(row):
            if not _is_missing(value):
                _write_text(sheet, r, c, str(value), styles,
                            styles.wrap if c == message else styles.text)
        height = _wrapped_height([str(row[message])], [widths[message]])
        if height:
            sheet.set_row(r, height)
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    severity = FINDING_COLUMNS.index("Ernst")
    red = workbook.add_format({"font_color": "#C00000", "bold": True})
    amber = workbook.add_format({"font_color": "#9C5700"})
    for text, fmt in (("fout", red), ("waarschuwing", amber)):
        # To the last row: findings the button adds below the table's first size, too.
        sheet.conditional_format(header + 1, severity, LAST_ROW, severity, {
            "type": "cell", "criteria": "==", "value": f'"{text}"', "format": fmt})
    sheet.freeze_panes(header + 1, 0)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
