"""Findings grouped into cell ranges (issue 14, point 3): a half-filled standard template gives a
handful of lines, not one per empty cell, on the command line, in ``--json``, on the feedback
copy's Controle sheet and on the master's Validatie sheet; the copy still marks and comments
every cell."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from xlmonitor.cli import main
from xlmonitor.findings import catalogue, cell_ranges, finding, group_findings
from xlmonitor.programme.definition import load_programme
from xlmonitor.template.standard import build_template

YELLOW = "FFEB9C"
#: The Huizen template for 2021-Q3 lists 13 projects in rows 8-20, counts in C-F.
FILLED = {f"{c}{r}": n for r in (8, 9, 10) for c, n in zip("CDEF", (3, 2, 1, 1), strict=True)
          } | {"F9": None}
EMPTY_CELLS = ["F9", *(f"{c}{r}" for r in range(11, 21) for c in "CDEF")]


@pytest.fixture(scope="module")
def programme():
    return load_programme()


def half_filled(folder: Path, programme, municipality: str = "Huizen",
                values: dict | None = None) -> Path:
    """A standard template whose first three project rows are filled (but F9), the other
    ten left blank: 41 empty count cells."""
    path = build_template(programme, municipality, "2021-Q3",
                          folder / f"Monitor_{municipality}_2021-Q3.xlsx")
    workbook = openpyxl.load_workbook(path)
    for cell, value in (FILLED if values is None else values).items():
        workbook["Invoer"][cell] = value
    workbook.save(path)
    return path


@pytest.mark.parametrize("cells, expected", [
    (["C12"], "C12"),
    (["C12", "D12", "C13", "D13", "F20"], "C12:D13, F20"),
    ([f"{c}{r}" for c in "CDEF" for r in range(12, 21)], "C12:F20"),
    (["C1", "C2", "D2"], "C1, C2:D2"),   # not a rectangle: two ranges, by rows on a tie
    (["Z1", "AA1", "AB1", "Z2"], "Z1:AB1, Z2"),
])
def test_cells_become_rectangular_ranges(cells, expected):
    assert cell_ranges(cells) == expected
    covered = {(r, c) for part in expected.split(", ")
               for c0, r0, c1, r1 in [range_boundaries(part)]
               for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    assert len(covered) == len(cells)  # every cell once, nothing else


def test_only_the_same_code_sheet_file_and_parameters_group():
    empty = [finding("waarde-ontbreekt", file="a.xlsx", sheet="Invoer", cell=c)
             for c in ("C8", "D8", "C9", "D9")]
    other_sheet = finding("waarde-ontbreekt", file="a.xlsx", sheet="Blad2", cell="C8")
    other_file = finding("waarde-ontbreekt", file="b.xlsx", sheet="Invoer", cell="C8")
    negative = [finding("negatief-getal", file="a.xlsx", sheet="Invoer", cell=c, value=v)
                for c, v in (("E8", -1), ("E9", -4))]
    inactive = [finding("project-niet-actief", file="a.xlsx", sheet="Invoer", cell=c,
                        value=p, period="2021-Q3", expected=e)
                for c, p, e in (("B8", "Hout", "2022"), ("B9", "AI", "2023"))]
    whole_file = finding("macro-aanwezig", file="a.xlsx")
    grouped = group_findings([empty[0], other_sheet, *negative, whole_file, *empty[1:],
                              other_file, *inactive])
    assert [(f.file, f.sheet, f.cell, f.code) for f in grouped] == [
        ("a.xlsx", "Invoer", "C8:D9", "waarde-ontbreekt"),
        ("a.xlsx", "Blad2", "C8", "waarde-ontbreekt"),
        ("a.xlsx", "Invoer", "E8:E9", "negatief-getal"),
        ("a.xlsx", "", "", "macro-aanwezig"),
        ("b.xlsx", "Invoer", "C8", "waarde-ontbreekt"),
        ("a.xlsx", "Invoer", "B8", "project-niet-actief"),  # no plural: never grouped
        ("a.xlsx", "Invoer", "B9", "project-niet-actief"),
    ]
    assert grouped[0].message == ("Cellen C8:D9 (blad Invoer) zijn leeg; dit telt als 0. "
                                  "Vul 0 in als er niets te melden is.")
    assert grouped[0].cells == ("C8", "D8", "C9", "D9")
    assert grouped[2].message.startswith("Cellen E8:E9 (blad Invoer): negatieve aantallen "
                                         "('-1', '-4')")
    assert grouped[1] is other_sheet  # alone: the finding as it was, singular wording


def test_every_plural_template_fills_without_leftovers():
    for code, entry in catalogue().items():
        if not entry.plural:
            continue
        members = [finding(code, file="a.xlsx", sheet="Invoer", cell=c, value="x", kind="een "
                           "BSN", maximum=10, expected="'aanmelding'") for c in ("C8", "C9")]
        (grouped,) = group_findings(members)
        assert grouped.message.startswith("Cellen C8:C9 (blad Invoer)"), code
        assert "{" not in grouped.message and "''" not in grouped.message, code


def test_half_filled_template_is_a_handful_of_lines(tmp_path, programme, capsys):
    path = half_filled(tmp_path, programme)
    assert main(["validate", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Monitor_Huizen_2021-Q3.xlsx: goedgekeurd (0 fout(en), 1 waarschuwing(en))",
        "  - [waarschuwing] Cellen F9, C11:F20 (blad Invoer) zijn leeg; dit telt als 0. "
        "Vul 0 in als er niets te melden is.",
    ]


def test_blank_template_errors_group_by_code(tmp_path, programme, capsys):
    path = half_filled(tmp_path, programme, values={"C8": -2, "E9": -7, "D12": "veel"})
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "Monitor_Huizen_2021-Q3.xlsx: afgekeurd (2 fout(en), 1 waarschuwing(en))",
        "  - [fout] Cellen C8, E9 (blad Invoer): negatieve aantallen ('-2', '-7'); vul in "
        "elke cel een aantal in (0 of meer).",
        "  - [fout] Cel D12 (blad Invoer): 'veel' is geen geheel getal; vul een aantal in "
        "(0 of meer).",
        "  - [waarschuwing] Cellen D8:D11, E8:F8, C9:C20, F9:F20, E10:E20, D13:D20 "
        "(blad Invoer) zijn leeg; dit telt als 0. Vul 0 in als er niets te melden is.",
    ]


def test_json_groups_and_keeps_every_cell(tmp_path, programme, capsys):
    path = half_filled(tmp_path, programme)
    main(["validate", "--json", str(path)])
    (item,) = json.loads(capsys.readouterr().out)
    assert (item["blad"], item["cel"], item["code"], item["ernst"]) == (
        "Invoer", "F9, C11:F20", "waarde-ontbreekt", "waarschuwing")
    assert item["melding"].startswith("Cellen F9, C11:F20 (blad Invoer) zijn leeg")
    assert sorted(item["cellen"]) == sorted(EMPTY_CELLS)


def test_json_of_a_single_finding_lists_its_cell(tmp_path, programme, capsys):
    path = half_filled(tmp_path, programme, values={f"{c}{r}": 1 for r in range(8, 21)
                                                    for c in "CDEF"} | {"E15": None})
    main(["validate", "--json", str(path)])
    (item,) = json.loads(capsys.readouterr().out)
    assert (item["cel"], item["cellen"]) == ("E15", ["E15"])
    assert item["melding"].startswith("Cel E15 (blad Invoer) is leeg")


def control_rows(copy: Path) -> list[tuple]:
    sheet = openpyxl.load_workbook(copy)["Controle"]
    header = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "Ernst")
    return [tuple(c.value for c in row[:4]) + (row[2].hyperlink.location
                                               if row[2].hyperlink else None,)
            for row in sheet.iter_rows(min_row=header + 1, max_col=4)]


def test_feedback_copy_lists_ranges_and_marks_every_cell(tmp_path, programme):
    path = half_filled(tmp_path, programme, values=FILLED | {"C8": -2})
    assert main(["validate", "--feedback", str(tmp_path / "terug"), str(path)]) == 1
    copy = tmp_path / "terug" / "Monitor_Huizen_2021-Q3.controle.xlsx"
    rows = control_rows(copy)
    assert rows == [
        ("Fout", "Invoer", "C8", "Cel C8 (blad Invoer): -2 is negatief; vul een aantal in "
         "(0 of meer).", "'Invoer'!C8"),
        ("Waarschuwing", "Invoer", "F9, C11:F20", "Cellen F9, C11:F20 (blad Invoer) zijn "
         "leeg; dit telt als 0. Vul 0 in als er niets te melden is.", "'Invoer'!F9"),
    ]
    workbook = openpyxl.load_workbook(copy)
    assert workbook["Controle"]["A2"].value.startswith("1 fout, 1 waarschuwing")
    # LibreOffice wraps no cell holding a link: the Cel column is as wide as its ranges.
    widths = [workbook["Controle"].column_dimensions[c].width for c in "ABCD"]
    assert widths[2] >= len("F9, C11:F20") + 1 and sum(widths) == 15 + 18 + 9 + 72
    sheet = workbook["Invoer"]
    for cell in EMPTY_CELLS:  # each cell still yellow, with its own singular comment
        assert sheet[cell].fill.fgColor.rgb.endswith(YELLOW), cell
        assert sheet[cell].comment.text.startswith(f"Waarschuwing: Cel {cell} (blad Invoer) "
                                                   "is leeg"), cell
    assert sheet["C10"].comment is None and sheet["C8"].comment.text.startswith("Fout:")


def test_validatie_sheet_lists_ranges(tmp_path, programme):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    half_filled(inbox, programme)
    half_filled(inbox, programme, "Laren", values={"C8": 4, "D8": 2})
    master = tmp_path / "master.xlsx"
    main(["consolidate", str(inbox), "-o", str(master), "--geen-cache", "--quiet"])
    sheet = openpyxl.load_workbook(master)["Validatie"]
    header = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "Bestand")
    rows = [tuple(c.value for c in row) for row in
            sheet.iter_rows(min_row=header + 1, max_col=6) if row[0].value]
    assert rows == [
        ("Monitor_Huizen_2021-Q3.xlsx", "Invoer", "F9, C11:F20", "waarde-ontbreekt",
         "waarschuwing", "Cellen F9, C11:F20 (blad Invoer) zijn leeg; dit telt als 0. Vul 0 "
         "in als er niets te melden is."),
        ("Monitor_Laren_2021-Q3.xlsx", "Invoer", "E8:F8, C9:F20", "waarde-ontbreekt",
         "waarschuwing", "Cellen E8:F8, C9:F20 (blad Invoer) zijn leeg; dit telt als 0. Vul 0 "
         "in als er niets te melden is."),
    ]
    assert sheet["B3"].value == '=COUNTIF(tblBevindingen[Ernst],"waarschuwing")'
    ranges = sheet.cell(header + 1, 3)  # wrapped at the commas in the narrow column
    assert ranges.alignment.wrap_text and sheet.row_dimensions[ranges.row].height >= 27  # two lines


def test_the_same_cell_twice_is_no_group():
    twice = [finding("waarde-ontbreekt", file="a.xlsx", sheet="Invoer", cell="C8")] * 2
    assert group_findings(twice) == twice
