"""Replacing the master file safely: what the unattended run
(:func:`~xlmonitor.run.schedule.run_consolidation`: the nightly schedule, ``xlmonitor
consolidate``, ``watch``) does once the consolidation is done, while it holds the run's lock.
A caller that writes into the open workbook passes its own ``publish`` and does not come here.

What :func:`replace_master` guarantees:

* **Never a half-written master.** The new master is written beside the old one
  (``.<stem>.nieuw<suffix>``), flushed to disk, and only then ``os.replace`` puts it in place
  (and the folder is flushed too). A kill at any moment leaves the old master or the new one,
  whole; the next run removes what a killed run left behind (:func:`remove_leftovers`, only
  while holding the run's lock).
* **The previous master is archived first.** It is *copied* (never moved: the master must
  stay in place) to ``archief/<stem>-<YYYYmmdd-HHMMSS><suffix>``, named after its own
  modification time, so a repeated attempt finds its copy again; the copy itself is written
  atomically and flushed (:func:`~xlmonitor.atomic.replace_atomically`).
* **Retention.** After a replace only the ``retention`` newest archived masters are kept
  (``retention = 0``: no archive). A new master byte-identical to the current one is not
  written at all, so quiet nights do not push history out of the archive.
* **Never over a master that is open.** Excel's owner file ``~$<master>`` (or LibreOffice's
  ``.~lock.<master>#``) next to the master means someone has it open: nothing is overwritten
  (:func:`refuse_if_open`, before the run and again just before the replace), WriteError with
  exit code 3, and the next run catches up. A sharing violation on the replace itself (Excel
  on Windows holds the file) ends the same way.
* **An .xlsm master keeps its macros**: its VBA project (or the configured one, else the one
  shipped in ``workbooks/master.xlsm``), the button and the analyst's ``Instellingen``.

Tests set ``XLMONITOR_TEST_PAUZE=<fase>:<seconden>`` (``schrijven``, ``vervangen``) to kill a
run at a known point and check that these guarantees hold.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from xlmonitor.atomic import fsync_file, replace_atomically
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.run.settings import Settings
from xlmonitor.texts import text

if TYPE_CHECKING:
    from xlmonitor.consolidation.merge import Consolidation

__all__ = ["owner_files", "refuse_if_open", "remove_leftovers", "replace_master"]

_TEST_PAUSE = "XLMONITOR_TEST_PAUZE"  # "<fase>:<seconden>", tests only (kill at a known point)


# -- open master --------------------------------------------------------------------------------

def owner_files(master: Path) -> list[Path]:
    """Files saying someone has ``master`` open: Excel's owner file ``~$<name>`` and
    LibreOffice's ``.~lock.<name>#``, both created next to the workbook while it is open."""
    names = (f"~${master.name}", f".~lock.{master.name}#")
    return [master.with_name(n) for n in names if master.with_name(n).exists()]


def refuse_if_open(master: Path) -> None:
    """WriteError (exit code 3) while someone has ``master`` open: nothing is overwritten."""
    found = owner_files(master)
    if found:
        raise WriteError(text("master.geopend", master=master.name, owner=found[0].name))


# -- writing the master ---------------------------------------------------------------------------

def _staged_path(master: Path) -> Path:
    return master.with_name(f".{master.stem}.nieuw{master.suffix}")


def _archive_pattern(master: Path) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(master.stem)}-(\d{{8}}-\d{{6}})(?:-(\d+))?"
                      rf"{re.escape(master.suffix)}")


def remove_leftovers(settings: Settings) -> None:
    """Files a killed run left behind; only ours, and only while holding the lock."""
    staged = _staged_path(settings.master)
    for path in settings.master.parent.iterdir():
        name = path.name
        if name == staged.name or (name.startswith(f".{staged.stem}.")
                                   and name.endswith(f".tmp{staged.suffix}")):
            with suppress(OSError):
                path.unlink()
    if settings.archive.is_dir():
        for path in settings.archive.iterdir():
            if path.name.startswith(f".{settings.master.stem}-") and path.name.endswith(".tmp"):
                with suppress(OSError):
                    path.unlink()


def replace_master(settings: Settings, consolidation: Consolidation) -> tuple[bool, Path | None]:
    """Write beside the master, copy the old one to the archive, replace. Returns (changed,
    archived copy)."""
    from xlmonitor.master.publish import write_master

    master, staged = settings.master, _staged_path(settings.master)
    try:
        with _vba_project(settings) as vba_project:
            _test_pause("schrijven")
            # Both keep the analyst's explanations on the sheet Toelichting.
            from xlmonitor.master.notes_sheet import saved_notes

            notes = saved_notes(master) if master.is_file() else []
            if vba_project is None:
                write_master(consolidation, staged, peilperiode=settings.peilperiode,
                             notes=notes)
            else:
                # The button's master keeps its VBA, button and the analyst's Instellingen.
                from xlmonitor.master.publish import write_button_master
                from xlmonitor.master.settings_sheet import saved_settings, settings_for

                values = {**settings_for(master, inbox=settings.inbox,
                                         feedback=settings.feedback,
                                         programme=settings.programme),
                          **saved_settings(master)}
                write_button_master(consolidation, staged, settings=values,
                                    vba_project=vba_project,
                                    peilperiode=settings.peilperiode, notes=notes)
        if master.is_file() and _same_bytes(staged, master):
            return False, None
        fsync_file(staged)
        archived = _archive(master, settings) if master.is_file() else None
        _test_pause("vervangen")
        refuse_if_open(master)
        try:
            os.replace(staged, master)
        except OSError as exc:
            # Windows: Excel holds the file (sharing violation), which is PermissionError.
            raise WriteError(text("master.niet-vervangen", master=master.name,
                                  reason=exc.strerror or exc)) from exc
        _fsync_folder(master.parent)
        _prune_archive(settings)
        return True, archived
    finally:
        with suppress(OSError):
            staged.unlink(missing_ok=True)


@contextmanager
def _vba_project(settings: Settings) -> Iterator[Path | None]:
    """The VBA project for an .xlsm master: the configured one, else the current master's."""
    if settings.master.suffix.lower() != ".xlsm":
        yield None
        return
    if settings.vba_project is not None:
        if not settings.vba_project.is_file():
            raise UsageError(text("master.vba-ontbreekt", path=settings.vba_project))
        yield settings.vba_project
        return
    try:
        with zipfile.ZipFile(settings.master) as archive:
            data = archive.read("xl/vbaProject.bin")
    except (OSError, KeyError, zipfile.BadZipFile):
        # No master yet (or not a macro workbook): the project shipped in master.xlsm.
        from xlmonitor.master.vba import packaged_vba_project

        data = packaged_vba_project()
    with tempfile.TemporaryDirectory(prefix="xlmonitor-vba-") as folder:
        path = Path(folder) / "vbaProject.bin"
        path.write_bytes(data)
        yield path


def _archive(master: Path, settings: Settings) -> Path | None:
    """Copy (never move: the master must stay in place) the current master into the archive,
    named after its own modification time, so a repeated attempt finds its copy again."""
    if settings.retention <= 0:
        return None
    folder = settings.archive
    stamp = datetime.fromtimestamp(master.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        number = 1
        while True:
            extra = "" if number == 1 else f"-{number}"
            target = folder / f"{master.stem}-{stamp}{extra}{master.suffix}"
            if not target.exists():
                break
            if _same_bytes(target, master):
                return target
            number += 1
        replace_atomically(target, lambda tmp: shutil.copy2(master, tmp), fsync=True)
    except OSError as exc:
        raise WriteError(text("master.archief-mislukt", folder=folder,
                              reason=exc.strerror or exc)) from exc
    return target


def _prune_archive(settings: Settings) -> None:
    folder = settings.archive
    if not folder.is_dir():
        return
    pattern = _archive_pattern(settings.master)
    kept = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match and path.is_file():
            kept.append(((match.group(1), int(match.group(2) or 1)), path))
    kept.sort(reverse=True)
    for _, path in kept[settings.retention:]:
        with suppress(OSError):
            path.unlink()


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as left, open(b, "rb") as right:
        while True:
            chunk = left.read(1 << 20)
            if chunk != right.read(1 << 20):
                return False
            if not chunk:
                return True


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows has no directory handles to flush; NTFS journals the rename
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _test_pause(phase: str) -> None:
    """Tests set XLMONITOR_TEST_PAUZE=<fase>:<seconden> to kill a run at a known point."""
    wanted = os.environ.get(_TEST_PAUSE, "")
    name, _, seconds = wanted.partition(":")
    if name == phase:
        print(f"xlmonitor-test: pauze {phase}", file=sys.stderr, flush=True)
        time.sleep(float(seconds or 10))
