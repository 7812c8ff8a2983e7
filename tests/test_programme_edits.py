"""Every edit staff may make to programma.xlsx either works, all the way to the dashboard, or is
refused in Dutch at its cell (docs/architecture.md, "The programme workbook").

An editable field is changed in a copy of the shipped programme; the demo inbox is written
for that programme and consolidated, and the master's dashboard must equal an independent
pandas computation with the edited programme (the cached values here, LibreOffice's
recalculation for all edits at once). A fixed field is changed and the command line must
refuse the programme with exit code 2 and a Dutch line naming the sheet and cell."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from synthetic import independent_figures, mismatches, table_refs

from xlmonitor import libreoffice
from xlmonitor.cli import main
from xlmonitor.consolidation.merge import consolidate
from xlmonitor.demo import write_demo_inbox
from xlmonitor.master.publish import write_master
from xlmonitor.programme.definition import default_programme_path, load_programme
from xlmonitor.template.standard import build_template

#: (what, {cell: new value}) — one edit a programme officer may make. Cells as in the shipped
#: workbooks/programma.xlsx (rows: Programma naam 2 … contact 10; Projecten row 2 ZorgStart).
EDITABLE = [
    ("programme name", {"Programma!B2": "Samen naar Werk"}),
    ("region", {"Programma!B3": "Regio Gooi & Vechtstreek"}),
    ("programme start", {"Programma!B4": datetime(2020, 4, 1)}),
    ("programme end", {"Programma!B5": datetime(2024, 6, 30)}),
    ("first reporting quarter", {"Programma!B6": "2020-Q4"}),
    ("delivery term", {"Programma!B7": 21}),
    ("plausibility bound", {"Programma!B8": 500}),
    ("drop location", {"Programma!B9": "de map Monitor op de S-schijf"}),
    ("contact", {"Programma!B10": "het team Werk"}),
    # The demo reports the seed's projects by code, so a new project is tried, not a renamed
    # code (which is the same to xlmonitor: another project).
    ("project added, with a target", {
        "Projecten!A17": "TAALHUIS", "Projecten!B17": "Taalhuis Gooi",
        "Projecten!C17": "Werken aan Werk", "Projecten!D17": "Onderwijs",
        "Projecten!E17": datetime(2021, 1, 1), "Projecten!F17": datetime(2023, 12, 31),
        "Projecten!G17": "loopt", "Projecten!H17": "gestarte_trajecten",
        "Doelstellingen!A23": "TAALHUIS", "Doelstellingen!B23": "gestarte_trajecten",
        "Doelstellingen!C23": 40, "Doelstellingen!D23": datetime(2021, 1, 1),
        "Doelstellingen!E23": "werkplan 2021"}),
    ("project name", {"Projecten!B2": "ZorgStart Gooi"}),
    ("project programme", {"Projecten!C2": "Perspectief op Werk"}),
    ("project sector", {"Projecten!D2": "Welzijn"}),
    ("project start", {"Projecten!E2": datetime(2021, 1, 1)}),
    ("project end", {"Projecten!F2": datetime(2022, 6, 30)}),
    ("project status", {"Projecten!G2": "bijgesteld"}),
    ("project on hold", {"Projecten!G2": "on hold"}),
    ("steering indicator", {"Projecten!H2": "afgeronde_scholing"}),
    ("aliases", {"Projecten!I2": "Zorg Start; Zorgstart Gooi"}),
    ("indicator description", {"Indicatoren!C3": "Trajecten die in het kwartaal begonnen"}),
    ("indicator is a KPI", {"Indicatoren!D2": "ja"}),
    ("indicator order", {"Indicatoren!E2": 4, "Indicatoren!E5": 1}),
    ("target", {"Doelstellingen!C2": 1500}),
    ("target valid from", {"Doelstellingen!D3": datetime(2020, 7, 1)}),
    ("target source", {"Doelstellingen!E2": "raadsbrief maart 2023"}),
    # The demo writes its files for the seven municipalities by name, so a renamed one is not
    # tried here; a municipality that joins is.
    ("municipality added", {"Gemeenten!A9": "Weesp", "Gemeenten!B9": "GM0457"}),
    ("CBS code", {"Gemeenten!B2": "GM0999"}),
    ("threshold", {"Stoplicht!B2": 0.95}),
    ("threshold meaning", {"Stoplicht!C3": "let op"}),
    ("rule severity", {"Regels!F2": "fout"}),
    ("rule text", {"Regels!I2": "Er zijn meer trajecten gestart dan aanmeldingen."}),
    ("locked quarter", {"Vergrendeld!A4": "2021-Q1", "Vergrendeld!B4": datetime(2021, 8, 1),
                        "Vergrendeld!C4": "monitor september 2021 verstuurd"}),
]

#: (what, edit, the Dutch line's start). Sheet renames are written "rename:<old>" = new.
FIXED = [
    ("indicator label", {"Indicatoren!B2": "Aanmeldingen (personen)"},
     "Blad 'Indicatoren', cel B2: de naam van indicator 'aanmeldingen' ligt vast"),
    ("indicator code", {"Indicatoren!A3": "gestart"},
     "Blad 'Indicatoren', cel A3: 'gestart' is geen toegestane waarde"),
    ("traffic-light colour", {"Stoplicht!A2": "blauw"},
     "Blad 'Stoplicht', cel A2: 'blauw' is geen toegestane waarde"),
    ("setting name", {"Programma!A8": "max_aantal_per_kwartal"},
     "Blad 'Programma', cel A8: 'max_aantal_per_kwartal' is geen instelling van xlmonitor. "
     "Bedoelde u 'max_aantal_per_kwartaal'?"),
    ("column name", {"Projecten!B1": "projectnaam"},
     "Blad 'Projecten', rij 1: de kolom 'naam' ontbreekt"),
    ("sheet name", {"rename:Gemeenten": "Deelnemers"}, "het blad 'Gemeenten' ontbreekt"),
]

#: The cells above belong to these values in the shipped workbook (checked, so that a change
#: of the seed cannot silently turn an edit into a no-op).
SHIPPED = {"Programma!A2": "naam", "Programma!A8": "max_aantal_per_kwartaal",
           "Programma!A10": "contact", "Projecten!A2": "ZORGSTART",
           "Indicatoren!A2": "aanmeldingen",
           "Indicatoren!A5": "bemiddeld_naar_werk", "Gemeenten!A2": "Blaricum",
           "Stoplicht!A2": "groen", "Doelstellingen!A2": None, "Vergrendeld!A4": None,
           "Gemeenten!A8": "Wijdemeren", "Gemeenten!A9": None, "Projecten!A17": None,
           "Doelstellingen!A23": None}


def edited(tmp_path: Path, edit: dict) -> Path:
    target = tmp_path / "programma.xlsx"
    shutil.copyfile(default_programme_path(), target)
    book = openpyxl.load_workbook(target)
    for where, value in edit.items():
        if where.startswith("rename:"):
            book[where.removeprefix("rename:")].title = value
            continue
        sheet, cell = where.split("!")
        book[sheet][cell] = value
    book.save(target)
    return target


def test_the_cells_named_here_hold_what_the_edits_assume():
    book = openpyxl.load_workbook(default_programme_path())
    for where, value in SHIPPED.items():
        sheet, cell = where.split("!")
        assert book[sheet][cell].value == value, where


def build(programme, folder: Path):
    """The demo for ``programme``: inbox, consolidation and master."""
    result = consolidate(write_demo_inbox(programme, folder / "inbox")[0].parent, programme)
    return result, write_master(result, folder / "master.xlsx")


@pytest.mark.parametrize("edit", [e for _, e in EDITABLE], ids=[w for w, _ in EDITABLE])
def test_an_editable_field_flows_to_the_dashboard(tmp_path, edit):
    programme = load_programme(edited(tmp_path, edit))
    result, master = build(programme, tmp_path)
    assert len(result.data) > 0
    wanted = independent_figures(result, result.peilperiode)
    assert mismatches(master, table_refs(master), wanted) == []
    # The template the municipalities get follows it too.
    municipality = programme.municipalities.index[0]
    template = build_template(programme, municipality, result.peilperiode,
                              tmp_path / "sjabloon.xlsx")
    invoer = openpyxl.load_workbook(template)["Invoer"]
    assert invoer["B3"].value == municipality
    names = {row[1] for row in invoer.iter_rows(min_row=8, values_only=True) if row[1]}
    active = programme.active_projects(result.peilperiode)
    assert {str(n) for n in active["naam"]} <= names


def test_what_the_edits_change_is_shown(tmp_path):
    """A few edits read back where a user sees them."""
    edit = {**EDITABLE[0][1], **EDITABLE[10][1], **EDITABLE[25][1]}
    programme = load_programme(edited(tmp_path, edit))
    _, master = build(programme, tmp_path)
    book = openpyxl.load_workbook(master, data_only=True)
    assert book["Dashboard"]["A1"].value == "Monitor Samen naar Werk"
    projects = [r[1] for r in book["Dashboard"].iter_rows(values_only=True)]
    assert "ZorgStart Gooi" in projects
    municipalities = [r[0] for r in book["Gemeenten"].iter_rows(values_only=True)]
    assert "Weesp" in municipalities


@pytest.mark.slow
def test_all_edits_at_once_recalculate_as_pandas_computes(soffice, tmp_path):
    """Every editable field changed together (one edit per cell), the master recalculated by
    LibreOffice at two peilperiodes: the live formulas follow the edited programme."""
    from synthetic import set_peilperiode_in_file

    together: dict = {}
    for what, edit in EDITABLE:
        if what in ("project on hold",) or set(edit) & set(together):
            continue
        together.update(edit)
    programme = load_programme(edited(tmp_path, together))
    result, master = build(programme, tmp_path)
    refs = table_refs(master)
    for peilperiode in ("2021-Q2", "2022-Q1"):
        chosen = set_peilperiode_in_file(master, tmp_path / f"{peilperiode}.xlsx", peilperiode)
        recalculated = libreoffice.recalculate(chosen, tmp_path / f"{peilperiode}-calc.xlsx")
        assert mismatches(recalculated, refs, independent_figures(result, peilperiode)) == []


@pytest.mark.parametrize("edit, line", [(e, line) for _, e, line in FIXED],
                         ids=[w for w, _, _ in FIXED])
def test_a_fixed_field_is_refused_in_dutch_at_its_cell(tmp_path, capsys, edit, line):
    path = edited(tmp_path, edit)
    code = main(["--programma", str(path), "template", "--gemeente", "Huizen",
                 "--periode", "2021-Q3", "-o", str(tmp_path / "sjabloon.xlsx")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "Error" not in err
    assert f"  - {line}" in err or line in err, err
    assert not (tmp_path / "sjabloon.xlsx").exists()


def test_schedule_print_gives_the_bare_line_to_pipe_into_crontab(tmp_path, capsys):
    """``schedule`` explains; ``schedule --print`` prints only this system's line."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    args = ["schedule", str(inbox), "-o", str(tmp_path / "master.xlsx"), "--tijd", "03:30"]
    assert main(args) == 0
    explained = capsys.readouterr().out
    assert "Windows Taakplanner" in explained and "cron (crontab -e):" in explained
    assert main([*args, "--print"]) == 0
    bare = capsys.readouterr().out.splitlines()
    assert len(bare) == 1
    assert bare[0].startswith("30 3 * * * ") and "consolidate" in bare[0]
    assert bare[0] in explained
