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
import os
import re
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, time
from pathlib import Path

import pandas as pd
import xlsxwriter

from xlmonitor.consolidation.merge import FINDING_COLUMNS
from xlmonitor.consolidation.register import (
    programme_periods,
)
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.master.cells import LAST_ROW, is_missing, wrapped_height, write_text
from xlmonitor.master.dashboard import write_dashboard, write_gemeenten
from xlmonitor.master.datasheet import add_data_sheet, write_package
from xlmonitor.master.figures import compute_figures
from xlmonitor.master.notes_sheet import note_rows, write_notes_sheet
from xlmonitor.master.settings_sheet import write_settings_sheet
from xlmonitor.master.styles import Styles, add_table
from xlmonitor.master.submissions_sheet import write_inzendingen
from xlmonitor.master.targets_sheet import doelen_layout, write_doelen
from xlmonitor.periods import parse_period

__all__ = ["default_generated_at", "write_button_master", "write_master"]



def write_master(consolidation, path: str | Path, *, peilperiode: str | None = None,
                 vba_project: str | Path | None = None,
                 generated_at: datetime | None = None,
                 settings: Mapping[str, str] | None = None,
                 notes: Sequence[Mapping[str, str]] = ()) -> Path:
    """Write the master workbook to ``path`` (``.xlsm`` with ``vba_project``); returns it.

    ``peilperiode`` defaults to ``consolidation.peilperiode`` (else the last quarter with
    data, else the first quarter). Every quarter of the programme is laid out (peilperiode
    list, trend, matrix), reported or not
    (:func:`~xlmonitor.consolidation.register.programme_periods`).
    ``generated_at`` is shown as "Bijgewerkt" and stored as the creation time; by default it
    is derived from the data (:func:`default_generated_at`) so re-runs give identical bytes.
    ``settings`` (the Consolideer button's Instelling → Waarde) adds the sheet
    ``Instellingen`` after ``Doelen``
    (:func:`xlmonitor.master.settings_sheet.write_settings_sheet`). The last sheet is
    ``Toelichting``: the rows of ``notes`` the analyst filled in, plus an empty row per
    project for the peilperiode (:func:`xlmonitor.master.notes_sheet.note_rows`).
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
        _write_workbook(tmp, consolidation, chosen, periods, stamp, vba_project, settings,
                        note_rows(consolidation.programme, chosen, notes))
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
                        generated_at: datetime | None = None,
                        notes: Sequence[Mapping[str, str]] = ()) -> Path:
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
                   "generated_at": generated_at, "notes": notes}
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
                    settings: Mapping[str, str] | None = None,
                    notes: Sequence[Mapping[str, str]] = ()) -> None:
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
        write_inzendingen(workbook, styles, consolidation, periods)
        _write_validatie(workbook, styles, consolidation)
        data_rows = add_data_sheet(workbook, styles, consolidation.shown_data())
        write_doelen(workbook, styles, programme, periods, layout)
        if settings is not None:
            write_settings_sheet(workbook, settings, styles)
        # Last, so the sheets before it keep their positions (and VBA code names).
        write_notes_sheet(workbook, notes, styles)
    finally:
        workbook.close()
    write_package(package, target, data_rows)


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
    message, cell = FINDING_COLUMNS.index("Melding"), FINDING_COLUMNS.index("Cel")
    for r, row in enumerate(findings.itertuples(index=False), start=header + 1):
        # Grouped findings name ranges ("F9, C11:F20"): wrapped at the commas in the narrow
        # column, a single cell stays on one line.
        ranges = bool(re.search(r"[:,]", str(row[cell])))
        for c, value in enumerate(row):
            if not is_missing(value):
                write_text(sheet, r, c, str(value), styles,
                           styles.wrap if c == message or (c == cell and ranges)
                           else styles.text)
        height = wrapped_height([str(row[message])], [widths[message]])
        if ranges:  # about one range a line
            height = max(height or 0, 13.0 * (str(row[cell]).count(",") + 1) + 2)
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
