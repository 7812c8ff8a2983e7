"""``xlmonitor rapport``: the Monitor (.docx, PDF) read back with python-docx and compared,
figure by figure and light by light, with a plain pandas computation from the master's
tblData and the programme (shares no code with xlmonitor.report), at two peilperiodes of the
demo; privacy and text safety of the explanations; the same master gives the same text."""

from __future__ import annotations

import math
import re
import subprocess
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import docx
import pandas as pd
import pytest
from docx.oxml.ns import qn
from PIL import Image

from xlmonitor import libreoffice
from xlmonitor.consolidation.merge import consolidate
from xlmonitor.master.notes_sheet import saved_notes
from xlmonitor.master.publish import write_master
from xlmonitor.master.styles import LIGHT_COLOURS
from xlmonitor.privacy import mask_text
from xlmonitor.programme.definition import load_programme
from xlmonitor.report.monitor import write_report

BSN_REMARK = "Cliënt 123456782 is gestart bij de zorginstelling"
FORMULA_NOTE = '=HYPERLINK("http://voorbeeld.invalid","klik") loopt volgens plan'
NOTES = [
    {"Projectcode": "WIJKLEER", "Peilperiode": "2022-Q1", "Tekst": FORMULA_NOTE},
    {"Projectcode": "HOUT", "Peilperiode": "2022-Q1", "Tekst": "De werving liep vertraging op.",
     "Eigen stoplicht": "oranje", "Reden": "nieuwe instroom gepland (BSN 123456782)"},
]


@pytest.fixture(scope="module")
def programme():
    return load_programme()


@pytest.fixture(scope="module")
def master(demo_inbox, programme, tmp_path_factory) -> Path:
    """The demo master, with a municipality's remark holding a BSN (ZorgStart, Huizen, in both
    peilperiodes) and the analyst's explanations of NOTES."""
    result = consolidate(demo_inbox, programme)
    data = result.data
    for period in ("2021-Q2", "2022-Q1"):
        row = data.index[(data["Projectcode"] == "ZORGSTART") & (data["Periode"] == period)
                         & (data["Gemeente"] == "Huizen")]
        assert len(row) == 1
        data.loc[row, "Toelichting"] = BSN_REMARK
    path = tmp_path_factory.mktemp("rapport") / "master.xlsx"
    return write_master(result, path, notes=NOTES)


def tblData(path: Path) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name="Data", engine="openpyxl")


def round_half_up(value: float) -> int:
    return int(Decimal(repr(float(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def shown(value) -> str:
    if value is None:
        return "n.v.t."
    return f"{round_half_up(value):,}".replace(",", ".")


def shown_ratio(value) -> str:
    return "n.v.t." if value is None else f"{round_half_up(value * 100)}%"


def independent(data: pd.DataFrame, programme, peilperiode: str) -> dict:
    """The figures from tblData and the programme alone."""
    year, quarter = int(peilperiode[:4]), int(peilperiode[-1])
    month = 3 * quarter
    peildatum = date(year + (month == 12), month % 12 + 1, 1) - pd.Timedelta(days=1)
    peildatum = pd.Timestamp(peildatum).date()
    upto = data[pd.to_datetime(data["Kwartaaleinde"]).dt.date <= peildatum]
    targets = programme.targets

    def target(project: str, indicator: str):
        valid = targets[(targets["project"] == project) & (targets["indicator"] == indicator)
                        & (targets["geldig_vanaf"] <= peildatum)
                        & (targets["geldig_tot"] >= peildatum)]
        return float(valid["doel"].sum()) if len(valid) else None

    def elapsed(start: date, end: date) -> float:
        return min(1.0, max(0.0, ((peildatum - start).days + 1) / ((end - start).days + 1)))

    def light(ratio):
        if ratio is None:
            return "n.v.t."
        return "groen" if ratio >= 0.8 else "oranje" if ratio >= 0.6 else "rood"

    kpi = {}
    for code in programme.indicator_codes:
        label = programme.label(code)
        doel = target("", code)
        expected = None if doel is None else doel * elapsed(programme.start, programme.end)
        realised = float(upto[label].sum())
        ratio = realised / expected if expected else None
        kpi[label] = [label, shown(realised), shown(doel), shown(expected), shown_ratio(ratio),
                      light(ratio)]
    projects = {}
    labels = [programme.label(c) for c in programme.indicator_codes]
    for code, project in programme.projects.iterrows():
        if project["status"] == "on hold":
            continue
        rows = upto[upto["Projectcode"] == code]
        figures = [float(rows[lab].sum()) for lab in labels]
        stuur = project["stuurindicator"]
        doel = target(code, stuur) if stuur and peildatum >= project["start"] else None
        expected = None if doel is None else doel * elapsed(project["start"], project["eind"])
        realised = float(rows[programme.label(stuur)].sum()) if stuur else 0.0
        ratio = realised / expected if expected else None
        projects[project["naam"]] = [project["naam"], *map(shown, figures), shown(expected),
                                     shown_ratio(ratio), light(ratio)]
    towns = {}
    for town in programme.municipalities.index:
        rows = upto[upto["Gemeente"] == town]
        towns[town] = [town, *[shown(rows[lab].sum()) for lab in labels],
                       shown(rows["Periode"].nunique())]
    return {"kpi": kpi, "projects": projects, "towns": towns, "peildatum": peildatum}


def tables(document) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in table.rows]
            for table in document.tables]


def find(document, first: str, second: str) -> list[list[str]]:
    for table in tables(document):
        if table[0][:2] == [first, second]:
            return table
    raise AssertionError(f"no table with header {first}, {second}")


def fills(document, header: tuple[str, str], column: int) -> list[str]:
    """Fill colours of ``column`` in the body of the table whose header starts so."""
    for table in document.tables:
        if [c.text for c in table.rows[0].cells[:2]] == list(header):
            result = []
            for row in table.rows[1:]:
                shading = row.cells[column]._tc.tcPr.find(qn("w:shd"))
                result.append("" if shading is None else shading.get(qn("w:fill")))
            return result
    raise AssertionError(header)


def all_text(document) -> list[str]:
    texts = [p.text for p in document.paragraphs]
    texts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for section in document.sections:
        texts += [p._p.xml for p in section.footer.paragraphs]
    return texts


@pytest.fixture(scope="module", params=["2021-Q2", "2022-Q1"])
def written(request, master, tmp_path_factory):
    out = tmp_path_factory.mktemp("docx") / f"Monitor {request.param}.docx"
    write_report(master, out, peilperiode=request.param)
    return request.param, docx.Document(str(out))


def fill_of(light: str) -> str:
    return LIGHT_COLOURS[light][0].lstrip("#").upper()


def test_every_figure_and_light_equals_an_independent_computation(written, master, programme):
    peilperiode, document = written
    wanted = independent(tblData(master), programme, peilperiode)

    dashboard = find(document, "Indicator", "Gerealiseerd")
    assert dashboard[0] == ["Indicator", "Gerealiseerd", "Doel", "Verwacht tot nu",
                            "Percentage", "Stoplicht"]
    assert dashboard[1:] == list(wanted["kpi"].values())
    assert fills(document, ("Indicator", "Gerealiseerd"), 5) == [
        fill_of(row[5]) for row in wanted["kpi"].values()]

    projects = find(document, "Project", "Aanmel-dingen")
    assert projects[1:] == list(wanted["projects"].values())
    assert fills(document, ("Project", "Aanmel-dingen"), 7) == [
        fill_of(row[7]) for row in wanted["projects"].values()]

    towns = find(document, "Gemeente", "Aanmeldingen")
    assert towns[1:-1] == list(wanted["towns"].values())
    data = tblData(master)
    upto = data[pd.to_datetime(data["Kwartaaleinde"]).dt.date <= wanted["peildatum"]]
    assert towns[-1][:5] == ["Totaal", *[shown(upto[programme.label(c)].sum())
                                         for c in programme.indicator_codes]]

    # The text of each project's paragraph repeats its light and its figures.
    text = "\n".join(p.text for p in document.paragraphs)
    for name, row in wanted["projects"].items():
        assert f"\n{name}\nStoplicht: {row[7]} " in text


def test_the_figures_the_issue_names(master, tmp_path):
    """2021-Q2: ZorgStart 279 aanmeldingen, 142 gestart, 8 scholing afgerond, 43 naar werk;
    targets 1180 / 860 / 520. 2022-Q1: targets 1200 / 800 / 500."""
    for period, targets in (("2021-Q2", ["1.180", "860", "520"]),
                            ("2022-Q1", ["1.200", "800", "500"])):
        document = docx.Document(str(write_report(master, tmp_path / f"{period}.docx",
                                                  peilperiode=period)))
        objectives = find(document, "Indicator", "Doel")
        assert [row[1] for row in objectives[1:]] == targets
        assert all(row[3] for row in objectives[1:]), "every target names its source"
        if period == "2021-Q2":
            zorgstart = next(r for r in find(document, "Project", "Aanmel-dingen")
                             if r[0] == "ZorgStart")
            assert zorgstart[1:5] == ["279", "142", "8", "43"]


def test_since_the_previous_monitor(written, master, programme):
    peilperiode, document = written
    before = {"2021-Q2": "2020-Q4", "2022-Q1": "2021-Q3"}[peilperiode]
    now = independent(tblData(master), programme, peilperiode)
    then = independent(tblData(master), programme, before)
    table = find(document, "Indicator", before)
    assert table[0][2] == peilperiode
    for row in table[1:]:
        label = row[0]
        old, new = then["kpi"][label], now["kpi"][label]
        difference = int(new[1].replace(".", "")) - int(old[1].replace(".", ""))
        assert row[1:] == [old[1], new[1], f"+{difference}" if difference > 0
                           else str(difference), old[5], new[5]]
    data = tblData(master)
    paragraphs = [p.text for p in document.paragraphs]
    for code, project in programme.projects.iterrows():
        stuur = project["stuurindicator"]
        if project["status"] == "on hold" or not stuur:
            continue
        label = programme.label(stuur)
        rows = data[data["Projectcode"] == code]
        ends = pd.to_datetime(rows["Kwartaaleinde"]).dt.date
        grown = (rows[ends <= now["peildatum"]][label].sum()
                 - rows[ends <= then["peildatum"]][label].sum())
        at = paragraphs.index(project["naam"])
        assert paragraphs[at + 2] == (
            f"Sinds {before}: {'+' if grown > 0 else ''}{grown} {label.lower()}; het stoplicht "
            f"was toen {then['projects'][project['naam']][7]} "), project["naam"]
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    for name, row in now["projects"].items():
        was = then["projects"][name][7]
        sentence = f"{name}: het stoplicht ging van {was} naar {row[7]}."
        assert (sentence in bullets) == (was != row[7]), sentence


def test_explanations_masked_and_as_text(written):
    peilperiode, document = written
    paragraphs = [p.text for p in document.paragraphs]
    body = document.element.body.xml
    assert "123456782" not in body
    assert f"Huizen: {mask_text(BSN_REMARK)}" in paragraphs
    assert "*****6782" in mask_text(BSN_REMARK)
    zorgstart = paragraphs.index("ZorgStart")
    after = paragraphs[zorgstart:zorgstart + 6]
    assert any(p.startswith("Toelichting nog te schrijven") for p in after)
    if peilperiode == "2022-Q1":
        assert FORMULA_NOTE in paragraphs  # as text: the analyst's paragraph
        assert "HYPERLINK" not in "".join(
            e.get(qn("w:instr"), "") for e in document.element.body.iter(qn("w:fldSimple")))
        assert not list(document.element.body.iter(qn("w:hyperlink")))
        hout = paragraphs.index("Hout")
        assert paragraphs[hout + 3] == ("Stoplicht volgens het regioteam: oranje  nieuwe "
                                        "instroom gepland (BSN *****6782)")
        assert paragraphs[hout + 4] == "De werving liep vertraging op."


def test_same_master_same_text(master, tmp_path):
    first = write_report(master, tmp_path / "a.docx")
    second = write_report(master, tmp_path / "b.docx")
    assert all_text(docx.Document(str(first))) == all_text(docx.Document(str(second)))
    # The default peilperiode is the master's (the Dashboard's choice).
    assert "peilperiode 2022-Q1" in docx.Document(str(first)).paragraphs[1].text


def test_toelichting_survives_a_rewrite(master, demo_inbox, programme, tmp_path):
    kept = saved_notes(master)
    filled = [r for r in kept if r["Tekst"]]
    assert [(r["Projectcode"], r["Peilperiode"]) for r in filled] == [
        ("WIJKLEER", "2022-Q1"), ("HOUT", "2022-Q1")]
    again = write_master(consolidate(demo_inbox, programme), tmp_path / "nieuw.xlsx",
                         peilperiode="2022-Q2", notes=kept)
    rows = saved_notes(again)
    assert [r for r in rows if r["Tekst"]] == filled
    assert {r["Peilperiode"] for r in rows} == {"2022-Q1", "2022-Q2"}
    assert rows[0]["Peilperiode"] == "2022-Q2"  # the new quarter on top, empty to fill in


def test_pdf_renders_a4_portrait(master, tmp_path, soffice):
    pdf = tmp_path / "Monitor.pdf"
    write_report(master, tmp_path / "Monitor.docx", pdf=pdf)
    first = libreoffice.pdf_to_png(pdf, tmp_path / "pagina.png", dpi=60, first_page_only=False)
    pages = [first, *sorted(tmp_path.glob("pagina-*.png"),
                            key=lambda p: int(p.stem.rsplit("-", 1)[1]))]
    assert len(pages) >= 4
    for page in pages:
        width, height = Image.open(page).size
        assert math.isclose(height / width, 297 / 210, rel_tol=0.01)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+", info), info
    # Traffic lights in colour on the dashboard page.
    pixels = Image.open(pages[0]).convert("RGB")
    colours = {colour for _count, colour in pixels.getcolors(maxcolors=1 << 24)}
    for light in ("groen", "rood"):
        target = tuple(int(LIGHT_COLOURS[light][0][i:i + 2], 16) for i in (1, 3, 5))
        assert any(sum(abs(a - b) for a, b in zip(c, target, strict=True)) < 30
                   for c in colours), light


def cached_rows(path: Path, table: str, columns: list[str]) -> list[list[str]]:
    """A table's cached values (what Excel shows) in the report's notation."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path), load_tables=True)
    found = book.get_table_by_name(table)
    header = list(found.columns)
    rows = []
    for row in found.to_python():
        values = dict(zip(header, row, strict=True))
        shown_row = []
        for column in columns:
            value = values[column]
            if isinstance(value, str):
                shown_row.append(value)
            elif column == "Percentage":
                shown_row.append(shown_ratio(value))
            else:
                shown_row.append(shown(value))
        rows.append(shown_row)
    return rows


@pytest.mark.slow
def test_the_report_shows_what_the_workbook_shows(master, tmp_path, soffice):
    """The Dashboard's own cached values: as written (2022-Q1), and after choosing 2021-Q2
    in the drop-down and letting LibreOffice recalculate, which the report then follows."""
    from synthetic import set_peilperiode_in_file

    chosen = set_peilperiode_in_file(master, tmp_path / "gekozen.xlsx", "2021-Q2")
    recalculated = libreoffice.recalculate(chosen, tmp_path / "herberekend.xlsx")
    for workbook, period in ((master, "2022-Q1"), (recalculated, "2021-Q2")):
        document = docx.Document(str(write_report(workbook, tmp_path / f"{period}.docx")))
        assert f"peilperiode {period}" in document.paragraphs[1].text
        dashboard = find(document, "Indicator", "Gerealiseerd")[1:]
        assert dashboard == cached_rows(workbook, "tblKPI", [
            "Indicator", "Gerealiseerd", "Doel", "Verwacht", "Percentage", "Stoplicht"])
        projects = find(document, "Project", "Aanmel-dingen")[1:]
        assert projects == cached_rows(workbook, "tblProjecten", [
            "Project", "Aanmeldingen", "Gestarte trajecten", "Afgeronde scholing",
            "Bemiddeld naar werk", "Verwacht", "Percentage", "Stoplicht"])


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_the_nightly_run_keeps_the_toelichting(demo_inbox, programme, tmp_path, suffix):
    """``xlmonitor consolidate INBOX -o master`` rewrites the master; what the analyst wrote
    on Toelichting stays, and the new peilperiode gets empty rows to fill in."""
    from xlmonitor.cli import main
    from xlmonitor.master.publish import write_button_master
    from xlmonitor.master.settings_sheet import saved_settings

    master = tmp_path / f"master{suffix}"
    assert main(["consolidate", str(demo_inbox), "-o", str(master), "--peilperiode",
                 "2021-Q4", "--quiet"]) in (0, 1)
    # The analyst writes on Toelichting and saves (here: the same workbook written anew).
    notes = saved_notes(master)
    assert {r["Peilperiode"] for r in notes} == {"2021-Q4"} and not any(r["Tekst"]
                                                                         for r in notes)
    notes[0]["Tekst"] = "Goed op weg; =SOM(A1) blijft tekst."
    result = consolidate(demo_inbox, programme)
    if suffix == ".xlsm":
        write_button_master(result, master, settings=saved_settings(master),
                            peilperiode="2021-Q4", notes=notes)
    else:
        write_master(result, master, peilperiode="2021-Q4", notes=notes)
    assert main(["consolidate", str(demo_inbox), "-o", str(master), "--peilperiode",
                 "2022-Q1", "--quiet"]) in (0, 1)
    kept = saved_notes(master)
    assert [(r["Projectcode"], r["Peilperiode"], r["Tekst"]) for r in kept if r["Tekst"]] == [
        (notes[0]["Projectcode"], "2021-Q4", "Goed op weg; =SOM(A1) blijft tekst.")]
    assert {r["Peilperiode"] for r in kept} == {"2021-Q4", "2022-Q1"}


def test_note_rows_keep_what_was_written_and_read_typed_quarters(programme):
    from xlmonitor.master.notes_sheet import note_rows

    rows = note_rows(programme, "2022-Q1", [
        {"Projectcode": "HOUT", "Peilperiode": "Q4 2021", "Tekst": "Vertraagd."},
        {"Projectcode": "OUD", "Peilperiode": "2021-Q4", "Reden": "project bestaat niet meer"},
        {"Projectcode": "AI", "Peilperiode": "2022-Q1", "Tekst": ""},  # empty: not kept
    ])
    shown = programme.projects[programme.projects["status"] != "on hold"]
    assert [(r["Projectcode"], r["Peilperiode"]) for r in rows] == [
        *[(code, "2022-Q1") for code in shown.index], ("HOUT", "2021-Q4"), ("OUD", "2021-Q4")]
    assert rows[len(shown)]["Tekst"] == "Vertraagd." and rows[len(shown)]["Project"] == "Hout"
    assert rows[-1]["Project"] == "" and rows[-1]["Reden"] == "project bestaat niet meer"
