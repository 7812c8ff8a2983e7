"""The programme workbook: the shipped default, its seed figures, and Dutch errors for a
broken file that name sheet and cell."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from xlmonitor.build import build_workbooks
from xlmonitor.errors import ProgrammeError
from xlmonitor.programme.definition import (
    DEFAULT_MAX_COUNT,
    MAX_COUNT_SETTING,
    build_programme_workbook,
    default_programme_path,
    load_programme,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def programme():
    return load_programme()


def test_default_programme_is_the_shipped_workbook(programme):
    assert default_programme_path().name == "programma.xlsx"
    assert programme.indicator_codes == ["aanmeldingen", "gestarte_trajecten",
                                         "afgeronde_scholing", "bemiddeld_naar_werk"]
    assert programme.kpi_codes == ["gestarte_trajecten", "afgeronde_scholing",
                                   "bemiddeld_naar_werk"]


def test_shipped_workbooks_are_rebuilt_identically(tmp_path):
    for built in build_workbooks(tmp_path):
        shipped = REPO / "workbooks" / built.name
        assert built.read_bytes() == shipped.read_bytes(), (
            f"{built.name} is stale: run 'xlmonitor build-workbooks'")


def test_seed_targets_and_revision(programme):
    # S1 (September 2021): 1180 / 860 / 520; S3 (2022): 1200 / 800 / 500.
    at_2021 = [programme.target("", c, date(2021, 9, 30)) for c in programme.kpi_codes]
    at_2022 = [programme.target("", c, date(2022, 6, 30)) for c in programme.kpi_codes]
    assert at_2021 == [1180, 860, 520]
    assert at_2022 == [1200, 800, 500]
    assert programme.target("ZORGSTART", "bemiddeld_naar_werk", date(2021, 6, 30)) == 250
    assert programme.target("ZORGSTART", "bemiddeld_naar_werk", date(2021, 1, 1)) is None


def test_seed_projects_and_municipalities(programme):
    names = set(programme.projects["naam"])
    for name in ["ZorgStart", "Wijkleerbedrijf", "Hout", "Waardetas", "Artificial Intelligence",
                 "Accountmanager Jongeren", "Energietransitie", "Gooi en Vechtstreek werkt door",
                 "Gezamenlijke aanpak GGZ", "Taalvaardigheid als opstap naar werk",
                 "Lokaal budget voor scholing en begeleiding",
                 "Werkgelegenheidsprojecten in kansrijke sectoren", "Pilot scholingsmakelaar"]:
        assert name in names
    assert programme.projects.at["ZORGSTART", "start"] == date(2021, 2, 1)
    assert programme.projects.at["HOUT", "start"] == date(2021, 5, 17)
    assert dict(programme.municipalities["cbs_code"]) == {
        "Blaricum": "GM0376", "Eemnes": "GM0317", "Gooise Meren": "GM1942",
        "Hilversum": "GM0402", "Huizen": "GM0406", "Laren": "GM0417", "Wijdemeren": "GM1696"}


def test_names_aliases_and_suggestions(programme):
    assert programme.project_code("AI-project (annoteren)") == "AI"
    assert programme.project_code("  wijk leerbedrijf ") == "WIJKLEER"
    assert programme.project_code("GGZ / IPS") == "GGZ"
    assert programme.project_code("Onbekend project") is None
    assert programme.suggest_project("Zorgstrat") == "ZorgStart"
    assert programme.municipality("Gemeente Hilversum") == "Hilversum"
    assert programme.municipality("GM0406") == "Huizen"
    assert programme.municipality("Amsterdam") is None


def test_traffic_light_thresholds(programme):
    assert programme.traffic_light(1.2) == "groen"
    assert programme.traffic_light(0.8) == "groen"
    assert programme.traffic_light(0.7) == "oranje"
    assert programme.traffic_light(0.2) == "rood"
    assert programme.traffic_light(None) == "n.v.t."


def _broken(tmp_path, edit) -> Path:
    path = build_programme_workbook(tmp_path / "programma.xlsx")
    workbook = openpyxl.load_workbook(path)
    edit(workbook)
    workbook.save(path)
    return path


def _errors(path) -> str:
    with pytest.raises(ProgrammeError) as info:
        load_programme(path)
    return str(info.value)


def test_broken_programme_names_sheet_and_cell(tmp_path):
    def edit(workbook):
        workbook["Projecten"]["E2"] = "volgend jaar"          # start: not a date
        workbook["Projecten"]["G3"] = "bezig"                 # status: not allowed
        workbook["Gemeenten"]["B4"] = "0406"                  # CBS code without GM
        workbook["Doelstellingen"]["C2"] = -5                 # negative target
        workbook["Doelstellingen"]["A9"] = "ONBEKEND"          # unknown project

    message = _errors(_broken(tmp_path, edit))
    assert "Blad 'Projecten', cel E2: 'volgend jaar' is geen datum" in message
    assert "Blad 'Projecten', cel G3: 'bezig' is geen toegestane waarde" in message
    assert "Blad 'Gemeenten', cel B4: '0406' heeft niet de goede vorm" in message
    assert "Blad 'Doelstellingen', cel C2: -5 is kleiner dan 0" in message
    # A target's project is checked against the projects once those are right.


def staff_mistakes(workbook):
    """Mistakes as staff make them, on every sheet of programma.xlsx."""
    workbook["Programma"]["B4"] = "volgende week"            # start: not a date
    workbook["Programma"]["B8"] = "veel"                     # max_aantal_per_kwartaal
    workbook["Projecten"]["E3"] = "volgende week"            # start: not a date
    workbook["Projecten"]["F4"] = workbook["Projecten"]["E4"].value.replace(year=2020)
    workbook["Projecten"]["A5"] = "Waarde tas"               # a code with a space
    workbook["Projecten"]["A6"] = "HOUT"                     # the code of row 4 again
    workbook["Projecten"]["G7"] = "Loopt"                    # status with a capital
    workbook["Projecten"]["B8"] = None                       # name left blank
    workbook["Indicatoren"]["E3"] = "tweede"                 # order: text
    workbook["Indicatoren"]["D4"] = "Ja"                     # kpi with a capital
    workbook["Doelstellingen"]["C3"] = "ca. 860"             # target: text
    workbook["Doelstellingen"]["C4"] = -520                  # target: negative
    workbook["Doelstellingen"]["C5"] = 1200.5                # target: not whole
    workbook["Doelstellingen"]["D6"] = "1-1-2022"            # a Dutch date as text: fine
    workbook["Doelstellingen"]["B7"] = "plaatsingen"         # unknown indicator
    workbook["Doelstellingen"]["A9"] = "ONBEKEND"  # unknown project: told once Projecten is right
    workbook["Gemeenten"]["B3"] = None                       # CBS code blank
    workbook["Gemeenten"]["B4"] = "0406"                     # CBS code without GM
    workbook["Stoplicht"]["B2"] = "90%"                      # threshold as a percentage
    workbook["Stoplicht"]["B3"] = "0,6"                      # decimal comma: fine
    workbook["Stoplicht"]["A4"] = "Rood"
    workbook["Regels"]["D2"] = "≤"                           # operator: not allowed
    workbook["Regels"]["E3"] = "aanmelding"                  # unknown indicator
    workbook["Regels"]["F4"] = None                          # severity blank
    workbook["Vergrendeld"]["A2"] = "2020 Q3"                # quarter in another form
    workbook["Vergrendeld"]["B3"] = "gisteren"               # not a date


def test_staff_mistakes_on_every_sheet_one_dutch_line_each_at_its_cell(tmp_path, capsys):
    from xlmonitor.cli import main

    path = _broken(tmp_path, staff_mistakes)
    assert main(["--programma", str(path), "validate", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "xlmonitor: Het programmabestand programma.xlsx bevat 23 fout(en):",
        "  - Blad 'Programma', cel B4: 'volgende week' bij 'start' is geen datum; vul een "
        "datum in, zoals 1-2-2021.",
        "  - Blad 'Programma', cel B8: 'veel' bij 'max_aantal_per_kwartaal' is geen geheel "
        "getal van 1 of meer.",
        "  - Blad 'Projecten', cel E3: 'volgende week' is geen datum; hier hoort een datum, "
        "zoals 1-2-2021.",
        "  - Blad 'Projecten', cel F4: de einddatum 17-05-2020 ligt voor de startdatum "
        "17-05-2021 (cel E4).",
        "  - Blad 'Projecten', cel A5: 'Waarde tas' heeft niet de goede vorm; hier hoort een "
        "projectcode: hoofdletters, cijfers, - en _, zonder spaties (zoals ZORGSTART).",
        "  - Blad 'Projecten', cel A6: 'HOUT' staat ook in cel A4; elke waarde in de kolom "
        "'code' mag maar één keer voorkomen.",
        "  - Blad 'Projecten', cel G7: 'Loopt' is geen toegestane waarde; kies uit: loopt, "
        "bijgesteld, gestopt, afgerond, on hold, in voorbereiding.",
        "  - Blad 'Projecten', cel B8: deze cel is leeg; hier hoort de naam van het project.",
        "  - Blad 'Indicatoren', cel E3: 'tweede' is geen geheel getal; hier hoort een geheel "
        "getal, zoals 1.",
        "  - Blad 'Indicatoren', cel D4: 'Ja' is geen toegestane waarde; kies uit: ja, nee.",
        "  - Blad 'Doelstellingen', cel C3: 'ca. 860' is geen geheel getal; hier hoort een "
        "aantal, zoals 1180.",
        "  - Blad 'Doelstellingen', cel C4: -520 is kleiner dan 0; vul 0 of meer in.",
        "  - Blad 'Doelstellingen', cel C5: 1200,5 is geen geheel getal; hier hoort een "
        "aantal, zoals 1180.",
        "  - Blad 'Doelstellingen', cel B7: 'plaatsingen' is geen toegestane waarde; kies uit: "
        "aanmeldingen, gestarte_trajecten, afgeronde_scholing, bemiddeld_naar_werk.",
        "  - Blad 'Gemeenten', cel B3: deze cel is leeg; hier hoort de CBS-code: GM en vier "
        "cijfers (zoals GM0402).",
        "  - Blad 'Gemeenten', cel B4: '0406' heeft niet de goede vorm; hier hoort de "
        "CBS-code: GM en vier cijfers (zoals GM0402).",
        "  - Blad 'Stoplicht', cel B2: '90%' is geen getal; hier hoort een deel van 1, zoals "
        "0,9 voor 90%.",
        "  - Blad 'Stoplicht', cel A4: 'Rood' is geen toegestane waarde; kies uit: groen, "
        "oranje, rood.",
        "  - Blad 'Regels', cel D2: '≤' is geen toegestane waarde; kies uit: <=, <, >=, >, "
        "==, !=.",
        "  - Blad 'Regels', cel E3: 'aanmelding' noemt een onbekende indicator (aanmelding); "
        "gebruik aanmeldingen, gestarte_trajecten, afgeronde_scholing, bemiddeld_naar_werk.",
        "  - Blad 'Regels', cel F4: deze cel is leeg; hier hoort een van: fout, waarschuwing.",
        "  - Blad 'Vergrendeld', cel A2: '2020 Q3' heeft niet de goede vorm; hier hoort een "
        "kwartaal, zoals 2020-Q3.",
        "  - Blad 'Vergrendeld', cel B3: 'gisteren' is geen datum; hier hoort een datum, "
        "zoals 1-2-2021.",
    ]
    text = "\n".join(lines)
    for internal in ("Schema", "dtype", "Error", "coerce", "int64", "isin(", "str_matches",
                     "None", "nan", "NaT"):
        assert internal not in text
    cells = [line.split(":")[0] for line in lines[1:]]
    assert len(cells) == len(set(cells))  # one line per cell


def test_dutch_spellings_of_dates_and_numbers_are_read(tmp_path):
    def edit(workbook):
        workbook["Doelstellingen"]["D6"] = "1-1-2022"
        workbook["Stoplicht"]["B3"] = "0,6"
        workbook["Doelstellingen"]["C2"] = "1.180"

    programme = load_programme(_broken(tmp_path, edit))
    assert sorted(programme.thresholds["vanaf"]) == [0, 0.6, 0.8]
    assert programme.target("", "gestarte_trajecten", date(2021, 1, 1)) == 1180


def test_unknown_project_in_targets(tmp_path):
    def edit(workbook):
        workbook["Doelstellingen"]["A9"] = "ONBEKEND"

    message = _errors(_broken(tmp_path, edit))
    assert "Blad 'Doelstellingen', cel A9: project 'ONBEKEND' staat niet op het blad " \
           "'Projecten'" in message


def test_missing_sheet_and_column(tmp_path):
    def edit(workbook):
        del workbook["Stoplicht"]
        workbook["Gemeenten"]["B1"] = "code"

    message = _errors(_broken(tmp_path, edit))
    assert "het blad 'Stoplicht' ontbreekt" in message
    assert "Blad 'Gemeenten', rij 1: de kolom 'cbs_code' ontbreekt" in message


def test_unreadable_or_missing_programme(tmp_path):
    bad = tmp_path / "programma.xlsx"
    bad.write_text("geen werkmap")
    assert "kan niet worden gelezen" in _errors(bad)
    assert "bestaat niet" in _errors(tmp_path / "nergens.xlsx")


def _bound(value):
    """An edit setting ``max_aantal_per_kwartaal`` on the sheet Programma (None: no row)."""
    def edit(workbook):
        sheet = workbook["Programma"]
        key, cell = next((k, v) for k, v in sheet.iter_rows(min_row=2)
                         if k.value == MAX_COUNT_SETTING)
        if value is None:
            key.value = None
        cell.value = value
    return edit


@pytest.mark.parametrize("value, expected", [
    (10_000, 10_000), (2500, 2500), ("2.500", 2500), (" 750 ", 750), (None, DEFAULT_MAX_COUNT)])
def test_plausibility_bound_setting(tmp_path, programme, value, expected):
    assert programme.max_count == 10_000  # the shipped programme's row
    assert load_programme(_broken(tmp_path, _bound(value))).max_count == expected


@pytest.mark.parametrize("value", ["veel", 0, -5, 12.5])
def test_bad_plausibility_bound_names_the_setting(tmp_path, value):
    message = _errors(_broken(tmp_path, _bound(value)))
    shown = f"'{value}'" if isinstance(value, str) else str(value).replace(".", ",")
    assert f"Blad 'Programma', cel B8: {shown} bij 'max_aantal_per_kwartaal' is geen geheel " \
           "getal van 1 of meer." in message
