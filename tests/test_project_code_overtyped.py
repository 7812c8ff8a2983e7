"""A project code overtyped in the standard template (issue 14, point 2): the sheet's protection
lifted, the code in column A changed while the name beside it is still a programme project.
The code cell gets a finding instead of the row being read silently by the name."""

from __future__ import annotations

import json

import openpyxl
import pytest

from xlmonitor.cli import main
from xlmonitor.intake.read import read_submission
from xlmonitor.programme.definition import load_programme
from xlmonitor.template.standard import build_template

#: Rows of the Huizen template for 2021-Q3: ZorgStart (8), Wijkleerbedrijf (9), Hout (10).
COUNTS = (5, 4, 1, 1)


@pytest.fixture(scope="module")
def programme():
    return load_programme()


def overtyped(tmp_path, programme, codes: dict[str, str]):
    """A fully filled Huizen template, protection lifted, with ``codes`` typed over column A."""
    path = build_template(programme, "Huizen", "2021-Q3", tmp_path / "Monitor_Huizen_2021-Q3.xlsx")
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Invoer"]
    sheet.protection.sheet = False
    for row in range(8, 21):
        for column, count in zip("CDEF", COUNTS, strict=True):
            sheet[f"{column}{row}"] = count
    for cell, code in codes.items():
        sheet[cell] = code
    workbook.save(path)
    return path


def test_code_of_another_project_is_an_error_at_the_code_cell(tmp_path, programme, capsys):
    path = overtyped(tmp_path, programme, {"A9": "HOUT"})
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "Monitor_Huizen_2021-Q3.xlsx: afgekeurd (1 fout(en), 0 waarschuwing(en))",
        "  - [fout] Cel A9 (blad Invoer): projectcode 'HOUT' hoort bij project 'Hout', maar in "
        "cel B9 staat project 'Wijkleerbedrijf'. Zo is niet duidelijk bij welk project de "
        "cijfers van deze rij horen. Bedoelde u 'WIJKLEER'? Zet dan die code terug; horen de "
        "cijfers bij Hout, zet ze dan in de rij van Hout.",
    ]  # and no "project dubbel" for Hout: the row is read by its name


def test_mistyped_code_is_read_by_the_name_with_a_suggestion(tmp_path, programme, capsys):
    path = overtyped(tmp_path, programme, {"A9": "WIJKLER", "A10": "X99"})
    assert main(["validate", "--json", str(path)]) == 0
    shown = [(f["blad"], f["cel"], f["code"], f["ernst"], f["melding"])
             for f in json.loads(capsys.readouterr().out)]
    assert shown == [
        ("Invoer", "A9", "projectcode-onbekend", "waarschuwing",
         "Cel A9 (blad Invoer): projectcode 'WIJKLER' bestaat niet; de rij is gelezen als "
         "project 'Wijkleerbedrijf' (cel B9). Bedoelde u 'WIJKLEER'? Zet de code WIJKLEER "
         "terug in deze cel als dat het goede project is."),
        ("Invoer", "A10", "projectcode-onbekend", "waarschuwing",
         "Cel A10 (blad Invoer): projectcode 'X99' bestaat niet; de rij is gelezen als "
         "project 'Hout' (cel B10). Zet de code HOUT terug in deze cel als dat het goede "
         "project is."),
    ]
    rows = read_submission(path, programme).rows.set_index("projectcode")
    assert rows.loc["WIJKLEER", "aanmeldingen"] == 5 and rows.loc["HOUT", "aanmeldingen"] == 5


def test_code_and_name_that_agree_say_nothing(tmp_path, programme, capsys):
    path = overtyped(tmp_path, programme, {"A9": "wijkleer", "A10": "Hout"})  # case, name
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Monitor_Huizen_2021-Q3.xlsx: goedgekeurd (0 fout(en), 0 waarschuwing(en))"]
