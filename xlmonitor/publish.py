"""Publish: write the master workbook from a :class:`~xlmonitor.consolidate.Consolidation`.

Sheets, in this order: ``Dashboard``, ``Gemeenten`` (live formulas, see
:mod:`xlmonitor.dashboard`), ``Inzendingen`` (municipality × period matrix and the register
``tblInzendingen``), ``Validatie`` (``tblBevindingen``), ``Data`` (``tblData``, the long table
with provenance) and ``Doelen`` (targets, project dates, thresholds the formulas read).

Guarantees:

* never a half-written master: the workbook is written beside the target and moved over it
  with :func:`os.replace`;
* the same consolidation gives the same bytes (fixed creation time, fixed zip timestamps,
  no "now" unless ``generated_at`` is passed);
* no value from a submission becomes a formula: every submitted string is written with
  ``write_string`` and the workbook has ``strings_to_formulas`` off. Strings starting with
  ``= + - @`` also get Excel's quote prefix, so editing the cell in Excel keeps it text.
"""

from __future__ import annotations

import math
import os
import secrets
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import xlsxwriter

from xlmonitor.consolidate import DATA_COLUMNS, FINDING_COLUMNS, REGISTER_COLUMNS
from xlmonitor.dashboard import (
    GREY,
    LIGHT_COLOURS,
    Styles,
    _table,
    compute_figures,
    doelen_layout,
    excel_serial,
    write_dashboard,
    write_doelen,
    write_gemeenten,
)
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.periods import parse_period

__all__ = ["write_master", "default_generated_at"]

#: Matrix status → (fill, font). Same colours as the traffic lights: green is good, orange
#: still to do, red needs action.
MATRIX_COLOURS: dict[str, tuple[str, str]] = {
    "ontvangen": LIGHT_COLOURS["groen"],
    "afgekeurd": LIGHT_COLOURS["rood"],
    "ontbreekt": LIGHT_COLOURS["oranje"],
    "vervangen": (GREY, "#000000"),
}
MATRIX_LEGEND = {
    "ontvangen": "geldige inzending verwerkt",
    "afgekeurd": "inzending met fouten, niet verwerkt",
    "ontbreekt": "nog niets ontvangen",
}
_RISKY_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_EPOCH = datetime(1899, 12, 30)


def write_master(consolidation, path: str | Path, *, peilperiode: str | None = None,
                 vba_project: str | Path | None = None,
                 generated_at: datetime | None = None) -> Path:
    """Write the master workbook to ``path`` (``.xlsm`` with ``vba_project``); returns it.

    ``peilperiode`` defaults to ``consolidation.peilperiode`` (else the last period).
    ``generated_at`` is shown as "Bijgewerkt" and stored as the creation time; by default it
    is derived from the data (:func:`default_generated_at`) so re-runs give identical bytes.
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
    chosen = peilperiode or consolidation.peilperiode or periods[-1]
    if parse_period(chosen) != chosen or chosen not in periods:
        raise UsageError(f"Peilperiode '{chosen}' is onbekend; kies uit "
                         f"{', '.join(periods)}.")
    stamp = (generated_at or default_generated_at(consolidation)).replace(tzinfo=None,
                                                                           microsecond=0)

    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        _write_workbook(tmp, consolidation, chosen, periods, stamp, vba_project)
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(
            f"De master '{path}' kan niet worden geschreven ({exc.strerror or exc}); is het "
            "bestand geopend in Excel, of is de map alleen-lezen?") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


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
    """Quarters of the peilperiode list: the consolidation's plus any in the data."""
    periods = set(consolidation.periods)
    if len(consolidation.data):
        periods |= set(consolidation.data["Periode"].dropna().astype(str))
    if not periods:
        first = str(consolidation.programme.settings.get("eerste_periode") or "")
        periods = {first if parse_period(first) == first else
                   f"{consolidation.programme.start.year}-Q1"}
    return sorted(periods)


def _write_workbook(target: Path, consolidation, peilperiode: str, periods: list[str],
                    stamp: datetime, vba_project: str | Path | None) -> None:
    programme = consolidation.programme
    workbook = xlsxwriter.Workbook(str(target), {
        # A submitted "=HYPERLINK(...)" or "+31 6 ..." must stay text, never a formula/link.
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "use_future_functions": False,
        # In memory: fixed zip timestamps (reproducible bytes) and no temp files.
        "in_memory": True,
    })
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
        _write_inzendingen(workbook, styles, consolidation)
        _write_validatie(workbook, styles, consolidation)
        _write_data(workbook, styles, consolidation.data)
        write_doelen(workbook, styles, programme, periods, layout)
    finally:
        workbook.close()


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
    if text.startswith(_RISKY_START):
        fmt = styles.quoted
    sheet.write_string(row, col, text, fmt)


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
        _write_text(sheet, row, col, ", ".join(str(v) for v in value), styles)
    else:
        _write_text(sheet, row, col, str(value), styles)


# -- Inzendingen ----------------------------------------------------------------------------

def _write_inzendingen(workbook, styles: Styles, consolidation) -> None:
    sheet = workbook.add_worksheet("Inzendingen")
    sheet.hide_gridlines(2)
    matrix = consolidation.matrix
    periods = [str(p) for p in matrix.columns]
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, max(len(periods), 1), 10.5)
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, "Inzendingen per gemeente en kwartaal", styles.title)
    sheet.write_string(1, 0, "Welke gemeente heeft welk kwartaal aangeleverd. Onder de tabel: "
                             "elk bestand in de inbox met zijn status.", styles.note)
    legend = {status: workbook.add_format({"bg_color": fill, "font_color": font, "bold": True,
                                           "align": "center", "font_size": 10,
                                           "border": 1, "border_color": "#FFFFFF"})
              for status, (fill, font) in MATRIX_COLOURS.items()}
    sheet.write_string(2, 0, "Legenda", styles.label)
    for j, (status, text) in enumerate(MATRIX_LEGEND.items()):
        sheet.write_string(2, 1 + 3 * j, status, legend[status])
        sheet.write_string(2, 2 + 3 * j, text, styles.note)

    header = 4
    sheet.write_string(header, 0, "Gemeente", styles.header)
    for j, period in enumerate(periods, start=1):
        sheet.write_string(header, j, period, styles.header)
    missing_col = len(periods) + 1
    sheet.set_column(missing_col, missing_col, 10)
    sheet.write_string(header, missing_col, "Ontbreekt", styles.header)
    cell = workbook.add_format({"align": "center", "font_size": 10, "border": 1,
                                "border_color": "#FFFFFF"})
    for i, (municipality, statuses) in enumerate(matrix.iterrows(), start=header + 1):
        sheet.write_string(i, 0, str(municipality), styles.label)
        for j, status in enumerate(statuses, start=1):
            _write_text(sheet, i, j, "" if _is_missing(status) else str(status), styles, cell)
        missing = sum(1 for s in statuses if s == "ontbreekt")
        first = xlsxwriter.utility.xl_rowcol_to_cell(i, 1)
        last = xlsxwriter.utility.xl_rowcol_to_cell(i, max(len(periods), 1))
        sheet.write_formula(i, missing_col, f'=COUNTIF({first}:{last},"ontbreekt")',
                            styles.count_bold, missing)
    last_row = header + max(len(matrix), 1)
    if periods:
        for status, fmt in legend.items():
            sheet.conditional_format(header + 1, 1, last_row, len(periods), {
                "type": "cell", "criteria": "==", "value": f'"{status}"', "format": fmt})

    top = last_row + 3
    sheet.write_string(top - 1, 0, "Bestanden in de inbox", styles.section)
    register = consolidation.register
    widths = {"Bestand": 36, "Gemeente": 14, "Periodes": 18, "Indeling": 14, "Status": 12,
              "Vervangen door": 30, "Ingevuld op": 12, "Gewijzigd": 16, "Op tijd": 8,
              "Fouten": 8, "Waarschuwingen": 10, "sha256": 20}
    _table(sheet, top, 0, REGISTER_COLUMNS, "tblInzendingen", rows=len(register),
           style="Table Style Light 9",
           columns=[{"header": c, "header_format": styles.header} for c in REGISTER_COLUMNS])
    for r, row in enumerate(register[REGISTER_COLUMNS].itertuples(index=False), start=top + 1):
        for c, value in enumerate(row):
            _write_value(sheet, r, c, value, styles)
    # Column widths: the matrix needs narrow period columns, the register wider ones; the
    # register's width wins where the two share a column, except for the period columns.
    for c, column in enumerate(REGISTER_COLUMNS):
        if c == 0 or c > len(periods) + 1:
            sheet.set_column(c, c, max(widths.get(column, 12), 10.5 if c else 18))
    sheet.set_column(0, 0, 36)
    status_col = REGISTER_COLUMNS.index("Status")
    body = (top + 1, status_col, top + max(len(register), 1), status_col)
    for status, fmt in (("ontvangen", "groen"), ("afgekeurd", "rood")):
        sheet.conditional_format(*body, {"type": "cell", "criteria": "==",
                                         "value": f'"{status}"', "format": styles.lights[fmt]})
    sheet.freeze_panes(header + 1, 1)
    sheet.set_landscape()
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
    _table(sheet, header, 0, FINDING_COLUMNS, "tblBevindingen", rows=len(findings),
           style="Table Style Light 9")
    for r, row in enumerate(findings.itertuples(index=False), start=header + 1):
        for c, value in enumerate(row):
            if not _is_missing(value):
                _write_text(sheet, r, c, str(value), styles,
                            styles.wrap if FINDING_COLUMNS[c] == "Melding" else None)
    for c, width in enumerate([36, 16, 8, 30, 13, 90]):
        sheet.set_column(c, c, width)
    severity = FINDING_COLUMNS.index("Ernst")
    last = header + max(len(findings), 1)
    red = workbook.add_format({"font_color": "#C00000", "bold": True})
    amber = workbook.add_format({"font_color": "#9C5700"})
    for text, fmt in (("fout", red), ("waarschuwing", amber)):
        sheet.conditional_format(header + 1, severity, last, severity, {
            "type": "cell", "criteria": "==", "value": f'"{text}"', "format": fmt})
    sheet.freeze_panes(header + 1, 0)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


# -- Data ---------------------------------------------------------------------------------

_DATA_WIDTHS = {"Gemeente": 14, "CBS-code": 9, "Periode": 9, "Kwartaaleinde": 12,
                "Projectcode": 18, "Project": 36, "Toelichting": 40, "Bestand": 36,
                "Blad": 12, "Cellen": 22, "sha256": 20}


def _write_data(workbook, styles: Styles, data: pd.DataFrame) -> None:
    """``tblData``, column by column with typed writes (84,000 rows: a few seconds)."""
    sheet = workbook.add_worksheet("Data")
    rows = len(data)
    _table(sheet, 0, 0, DATA_COLUMNS, "tblData", rows=rows, style="Table Style Light 9")
    numeric = {"Aanmeldingen", "Gestarte trajecten", "Afgeronde scholing",
               "Bemiddeld naar werk"}
    for c, column in enumerate(DATA_COLUMNS):
        if column in numeric:
            sheet.set_column(c, c, 11, styles.count)
        elif column == "Kwartaaleinde":
            sheet.set_column(c, c, 12, styles.date)
        else:
            sheet.set_column(c, c, _DATA_WIDTHS.get(column, 12))
        if not rows:
            continue
        values = data[column]
        if column == "Kwartaaleinde":
            serials = (pd.to_datetime(values) - pd.Timestamp(_EPOCH)).dt.days
            write = sheet.write_number
            for r, serial in enumerate(serials.tolist(), start=1):
                if not _is_missing(serial):
                    write(r, c, serial, styles.date)
        elif column in numeric:
            write = sheet.write_number
            for r, value in enumerate(values.tolist(), start=1):
                if not _is_missing(value):
                    write(r, c, value)
        else:
            write = sheet.write_string
            quoted = styles.quoted
            for r, value in enumerate(values.tolist(), start=1):
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                text = value if isinstance(value, str) else str(value)
                if text:
                    write(r, c, text, quoted if text.startswith(_RISKY_START) else None)
    sheet.freeze_panes(1, 0)
