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
    assert "Blad 'Doelstellingen', cel C2" in message
    # Cross-sheet checks run only when every sheet is valid on its own.


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
    assert f"Blad 'Programma': '{value}' bij 'max_aantal_per_kwartaal' is geen geheel getal " \
           "van 1 of meer." in message
