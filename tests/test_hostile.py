"""Hostile and broken input (issue 7): each file of the generated corpus (``hostile.py``)
gets its finding codes and a Dutch message, nothing raises, limits are findings, submitted
text never becomes a formula, and one consolidation over the corpus plus the demo inbox gives
the demo's data in bounded memory."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hostile import (
    BSN_NUMBER,
    BSN_TEXT,
    EMOJI_REMARK,
    EXPECTED,
    RTL_REMARK,
    sheet_member,
    standard_submission,
    with_dtd,
)

from xlmonitor.consolidation.merge import consolidate
from xlmonitor.feedback.marked_copy import CONTROL_SHEET, write_feedback_copy
from xlmonitor.findings import catalogue, finding
from xlmonitor.intake import workbookfile
from xlmonitor.intake.read import read_submission
from xlmonitor.intake.workbookfile import Limits
from xlmonitor.master.publish import write_master
from xlmonitor.programme.definition import load_programme
from xlmonitor.validation.checks import validate_submission

DATA = Path(__file__).parent / "data"
HILVERSUM = DATA / "Hilversum Q3 2021 rapportage WaW.xlsx"
GIB = 2**30


@pytest.fixture(scope="module")
def programme():
    return load_programme()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, programme, soffice) -> dict[str, Path]:
    from hostile import write_corpus

    from xlmonitor.libreoffice import convert

    return write_corpus(programme, tmp_path_factory.mktemp("hostile") / "corpus", convert)


@pytest.fixture(scope="module")
def checked(corpus, programme):
    return {name: validate_submission(read_submission(path, programme), programme)
            for name, path in corpus.items()}


# -- every corpus file: its codes, a Dutch message, in time ---------------------------------

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_gives_its_codes(corpus, programme, name):
    started = time.monotonic()
    validation = validate_submission(read_submission(corpus[name], programme), programme)
    assert {f.code for f in validation.findings} == EXPECTED[name]
    assert time.monotonic() - started < 10
    for f in validation.findings:
        assert f.code in catalogue() and f.message and "{" not in f.message


#: Where the findings point, and what their Dutch message says.
WHERE = {
    "zipbom.xlsx": ("", "", "limiet-overschreden", "uitgepakt is het bestand 2048 MB groot"),
    "zipbom-liegt.xlsx": ("", "", "bestand-onleesbaar", "beschadigd"),
    "entiteitenbom.xlsx": ("", "", "bestand-onleesbaar", "documenttypedefinitie (DTD)"),
    "dimensie-XFD1048576.xlsx": ("", "", "limiet-overschreden", "tot cel XFD1048576"),
    "100000-rijen.xlsx": ("", "", "limiet-overschreden", "100000 rijen (hoogstens 20000)"),
    "40000-tekens.xlsx": ("", "", "limiet-overschreden", "cel G8 op blad 'Invoer' bevat 40000"),
    "met-wachtwoord.xlsx": ("", "", "bestand-versleuteld", "zonder wachtwoord"),
    "tekst-als-werkmap.xlsx": ("", "", "bestand-onleesbaar", "geen Excel"),
    "cijfers.csv": ("", "", "bestand-onleesbaar", "geen Excel"),
    "afgekapt.xlsx": ("", "", "bestand-onleesbaar", "beschadigd"),
    "beschadigd.xlsx": ("", "", "bestand-onleesbaar", "beschadigd"),
    "formules-zonder-waarde.xlsx": ("Invoer", "C8", "formule-zonder-waarde", "opgeslagen"),
    "externe-koppeling.xlsx": ("", "", "externe-koppeling", "(bron.xlsx)"),
    "met-macro.xlsm": ("", "", "macro-aanwezig", "niet uitgevoerd"),
    "oud-formaat.xls": ("Invoer", "D10", "negatief-getal", "-2 is negatief"),
    "opendocument.ods": ("Invoer", "C9", "geen-geheel-getal", "'12,5'"),
    "samengevoegde-invoercellen.xlsx": ("Invoer", "C8", "cellen-samengevoegd", "C8:F8"),
    "datum-als-aantal.xlsx": ("Invoer", "C9", "geen-geheel-getal", "'2021-07-01'"),
    "duizendtallen-als-tekst.xlsx": ("Invoer", "C9", "onwaarschijnlijk-hoog",
                                     "12.000 is onwaarschijnlijk hoog"),
    "emoji-en-rtl.xlsx": ("Invoer", "B10", "project-onbekend", "'🌲🌲 مشروع جديد'"),
    "verborgen-blad-en-rij.xlsx": ("Oud", "B2", "persoonsgegevens", "(*****2333)"),
}


@pytest.mark.parametrize("name", sorted(WHERE))
def test_finding_points_at_the_cell_in_dutch(checked, name):
    sheet, cell, code, words = WHERE[name]
    matches = [f for f in checked[name].findings if f.key() == (sheet, cell, code)]
    assert matches, [f.key() for f in checked[name].findings]
    assert words in matches[0].message


def test_zip_bomb_details(checked):
    assert "declared uncompressed size 2147" in checked["zipbom.xlsx"].findings[0].detail
    assert "inflates beyond its declared 40000 bytes" in \
        checked["zipbom-liegt.xlsx"].findings[0].detail


def test_external_link_names_the_file_not_the_user(checked):
    message = checked["externe-koppeling.xlsx"].findings[0].message
    assert "bron.xlsx" in message and "jjansen" not in message


def test_macro_workbook_is_read_never_run(checked):
    validation = checked["met-macro.xlsm"]
    assert [f.severity for f in validation.findings] == ["waarschuwing"]
    assert len(validation.rows) > 10 and (validation.rows["aanmeldingen"] == 4).all()


def test_hidden_row_is_read_hidden_sheet_is_scanned(checked, corpus):
    validation = checked["verborgen-blad-en-rij.xlsx"]
    assert openpyxl.load_workbook(corpus["verborgen-blad-en-rij.xlsx"])["Invoer"] \
        .row_dimensions[9].hidden
    assert validation.submission.rows.set_index("cel_project").loc["B9", "aanmeldingen"] == 4
    assert validation.submission.sheet == "Invoer"  # the hidden sheet is not read as data
    assert [f.key() for f in validation.findings] == [("Oud", "B2", "persoonsgegevens"),
                                                      ("Oud", "B3", "persoonsgegevens")]
    text = json.dumps([f.as_dict() for f in validation.findings], ensure_ascii=False)
    assert str(BSN_NUMBER) not in text and BSN_TEXT not in text


def test_emoji_and_right_to_left_text_survive(checked):
    rows = checked["emoji-en-rtl.xlsx"].submission.rows.set_index("cel_toelichting")
    assert rows.loc["G8", "toelichting"] == EMOJI_REMARK
    assert rows.loc["G9", "toelichting"] == RTL_REMARK


def test_merged_input_cells_keep_other_cells_blank(checked):
    keys = [f.key() for f in checked["samengevoegde-invoercellen.xlsx"].findings]
    assert keys == [("Invoer", "C8", "cellen-samengevoegd")] + [
        ("Invoer", c, "waarde-ontbreekt") for c in ("D8", "E8", "F8")]


def test_formulas_without_values(checked):
    keys = [f.key() for f in checked["formules-zonder-waarde.xlsx"].findings
            if f.code == "formule-zonder-waarde"]
    assert keys == [("Invoer", c, "formule-zonder-waarde") for c in ("C8", "D8", "E8", "F8")]


@pytest.mark.parametrize("member", ["xl/sharedStrings.xml", "xl/workbook.xml",
                                    "[Content_Types].xml", "sheet"])
def test_entity_bomb_in_any_part_is_refused(tmp_path, programme, member):
    target = tmp_path / "lol.xlsx"
    with_dtd(HILVERSUM, target, sheet_member(HILVERSUM, "Rapportage Q3 2021")
             if member == "sheet" else member)
    submission = read_submission(target, programme)
    assert [f.key() for f in submission.findings] == [("", "", "bestand-onleesbaar")]
    assert submission.findings[0].detail.startswith("DTD in ")


def test_openpyxl_refuses_entities_too(corpus):
    """The feedback copy's reader: openpyxl parses through defusedxml when it is installed."""
    with pytest.raises(ValueError, match="could not read"):
        openpyxl.load_workbook(corpus["entiteitenbom.xlsx"])


def test_feedback_copy_of_every_corpus_file(checked, corpus, tmp_path):
    outdir = tmp_path / "terugkoppeling"
    for name, validation in checked.items():
        path = write_feedback_copy(corpus[name], validation.findings, outdir)
        assert path is not None and path.is_file(), name
        sheets = openpyxl.load_workbook(path).sheetnames
        refused = EXPECTED[name] & {"bestand-onleesbaar", "limiet-overschreden",
                                    "bestand-versleuteld", "bestand-te-groot"}
        if refused:
            assert sheets == [CONTROL_SHEET], name  # a bomb is never opened


# -- limits as settings -------------------------------------------------------------------

@pytest.fixture(scope="module")
def valid_file(tmp_path_factory, programme) -> Path:
    folder = tmp_path_factory.mktemp("geldig")
    return standard_submission(programme, folder / "Monitor_Blaricum_2021-Q3.xlsx", folder)


@pytest.mark.parametrize("limits, code, words", [
    (Limits(max_file_bytes=1000), "bestand-te-groot", "te groot"),
    (Limits(max_unpacked_bytes=20_000), "limiet-overschreden", "uitgepakt"),
    (Limits(max_members=5), "limiet-overschreden", "onderdelen"),
    (Limits(max_grid_cells=100), "limiet-overschreden", "loopt door tot cel"),
    (Limits(max_rows=15), "limiet-overschreden", "rijen (hoogstens 15)"),
    (Limits(max_columns=4), "limiet-overschreden", "kolommen (hoogstens 4)"),
    (Limits(max_text_chars=40), "limiet-overschreden", "tekens"),
    (Limits(seconds=0), "limiet-overschreden", "langer dan 0 seconden"),
])
def test_each_limit_is_a_finding(valid_file, programme, limits, code, words):
    assert read_submission(valid_file, programme).findings == []
    findings = read_submission(valid_file, programme, limits=limits).findings
    assert [f.code for f in findings] == [code]
    assert words in findings[0].message


def test_reading_in_a_child_gives_the_same_rows(valid_file, programme):
    in_process = read_submission(valid_file, programme)
    in_child = read_submission(valid_file, programme, limits=Limits(child_above_bytes=0))
    pd.testing.assert_frame_equal(in_child.rows, in_process.rows)
    assert in_child.findings == []


def test_a_hanging_reader_is_stopped(monkeypatch, corpus, programme):
    """An .ods is parsed in a child process; one that hangs is killed when time is up."""
    def hang(data, limits):
        time.sleep(60)

    monkeypatch.setattr(workbookfile, "_parse", hang)
    started = time.monotonic()
    submission = read_submission(corpus["opendocument.ods"], programme,
                                 limits=Limits(seconds=1))
    assert time.monotonic() - started < 10
    assert [f.code for f in submission.findings] == ["limiet-overschreden"]
    assert "langer dan 1 seconden" in submission.findings[0].message


# -- formula injection --------------------------------------------------------------------

PAYLOADS = ['=HYPERLINK("http://evil.example/x","klik")', "+SUM(1,2)",
            "-2+3+cmd|' /C calc'!A0", "@SUM(7)", "\t=44+55"]
MARKERS = ["evil.example", "SUM(1,2)", "cmd|", "SUM(7)", "44+55", "SUM(777)", "SUM(888)"]


def _sheets_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n).decode("utf-8") for n in archive.namelist()
                if n.endswith(".xml")}


def _formulas(xml_parts: dict[str, str]) -> list[str]:
    return [f for name, xml in xml_parts.items() if "/worksheets/" in name
            for f in re.findall(r"<(?:\w+:)?f\b[^>]*>([^<]*)</(?:\w+:)?f>", xml)]


def test_submitted_text_is_never_a_formula(tmp_path, programme):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    scratch = tmp_path / "werk"
    scratch.mkdir()

    def remarks(workbook, sheet):
        sheet.title = "=SUM(777)"  # a sheet name from the submission goes into Data[Blad]
        for row, payload in enumerate(PAYLOADS, start=8):
            cell = sheet.cell(row, 7, payload)
            cell.data_type = "s"  # text typed with a leading quote in Excel, not a formula

    source = standard_submission(programme, inbox / "=SUM(888) Blaricum.xlsx", scratch,
                                 remarks)
    result = consolidate(inbox, programme)
    assert not result.data.empty, result.findings
    assert {p.strip() for p in PAYLOADS} <= set(result.data["Toelichting"])
    master = write_master(result, tmp_path / "master.xlsx")
    parts = _sheets_xml(master)
    assert not [f for f in _formulas(parts) if any(m in f for m in MARKERS)]
    strings = parts.get("xl/sharedStrings.xml", "") + "".join(parts.values())
    for marker in MARKERS:
        assert marker in strings, f"{marker} should be in the master as text"
    # the feedback copy: the municipality's own sheet, and the Controle list naming it
    copy = write_feedback_copy(source, [finding("waarde-ontbreekt", file=source,
                                                sheet="=SUM(777)", cell="G8")],
                               tmp_path / "terugkoppeling")
    parts = _sheets_xml(copy)
    assert not [f for f in _formulas(parts) if any(m in f for m in MARKERS)]
    workbook = openpyxl.load_workbook(copy)
    assert [workbook["=SUM(777)"].cell(r, 7).value for r in range(8, 13)] == PAYLOADS
    assert all(workbook["=SUM(777)"].cell(r, 7).data_type == "s" for r in range(8, 13))


# -- one consolidation over the corpus plus the demo ----------------------------------------

_MEASURE = """
import json, pickle, resource, sys
from pathlib import Path
from xlmonitor.consolidation.merge import consolidate
from xlmonitor.programme.definition import load_programme

result = consolidate(Path(sys.argv[1]), load_programme())
Path(sys.argv[2]).write_bytes(pickle.dumps((result.data, result.matrix, result.peilperiode)))
print(json.dumps({
    "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    "codes": {name: sorted({f.code for f in found})
              for name, found in result.file_findings.items()},
    "skipped": sorted({(f.file, f.code) for f in result.findings
                       if f.code == "bestand-geen-spreadsheet"}),
    "status": dict(zip(result.register["Bestand"], result.register["Status"])),
}))
"""


@pytest.mark.slow
def test_consolidation_over_corpus_and_demo(tmp_path, corpus, programme):
    from xlmonitor.demo import write_demo_inbox

    demo = tmp_path / "demo"
    write_demo_inbox(programme, demo)
    combined = tmp_path / "alles"
    shutil.copytree(demo, combined)  # the same bytes and file times
    for path in corpus.values():
        shutil.copy2(path, combined / path.name)
    output = tmp_path / "resultaat.pickle"
    run = subprocess.run([sys.executable, "-c", _MEASURE, str(combined), str(output)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.splitlines()[-1])
    data, matrix, peilperiode = pickle.loads(output.read_bytes())

    alone = consolidate(demo, programme)
    pd.testing.assert_frame_equal(data, alone.data)
    pd.testing.assert_frame_equal(matrix, alone.matrix)
    assert peilperiode == alone.peilperiode
    for name in corpus:
        if name.endswith(".csv"):
            assert [name, "bestand-geen-spreadsheet"] in report["skipped"]
        else:
            assert report["codes"][name], f"{name} has no finding"
            assert report["status"][name] in ("afgekeurd", "vervangen"), name
    peak = max(report["self_kb"], report["children_kb"]) * 1024
    print(f"\npeak RSS: consolidation {report['self_kb'] / 1024:.0f} MiB, "
          f"largest reader child {report['children_kb'] / 1024:.0f} MiB")
    assert peak < GIB
