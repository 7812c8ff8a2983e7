"""Real-world spreadsheets that tripped a user (issue 20): what the user reads for a
password-protected .xls or .ods, a damaged .xls that makes calamine panic or abort, an old
Excel format, a sheet of error values and an external link, and feedback copies of one
submission saved as .xls and .xlsx. The files are in tests/data, made by
tests/data/make_real_world_cases.py and named after their problem.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from xlmonitor.feedback.marked_copy import feedback_path, write_feedback_copy
from xlmonitor.intake.read import read_submission
from xlmonitor.programme.definition import load_programme
from xlmonitor.validation.checks import validate_submission

DATA = Path(__file__).parent / "data"
ENCRYPTED_XLS = ["password-xor.xls", "password-rc4-libreoffice.xls",
                 "password-rc4-cryptoapi.xls"]
DAMAGED = ["damaged-xls-aborts-calamine.xls", "damaged-xls-panics-calamine.xls"]
#: What Rust and Python write in English when something goes wrong in a reader.
ENGLISH = re.compile(r"panicked|memory allocation|stack backtrace|Traceback|thread '|"
                     r"[A-Z][a-z]+(Error|Exception)\b|out of range|no entry found")


@pytest.fixture(scope="module")
def programme():
    return load_programme()


def codes(submission) -> list[str]:
    return [f.code for f in submission.findings]


# -- password-protected .xls and .ods -----------------------------------------------------------

@pytest.mark.parametrize("name", [*ENCRYPTED_XLS, "password-libreoffice.ods"])
def test_password_protected_xls_and_ods_are_called_so(name, programme):
    submission = read_submission(DATA / name, programme)
    assert codes(submission) == ["bestand-versleuteld"]
    message = submission.findings[0].message
    assert message.startswith(f"Het bestand {name} is met een wachtwoord beveiligd")
    assert "Lever een kopie zonder wachtwoord aan" in message
    assert "LibreOffice: Bestand > Opslaan als" in message
    assert "Sla het opnieuw op als Excel-werkmap" not in message  # that keeps the password


@pytest.mark.parametrize("name,kind", list(zip(ENCRYPTED_XLS,
                                               ["xor", "rc4", "rc4_cryptoapi"], strict=True)))
def test_encrypted_regression_files_are_really_encrypted(name, kind):
    """msoffcrypto-tool decrypts each with the password "geheim" to the plain LibreOffice
    .xls: the files are encrypted as Excel does, not just marked."""
    msoffcrypto = pytest.importorskip("msoffcrypto")
    office = msoffcrypto.OfficeFile(open(DATA / name, "rb"))  # noqa: SIM115
    office.load_key(password="geheim")
    assert office.type == kind
    plain = io.BytesIO()
    office.decrypt(plain)
    plain.seek(0)
    expected = CalamineWorkbook.from_path(str(DATA / "resaved-as-xlsx.xls"))
    assert CalamineWorkbook.from_filelike(plain).get_sheet_by_index(0).to_python() == \
        expected.get_sheet_by_index(0).to_python()


def test_encrypted_ods_is_encrypted_by_libreoffice():
    with zipfile.ZipFile(DATA / "password-libreoffice.ods") as archive:
        manifest = archive.read("META-INF/manifest.xml")
        content = archive.read("content.xml")
    assert b"<manifest:encryption-data" in manifest
    assert b"<office:document-content" not in content  # AES-encrypted bytes


# -- damaged files: the Dutch finding, the English in the detail only ---------------------------

@pytest.mark.parametrize("name", DAMAGED)
def test_what_calamine_prints_goes_to_the_detail(name, programme, capfd):
    submission = read_submission(DATA / name, programme)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert codes(submission) == ["bestand-onleesbaar"]
    assert submission.findings[0].message == (
        f"Het bestand {name} kan niet worden gelezen (de inhoud kan niet worden gelezen). "
        "Sla het opnieuw op als Excel-werkmap (.xlsx) en lever het opnieuw aan.")
    detail = submission.findings[0].detail
    assert "stderr: " in detail
    assert ("memory allocation of" in detail if "aborts" in name
            else "panicked at" in detail and "out of range" in detail)


def test_spawned_reader_as_on_windows_keeps_stderr_too(programme, capfd, monkeypatch):
    """Without fork (Windows) the reader child is spawned; its stderr is redirected all
    the same."""
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    submission = read_submission(DATA / "damaged-xls-panics-calamine.xls", programme)
    assert capfd.readouterr() == ("", "")
    assert codes(submission) == ["bestand-onleesbaar"]
    assert "panicked at" in submission.findings[0].detail


def test_validate_prints_no_english_even_with_rust_backtraces(tmp_path):
    env = {**os.environ, "RUST_BACKTRACE": "full"}
    names = [*DAMAGED, *ENCRYPTED_XLS, "password-libreoffice.ods",
             "raw-biff-stream-without-ole.xls"]
    result = subprocess.run([sys.executable, "-m", "xlmonitor.cli", "validate",
                             *(str(DATA / n) for n in names)],
                            capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.stderr == ""
    assert result.returncode == 1  # errors found
    assert not ENGLISH.search(result.stdout), result.stdout
    for name in names:
        assert f"{name}: afgekeurd (1 fout(en), 0 waarschuwing(en))" in result.stdout


# -- old formats, error values, external links -------------------------------------------------

def test_raw_biff_stream_is_an_old_excel_format(programme):
    submission = read_submission(DATA / "raw-biff-stream-without-ole.xls", programme)
    assert codes(submission) == ["bestand-onleesbaar"]
    assert submission.findings[0].message == (
        "Het bestand raw-biff-stream-without-ole.xls kan niet worden gelezen (het is in een "
        "oud Excel-formaat opgeslagen). Sla het opnieuw op als Excel-werkmap (.xlsx) en lever "
        "het opnieuw aan.")


def test_excel_4_worksheet_says_which_old_format(tmp_path, programme):
    path = tmp_path / "excel4.xls"  # BIFF4 BOF (worksheet), a NUMBER-less EOF
    path.write_bytes(bytes.fromhex("0904 0600 0000 1000 0000") + bytes.fromhex("0a00 0000"))
    submission = read_submission(path, programme)
    assert "(het is in een oud Excel-formaat opgeslagen (Excel 4.0 of ouder))" in \
        submission.findings[0].message


def test_sheet_of_error_values_says_what_it_holds(programme):
    submission = read_submission(DATA / "only-error-values.xlsx", programme)
    assert codes(submission) == ["alleen-foutwaarden"]
    found = submission.findings[0]
    assert (found.sheet, found.cell) == ("Invoer", "A1")
    assert found.message == (
        "Het bestand only-error-values.xlsx bevat geen cijfers of tekst, alleen foutwaarden: "
        "#WAARDE! (#VALUE!) in cel A1 op blad 'Invoer', #DEEL/0! (#DIV/0!) in cel B3 op blad "
        "'Invoer', #VERW! (#REF!) in cel C5 op blad 'Invoer'. Zo'n waarde verschijnt als een "
        "formule niet kan worden berekend. Herstel de formules of typ de getallen zelf in, en "
        "lever het bestand opnieuw aan.")


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_error_values_in_xls_and_ods(suffix, programme):
    submission = read_submission(DATA / f"only-error-values.{suffix}", programme)
    assert codes(submission) == ["alleen-foutwaarden"]
    assert ("alleen foutwaarden: #WAARDE! (#VALUE!), #DEEL/0! (#DIV/0!), #VERW! (#REF!). "
            in submission.findings[0].message)


def test_empty_text_is_still_empty(tmp_path, programme):
    """Cells holding "" (a formula's empty result) are no error values: the file is leeg."""
    import xlsxwriter

    path = tmp_path / "lege-formules.xlsx"
    with xlsxwriter.Workbook(path) as workbook:
        workbook.add_worksheet().write_formula("A1", '=""', None, "")
    assert codes(read_submission(path, programme)) == ["bestand-leeg"]


def test_external_link_name_is_decoded(programme):
    submission = read_submission(DATA / "external-link-url-encoded.xlsx", programme)
    link = [f for f in submission.findings if f.code == "externe-koppeling"]
    assert "verwijst naar andere bestanden (Cijfers Q3 & Q4 (def).xlsx)" in link[0].message
    assert "%20" not in link[0].message and "&amp;" not in link[0].message


# -- feedback copies ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,copy", [
    ("Monitor_Eemnes_2021-Q2_v1.xlsx", "Monitor_Eemnes_2021-Q2_v1.controle.xlsx"),
    ("Monitor.2021.Q3.xlsx", "Monitor.2021.Q3.controle.xlsx"),
    ("X.xls", "X.xls.controle.xlsx"),
    ("X.xlsm", "X.xlsm.controle.xlsx"),
    ("X.ods", "X.ods.controle.xlsx"),
    ("X.XLSX", "X.XLSX.controle.xlsx"),
    ("X.xls.xlsx", "X.xls.xlsx.controle.xlsx"),
    ("X.ODS.xlsx", "X.ODS.xlsx.controle.xlsx"),
])
def test_feedback_copy_names(name, copy, tmp_path):
    assert feedback_path(tmp_path / name, tmp_path / "fb").name == copy


def test_no_two_submissions_share_a_feedback_copy(tmp_path):
    stems = ["X", "X.xls", "X.xlsx", "X.XLS", "X.ods", "X.xlsm", "X.csv"]
    names = [stem + suffix for stem in stems
             for suffix in (".xlsx", ".xls", ".xlsm", ".ods", ".XLSX", ".Xls", ".csv")]
    copies = {feedback_path(tmp_path / name, tmp_path / "fb") for name in names}
    assert len(copies) == len(set(names))


def test_consolidate_with_every_case_prints_no_english_and_counts_its_copies(tmp_path):
    """All of this module's files in one inbox, read by two worker processes, with Rust
    backtraces on: nothing on stderr, no English in the log, and X.xls and X.xlsx (one
    submission re-saved) each keep their feedback copy, counted as written."""
    inbox, master = tmp_path / "inbox", tmp_path / "share" / "master.xlsx"
    inbox.mkdir()
    master.parent.mkdir()
    names = sorted({*ENCRYPTED_XLS, *DAMAGED, "password-libreoffice.ods",
                    "raw-biff-stream-without-ole.xls", "only-error-values.xlsx",
                    "only-error-values.xls", "only-error-values.ods",
                    "external-link-url-encoded.xlsx", "resaved-as-xlsx.xls",
                    "resaved-as-xlsx.xlsx"})
    for name in names:
        shutil.copy2(DATA / name, inbox)
    feedback = tmp_path / "terugkoppeling"
    result = subprocess.run([sys.executable, "-m", "xlmonitor.cli", "consolidate", str(inbox),
                             "-o", str(master), "--feedback", str(feedback), "--jobs", "2"],
                            capture_output=True, text=True, timeout=600, check=False,
                            env={**os.environ, "RUST_BACKTRACE": "full"})
    assert result.stderr == ""
    log = (master.parent / "xlmonitor.log").read_text("utf-8")
    assert not ENGLISH.search(log), log
    copies = sorted(p.name for p in feedback.iterdir())
    assert "resaved-as-xlsx.controle.xlsx" in copies
    assert "resaved-as-xlsx.xls.controle.xlsx" in copies
    assert len(copies) == len(names)  # every file here has findings
    assert f"Terugkoppeling voor {len(copies)} bestand(en) in {feedback}" in result.stdout


def test_feedback_copy_of_xls_names_its_source(tmp_path, programme):
    source = DATA / "resaved-as-xlsx.xls"
    validation = validate_submission(read_submission(source, programme), programme)
    copy = write_feedback_copy(source, validation.findings, tmp_path / "fb")
    assert copy.name == "resaved-as-xlsx.xls.controle.xlsx"
    import openpyxl

    assert openpyxl.load_workbook(copy)["Controle"]["A1"].value == \
        "Controle van resaved-as-xlsx.xls"
