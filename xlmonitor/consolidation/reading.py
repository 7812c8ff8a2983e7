"""Reading the inbox: which files to read (:func:`inbox_files`), and each read and validated
in this process or in worker processes (``jobs``), from the cache where it can. One bad file
never stops the others: it becomes a ``bestand-onleesbaar`` finding."""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import re
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd

from xlmonitor.consolidation.cache import Lookup, SubmissionCache, cache_context
from xlmonitor.findings import finding
from xlmonitor.intake.submission import Submission
from xlmonitor.programme.definition import Programme
from xlmonitor.validation.checks import Validation, validate_submissions

_log = logging.getLogger(__name__)

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_TEMPORARY = re.compile(r"^(~\$|\.~lock|~|\.)|(\.(tmp|part|crdownload|partial)$)", re.I)


def inbox_files(inbox: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Spreadsheets to read, and (path, reason) of what is skipped, both sorted by name."""
    read, skipped = [], []
    for path in sorted(Path(inbox).iterdir(), key=lambda p: p.name):
        if not path.is_file():
            continue
        if _TEMPORARY.search(path.name):
            skipped.append((path, "tijdelijk bestand of eigenaarsbestand van Excel"))
        elif path.name.lower().endswith(".controle.xlsx"):
            skipped.append((path, "terugkoppelingskopie van xlmonitor"))
        elif path.suffix.lower() not in SPREADSHEET_SUFFIXES:
            skipped.append((path, "geen spreadsheet"))
        else:
            read.append(path)
    return read, skipped



def read_all(paths: list[Path], programme: Programme, layouts, reader, jobs: int,
              cache: SubmissionCache | None, progress) -> list[Validation]:
    """A Validation per path, in the order of ``paths``: from the cache, else read."""
    results: list[Validation | None] = [None] * len(paths)
    lookups: dict[int, Lookup] = {}
    context = cache_context(programme, layouts) if cache is not None else ""
    for i, path in enumerate(paths):
        if cache is not None:
            lookups[i] = found = cache.lookup(path, context)
            if found.validation is not None:
                results[i] = found.validation
                if progress is not None:
                    progress(path)
    todo = [i for i, result in enumerate(results) if result is None]
    for j, validation in _read_many([paths[i] for i in todo], programme, layouts, reader, jobs):
        i = todo[j]
        results[i] = validation
        if cache is not None:
            cache.store(lookups[i], validation)
        if progress is not None:
            progress(paths[i])
    return results  # type: ignore[return-value]


#: Fewer files than this per job are read in this process: starting workers costs more.
#: (A forked worker starts in ~0.05 s; a spawned one, as on Windows, imports pandas: ~1 s.)
POOL_MIN_FILES_PER_JOB = {"fork": 2, "forkserver": 8, "spawn": 8}
#: Files validated together (:func:`~xlmonitor.validation.checks.validate_submissions`): enough to
#: spread pandas' fixed cost per operation, few enough that work spreads over the jobs.
BATCH_FILES = 16


def _read_many(paths: list[Path], programme: Programme, layouts, reader,
               jobs: int) -> Iterator[tuple[int, Validation]]:
    """(index into ``paths``, Validation) as each batch of files is done, in ``jobs``
    processes."""
    context = _pool_context() if jobs > 1 else None
    pooled = context is not None and len(paths) >= jobs * POOL_MIN_FILES_PER_JOB[
        context.get_start_method()] and _can_send(context, programme, layouts, reader)
    size = max(1, min(BATCH_FILES, -(-len(paths) // jobs))) if pooled else BATCH_FILES
    batches = [list(range(k, min(k + size, len(paths)))) for k in range(0, len(paths), size)]
    if not pooled:
        for batch in batches:
            yield from zip(batch, _read_and_validate([paths[j] for j in batch], programme,
                                                     layouts, reader), strict=True)
        return
    done: set[int] = set()
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(batches)), mp_context=context,
                               initializer=_start_worker,
                               initargs=(programme, layouts, reader, os.getpid()))
    try:
        futures = {pool.submit(_worker_read, [paths[j] for j in batch]): batch
                   for batch in batches}
        for future in as_completed(futures):
            batch = futures[future]
            try:
                validations = future.result()
            except BrokenProcessPool:
                raise
            except Exception as exc:  # as in _read_and_validate: these files, not the run
                validations = [_unreadable(paths[j], exc) for j in batch]
            done.update(batch)
            yield from zip(batch, validations, strict=True)
    except BrokenProcessPool:
        # A worker died (the OS killed it, or a parser aborted): the files it did not
        # finish are read here, as with one job.
        _log.warning("a reading process stopped; %d file(s) read in the main process",
                     len(paths) - len(done))
        for j, path in enumerate(paths):
            if j not in done:
                yield j, _read_and_validate([path], programme, layouts, reader)[0]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork where the OS has it and this process runs no other thread (a fork copies locks
    other threads may hold), else a fork server, else spawn (Windows)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["xlmonitor.consolidation.merge"])
        return context
    return multiprocessing.get_context("spawn")


def _can_send(context, *objects: object) -> bool:
    """A forked worker inherits the reader; a spawned one gets it pickled."""
    if context.get_start_method() == "fork":
        return True
    try:
        pickle.dumps(objects)
    except Exception as exc:
        _log.warning("reading in one process: %s cannot be sent to a worker (%s)",
                     type(objects[-1]).__name__, type(exc).__name__)
        return False
    return True


_worker: tuple = ()


def _start_worker(programme: Programme, layouts, reader, parent: int) -> None:
    global _worker
    _worker = (programme, layouts, reader)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """A worker of a run that was killed (SIGKILL, power off the scheduler's task) must not
    live on: it would keep the run's output pipes open, and a scheduler waiting on them hangs.
    Linux kills it with its parent when asked (prctl PR_SET_PDEATHSIG); elsewhere the pool's
    own management thread ends idle workers when the parent goes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _worker_read(paths: list[Path]) -> list[Validation]:
    programme, layouts, reader = _worker
    return _read_and_validate(paths, programme, layouts, reader)


def _read_and_validate(paths: list[Path], programme: Programme, layouts,
                       reader) -> list[Validation]:
    """Read each file, then validate those read together; one bad file never stops the
    others (an unreadable one becomes a finding)."""
    results: list[Validation | None] = [None] * len(paths)
    read: list[tuple[int, Submission]] = []
    for i, path in enumerate(paths):
        try:
            submission = reader(path, programme, layouts)
        except Exception as exc:
            results[i] = _unreadable(path, exc)
            continue
        if any(f.code == "in-aanvoer" for f in submission.findings):
            # Still being copied: skipped this run, not judged.
            results[i] = Validation(submission, pd.DataFrame(), list(submission.findings))
        else:
            read.append((i, submission))
    try:
        validations = validate_submissions([sub for _, sub in read], programme)
    except Exception:  # something in one file broke a check: one by one, to find it
        validations = [_validate_alone(sub, programme) for _, sub in read]
    for (i, _sub), validation in zip(read, validations, strict=True):
        results[i] = validation
    return results  # type: ignore[return-value]


def _validate_alone(submission: Submission, programme: Programme) -> Validation:
    try:
        return validate_submissions([submission], programme)[0]
    except Exception as exc:
        return _unreadable(submission.path, exc)


def _unreadable(path: Path, exc: BaseException) -> Validation:
    submission = Submission(path=path)
    submission.findings.append(finding(
        "bestand-onleesbaar", file=path, reason=type(exc).__name__,
        detail=f"{type(exc).__name__}: {exc}"))
    return Validation(submission, pd.DataFrame(), list(submission.findings))
