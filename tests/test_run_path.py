"""One run path for every entry point (the Consolideer button, the nightly job, watch), and
what that run tells its users: every file that does not count, with its reason, in the
command line's output, the log and the button's message; exit codes; progress.

The button runs against a real xlwings ``Book`` (xlwings' remote engine, see
``tests/remote.py``); the nightly job is the real command in another process.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from xlmonitor.excel import button
from xlmonitor.master import publish
from xlmonitor.programme.definition import load_programme
from xlmonitor.run.schedule import run_consolidation
from xlmonitor.run.settings import Settings
from xlmonitor.template.standard import build_template

NOW = datetime(2022, 8, 1, 9, 30)
GOOD = "Monitor_Eemnes_2021-Q1.xlsx"
REJECTED = "Monitor_Eemnes_2021-Q2_v1.xlsx"   # the demo's file with two errors
ARRIVING = "Monitor_Laren_2022-Q2.xlsx"
COPY = "Kopie van Monitor_Eemnes_2021-Q1.xlsx"
LOCKED = "Huizen_2020-Q3.xlsx"
NOTE = "lees mij.txt"


def locked_quarter_file(path: Path) -> Path:
    """Huizen's standard template for 2020-Q3 (locked since 1 May 2021 in the shipped
    programme), filled in on 12 October 2022: valid, but too late."""
    programme = load_programme()
    build_template(programme, "Huizen", "2020-Q3", path)
    book = openpyxl.load_workbook(path)
    sheet = book["Invoer"]
    sheet["B5"] = datetime(2022, 10, 12)
    for row in range(8, sheet.max_row + 1):
        if sheet.cell(row, 1).value in programme.projects.index:
            for offset in range(4):
                sheet.cell(row, 3 + offset).value = 1
    book.save(path)
    return path


def half_copied(source: Path, target: Path) -> Path:
    """The first part of ``source`` at ``target``, modified now: a copy in progress."""
    target.write_bytes(source.read_bytes()[:5000])
    return target


@pytest.fixture
def share(tmp_path, demo_inbox) -> Path:
    """A shared folder: an inbox with a file that counts, one refused by a rule, a byte copy,
    one for a locked quarter, one still being copied and a note; and the button's master
    (no feedback folder, so the command line and the button are told the same)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in (GOOD, REJECTED, NOTE):
        shutil.copy2(demo_inbox / name, inbox / name)
    shutil.copyfile(demo_inbox / GOOD, inbox / COPY)  # newer: the original counts
    locked_quarter_file(inbox / LOCKED)
    half_copied(demo_inbox / ARRIVING, inbox / ARRIVING)
    publish.write_button_master(
        _empty_consolidation(tmp_path), tmp_path / "master.xlsm",
        settings={"Inbox": "inbox", "Terugkoppeling": ""})
    return tmp_path


def _empty_consolidation(folder: Path):
    from xlmonitor.consolidation.merge import consolidate

    empty = folder / "leeg"
    empty.mkdir()
    try:
        return consolidate(empty, load_programme())
    finally:
        empty.rmdir()


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xlmonitor.cli", *args], capture_output=True,
                          text=True, check=False, cwd=cwd, timeout=300,
                          env={**os.environ, **(env or {})})


def log_lines(folder: Path) -> list[str]:
    return (folder / "xlmonitor.log").read_text("utf-8").splitlines()


def alert(book) -> tuple[str, str]:
    [shown] = [a for a in book.json()["actions"] if a["func"] == "alert"]
    return shown["args"][0], shown["args"][3]


def click(remote_book, share: Path, monkeypatch):
    monkeypatch.chdir(share)  # a remote book has no folder: its folder is the cwd
    book = remote_book(share / "master.xlsm")
    return book, button.consolideer(book, now=NOW)


def register_written(book) -> dict[str, str]:
    """Bestand → Status as the button wrote them into tblInzendingen."""
    from xlmonitor.consolidation.merge import REGISTER_COLUMNS

    name, status = REGISTER_COLUMNS.index("Bestand"), REGISTER_COLUMNS.index("Status")
    [rows] = [a["values"] for a in book.json()["actions"] if a["func"] == "setValues"
              and a["start_row"] == 15 and a["start_column"] == 0]
    return {row[name].lstrip("'"): row[status].lstrip("'") for row in rows}


# -- the button goes through the nightly job's lock, arrival guard and log ----------------------

def test_a_click_while_the_nightly_run_holds_the_lock_waits_and_says_so(share, remote_book,
                                                                        monkeypatch):
    # The nightly job writes the same master (it is not open in Excel yet: no owner file).
    nightly = subprocess.Popen(
        [sys.executable, "-m", "xlmonitor.cli", "consolidate", "inbox", "-o", "master.xlsm",
         "--quiet"], cwd=share, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "XLMONITOR_TEST_PAUZE": "schrijven:3"})
    try:
        assert "xlmonitor-test: pauze schrijven" in nightly.stderr.readline()
        book, result = click(remote_book, share, monkeypatch)
    finally:
        nightly.communicate(timeout=120)
    assert nightly.returncode == 1
    assert result is not None and result.waited > 0
    text, mode = alert(book)
    assert mode == "info"
    first = text.splitlines()[0:2]
    assert first[0] == "De werkmap is bijgewerkt."
    assert first[1].startswith("Er liep al een consolidatie (gestart ") and \
        f"proces {nightly.pid})" in first[1] and "seconden wachten was die klaar" in first[1]
    lines = log_lines(share)
    assert [line.split("] ", 1)[1].split(" · ")[:2] for line in lines if "] start" in line] \
        == [["start", "opdrachtregel"], ["start", "knop"]]
    assert sum("wacht op een andere consolidatie" in line for line in lines) == 1
    assert sum(" klaar · knop · " in line for line in lines) == 1


def test_a_click_that_waited_too_long_changes_nothing_and_says_so(share, remote_book,
                                                                 monkeypatch):
    (share / "xlmonitor.toml").write_text('inbox = "inbox"\nwacht_seconden = 1\n', "utf-8")
    nightly = subprocess.Popen(
        [sys.executable, "-m", "xlmonitor.cli", "consolidate", "-o", "master.xlsm", "--quiet"],
        cwd=share, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "XLMONITOR_TEST_PAUZE": "schrijven:8"})
    try:
        assert "xlmonitor-test: pauze schrijven" in nightly.stderr.readline()
        book, result = click(remote_book, share, monkeypatch)
    finally:
        nightly.communicate(timeout=120)
    assert result is None
    done = book.json()["actions"]
    assert [a["func"] for a in done] == ["setValues", "alert"]
    text, mode = alert(book)
    assert mode == "critical"
    assert text.startswith("Het consolideren is niet gelukt.\n\nEr loopt al een consolidatie "
                           "van master.xlsm (gestart ")
    assert f"proces {nightly.pid}); na 1 seconden wachten is deze verwerking gestopt" in text
    assert done[0]["values"][0][0].startswith("'Niet bijgewerkt (01-08-2022 09:30): Er loopt")
    assert sum(" fout " in line and "knop: Er loopt al een consolidatie" in line
               for line in log_lines(share)) == 1


def test_a_file_being_copied_during_a_click_is_in_aanvoer(share, remote_book, monkeypatch):
    book, result = click(remote_book, share, monkeypatch)
    assert register_written(book)[ARRIVING] == "in aanvoer"
    text, _ = alert(book)
    assert (f"  - {ARRIVING}: in aanvoer: werd nog weggeschreven tijdens het inlezen; de "
            "volgende verwerking neemt het mee") in text.splitlines()
    assert f"{ARRIVING}: afgekeurd" not in text
    assert result.consolidation.file_findings[ARRIVING][0].code == "in-aanvoer"


def test_each_click_leaves_a_log_line(share, remote_book, monkeypatch):
    click(remote_book, share, monkeypatch)
    click(remote_book, share, monkeypatch)
    (share / "inbox").rename(share / "weg")
    book, result = click(remote_book, share, monkeypatch)
    assert result is None and alert(book)[1] == "critical"
    lines = log_lines(share)
    assert sum(" start · knop · " in line for line in lines) == 2
    assert sum(" klaar · knop · " in line for line in lines) == 2
    assert " fout " in lines[-1] and "knop: De inbox-map" in lines[-1]
    # one line per file, with the reason of each that does not count
    assert sum(f"bestand '{LOCKED}'" in line and "reden: kwartaal 2020-Q3 is vergrendeld "
               "sinds 01-05-2021" in line for line in lines) == 2


def test_the_buttons_and_the_nightly_jobs_summaries_are_the_same(share, remote_book,
                                                                 monkeypatch):
    nightly = cli("consolidate", "inbox", "-o", "nacht.xlsx", cwd=share)
    assert nightly.returncode == 1, nightly.stderr
    printed = nightly.stdout.splitlines()
    printed = printed[next(i for i, line in enumerate(printed)
                           if line.startswith("Master geschreven: ")):]
    book, _ = click(remote_book, share, monkeypatch)
    shown = alert(book)[0].splitlines()
    assert shown[0] == "De werkmap is bijgewerkt."
    assert shown[-1] == "Sla de werkmap op om deze stand te bewaren."
    assert shown[1:-1] == [line.removeprefix("  ") for line in printed[1:]]
    assert len(shown) > 8


# -- every file that does not count says why ---------------------------------------------------

def test_every_file_that_does_not_count_is_named_with_its_reason(share):
    done = cli("consolidate", "inbox", "-o", "nacht.xlsx", cwd=share)
    lines = done.stdout.splitlines()
    reasons = lines[lines.index("  Telt niet mee (5):") + 1:][:5]
    assert reasons == [
        f"    - {LOCKED}: vergrendeld: kwartaal 2020-Q3 is vergrendeld sinds 01-05-2021 "
        "(vastgesteld in de monitor van mei 2021)",
        f"    - {COPY}: dubbel: precies hetzelfde bestand als {GOOD}; het telt één keer",
        f"    - {REJECTED}: afgekeurd: 2 fout(en); de terugkoppeling en het blad Validatie "
        "zeggen welke",
        f"    - {ARRIVING}: in aanvoer: werd nog weggeschreven tijdens het inlezen; de volgende "
        "verwerking neemt het mee",
        f"    - {NOTE}: overgeslagen: geen spreadsheet"]
    assert done.returncode == 1
    summary = json.loads(cli("consolidate", "inbox", "-o", "nacht.xlsx", "--json",
                             cwd=share).stdout)
    assert summary["vergrendeld"] == [LOCKED]
    assert {row["bestand"]: row["status"] for row in summary["telt_niet_mee"]} == {
        LOCKED: "vergrendeld", COPY: "dubbel", REJECTED: "afgekeurd",
        ARRIVING: "in aanvoer", NOTE: "overgeslagen"}


@pytest.mark.parametrize(("names", "code"), [
    ((GOOD, COPY, NOTE), 0),     # a byte copy counts once: nothing is missing
    ((GOOD, LOCKED), 1),         # refused by the lock
    ((GOOD, REJECTED), 1),       # refused by the rules
])
def test_exit_code_says_whether_a_submitted_file_was_refused(share, names, code):
    inbox = share / "inbox"
    for path in inbox.iterdir():
        if path.name not in names:
            path.unlink()
    done = cli("consolidate", "inbox", "-o", "nacht.xlsx", "--quiet", cwd=share)
    assert (done.returncode, done.stdout, done.stderr) == (code, "", "")


def test_a_superseded_file_does_not_change_the_exit_code(tmp_path, demo_inbox):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("Monitor_Wijdemeren_2021-Q1.xlsx", "Monitor_Wijdemeren_2021-Q2.xlsx"):
        shutil.copy2(demo_inbox / name, inbox / name)
    newer = inbox / "Monitor_Wijdemeren_2021-Q1_correctie.xlsx"
    shutil.copy2(demo_inbox / "Monitor_Wijdemeren_2021-Q1.xlsx", newer)
    book = openpyxl.load_workbook(newer)
    book.save(newer)  # other bytes, same figures; newer file time
    os.utime(newer, (time.time() - 3600, time.time() - 3600))
    done = cli("consolidate", "inbox", "-o", "m.xlsx", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert ("    - Monitor_Wijdemeren_2021-Q1.xlsx: vervangen: door de nieuwere "
            f"inzending {newer.name}") in done.stdout.splitlines()


def test_when_nothing_counts_no_peilperiode_is_chosen(share):
    inbox = share / "inbox"
    for path in inbox.iterdir():
        if path.name != LOCKED:
            path.unlink()
    done = cli("consolidate", "inbox", "-o", "nacht.xlsx", cwd=share)
    assert done.returncode == 1
    assert ("  Geen enkel bestand telt mee: er zijn geen cijfers, dus er is geen "
            "peilperiode gekozen.") in done.stdout.splitlines()
    summary = json.loads(cli("consolidate", "inbox", "-o", "nacht.xlsx", "--json",
                             cwd=share).stdout)
    assert summary["peilperiode"] is None and summary["geaccepteerd"] == []


# -- progress ----------------------------------------------------------------------------------

def test_progress_is_plain_lines_when_the_output_is_not_a_terminal(share):
    done = cli("consolidate", "inbox", "-o", "nacht.xlsx", cwd=share)
    read = [line for line in done.stdout.splitlines() if line.startswith("  ingelezen ")]
    # one line per file as it is done (in parallel: in the order the readers finish)
    assert [line.split(": ")[0] for line in read] == [f"  ingelezen {i}/5" for i in range(1, 6)]
    assert sorted(line.split(": ", 1)[1] for line in read) == sorted(
        [COPY, LOCKED, GOOD, REJECTED, ARRIVING])
    assert "\x1b[" not in done.stdout + done.stderr


def test_progress_is_one_updating_line_on_a_terminal(share):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "xlmonitor.cli", "consolidate", "inbox", "-o", "nacht.xlsx"],
        cwd=share, stdin=terminal, stdout=terminal, stderr=terminal,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(terminal)
    output = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(controller)
    shown = output.decode("utf-8", "replace")
    assert "ingelezen 1/5" not in shown          # no scrolling lines …
    assert "Inlezen" in shown and "5/5" in shown   # … one line: count,
    assert "0:00:0" in shown or "-:--:--" in shown  # time left,
    assert any(name in shown for name in (COPY, LOCKED, GOOD, REJECTED, ARRIVING))  # file
    assert "Master geschreven: nacht.xlsx" in shown


# -- one settings model --------------------------------------------------------------------------

def test_the_button_and_the_nightly_job_read_the_same_settings(share, remote_book,
                                                               monkeypatch):
    (share / "xlmonitor.toml").write_text('inbox = "inbox"\nwacht_seconden = 5\n'
                                          'aanvoer_seconden = 0\n', "utf-8")
    book, result = click(remote_book, share, monkeypatch)
    assert isinstance(result.settings, Settings) and result.settings.lock_wait == 5
    # aanvoer_seconden = 0: the half-copied file is no longer young, so it is read (and is
    # unreadable), as the nightly job would read it with the same toml.
    assert register_written(book)[ARRIVING] == "afgekeurd"
    nightly = run_consolidation(replace(result.settings, master=share / "nacht.xlsx"),
                                origin="test")
    assert nightly.consolidation.register.equals(result.consolidation.register)
