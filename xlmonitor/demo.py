"""The built-in demo: an inbox of the seven municipalities over 2020-Q3 … 2022-Q2 whose
regional totals tell the story of the seed letters, with a few deliberately faulty, late,
duplicate and superseded files, in the standard template and the three existing layouts.

Regional flows per project and quarter are declared in :data:`FLOWS`; they are split over the
municipalities by fixed shares such that every municipality's own figures respect the
programme's rules (no more started than registered, no more placed than started).

Every run writes the same bytes (and file times), so the master's register (its ``sha256``
column) and the guide's pictures do not change from one run to the next: the document
properties and zip timestamps come from the demo's own dates, never from the clock. The
template's creation date is its period's first day
(:func:`~xlmonitor.template.standard.build_template`),
XlsxWriter fixes its zip timestamps itself, and :func:`~xlmonitor.reproducible.save_workbook`
does both for the files openpyxl saves.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import xlsxwriter

from xlmonitor.periods import period_end, periods_between, split_period
from xlmonitor.programme.definition import INDICATOR_CODES, Programme
from xlmonitor.reproducible import save_workbook
from xlmonitor.template.standard import build_template, template_file_name

PERIODS = periods_between("2020-Q3", "2022-Q2")

# Regional counts per project and quarter (index into PERIODS):
# (aanmeldingen, gestarte trajecten, afgeronde scholing, bemiddeld naar werk).
# Story (seeds): ZorgStart 279 / 142 / 43 up to 2021-Q2; "ruim 240 trajecten" by 2021-Q1;
# 385 started by June 2021; about 150 residents in work by 2021-Q3; over 300 by 2022-Q2;
# training lags the target; the language project stops in 2022.
FLOWS: dict[str, dict[int, tuple[int, int, int, int]]] = {
    "ZORGSTART": {2: (120, 52, 0, 13), 3: (159, 90, 8, 30), 4: (70, 40, 20, 40),
                  5: (30, 15, 12, 25), 6: (25, 10, 12, 22), 7: (25, 10, 12, 30)},
    "WIJKLEER": {0: (30, 23, 0, 0), 1: (8, 0, 0, 0), 2: (38, 30, 0, 1), 3: (10, 0, 0, 2),
                 4: (24, 18, 15, 5), 5: (6, 0, 4, 4), 6: (12, 8, 10, 5), 7: (4, 0, 10, 6)},
    "GGZ": {0: (8, 6, 0, 2), 1: (7, 6, 1, 3), 2: (3, 2, 0, 1), 3: (2, 1, 0, 1),
            4: (4, 2, 1, 1), 5: (3, 2, 1, 1), 6: (2, 1, 1, 1), 7: (2, 1, 1, 1)},
    "AI": {2: (9, 6, 0, 0), 3: (6, 5, 2, 2), 4: (8, 5, 3, 3), 5: (4, 3, 2, 3),
           6: (3, 2, 2, 2), 7: (3, 2, 2, 2)},
    "JONGEREN": {3: (20, 14, 0, 11), 4: (22, 15, 0, 12), 5: (18, 12, 0, 12),
                 6: (14, 11, 0, 11), 7: (12, 10, 0, 9)},
    "TAAL": {2: (55, 45, 0, 0), 3: (15, 10, 8, 1), 4: (40, 30, 20, 1), 5: (5, 2, 12, 1),
             6: (2, 0, 8, 1), 7: (0, 0, 6, 1)},
    "HOUT": {3: (6, 3, 0, 0), 4: (10, 6, 1, 1), 5: (6, 3, 2, 2), 6: (4, 2, 2, 2),
             7: (4, 2, 2, 2)},
    "WAARDETAS": {3: (4, 2, 0, 0), 4: (5, 2, 1, 0), 5: (5, 2, 1, 1), 6: (3, 1, 1, 1),
                  7: (3, 1, 1, 1)},
    "GVWD": {0: (10, 3, 0, 1), 1: (18, 9, 0, 2), 2: (10, 3, 0, 2), 3: (8, 3, 0, 3),
             4: (8, 3, 0, 3), 5: (8, 3, 0, 3), 6: (6, 2, 0, 2), 7: (5, 2, 0, 2)},
    "KANSRIJK": {2: (12, 10, 0, 0), 3: (6, 3, 0, 1), 4: (10, 6, 0, 2), 5: (8, 5, 1, 2),
                 6: (5, 2, 1, 2), 7: (5, 2, 2, 2)},
    "LOKAAL": {2: (55, 45, 10, 3), 3: (35, 25, 20, 6), 4: (30, 20, 35, 4),
               5: (20, 15, 25, 1), 6: (10, 8, 12, 1), 7: (10, 8, 12, 2)},
    "ENERGIE": {6: (10, 4, 0, 0), 7: (15, 9, 1, 1)},
}

# Shares of the regional figures, roughly by population.
SHARES = {"Hilversum": 0.33, "Gooise Meren": 0.23, "Huizen": 0.17, "Wijdemeren": 0.11,
          "Laren": 0.06, "Blaricum": 0.05, "Eemnes": 0.05}

# Which indicator caps which (cumulatively, per municipality and project).
_PARENT = {"gestarte_trajecten": "aanmeldingen", "afgeronde_scholing": "gestarte_trajecten",
           "bemiddeld_naar_werk": "gestarte_trajecten"}

#: Eemnes has not delivered 2022-Q2 yet: the register shows it as missing.
NOT_DELIVERED = {("Eemnes", "2022-Q2")}


def _room(indicator: str, cumulative: dict[str, int], allocated: dict[str, int]) -> int:
    """How many more units of ``indicator`` a municipality can take under its parent."""
    parent = _PARENT.get(indicator)
    if parent is None:
        return 1
    return (cumulative[parent] + allocated[parent]
            - cumulative[indicator] - allocated[indicator])


def allocate(programme: Programme) -> dict[tuple[str, str, str], dict[str, int]]:
    """Split :data:`FLOWS` over the municipalities: (municipality, period, project) → counts.

    Units go one at a time to the municipality furthest below its share that still has room
    under the parent indicator, so every municipality's cumulative figures obey the rules.
    """
    municipalities = list(SHARES)
    result: dict[tuple[str, str, str], dict[str, int]] = {}
    for project, flows in FLOWS.items():
        cumulative = {m: dict.fromkeys(INDICATOR_CODES, 0) for m in municipalities}
        for index, period in enumerate(PERIODS):
            counts = dict(zip(INDICATOR_CODES, flows.get(index, (0, 0, 0, 0)), strict=True))
            allocated = {m: dict.fromkeys(INDICATOR_CODES, 0) for m in municipalities}
            for indicator in INDICATOR_CODES:
                total = counts[indicator]
                for _ in range(total):
                    open_ = [m for m in municipalities
                             if _room(indicator, cumulative[m], allocated[m]) > 0]
                    target = max(open_ or municipalities,
                                 key=lambda m, i=indicator, t=total: (
                                     SHARES[m] * t - allocated[m][i], SHARES[m]))
                    allocated[target][indicator] += 1
            project_start = programme.projects.at[project, "start"]
            for m in municipalities:
                for indicator in INDICATOR_CODES:
                    cumulative[m][indicator] += allocated[m][indicator]
                if period_end(period) >= project_start:
                    result[(m, period, project)] = allocated[m]
    return result


def _reported(programme: Programme, figures, municipality: str, period: str):
    """Rows a municipality reports for a period: every project active in it."""
    active = programme.active_projects(period)
    return [(code, figures.get((municipality, period, code),
                               dict.fromkeys(INDICATOR_CODES, 0)))
            for code in active.index if code in FLOWS]


def _delivered_on(period: str, days: int = 18) -> date:
    return period_end(period) + timedelta(days=days)


def _saved_at(day: date) -> datetime:
    """When a demo file was saved and sent: ten in the morning of ``day``."""
    return datetime(day.year, day.month, day.day, 10, 0)


def _set_mtime(path: Path, day: date) -> None:
    stamp = _saved_at(day).timestamp()
    os.utime(path, (stamp, stamp))


# -- the standard template, filled in -------------------------------------------------------

def _fill_template(programme, municipality, period, rows, path: Path, *, filled_on: date,
                   overrides: dict[tuple[str, str], object] | None = None,
                   remarks: dict[str, str] | None = None) -> Path:
    build_template(programme, municipality, period, path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Invoer"]
    sheet["B5"] = datetime(filled_on.year, filled_on.month, filled_on.day)
    sheet["B5"].number_format = "dd-mm-yyyy"
    by_code = dict(rows)
    for row in range(8, sheet.max_row + 1):
        code = sheet.cell(row, 1).value
        if code not in programme.projects.index:
            continue
        counts = by_code.get(code, dict.fromkeys(INDICATOR_CODES, 0))  # nothing to report: 0
        for offset, indicator in enumerate(INDICATOR_CODES):
            value = (overrides or {}).get((code, indicator), counts[indicator])
            sheet.cell(row, 3 + offset).value = value
        if remarks and code in remarks:
            sheet.cell(row, 7).value = remarks[code]
    save_workbook(workbook, path, saved_at=_saved_at(filled_on))
    _set_mtime(path, filled_on)
    return path


# -- Hilversum: titled quarterly report with merged group headers and a Totaal row ------------

HILVERSUM_NAMES = {"ZORGSTART": "Zorgstart", "WIJKLEER": "Wijk Leerbedrijf",
                   "AI": "AI-project (annoteren)", "JONGEREN": "Jongeren accountmanager",
                   "GGZ": "GGZ / IPS", "TAAL": "Taaltrajecten", "GVWD": "GV werkt door"}
_ORDINAL = {1: "1e", 2: "2e", 3: "3e", 4: "4e"}


def _write_hilversum(programme, period, rows, path: Path, *, names=None,
                     total_offset: int = 0) -> Path:
    year, quarter = split_period(period)
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": datetime(year, 1, 1)})
    sheet = workbook.add_worksheet(f"Rapportage Q{quarter} {year}")
    bold = workbook.add_format({"bold": True})
    group = workbook.add_format({"bold": True, "align": "center", "bg_color": "#DDEBF7"})
    sheet.write("A1", "Gemeente Hilversum", workbook.add_format({"bold": True, "size": 14}))
    sheet.write("A2", "Monitor Werken aan Werk en Perspectief op Werk")
    sheet.write("A3", f"Periode: {_ORDINAL[quarter]} kwartaal {year}")
    sheet.merge_range("B5:C5", "Instroom", group)
    sheet.merge_range("D5:E5", "Resultaat", group)
    for col, header in enumerate(["Project", "Aanmeldingen", "Gestart", "Scholing afgerond",
                                  "Naar werk", "Opmerkingen"]):
        sheet.write(5, col, header, bold)
    names = {**HILVERSUM_NAMES, **(names or {})}
    for r, (code, counts) in enumerate(rows, start=6):
        sheet.write_string(r, 0, names.get(code, programme.projects.at[code, "naam"]))
        for c, indicator in enumerate(INDICATOR_CODES, start=1):
            sheet.write_number(r, c, counts[indicator])
    last = 6 + len(rows)
    sheet.write(last, 0, "Totaal", bold)
    for c, indicator in enumerate(INDICATOR_CODES, start=1):
        column = "BCDE"[c - 1]
        total = sum(counts[indicator] for _, counts in rows) + (total_offset if c == 1 else 0)
        sheet.write_formula(last, c, f"=SUM({column}7:{column}{last})", bold, total)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 5, 16)
    workbook.close()
    return path


# -- Huizen: one workbook per year, a column group per quarter -------------------------------

def _write_huizen(programme, year: int, figures, quarters: list[str], path: Path) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": datetime(year, 1, 1)})
    sheet = workbook.add_worksheet(str(year))
    bold = workbook.add_format({"bold": True})
    group = workbook.add_format({"bold": True, "align": "center", "bg_color": "#E2EFDA"})
    sheet.write("B1", "Gemeente:", bold)
    sheet.write("C1", "Huizen", bold)
    sheet.write("A4", "Nr", bold)
    sheet.write("B4", "Project", bold)
    for q in range(4):
        first = 2 + 4 * q
        sheet.merge_range(2, first, 2, first + 3, f"Q{q + 1}", group)
        for i, header in enumerate(["Aanm.", "Gestart", "Scholing", "Werk"]):
            sheet.write(3, first + i, header, bold)
    codes = sorted({code for p in quarters for code, _ in _reported(programme, figures,
                                                                     "Huizen", p)},
                   key=lambda c: programme.projects.at[c, "naam"])
    for r, code in enumerate(codes, start=4):
        sheet.write_number(r, 0, r - 3)
        sheet.write_string(r, 1, programme.projects.at[code, "naam"])
        for period in quarters:
            _, quarter = split_period(period)
            counts = figures.get(("Huizen", period, code), dict.fromkeys(INDICATOR_CODES, 0))
            for i, indicator in enumerate(INDICATOR_CODES):
                sheet.write_number(r, 2 + 4 * (quarter - 1) + i, counts[indicator])
    sheet.set_column(1, 1, 36)
    workbook.close()
    return path


# -- Gooise Meren: long export from the client system ----------------------------------------

GM_WORDS = {"aanmeldingen": "aanmelding", "gestarte_trajecten": "start traject",
            "afgeronde_scholing": "scholing afgerond", "bemiddeld_naar_werk": "uitstroom werk"}


def _write_gooise_meren(programme, year: int, figures, quarters: list[str], path: Path) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": datetime(year, 1, 1)})
    sheet = workbook.add_worksheet("Export")
    headers = ["Gemeente", "Jaar", "Kwartaal", "Project", "Indicator", "Aantal"]
    sheet.write_row(0, 0, headers)
    r = 1
    for period in quarters:
        _, quarter = split_period(period)
        for code, counts in sorted(_reported(programme, figures, "Gooise Meren", period),
                                   key=lambda item: programme.projects.at[item[0], "naam"]):
            for indicator in INDICATOR_CODES:
                sheet.write_row(r, 0, ["Gooise Meren", year, quarter,
                                       programme.projects.at[code, "naam"],
                                       GM_WORDS[indicator], counts[indicator]])
                r += 1
    sheet.autofilter(0, 0, r - 1, 5)
    sheet.set_column(3, 3, 36)
    sheet.set_column(4, 4, 18)
    workbook.close()
    return path


# -- the whole inbox --------------------------------------------------------------------------

STANDARD = ("Blaricum", "Eemnes", "Laren", "Wijdemeren")


def template_name(municipality: str, period: str, suffix: str = "") -> str:
    name = template_file_name(municipality, period)
    return name[: -len(".xlsx")] + suffix + ".xlsx"


def write_demo_inbox(programme: Programme, inbox: str | Path) -> list[Path]:
    """Write the demo inbox; returns the files written. Existing files there are replaced."""
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    figures = allocate(programme)
    written: list[Path] = []

    for municipality in STANDARD:
        for period in PERIODS:
            if (municipality, period) in NOT_DELIVERED:
                continue
            rows = _reported(programme, figures, municipality, period)
            written.append(_fill_template(programme, municipality, period, rows,
                                          inbox / template_name(municipality, period),
                                          filled_on=_delivered_on(period)))
    for period in PERIODS:
        year, quarter = split_period(period)
        path = inbox / f"Hilversum Q{quarter} {year} rapportage WaW.xlsx"
        written.append(_write_hilversum(programme, period,
                                        _reported(programme, figures, "Hilversum", period),
                                        path))
        _set_mtime(path, _delivered_on(period, 20))
    for year in (2020, 2021, 2022):
        quarters = [p for p in PERIODS if p.startswith(str(year))]
        huizen = _write_huizen(programme, year, figures, quarters,
                               inbox / f"Huizen_monitor_{year}.xlsx")
        gooise_meren = _write_gooise_meren(programme, year, figures, quarters,
                                           inbox / f"GM export WaW {year}.xlsx")
        for path in (huizen, gooise_meren):
            _set_mtime(path, _delivered_on(quarters[-1], 25))
        written += [huizen, gooise_meren]

    written += _faulty_files(programme, figures, inbox)
    return written


def _faulty_files(programme: Programme, figures, inbox: Path) -> list[Path]:
    """Deliberately wrong, duplicate, superseded and late files, each with a lesson."""
    written = []
    # 1. Eemnes 2021-Q2: a first attempt with "12,5" and a negative number, rejected; the
    #    corrected file (written above) is newer and counts.
    period = "2021-Q2"
    rows = _reported(programme, figures, "Eemnes", period)
    written.append(_fill_template(
        programme, "Eemnes", period, rows, inbox / template_name("Eemnes", period, "_v1"),
        filled_on=_delivered_on(period, 5),
        overrides={("ZORGSTART", "aanmeldingen"): "12,5", ("HOUT", "gestarte_trajecten"): -2}))
    # 2. Laren 2021-Q3 sent twice, byte for byte the same: counts once.
    original = inbox / template_name("Laren", "2021-Q3")
    copy = inbox / f"Kopie van {original.name}"
    shutil.copyfile(original, copy)
    _set_mtime(copy, _delivered_on("2021-Q3", 19))
    written.append(copy)
    # 3. Blaricum 2021-Q4: an older version with different numbers, superseded by the file
    #    filled in later (the regular one, below moved to a later date).
    period = "2021-Q4"
    rows = _reported(programme, figures, "Blaricum", period)
    older = [(code, {k: v + 1 for k, v in counts.items()}) for code, counts in rows]
    written.append(_fill_template(programme, "Blaricum", period, older,
                                  inbox / template_name("Blaricum", period, "_concept"),
                                  filled_on=_delivered_on(period, 10)))
    # 4. Hilversum 2021-Q1: an old draft with a misspelt project and a wrong Totaal, rejected;
    #    the final report (written above) is what counts.
    period = "2021-Q1"
    draft = inbox / "Hilversum Q1 2021 rapportage WaW (concept).xlsx"
    _write_hilversum(programme, period, _reported(programme, figures, "Hilversum", period),
                     draft, names={"ZORGSTART": "Zorgstrat"}, total_offset=5)
    _set_mtime(draft, _delivered_on(period, 8))
    written.append(draft)
    # 5. Wijdemeren sends a correction for 2020-Q4 after that quarter was locked: reported,
    #    but the locked figures stay.
    period = "2020-Q4"
    rows = _reported(programme, figures, "Wijdemeren", period)
    late = [(code, {k: v + 3 for k, v in counts.items()}) for code, counts in rows]
    written.append(_fill_template(programme, "Wijdemeren", period, late,
                                  inbox / template_name("Wijdemeren", period, "_correctie"),
                                  filled_on=date(2021, 6, 15)))
    # 6. Things that are not submissions: a note and an Excel owner file.
    note = inbox / "lees mij.txt"
    note.write_text("Cijfers Q2 2022 van Eemnes volgen later.\n", encoding="utf-8")
    owner = inbox / "~$Monitor_Laren_2022-Q2.xlsx"
    owner.write_bytes(b"\x0bxlmonitor demo\x00" * 8)
    for path in (note, owner):  # the demo's dates, not the clock's
        _set_mtime(path, _delivered_on("2022-Q2"))
    written += [note, owner]
    return written


_MARKER = ".xlmonitor-demo"


def run_demo(folder: str | Path, *, programme: Programme | None = None,
             echo=print) -> dict[str, Path]:
    """Build the demo in ``folder``: ``inbox/``, ``master.xlsx`` and ``terugkoppeling/``.

    A folder made by an earlier demo run (it holds a marker file) is rebuilt; any other
    non-empty folder is refused, so the demo never overwrites someone's files."""
    from xlmonitor.consolidation.merge import consolidate
    from xlmonitor.errors import UsageError
    from xlmonitor.feedback.marked_copy import write_feedback_copy
    from xlmonitor.master.publish import write_master
    from xlmonitor.programme.definition import load_programme

    folder = Path(folder)
    programme = programme or load_programme()
    if folder.exists() and any(folder.iterdir()):
        if not (folder / _MARKER).exists():
            raise UsageError(f"De map {folder} bestaat al en is geen demo-map; kies een lege "
                             "of nieuwe map.")
        for child in ("inbox", "terugkoppeling"):
            shutil.rmtree(folder / child, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _MARKER).write_text("Gemaakt door 'xlmonitor demo'.\n", encoding="utf-8")
    inbox = folder / "inbox"
    written = write_demo_inbox(programme, inbox)
    echo(f"Demo-inbox: {inbox} ({len(written)} bestanden van 7 gemeenten, 2020-Q3 t/m 2022-Q2)")
    result = consolidate(inbox, programme)
    master = write_master(result, folder / "master.xlsx")
    feedback = folder / "terugkoppeling"
    copies = []
    for name, findings in sorted(result.file_findings.items()):
        if findings and name in result.validations:
            copy = write_feedback_copy(result.validations[name].submission.path, findings,
                                       feedback)
            if copy is not None:
                copies.append(copy)
    register = result.register
    counts = register["Status"].value_counts()
    echo(f"Master: {master.resolve()}")
    echo("  " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    echo(f"  peilperiode {result.peilperiode}; {len(result.data)} rijen; "
         f"{len(result.shown_findings())} bevindingen")  # as the Validatie sheet lists them
    echo(f"Terugkoppeling: {feedback.resolve()} ({len(copies)} bestanden)")
    return {"inbox": inbox, "master": master, "feedback": feedback}
