"""The Consolideer button: ``workbooks/master.xlsm``, its VBA project and
``xlmonitor.excel.button``.

No Excel here. The VBA project is checked through what others read of it: oletools' olevba
(the sources of the modules), olefile (the PROJECT stream), LibreOffice (which imports the
project and writes it back). The Python side runs against a real xlwings ``Book``: xlwings'
remote-interpreter engine, ``xlwings.Book(json=…)``, fed the JSON its VBA client
(``xlwings/addin/Remote.bas``) sends, here read from the built workbook itself; the actions
the book collects (``book.json()``) are what Excel would be told to do.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import olefile
import openpyxl
import pandas as pd
import pytest
import xlwings
from openpyxl.utils import get_column_letter, range_boundaries
from synthetic import (
    independent_figures,
    laid_out,
    mismatches,
    programme_quarters,
    read_table,
    table_refs,
)
from vba_source import vba_modules

from xlmonitor import libreoffice
from xlmonitor.build import build_master_workbook
from xlmonitor.consolidation.cache import FOLDER_NAME
from xlmonitor.consolidation.merge import (
    DATA_COLUMNS,
    FINDING_COLUMNS,
    REGISTER_COLUMNS,
    consolidate,
)
from xlmonitor.demo import write_demo_inbox
from xlmonitor.excel import button as excel
from xlmonitor.master import contract, publish, settings_sheet, submissions_sheet, vba
from xlmonitor.programme.definition import load_programme
from xlmonitor.template.standard import build_template

REPO = Path(__file__).resolve().parent.parent
MASTER = REPO / "workbooks" / "master.xlsm"
MACROS = REPO / "macros"
NOW = datetime(2022, 8, 1, 9, 30)



def project_declarations(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as package:
        ole = olefile.OleFileIO(package.read(vba.VBA_ENTRY))
    try:
        text = ole.openstream("PROJECT").read().decode("cp1252")
    finally:
        ole.close()
    return [line for line in text.split("\r\n")
            if line.split("=")[0] in ("Document", "Module", "Class")]


def without_attributes(source: str) -> str:
    return "\n".join(line for line in source.replace("\r\n", "\n").split("\n")
                     if not line.startswith("Attribute VB_"))


# -- the macro source -------------------------------------------------------------------------

BAS_FILES = sorted(MACROS.glob("*.bas"))


def test_there_is_a_macro_module():
    assert [f.name for f in BAS_FILES] == ["Consolideren.bas"]


@pytest.mark.parametrize("bas", BAS_FILES, ids=lambda p: p.name)
def test_bas_file_is_importable_by_excel(bas):
    raw = bas.read_bytes()
    assert raw.isascii(), "the VBA project stores code page 1252: keep the source ASCII"
    assert b"\n" not in raw.replace(b"\r\n", b""), "VBE exports CRLF line ends"
    name = re.match(rb'Attribute VB_Name = "(\w+)"\r\n', raw)
    assert name, "the first line names the module"
    subs = re.findall(rb"^(?:Public |Private )?(?:Sub|Function) (\w+)", raw, re.MULTILINE)
    assert name.group(1) not in subs, "a module named like its Sub makes the button ambiguous"


def vba_string(expression: str, constants: dict[str, str]) -> str:
    """Value of a VBA string expression of literals, constants, ``&`` and ``_`` line
    continuations (enough for the strings in our module)."""
    parts = re.findall(r'"((?:[^"]|"")*)"|(\w+)', expression.replace(" _\r\n", " "))
    return "".join(literal.replace('""', '"') if not name else constants[name]
                   for literal, name in parts)


def test_the_python_the_button_starts_can_run_it():
    source = (MACROS / "Consolideren.bas").read_bytes().decode("ascii")
    command = re.search(r'PYTHON_COMMAND As String = "([^"]+)"', source).group(1)
    check = re.search(r"check = (.*?)\r\n\s*On Error", source, re.DOTALL).group(1)

    def run(code: str) -> int:
        return subprocess.run([sys.executable, "-c", code], capture_output=True,
                              check=False, cwd=REPO).returncode

    # The probe: 0 with the xlwings version of the workbook's VBA, 3 with any other.
    assert run(vba_string(check, {"XLWINGS_VERSION": xlwings.__version__})) == 0
    assert run(vba_string(check, {"XLWINGS_VERSION": "0.0.1"})) == 3
    # RunPython's command imports the entry point (calling it needs Excel).
    assert command.endswith("xlmonitor.excel.consolideer()")
    assert run(command.removesuffix("()") + "; import sys; sys.exit(0)") == 0


# -- the built workbook: VBA project ------------------------------------------------------------

@pytest.fixture(scope="module")
def master_modules() -> dict[str, str]:
    return vba_modules(MASTER)


@pytest.mark.parametrize("bas", BAS_FILES, ids=lambda p: p.name)
def test_every_macro_module_is_in_the_master(master_modules, bas):
    name = bas.stem
    assert name in master_modules
    assert without_attributes(bas.read_text("ascii")) == without_attributes(master_modules[name])


def test_button_macro_is_a_sub_and_the_button_calls_it(master_modules):
    source = master_modules["Consolideren"]
    assert re.search(r"^Public Sub Consolideer\(\)$", source, re.MULTILINE)
    assert re.search(r"^Public Sub Rapport\(\)$", source, re.MULTILINE)
    assert 'RunPython(pythonCode)' in source
    assert ('PYTHON_COMMAND As String = '
            '"import xlmonitor.excel; xlmonitor.excel.consolideer()"') in source
    assert ('REPORT_COMMAND As String = '
            '"import xlmonitor.report.button; xlmonitor.report.button.rapport()"') in source
    assert "Python of xlmonitor is niet gevonden op deze computer." in source
    with zipfile.ZipFile(MASTER) as package:
        drawings = [package.read(n).decode() for n in package.namelist()
                    if n.startswith("xl/drawings/vmlDrawing")]
    assert any("<x:FmlaMacro>[0]!Consolideer</x:FmlaMacro>" in d and ">Consolideer<" in d
               for d in drawings), "a Form button on Dashboard bound to Consolideer"
    assert any("<x:FmlaMacro>[0]!Rapport</x:FmlaMacro>" in d and ">Rapport<" in d
               for d in drawings), "a Form button on Dashboard bound to Rapport"


def test_xlwings_module_is_the_installed_one(master_modules):
    source = master_modules["xlwings"]
    version = re.search(r'^Public Const XLWINGS_VERSION As String = "([^"]+)"', source,
                        re.MULTILINE)
    assert version and version.group(1) == xlwings.__version__
    quickstart = vba_modules(vba.quickstart_workbook())
    assert source == quickstart["xlwings"]
    assert master_modules["Dictionary"] == quickstart["Dictionary"]
    assert "Module1" not in master_modules, "the quickstart's sample module is left out"


def test_document_modules_match_the_sheet_code_names():
    names = vba.document_names(MASTER)
    assert names == ["ThisWorkbook"] + [f"Sheet{i}" for i in range(1, len(names))]
    declared = project_declarations(MASTER)
    documents = [line.split("=")[1].split("/")[0] for line in declared
                 if line.startswith("Document=")]
    assert sorted(documents) == sorted(names)
    assert sorted(line for line in declared if not line.startswith("Document=")) == [
        "Class=Dictionary", "Class=IWebAuthenticator", "Class=WebClient", "Class=WebRequest",
        "Class=WebResponse", "Module=Consolideren", "Module=Remote", "Module=WebHelpers",
        "Module=xlwings"]
    sheets = sheet_names(MASTER)
    assert sheets[-2:] == [contract.SETTINGS_SHEET, contract.NOTES_SHEET]
    assert sheets[0] == "Dashboard"
    assert len(sheets) == len(names) - 1


def test_fixed_project_stream_declares_documents_and_closes_workspace_gaps():
    text = ("ID=\"{X}\"\r\nDocument=ThisWorkbook/&H00000000\r\nClass=Sheet3\r\nClass=Dict\r\n"
            "Name=\"VBAProject\"\r\n\r\n[Workspace]\r\nThisWorkbook=0, 0, 0, 0, C\r\n\r\n"
            "Sheet3=0, 0, 0, 0, C\r\n\r\n")
    fixed = vba._fixed_project_stream(text, ["Sheet3"])
    assert "Document=Sheet3/&H00000000\r\n" in fixed and "Class=Dict\r\n" in fixed
    assert fixed.endswith("ThisWorkbook=0, 0, 0, 0, C\r\nSheet3=0, 0, 0, 0, C\r\n\r\n")


def test_rebuilding_the_master_gives_identical_bytes(tmp_path):
    programme = load_programme(REPO / "workbooks" / "programma.xlsx")
    rebuilt = build_master_workbook(tmp_path / "master.xlsm", programme=programme)
    assert rebuilt.read_bytes() == MASTER.read_bytes(), (
        "workbooks/master.xlsm is stale: run 'xlmonitor build-workbooks'")


def test_vba_project_of_the_master_is_what_the_scheduled_run_reuses():
    with zipfile.ZipFile(MASTER) as package:
        assert vba.packaged_vba_project() == package.read(vba.VBA_ENTRY)


def test_settings_sheet_round_trips(tmp_path):
    programme = load_programme()
    inbox = tmp_path / "gedeeld" / "inbox"
    inbox.mkdir(parents=True)
    master = tmp_path / "gedeeld" / "master.xlsm"
    values = settings_sheet.settings_for(master, inbox=inbox, feedback=tmp_path / "terug")
    assert values == {"Inbox": "inbox", "Terugkoppeling": "../terug", "Programma": "",
                      "Python": "", "Server": "", "Token": ""}
    publish.write_button_master(consolidate(inbox, programme), master, settings=values)
    assert settings_sheet.saved_settings(master) == values
    assert vba.document_names(master) == vba.document_names(MASTER)
    assert settings_sheet.saved_settings(tmp_path / "bestaat-niet.xlsm") == {}


# -- LibreOffice opens it -------------------------------------------------------------------------

def cached(path: Path, sheet: str) -> dict[str, object]:
    book = openpyxl.load_workbook(path, data_only=True)
    try:
        return {cell.coordinate: cell.value for row in book[sheet].iter_rows() for cell in row
                if cell.value is not None}
    finally:
        book.close()


def formula_cells(path: Path, sheet: str) -> list[str]:
    book = openpyxl.load_workbook(path)
    try:
        return [cell.coordinate for row in book[sheet].iter_rows() for cell in row
                if isinstance(cell.value, str) and cell.value.startswith("=")]
    finally:
        book.close()


def test_libreoffice_opens_recalculates_and_keeps_the_vba(soffice, tmp_path):
    pdf = libreoffice.to_pdf(MASTER, tmp_path / "master.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    recalculated = libreoffice.recalculate(MASTER, tmp_path / "herberekend.xlsm")
    before, after = cached(MASTER, "Dashboard"), cached(recalculated, "Dashboard")
    formulas = formula_cells(MASTER, "Dashboard")
    assert len(formulas) > 50
    differ = [(ref, before.get(ref), after.get(ref)) for ref in formulas
              if not _same(before.get(ref), after.get(ref))]
    assert differ == []
    # LibreOffice parsed the project we wrote (dir stream, module streams, PROJECT): it
    # imports it and writes every module back.
    again = vba_modules(recalculated)
    assert without_attributes(again["Consolideren"]).strip() == without_attributes(
        (MACROS / "Consolideren.bas").read_text("ascii")).strip()
    assert {f"Sheet{i}" for i in range(1, 8)} <= set(again)


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, datetime) or isinstance(b, datetime):
        return a == b
    return (a or None) == (b or None)


# -- the Python side against a real xlwings Book --------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gedeelde-schijf")
    programme = load_programme()
    write_demo_inbox(programme, folder / "inbox")
    return folder, programme, consolidate(folder / "inbox", programme)


def actions(book) -> list[dict]:
    return book.json()["actions"]


def sheet_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as package:
        return re.findall(r'<sheet name="([^"]+)"', package.read("xl/workbook.xml").decode())


def sheet_index(name: str) -> int:
    return sheet_names(MASTER).index(name)


def expected_rows(frame, columns: list[str]) -> list[list]:
    """Rows as the remote engine sends them: text with Excel's quote prefix, dates ISO,
    numbers as numbers, empty as ""."""
    rows = []
    for record in frame[columns].to_dict("records"):
        row = []
        for column in columns:
            value = record[column]
            if value is None or value is pd.NaT or (isinstance(value, float)
                                                    and math.isnan(value)):
                row.append("")
            elif isinstance(value, datetime):
                row.append(value.isoformat(sep=" ") if value.time() != datetime.min.time()
                           else value.date().isoformat())
            elif isinstance(value, date):
                row.append(value.isoformat())
            elif isinstance(value, str):
                row.append("'" + value if value else "")
            else:
                row.append(value)
        rows.append(row)
    return rows


def test_button_refreshes_the_open_book(demo, remote_book, tmp_path, monkeypatch):
    folder, programme, wanted = demo
    shutil.copy(MASTER, folder / "master.xlsm")
    monkeypatch.chdir(folder)  # a remote book has no folder: relative settings use the cwd
    book = remote_book(folder / "master.xlsm")
    result = excel.consolideer(book, now=NOW)
    assert result is not None
    done = actions(book)

    def table_actions(table: str, sheet: str, columns: list[str], top: int, rows: int):
        at = sheet_index(sheet)
        resize = [a for a in done if a["func"] == "resizeTable" and a["sheet_position"] == at]
        last = get_column_letter(len(columns))
        assert [a["args"][1] for a in resize] == [f"$A${top}:${last}${top + max(rows, 1)}"]
        written = [a for a in done if a["func"] == "setValues" and a["sheet_position"] == at
                   and a["start_row"] == top and a["start_column"] == 0]
        assert len(written) == 1, table
        return written[0]

    data = table_actions("tblData", "Data", DATA_COLUMNS, 1, len(wanted.data))
    assert data["row_count"] == len(wanted.data) == 554
    assert data["values"] == expected_rows(wanted.data, DATA_COLUMNS)
    assert data["values"][0][:4] == ["'Blaricum", "'GM0376", "'2020-Q3", "2020-09-30"]

    register = table_actions("tblInzendingen", "Inzendingen", REGISTER_COLUMNS, 15,
                             len(wanted.register))
    assert register["values"] == expected_rows(wanted.register, REGISTER_COLUMNS)
    findings = table_actions("tblBevindingen", "Validatie", FINDING_COLUMNS, 5,
                             len(wanted.findings))
    assert findings["values"] == expected_rows(wanted.findings_frame(), FINDING_COLUMNS)

    # The shipped master (empty inbox) lays out every quarter of the programme: the button
    # fills in all of them, including those after the quarter the master was built in.
    matrix = [a for a in done if a["func"] == "setValues"
              and a["sheet_position"] == sheet_index("Inzendingen") and a["start_row"] == 5]
    assert laid_out(MASTER)["matrix"] == list(wanted.matrix.columns)
    assert [(a["start_column"], a["values"]) for a in matrix] == [
        (1, [["'" + status for status in wanted.matrix.loc[m]]
             for m in programme.municipalities.index])]
    assert {v for row in matrix[0]["values"] for v in row} == {
        "'ontvangen", "'ontbreekt", "'later"}

    status = [a for a in done if a["func"] == "setValues" and a["sheet_position"] == 0]
    assert [(a["start_row"], a["start_column"]) for a in status] == [(2, 0)]  # named Status
    text = status[0]["values"][0][0]
    errors = sum(f.is_error for f in wanted.findings)
    assert text.startswith("'Bijgewerkt: 01-08-2022 09:30 met de knop Consolideer")
    assert f"{len(wanted.data)} rijen, {errors} fout(en)" in text

    alert = [a for a in done if a["func"] == "alert"]
    assert len(alert) == 1 and alert[0]["args"][1] == "Consolideer"
    assert f"{len(wanted.findings)} bevinding(en), waarvan {errors} fout(en)" in \
        alert[0]["args"][0]
    feedback = sorted((folder / "terugkoppeling").glob("*.controle.xlsx"))
    assert len(feedback) == sum(1 for f in wanted.file_findings.values() if f) > 0
    assert f"Terugkoppeling voor {len(feedback)} bestand(en)" in alert[0]["args"][0]
    assert [a["func"] for a in done].count("calculate") == 1
    # The analyst's explanations on Toelichting are never touched by the button.
    notes = sheet_index(contract.NOTES_SHEET)
    assert [a for a in done if a.get("sheet_position") == notes] == []


def test_the_rapport_button_writes_the_monitor_beside_the_workbook(demo, remote_book,
                                                                  tmp_path, monkeypatch):
    import docx

    from xlmonitor.report import button

    folder, programme, wanted = demo
    master = publish.write_button_master(
        wanted, tmp_path / "master.xlsm", peilperiode="2021-Q4",
        settings=settings_sheet.settings_for(tmp_path / "master.xlsm"))
    monkeypatch.chdir(tmp_path)  # a remote book has no folder: the cwd stands in for it
    book = remote_book(master)
    written = button.rapport(book)
    assert written == tmp_path / "Monitor 2021-Q4.docx"
    assert "peilperiode 2021-Q4" in docx.Document(str(written)).paragraphs[1].text
    alert = [a for a in actions(book) if a["func"] == "alert"]
    assert len(alert) == 1 and alert[0]["args"][1] == "Rapport"
    assert "De Monitor over 2021-Q4 staat in:" in alert[0]["args"][0]


def test_the_button_uses_the_nightly_cache_beside_the_master(demo, remote_book,
                                                             monkeypatch):
    """With the nightly job's .xlmonitor-cache beside the master a click reads only new and
    changed files, and gives what a run without cache gives; without it none is made."""
    folder, _programme, wanted = demo
    shutil.copy(MASTER, folder / "master.xlsm")
    monkeypatch.chdir(folder)
    book = remote_book(folder / "master.xlsm")
    assert excel.shared_cache(folder) is None
    assert not (folder / FOLDER_NAME).exists()
    (folder / FOLDER_NAME).mkdir()
    log = folder / "xlmonitor.log"
    log.unlink(missing_ok=True)
    try:
        first = excel.consolideer(book, now=NOW)
        assert any((folder / FOLDER_NAME).glob("*.json.gz"))
        second = excel.consolideer(remote_book(folder / "master.xlsm"), now=NOW)
    finally:
        shutil.rmtree(folder / FOLDER_NAME)
    files = int((wanted.register["Status"] != "overgeslagen").sum())
    # What the log tells IT: the first click read every file, the second none.
    assert [line.split("cache: ")[1] for line in log.read_text("utf-8").splitlines()
            if "cache: " in line] == [f"0 bestand(en) uit de cache, {files} gelezen",
                                      f"{files} bestand(en) uit de cache, 0 gelezen"]
    for result in (first, second):
        pd.testing.assert_frame_equal(result.consolidation.data, wanted.data)
        assert result.consolidation.findings == wanted.findings


def test_an_emptier_inbox_shrinks_the_tables(demo, remote_book, tmp_path, monkeypatch):
    folder, programme, full = demo
    master = tmp_path / "master.xlsm"
    publish.write_button_master(full, master, settings={"Inbox": "leeg"})
    (tmp_path / "leeg").mkdir()
    monkeypatch.chdir(tmp_path)
    book = remote_book(master)
    excel.consolideer(book, now=NOW)
    done = actions(book)
    data = sheet_index("Data")
    assert [a["args"][1] for a in done
            if a["func"] == "resizeTable" and a["sheet_position"] == data] == ["$A$1:$O$2"]
    cleared = [a for a in done if a["func"] == "rangeClearContents"
               and a["sheet_position"] == data]
    assert [(a["start_row"], a["row_count"], a["column_count"]) for a in cleared] == [
        (2, len(full.data) - 1, len(DATA_COLUMNS))]
    body = [a for a in done if a["func"] == "setValues" and a["sheet_position"] == data]
    assert body[0]["values"] == [[""] * len(DATA_COLUMNS)]
    assert not (tmp_path / "terugkoppeling").exists(), "Terugkoppeling left empty: none"


def test_a_missing_inbox_is_a_dutch_message_not_a_traceback(remote_book, tmp_path,
                                                           monkeypatch):
    shutil.copy(MASTER, tmp_path / "master.xlsm")
    monkeypatch.chdir(tmp_path)  # Instellingen says "inbox", which does not exist here
    book = remote_book(tmp_path / "master.xlsm")
    assert excel.consolideer(book, now=NOW) is None
    done = actions(book)
    assert [a["func"] for a in done] == ["setValues", "alert"]
    assert "De inbox-map" in done[1]["args"][0] and done[1]["args"][3] == "critical"
    assert done[0]["values"][0][0].startswith("'Niet bijgewerkt (01-08-2022 09:30)")


def test_settings_are_read_from_the_book(remote_book, tmp_path, monkeypatch):
    book = remote_book(MASTER)
    assert excel.read_settings(book) == {"Inbox": "inbox", "Terugkoppeling": "terugkoppeling",
                                         "Programma": "", "Python": "", "Server": "",
                                         "Token": ""}
    master = tmp_path / "master.xlsm"
    resolved = excel.sheet_settings({"Inbox": "in", "Programma": "p.xlsx"}, master)
    assert resolved.inbox == tmp_path / "in" and resolved.feedback is None
    assert resolved.programme == tmp_path / "p.xlsx" and resolved.master == master
    # One settings model: the nightly job's xlmonitor.toml beside the master sets what the
    # sheet does not (how long to wait for a run, the log); the sheet wins where both speak.
    (tmp_path / "xlmonitor.toml").write_text(
        'inbox = "elders"\nwacht_seconden = 7\nlog = "logs/x.log"\n', "utf-8")
    resolved = excel.sheet_settings({"Inbox": "in"}, master)
    assert (resolved.inbox, resolved.lock_wait, resolved.log) == (
        tmp_path / "in", 7.0, tmp_path / "logs" / "x.log")
    monkeypatch.chdir(tmp_path)  # a remote book has no folder: the cwd is its folder
    clicked = excel.book_settings(book)
    assert (clicked.master, clicked.inbox, clicked.jobs) == (master, tmp_path / "inbox", 1)
    elsewhere = tmp_path / "gedeeld" / "master.xlsm"  # a server knows the master's path
    served = excel.book_settings(book, master=elsewhere)
    assert (served.master, served.inbox) == (elsewhere, elsewhere.parent / "inbox")


def test_table_values_are_the_values_publish_writes(demo, tmp_path):
    _, _, consolidation = demo
    master = publish.write_button_master(consolidation, tmp_path / "master.xlsm",
                                       settings={})
    refs = table_refs(master)
    values = excel.table_values(consolidation)
    book = openpyxl.load_workbook(master)
    try:
        for table, rows in values.items():
            sheet, ref = refs[table]
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            written = [list(r) for r in book[sheet].iter_rows(
                min_row=min_row + 1, max_row=max_row, min_col=min_col, max_col=max_col,
                values_only=True)]
            assert [[_plain(v) for v in row] for row in rows] == \
                [[_plain(v) for v in row] for row in written], table
    finally:
        book.close()


def _plain(value: object) -> object:
    """A value as publish's cell holds it: text without Excel's quote prefix, dates as dates,
    numbers as floats."""
    if isinstance(value, str):
        return (value[1:] if value.startswith("'") else value) or None
    if isinstance(value, datetime):
        return value if value.time() != datetime.min.time() else value.date()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


# -- end to end: the actions applied, then recalculated --------------------------------------------

def replay(path: Path, payload_actions: list[dict], dest: Path, peilperiode: str) -> Path:
    """Apply the collected actions to a copy of ``path`` as Excel would (tables resized,
    values set, ranges cleared), pick ``peilperiode`` on Dashboard, save as ``dest``."""
    book = openpyxl.load_workbook(path, keep_vba=True)
    sheets = book.worksheets
    for action in payload_actions:
        if action["func"] in ("alert", "calculate"):
            continue
        sheet = sheets[action["sheet_position"]]
        if action["func"] == "resizeTable":
            table = list(sheet.tables.values())[action["args"][0]]
            table.ref = action["args"][1].replace("$", "")
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
        elif action["func"] == "setValues":
            for i, row in enumerate(action["values"]):
                for j, value in enumerate(row):
                    sheet.cell(action["start_row"] + 1 + i, action["start_column"] + 1 + j,
                               _excel_value(value))
        elif action["func"] == "rangeClearContents":
            for i in range(action["row_count"]):
                for j in range(action["column_count"]):
                    sheet.cell(action["start_row"] + 1 + i,
                               action["start_column"] + 1 + j).value = None
        else:
            raise AssertionError(f"unexpected action {action['func']}")
    book["Dashboard"]["B4"] = peilperiode
    book.save(dest)
    book.close()
    return dest


def _excel_value(value: object) -> object:
    if isinstance(value, str):
        if value.startswith("'"):
            return value[1:]
        if re.fullmatch(r"\d{4}-\d\d-\d\d", value):
            return date.fromisoformat(value)
        if re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value):
            return datetime.fromisoformat(value)
        return value or None
    return value


@pytest.mark.slow
def test_dashboard_after_the_button_equals_pandas(soffice, demo, remote_book, tmp_path,
                                                  monkeypatch):
    folder, _, wanted = demo
    shutil.copy(MASTER, tmp_path / "master.xlsm")
    (tmp_path / "inbox").symlink_to(folder / "inbox")
    monkeypatch.chdir(tmp_path)
    book = remote_book(tmp_path / "master.xlsm")
    excel.consolideer(book, now=NOW)
    refreshed = replay(MASTER, actions(book), tmp_path / "na-de-knop.xlsm", "2021-Q2")
    recalculated = libreoffice.recalculate(refreshed, tmp_path / "herberekend.xlsx")
    # Every figure, "Kwartalen geleverd" too: the master's quarter list (Doelen,
    # tblKwartalen) holds every quarter of the programme, not only the one it was built in.
    assert mismatches(recalculated, table_refs(recalculated),
                      independent_figures(wanted, "2021-Q2")) == []


# -- a quarter that started after the master was written -------------------------------------------

NEW_QUARTER = "2022-Q3"  # the demo inbox ends at 2022-Q2


def delivered_file(programme, municipality: str, period: str, path: Path,
                   counts: tuple[int, int, int, int] = (3, 2, 1, 1)) -> Path:
    """The standard template for ``municipality`` and ``period``, every project filled in
    with ``counts`` (aanmeldingen, gestart, scholing, werk: within every rule)."""
    build_template(programme, municipality, period, path)
    book = openpyxl.load_workbook(path)
    sheet = book["Invoer"]
    sheet["B5"] = datetime(2022, 10, 12)
    for row in range(8, sheet.max_row + 1):
        if sheet.cell(row, 1).value in programme.projects.index:
            for offset, count in enumerate(counts):
                sheet.cell(row, 3 + offset).value = count
    book.save(path)
    stamp = datetime(2022, 10, 12, 15, 0).timestamp()
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture(scope="module")
def new_quarter(demo, tmp_path_factory):
    """A master written for the demo inbox (last reported quarter 2022-Q2); then Blaricum's
    file for 2022-Q3 arrives. Returns (master, consolidation of the inbox now)."""
    folder, programme, before = demo
    shared = tmp_path_factory.mktemp("nieuw-kwartaal")
    inbox = shared / "inbox"
    shutil.copytree(folder / "inbox", inbox)
    master = publish.write_button_master(before, shared / "master.xlsm",
                                       settings={"Inbox": str(inbox), "Terugkoppeling": ""})
    delivered_file(programme, "Blaricum", NEW_QUARTER,
                   inbox / f"Monitor_Blaricum_{NEW_QUARTER}.xlsx")
    after = consolidate(inbox, programme)
    assert NEW_QUARTER in set(after.data["Periode"])  # the premise: the file was accepted
    return master, after


def test_a_new_quarter_is_laid_out_before_anyone_reports_it(demo, new_quarter):
    _, programme, before = demo
    master, _ = new_quarter
    assert before.data["Periode"].max() == "2022-Q2"
    layout = laid_out(master)
    quarters = programme_quarters(programme)
    assert NEW_QUARTER in quarters and quarters[-1] == "2023-Q4"
    # Selectable in the Dashboard's drop-down, a row of the trend, a column of the matrix:
    assert layout["Kwartalen"] == layout["tblVerloop"] == layout["matrix"] == quarters
    # … where nobody is asked for it yet.
    assert {row[quarters.index(NEW_QUARTER)] for row in layout["statuses"].values()} == {
        "later"}


def test_the_button_fills_in_a_new_quarter(demo, new_quarter, remote_book, monkeypatch):
    _, programme, _ = demo
    master, after = new_quarter
    monkeypatch.chdir(master.parent)  # a remote book's folder: lock and log go beside it
    book = remote_book(master)
    result = excel.consolideer(book, now=NOW)
    assert result is not None
    done = actions(book)
    quarters = programme_quarters(programme)

    # The matrix: every laid-out quarter written; Blaricum has delivered 2022-Q3, so that
    # quarter is due for the others (ontbreekt); the quarters after it are not yet due.
    [matrix] = [a for a in done if a["func"] == "setValues"
                and a["sheet_position"] == sheet_index("Inzendingen") and a["start_row"] == 5]
    assert (matrix["start_column"], matrix["row_count"], matrix["column_count"]) == (
        1, len(programme.municipalities), len(quarters))
    delivered = set(zip(after.data["Gemeente"], after.data["Periode"], strict=True))
    for municipality, row in zip(programme.municipalities.index, matrix["values"],
                                 strict=True):
        for period, status in zip(quarters, row, strict=True):
            wanted = ("'ontvangen" if (municipality, period) in delivered
                      else "'ontbreekt" if period <= NEW_QUARTER else "'later")
            assert status == wanted, (municipality, period)
    assert matrix["values"][0][quarters.index(NEW_QUARTER)] == "'ontvangen"  # Blaricum
    assert excel.matrix_values(after, list(programme.municipalities.index), quarters) == \
        matrix["values"]

    # Its figures are in tblData, which the Dashboard's formulas read.
    [data] = [a for a in done if a["func"] == "setValues"
              and a["sheet_position"] == sheet_index("Data")]
    new_rows = [row for row in data["values"] if row[2] == "'" + NEW_QUARTER]
    assert new_rows and {row[0] for row in new_rows} == {"'Blaricum"}
    assert data["values"] == expected_rows(after.data, DATA_COLUMNS)
    [alert] = [a for a in done if a["func"] == "alert"]
    others = [m for m in programme.municipalities.index if m != "Blaricum"]
    assert f"Ontbreekt voor {NEW_QUARTER}: {', '.join(others)}." in alert["args"][0]


def test_matrix_values_for_quarters_the_consolidation_does_not_know(demo):
    _, programme, result = demo
    names = ["Eemnes", "Atlantis"]
    # A master laid out for a longer programme: its extra quarter is not yet due; a sheet
    # row of a municipality no longer in the programme is left empty.
    assert excel.matrix_values(result, names, ["2022-Q1", "2022-Q2", "2024-Q1"]) == [
        ["'ontvangen", "'ontbreekt", "'later"], [None, None, None]]


@pytest.mark.slow
def test_dashboard_after_the_button_shows_the_new_quarter(soffice, new_quarter, remote_book,
                                                          tmp_path, monkeypatch):
    master, after = new_quarter
    monkeypatch.chdir(master.parent)
    book = remote_book(master)
    excel.consolideer(book, now=NOW)
    refreshed = replay(master, actions(book), tmp_path / "na-de-knop.xlsm", NEW_QUARTER)
    recalculated = libreoffice.recalculate(refreshed, tmp_path / "herberekend.xlsx")
    refs = table_refs(recalculated)
    assert mismatches(recalculated, refs, independent_figures(after, NEW_QUARTER)) == []
    trend = {row["Kwartaal"]: row for row in read_table(recalculated, *refs["tblVerloop"])}
    data = after.data
    for label in ("Gestarte trajecten", "Bemiddeld naar werk"):
        assert trend[NEW_QUARTER][f"{label} gerealiseerd"] == data[label].sum()
        assert trend["2022-Q2"][f"{label} gerealiseerd"] < data[label].sum()
        assert trend["2022-Q4"][f"{label} gerealiseerd"] == "#N/A"  # after the peildatum


def test_publish_and_the_button_read_one_contract(demo, tmp_path):
    """Statuses, the matrix's place and the tables the button refreshes are the contract's:
    what publish writes there is what the button reads back."""
    _, _, consolidation = demo
    master = publish.write_button_master(consolidation, tmp_path / "master.xlsm", settings={})
    book = openpyxl.load_workbook(master)
    try:
        sheet = book[contract.MATRIX_SHEET]
        header = sheet[contract.MATRIX_HEADER]
        row, column = contract.matrix_header_cell()
        assert (header.row, header.column) == (row + 1, column + 1)
        assert header.value == contract.MATRIX_FIRST_COLUMN
        written = [c.value for c in sheet[header.row]]
        assert written[written.index(contract.MATRIX_MISSING) - 1] == \
            consolidation.periods[-1]
        statuses = {c.value for r in sheet.iter_rows(min_row=header.row + 1,
                                                     max_row=header.row + 7, min_col=2)
                    for c in r if isinstance(c.value, str) and not c.value.startswith("=")}
        assert statuses <= set(contract.MATRIX_STATUSES)
        coloured = {rule.formula[0].strip('"') for rules in
                    sheet.conditional_formatting for rule in rules.rules}
        assert set(contract.MATRIX_STATUSES) | set(contract.REGISTER_STATUSES) <= coloured
        for table, where in contract.TABLE_SHEETS.items():
            assert table in book[where].tables
            ref = book[where].tables[table].ref
            first = book[where][ref.split(":")[0]]
            headers = [c.value for c in book[where][first.row]][first.column - 1:]
            assert headers[:len(contract.TABLES[table])] == contract.TABLES[table]
    finally:
        book.close()
    assert set(submissions_sheet.MATRIX_COLOURS) == set(submissions_sheet.MATRIX_LEGEND) == set(
        contract.MATRIX_STATUSES)
    assert set(consolidation.register["Status"]) <= set(contract.REGISTER_STATUSES)
