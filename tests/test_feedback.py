"""The feedback copy (``<name>.controle.xlsx``): what a municipal contact opens to fix a file.

The slow test at the end is the Done-when check of issue 3: the copy, opened in LibreOffice,
shows the fills, the comments and working links (converted to PDF and PNG).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter

from xlmonitor.errors import UsageError
from xlmonitor.feedback.marked_copy import COMMENT_AUTHOR, write_feedback_copy
from xlmonitor.findings import Finding, finding

RED, YELLOW = "FFC7CE", "FFEB9C"
HEADER = (
    "Projectcode",
    "Project",
    "Aanmeldingen",
    "Gestarte trajecten",
    "Afgeronde scholing",
    "Bemiddeld naar werk",
)
PROJECTS = ("ZorgStart", "Wijkleerbedrijf", "Hout", "Waardetas", "Taalvaardigheid")


def make_submission(path: Path) -> Path:
    """A filled-in standard workbook (sheet Invoer, header row 7) with two bad values."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Invoer"
    ws["A1"] = "Kwartaalrapportage Werken aan Werk"
    ws["A3"], ws["B3"] = "Gemeente", "Huizn"
    ws.merge_cells("B3:C3")
    ws["A4"], ws["B4"] = "Periode", "2021-Q3"
    for column, name in enumerate(HEADER, start=1):
        ws.cell(7, column, name)
    for row, name in enumerate(PROJECTS, start=8):
        ws.cell(row, 1, f"P{row - 7:02d}")
        ws.cell(row, 2, name)
        for column in range(3, 7):
            ws.cell(row, column, (row * column) % 17)
    ws["D12"] = "12,5"  # text with a decimal comma
    ws["E10"] = -3
    ws["F11"] = None  # left empty
    for column, width in zip("ABCDEF", (12, 20, 13, 17, 18, 19), strict=True):
        ws.column_dimensions[column].width = width
    # The municipality's own print setting: one page wide (so the test page shows it all).
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.save(path)
    return path


def make_findings(path: Path) -> list[Finding]:
    return [
        finding("waarde-ontbreekt", file=path, sheet="Invoer", cell="F11"),
        finding("geen-geheel-getal", file=path, sheet="Invoer", cell="D12", value="12,5"),
        finding(
            "regel-geschonden",
            file=path,
            sheet="Invoer",
            cell="D12",
            severity="waarschuwing",
            rule="bemiddeld naar werk is niet meer dan gestarte trajecten",
            value="12,5",
            expected="ten hoogste 9",
        ),
        finding("negatief-getal", file=path, sheet="Invoer", cell="E10", value=-3),
        # C3 lies inside the merged B3:C3: the mark goes on B3, which holds the value.
        finding(
            "gemeente-onbekend",
            file=path,
            sheet="Invoer",
            cell="C3",
            value="Huizn",
            expected="Huizen, Laren",
        ),
        finding(
            "periode-vergrendeld", file=path, period="2021-Q3", reason="vastgesteld in de raad"
        ),
    ]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def control_rows(ws) -> list[tuple[str, str, str, str]]:
    """The Controle table as (Ernst, Blad, Cel, Melding), below its header row."""
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Ernst")
    assert [ws.cell(header, c).value for c in range(1, 5)] == ["Ernst", "Blad", "Cel", "Melding"]
    return [
        tuple(ws.cell(r, c).value or "" for c in range(1, 5))
        for r in range(header + 1, ws.max_row + 1)
    ]


def comment_boxes(xlsx: Path) -> dict[str, tuple[int, int]]:
    """Cell -> (width, height) in px of each comment box, from the VML drawing."""
    with zipfile.ZipFile(xlsx) as archive:
        vml = "".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".vml"))
    boxes = {}
    for m in re.finditer(
        r"width:(\d+)px;height:(\d+)px.*?<(?:\w+:)?Row>(\d+)<.*?<(?:\w+:)?Column>(\d+)<",
        vml,
        re.S,
    ):
        width, height, row, column = map(int, m.groups())
        boxes[f"{get_column_letter(column + 1)}{row + 1}"] = (width, height)
    return boxes


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


@pytest.fixture
def submission(inbox: Path) -> Path:
    return make_submission(inbox / "huizen-2021-Q3.xlsx")


# --------------------------------------------------------------------------- the copy


def test_copy_marks_cells_and_lists_findings(submission: Path, tmp_path: Path):
    findings = make_findings(submission)
    before = sha256(submission)

    out = write_feedback_copy(submission, findings, tmp_path / "feedback")

    assert out == tmp_path / "feedback" / "huizen-2021-Q3.controle.xlsx"
    assert sha256(submission) == before, "the submission must not change"
    assert sorted(p.name for p in submission.parent.iterdir()) == [submission.name]
    assert [p.name for p in out.parent.iterdir()] == [out.name], "no temporary file left"

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Controle", "Invoer"]
    assert wb.active.title == "Controle"
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets] == [True, False]

    control = wb["Controle"]
    assert control["A1"].value == "Controle van huizen-2021-Q3.xlsx"
    assert control["A2"].value.startswith(
        "3 fouten, 3 waarschuwingen — los de fouten op en lever het bestand opnieuw aan"
    )
    by_message = {f.message: f for f in findings}
    rows = control_rows(control)
    # Errors first; within a severity the whole-file finding first, then in sheet order.
    assert [(ernst, blad, cel, by_message[m].code) for ernst, blad, cel, m in rows] == [
        ("Fout", "Invoer", "C3", "gemeente-onbekend"),
        ("Fout", "Invoer", "E10", "negatief-getal"),
        ("Fout", "Invoer", "D12", "geen-geheel-getal"),
        ("Waarschuwing", "(hele bestand)", "", "periode-vergrendeld"),
        ("Waarschuwing", "Invoer", "F11", "waarde-ontbreekt"),
        ("Waarschuwing", "Invoer", "D12", "regel-geschonden"),
    ]

    # Every Cel links inside the workbook to the marked cell (merged C3 -> its B3).
    header = next(r for r in range(1, 20) if control.cell(r, 1).value == "Ernst")
    links = {}
    for r in range(header + 1, control.max_row + 1):
        link = control.cell(r, 3).hyperlink
        if control.cell(r, 3).value:
            assert link is not None and link.target is None, "an internal link, not a URL"
            links[control.cell(r, 3).value] = link.location
        else:
            assert link is None
    assert links == {
        "C3": "'Invoer'!B3",
        "E10": "'Invoer'!E10",
        "D12": "'Invoer'!D12",
        "F11": "'Invoer'!F11",
    }
    with zipfile.ZipFile(out) as archive:
        rels = [archive.read(n).decode() for n in archive.namelist() if n.endswith(".rels")]
    assert not any("relationships/hyperlink" in r for r in rels), "no external link parts"

    invoer = wb["Invoer"]
    marks = {
        coordinate: invoer[coordinate].fill.fgColor.rgb[-6:]
        for coordinate in ("B3", "C3", "D12", "E10", "F11", "C8", "D11")
        if invoer[coordinate].fill.fill_type == "solid"
    }
    # D12 has an error and a warning: red wins.
    assert marks == {"B3": RED, "D12": RED, "E10": RED, "F11": YELLOW}
    # C3 is part of the merged B3:C3 and carries B3's style in the file (openpyxl resets the
    # style of merged cells when it reads them back, so look at the XML).
    with zipfile.ZipFile(out) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet2.xml").decode()
    styles = dict(re.findall(r'<c r="([BC]3)" s="(\d+)"', sheet_xml))
    assert styles["B3"] == styles["C3"], styles
    comments = {
        cell.coordinate: cell.comment for row in invoer.iter_rows() for cell in row if cell.comment
    }
    assert sorted(comments) == ["B3", "D12", "E10", "F11"]
    assert {c.author for c in comments.values()} == {COMMENT_AUTHOR}
    d12 = comments["D12"].text
    assert "'12,5' is geen geheel getal; vul een aantal in (0 of meer)." in d12
    assert "bemiddeld naar werk is niet meer dan gestarte trajecten" in d12
    assert d12.index("Fout:") < d12.index("Waarschuwing:")
    assert "-3 is negatief" in comments["E10"].text
    # Comment boxes are wide enough to read, and as tall as their text (openpyxl does not
    # read box sizes back, so look at the VML).
    boxes = comment_boxes(out)
    assert {width for width, _ in boxes.values()} == {340}
    assert boxes["D12"][1] == max(height for _, height in boxes.values())
    # The municipality's values are untouched.
    assert invoer["D12"].value == "12,5" and invoer["E10"].value == -3
    assert invoer["B3"].value == "Huizn"


def test_no_findings_writes_nothing_and_removes_an_outdated_copy(submission: Path, tmp_path: Path):
    outdir = tmp_path / "feedback"
    old = write_feedback_copy(submission, make_findings(submission), outdir)
    assert old is not None and old.exists()

    assert write_feedback_copy(submission, [], outdir) is None
    assert not old.exists(), "a fixed file must not keep its old list of errors"
    assert write_feedback_copy(submission, [], tmp_path / "nieuw") is None
    assert not (tmp_path / "nieuw").exists()


def test_never_writes_into_the_inbox(submission: Path, inbox: Path):
    findings = make_findings(submission)
    for outdir in (inbox, inbox / ".." / inbox.name):
        with pytest.raises(ValueError, match="inbox") as info:
            write_feedback_copy(submission, findings, outdir)
        assert isinstance(info.value, UsageError), "the CLI turns it into exit code 2"
    assert [p.name for p in inbox.iterdir()] == [submission.name]


def test_only_warnings_say_so(submission: Path, tmp_path: Path):
    warning = finding("waarde-ontbreekt", file=submission, sheet="Invoer", cell="F11")
    out = write_feedback_copy(submission, [warning], tmp_path / "feedback")
    control = openpyxl.load_workbook(out)["Controle"]
    assert control["A2"].value.startswith("Geen fouten; alleen 1 waarschuwing")


def test_mask_applies_to_every_message_written(submission: Path, tmp_path: Path):
    out = write_feedback_copy(
        submission,
        make_findings(submission),
        tmp_path / "feedback",
        mask=lambda text: text.replace("12,5", "[weggelaten]"),
    )
    wb = openpyxl.load_workbook(out)
    written = [c.value for row in wb["Controle"].iter_rows() for c in row if c.value]
    written += [c.comment.text for row in wb["Invoer"].iter_rows() for c in row if c.comment]
    assert any("[weggelaten]" in text for text in written)
    assert not any("12,5" in text for text in written)
    assert wb["Invoer"]["D12"].value == "12,5", "the mask is for messages, not the data"


def test_text_that_looks_like_a_formula_stays_text(inbox: Path, tmp_path: Path):
    # A sheet name or a message from a submission must never become a live formula.
    src = inbox / "laren.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "=1+1"
    wb.create_sheet("Gemeente's cijfers")["C5"] = "veel"
    wb.save(src)
    findings = [
        finding("geen-geheel-getal", file=src, sheet="=1+1", cell="A1", value="x"),
        finding("geen-geheel-getal", file=src, sheet="Gemeente's cijfers", cell="C5", value="veel"),
    ]
    out = write_feedback_copy(src, findings, tmp_path / "fb", mask=lambda text: "=" + text)
    with zipfile.ZipFile(out) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    control = openpyxl.load_workbook(out)["Controle"]
    rows = control_rows(control)
    assert {r[1] for r in rows} == {"=1+1", "Gemeente's cijfers"}
    assert all(r[3].startswith("=Cel") for r in rows)
    locations = {
        control.cell(r, 3).hyperlink.location
        for r in range(1, control.max_row + 1)
        if control.cell(r, 3).hyperlink
    }
    assert locations == {"'=1+1'!A1", "'Gemeente''s cijfers'!C5"}


def test_hidden_cells_are_shown_in_the_copy(inbox: Path, tmp_path: Path):
    src = inbox / "eemnes.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Invoer"
    ws["D9"] = -1
    ws.row_dimensions[9].hidden = True
    extra = wb.create_sheet("Oud")
    extra["B2"] = "x"
    extra.sheet_state = "hidden"
    wb.save(src)
    findings = [
        finding("negatief-getal", file=src, sheet="Invoer", cell="D9", value=-1),
        finding("geen-geheel-getal", file=src, sheet="Oud", cell="$B$2", value="x"),
    ]
    out = write_feedback_copy(src, findings, tmp_path / "fb")
    copy = openpyxl.load_workbook(out)
    assert not copy["Invoer"].row_dimensions[9].hidden
    assert copy["Oud"].sheet_state == "visible"
    assert copy["Oud"]["B2"].comment is not None
    assert openpyxl.load_workbook(src)["Oud"].sheet_state == "hidden"


def test_keeps_the_municipalitys_own_comment(inbox: Path, tmp_path: Path):
    src = inbox / "blaricum.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Invoer"
    wb.active["C8"] = "7,5"
    wb.active["C8"].comment = Comment("Halve trajecten meegeteld", "J. de Vries")
    wb.save(src)
    found = finding("geen-geheel-getal", file=src, sheet="Invoer", cell="C8", value="7,5")
    out = write_feedback_copy(src, [found], tmp_path / "fb")
    comment = openpyxl.load_workbook(out)["Invoer"]["C8"].comment
    assert comment.author == COMMENT_AUTHOR
    assert comment.text.startswith("Fout: Cel C8 (blad Invoer): '7,5' is geen geheel getal")
    assert comment.text.endswith("Eerdere opmerking: Halve trajecten meegeteld")


def test_finding_on_unknown_sheet_or_bad_cell_is_listed_without_link(
    submission: Path, tmp_path: Path
):
    findings = [
        finding("kolom-ontbreekt", file=submission, sheet="Invoer", column="Toelichting"),
        finding("geen-geheel-getal", file=submission, sheet="Blad9", cell="A1", value="?"),
        Finding("geen-geheel-getal", "fout", "Cel ?: kapot.", str(submission), "Invoer", "ZZ"),
    ]
    out = write_feedback_copy(submission, findings, tmp_path / "fb")
    control = openpyxl.load_workbook(out)["Controle"]
    header = next(r for r in range(1, 20) if control.cell(r, 1).value == "Ernst")
    got = {}
    for r in range(header + 1, control.max_row + 1):
        link = control.cell(r, 2).hyperlink or control.cell(r, 3).hyperlink
        got[(control.cell(r, 2).value, control.cell(r, 3).value)] = link and link.location
    # A sheet-level finding links to the sheet; a sheet that does not exist cannot be linked.
    assert got == {
        ("Invoer", None): "'Invoer'!A1",
        ("Blad9", "A1"): None,
        ("Invoer", "ZZ"): "'Invoer'!A1",
    }


# --------------------------------------------------------------------------- other sources


def to_xlsm(xlsx: Path, xlsm: Path) -> Path:
    """A macro-enabled package: macro content type plus a (dummy) VBA project part."""
    with zipfile.ZipFile(xlsx) as zin, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                ).replace(
                    b"</Types>",
                    b'<Override PartName="/xl/vbaProject.bin" '
                    b'ContentType="application/vnd.ms-office.vbaProject"/></Types>',
                )
            zout.writestr(item, data)
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not a real VBA project")
    return xlsm


def test_xlsm_becomes_macro_free_xlsx(inbox: Path, tmp_path: Path):
    xlsm = to_xlsm(make_submission(tmp_path / "bron.xlsx"), inbox / "hilversum.xlsm")
    before = sha256(xlsm)
    findings = make_findings(xlsm)

    out = write_feedback_copy(xlsm, findings, tmp_path / "feedback")

    assert out.name == "hilversum.xlsm.controle.xlsx"  # beside hilversum.xlsx's (issue 20)
    assert sha256(xlsm) == before
    with zipfile.ZipFile(out) as archive:
        assert not any("vba" in name.lower() for name in archive.namelist())
        types = archive.read("[Content_Types].xml").decode()
    assert "macroEnabled" not in types
    assert "spreadsheetml.sheet.main+xml" in types
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Controle", "Invoer"]
    texts = " ".join(str(c.value) for row in wb["Controle"].iter_rows() for c in row if c.value)
    assert "zonder macro's" in texts
    assert wb["Invoer"]["D12"].comment is not None


def make_ods(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return path


@pytest.mark.parametrize(
    "name, make",
    [
        ("tekst.xlsx", lambda p: p.write_text("Gemeente;Aanmeldingen\nHuizen;12\n")),
        ("leeg.xlsx", lambda p: p.write_bytes(b"")),
        ("oud.xls", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)),
        ("export.csv", lambda p: p.write_text("Gemeente,Aanmeldingen\nHuizen,12\n")),
        ("libre.ods", make_ods),
        ("afgebroken.xlsx", lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 40)),
    ],
)
def test_unreadable_source_gives_list_without_links(inbox: Path, tmp_path: Path, name, make):
    src = inbox / name
    make(src)
    before = sha256(src)
    findings = [
        finding("bestand-onleesbaar", file=src, reason="geen Excel-werkmap"),
        finding("geen-geheel-getal", file=src, sheet="Invoer", cell="D12", value="12,5"),
    ]

    out = write_feedback_copy(src, findings, tmp_path / "feedback")

    assert out == tmp_path / "feedback" / (
        f"{src.stem if src.suffix == '.xlsx' else src.name}.controle.xlsx")
    assert sha256(src) == before
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Controle"]
    control = wb["Controle"]
    assert control["A1"].value == f"Controle van {name}"
    assert [(r[0], r[1], r[2]) for r in control_rows(control)] == [
        ("Fout", "(hele bestand)", ""),
        ("Fout", "Invoer", "D12"),
    ]
    assert not any(c.hyperlink for row in control.iter_rows() for c in row)
    texts = " ".join(str(c.value) for row in control.iter_rows() for c in row if c.value)
    assert "kon niet als Excel-werkmap worden geopend" in texts


def test_a_rerun_writes_the_same_bytes(submission: Path, inbox: Path, tmp_path: Path):
    """openpyxl stamps the clock into docProps/core.xml (``dcterms:modified``) and zipfile into
    every member (to 2 seconds): the copy claims the source's modification time instead, so
    the same inbox gives the same copies, also the list-only copy of an unreadable source."""
    unreadable = inbox / "export.csv"
    unreadable.write_text("Gemeente,Aanmeldingen\nHuizen,12\n")
    saved = datetime(2021, 10, 18, 9, 30, 0, tzinfo=UTC)
    sources = {
        submission: make_findings(submission),
        unreadable: [finding("bestand-onleesbaar", file=unreadable, reason="geen werkmap")],
    }
    outdir = tmp_path / "feedback"
    first = {}
    for source, findings in sources.items():
        os.utime(source, (saved.timestamp(), saved.timestamp()))
        first[source] = write_feedback_copy(source, findings, outdir).read_bytes()
    time.sleep(2.2)
    for source, findings in sources.items():
        again = write_feedback_copy(source, findings, outdir)
        assert again.read_bytes() == first[source], source.name
        with zipfile.ZipFile(again) as archive:
            core = archive.read("docProps/core.xml").decode()
            assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        # Parsed, not matched as text: openpyxl spells the namespaces differently with lxml.
        times = {element.tag.rsplit("}", 1)[-1]: element.text
                 for element in ElementTree.fromstring(core)}
        assert times["modified"] == times["created"] == "2021-10-18T09:30:00Z"


def test_workbook_with_a_wrong_extension_is_still_marked(inbox: Path, tmp_path: Path):
    # A real xlsx saved as .xls: openpyxl refuses the *name*, the bytes are fine.
    src = inbox / "wijdemeren.xls"
    make_submission(tmp_path / "w.xlsx").rename(src)
    out = write_feedback_copy(src, make_findings(src), tmp_path / "feedback")
    assert out.name == "wijdemeren.xls.controle.xlsx"
    assert openpyxl.load_workbook(out)["Invoer"]["D12"].comment is not None


# --------------------------------------------------------------------------- LibreOffice


def pdf_annotations(pdf: Path) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    """Comments as (cell, text) and internal links as (text, target page index, 0-based).

    LibreOffice 7.x writes both as plain (uncompressed) annotation objects: a comment is a
    ``/Subtype /Text`` annotation (with the ``ExportNotes`` option), an in-workbook hyperlink
    a ``/Subtype/Link`` with a ``/Dest`` to a page object.
    """
    data = pdf.read_bytes()

    def text(hex_string: bytes) -> str:
        raw = bytes.fromhex(re.sub(rb"\s", b"", hex_string).decode())
        return raw.decode("utf-16") if raw[:2] == b"\xfe\xff" else raw.decode("latin-1")

    kids = re.search(rb"/Type\s*/Pages.*?/Kids\s*\[([^\]]*)\]", data, re.S)
    assert kids, "no page tree found"
    pages = [m.group(1) for m in re.finditer(rb"(\d+)\s+0\s+R", kids.group(1))]
    notes, links = [], []
    for m in re.finditer(rb"/Subtype\s*/(Text|Link)\b(.*?)>>", data, re.S):
        body = m.group(2)
        contents = re.search(rb"/Contents\s*<([0-9A-Fa-f\s]*)>", body)
        if m.group(1) == b"Text":
            cell = re.search(rb"/T\s*<([0-9A-Fa-f\s]*)>", body)
            assert contents and cell, body
            notes.append((text(cell.group(1)), text(contents.group(1))))
        elif dest := re.search(rb"/Dest\s*\[\s*(\d+)\s+0\s+R", body):
            links.append((text(contents.group(1)) if contents else "", pages.index(dest.group(1))))
    return notes, links


def page_text(pdf: Path, page: int, *extra: str) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils) is missing"
    return subprocess.run(
        [pdftotext, "-f", str(page), "-l", str(page), *extra, str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def word_box(pdf: Path, page: int, word: str) -> tuple[float, float, float, float]:
    """(xMin, yMin, xMax, yMax) in PDF points of ``word`` on ``page``."""
    html = page_text(pdf, page, "-bbox")
    for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        html,
    ):
        if m.group(5) == word:
            return tuple(float(m.group(i)) for i in range(1, 5))  # type: ignore[return-value]
    raise AssertionError(f"{word!r} not on page {page}")


def near(rgb: tuple[int, ...], hex_colour: str, tolerance: int = 8) -> bool:
    want = bytes.fromhex(hex_colour)
    return all(abs(a - b) <= tolerance for a, b in zip(rgb[:3], want, strict=True))


@pytest.mark.slow
def test_libreoffice_shows_marks_comments_and_links(soffice: str, submission: Path, tmp_path: Path):
    from PIL import Image

    from xlmonitor import libreoffice

    out = write_feedback_copy(submission, make_findings(submission), tmp_path / "feedback")
    # ExportNotes: LibreOffice puts every cell comment into the PDF as a note annotation.
    pdf = libreoffice.convert(
        out,
        'pdf:calc_pdf_Export:{"ExportNotes":{"type":"boolean","value":"true"}}',
        tmp_path / "pdf",
    )
    dpi = 110
    first = libreoffice.pdf_to_png(
        pdf, tmp_path / "png" / "pagina.png", dpi=dpi, first_page_only=False
    )
    pngs = [first, *sorted(first.parent.glob("pagina-*.png"))]
    assert len(pngs) == 2, "Controle and Invoer each fit on one page"

    # Page 1 is the Controle sheet, page 2 the municipality's sheet.
    control_text = page_text(pdf, 1, "-layout")
    assert "Controle van huizen-2021-Q3.xlsx" in control_text
    assert "3 fouten, 3 waarschuwingen" in control_text
    assert "Ernst" in control_text and "Melding" in control_text
    assert "Projectcode" in page_text(pdf, 2) and "Controle van" not in page_text(pdf, 2)

    notes, links = pdf_annotations(pdf)
    comments = dict(notes)
    assert sorted(comments) == ["B3", "D12", "E10", "F11"]
    assert "'12,5' is geen geheel getal" in comments["D12"]
    assert "bemiddeld naar werk" in comments["D12"]
    assert "-3 is negatief" in comments["E10"]
    # Every Cel in the Controle table is a link that jumps to the page of sheet Invoer.
    assert sorted(links) == [("C3", 1), ("D12", 1), ("D12", 1), ("E10", 1), ("F11", 1)]

    # The fill is on the cells: red right of the text "12,5" and "-3", yellow somewhere.
    with Image.open(pngs[1]) as image:
        page = image.convert("RGB")
        scale = dpi / 72
        for word in ("12,5", "-3"):
            x_min, y_min, x_max, y_max = word_box(pdf, 2, word)
            y = int((y_min + y_max) / 2 * scale)
            # "12,5" is text (left-aligned): look right of it; -3 is a number: look left.
            x = int((x_max + 6) * scale) if word == "12,5" else int((x_min - 6) * scale)
            assert near(page.getpixel((x, y)), RED), (word, page.getpixel((x, y)))
        colours = page.getcolors(maxcolors=1 << 20)
        yellow = sum(count for count, rgb in colours if near(rgb, YELLOW))
        red = sum(count for count, rgb in colours if near(rgb, RED))
    assert yellow > 300, yellow
    assert red > 3 * 300, red
    with Image.open(pngs[0]) as image:  # the Ernst column is coloured too
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert sum(count for count, rgb in colours if near(rgb, RED)) > 300
