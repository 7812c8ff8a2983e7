"""Unattended consolidation (issue 6): real ``xlmonitor consolidate`` processes on one inbox.

Locked (one run at a time, a killed holder never blocks), atomic (a SIGKILL leaves the old or
the new master, whole), polite (never over a master open in Excel, never a half-copied file)
and logged without submitted data. The ``inbox`` fixture checks after every test that the
inbox holds exactly the bytes the test put there: xlmonitor only reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pytest

from xlmonitor.consolidation.arrival import ArrivalGuard, inbox_snapshot, incomplete_reason
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.run.schedule import run_consolidation, schedule_commands, watch
from xlmonitor.run.settings import Settings, resolve_settings

#: A small inbox from the demo: two municipalities, a rejected first attempt ("12,5" and a
#: negative number), a byte-identical copy, a note and an Excel owner file.
SUBSET = [
    "Monitor_Eemnes_2020-Q3.xlsx", "Monitor_Eemnes_2020-Q4.xlsx", "Monitor_Eemnes_2021-Q1.xlsx",
    "Monitor_Eemnes_2021-Q2.xlsx", "Monitor_Eemnes_2021-Q2_v1.xlsx",
    "Monitor_Laren_2021-Q3.xlsx", "Kopie van Monitor_Laren_2021-Q3.xlsx",
    "lees mij.txt", "~$Monitor_Laren_2022-Q2.xlsx",
]
LATE = "Monitor_Laren_2022-Q2.xlsx"  # arrives during a test


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def demo_files(tmp_path_factory) -> Path:
    from xlmonitor.demo import write_demo_inbox
    from xlmonitor.programme.definition import load_programme

    folder = tmp_path_factory.mktemp("demo") / "inbox"
    write_demo_inbox(load_programme(), folder)
    return folder


class Inbox:
    """The test's inbox and what it must hold: name → (sha256, mtime) of what the test wrote."""

    def __init__(self, path: Path, source: Path) -> None:
        self.path, self.source = path, source
        self.expected: dict[str, tuple[str, int]] = {}

    def copy_in(self, name: str, *, fresh: bool = False) -> Path:
        target = self.path / name
        (shutil.copyfile if fresh else shutil.copy2)(self.source / name, target)
        self.record(target)
        return target

    def record(self, path: Path) -> None:
        self.expected[path.name] = _fingerprint(path)

    def state(self) -> dict[str, tuple[str, int]]:
        return {p.name: _fingerprint(p) for p in self.path.iterdir()}


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture
def inbox(tmp_path, demo_files) -> Inbox:
    folder = tmp_path / "inbox"
    folder.mkdir()
    box = Inbox(folder, demo_files)
    for name in SUBSET:
        box.copy_in(name)
    yield box
    assert box.state() == box.expected, "xlmonitor changed the inbox"


@pytest.fixture
def master(tmp_path) -> Path:
    folder = tmp_path / "share"
    folder.mkdir()
    return folder / "master.xlsx"


def command(inbox: Inbox, master: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "xlmonitor.cli", "consolidate", str(inbox.path), "-o",
            str(master), *extra]


def run(inbox: Inbox, master: Path, *extra: str, env: dict | None = None,
        ) -> subprocess.CompletedProcess:
    return subprocess.run(command(inbox, master, *extra), capture_output=True, text=True,
                          check=False, env=env, timeout=120)


def start(inbox: Inbox, master: Path, *extra: str, pause: str | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if pause:
        env["XLMONITOR_TEST_PAUZE"] = pause
    return subprocess.Popen(command(inbox, master, *extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for_pause(process: subprocess.Popen) -> None:
    line = process.stderr.readline()
    assert "xlmonitor-test: pauze" in line, line


def register(master: Path) -> dict[str, str]:
    """Bestand → Status from tblInzendingen in the master."""
    workbook = openpyxl.load_workbook(master)
    sheet = workbook["Inzendingen"]
    table = sheet.tables["tblInzendingen"]
    rows = [[c.value for c in row] for row in sheet[table.ref]]
    header = rows[0]
    name, status = header.index("Bestand"), header.index("Status")
    return {r[name]: r[status] for r in rows[1:]}


def municipalities(master: Path) -> set[str]:
    sheet = openpyxl.load_workbook(master, read_only=True)["Data"]
    values = list(sheet.iter_rows(values_only=True))
    column = values[0].index("Gemeente")
    return {row[column] for row in values[1:] if row[column]}


def log_lines(master: Path) -> list[str]:
    return (master.parent / "xlmonitor.log").read_text("utf-8").splitlines()


def settings_for(inbox: Inbox, master: Path, **overrides) -> Settings:
    return Settings(inbox=inbox.path, master=master, **overrides)


# -- one run at a time --------------------------------------------------------------------------

@pytest.mark.slow
def test_two_runs_started_at_once_give_one_master(inbox, master):
    # Both pause 1.5 s while holding the lock, so they overlap whatever the start-up times.
    first = start(inbox, master, "--quiet", pause="schrijven:1.5")
    second = start(inbox, master, "--quiet", pause="schrijven:1.5")
    outcomes = [p.communicate(timeout=120) + (p.returncode,) for p in (first, second)]
    for _out, err, code in outcomes:
        assert code == 1, err  # 1: done, with the rejected Eemnes_v1
        assert [line for line in err.splitlines() if "pauze" not in line] == []
    lines = log_lines(master)
    assert sum("wacht op een andere consolidatie" in line for line in lines) == 1
    finished = [line for line in lines if " klaar · " in line]
    assert len(finished) == 2
    assert sum("master bijgewerkt" in line for line in finished) == 1
    assert sum("master ongewijzigd" in line for line in finished) == 1
    assert register(master)["Monitor_Eemnes_2021-Q2_v1.xlsx"] == "afgekeurd"
    assert sorted(p.name for p in master.parent.iterdir()) == [
        ".master.xlsx.lock", "master.xlsx", "xlmonitor.log"]


@pytest.mark.slow
def test_second_run_gives_up_after_waiting_and_a_killed_holder_blocks_nothing(inbox, master):
    holder = start(inbox, master, "--quiet", pause="schrijven:60")
    try:
        wait_for_pause(holder)
        waited = time.monotonic()
        second = run(inbox, master, "--wacht", "1")
        waited = time.monotonic() - waited
        assert second.returncode == 3
        message = second.stderr.strip()
        assert len(message.splitlines()) == 1, message
        assert "Er loopt al een consolidatie van master.xlsx" in message
        assert f"proces {holder.pid}" in message and "na 1 seconden wachten" in message
        assert waited >= 1
        assert not master.exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()
    # The OS dropped the dead holder's lock: the next run does not wait.
    after = run(inbox, master, "--wacht", "5", "--quiet")
    assert after.returncode == 1, after.stderr
    assert after.stderr == "" and after.stdout == ""
    assert register(master)["Monitor_Eemnes_2021-Q1.xlsx"] == "ontvangen"


# -- a killed run leaves a whole master -----------------------------------------------------------

@pytest.fixture
def previous(inbox, master) -> bytes:
    """A master without Laren 2022-Q2, then that file arrives: the next run changes it."""
    first = run(inbox, master, "--quiet")
    assert first.returncode == 1, first.stderr
    inbox.copy_in(LATE)
    return master.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["schrijven", "vervangen"])
def test_run_killed_while_writing_leaves_previous_master(inbox, master, previous, phase):
    process = start(inbox, master, "--quiet", pause=f"{phase}:60")
    wait_for_pause(process)
    if phase == "vervangen":  # new master complete beside the old one, old one archived
        assert (master.parent / ".master.nieuw.xlsx").is_file()
        assert len(list((master.parent / "archief").iterdir())) == 1
    process.send_signal(signal.SIGKILL)
    process.communicate()

    assert master.read_bytes() == previous
    assert "Laren" in municipalities(master) and LATE not in register(master)

    again = run(inbox, master, "--quiet")
    assert again.returncode == 1, again.stderr
    assert register(master)[LATE] == "ontvangen"
    assert not (master.parent / ".master.nieuw.xlsx").exists()
    [archived] = (master.parent / "archief").iterdir()
    assert archived.read_bytes() == previous


@pytest.mark.slow
def test_run_killed_at_random_moments_always_leaves_a_whole_master(inbox, master, previous,
                                                                   tmp_path):
    reference = tmp_path / "reference" / "master.xlsx"  # what an undisturbed run writes
    reference.parent.mkdir()
    started = time.monotonic()
    assert run(inbox, reference, "--quiet").returncode == 1
    duration = time.monotonic() - started
    expected = {previous, reference.read_bytes()}
    rng = random.Random(6)
    for _ in range(4):
        process = start(inbox, master, "--quiet")
        time.sleep(rng.uniform(0.2, duration))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        assert master.read_bytes() in expected
        openpyxl.load_workbook(master, read_only=True).close()
    final = run(inbox, master, "--quiet")
    assert final.returncode == 1, final.stderr
    assert master.read_bytes() == reference.read_bytes()


# -- master open in Excel -------------------------------------------------------------------------

@pytest.mark.slow
def test_owner_file_of_excel_means_nothing_is_overwritten(inbox, master, previous):
    owner = master.with_name("~$master.xlsx")
    owner.write_bytes(b"\x05Henk " + b"\x00" * 50)
    before = master.stat().st_mtime_ns

    result = run(inbox, master, "--quiet")

    assert result.returncode == 3
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "master.xlsx is geopend" in result.stderr and "~$master.xlsx" in result.stderr
    assert master.read_bytes() == previous and master.stat().st_mtime_ns == before
    assert not (master.parent / "archief").exists()
    assert "fout" in log_lines(master)[-1] and "is geopend" in log_lines(master)[-1]

    owner.unlink()  # Excel closed: the next run catches up
    assert run(inbox, master, "--quiet").returncode == 1
    assert register(master)[LATE] == "ontvangen"


def test_sharing_violation_on_replace_means_nothing_is_overwritten(inbox, master, previous,
                                                                   monkeypatch):
    real_replace = os.replace

    def excel_holds_master(src, dst):
        if Path(dst) == master:
            raise PermissionError(13, "Het proces heeft geen toegang tot het bestand", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", excel_holds_master)
    with pytest.raises(WriteError, match="kan niet worden vervangen") as error:
        run_consolidation(settings_for(inbox, master))
    assert error.value.exit_code == 3
    assert master.read_bytes() == previous
    assert sorted(p.name for p in master.parent.iterdir()) == [
        ".master.xlsx.lock", "archief", "master.xlsx", "xlmonitor.log"]


# -- files still arriving -------------------------------------------------------------------------

@pytest.mark.slow
def test_file_written_slowly_during_a_run_is_skipped_then_read(inbox, master):
    data = (inbox.source / LATE).read_bytes()
    target = inbox.path / LATE
    run_finished = threading.Event()

    def copy_slowly() -> None:  # like a copy over a slow VPN: the end arrives last
        cut = len(data) - 200
        with open(target, "wb") as handle:
            for offset in range(0, cut, 500):
                handle.write(data[offset:min(offset + 500, cut)])
                handle.flush()
                time.sleep(0.05)
            run_finished.wait(60)
            handle.write(data[cut:])

    writer = threading.Thread(target=copy_slowly)
    writer.start()
    try:
        while not target.exists():
            time.sleep(0.01)
        during = run(inbox, master, "--json")
    finally:
        run_finished.set()
        writer.join()
    inbox.record(target)
    assert target.read_bytes() == data

    summary = json.loads(during.stdout)
    assert during.returncode == 1, during.stderr
    assert summary["in_aanvoer"] == [LATE]
    assert register(master)[LATE] == "in aanvoer"
    [line] = [line for line in log_lines(master) if f"'{LATE}'" in line]
    assert "status in aanvoer · 0 fout(en), 1 waarschuwing(en) · codes in-aanvoer×1" in line

    after = run(inbox, master, "--json")  # complete now, though only just written
    assert json.loads(after.stdout)["in_aanvoer"] == []
    assert register(master)[LATE] == "ontvangen"


@pytest.mark.slow
def test_complete_file_saved_a_second_before_the_run_is_read(inbox, master):
    inbox.copy_in(LATE, fresh=True)
    time.sleep(1)
    result = run(inbox, master, "--json")
    summary = json.loads(result.stdout)
    assert LATE in summary["geaccepteerd"] and summary["in_aanvoer"] == []
    assert register(master)[LATE] == "ontvangen"


def test_old_incomplete_file_is_unreadable_and_a_young_one_in_transit(inbox, master):
    data = (inbox.source / LATE).read_bytes()
    half = inbox.path / LATE
    half.write_bytes(data[: len(data) // 2])
    an_hour_ago = time.time() - 3600
    os.utime(half, (an_hour_ago, an_hour_ago))
    inbox.record(half)

    result = run_consolidation(settings_for(inbox, master, settle=60))
    assert register(master)[LATE] == "afgekeurd"
    assert [f.code for f in result.consolidation.file_findings[LATE]] == ["bestand-onleesbaar"]

    result = run_consolidation(settings_for(inbox, master, settle=7200))
    assert result.in_transit == [LATE]
    assert register(master)[LATE] == "in aanvoer"
    assert [f.code for f in result.consolidation.file_findings[LATE]] == ["in-aanvoer"]
    assert result.consolidation.data["Bestand"].str.contains("Laren_2022").sum() == 0


def test_file_that_changes_while_it_is_read_is_in_transit(tmp_path, demo_files):
    path = tmp_path / LATE
    shutil.copy2(demo_files / LATE, path)
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))

    def read_while_someone_saves(p, programme, layouts):
        from xlmonitor.intake.read import read_submission

        submission = read_submission(p, programme, layouts)
        os.utime(p)  # the municipality saves again during the read
        return submission

    from xlmonitor.programme.definition import load_programme

    submission = ArrivalGuard(settle=60, base=read_while_someone_saves)(path, load_programme())
    assert submission.in_transit and [f.code for f in submission.findings] == ["in-aanvoer"]
    assert incomplete_reason(path) is None
    path.write_bytes(path.read_bytes()[:-30])
    assert "zip" in incomplete_reason(path)


# -- archive, log, settings -----------------------------------------------------------------------

def test_archive_keeps_the_newest_previous_masters(inbox, master):
    settings = settings_for(inbox, master, retention=2)
    run_consolidation(settings)
    new = master.read_bytes()
    versions = []
    for day in (1, 2, 3):  # an analyst saved the master in Excel on 1, 2 and 3 March
        version = new + f"opgeslagen op {day} maart".encode()
        master.write_bytes(version)
        stamp = time.mktime((2022, 3, day, 9, 30, 0, 0, 0, -1))
        os.utime(master, (stamp, stamp))
        versions.append(version)
        result = run_consolidation(settings)
        assert result.changed and result.archived.read_bytes() == version
    archive = master.parent / "archief"
    assert sorted(p.name for p in archive.iterdir()) == [
        "master-20220302-093000.xlsx", "master-20220303-093000.xlsx"]
    assert (archive / "master-20220303-093000.xlsx").read_bytes() == versions[2]
    assert master.read_bytes() == new

    again = run_consolidation(settings)  # nothing new: no write, no archive entry
    assert not again.changed and again.archived is None
    assert len(list(archive.iterdir())) == 2


def test_reading_with_threads_gives_the_same_master(inbox, master, tmp_path):
    run_consolidation(settings_for(inbox, master))
    threaded = tmp_path / "threaded" / "master.xlsx"
    threaded.parent.mkdir()
    result = run_consolidation(settings_for(inbox, threaded, jobs=4))
    assert threaded.read_bytes() == master.read_bytes()
    assert result.summary()["afgekeurd"] == ["Monitor_Eemnes_2021-Q2_v1.xlsx"]


@pytest.mark.slow
def test_log_has_one_line_per_file_and_no_submitted_values(inbox, master):
    source = inbox.source / "Monitor_Laren_2022-Q2.xlsx"
    workbook = openpyxl.load_workbook(source)
    sheet = workbook["Invoer"]
    sheet["G8"] = "Gesproken met Jan Jansen, BSN 123456782, over zijn traject"
    sheet["C9"] = "veertien"
    private = inbox.path / "Monitor_Laren_2022-Q2.xlsx"
    workbook.save(private)
    inbox.record(private)

    result = run(inbox, master, "--feedback", str(master.parent / "terugkoppeling"))
    assert result.returncode == 1, result.stderr
    text = (master.parent / "xlmonitor.log").read_text("utf-8")
    for secret in ("Jansen", "123456782", "traject", "veertien", "12,5", "Gesproken"):
        assert secret not in text, secret
    lines = text.splitlines()
    files = [line for line in lines if " bestand '" in line]
    assert len(files) == len(inbox.expected)
    private_line = next(line for line in files if private.name in line)
    assert "status afgekeurd" in private_line and "geen-geheel-getal×1" in private_line
    assert " klaar · " in lines[-1] and "terugkoppeling" in lines[-1]
    assert (master.parent / "terugkoppeling" / "Monitor_Laren_2022-Q2.controle.xlsx").exists()


def test_settings_file_next_to_master_with_command_line_overrides(inbox, master, tmp_path):
    (master.parent / "xlmonitor.toml").write_text(
        'inbox = "../inbox"\narchief = "oud"\narchief_bewaren = 3\nwacht_seconden = 5\n'
        'log = "logboek/xlmonitor.log"\nterugkoppeling = "terugkoppeling"\n', "utf-8")
    settings = resolve_settings(master=master, lock_wait=9)
    assert settings.inbox == inbox.path and settings.retention == 3
    assert settings.archive == master.parent / "oud" and settings.lock_wait == 9
    assert settings.log == master.parent / "logboek" / "xlmonitor.log"

    result = subprocess.run([sys.executable, "-m", "xlmonitor.cli", "consolidate", "-o",
                             str(master), "--quiet", "--log", str(tmp_path / "eigen.log")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    assert (tmp_path / "eigen.log").exists() and not (master.parent / "logboek").exists()
    assert (master.parent / "terugkoppeling").is_dir()

    (master.parent / "xlmonitor.toml").write_text('bewaar = 3\n', "utf-8")
    result = subprocess.run(command(inbox, master), capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "Onbekende instelling 'bewaar'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("place", ["master", "feedback", "log"])
def test_nothing_is_ever_written_into_the_inbox(inbox, master, place):
    inside = {"master": {"master": inbox.path / "master.xlsx"},
              "feedback": {"feedback": inbox.path / "terugkoppeling"},
              "log": {"log": inbox.path / "xlmonitor.log"}}[place]
    settings = Settings(inbox=inbox.path, **{"master": master, **inside})
    with pytest.raises(UsageError, match="ligt in de inbox"):
        run_consolidation(settings)


# -- schedule and watch ---------------------------------------------------------------------------

def test_schedule_commands_for_task_scheduler_and_cron(tmp_path):
    settings = Settings(inbox=tmp_path / "in box", master=tmp_path / "master.xlsx")
    commands = schedule_commands(settings, python="C:/Python311/python.exe")
    assert commands["schtasks"] == (
        'schtasks /Create /TN "xlmonitor consolideren" /SC DAILY /ST 02:00 /TR '
        f'"\\"C:/Python311/python.exe\\" -m xlmonitor.cli consolidate \\"{tmp_path}/in box\\" '
        f'-o \\"{tmp_path}/master.xlsx\\" --quiet" /F')
    assert commands["cron"] == (
        f"0 2 * * * C:/Python311/python.exe -m xlmonitor.cli consolidate '{tmp_path}/in box' "
        f"-o {tmp_path}/master.xlsx --quiet")

    deep = tmp_path / ("map" * 80)
    long = schedule_commands(Settings(inbox=deep / "inbox", master=deep / "m.xlsx"), at="23:15")
    assert f'/TR "\\"{deep}/xlmonitor-consolideren.cmd\\""' in long["schtasks"]
    assert "/ST 23:15" in long["schtasks"] and long["cron"].startswith("15 23 * * * ")
    assert "consolidate" in long["cmd"] and long["cmd"].endswith("exit /b %ERRORLEVEL%\r\n")

    command = [sys.executable, "-m", "xlmonitor.cli", "schedule",
               str(tmp_path / "in box"), "-o", str(tmp_path / "master.xlsx")]
    printed = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert "schtasks /Create" in printed and "crontab" in printed and "UNC" in printed
    # --print: this system's line alone (cron here), to pipe into crontab.
    bare = subprocess.run([*command, "--print"], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    assert len(bare) == 1 and bare[0].startswith("0 2 * * * ") and bare[0] in printed


def test_watch_runs_when_the_inbox_has_settled(inbox, master):
    settings = settings_for(inbox, master, settle=0.3)
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(settings,),
                               kwargs={"interval": 0.05, "stop": stop})
    watcher.start()
    try:
        _wait(lambda: master.exists())
        first = inbox_snapshot(inbox.path)
        inbox.copy_in(LATE, fresh=True)
        assert inbox_snapshot(inbox.path) != first
        _wait(lambda: register(master).get(LATE) == "ontvangen")
    finally:
        stop.set()
        watcher.join(30)
    assert not watcher.is_alive()
    assert sum(" klaar · " in line for line in log_lines(master)) == 2


def _wait(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
