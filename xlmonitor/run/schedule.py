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
* **Never a half-written master, never over one that is open.** Written beside the old one,
  the old one archived, then replaced in one step; refused (exit code 3) while Excel or
  LibreOffice has it open. See :mod:`xlmonitor.run.masterfile`.
* **Files still arriving are not read.** See :class:`~xlmonitor.consolidation.arrival.ArrivalGuard`.
* **The inbox is only read**; master, archive, log and feedback folder may not lie in it.
* **The log holds no submitted data**: one line per file (name, municipality, periods,
  status, counts, finding codes), never a cell value, remark or finding message.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from xlmonitor.consolidation.arrival import IN_TRANSIT_STATUS, ArrivalGuard, inbox_snapshot
from xlmonitor.consolidation.cache import SubmissionCache
from xlmonitor.consolidation.merge import consolidate, inbox_files
from xlmonitor.errors import BusyError, UsageError, WriteError, XlmonitorError
from xlmonitor.findings import use_catalogue
from xlmonitor.privacy import mask_text, shown_file_name
from xlmonitor.run.masterfile import refuse_if_open, remove_leftovers, replace_master
from xlmonitor.run.settings import Settings, default_jobs
from xlmonitor.run.summary import RunResult, file_lines, summary_line
from xlmonitor.texts import text

__all__ = ["Publisher", "RunResult", "run_consolidation", "schedule_commands", "watch"]


# -- the run ------------------------------------------------------------------------------------

#: Where a run's result goes when it is not the master file: the Consolideer button and the
#: server pass one that writes into an open workbook (``xlmonitor.excel.button``). It gets the
#: result after the feedback copies are written, inside the lock.
Publisher = Callable[[RunResult], object]


def run_consolidation(settings: Settings, *, echo: Callable[[str], None] | None = None,
                      progress: bool | None = None, publish: Publisher | None = None,
                      origin: str = "opdrachtregel") -> RunResult:
    """The one consolidation run of every entry point (command line, nightly job, watch, the
    Consolideer button, the server): lock, arrival guard, consolidate, publish, feedback, log.

    ``echo`` receives Dutch progress lines (``None``: silent, as with ``--quiet``);
    ``progress``: a progress bar (True), plain lines (False) or a bar only when stderr is a
    terminal (None). ``publish`` replaces writing the master file, for a caller that owns the
    open master (the button and the server write into the open workbook): it is called with
    the result, after the feedback copies. ``origin`` names the caller in the log. Locking,
    arrival checks, feedback, catalogue and log are the same for all. Raises BusyError
    (a WriteError, exit 3) when another run holds the lock too long, WriteError when the master
    is open,
    UsageError/ProgrammeError (exit 2) for bad settings.
    """
    try:
        settings.check()
    except XlmonitorError as error:  # a click with a wrong Instellingen sheet is logged too,
        log_file = settings.log.resolve()  # but never into the inbox
        if log_file.parent.is_dir() and not log_file.is_relative_to(settings.inbox.resolve()):
            with suppress(XlmonitorError), _run_log(settings) as log:
                log.error(f"{origin}: {error}")
        raise
    started = time.monotonic()
    with use_catalogue(settings.messages), _run_log(settings) as log:
        log.info(text("log.start", origin=origin, inbox=settings.inbox,
                      master=settings.master, host=socket.gethostname()))
        try:
            with _exclusive(settings, log, echo) as waited:
                if publish is None:
                    refuse_if_open(settings.master)
                    remove_leftovers(settings)
                result = _consolidate(settings, log, echo, progress)
                result.origin, result.waited, result.holder = origin, *waited
                _publish(settings, result, log, publish)
        except XlmonitorError as error:
            log.error(f"{origin}: {error}")
            raise
        except KeyboardInterrupt:
            log.error(text("log.afgebroken"))
            raise
        except BaseException as error:  # log where, never the message: it may hold data
            frames = ", ".join(f"{Path(f.filename).name}:{f.lineno}"
                               for f in _traceback_frames(error))
            log.error(text("log.onverwacht", error=type(error).__name__, frames=frames))
            raise
        result.seconds = time.monotonic() - started
        log.info(summary_line(result))
    return result


def _publish(settings: Settings, result: RunResult, log: logging.Logger,
             publish: Publisher | None) -> None:
    if publish is None:
        result.changed, result.archived = replace_master(settings, result.consolidation)
        if settings.feedback is not None:
            _write_feedback(settings, result, log)
        return
    if settings.feedback is not None:
        _write_feedback(settings, result, log)
    result.in_book, result.changed = True, True
    publish(result)


def _consolidate(settings: Settings, log: logging.Logger, echo, progress) -> RunResult:
    from xlmonitor.programme.definition import load_programme

    programme = load_programme(settings.programme)
    paths, _ = inbox_files(settings.inbox)
    bar = _Progress(len(paths), echo, progress)
    # The guard runs where the file is read (in a worker process with jobs > 1), so its
    # before/after checks surround the read itself; progress is reported here, per file.
    # Files from the cache skip it: their bytes were hashed between two stat calls and
    # equal a file read whole before (xlmonitor.consolidation.cache).
    guard = ArrivalGuard(settle=settings.settle)
    cache = SubmissionCache(settings.cache) if settings.cache else None
    try:
        consolidation = consolidate(settings.inbox, programme, reader=guard,
                                    jobs=settings.jobs, cache=cache, progress=bar.advance)
    finally:
        bar.close()
    if cache is not None:
        log.info(text("log.cache", hits=cache.hits, misses=cache.misses))
    in_transit = sorted(consolidation.register.loc[
        consolidation.register["Status"] == IN_TRANSIT_STATUS, "Bestand"])
    for line in file_lines(consolidation):
        log.info(line)
    return RunResult(settings, consolidation, changed=False, in_transit=in_transit)


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
    """Warnings of the library (``xlmonitor.feedback.marked_copy`` …) reach the run log as their
    message
    only: a traceback could quote a cell value. Also keeps them off stderr under --quiet."""

    def __init__(self, target: logging.Logger) -> None:
        super().__init__(logging.WARNING)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        line = (record.getMessage().splitlines() or [""])[0]
        if record.exc_info and record.exc_info[0] is not None:
            line += f" ({record.exc_info[0].__name__})"
        self.target.log(record.levelno, f"{record.name}: {line}")


@contextmanager
def _run_log(settings: Settings) -> Iterator[logging.Logger]:
    path = settings.log
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise WriteError(text("log.niet-schrijfbaar", path=path,
                              reason=exc.strerror or exc)) from exc
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


# -- lock ---------------------------------------------------------------------------------------

def _holder_file(settings: Settings) -> Path:
    return settings.lock_file.with_name(settings.lock_file.name + ".info")


def _holder(settings: Settings) -> str:
    """`` (gestart … op HOST, proces N)`` from the holder's note, or ``""``."""
    try:
        host, pid, started = _holder_file(settings).read_text("utf-8").splitlines()[:3]
    except (OSError, ValueError):
        return ""
    return text("slot.houder", started=started, host=host, pid=pid)


@contextmanager
def _exclusive(settings: Settings, log: logging.Logger, echo) -> Iterator[tuple[float, str]]:
    """Hold the run lock; yields (seconds waited for another run, that run's holder text)."""
    from filelock import FileLock, Timeout

    lock = FileLock(settings.lock_file, timeout=settings.lock_wait, poll_interval=0.2)
    wait = f"{settings.lock_wait:g}"
    waited, holder = 0.0, ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                holder, since = _holder(settings), time.monotonic()
                log.info(text("log.wacht", holder=holder, seconds=wait))
                if echo is not None:
                    echo(text("slot.wacht", holder=holder, seconds=wait))
                try:
                    lock.acquire(timeout=settings.lock_wait)
                except Timeout:
                    raise BusyError(text("slot.te-lang", master=settings.master.name,
                                         holder=_holder(settings), seconds=wait)) from None
                waited = max(time.monotonic() - since, 0.1)
                log.info(text("log.gewacht", seconds=f"{waited:.1f}"))
        except OSError as exc:
            raise WriteError(text("slot.kan-niet", path=settings.lock_file,
                                  reason=exc.strerror or exc)) from exc
    for caught_warning in caught:
        log.warning(text("log.vergrendeling", warning=caught_warning.message))
    note = _holder_file(settings)
    try:
        with suppress(OSError):
            note.write_text(f"{socket.gethostname()}\n{os.getpid()}\n"
                            f"{datetime.now():%Y-%m-%d %H:%M:%S}\n", encoding="utf-8")
        yield waited, holder
    finally:
        with suppress(OSError):
            note.unlink()
        lock.release()


# -- feedback -------------------------------------------------------------------------------------

def _write_feedback(settings: Settings, result: RunResult, log: logging.Logger) -> None:
    """A .controle.xlsx per file with findings, into the feedback folder (never the inbox);
    an outdated copy of a file that is now clean is removed. Files in transit wait."""
    from xlmonitor.feedback.marked_copy import write_feedback_copy

    consolidation = result.consolidation
    for name, validation in sorted(consolidation.validations.items()):
        if name in result.in_transit:
            continue
        findings = consolidation.file_findings.get(name, [])
        try:
            path = write_feedback_copy(validation.submission.path, findings, settings.feedback)
        except Exception as exc:  # one copy must not stop the others
            reason = str(exc) if isinstance(exc, WriteError) else type(exc).__name__
            log.error(text("log.terugkoppeling-mislukt", file=shown_file_name(name),
                           reason=reason))
            result.feedback_failed.append(name)
            continue
        if path is not None:
            result.feedback.append(path)


# -- progress -------------------------------------------------------------------------------------

class _Progress:
    """Reading progress. On a terminal one updating line (rich: count, current file, time
    left); elsewhere (a log, the Task Scheduler, cron) a plain line per file through
    ``echo``; nothing when ``echo`` is None (--quiet). ``bar``: True/False forces the one or
    the other, None decides by whether stderr is a terminal."""

    def __init__(self, total: int, echo, bar: bool | None) -> None:
        self.total, self.done, self.lock = total, 0, threading.Lock()
        self.echo = echo
        self.progress = None
        if echo is None or not total:
            self.echo = None
            return
        if bar if bar is not None else sys.stderr.isatty():
            self._start_bar(total)

    def _start_bar(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn(text("voortgang.inlezen")), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), TextColumn("{task.fields[file]}"),
            console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task(text("voortgang.inlezen"), total=total, file="")
        self.progress.start()

    def advance(self, path: Path) -> None:
        with self.lock:
            self.done += 1
            name = shown_file_name(Path(path).name)
            if self.progress is not None:
                self.progress.update(self.task, advance=1, file=name)
            elif self.echo is not None:
                self.echo(text("voortgang.regel", done=self.done, total=self.total,
                               file=name))

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


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
        if settings.messages is not None:
            args += [("--meldingen", False), path(settings.messages)]
        if settings.jobs != default_jobs():
            args += [("--jobs", False), (str(settings.jobs), False)]
    return args


def schedule_commands(settings: Settings, *, at: str = "02:00",
                      python: str | Path | None = None) -> dict[str, str]:
    """Ready-to-paste commands for the nightly run: ``schtasks`` (Windows Task Scheduler),
    ``cron``, ``cmd`` (a wrapper to save as ``cmd_bestand`` when the command is too long for
    schtasks) and Dutch ``toelichting``."""
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        raise UsageError(text("schedule.ongeldige-tijd", at=at))
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
        "toelichting": text("schedule.toelichting", log=settings.log.absolute()),
    }


# -- watching -------------------------------------------------------------------------------------

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
                result = run_consolidation(settings, echo=echo, origin="watch")
            except WriteError as error:
                print(f"xlmonitor: {error}", file=sys.stderr, flush=True)
                since = time.monotonic()
            else:
                done = snapshot
                if echo is not None:
                    for line in result.report_lines():
                        echo(line)
        stop.wait(interval)
