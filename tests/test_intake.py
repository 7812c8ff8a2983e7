"""Intake: every layout reads to the hand count, with the right A1 cells; variants of real
files (moved header, renamed sheet, shuffled columns, text numbers, capitals, aliases, period
spellings, hidden rows, .ods/.xls) read the same; bad files give findings, never exceptions.

The three example workbooks and ``expected.csv`` in ``tests/data`` are copies of
``shared/examples/bestaande-werkbladen``; variants are generated here with openpyxl.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from xlmonitor.intake.layouts import LayoutError, load_layouts
from xlmonitor.intake.read import ROW_COLUMNS, read_submission
from xlmonitor.programme.definition import INDICATOR_CODES, build_programme_workbook, load_programme
from xlmonitor.template.standard import build_template
from xlmonitor.validation.checks import validate_submission

DATA = Path(__file__).parent / "data"
HILVERSUM = "Hilversum Q3 2021 rapportage WaW.xlsx"
HUIZEN = "Huizen_monitor_2021.xlsx"
GM = "GM export WaW 2021.xlsx"
EXAMPLES = {"Hilversum": HILVERSUM, "Huizen": HUIZEN, "Gooise Meren": GM}
PERIOD_SPELLINGS = ["2021-Q3", "Q3 2021", "2021 Q3", "3e kwartaal 2021", "kwartaal 3 2021"]


@pytest.fixture(scope="module")
def programme(tmp_path_factory):
    path = build_programme_workbook(tmp_path_factory.mktemp("programme") / "programma.xlsx")
    return load_programme(path)


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(DATA / "expected.csv")


# -- helpers -----------------------------------------------------------------------------

def keys(submission) -> list[tuple[str, str, str]]:
    return [f.key() for f in submission.findings]


def counts(submission, programme) -> pd.DataFrame:
    """Rows as expected.csv has them: project names instead of codes, numbers as int."""
    rows = submission.rows
    frame = pd.DataFrame({
        "gemeente": rows["gemeente"],
        "periode": rows["periode"],
        "project": rows["projectcode"].map(programme.projects["naam"]),
        **{c: rows[c].map(lambda v: int(str(v))) for c in INDICATOR_CODES},
    })
    return frame.sort_values(["gemeente", "periode", "project"]).reset_index(drop=True)


def expected_for(expected: pd.DataFrame, municipality: str) -> pd.DataFrame:
    frame = expected[expected["gemeente"] == municipality]
    return frame.sort_values(["gemeente", "periode", "project"]).reset_index(drop=True)


def assert_reads_as_expected(submission, programme, expected, municipality):
    assert keys(submission) == []
    pd.testing.assert_frame_equal(counts(submission, programme),
                                  expected_for(expected, municipality), check_dtype=False)


def cell_of(submission, project: str, column: str, period: str | None = None) -> str:
    rows = submission.rows
    chosen = rows[rows["projectcode"] == project]
    if period is not None:
        chosen = chosen[chosen["periode"] == period]
    assert len(chosen) == 1, chosen
    return chosen.iloc[0][f"cel_{column}"]


def value_of(submission, project: str, column: str, period: str | None = None):
    rows = submission.rows
    chosen = rows[(rows["projectcode"] == project)
                  & ((rows["periode"] == period) if period else True)]
    return chosen.iloc[0][column]


class Book:
    """An example workbook as editable values (formulas as their cached results), written
    back with openpyxl: the variants municipalities really send."""

    def __init__(self, name: str) -> None:
        workbook = openpyxl.load_workbook(DATA / name, data_only=True)
        sheet = workbook.worksheets[0]
        self.title = sheet.title
        self.grid = [list(row) for row in sheet.iter_rows(values_only=True)]
        self.merged = [str(r) for r in sheet.merged_cells.ranges]
        self.hidden_rows: list[int] = []  # Excel row numbers

    def insert_rows(self, before: int, count: int) -> Book:
        """Insert blank rows before Excel row ``before`` (merges move along)."""
        width = len(self.grid[0])
        for _ in range(count):
            self.grid.insert(before - 1, [None] * width)
        self.merged = [_shift(r, before, count) for r in self.merged]
        return self

    def set(self, cell: str, value) -> Book:
        letters, row = coordinate_from_string(cell)
        column = column_index_from_string(letters)
        while len(self.grid) < row:
            self.grid.append([None] * len(self.grid[0]))
        for line in self.grid:
            line.extend([None] * (column - len(line)))
        self.grid[row - 1][column - 1] = value
        return self

    def replace(self, old, new) -> Book:
        self.grid = [[new if v == old else v for v in row] for row in self.grid]
        return self

    def map_rows(self, first: int, function, last: int | None = None) -> Book:
        """Apply ``function(value)`` to every cell of Excel rows ``first``..``last``."""
        last = last or len(self.grid)
        for r in range(first - 1, last):
            self.grid[r] = [function(v) for v in self.grid[r]]
        return self

    def save(self, path: Path) -> Path:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = self.title
        for r, row in enumerate(self.grid, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(r, c, value)
        for merged in self.merged:
            sheet.merge_cells(merged)
        for row in self.hidden_rows:
            sheet.row_dimensions[row].hidden = True
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook.save(path)
        return path


def _shift(ref: str, before: int, count: int) -> str:
    start, end = ref.split(":")

    def move(cell: str) -> str:
        letters, row = coordinate_from_string(cell)
        return f"{letters}{row + count if row >= before else row}"

    return f"{move(start)}:{move(end)}"


def standard_workbook(path: Path, programme, *, municipality="Laren", period="2021-Q3",
                      period_text=None, values=None, header_offset=0, sheet_title="Invoer",
                      filled_on=date(2021, 10, 12)) -> Path:
    """The standard template as docs/architecture.md defines it, filled in."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    o = header_offset
    sheet["A1"] = f"Kwartaalrapportage {programme.settings['naam']}"
    sheet.cell(3 + o, 1, "Gemeente")
    sheet.cell(3 + o, 2, municipality)
    sheet.cell(4 + o, 1, "Periode")
    sheet.cell(4 + o, 2, period_text or period)
    sheet.cell(4 + o, 3, "1 juli t/m 30 september 2021")
    sheet.cell(5 + o, 1, "Ingevuld op")
    if filled_on is not None:
        sheet.cell(5 + o, 2, datetime(filled_on.year, filled_on.month, filled_on.day))
    sheet.cell(5 + o, 3, "datum waarop u dit bestand invult (dag-maand-jaar)")
    headers = ["Projectcode", "Project", "Aanmeldingen", "Gestarte trajecten",
               "Afgeronde scholing", "Bemiddeld naar werk", "Toelichting"]
    for c, text in enumerate(headers, start=1):
        sheet.cell(7 + o, c, text)
    projects = programme.active_projects(period)
    for r, (code, project) in enumerate(projects.iterrows(), start=8 + o):
        sheet.cell(r, 1, code)
        sheet.cell(r, 2, project["naam"])
        for c, value in enumerate((values or {}).get(code, ()), start=3):
            if value is not None:
                sheet.cell(r, c, value)
    meta = workbook.create_sheet("_xlmonitor")
    for r, (key, value) in enumerate([("sjabloonversie", "1.0"), ("gemeente", municipality),
                                      ("gemeente_code", programme.cbs_code(municipality)),
                                      ("periode", period),
                                      ("programma", programme.settings["naam"])], start=1):
        meta.cell(r, 1, key)
        meta.cell(r, 2, value)
    meta.sheet_state = "veryHidden"
    workbook.save(path)
    return path


STANDARD_VALUES = {"ZORGSTART": (10, 8, 3, 2, "loopt goed"), "HOUT": (5, 4, None, 1),
                   "AI": (7, 5, 2, 0), "GGZ": (3, 2, 1, 1)}


# -- the three example layouts -----------------------------------------------------------

@pytest.mark.parametrize("municipality", list(EXAMPLES))
def test_example_reads_to_hand_count(programme, expected, municipality):
    submission = read_submission(DATA / EXAMPLES[municipality], programme)
    assert_reads_as_expected(submission, programme, expected, municipality)
    assert submission.municipality == municipality
    assert list(submission.rows.columns) == ROW_COLUMNS
    assert submission.rows["projectcode"].notna().all()
    assert len(submission.sha256) == 64 and submission.size > 0
    assert submission.modified is not None


def test_hilversum_cells_names_and_total(programme):
    submission = read_submission(DATA / HILVERSUM, programme)
    assert (submission.layout, submission.sheet) == ("hilversum", "Rapportage Q3 2021")
    assert submission.municipality_cell == "A1"
    assert cell_of(submission, "ZORGSTART", "aanmeldingen") == "B7"
    assert cell_of(submission, "GVWD", "bemiddeld_naar_werk") == "E15"
    row = submission.rows.iloc[0]
    assert (row["project_tekst"], row["cel_project"], row["cel_periode"]) == \
        ("Zorgstart", "A7", "A3")
    assert row["toelichting"] is None and row["cel_toelichting"] == "F7"
    # the Totaal row (SUM formulas) is kept apart, with its cached values and cells
    total = submission.totals.iloc[0]
    assert (total["project_tekst"], total["aanmeldingen"], total["cel_aanmeldingen"]) == \
        ("Totaal", 119, "B16")
    assert len(submission.totals) == 1


def test_huizen_cells_and_quarters(programme):
    submission = read_submission(DATA / HUIZEN, programme)
    assert (submission.layout, submission.sheet, submission.municipality_cell) == \
        ("huizen", "2021", "C1")
    assert submission.periods == ["2021-Q1", "2021-Q2", "2021-Q3"]  # Q4 not yet reported
    assert cell_of(submission, "HOUT", "gestarte_trajecten", "2021-Q3") == "L9"
    assert value_of(submission, "HOUT", "gestarte_trajecten", "2021-Q3") == 9
    assert cell_of(submission, "HOUT", "project", "2021-Q3") == "B9"
    assert cell_of(submission, "HOUT", "periode", "2021-Q3") == "K3"
    assert submission.totals.empty


def test_gooise_meren_cells(programme):
    submission = read_submission(DATA / GM, programme)
    assert (submission.layout, submission.sheet, submission.municipality_cell) == \
        ("gooise-meren", "Export", "A2")
    assert cell_of(submission, "HOUT", "bemiddeld_naar_werk", "2021-Q2") == "F21"
    assert value_of(submission, "HOUT", "bemiddeld_naar_werk", "2021-Q2") == 4
    assert cell_of(submission, "HOUT", "project", "2021-Q2") == "D18"
    assert cell_of(submission, "HOUT", "periode", "2021-Q2") == "C18"


# -- variants of the examples ------------------------------------------------------------

@pytest.mark.parametrize("municipality, spot", [
    ("Hilversum", ("ZORGSTART", "aanmeldingen", None, "B9")),
    ("Huizen", ("HOUT", "gestarte_trajecten", "2021-Q3", "L11")),
    ("Gooise Meren", ("HOUT", "bemiddeld_naar_werk", "2021-Q2", "F23")),
])
def test_header_moved_down_two_rows(tmp_path, programme, expected, municipality, spot):
    name = EXAMPLES[municipality]
    path = Book(name).insert_rows(1, 2).save(tmp_path / name)
    submission = read_submission(path, programme)
    assert_reads_as_expected(submission, programme, expected, municipality)
    project, column, period, cell = spot
    assert cell_of(submission, project, column, period) == cell


@pytest.mark.parametrize("municipality", list(EXAMPLES))
def test_sheet_renamed(tmp_path, programme, expected, municipality):
    book = Book(EXAMPLES[municipality])
    book.title = "Blad1"
    submission = read_submission(book.save(tmp_path / EXAMPLES[municipality]), programme)
    assert_reads_as_expected(submission, programme, expected, municipality)
    assert submission.sheet == "Blad1"


def test_export_columns_shuffled(tmp_path, programme, expected):
    book = Book(GM)
    order = [5, 3, 0, 4, 2, 1]  # Aantal, Project, Gemeente, Indicator, Kwartaal, Jaar
    book.grid = [[row[i] for i in order] for row in book.grid]
    submission = read_submission(book.save(tmp_path / GM), programme)
    assert_reads_as_expected(submission, programme, expected, "Gooise Meren")
    assert cell_of(submission, "HOUT", "bemiddeld_naar_werk", "2021-Q2") == "A21"
    assert cell_of(submission, "HOUT", "project", "2021-Q2") == "B18"


@pytest.mark.parametrize("municipality, first_data_row", [
    ("Hilversum", 7), ("Huizen", 5), ("Gooise Meren", 2)])
def test_numbers_typed_as_text_stay_text(tmp_path, programme, expected, municipality,
                                         first_data_row):
    book = Book(EXAMPLES[municipality]).map_rows(
        first_data_row, lambda v: f" {v} " if isinstance(v, int | float) else v)
    submission = read_submission(book.save(tmp_path / EXAMPLES[municipality]), programme)
    assert_reads_as_expected(submission, programme, expected, municipality)
    values = submission.rows[list(INDICATOR_CODES)].stack()
    assert all(isinstance(v, str) and v == v.strip() for v in values)


@pytest.mark.parametrize("municipality, header_row", [
    ("Hilversum", 6), ("Huizen", 4), ("Gooise Meren", 1)])
def test_header_in_capitals_with_stray_spaces(tmp_path, programme, expected, municipality,
                                              header_row):
    book = Book(EXAMPLES[municipality]).map_rows(
        header_row, lambda v: f"  {v.upper().replace(' ', '  ')} " if isinstance(v, str)
        else v, last=header_row)
    submission = read_submission(book.save(tmp_path / EXAMPLES[municipality]), programme)
    assert_reads_as_expected(submission, programme, expected, municipality)


def test_hilversum_alias_spellings(tmp_path, programme, expected):
    book = Book(HILVERSUM)
    for old, new in [("Project", "Projectnaam"), ("Aanmeldingen", "Aanmelding"),
                     ("Gestart", "start traject"), ("Scholing afgerond", "Afgeronde scholing"),
                     ("Naar werk", "Werk"), ("Opmerkingen", "Toelichting"),
                     ("Zorgstart", "Zorg Start"), ("Wijk Leerbedrijf", "WLB"),
                     ("AI-project (annoteren)", "AI project"), ("GGZ / IPS", "IPS"),
                     ("GV werkt door", "G&V werkt door")]:
        book.replace(old, new)
    submission = read_submission(book.save(tmp_path / HILVERSUM), programme)
    assert_reads_as_expected(submission, programme, expected, "Hilversum")
    assert submission.layout == "hilversum"


def test_gooise_meren_alias_spellings(tmp_path, programme, expected):
    book = Book(GM)
    for old, new in [("Project", "Projectnaam"), ("Aantal", "Waarde"),
                     ("aanmelding", "Aanmeldingen"), ("start traject", "Gestart"),
                     ("uitstroom werk", "Naar  werk"), ("Hout", "Tomin hout")]:
        book.replace(old, new)
    submission = read_submission(book.save(tmp_path / GM), programme)
    assert_reads_as_expected(submission, programme, expected, "Gooise Meren")


def test_huizen_alias_spellings(tmp_path, programme, expected):
    book = Book(HUIZEN)
    for old, new in [("Aanm.", "Aanmeldingen"), ("Gestart", "Gestarte trajecten"),
                     ("Scholing", "Afgeronde scholing"), ("Werk", "Naar werk"),
                     ("Gemeente:", "Gemeente")]:
        book.replace(old, new)
    submission = read_submission(book.save(tmp_path / HUIZEN), programme)
    assert_reads_as_expected(submission, programme, expected, "Huizen")


@pytest.mark.parametrize("spelling", PERIOD_SPELLINGS)
def test_hilversum_period_spellings(tmp_path, programme, expected, spelling):
    book = Book(HILVERSUM).set("A3", f"Periode: {spelling}")
    book.title = "Blad1"  # so the sheet name cannot supply the period
    submission = read_submission(book.save(tmp_path / "Hilversum rapportage.xlsx"), programme)
    assert_reads_as_expected(submission, programme, expected, "Hilversum")
    assert set(submission.rows["cel_periode"]) == {"A3"}


@pytest.mark.parametrize("spelling", PERIOD_SPELLINGS)
def test_standard_template_period_spellings(tmp_path, programme, spelling):
    path = standard_workbook(tmp_path / "laren.xlsx", programme, period_text=spelling,
                             values=STANDARD_VALUES)
    submission = read_submission(path, programme)
    assert keys(submission) == []
    assert submission.periods == ["2021-Q3"]
    assert set(submission.rows["cel_periode"]) == {"B4"}


@pytest.mark.parametrize("quarter, year", [
    ("Q2", 2021), ("2", 2021), ("2e kwartaal", 2021), ("kwartaal 2", 2021),
    ("2021-Q2", None), ("Q2 2021", None), ("2021 Q2", None), ("2e kwartaal 2021", None),
    ("kwartaal 2 2021", None)])
def test_export_quarter_spellings(tmp_path, programme, expected, quarter, year):
    book = Book(GM)
    book.grid = [row if r == 0 else [row[0], year if year else None,
                                     quarter if row[2] == 2 else row[2], *row[3:]]
                 for r, row in enumerate(book.grid)]
    submission = read_submission(book.save(tmp_path / GM), programme)
    if year is None:  # the Q3 lines keep a bare "3": the year comes from the file name
        assert submission.periods == ["2021-Q2", "2021-Q3"]
    assert_reads_as_expected(submission, programme, expected, "Gooise Meren")


@pytest.mark.parametrize("labels", [
    ("1e kwartaal", "2e kwartaal", "3e kwartaal", "4e kwartaal"),
    ("kwartaal 1", "kwartaal 2", "kwartaal 3", "kwartaal 4"),
    ("2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4"),
    ("Q1 2021", "Q2 2021", "Q3 2021", "Q4 2021")])
def test_huizen_quarter_label_spellings(tmp_path, programme, expected, labels):
    book = Book(HUIZEN)
    for old, new in zip(("Q1", "Q2", "Q3", "Q4"), labels, strict=True):
        book.replace(old, new)
    submission = read_submission(book.save(tmp_path / HUIZEN), programme)
    assert_reads_as_expected(submission, programme, expected, "Huizen")


def test_hidden_rows_are_read(tmp_path, programme, expected):
    """A hidden row still holds figures (Excel's SUM counts it too): read it."""
    book = Book(HILVERSUM).insert_rows(5, 1)
    book.hidden_rows = [5, 10]  # a blank line and the Hout row
    path = book.save(tmp_path / HILVERSUM)
    assert openpyxl.load_workbook(path).active.row_dimensions[10].hidden
    submission = read_submission(path, programme)
    assert_reads_as_expected(submission, programme, expected, "Hilversum")
    assert cell_of(submission, "HOUT", "aanmeldingen") == "B12"


@pytest.fixture(scope="module")
def converted(tmp_path_factory, soffice):
    """The examples saved as .ods and .xls by LibreOffice."""
    from xlmonitor.libreoffice import convert

    outdir = tmp_path_factory.mktemp("converted")
    result = {}
    for municipality, name in EXAMPLES.items():
        for fmt in ("ods", "xls"):
            result[municipality, fmt] = convert(DATA / name, fmt, outdir)
            assert result[municipality, fmt].is_file()
    return result


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["ods", "xls"])
@pytest.mark.parametrize("municipality", list(EXAMPLES))
def test_ods_and_xls(converted, programme, expected, municipality, fmt):
    submission = read_submission(converted[municipality, fmt], programme)
    assert_reads_as_expected(submission, programme, expected, municipality)
    original = read_submission(DATA / EXAMPLES[municipality], programme)
    cells = [c for c in ROW_COLUMNS if c.startswith("cel_")]
    pd.testing.assert_frame_equal(submission.rows[cells], original.rows[cells])
    pd.testing.assert_frame_equal(submission.totals[cells], original.totals[cells])


# -- the standard template ---------------------------------------------------------------

def test_standard_template(tmp_path, programme):
    path = standard_workbook(tmp_path / "Monitor_Laren_2021-Q3.xlsx", programme,
                             values=STANDARD_VALUES)
    submission = read_submission(path, programme)
    assert keys(submission) == []
    assert (submission.layout, submission.sheet, submission.municipality,
            submission.municipality_cell) == ("standaard", "Invoer", "Laren", "B3")
    assert (submission.template_version, submission.submitted_on) == ("1.0", date(2021, 10, 12))
    rows = submission.rows.set_index("projectcode")
    assert list(rows.index) == list(programme.active_projects("2021-Q3").index)
    zorg = rows.loc["ZORGSTART"]
    assert (zorg["aanmeldingen"], zorg["cel_aanmeldingen"], zorg["toelichting"],
            zorg["cel_toelichting"], zorg["cel_project"], zorg["cel_periode"]) == \
        (10, "C8", "loopt goed", "G8", "B8", "B4")
    # a blank input cell is a missing value (validate warns), with its cell
    hout = rows.loc["HOUT"]
    assert hout["afgeronde_scholing"] is None and hout["cel_afgeronde_scholing"] == "E10"
    assert rows.loc["WAARDETAS", list(INDICATOR_CODES)].isna().all()


def test_standard_template_moved_and_renamed(tmp_path, programme):
    path = standard_workbook(tmp_path / "laren.xlsx", programme, values=STANDARD_VALUES,
                             header_offset=2, sheet_title="Kwartaal")
    submission = read_submission(path, programme)
    assert keys(submission) == []
    assert (submission.layout, submission.municipality_cell) == ("standaard", "B5")
    assert cell_of(submission, "ZORGSTART", "aanmeldingen") == "C10"


def test_standard_template_without_fill_in_date(tmp_path, programme):
    path = standard_workbook(tmp_path / "laren.xlsx", programme, filled_on=None)
    submission = read_submission(path, programme)
    assert submission.submitted_on is None  # the hint text in C5 is not a date
    assert keys(submission) == []


def test_built_template_reads_back(tmp_path, programme):
    template = pytest.importorskip("xlmonitor.template.standard")
    path = template.build_template(programme, "Eemnes", "2021-Q3", tmp_path / "eemnes.xlsx")
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Invoer"]
    sheet["B5"] = datetime(2021, 10, 5)
    sheet["C8"], sheet["D8"], sheet["E8"], sheet["F8"] = 4, 3, 2, 1
    workbook.save(path)
    submission = read_submission(path, programme)
    assert keys(submission) == []
    assert (submission.layout, submission.municipality, submission.periods,
            submission.submitted_on, submission.template_version) == \
        ("standaard", "Eemnes", ["2021-Q3"], date(2021, 10, 5), "1.0")
    first = submission.rows.iloc[0]
    assert [first[c] for c in INDICATOR_CODES] == [4, 3, 2, 1]
    assert first["cel_aanmeldingen"] == "C8"
    assert len(submission.rows) == len(programme.active_projects("2021-Q3"))


def filled_template(path: Path, programme, municipality: str, period: str,
                    **cells) -> Path:
    """A template written by xlmonitor for ``municipality`` and ``period``, filled in with 1
    everywhere (obeys every rule), then ``cells`` (``B4="2021-Q3"``) overtyped: what a
    municipality does after removing the sheet protection."""
    build_template(programme, municipality, period, path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Invoer"]
    sheet["B5"] = datetime(2021, 10, 5)
    for r in range(8, 8 + len(programme.active_projects(period))):
        for column in "CDEF":
            sheet[f"{column}{r}"] = 1
    for cell, value in cells.items():
        sheet[cell] = value
    workbook.save(path)
    return path


@pytest.mark.parametrize("cell, typed, what, made_for", [
    ("B4", "2021-Q3", "kwartaal", "2021-Q2"),  # last quarter's file copied, period retyped
    ("B3", "Laren", "gemeente", "Huizen"),     # the neighbour's file
])
def test_template_overtyped_is_reported_at_the_cell(tmp_path, programme, cell, typed, what,
                                                    made_for):
    path = filled_template(tmp_path / "Monitor_Huizen_2021-Q2.xlsx", programme, "Huizen",
                           "2021-Q2", **{cell: typed})
    submission = read_submission(path, programme)
    assert keys(submission) == [("Invoer", cell, "sjabloon-gewijzigd")]
    [found] = submission.findings
    assert found.severity == "fout"  # none of its figures count until someone has looked
    assert found.message.startswith(
        f"Cel {cell} (blad Invoer): hier staat {what} {typed}, maar dit bestand is gemaakt "
        f"voor {what} {made_for}.")
    # The rows keep what was typed: the rejected file is listed where its sender meant it.
    assert (submission.municipality, submission.periods) == \
        ({"B3": "Laren", "B4": "Huizen"}[cell], [{"B3": "2021-Q2", "B4": "2021-Q3"}[cell]])
    assert validate_submission(submission, programme).has_errors


def test_template_with_both_overtyped(tmp_path, programme):
    path = filled_template(tmp_path / "kopie.xlsx", programme, "Huizen", "2021-Q2",
                           B3="Laren", B4="Q3 2021")
    submission = read_submission(path, programme)
    assert keys(submission) == [("Invoer", "B3", "sjabloon-gewijzigd"),
                                ("Invoer", "B4", "sjabloon-gewijzigd")]
    assert "hier staat kwartaal 2021-Q3" in submission.findings[1].message


@pytest.mark.parametrize("cells", [
    {"B3": "GM0406"}, {"B3": "gemeente huizen"}, {"B4": "2e kwartaal 2021"},
    {"B4": "Q2 2021"},
    {"B4": None},  # emptied: the period comes from the metadata itself
])
def test_template_same_value_written_differently_is_not_a_change(tmp_path, programme, cells):
    path = filled_template(tmp_path / "huizen.xlsx", programme, "Huizen", "2021-Q2", **cells)
    submission = read_submission(path, programme)
    assert keys(submission) == []
    assert (submission.municipality, submission.periods) == ("Huizen", ["2021-Q2"])


# -- findings ----------------------------------------------------------------------------

def test_zero_bytes(tmp_path, programme):
    path = tmp_path / "leeg.xlsx"
    path.write_bytes(b"")
    submission = read_submission(path, programme)
    assert keys(submission) == [("", "", "bestand-leeg")]
    assert submission.rows.empty and submission.sha256


def test_text_renamed_xlsx(tmp_path, programme):
    path = tmp_path / "cijfers.xlsx"
    path.write_text("gemeente;project;aantal\nHuizen;Hout;3\n", "utf-8")
    submission = read_submission(path, programme)
    assert keys(submission) == [("", "", "bestand-onleesbaar")]
    assert "geen Excel" in submission.findings[0].message


def test_truncated_zip(tmp_path, programme):
    path = tmp_path / HILVERSUM
    path.write_bytes((DATA / HILVERSUM).read_bytes()[:3000])
    submission = read_submission(path, programme)
    assert keys(submission) == [("", "", "bestand-onleesbaar")]
    assert "beschadigd" in submission.findings[0].message


def test_workbook_without_cells(tmp_path, programme):
    path = tmp_path / "leeg.xlsx"
    openpyxl.Workbook().save(path)
    assert keys(read_submission(path, programme)) == [("", "", "bestand-leeg")]


def test_password_protected_ole_container(tmp_path, programme):
    # Excel wraps an encrypted .xlsx in an OLE compound file with an EncryptedPackage stream
    path = tmp_path / "beveiligd.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
                     + "EncryptedPackage".encode("utf-16-le") + bytes(500))
    assert keys(read_submission(path, programme)) == [("", "", "bestand-versleuteld")]


def test_password_protected_xlsx(tmp_path, programme):
    crypto = pytest.importorskip("msoffcrypto.format.ooxml")
    path = tmp_path / "beveiligd.xlsx"
    with open(DATA / HUIZEN, "rb") as plain, open(path, "wb") as out:
        crypto.OOXMLFile(plain).encrypt("geheim", out)
    assert keys(read_submission(path, programme)) == [("", "", "bestand-versleuteld")]


def test_damaged_xls_that_aborts_calamine(programme):
    """One flipped byte (offset 3754) in a LibreOffice .xls makes calamine 0.37 request 3 TB
    and abort the process — uncatchable in Python. Intake reads .xls in a child process, so
    only the child dies."""
    submission = read_submission(DATA / "damaged-xls-aborts-calamine.xls", programme)
    assert keys(submission) == [("", "", "bestand-onleesbaar")]
    assert "exit code" in submission.findings[0].detail


def test_value_in_last_cell_of_the_sheet(tmp_path, programme):
    """A 5 KB file with one value in XFD1048576 is a grid of 17 billion cells: calamine would
    abort the process trying to allocate it, so intake refuses it first."""
    book = Book(HILVERSUM).set("A1", "Gemeente Hilversum")
    path = book.save(tmp_path / HILVERSUM)
    workbook = openpyxl.load_workbook(path)
    workbook.active["XFD1048576"] = "x"
    workbook.save(path)
    submission = read_submission(path, programme)
    assert keys(submission) == [("", "", "limiet-overschreden")]
    assert "XFD1048576" in submission.findings[0].message


def test_unknown_layout_names_closest_and_missing(tmp_path, programme):
    book = Book(HILVERSUM)
    for old in ("Gestart", "Scholing afgerond", "Naar werk"):
        book.replace(old, None)
    submission = read_submission(book.save(tmp_path / HILVERSUM), programme)
    assert keys(submission) == [("Rapportage Q3 2021", "A6", "indeling-onbekend")]
    message = submission.findings[0].message
    assert "de kwartaalrapportage van Hilversum" in message
    assert "'Gestart', 'Scholing afgerond', 'Naar werk'" in message
    assert submission.rows.empty


def test_missing_column(tmp_path, programme):
    submission = read_submission(Book(HILVERSUM).replace("Naar werk", None)
                                 .save(tmp_path / HILVERSUM), programme)
    assert keys(submission) == [("Rapportage Q3 2021", "A6", "kolom-ontbreekt")]
    assert "'Naar werk'" in submission.findings[0].message
    assert submission.rows["bemiddeld_naar_werk"].isna().all()
    assert len(submission.rows) == 9


def test_unknown_project_suggests(tmp_path, programme):
    submission = read_submission(Book(HILVERSUM).set("A7", "Zorgstrat")
                                 .save(tmp_path / HILVERSUM), programme)
    assert keys(submission) == [("Rapportage Q3 2021", "A7", "project-onbekend")]
    assert "Bedoelde u 'ZorgStart'?" in submission.findings[0].message
    row = submission.rows.iloc[0]
    assert (row["projectcode"], row["project_tekst"], row["aanmeldingen"]) == \
        (None, "Zorgstrat", 21)


def test_footnote_below_table_is_not_a_project(tmp_path, programme, expected):
    book = Book(HILVERSUM).set("A18", "* cijfers over Q3 zijn voorlopig")
    submission = read_submission(book.save(tmp_path / HILVERSUM), programme)
    assert_reads_as_expected(submission, programme, expected, "Hilversum")


def test_unknown_municipality_label(tmp_path, programme):
    path = Book(HUIZEN).set("C1", "Huizem").save(tmp_path / "monitor_2021.xlsx")
    submission = read_submission(path, programme)
    assert keys(submission) == [("2021", "C1", "gemeente-onbekend")]
    assert "'Huizem'" in submission.findings[0].message
    assert submission.rows["gemeente"].isna().all() and submission.municipality is None


def test_misspelt_title_municipality(tmp_path, programme):
    path = Book(HILVERSUM).set("A1", "Gemeente Hilverson").save(tmp_path / "Q3 2021.xlsx")
    assert keys(read_submission(path, programme)) == \
        [("Rapportage Q3 2021", "A1", "gemeente-onbekend")]


def test_missing_municipality(tmp_path, programme):
    path = Book(HUIZEN).set("B1", None).set("C1", None).save(tmp_path / "monitor_2021.xlsx")
    assert keys(read_submission(path, programme)) == [("2021", "", "gemeente-ontbreekt")]
    # the label is there, its value is not: point at the empty cell
    path = Book(HUIZEN).set("C1", None).save(tmp_path / "monitor_2021.xlsx")
    submission = read_submission(path, programme)
    assert keys(submission) == [("2021", "C1", "gemeente-ontbreekt")]
    assert "in cel C1 (blad 2021)" in submission.findings[0].message


def test_standard_template_without_period(tmp_path, programme):
    path = standard_workbook(tmp_path / "laren.xlsx", programme, period_text=" ")
    workbook = openpyxl.load_workbook(path)
    workbook["_xlmonitor"]["B4"] = None
    workbook.save(path)
    submission = read_submission(path, programme)
    assert keys(submission) == [("Invoer", "B4", "periode-ontbreekt")]
    assert submission.rows["periode"].isna().all()


def test_municipality_from_file_name(tmp_path, programme, expected):
    path = Book(HUIZEN).set("B1", None).set("C1", None).save(tmp_path / HUIZEN)
    submission = read_submission(path, programme)
    assert_reads_as_expected(submission, programme, expected, "Huizen")
    assert submission.municipality_cell == ""


def test_unknown_municipality_in_export_column(tmp_path, programme):
    book = Book(GM).set("A6", "Gooise Mren").set("A7", "Gooise Mren")
    submission = read_submission(book.save(tmp_path / GM), programme)
    assert keys(submission) == [("Export", "A6", "gemeente-onbekend")]
    assert submission.municipality == "Gooise Meren"
    assert submission.rows["gemeente"].isna().sum() == 1  # the AI 2021-Q2 row


def test_invalid_period(tmp_path, programme):
    book = Book(HILVERSUM).set("A3", "Periode: 5e kwartaal 2021")
    book.title = "Blad1"
    submission = read_submission(book.save(tmp_path / "Hilversum.xlsx"), programme)
    assert keys(submission) == [("Blad1", "A3", "periode-ongeldig")]
    assert "'5e kwartaal 2021'" in submission.findings[0].message
    assert submission.rows["periode"].isna().all() and len(submission.rows) == 9


def test_missing_period(tmp_path, programme):
    book = Book(HILVERSUM).set("A3", None)
    book.title = "Blad1"
    submission = read_submission(book.save(tmp_path / "Hilversum.xlsx"), programme)
    assert keys(submission) == [("Blad1", "", "periode-ontbreekt")]


def test_invalid_quarter_in_export(tmp_path, programme):
    book = Book(GM).set("C2", "Q5")
    submission = read_submission(book.save(tmp_path / GM), programme)
    assert keys(submission) == [("Export", "C2", "periode-ongeldig")]


def test_unknown_indicator_word(tmp_path, programme):
    book = Book(GM).set("E5", "uitstroom opleiding")
    submission = read_submission(book.save(tmp_path / GM), programme)
    assert keys(submission) == [("Export", "E5", "indicator-onbekend")]
    assert value_of(submission, "JONGEREN", "bemiddeld_naar_werk", "2021-Q2") is None


def test_export_line_twice_gives_two_rows(tmp_path, programme):
    book = Book(GM)
    book.grid.append(list(book.grid[20]))  # Hout 2021-Q2 uitstroom werk again, row 74
    submission = read_submission(book.save(tmp_path / GM), programme)
    hout = submission.rows[(submission.rows["projectcode"] == "HOUT")
                           & (submission.rows["periode"] == "2021-Q2")]
    assert list(hout["cel_bemiddeld_naar_werk"]) == ["F21", "F74"]  # validate: dubbele-rij


def test_formula_without_cached_value(tmp_path, programme):
    # openpyxl keeps formulas but drops their results: nobody opened the file in Excel
    workbook = openpyxl.load_workbook(DATA / HILVERSUM)
    path = tmp_path / HILVERSUM
    workbook.save(path)
    submission = read_submission(path, programme)
    assert keys(submission) == [("Rapportage Q3 2021", c, "formule-zonder-waarde")
                                for c in ("B16", "C16", "D16", "E16")]
    assert submission.totals.iloc[0]["aanmeldingen"] is None


def _add_to_zip(source: Path, target: Path, members: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(buffer, "w") as new:
        for item in old.infolist():
            new.writestr(item, old.read(item.filename))
        for name, data in members.items():
            new.writestr(name, data)
    target.write_bytes(buffer.getvalue())
    return target


def test_macro_workbook_is_read_not_run(tmp_path, programme, expected):
    path = _add_to_zip(DATA / HILVERSUM, tmp_path / "Hilversum Q3 2021.xlsm",
                       {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not run"})
    submission = read_submission(path, programme)
    assert keys(submission) == [("", "", "macro-aanwezig")]
    assert submission.findings[0].severity == "waarschuwing"
    submission.findings.clear()
    assert_reads_as_expected(submission, programme, expected, "Hilversum")


def test_external_link_is_reported_by_file_name_only(tmp_path, programme):
    rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="x" '
            'Target="file:///C:/Users/jjansen/Documents/bron.xlsx" TargetMode="External"/>'
            '</Relationships>')
    path = _add_to_zip(DATA / HUIZEN, tmp_path / HUIZEN,
                       {"xl/externalLinks/_rels/externalLink1.xml.rels": rels.encode()})
    submission = read_submission(path, programme)
    assert keys(submission) == [("", "", "externe-koppeling")]
    assert "bron.xlsx" in submission.findings[0].message
    assert "jjansen" not in submission.findings[0].message


def test_huizen_quarter_partly_filled_gives_missing_values(tmp_path, programme):
    book = Book(HUIZEN).set("O9", 2)  # Q4: only Hout's aanmeldingen so far
    submission = read_submission(book.save(tmp_path / HUIZEN), programme)
    q4 = submission.rows[submission.rows["periode"] == "2021-Q4"]
    assert len(q4) == 9
    assert q4[list(INDICATOR_CODES)].notna().sum().sum() == 1


# -- layout specs ------------------------------------------------------------------------

def test_shipped_layouts():
    specs = {spec.name: spec for spec in load_layouts()}
    assert set(specs) == {"standaard", "hilversum", "huizen", "gooise-meren"}
    assert {s.orientation for s in specs.values()} == {"wide", "quarter-groups", "long"}


def test_new_layout_is_a_toml_file(tmp_path, programme):
    """A municipality with its own workbook gets a spec file, not code."""
    folder = tmp_path / "layouts"
    shutil.copytree(Path(load_layouts()[0].path).parent, folder)
    (folder / "wijdemeren.toml").write_text('''
name = "wijdemeren"
title = "het overzicht van Wijdemeren"
orientation = "wide"
[columns]
project = ["Activiteit"]
aanmeldingen = ["Instroom"]
gestarte_trajecten = ["Deelnemers gestart"]
afgeronde_scholing = ["Diploma"]
bemiddeld_naar_werk = ["Baan"]
[municipality]
from = ["cell:B1"]
[period]
from = ["cell:D1"]
''', "utf-8")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Gemeente", "Wijdemeren", "Kwartaal", "Q3 2021"])
    sheet.append(["Activiteit", "Instroom", "Deelnemers gestart", "Diploma", "Baan"])
    sheet.append(["Waardetas", 3, 2, 1, 0])
    workbook.save(tmp_path / "w.xlsx")
    submission = read_submission(tmp_path / "w.xlsx", programme, load_layouts(folder))
    assert keys(submission) == []
    assert (submission.layout, submission.municipality, submission.municipality_cell) == \
        ("wijdemeren", "Wijdemeren", "B1")
    row = submission.rows.iloc[0]
    assert (row["projectcode"], row["periode"], row["cel_periode"], row["cel_aanmeldingen"]) \
        == ("WAARDETAS", "2021-Q3", "D1", "B3")


@pytest.mark.parametrize("text, complaint", [
    ('orientation = "diagonal"', "orientation"),
    ('colour = "red"', "colour"),
    ('[columns]\nproject = ["Project"]\naantal_x = ["X"]', "aantal_x"),
    ('required = ["project"]\n[columns]\nproject = ["Project"]\n'
     '[municipality]\nfrom = ["telepathy"]', "telepathy"),
])
def test_bad_layout_spec_names_the_key(tmp_path, text, complaint):
    (tmp_path / "kapot.toml").write_text(text, "utf-8")
    with pytest.raises(LayoutError, match=complaint):
        load_layouts(tmp_path)


@pytest.mark.parametrize("empty_value", ["", "<v></v>", "<v/>"],
                         ids=["no-v", "empty-v-as-openpyxl-with-lxml-writes", "self-closed-v"])
def test_formula_without_cached_value_however_the_writer_spells_it(tmp_path, programme,
                                                                   empty_value):
    """openpyxl writes no <v> for an uncalculated formula, or <v></v> when lxml is installed;
    calamine reads every spelling as an empty cell, so each is formule-zonder-waarde."""
    import re

    workbook = openpyxl.load_workbook(DATA / HILVERSUM)
    saved = tmp_path / "opgeslagen.xlsx"
    workbook.save(saved)
    with zipfile.ZipFile(saved) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    members[sheet] = re.sub(rb"(</f>)(?:<v></v>|<v/>)?", rb"\1" + empty_value.encode(),
                            members[sheet])
    path = tmp_path / HILVERSUM
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    submission = read_submission(path, programme)
    assert keys(submission) == [("Rapportage Q3 2021", c, "formule-zonder-waarde")
                                for c in ("B16", "C16", "D16", "E16")]
