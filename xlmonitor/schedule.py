"""The unattended consolidation: one run, locked, atomic, logged. Shared by the nightly
schedule (``xlmonitor consolidate --quiet``), ``xlmonitor watch`` and the Excel button.

What :func:`run_consolidation` guarantees:

* **One run at a time.** A lock file next to the master (``.<master>.lock``) is taken with
  ``filelock.FileLock``: an OS lock (``flock`` on Unix, ``LockFileEx`` on Windows, which the
  SMB server enforces for every client of the share). The OS drops it when the holder dies, so
  a killed run never blocks the next one; no stale-lock guessing is needed. ``SoftFileLock``
  was rejected: its marker survives a kill, and a marker written on another machine cannot be
  proven stale (a PID is only meaningful on its own host), so it would need an age limit that
  can also break a live, slow run. Where a filesystem has no ``flock`` at all, filelock falls
  back to a soft lock and breaks a dead holder's marker by PID on the same host; the Dutch
  message names the holder (``.<master>.lock.info``: host, process, start) for the rare case
  that needs a hand. A second run waits ``lock_wait`` seconds, then stops with exit code 3.
  Caveat: whether ``flock`` from a *Linux* CIFS mount reaches the SMB server depends on the
  kernel and mount options, so schedule the job on one machine (ideally the Windows file
  server, next to the analysts' button) rather than from several Linux hosts.
* **Never a half-written master.** The new master is written beside the old one, the old one
  is *copied* to ``archief/<stem>-<YYYYmmdd-HHMMSS><suffix>`` (its own modification time;
  ``retention`` newest kept), and only then ``os.replace`` puts the new one in place. A kill
  at any moment leaves the old or the new master, whole. A new master byte-identical to the
  current one is not written at all, so quiet nights do not push history out of the archive.
* **Never over a master that is open.** Excel's owner file ``~$<master>`` (or LibreOffice's
  ``.~lock.<master>#``) next to the master, or a sharing violation on the replace: nothing is
  overwritten, exit code 3, and the next run catches up.
* **Files still arriving are not read.** See :class:`ArrivalGuard`.
* **The inbox is only read**; master, archive, log and feedback folder may not lie in it.
* **The log holds no submitted data**: one line per file (name, municipality, periods,
  status, counts, finding codes), never a cell value, remark or finding message.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import socket
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from xlmonitor.cache import SubmissionCache
from xlmonitor.consolidate import Consolidation, consolidate, inbox_files
from xlmonitor.errors import UsageError, WriteError, XlmonitorError
from xlmonitor.findings import finding
from xlmonitor.intake import Submission, read_submission
from xlmonitor.privacy import mask_text
from xlmonitor.settings import Settings, default_jobs

__all__ = ["ArrivalGuard", "RunResult", "inbox_snapshot", "run_consolidation",
           "schedule_commands", "watch"]

IN_TRANSIT = "in-aanvoer"          # finding code (messages.csv)
IN_TRANSIT_STATUS = "in aanvoer"   # status in tblInzendingen
_ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")
_UNREADABLE = ("bestand-onleesbaar", "bestand-leeg")
_TEST_PAUSE = "XLMONITOR_TEST_PAUZE"  # "<fase>:<seconden>", tests only (kill at a known point)


# -- files still arriving --------------------------------------------------------------------

def incomplete_reason(path: Path) -> str | None:
    """Why ``path`` looks half-written, or None. xlsx/xlsm/ods are zips: a copy in progress
    has no end-of-central-directory record yet (or a directory pointing past the end)."""
    try:
        size = path.stat().st_size
        if size == 0:
            return "0 bytes"
        with open(path, "rb") as handle:
            zipped = handle.read(2) == b"PK" or path.suffix.lower() in _ZIP_SUFFIXES
        if not zipped:
            return None
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        return f"incomplete zip: {type(exc).__name__}"
    except OSError:
        return None  # the reader reports what it cannot open
    if not infos or any(i.header_offset + i.compress_size > size for i in infos):
        return "zip directory points past the end of the file"
    return None


@dataclass
class ArrivalGuard:
    """The ``reader`` for :func:`~xlmonitor.consolidate.consolidate` that skips files still
    being written: a file whose size or modification time changes while it is read, or that
    is incomplete (half a zip, 0 bytes, unreadable) and was modified less than ``settle``
    seconds ago, becomes a Submission with only an ``in-aanvoer`` finding and
    ``in_transit = True``. An older incomplete file is read as usual (``bestand-onleesbaar``);
    a complete file is read however young it is."""

    settle: float = 60.0
    base: Callable[..., Submission] = read_submission
    clock: Callable[[], float] = time.time
    on_read: Callable[[Path], None] | None = None

    def __call__(self, path: Path, programme, layouts=None) -> Submission:
        path = Path(path)
        try:
            return self._read(path, programme, layouts)
        finally:
            if self.on_read is not None:
                self.on_read(path)

    def _read(self, path: Path, programme, layouts) -> Submission:
        try:
            before = path.stat()
        except OSError:
            return self.base(path, programme, layouts)
        young = self.clock() - before.st_mtime < self.settle
        reason = incomplete_reason(path)
        if reason and young:
            return _in_transit(path, before, reason)
        submission = self.base(path, programme, layouts)
        try:
            after = path.stat()
        except OSError:
            return _in_transit(path, before, "file disappeared while being read")
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            return _in_transit(path, after, "size or modification time changed during the read")
        if young and any(f.code in _UNREADABLE for f in submission.findings):
            return _in_transit(path, after, "unreadable and modified within the settle time")
        return submission


def _in_transit(path: Path, stat: os.stat_result, reason: str) -> Submission:
    # No modification time: the master's "Bijgewerkt" (newest file time) stays the time of
    # the data it holds, and a file that keeps changing does not change the master.
    submission = Submission(path=path, size=stat.st_size)
    submission.findings.append(finding(IN_TRANSIT, file=path, detail=reason))
    submission.in_transit = True  # type: ignore[attr-defined]
    return submission


# -- the run ------------------------------------------------------------------------------------

@dataclass
class RunResult:
    settings: Settings
    consolidation: Consolidation
    changed: bool                       # False: the new master equalled the old one
    archived: Path | None = None        # where the previous master was copied
    feedback: list[Path] = field(default_factory=list)
    feedback_failed: list[str] = field(default_factory=list)
    in_transit: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def master(self) -> Path:
        return self.settings.master

    @property
    def exit_code(self) -> int:
        """3 when a feedback copy could not be written, 1 with rejected files or errors."""
        if self.feedback_failed:
            return 3
        return 1 if self.summary()["afgekeurd"] or self.summary()["fouten"] else 0

    def summary(self) -> dict:
        result, register = self.consolidation, self.consolidation.register
        by_status = {s: register.loc[register["Status"] == s, "Bestand"].tolist()
                     for s in ("ontvangen", "afgekeurd", "vervangen")}
        return {
            "master": str(self.master),
            "gewijzigd": self.changed,
            "archief": str(self.archived) if self.archived else None,
            "peilperiode": self.settings.peilperiode or result.peilperiode,
            "geaccepteerd": by_status["ontvangen"],
            "afgekeurd": by_status["afgekeurd"],
            "vervangen": by_status["vervangen"],
            "in_aanvoer": self.in_transit,
            "overig": register.loc[~register["Status"].isin(list(by_status)),
                                   ["Bestand", "Status"]].values.tolist(),
            "rijen": len(result.data),
            "bevindingen": len(result.findings),
            "fouten": sum(f.is_error for f in result.findings),
            "terugkoppeling": [str(p) for p in self.feedback],
            "terugkoppeling_mislukt": self.feedback_failed,
            "log": str(self.settings.log),
        }

    def report_lines(self) -> list[str]:
        """The Dutch lines the CLI prints and the button can show."""
        s = self.summary()
        lines = [f"Master geschreven: {self.master}" if self.changed else
                 f"Master ongewijzigd: {self.master} (geen nieuwe gegevens)"]
        lines.append(f"  {len(s['geaccepteerd'])} bestand(en) verwerkt, {len(s['afgekeurd'])} "
                     f"afgekeurd, {len(s['vervangen'])} vervangen; {s['rijen']} rijen, "
                     f"{s['bevindingen']} bevinding(en).")
        if self.in_transit:
            lines.append(f"  In aanvoer, de volgende keer verwerkt: {', '.join(self.in_transit)}")
        matrix = self.consolidation.matrix
        for period in matrix.columns[(matrix == "ontbreekt").any()]:
            absent = matrix.index[matrix[period] == "ontbreekt"].tolist()
            lines.append(f"  Ontbreekt voor {period}: {', '.join(absent)}")
        if self.archived:
            lines.append(f"  Vorige master bewaard: {self.archived}")
        if self.feedback:
            lines.append(f"  Terugkoppeling: {len(self.feedback)} bestand(en) in "
                         f"{self.settings.feedback}")
        for name in self.feedback_failed:
            lines.append(f"  Terugkoppeling voor {name} kon niet worden geschreven.")
        return lines


def run_consolidation(settings: Settings, *, echo: Callable[[str], None] | None = None,
                      progress: bool | None = None,
                      publish: Callable[[Consolidation], object] | None = None) -> RunResult:
    """The one unattended job: lock, consolidate, write the master safely, feedback, log.

    ``echo`` receives Dutch progress lines (``None``: silent, as with ``--quiet``);
    ``progress`` shows a bar on an interactive terminal (default: when echoing to one).
    ``publish`` replaces the file replacement, for a caller that owns the open master (the
    Excel button writes into the open workbook); locking, arrival checks, log and feedback
    stay the same. Raises WriteError (exit 3) when another run holds the lock too long or the
    master is open, UsageError/ProgrammeError (exit 2) for bad settings.
    """
    settings.check()
    started = time.monotonic()
    with _run_log(settings) as log:
        log.info(f"start · inbox {settings.inbox} · master {settings.master} · "
                 f"{socket.gethostname()}")
        try:
            with _exclusive(settings, log, echo):
                if publish is None:
                    _refuse_if_open(settings.master)
                    _remove_leftovers(settings)
                result = _consolidate(settings, log, echo, progress)
                if publish is None:
                    changed, archived = _replace_master(settings, result.consolidation)
                else:
                    publish(result.consolidation)
                    changed, archived = True, None
                result.changed, result.archived = changed, archived
                if settings.feedback is not None:
                    _write_feedback(settings, result, log)
        except XlmonitorError as error:
            log.error(str(error))
            raise
        except KeyboardInterrupt:
            log.error("afgebroken; er is niets overschreven dat niet heel is")
            raise
        except BaseException as error:  # log where, never the message: it may hold data
            frames = ", ".join(f"{Path(f.filename).name}:{f.lineno}"
                               for f in _traceback_frames(error))
            log.error(f"onverwachte fout {type(error).__name__} ({frames})")
            raise
        result.seconds = time.monotonic() - started
        log.info(_summary_line(result))
    return result


def _consolidate(settings: Settings, log: logging.Logger, echo, progress) -> RunResult:
    from xlmonitor.programme import load_programme

    programme = load_programme(settings.programme)
    paths, _ = inbox_files(settings.inbox)
    bar = _Progress(len(paths), echo, progress)
    # The guard runs where the file is read (in a worker process with jobs > 1), so its
    # before/after checks surround the read itself; progress is reported here, per file.
    # Files from the cache skip it: their bytes were hashed between two stat calls and
    # equal a file read whole before (xlmonitor.cache).
    guard = ArrivalGuard(settle=settings.settle)
    cache = SubmissionCache(settings.cache) if settings.cache else None
    try:
        consolidation = consolidate(settings.inbox, programme, reader=guard,
                                    jobs=settings.jobs, cache=cache, progress=bar.advance)
    finally:
        bar.close()
    if cache is not None:
        log.info(f"cache: {cache.hits} bestand(en) uit de cache, {cache.misses} gelezen")
    in_transit = sorted(consolidation.register.loc[
        consolidation.register["Status"] == IN_TRANSIT_STATUS, "Bestand"])
    for line in _file_lines(consolidation):
        log.info(line)
    return RunResult(settings, consolidation, changed=False, in_transit=in_transit)


def _file_lines(result: Consolidation) -> Iterator[str]:
    """One line per file: no cell values, remarks or messages (they can hold personal data)."""
    for row in result.register.to_dict("records"):
        name, status, other = row["Bestand"], row["Status"], row["Vervangen door"]
        codes = Counter(f.code for f in result.file_findings.get(name, []))
        parts = [f"bestand '{name}'", f"gemeente {row['Gemeente'] or '-'}",
                 f"periodes {row['Periodes'] or '-'}", f"status {status}",
                 f"{row['Fouten']} fout(en), {row['Waarschuwingen']} waarschuwing(en)"]
        if status == "overgeslagen":
            parts.append(f"reden: {other}")  # for skipped files the column holds the reason
        elif other:
            parts.append(f"vervangen door {other}")
        if codes:
            parts.append("codes " + ", ".join(f"{c}×{n}" for c, n in sorted(codes.items())))
        yield " · ".join(parts)


def _summary_line(result: RunResult) -> str:
    counts = Counter(result.consolidation.register["Status"])
    files = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "geen"
    master = "master bijgewerkt" if result.changed else "master ongewijzigd"
    if result.archived:
        master += f" (vorige bewaard als {result.archived.name})"
    feedback = f" · terugkoppeling {len(result.feedback)}" if result.feedback else ""
    seconds = f"{result.seconds:.1f}".replace(".", ",")
    return (f"klaar · {sum(counts.values())} bestand(en): {files} · "
            f"{len(result.consolidation.data)} rijen · {master}{feedback} · {seconds} s")


def _traceback_frames(error: BaseException) -> list:
    import traceback

    return traceback.extract_tb(error.__traceback__)[-3:]


# -- log ----------------------------------------------------------------------------------------

_LEVELS = {logging.INFO: "info", logging.WARNING: "waarschuwing", logging.ERROR: "fout"}


class _DutchFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.niveau = _LEVELS.get(record.levelno, record.levelname.lower())
        # A file name or an error message can still hold a BSN, e-mail address or phone number.
        return mask_text(super().format(record))


class _SharedLogHandler(RotatingFileHandler):
    """The schedule, the button and watch append to one log on the share. Rotation is best
    effort: Windows refuses to rename a file another process has open; this run then goes on
    appending and a later run rotates."""

    def doRollover(self) -> None:  # noqa: N802 (logging's name)
        try:
            super().doRollover()
        except OSError:
            if self.stream is None:
                self.stream = self._open()


class _LibraryRecords(logging.Handler):
    """Warnings of the library (``xlmonitor.feedback`` …) reach the run log as their message
    only: a traceback could quote a cell value. Also keeps them off stderr under --quiet."""

    def __init__(self, target: logging.Logger) -> None:
        super().__init__(logging.WARNING)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        text = (record.getMessage().splitlines() or [""])[0]
        if record.exc_info and record.exc_info[0] is not None:
            text += f" ({record.exc_info[0].__name__})"
        self.target.log(record.levelno, f"{record.name}: {text}")


@contextmanager
def _run_log(settings: Settings) -> Iterator[logging.Logger]:
    path = settings.log
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise WriteError(f"Het logbestand {path} kan niet worden geschreven "
                         f"({exc.strerror or exc}).") from exc
    handler = _SharedLogHandler(path, maxBytes=settings.log_max_bytes,
                                backupCount=settings.log_backups, encoding="utf-8", delay=True)
    handler.setFormatter(_DutchFormatter("%(asctime)s %(niveau)s [%(process)d] %(message)s",
                                         "%Y-%m-%d %H:%M:%S"))
    log = logging.Logger("xlmonitor.run", logging.INFO)  # private: not in the global tree
    log.addHandler(handler)
    bridge = _LibraryRecords(log)
    library = logging.getLogger("xlmonitor")
    library.addHandler(bridge)
    try:
        yield log
    finally:
        library.removeHandler(bridge)
        handler.close()


# -- lock and open master -----------------------------------------------------------------------

def _holder_file(settings: Settings) -> Path:
    return settings.lock_file.with_name(settings.lock_file.name + ".info")


def _holder(settings: Settings) -> str:
    """`` (gestart … op HOST, proces N)`` from the holder's note, or ``""``."""
    try:
        host, pid, started = _holder_file(settings).read_text("utf-8").splitlines()[:3]
    except (OSError, ValueError):
        return ""
    return f" (gestart {started} op {host}, proces {pid})"


@contextmanager
def _exclusive(settings: Settings, log: logging.Logger, echo) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock = FileLock(settings.lock_file, timeout=settings.lock_wait, poll_interval=0.2)
    wait = f"{settings.lock_wait:g}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                holder = _holder(settings)
                log.info(f"wacht op een andere consolidatie{holder}, hoogstens {wait} s")
                if echo is not None:
                    echo(f"Er loopt al een consolidatie{holder}; wachten (hoogstens {wait} "
                         "seconden)…")
                try:
                    lock.acquire(timeout=settings.lock_wait)
                except Timeout:
                    raise WriteError(
                        f"Er loopt al een consolidatie van {settings.master.name}"
                        f"{_holder(settings)}; na {wait} seconden wachten is deze verwerking "
                        "gestopt zonder iets te schrijven. De volgende verwerking werkt de "
                        "master bij.") from None
        except OSError as exc:
            raise WriteError(f"De vergrendeling {settings.lock_file} kan niet worden gemaakt "
                             f"({exc.strerror or exc}); is de map van de master schrijfbaar?"
                             ) from exc
    for caught_warning in caught:
        log.warning(f"vergrendeling: {caught_warning.message}")
    note = _holder_file(settings)
    try:
        with suppress(OSError):
            note.write_text(f"{socket.gethostname()}\n{os.getpid()}\n"
                            f"{datetime.now():%Y-%m-%d %H:%M:%S}\n", encoding="utf-8")
        yield
    finally:
        with suppress(OSError):
            note.unlink()
        lock.release()


def owner_files(master: Path) -> list[Path]:
    """Files saying someone has ``master`` open: Excel's owner file ``~$<name>`` and
    LibreOffice's ``.~lock.<name>#``, both created next to the workbook while it is open."""
    names = (f"~${master.name}", f".~lock.{master.name}#")
    return [master.with_name(n) for n in names if master.with_name(n).exists()]


def _refuse_if_open(master: Path) -> None:
    found = owner_files(master)
    if found:
        raise WriteError(
            f"De master {master.name} is geopend (eigenaarsbestand {found[0].name} gevonden); "
            "er is niets overschreven. Sluit de master, dan werkt de volgende verwerking hem "
            f"bij. Is hij nergens geopend, verwijder dan {found[0].name}.")


# -- writing the master ---------------------------------------------------------------------------

def _staged_path(master: Path) -> Path:
    return master.with_name(f".{master.stem}.nieuw{master.suffix}")


def _archive_pattern(master: Path) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(master.stem)}-(\d{{8}}-\d{{6}})(?:-(\d+))?"
                      rf"{re.escape(master.suffix)}")


def _remove_leftovers(settings: Settings) -> None:
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


def _replace_master(settings: Settings, consolidation: Consolidation) -> tuple[bool, Path | None]:
    """Write beside the master, copy the old one to the archive, replace. Returns (changed,
    archived copy)."""
    from xlmonitor.publish import write_master

    master, staged = settings.master, _staged_path(settings.master)
    try:
        with _vba_project(settings) as vba_project:
            _test_pause("schrijven")
            if vba_project is None:
                write_master(consolidation, staged, peilperiode=settings.peilperiode)
            else:
                # The button's master keeps its VBA, button and the analyst's Instellingen.
                from xlmonitor.excel import saved_settings, settings_for, write_button_master

                values = {**settings_for(master, inbox=settings.inbox,
                                         feedback=settings.feedback,
                                         programme=settings.programme),
                          **saved_settings(master)}
                write_button_master(consolidation, staged, settings=values,
                                    vba_project=vba_project,
                                    peilperiode=settings.peilperiode)
        if master.is_file() and _same_bytes(staged, master):
            return False, None
        _fsync(staged)
        archived = _archive(master, settings) if master.is_file() else None
        _test_pause("vervangen")
        _refuse_if_open(master)
        try:
            os.replace(staged, master)
        except OSError as exc:
            # Windows: Excel holds the file (sharing violation), which is PermissionError.
            raise WriteError(
                f"De master {master.name} kan niet worden vervangen ({exc.strerror or exc}); "
                "waarschijnlijk is hij geopend in Excel. Er is niets overschreven; de volgende "
                "verwerking werkt hem bij.") from exc
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
            raise UsageError(f"Het VBA-project '{settings.vba_project}' bestaat niet.")
        yield settings.vba_project
        return
    try:
        with zipfile.ZipFile(settings.master) as archive:
            data = archive.read("xl/vbaProject.bin")
    except (OSError, KeyError, zipfile.BadZipFile):
        # No master yet (or not a macro workbook): the project shipped in master.xlsm.
        from xlmonitor.vba import packaged_vba_project

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
        tmp = folder / f".{target.name}.{os.getpid()}.tmp"
        try:
            shutil.copy2(master, tmp)
            _fsync(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise WriteError(f"De vorige master kan niet in {folder} worden bewaard "
                         f"({exc.strerror or exc}); er is niets overschreven.") from exc
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


def _fsync(path: Path) -> None:
    """On disk before the rename: a power cut must not leave a renamed but empty file."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


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


# -- feedback -------------------------------------------------------------------------------------

def _write_feedback(settings: Settings, result: RunResult, log: logging.Logger) -> None:
    """A .controle.xlsx per file with findings, into the feedback folder (never the inbox);
    an outdated copy of a file that is now clean is removed. Files in transit wait."""
    from xlmonitor.feedback import write_feedback_copy

    consolidation = result.consolidation
    for name, validation in sorted(consolidation.validations.items()):
        if name in result.in_transit:
            continue
        findings = consolidation.file_findings.get(name, [])
        try:
            path = write_feedback_copy(validation.submission.path, findings, settings.feedback)
        except Exception as exc:  # one copy must not stop the others
            reason = str(exc) if isinstance(exc, WriteError) else type(exc).__name__
            log.error(f"terugkoppeling voor '{name}' niet geschreven: {reason}")
            result.feedback_failed.append(name)
            continue
        if path is not None:
            result.feedback.append(path)


# -- progress -------------------------------------------------------------------------------------

class _Progress:
    """A bar (rich, else tqdm, if installed) on an interactive terminal, else plain lines."""

    def __init__(self, total: int, echo, enabled: bool | None) -> None:
        if enabled is None:
            enabled = echo is not None and sys.stderr.isatty()
        self.total, self.done, self.lock = total, 0, threading.Lock()
        self.echo = None
        self.step: Callable[[], None] | None = None
        self.stop: Callable[[], None] | None = None
        if enabled and total:
            if not self._bar(total):
                self.echo = echo

    def _bar(self, total: int) -> bool:
        try:
            from rich.console import Console
            from rich.progress import Progress
        except ImportError:
            pass
        else:
            bar = Progress(console=Console(stderr=True), transient=True)
            task = bar.add_task("Inlezen", total=total)
            bar.start()
            self.step, self.stop = (lambda: bar.advance(task)), bar.stop
            return True
        try:
            from tqdm import tqdm
        except ImportError:
            return False
        bar = tqdm(total=total, desc="Inlezen", unit="bestand", leave=False, file=sys.stderr)
        self.step, self.stop = (lambda: bar.update(1)), bar.close
        return True

    def advance(self, path: Path) -> None:
        with self.lock:
            self.done += 1
            if self.step is not None:
                self.step()
            elif self.echo is not None:
                self.echo(f"  ingelezen {self.done}/{self.total}: {path.name}")

    def close(self) -> None:
        if self.stop is not None:
            self.stop()


# -- scheduling -----------------------------------------------------------------------------------

#: schtasks refuses a /TR longer than 261 characters; longer commands go in a .cmd file.
_TR_LIMIT = 261


def _command_args(settings: Settings) -> list[tuple[str, bool]]:
    """(argument, is a path) of the nightly command; paths absolute, the task has no cwd."""
    def path(value: Path) -> tuple[str, bool]:
        return str(Path(value).absolute()), True

    args = [("-m", False), ("xlmonitor.cli", False)]
    if settings.programme is not None:
        args += [("--programma", False), path(settings.programme)]
    args += [("consolidate", False), path(settings.inbox), ("-o", False), path(settings.master),
             ("--quiet", False)]
    beside = settings.master.parent / "xlmonitor.toml"
    if settings.source is not None and settings.source.absolute() != beside.absolute():
        args += [("--instellingen", False), path(settings.source)]
    elif settings.source is None:  # no toml: repeat what the command line set
        if settings.feedback is not None:
            args += [("--feedback", False), path(settings.feedback)]
        if settings.log != settings.master.parent / "xlmonitor.log":
            args += [("--log", False), path(settings.log)]
        if settings.lock_wait != Settings.lock_wait:
            args += [("--wacht", False), (f"{settings.lock_wait:g}", False)]
        if settings.cache:
            args += [("--cache-map", False), path(settings.cache)]
        if settings.jobs != default_jobs():
            args += [("--jobs", False), (str(settings.jobs), False)]
    return args


def schedule_commands(settings: Settings, *, at: str = "02:00",
                      python: str | Path | None = None) -> dict[str, str]:
    """Ready-to-paste commands for the nightly run: ``schtasks`` (Windows Task Scheduler),
    ``cron``, ``cmd`` (a wrapper to save as ``cmd_bestand`` when the command is too long for
    schtasks) and Dutch ``toelichting``."""
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        raise UsageError(f"Ongeldige tijd '{at}'; schrijf bijvoorbeeld 02:00.")
    args = [(str(python or sys.executable), True), *_command_args(settings)]
    windows = " ".join(f'"{a}"' if is_path else a for a, is_path in args)
    wrapper = settings.master.parent.absolute() / "xlmonitor-consolideren.cmd"
    # Inside /TR the quotes around paths are escaped as \" (schtasks' own quoting).
    run = windows.replace('"', '\\"')
    if len(run) > _TR_LIMIT:
        run = f'\\"{wrapper}\\"'
    hour, minute = at.split(":")
    cron_command = shlex.join(a for a, _ in args).replace("%", "\\%")  # cron: % ends the line
    return {
        "schtasks": (f'schtasks /Create /TN "xlmonitor consolideren" /SC DAILY /ST {at} '
                     f'/TR "{run}" /F'),
        "cron": f"{int(minute)} {int(hour)} * * * {cron_command}",
        "cmd": f"@echo off\r\n{windows}\r\nexit /b %ERRORLEVEL%\r\n",
        "cmd_bestand": str(wrapper),
        "toelichting": (
            "Gebruik UNC-paden (\\\\server\\share\\...): een geplande taak ziet geen "
            "netwerkschijven die pas bij het aanmelden worden gekoppeld. Laat de taak draaien "
            "onder een account met schrijfrechten op de map van de master (/RU). "
            "Afsluitcodes: 0 goed, 1 klaar maar met afgekeurde bestanden of fouten, 2 "
            "verkeerde instellingen, 3 niet geschreven (master geopend of een andere "
            f"verwerking bezig; de volgende verwerking haalt het in). Log: "
            f"{settings.log.absolute()}"),
    }


# -- watching -------------------------------------------------------------------------------------

def inbox_snapshot(inbox: Path) -> frozenset[tuple[str, int, int]]:
    """(name, size, mtime) of every spreadsheet in the inbox: polling works on SMB shares,
    where change notifications do not reach every client."""
    paths, _ = inbox_files(Path(inbox))
    snapshot = set()
    for path in paths:
        with suppress(OSError):
            stat = path.stat()
            snapshot.add((path.name, stat.st_size, stat.st_mtime_ns))
    return frozenset(snapshot)


def watch(settings: Settings, *, interval: float = 10.0, stop: threading.Event | None = None,
          echo: Callable[[str], None] | None = None) -> None:
    """Poll the inbox every ``interval`` seconds; when it changed and then stayed the same for
    ``settings.settle`` seconds, run the consolidation. Runs once after start-up. A run that
    could not write (master open, lock busy) is retried after another settle period. Returns
    when ``stop`` is set."""
    stop = stop or threading.Event()
    seen: frozenset | None = None
    done: frozenset | None = None
    since = time.monotonic()
    while not stop.is_set():
        snapshot = inbox_snapshot(settings.inbox)
        if snapshot != seen:
            seen, since = snapshot, time.monotonic()
        elif snapshot != done and time.monotonic() - since >= settings.settle:
            try:
                result = run_consolidation(settings, echo=echo, progress=False)
            except WriteError as error:
                print(f"xlmonitor: {error}", file=sys.stderr, flush=True)
                since = time.monotonic()
            else:
                done = snapshot
                if echo is not None:
                    for line in result.report_lines():
                        echo(line)
        stop.wait(interval)
