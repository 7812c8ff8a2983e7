"""The master workbook: contract names, cached values, LibreOffice recalculation, formula
injection, reproducible bytes, and the traffic-light colours as the council sees them.

Every figure is checked against :func:`synthetic.independent_figures`, a plain pandas
computation that shares no code with :mod:`xlmonitor.master.dashboard`.
"""

from __future__ import annotations

import math
import re
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlsxwriter
from openpyxl.utils import get_column_letter, range_boundaries
from PIL import Image
from synthetic import (
    data_from_totals,
    independent_figures,
    laid_out,
    make_consolidation,
    mismatches,
    programme_periods,
    programme_quarters,
    random_data,
    read_table,
    set_peilperiode_in_file,
    table_refs,
)

from xlmonitor import libreoffice
from xlmonitor.consolidation.merge import DATA_COLUMNS, FINDING_COLUMNS, REGISTER_COLUMNS
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.findings import Finding
from xlmonitor.master import publish
from xlmonitor.master.dashboard import NOT_REPORTED
from xlmonitor.master.publish import write_master
from xlmonitor.master.styles import GREEN, ORANGE, RED
from xlmonitor.periods import elapsed_share, period_end
from xlmonitor.programme.definition import build_programme_workbook, load_programme

SHEETS = ["Dashboard", "Gemeenten", "Inzendingen", "Validatie", "Data", "Doelen"]
LAST = "2022-Q2"
PEIL_A, PEIL_B = "2021-Q2", "2022-Q1"
INJECTIONS = {
    ("Huizen", "2021-Q1", "ZORGSTART"): "=1+1",
    ("Laren", "2021-Q2", "HOUT"): "@SUM(A1)",
    ("Eemnes", "2020-Q4", "GGZ"): "+31 6 12345678",
    ("Blaricum", "2021-Q3", "AI"): '=HYPERLINK("http://voorbeeld.invalid","klik")',
    ("Hilversum", "2022-Q1", "WIJKLEER"): "-2+3 bel http://voorbeeld.invalid",
}


@pytest.fixture(scope="session")
def programme(tmp_path_factory):
    path = build_programme_workbook(tmp_path_factory.mktemp("programma") / "programma.xlsx")
    return load_programme(path)


@pytest.fixture(scope="module")
def consolidation(programme):
    periods = programme_periods(programme, LAST)
    data = random_data(programme, periods, seed=7, remarks=INJECTIONS)
    # Wijdemeren has not delivered 2022-Q2 yet; one Huizen file was rejected.
    data = data[~((data["Gemeente"] == "Wijdemeren") & (data["Periode"] == LAST))]
    findings = [Finding(code="geen-geheel-getal", severity="fout", file="huizen_2022-Q2b.xlsx",
                        sheet="Invoer", cell="D12",
                        message="'=2+2' is geen geheel getal.")]
    result = make_consolidation(programme, data.reset_index(drop=True), periods,
                                peilperiode=PEIL_A, findings=findings)
    result.matrix.loc["Wijdemeren", LAST] = "ontbreekt"
    return result


def write(consolidation, tmp_path: Path, name: str = "master.xlsx", **options) -> Path:
    return write_master(consolidation, tmp_path / name, **options)


# -- (d) contract: sheets, tables, headers ------------------------------------------------

def test_sheets_tables_and_headers_are_the_contract(consolidation, programme, tmp_path):
    path = write(consolidation, tmp_path)
    workbook = openpyxl.load_workbook(path)
    try:
        assert workbook.sheetnames == [*SHEETS, "Toelichting"]
        assert workbook.active.title == "Dashboard"
        dashboard = workbook["Dashboard"]
        assert dashboard["B4"].value == PEIL_A
        validations = dashboard.data_validations.dataValidation
        assert [(v.type, str(v.sqref), v.formula1) for v in validations] == [
            ("list", "B4", "Kwartalen")]
        assert dashboard.page_setup.orientation == "landscape"
        assert dashboard.sheet_properties.pageSetUpPr.fitToPage
        # one page wide and tall (1 is the default, so it may be left out of the XML)
        assert dashboard.page_setup.fitToWidth in (None, 1)
        assert dashboard.page_setup.fitToHeight in (None, 1)
        assert dashboard.print_area
        assert dashboard.sheet_view.showGridLines is False
        assert dashboard.freeze_panes == "A6"
        assert workbook["Data"].freeze_panes == "A2"
        data = workbook["Data"]
        end = data.cell(2, DATA_COLUMNS.index("Kwartaaleinde") + 1)
        assert end.is_date and end.number_format == "dd-mm-yyyy"
        assert isinstance(end.value, datetime)
        names = {n: str(workbook.defined_names[n].attr_text) for n in workbook.defined_names}
        assert names["Peildatum"] == "Dashboard!$B$5"
    finally:
        workbook.close()

    refs = table_refs(path)
    labels = [programme.label(c) for c in programme.indicator_codes]
    wanted = {
        "tblData": ("Data", DATA_COLUMNS),
        "tblKPI": ("Dashboard", ["Indicator", "Gerealiseerd", "Doel", "Verwacht", "Percentage",
                                 "Stoplicht"]),
        "tblProjecten": ("Dashboard", ["Projectcode", "Project", *labels, "Doel", "Verwacht",
                                       "Percentage", "Stoplicht"]),
        "tblInzendingen": ("Inzendingen", REGISTER_COLUMNS),
        "tblBevindingen": ("Validatie", FINDING_COLUMNS),
        "tblGemeenten": ("Gemeenten", ["Gemeente", "CBS-code", *labels,
                                       "Kwartalen geleverd"]),
    }
    for name, (sheet, columns) in wanted.items():
        assert refs[name][0] == sheet, name
        rows = read_table(path, *refs[name])
        assert list(rows[0]) == columns, name
    assert len(read_table(path, *refs["tblData"])) == len(consolidation.data)
    assert len(read_table(path, *refs["tblInzendingen"])) == len(consolidation.register)
    assert [r["Melding"] for r in read_table(path, *refs["tblBevindingen"])] == [
        "'=2+2' is geen geheel getal."]


def test_every_dashboard_figure_is_a_formula_over_the_tables(consolidation, tmp_path):
    path = write(consolidation, tmp_path)
    refs = table_refs(path)
    workbook = openpyxl.load_workbook(path)
    try:
        for table in ("tblKPI", "tblProjecten", "tblGemeenten"):
            sheet, ref = refs[table]
            rows = list(workbook[sheet][ref])
            header = [c.value for c in rows[0]]
            for row in rows[1:]:
                for column, cell in zip(header, row, strict=True):
                    if column in ("Indicator", "Projectcode", "Project", "Gemeente",
                                  "CBS-code"):
                        continue
                    if cell.value is None and table == "tblGemeenten":
                        continue  # total row cell without a total
                    assert cell.data_type == "f", (table, cell.coordinate, cell.value)
                    assert "[@" not in cell.value, "LibreOffice gives #N/A for [@Col]"
                    # not in Excel 2016, or computed differently by LibreOffice
                    banned = re.search(r"\b(MAXIFS|MINIFS|IFS|XLOOKUP|LET|UNIQUE)\(",
                                       cell.value)
                    assert banned is None, (cell.coordinate, cell.value)
    finally:
        workbook.close()


# -- (a) cached values --------------------------------------------------------------------

@pytest.mark.parametrize("peilperiode", [PEIL_A, PEIL_B])
def test_cached_values_equal_pandas(consolidation, tmp_path, peilperiode):
    path = write(consolidation, tmp_path, peilperiode=peilperiode)
    wanted = independent_figures(consolidation, peilperiode)
    assert mismatches(path, table_refs(path), wanted) == []
    # the scenario is not trivial: several statuses and n.v.t. rows occur
    lights = {r["Stoplicht"] for r in wanted["projects"].values()}
    assert {"groen", "n.v.t."} <= lights and len(lights) >= 3, lights


def test_trend_table_is_cumulative_up_to_the_peildatum(consolidation, programme, tmp_path):
    path = write(consolidation, tmp_path)
    rows = read_table(path, *table_refs(path)["tblVerloop"])
    data = consolidation.data
    # The whole programme, also the quarters nobody has reported yet (2022-Q3 … 2023-Q4).
    assert [r["Kwartaal"] for r in rows] == programme_quarters(programme)
    assert rows[-1]["Kwartaal"] == "2023-Q4" > LAST
    for row in rows:
        end = period_end(row["Kwartaal"])
        for code in programme.kpi_codes:
            label = programme.label(code)
            realised = row[f"{label} gerealiseerd"]
            if end <= period_end(PEIL_A):
                assert realised == data.loc[data["Periode"] <= row["Kwartaal"], label].sum()
            else:
                assert realised == "#N/A"  # a gap in the chart, not a zero
            target = programme.target("", code, end)
            expected = target * elapsed_share(programme.start, programme.end, end)
            assert math.isclose(row[f"{label} verwacht"], expected, rel_tol=1e-9)


def test_empty_inbox_gives_a_master(programme, tmp_path):
    # The first nightly run, before any municipality delivered.
    empty = make_consolidation(programme, random_data(programme, []), [])
    path = write(empty, tmp_path, peilperiode=None)
    first = str(programme.settings["eerste_periode"])
    assert mismatches(path, table_refs(path), independent_figures(empty, first)) == []
    layout = laid_out(path)
    assert layout["Peilperiode"] == first
    assert layout["Kwartalen"] == layout["tblVerloop"] == layout["matrix"] == \
        programme_quarters(programme)
    # The first quarter is due; nothing after it is, as far as the (empty) inbox tells.
    assert {tuple(statuses) for statuses in layout["statuses"].values()} == {
        ("ontbreekt", *["later"] * (len(layout["matrix"]) - 1))}


def test_every_programme_quarter_is_laid_out(consolidation, programme, tmp_path):
    """Not only the quarters reported so far: the Consolideer button cannot add rows or
    columns, so a quarter that starts after the master was written must already be there."""
    layout = laid_out(write(consolidation, tmp_path))
    quarters = programme_quarters(programme)
    assert quarters[0] == "2020-Q3" and quarters[-1] == "2023-Q4"
    assert layout["Kwartalen"] == layout["tblVerloop"] == layout["matrix"] == quarters
    statuses = layout["statuses"]
    assert list(statuses) == list(programme.municipalities.index)
    for municipality, row in statuses.items():
        for period, status in zip(quarters, row, strict=True):
            wanted = ("later" if period > LAST
                      else "ontbreekt" if (municipality, period) == ("Wijdemeren", LAST)
                      else "ontvangen")
            assert status == wanted, (municipality, period)
    workbook = openpyxl.load_workbook(tmp_path / "master.xlsx")
    try:
        sheet = workbook["Inzendingen"]
        assert [sheet.cell(3, c).value for c in (2, 5, 8, 11)] == [
            "ontvangen", "afgekeurd", "ontbreekt", "later"]  # the legend
        assert sheet.cell(3, 12).value == "kwartaal nog niet aan de beurt"
        row = 6 + list(statuses).index("Wijdemeren")
        last = get_column_letter(1 + len(quarters))
        # Counts ontbreekt only: a quarter that is not yet due is not missing.
        assert sheet.cell(row, 2 + len(quarters)).value == \
            f'=COUNTIF(B{row}:{last}{row},"ontbreekt")'
    finally:
        workbook.close()


def test_status_colours_reach_rows_the_button_adds(consolidation, tmp_path):
    """The Consolideer button writes more rows into tblInzendingen and tblBevindingen than
    the master was written with; the conditional formats of their status columns run to the
    last row of the sheet, so those rows are coloured too."""
    path = write(consolidation, tmp_path)
    refs = table_refs(path)
    workbook = openpyxl.load_workbook(path)
    try:
        for table, column in (("tblInzendingen", "Status"), ("tblBevindingen", "Ernst")):
            sheet, ref = refs[table]
            min_col, min_row, _, max_row = range_boundaries(ref)
            letter = get_column_letter(min_col + [c.value for c in workbook[sheet][min_row][
                min_col - 1:]].index(column))
            ranges = {str(cf.sqref) for cf in workbook[sheet].conditional_formatting
                      if str(cf.sqref).startswith(letter)}
            assert ranges == {f"{letter}{min_row + 1}:{letter}1048576"}, (table, ranges)
            assert max_row < 1048576
    finally:
        workbook.close()


def test_unknown_peilperiode_and_wrong_extension_are_usage_errors(consolidation, tmp_path):
    with pytest.raises(UsageError, match="2030-Q1"):
        write(consolidation, tmp_path, peilperiode="2030-Q1")
    with pytest.raises(UsageError, match=r"\.xlsm"):
        write(consolidation, tmp_path, name="master.xlsx", vba_project=tmp_path / "x.bin")
    assert list(tmp_path.iterdir()) == []


# -- (b) LibreOffice recalculates to the same figures ------------------------------------------

@pytest.mark.slow
def test_libreoffice_recalculation_equals_pandas(soffice, consolidation, tmp_path):
    refs = table_refs(write(consolidation, tmp_path, name="ref.xlsx"))
    for peilperiode in (PEIL_A, PEIL_B):
        built = write(consolidation, tmp_path, name=f"master-{peilperiode}.xlsx",
                      peilperiode=peilperiode)
        recalculated = libreoffice.recalculate(built, tmp_path / f"lo-{peilperiode}.xlsx")
        assert mismatches(recalculated, refs,
                          independent_figures(consolidation, peilperiode)) == []

    # The analyst picks another quarter in the drop-down: every cached value in the file is
    # now stale, and only the formulas can produce the new figures.
    chosen = set_peilperiode_in_file(tmp_path / f"master-{PEIL_A}.xlsx",
                                     tmp_path / "gekozen.xlsx", PEIL_B)
    stale = mismatches(chosen, refs, independent_figures(consolidation, PEIL_B))
    assert len(stale) > 20, "the premise: cached values belong to the other peilperiode"
    recalculated = libreoffice.recalculate(chosen, tmp_path / "gekozen-lo.xlsx")
    assert mismatches(recalculated, refs, independent_figures(consolidation, PEIL_B)) == []


def test_a_quarter_nobody_reported_says_so(soffice, consolidation, tmp_path):
    """Every programme quarter can be chosen; for one without figures Dashboard C5 says why
    the lights are red — cached by publish and recalculated by LibreOffice either way."""
    future = consolidation.periods[-1]
    assert future not in set(consolidation.data["Periode"])

    def note(path: Path) -> str:
        workbook = openpyxl.load_workbook(path, data_only=True)
        try:
            return workbook["Dashboard"]["C5"].value or ""
        finally:
            workbook.close()

    reported = write(consolidation, tmp_path, name="gemeld.xlsx", peilperiode=PEIL_A)
    ahead = write(consolidation, tmp_path, name="later.xlsx", peilperiode=future)
    assert (note(reported), note(ahead)) == ("", NOT_REPORTED)
    to_future = set_peilperiode_in_file(reported, tmp_path / "naar-later.xlsx", future)
    to_past = set_peilperiode_in_file(ahead, tmp_path / "naar-gemeld.xlsx", PEIL_A)
    assert note(libreoffice.recalculate(to_future, tmp_path / "a-lo.xlsx")) == NOT_REPORTED
    assert note(libreoffice.recalculate(to_past, tmp_path / "b-lo.xlsx")) == ""


# -- (c) formula injection ------------------------------------------------------------------

def test_submitted_text_stays_text(consolidation, tmp_path):
    path = write(consolidation, tmp_path)
    with zipfile.ZipFile(path) as package:
        shared = package.read("xl/sharedStrings.xml").decode("utf-8")
        data_xml = package.read(f"xl/worksheets/sheet{SHEETS.index('Data') + 1}.xml").decode()
        findings_xml = package.read(
            f"xl/worksheets/sheet{SHEETS.index('Validatie') + 1}.xml").decode()
        data_rels = package.read("xl/worksheets/_rels/sheet5.xml.rels").decode()
    strings = [_unescape(s) for s in re.findall(r"<t[^>]*>(.*?)</t>", shared, re.S)]
    assert "<f>" not in data_xml, "the Data sheet must hold no formula at all"
    assert "<hyperlink" not in data_xml
    assert "hyperlink" not in data_rels and "table" in data_rels
    for text in [*INJECTIONS.values(), "'=2+2' is geen geheel getal."]:
        assert text in strings, text
        index = strings.index(text)
        xml = data_xml if text in INJECTIONS.values() else findings_xml
        cells = re.findall(rf'<c r="([A-Z]+\d+)"[^>]*t="s"[^>]*><v>{index}</v></c>', xml)
        assert cells, f"{text!r} is not a shared-string cell"

    workbook = openpyxl.load_workbook(path)
    try:
        column = DATA_COLUMNS.index("Toelichting") + 1
        cells = next(workbook["Data"].iter_cols(min_col=column, max_col=column, min_row=2))
        remarks = {cell.value: cell for cell in cells if cell.value}
        for text in INJECTIONS.values():
            cell = remarks[text]
            assert cell.data_type == "s"
            # the quote prefix keeps it text when someone edits the cell in Excel
            assert cell.quotePrefix, text
    finally:
        workbook.close()


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&amp;", "&"))


# -- (e) reproducible bytes, atomic replace ------------------------------------------------

def test_same_consolidation_gives_identical_bytes(consolidation, tmp_path):
    first = write(consolidation, tmp_path, name="een.xlsx")
    second = write(consolidation, tmp_path, name="twee.xlsx")
    assert first.read_bytes() == second.read_bytes()
    stamped = write(consolidation, tmp_path, name="drie.xlsx",
                    generated_at=datetime(2024, 5, 6, 7, 8, 9))
    workbook = openpyxl.load_workbook(stamped)
    try:
        assert workbook.properties.created == datetime(2024, 5, 6, 7, 8, 9)
        assert workbook["Dashboard"]["A3"].value == "Bijgewerkt: 06-05-2024 07:08"
    finally:
        workbook.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drie.xlsx", "een.xlsx",
                                                          "twee.xlsx"]


def test_shortcuts_write_what_xlsxwriter_would(consolidation, tmp_path, monkeypatch):
    """publish skips XlsxWriter's per-formula rewriting of functions the master never uses;
    with XlsxWriter's own worksheet the master has the same bytes. A formula with such a
    function still goes through XlsxWriter."""
    shortcut = publish._Worksheet
    sheet = shortcut()
    for formula in ("=SUMIFS(tblData[Aanmeldingen],tblData[Periode],$B$5)",
                    "{=SUM(A1:A3)}", "=XLOOKUP(A1,B:B,C:C)", "=SORT(A1:A9)", "=ISINGLE(A1)"):
        assert shortcut._prepare_formula(sheet, formula) == \
            xlsxwriter.worksheet.Worksheet._prepare_formula(sheet, formula)
    fast = write(consolidation, tmp_path, name="snel.xlsx").read_bytes()
    monkeypatch.setattr(publish, "_Worksheet", xlsxwriter.worksheet.Worksheet)
    assert write(consolidation, tmp_path, name="gewoon.xlsx").read_bytes() == fast


def test_failed_write_leaves_the_old_master(consolidation, tmp_path, monkeypatch):
    path = tmp_path / "master.xlsx"
    path.write_bytes(b"vorige master")
    import xlmonitor.master.publish as publish

    def broken(*args, **kwargs):
        raise RuntimeError("schijf vol")

    monkeypatch.setattr(publish, "write_dashboard", broken)
    with pytest.raises(RuntimeError):
        write_master(consolidation, path)
    assert path.read_bytes() == b"vorige master"
    assert [p.name for p in tmp_path.iterdir()] == ["master.xlsx"], "no temp file left"

    monkeypatch.undo()

    def locked(src, dest):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(publish.os, "replace", locked)
    with pytest.raises(WriteError, match="geopend in Excel") as info:
        write_master(consolidation, path)
    assert info.value.exit_code == 3
    assert path.read_bytes() == b"vorige master"
    assert [p.name for p in tmp_path.iterdir()] == ["master.xlsx"]


def test_xlsm_with_vba_project(consolidation, tmp_path):
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0 stand-in for a compiled VBA project")
    path = write(consolidation, tmp_path, name="master.xlsm", vba_project=vba)
    with zipfile.ZipFile(path) as package:
        assert package.read("xl/vbaProject.bin") == vba.read_bytes()
        assert b"macroEnabled" in package.read("[Content_Types].xml")
        drawing = package.read("xl/worksheets/sheet1.xml")
        assert b"legacyDrawing" in drawing, "the Consolideer button"


def test_settings_add_the_instellingen_sheet(consolidation, tmp_path):
    path = write(consolidation, tmp_path, settings={"Inbox": "inbox", "Python": ""})
    workbook = openpyxl.load_workbook(path)
    try:
        assert workbook.sheetnames == [*SHEETS, "Instellingen", "Toelichting"]
        assert str(workbook.defined_names["Status"].attr_text) == "Dashboard!$A$3"
        assert workbook["Dashboard"]["A3"].value.startswith("Bijgewerkt: ")
    finally:
        workbook.close()


# -- (f) the traffic lights as rendered --------------------------------------------------------

def scenario(programme, peilperiode: str, odd_project: str, ratio: float):
    """Data in which every judged project and KPI is clearly groen (120% of expected),
    except ``odd_project`` at ``ratio`` of its expected-to-date target."""
    peildatum = period_end(peilperiode)
    periods = programme_periods(programme, peilperiode)
    totals: dict[tuple[str, str], int] = {}
    for code, project in programme.projects.iterrows():
        stuur = project["stuurindicator"]
        target = programme.target(code, stuur, peildatum) if stuur else None
        if target is None or peildatum < project["start"]:
            continue
        expected = target * elapsed_share(project["start"], project["eind"], peildatum)
        totals[(code, stuur)] = math.ceil(expected * (ratio if code == odd_project else 1.2))
    for code in programme.kpi_codes:
        target = programme.target("", code, peildatum)
        wanted = math.ceil(1.2 * target * elapsed_share(programme.start, programme.end,
                                                        peildatum))
        have = sum(v for (_, indicator), v in totals.items() if indicator == code)
        if have < wanted:  # WSP has no stuurindicator: a neutral place for the rest
            totals[("WSP", code)] = wanted - have
    data = data_from_totals(programme, periods, totals)
    return make_consolidation(programme, data, periods, peilperiode=peilperiode)


def colour_pixels(png: Path) -> dict[str, int]:
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    counts = {}
    for name, colour in (("groen", GREEN), ("oranje", ORANGE), ("rood", RED)):
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        distance = np.sqrt(((pixels - rgb) ** 2).sum(axis=2))
        counts[name] = int((distance < 40).sum())
    return counts


@pytest.mark.slow
@pytest.mark.parametrize(("ratio", "present", "absent"), [
    (0.3, {"groen", "rood"}, "oranje"),
    (0.7, {"groen", "oranje"}, "rood"),  # between the seed thresholds 0.6 and 0.8
])
def test_rendered_dashboard_shows_exactly_the_statuses(soffice, programme, tmp_path, ratio,
                                                       present, absent):
    peilperiode = "2021-Q4"
    consolidation = scenario(programme, peilperiode, "ZORGSTART", ratio)
    figures = independent_figures(consolidation, peilperiode)
    statuses = {r["Stoplicht"] for r in [*figures["kpi"].values(),
                                         *figures["projects"].values()]}
    assert statuses - {"n.v.t."} == present, statuses  # the premise of the picture

    master = write(consolidation, tmp_path)
    assert mismatches(master, table_refs(master), figures) == []
    pdf = libreoffice.to_pdf(master, tmp_path / "dashboard.pdf", sheet="Dashboard")
    png = libreoffice.pdf_to_png(pdf, tmp_path / "dashboard.png", dpi=110)
    counts = colour_pixels(png)
    for status in present:
        assert counts[status] > 300, (status, counts)
    assert counts[absent] < 30, (absent, counts)
