"""Synthetic consolidations for the publish tests, built directly from a DataFrame.

Nothing here uses :mod:`xlmonitor.consolidation.merge` (beyond its contract types) or
:mod:`xlmonitor.master.dashboard`: :func:`independent_figures` is a second, independent computation
of every dashboard figure, written in plain pandas from the definitions in docs/design.md.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.utils import range_boundaries

from xlmonitor.consolidation.merge import DATA_COLUMNS, REGISTER_COLUMNS, Consolidation
from xlmonitor.findings import Finding
from xlmonitor.periods import elapsed_share, period_end, period_of, periods_between
from xlmonitor.programme.definition import Programme

NVT = "n.v.t."


# -- building ----------------------------------------------------------------------------

def random_data(programme: Programme, periods: list[str], seed: int = 1,
                remarks: dict[tuple[str, str, str], str] | None = None) -> pd.DataFrame:
    """One row per municipality × period × project active in the period; random counts."""
    rng = random.Random(seed)
    rows = []
    for municipality in programme.municipalities.index:
        for period in periods:
            for code, project in programme.active_projects(period).iterrows():
                aan = rng.randint(0, 9)
                gestart = rng.randint(0, aan)
                rows.append(_row(programme, municipality, period, code, project["naam"],
                                 [aan, gestart, rng.randint(0, gestart),
                                  rng.randint(0, gestart)],
                                 (remarks or {}).get((municipality, period, code), "")))
    return _frame(rows)


def data_from_totals(programme: Programme, periods: list[str],
                     totals: dict[tuple[str, str], int]) -> pd.DataFrame:
    """Rows whose sum over every municipality and period is ``totals[(project, indicator)]``
    (indicator by code); counts are spread evenly over the project's active cells."""
    cells: dict[str, list[tuple[str, str]]] = {}
    for period in periods:
        for code in programme.active_projects(period).index:
            for municipality in programme.municipalities.index:
                cells.setdefault(code, []).append((municipality, period))
    values: dict[tuple[str, str, str], list[int]] = {}
    codes = programme.indicator_codes
    for (project, indicator), total in totals.items():
        places = cells[project]
        share, extra = divmod(int(total), len(places))
        for i, (municipality, period) in enumerate(places):
            counts = values.setdefault((municipality, period, project), [0] * len(codes))
            counts[codes.index(indicator)] += share + (1 if i < extra else 0)
    rows = []
    for municipality in programme.municipalities.index:
        for period in periods:
            for code, project in programme.active_projects(period).iterrows():
                counts = values.get((municipality, period, code), [0] * len(codes))
                rows.append(_row(programme, municipality, period, code, project["naam"],
                                 counts, ""))
    return _frame(rows)


def _row(programme, municipality, period, code, name, counts, remark) -> dict:
    file = f"{municipality.lower().replace(' ', '-')}_{period}.xlsx"
    number = 8 + len(code)  # any plausible row
    return {
        "Gemeente": municipality, "CBS-code": programme.cbs_code(municipality),
        "Periode": period, "Kwartaaleinde": period_end(period), "Projectcode": code,
        "Project": name,
        **{programme.label(c): int(v)
           for c, v in zip(programme.indicator_codes, counts, strict=True)},
        "Toelichting": remark, "Bestand": file, "Blad": "Invoer",
        "Cellen": f"C{number}:F{number}", "sha256": hashlib.sha256(file.encode()).hexdigest(),
    }


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=DATA_COLUMNS)
    return frame.sort_values(["Gemeente", "Periode", "Projectcode"]).reset_index(drop=True)


def make_consolidation(programme: Programme, data: pd.DataFrame, periods: list[str],
                       peilperiode: str | None = None,
                       findings: list[Finding] | None = None) -> Consolidation:
    """A Consolidation as consolidate() would return it for ``data`` (one file per
    municipality × period with rows), reported over ``periods``: it lays out every quarter of
    the programme, and the quarters after the last one delivered are ``later``."""
    delivered = set(zip(data["Gemeente"], data["Periode"], strict=True))
    layout = programme_quarters(programme)
    due = max([layout[0], *(p for _, p in delivered)])
    matrix = pd.DataFrame(
        [["ontvangen" if (m, p) in delivered else "ontbreekt" if p <= due else "later"
          for p in layout]
         for m in programme.municipalities.index],
        index=pd.Index(programme.municipalities.index, name="Gemeente"), columns=layout)
    files = (data.groupby(["Bestand", "Gemeente", "Periode", "sha256"]).size()
             .reset_index().sort_values("Bestand"))
    register = pd.DataFrame({
        "Bestand": files["Bestand"], "Gemeente": files["Gemeente"],
        "Periodes": files["Periode"], "Indeling": "sjabloon", "Status": "ontvangen",
        "Vervangen door": "", "Ingevuld op": [period_end(p) for p in files["Periode"]],
        "Gewijzigd": [datetime(2022, 1, 3, 9, 30)] * len(files), "Op tijd": "ja",
        "Fouten": 0, "Waarschuwingen": 0, "sha256": files["sha256"],
    }, columns=REGISTER_COLUMNS).reset_index(drop=True)
    return Consolidation(programme=programme, data=data, register=register, matrix=matrix,
                         findings=list(findings or []), periods=layout,
                         peilperiode=peilperiode or (periods[-1] if periods else layout[0]))


def programme_periods(programme: Programme, last: str) -> list[str]:
    """The programme's quarters up to ``last``: what has been reported in a scenario."""
    return periods_between(str(programme.settings["eerste_periode"]), last)


def programme_quarters(programme: Programme) -> list[str]:
    """Every quarter of the programme: from ``eerste_periode`` to the quarter of its end."""
    return periods_between(str(programme.settings["eerste_periode"]),
                           period_of(programme.settings["eind"]))


# -- the independent computation -------------------------------------------------------------

def independent_figures(consolidation: Consolidation, peilperiode: str) -> dict:
    """{'kpi': {label: {...}}, 'projects': {code: {...}}, 'gemeenten': {name: {...}},
    'totaal': {...}} for ``peilperiode``, straight from the data and the programme."""
    programme = consolidation.programme
    peildatum = period_end(peilperiode)
    data = consolidation.data.copy()
    data["_end"] = pd.to_datetime(data["Kwartaaleinde"]).dt.date
    upto = data[data["_end"] <= peildatum]
    labels = [programme.label(c) for c in programme.indicator_codes]

    def judged(realised, target, start, end) -> dict:
        if target is None:
            return {"Doel": NVT, "Verwacht": NVT, "Percentage": NVT, "Stoplicht": NVT}
        expected = target * elapsed_share(start, end, peildatum)
        ratio = realised / expected if expected > 0 else None
        return {"Doel": target, "Verwacht": expected,
                "Percentage": NVT if ratio is None else ratio,
                "Stoplicht": programme.traffic_light(ratio)}

    kpi = {}
    for code in programme.indicator_codes:
        realised = int(upto[programme.label(code)].sum())
        kpi[programme.label(code)] = {
            "Gerealiseerd": realised,
            **judged(realised, programme.target("", code, peildatum), programme.start,
                     programme.end)}
    projects = {}
    for code, project in programme.projects.iterrows():
        if project["status"] == "on hold":
            continue
        mine = upto[upto["Projectcode"] == code]
        row = {"Project": project["naam"], **{lab: int(mine[lab].sum()) for lab in labels}}
        stuur = project["stuurindicator"]
        started = peildatum >= project["start"]
        target = programme.target(code, stuur, peildatum) if stuur and started else None
        realised = row[programme.label(stuur)] if stuur else 0
        projects[code] = {**row, **judged(realised, target, project["start"], project["eind"])}
    gemeenten = {}
    for name in programme.municipalities.index:
        mine = upto[upto["Gemeente"] == name]
        gemeenten[name] = {**{lab: int(mine[lab].sum()) for lab in labels},
                           "Kwartalen geleverd": int(mine["Periode"].nunique())}
    totaal = {lab: sum(g[lab] for g in gemeenten.values()) for lab in labels}
    return {"kpi": kpi, "projects": projects, "gemeenten": gemeenten, "totaal": totaal}


# -- reading a master ------------------------------------------------------------------------

def table_refs(path: Path) -> dict[str, tuple[str, str]]:
    """Table name → (sheet, ref) as written in ``path``."""
    workbook = openpyxl.load_workbook(path)
    try:
        return {table.name: (ws.title, table.ref) for ws in workbook.worksheets
                for table in ws.tables.values()}
    finally:
        workbook.close()


def read_table(path: Path, sheet: str, ref: str) -> list[dict]:
    """Rows of the range ``ref`` on ``sheet`` as dicts keyed by the header row, values as
    stored (cached formula results); works for files whose tables were not kept."""
    workbook = openpyxl.load_workbook(path, data_only=True)
    try:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        cells = list(workbook[sheet].iter_rows(min_row=min_row, max_row=max_row,
                                               min_col=min_col, max_col=max_col,
                                               values_only=True))
    finally:
        workbook.close()
    header = [str(h) for h in cells[0]]
    return [dict(zip(header, row, strict=True)) for row in cells[1:]]


def same(actual: object, wanted: object) -> bool:
    if isinstance(wanted, str) or isinstance(actual, str):
        return actual == wanted
    if actual is None or wanted is None:
        return actual is wanted
    return math.isclose(float(actual), float(wanted), rel_tol=1e-9, abs_tol=1e-9)


def mismatches(path: Path, refs: dict[str, tuple[str, str]], wanted: dict) -> list[str]:
    """Every figure in tblKPI, tblProjecten and tblGemeenten that differs from ``wanted``,
    as readable lines (empty when all agree)."""
    problems = []

    def compare(where: str, row: dict, expected: dict) -> None:
        for column, value in expected.items():
            if column == "Project":
                continue
            if not same(row.get(column), value):
                problems.append(f"{where} {column}: werkmap {row.get(column)!r}, "
                                f"pandas {value!r}")

    kpi = read_table(path, *refs["tblKPI"])
    if [r["Indicator"] for r in kpi] != list(wanted["kpi"]):
        problems.append(f"tblKPI rows {[r['Indicator'] for r in kpi]}")
    for row in kpi:
        compare(f"tblKPI[{row['Indicator']}]", row, wanted["kpi"].get(row["Indicator"], {}))
    projects = read_table(path, *refs["tblProjecten"])
    if [r["Projectcode"] for r in projects] != list(wanted["projects"]):
        problems.append(f"tblProjecten rows {[r['Projectcode'] for r in projects]}")
    for row in projects:
        compare(f"tblProjecten[{row['Projectcode']}]", row,
                wanted["projects"].get(row["Projectcode"], {}))
    gemeenten = read_table(path, *refs["tblGemeenten"])
    total = gemeenten[-1]
    if total["Gemeente"] != "Totaal":
        problems.append(f"tblGemeenten has no total row: {total}")
    if [r["Gemeente"] for r in gemeenten[:-1]] != list(wanted["gemeenten"]):
        problems.append(f"tblGemeenten rows {[r['Gemeente'] for r in gemeenten[:-1]]}")
    for row in gemeenten[:-1]:
        compare(f"Gemeenten[{row['Gemeente']}]", row, wanted["gemeenten"].get(row["Gemeente"],
                                                                             {}))
    compare("Gemeenten[Totaal]", total, wanted["totaal"])
    for label, value in wanted["totaal"].items():  # the total row equals tblKPI realised
        if not same(value, wanted["kpi"][label]["Gerealiseerd"]):
            problems.append(f"total {label} {value} != KPI")
    return problems


def laid_out(path: Path) -> dict:
    """Where a master lays out its quarters: the peilperiode list (Kwartalen, the Dashboard
    drop-down's source), the trend table and the matrix on Inzendingen (header, statuses)."""
    workbook = openpyxl.load_workbook(path)
    try:
        dashboard = workbook["Dashboard"]
        [validation] = dashboard.data_validations.dataValidation
        assert (str(validation.sqref), validation.formula1) == ("B4", "Kwartalen")
        sheet, ref = next(workbook.defined_names["Kwartalen"].destinations)
        quarters = [row[0].value for row in workbook[sheet][ref.replace("$", "")]]
        inzendingen = workbook["Inzendingen"]
        header = [c.value for c in inzendingen[5]]
        assert header[0] == "Gemeente" and "Ontbreekt" in header
        periods = header[1:header.index("Ontbreekt")]
        statuses = {}
        for row in inzendingen.iter_rows(min_row=6):
            if not row[0].value:  # the blank row below the matrix
                break
            statuses[row[0].value] = [c.value for c in row[1:1 + len(periods)]]
        result = {"Peilperiode": dashboard["B4"].value, "Kwartalen": quarters,
                  "matrix": periods, "statuses": statuses}
    finally:
        workbook.close()
    result["tblVerloop"] = [r["Kwartaal"] for r in read_table(path, *table_refs(path)[
        "tblVerloop"])]
    return result


def set_peilperiode_in_file(src: Path, dest: Path, peilperiode: str) -> Path:
    """Copy of a master with Dashboard!B4 replaced by ``peilperiode`` and every cached value
    left as it was: what a user does with the drop-down before Excel recalculates."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            blob = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text, count = re.subn(
                    r'<c r="B4"( s="\d+")? t="s"><v>\d+</v></c>',
                    lambda m: f'<c r="B4"{m.group(1) or ""} t="inlineStr"><is><t>'
                              f'{peilperiode}</t></is></c>',
                    blob.decode("utf-8"))
                assert count == 1, "Dashboard!B4 not found"
                blob = text.encode("utf-8")
            zout.writestr(item, blob)
    return dest


def quarter_end(period: str) -> date:
    return period_end(period)
