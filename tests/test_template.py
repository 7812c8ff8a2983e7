"""The standard quarterly template, read back the way Excel users and intake see it.

openpyxl is used in normal (not read-only) mode: read-only mode drops data validations.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from xlmonitor.errors import UsageError, WriteError
from xlmonitor.programme.definition import (
    TEMPLATE_VERSION,
    build_programme_workbook,
    load_programme,
)
from xlmonitor.template.standard import build_template, build_templates, template_file_name

HEADERS = ["Projectcode", "Project", "Aanmeldingen", "Gestarte trajecten",
           "Afgeronde scholing", "Bemiddeld naar werk", "Toelichting"]


@pytest.fixture(scope="session")
def programme(tmp_path_factory):
    path = build_programme_workbook(tmp_path_factory.mktemp("programme") / "programma.xlsx")
    return load_programme(path)


@pytest.fixture(scope="session")
def huizen_q3(programme, tmp_path_factory) -> Path:
    return build_template(programme, "Huizen", "2021-Q3",
                          tmp_path_factory.mktemp("template") / "huizen.xlsx")


@pytest.fixture()
def invoer(huizen_q3):
    workbook = openpyxl.load_workbook(huizen_q3)
    yield workbook["Invoer"]
    workbook.close()


def project_rows(sheet) -> list[tuple]:
    """(code, name) of every project row: from row 8 down to the first empty code."""
    rows = []
    for code, name in sheet.iter_rows(min_row=8, max_col=2, values_only=True):
        if code is None:
            break
        rows.append((code, name))
    return rows


def covered_cells(validation) -> set[str]:
    cells = set()
    for cell_range in str(validation.sqref).split():
        min_col, min_row, max_col, max_row = range_boundaries(cell_range)
        for row in range(min_row, max_row + 1):
            for col in range(min_col, max_col + 1):
                cells.add(f"{openpyxl.utils.get_column_letter(col)}{row}")
    return cells


def test_sheets_in_order_invoer_first_and_active(huizen_q3):
    workbook = openpyxl.load_workbook(huizen_q3)
    assert workbook.sheetnames == ["Invoer", "Uitleg", "_xlmonitor"]
    assert workbook.active.title == "Invoer"
    assert workbook["Uitleg"].sheet_state == "visible"


def test_top_cells_follow_the_contract(invoer, programme):
    assert invoer["A1"].value == f"Kwartaalrapportage {programme.settings['naam']}"
    assert (invoer["A3"].value, invoer["B3"].value) == ("Gemeente", "Huizen")
    assert (invoer["A4"].value, invoer["B4"].value) == ("Periode", "2021-Q3")
    assert invoer["A5"].value == "Ingevuld op"
    assert invoer["B5"].value is None
    assert invoer["B3"].font.b and invoer["B4"].font.b
    assert invoer["B3"].protection.locked and invoer["B4"].protection.locked
    assert not invoer["B5"].protection.locked


def test_header_row_reads_exactly(invoer):
    assert [c.value for c in invoer[7][:7]] == HEADERS
    assert invoer["H7"].value is None


def test_one_row_per_active_project_in_programme_order(invoer, programme):
    rows = project_rows(invoer)
    active = programme.active_projects("2021-Q3")
    assert rows == list(zip(active.index, active["naam"], strict=True))
    codes = [code for code, _ in rows]
    assert "ZORGSTART" in codes
    assert "ENERGIE" not in codes  # starts 2022-01-01
    assert "SCHOONHUIS" not in codes  # ended 2021-06-30


def test_later_quarter_includes_projects_that_started(programme, tmp_path):
    path = build_template(programme, "Laren", "2022-Q1", tmp_path / "laren.xlsx")
    workbook = openpyxl.load_workbook(path)
    codes = [code for code, _ in project_rows(workbook["Invoer"])]
    assert "ENERGIE" in codes
    assert codes == list(programme.active_projects("2022-Q1").index)


def test_blank_row_separates_table_from_the_note_below(invoer):
    last = 7 + len(project_rows(invoer))
    assert all(c.value is None for c in invoer[last + 1][:7])
    note = invoer.cell(last + 2, 1).value
    assert "Monitor_Huizen_2021-Q3.xlsx" in note and "gedeelde schijf" in note


def test_protected_without_password(invoer):
    assert invoer.protection.sheet is True
    assert not invoer.protection.password
    assert invoer.protection.selectLockedCells is False  # False = selecting is allowed
    assert invoer.protection.selectUnlockedCells is False


def test_only_input_cells_are_unlocked(invoer):
    last = 7 + len(project_rows(invoer))
    for row in range(8, last + 1):
        for column in "AB":
            assert invoer[f"{column}{row}"].protection.locked, f"{column}{row}"
        for column in "CDEFG":
            assert not invoer[f"{column}{row}"].protection.locked, f"{column}{row}"
    for column in "ABCDEFG":
        assert invoer[f"{column}7"].protection.locked
    # Input cells are visibly different from fixed cells.
    assert invoer["C8"].fill.fgColor.rgb != invoer["A8"].fill.fgColor.rgb


def test_counts_are_whole_numbers_from_zero_to_the_plausibility_bound(invoer, programme):
    last = 7 + len(project_rows(invoer))
    wanted = {f"{c}{r}" for c in "CDEF" for r in range(8, last + 1)}
    whole = [v for v in invoer.data_validations.dataValidation
             # "between" is OOXML's default operator, which XlsxWriter leaves out
             if v.type == "whole" and v.operator in (None, "between") and v.formula1 == "0"
             and v.formula2 == str(programme.max_count)]
    assert set().union(*(covered_cells(v) for v in whole)) == wanted
    for validation in whole:
        assert validation.showErrorMessage and validation.errorStyle in (None, "stop")
        assert "geheel getal" in validation.prompt
        assert "niet opgeteld" in validation.prompt
        assert "geheel getal van 0 tot en met 10.000" in validation.error
        assert len(validation.promptTitle) <= 32 and len(validation.prompt) <= 255
        assert len(validation.error) <= 255


def test_remark_has_length_limit_and_privacy_warning(invoer):
    last = 7 + len(project_rows(invoer))
    [remark] = [v for v in invoer.data_validations.dataValidation if v.type == "textLength"]
    assert covered_cells(remark) == {f"G{r}" for r in range(8, last + 1)}
    assert remark.operator == "lessThanOrEqual" and remark.formula1 == "500"
    assert "persoonsgegevens" in remark.prompt.lower() and "BSN" in remark.prompt


def test_date_filled_in_has_date_validation(invoer):
    [filled_in] = [v for v in invoer.data_validations.dataValidation if v.type == "date"]
    assert str(filled_in.sqref) == "B5"
    assert filled_in.prompt and filled_in.error and "bijvoorbeeld" in filled_in.error


def test_print_setup(invoer):
    assert invoer.page_setup.orientation == "landscape"
    assert invoer.sheet_properties.pageSetUpPr.fitToPage
    assert invoer.page_setup.fitToWidth in (None, 1)  # 1 is the default, left out by XlsxWriter
    assert invoer.page_setup.fitToHeight == 0  # as many pages down as needed
    assert invoer.print_title_rows == "$7:$7"
    assert invoer.freeze_panes == "A8"


def test_metadata_sheet_is_very_hidden(huizen_q3, programme):
    workbook = openpyxl.load_workbook(huizen_q3)
    meta = workbook["_xlmonitor"]
    assert meta.sheet_state == "veryHidden"
    values = {key: value for key, value in meta.iter_rows(max_col=2, values_only=True)}
    assert values == {
        "sjabloonversie": TEMPLATE_VERSION,
        "gemeente": "Huizen",
        "gemeente_code": "GM0406",
        "periode": "2021-Q3",
        "programma": programme.settings["naam"],
    }


def test_guide_explains_in_dutch(huizen_q3, programme):
    workbook = openpyxl.load_workbook(huizen_q3)
    text = " ".join(str(c) for row in workbook["Uitleg"].iter_rows(values_only=True)
                    for c in row if c is not None)
    for meaning in programme.indicators["omschrijving"]:
        assert meaning in text
    for phrase in ("niet het totaal", "vul dan 0 in", "BSN", ".controle.xlsx",
                   "Monitor_Huizen_2021-Q3.xlsx", "van 0 tot en met 10.000",
                   "gemaakt voor Huizen, 2021-Q3"):
        assert phrase in text


def test_same_inputs_give_identical_bytes(programme, tmp_path):
    first = build_template(programme, "Huizen", "2021-Q3", tmp_path / "a.xlsx")
    second = build_template(programme, "huizen", "Q3 2021", tmp_path / "b.xlsx")
    assert first.read_bytes() == second.read_bytes()
    third = build_template(programme, "Huizen", "2021-Q3", tmp_path / "c.xlsx",
                           created=datetime(2021, 9, 1))
    assert third.read_bytes() != first.read_bytes()


def test_period_spelling_and_cbs_code_are_normalised(programme, tmp_path):
    path = build_template(programme, "GM1942", "3e kwartaal 2021", tmp_path)
    assert path.name == "Monitor_Gooise_Meren_2021-Q3.xlsx"
    sheet = openpyxl.load_workbook(path)["Invoer"]
    assert (sheet["B3"].value, sheet["B4"].value) == ("Gooise Meren", "2021-Q3")


def test_build_templates_writes_one_per_municipality(programme, tmp_path):
    paths = build_templates(programme, "2021-Q3", tmp_path / "sjablonen")
    assert [p.name for p in paths] == [template_file_name(n, "2021-Q3")
                                       for n in programme.municipalities.index]
    assert "Monitor_Gooise_Meren_2021-Q3.xlsx" in [p.name for p in paths]
    assert all(p.is_file() for p in paths)
    assert sorted(p.name for p in (tmp_path / "sjablonen").iterdir()) == sorted(
        p.name for p in paths)  # no temporary files left behind


@pytest.mark.parametrize(("municipality", "period", "expected"), [
    ("Amsterdam", "2021-Q3",
     "Onbekende gemeente 'Amsterdam'. Kies uit: Blaricum, Eemnes, Gooise Meren, Hilversum, "
     "Huizen, Laren, Wijdemeren."),
    ("Huizen", "2021-Q5", "Ongeldige periode '2021-Q5'. Schrijf een kwartaal als 2021-Q3."),
    ("Huizen", "2019-Q4", "Periode 2019-Q4 valt buiten de looptijd van het programma "
                          "(01-01-2020 t/m 31-12-2023)."),
])
def test_bad_arguments_give_one_dutch_line(programme, tmp_path, municipality, period, expected):
    with pytest.raises(UsageError) as caught:
        build_template(programme, municipality, period, tmp_path / "x.xlsx")
    assert str(caught.value) == expected
    assert caught.value.exit_code == 2
    assert not (tmp_path / "x.xlsx").exists()


def test_unwritable_place_gives_dutch_write_error(programme, tmp_path):
    blocker = tmp_path / "geen-map"
    blocker.write_text("dit is een bestand, geen map")
    with pytest.raises(WriteError) as caught:
        build_template(programme, "Huizen", "2021-Q3", blocker / "huizen.xlsx")
    assert "kan niet worden opgeslagen" in str(caught.value)
    assert caught.value.exit_code == 3


@pytest.mark.slow
def test_renders_in_libreoffice(huizen_q3, soffice, tmp_path):
    """What the municipality sees: the Invoer sheet as PDF, its texts and a page image."""
    from xlmonitor.libreoffice import pdf_to_png, to_pdf

    pdf = to_pdf(huizen_q3, tmp_path / "invoer.pdf", sheet="Invoer")
    png = pdf_to_png(pdf, tmp_path / "invoer.png", dpi=60)
    assert png.stat().st_size > 5_000
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils) is installed with pdftoppm"
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Kwartaalrapportage" in text and "Huizen" in text and "2021-Q3" in text
    for header in ("Projectcode", "Aanmeldingen", "Toelichting", "ZorgStart"):
        assert header in text
    assert "Pagina 1 van 1" in text  # the table fits one landscape page
