"""Consolidation: a pure function of the inbox.

CONTRACT (publish relies on it; see docs/architecture.md). ``consolidate(inbox, programme)``
returns a :class:`Consolidation`; the same inbox always gives the same result.
"""

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
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from xlmonitor.consolidation.cache import Lookup, SubmissionCache, cache_context
from xlmonitor.errors import UsageError
from xlmonitor.findings import Finding, finding
from xlmonitor.intake.read import Submission, read_submission
from xlmonitor.periods import parse_period, period_end, period_of, periods_between
from xlmonitor.privacy import shown_file_name
from xlmonitor.programme.definition import INDICATOR_CODES, Programme
from xlmonitor.texts import text
from xlmonitor.validation.checks import (
    Validation,
    evaluate_cumulative_rules,
    locked_findings,
    submission_date,
    validate_submissions,
)

_log = logging.getLogger(__name__)

#: tblData, one row per municipality × period × project. Names are a contract (Power Query).
DATA_COLUMNS = [
    "Gemeente", "CBS-code", "Periode",
    "Kwartaaleinde",  # date: last day of the quarter; formulas compare it with the peildatum
    "Projectcode", "Project",
    "Aanmeldingen", "Gestarte trajecten", "Afgeronde scholing", "Bemiddeld naar werk",
    "Toelichting",
    "Bestand", "Blad", "Cellen", "sha256",  # provenance: file, sheet, A1 cells of the values
]

#: tblInzendingen, one row per file in the inbox.
REGISTER_COLUMNS = [
    "Bestand", "Gemeente", "Periodes", "Indeling",
    "Status",          # ontvangen · afgekeurd · vervangen · dubbel · vergrendeld · in aanvoer
                       # · overgeslagen
    "Vervangen door",  # file name of the newer submission, for status vervangen
    "Ingevuld op",     # date the municipality filled in, if the file says so
    "Gewijzigd",       # file modification time
    "Op tijd",         # ja / nee / "" (no deadline known)
    "Fouten", "Waarschuwingen", "sha256",
]

#: Statuses of a file in tblInzendingen. Only ``ontvangen`` counts; the others say why a file
#: does not (the run's summary names each such file with its reason).
REGISTER_STATUSES = ("ontvangen", "afgekeurd", "vervangen", "dubbel", "vergrendeld",
                     "in aanvoer", "overgeslagen")

#: Statuses of the municipality × period matrix on Inzendingen. ``later``: a quarter after
#: the last quarter anyone delivered (:func:`matrix_for_periods`), not yet due.
MATRIX_STATUSES = ("ontvangen", "afgekeurd", "ontbreekt", "later")

#: tblBevindingen
FINDING_COLUMNS = ["Bestand", "Blad", "Cel", "Code", "Ernst", "Melding"]


@dataclass
class Consolidation:
    """The merged inbox.

    File names are keys here: ``register``, ``data`` (``Bestand``), ``validations`` and
    ``file_findings`` hold the real names, so two files stay two files. What xlmonitor shows
    (the master, the button, ``--json``) masks personal data in them (a colleague naming a file
    after a client's BSN): :meth:`shown_register`, :meth:`shown_data` and the findings, whose
    ``file`` and messages are masked when they are made. Two names may mask to the same text;
    they are still two rows.
    """

    programme: Programme
    data: pd.DataFrame            # DATA_COLUMNS; indicator columns int; sorted
    register: pd.DataFrame        # REGISTER_COLUMNS; sorted by Bestand
    matrix: pd.DataFrame          # index Gemeente (programme order) × periods: MATRIX_STATUSES
    findings: list[Finding] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)  # every programme quarter (layout)
    peilperiode: str = ""         # default: latest period every municipality delivered
    validations: dict = field(default_factory=dict, repr=False)     # file name → Validation
    file_findings: dict = field(default_factory=dict, repr=False)   # file name → findings

    def findings_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [[f.file, f.sheet, f.cell, f.code, f.severity, f.message] for f in self.findings],
            columns=FINDING_COLUMNS,
        )

    def shown_register(self) -> pd.DataFrame:
        """``register`` as xlmonitor shows it: personal data in file names masked."""
        return _masked(self.register, ("Bestand", "Vervangen door"))

    def shown_data(self) -> pd.DataFrame:
        """``data`` as xlmonitor shows it: personal data in ``Bestand`` masked."""
        return _masked(self.data, ("Bestand",))


def _masked(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with personal data in the text of ``columns`` masked; ``frame`` itself when
    there is none (the usual case: nothing is copied). Masked once per distinct value."""
    changed = {}
    for column in columns:
        if column not in frame or not len(frame):
            continue
        codes, uniques = pd.factorize(frame[column], sort=False)
        masked = [shown_file_name(u) if isinstance(u, str) else u for u in uniques]
        if masked != list(uniques):
            values = np.array([*masked, None], dtype=object)  # the last: a missing value
            changed[column] = pd.Series(values[codes], index=frame.index, dtype=object)
    return frame.assign(**changed) if changed else frame


# -- the consolidation ---------------------------------------------------------------------

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


def consolidate(inbox: str | Path, programme: Programme, *, layouts=None,
                reader: Callable[..., Submission] | None = None, jobs: int = 1,
                cache: SubmissionCache | str | Path | None = None,
                progress: Callable[[Path], None] | None = None) -> Consolidation:
    """Read, validate and merge every submission in ``inbox``. The inbox is only read.

    ``cache`` (a :class:`~xlmonitor.consolidation.cache.SubmissionCache` or its folder, never
    inside the
    inbox) keeps validated submissions by content: a re-run reads only new and changed files.
    ``jobs`` > 1 reads and validates the files the cache does not have in that many processes;
    the result is the same as with one job, in the same order. ``progress(path)`` is called
    in this process as each file is done (from the cache or read)."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise UsageError(text("instelling.inbox-ontbreekt", inbox=inbox))
    if cache is not None and not isinstance(cache, SubmissionCache):
        cache = SubmissionCache(cache)
    if cache is not None and cache.folder.resolve().is_relative_to(inbox.resolve()):
        raise UsageError(text("instelling.in-inbox", label="cachemap", path=cache.folder,
                              inbox=inbox))
    reader = reader or read_submission
    paths, skipped = inbox_files(inbox)
    validations = _read_all(paths, programme, layouts, reader, jobs, cache, progress)
    if cache is not None:
        cache.prune()
    return merge(validations, programme, skipped=skipped)


def _read_all(paths: list[Path], programme: Programme, layouts, reader, jobs: int,
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


def merge(validations: list[Validation], programme: Programme, *,
          skipped: list[tuple[Path, str]] = ()) -> Consolidation:
    """Select the newest valid submission per municipality × period and build the tables."""
    findings: dict[str, list[Finding]] = {v.submission.name: list(v.findings)
                                          for v in validations}
    status: dict[str, str] = {}
    superseded_by: dict[str, set[str]] = {}

    for v in validations:
        if any(f.code == "in-aanvoer" for f in v.findings):
            status[v.submission.name] = "in aanvoer"

    # Byte-identical files count once: the oldest (then first by name) is kept, but one
    # without errors before one with: the same bytes can differ in what their names do
    # (a BSN in one name: the renamed copy is the one to count).
    first_by_hash: dict[str, str] = {}
    for v in sorted(validations, key=lambda v: (v.has_errors,
                                                v.submission.modified or datetime.min,
                                                v.submission.name)):
        sub = v.submission
        if not sub.sha256:
            continue
        if sub.sha256 in first_by_hash:
            status[sub.name] = "dubbel"
            findings[sub.name].append(finding("dubbel-bestand", file=sub.path,
                                              other=shown_file_name(first_by_hash[sub.sha256])))
        else:
            first_by_hash[sub.sha256] = sub.name
    for v in validations:
        if v.submission.name not in status and v.has_errors:
            status[v.submission.name] = "afgekeurd"

    by_name = {v.submission.name: v for v in validations}
    claimed = {v.submission.name: (_periods_in(v.submission.rows), _periods_in(v.rows))
               for v in validations}
    for _ in range(len(validations) + 1):  # rejections only remove data: this converges
        winners, locked_out = _select(validations, status, programme, findings, claimed)
        selected = _selected_rows(winners, by_name)
        rejected = _cumulative_rules(selected, winners, by_name, programme, findings)
        if not rejected:
            break
        status.update({name: "afgekeurd" for name in rejected})

    accepted_periods: dict[str, set[str]] = {}
    for (_municipality, period), name in winners.items():
        accepted_periods.setdefault(name, set()).add(period)
    for v in validations:
        name = v.submission.name
        if name in status:
            continue
        own = set(claimed[name][1])
        if name in accepted_periods:
            status[name] = "ontvangen"
        elif own and own <= locked_out.get(name, set()):
            status[name] = "vergrendeld"
        else:
            status[name] = "vervangen"
        for period in sorted(own - accepted_periods.get(name, set())):
            winner = winners.get((v.submission.municipality, period))
            if winner and winner != name:
                superseded_by.setdefault(name, set()).add(winner)

    data = _data_table(selected, by_name, programme)
    periods = _periods(programme, data, validations)
    matrix = _matrix(programme, periods, winners, validations, status)
    peilperiode = _default_peilperiode(matrix, periods)
    register = _register(validations, status, superseded_by, findings, programme, skipped,
                         claimed)
    all_findings = [f for v in sorted(validations, key=lambda v: v.submission.name)
                    for f in _sorted(findings[v.submission.name])]
    all_findings += [finding("bestand-geen-spreadsheet", file=path, detail=reason)
                     for path, reason in skipped if reason == "geen spreadsheet"]
    result = Consolidation(programme=programme, data=data, register=register, matrix=matrix,
                           findings=all_findings, periods=periods, peilperiode=peilperiode)
    result.validations = {v.submission.name: v for v in validations}
    result.file_findings = {name: _sorted(f) for name, f in findings.items()}
    return result


def _sorted(findings: list[Finding]) -> list[Finding]:
    def cell_key(cell: str) -> tuple[int, str]:
        match = re.match(r"([A-Z]+)(\d+)", cell or "")
        return (int(match.group(2)), match.group(1)) if match else (0, "")

    return sorted(findings, key=lambda f: (not f.is_error, f.sheet, cell_key(f.cell), f.code))


def _select(validations, status, programme, findings, claimed):
    """Winner file per (municipality, period): the newest by filled-in date, then file time,
    then name. Locked periods accept only submissions made before they were locked.
    ``claimed``: per file name, the periods of its rows as read and of its clean rows."""
    locked_index = set(programme.locked.index)
    candidates: dict[tuple[str, str], list[tuple]] = {}
    locked_out: dict[str, set[str]] = {}
    for v in validations:
        sub = v.submission
        if status.get(sub.name) in ("dubbel", "afgekeurd") or v.rows.empty:
            continue
        raw, clean = claimed[sub.name]
        own_locked = locked_findings(sub, programme, [p for p in raw if p in locked_index])
        locked = {f.params.get("period") for f in own_locked}
        if locked:
            locked_out[sub.name] = locked
            known = {(f.code, f.params.get("period")) for f in findings[sub.name]}
            for f in own_locked:
                if (f.code, f.params.get("period")) not in known:
                    findings[sub.name].append(f)
        made = submission_date(sub) or date.min
        modified = sub.modified or datetime.min
        for period in clean:
            if period in locked:
                continue
            candidates.setdefault((sub.municipality, period), []).append(
                (made, modified, sub.name))
    winners = {key: max(options)[2] for key, options in candidates.items()}
    return winners, locked_out


def _cumulative_rules(selected, winners, by_name, programme, findings) -> set[str]:
    """Evaluate cumulative rules over each municipality's whole accepted history (the
    ``selected`` rows); return the files a blocking rule now rejects."""
    paths = {name: by_name[name].submission.path for name in set(winners.values())}
    rejected = set()
    for name, new in sorted(evaluate_cumulative_rules(selected, programme, paths).items()):
        known = {(f.sheet, f.cell, f.code, f.message) for f in findings[name]}
        for f in new:
            if (f.sheet, f.cell, f.code, f.message) not in known:
                findings[name].append(f)
                if f.is_error:
                    rejected.add(name)
    return rejected


def _periods_in(rows: pd.DataFrame) -> list[str]:
    """The distinct periods of some rows, sorted."""
    if rows.empty or "periode" not in rows:
        return []
    return sorted(p for p in set(rows["periode"].tolist()) if isinstance(p, str))


def _selected_rows(winners, by_name) -> pd.DataFrame:
    """The accepted rows: each winner's rows of the periods it won, with ``_bestand``."""
    parts, names = [], []
    for (_municipality, period), name in sorted(winners.items()):
        rows = by_name[name].rows
        mine = rows["periode"].to_numpy() == period
        parts.append(rows if mine.all() else rows[mine])
        names.append(name)
    if not parts:
        return pd.DataFrame()
    selected = pd.concat(parts, ignore_index=True)
    selected["_bestand"] = np.repeat(np.array(names, dtype=object), [len(p) for p in parts])
    return selected


def _data_table(selected, by_name, programme: Programme) -> pd.DataFrame:
    if selected.empty:
        return pd.DataFrame(columns=DATA_COLUMNS)
    sha = {name: v.submission.sha256 for name, v in by_name.items()}
    project_order = {code: i for i, code in enumerate(programme.projects.index)}
    municipality_order = {m: i for i, m in enumerate(programme.municipalities.index)}
    # Municipality and project in the programme's order, quarters in time.
    order = np.lexsort((
        selected["projectcode"].map(project_order).to_numpy(dtype=float, na_value=np.inf),
        pd.factorize(selected["periode"], sort=True)[0],
        selected["gemeente"].map(municipality_order).to_numpy(dtype=float, na_value=np.inf)))
    selected = selected.take(order).reset_index(drop=True)
    periods = selected["periode"]
    columns = {
        "Gemeente": selected["gemeente"],
        "CBS-code": _looked_up(selected["gemeente"], programme.municipalities["cbs_code"]),
        "Periode": periods,
        "Kwartaaleinde": _looked_up(periods, {p: period_end(p) for p in periods.unique()}),
        "Projectcode": selected["projectcode"],
        "Project": _looked_up(selected["projectcode"], programme.projects["naam"]),
        **{programme.label(c): selected[c].astype("int64") for c in INDICATOR_CODES},
        "Toelichting": _texts(selected["toelichting"]),
        "Bestand": selected["_bestand"],
        "Blad": _texts(selected["blad"]),
        "Cellen": _texts(selected["cellen"]),
        "sha256": _looked_up(selected["_bestand"], sha),
    }
    # Text stays in object columns: pandas would otherwise copy each into an Arrow string
    # array (~10 ms per 84,000-row column), and nothing downstream needs that.
    counts = {programme.label(c) for c in INDICATOR_CODES}
    return pd.DataFrame({
        name: values if name in counts else pd.Series(np.asarray(values, dtype=object),
                                                      dtype=object, copy=False)
        for name, values in columns.items()})[DATA_COLUMNS]


def _looked_up(values: pd.Series, mapping) -> np.ndarray:
    """``mapping[value]`` for every value (None when missing), once per distinct value."""
    codes, uniques = pd.factorize(values, sort=False)
    found = np.empty(len(uniques) + 1, dtype=object)  # the last: for a missing value
    found[:] = [*(mapping.get(u) for u in uniques), None]
    return found[codes]


def _texts(values: pd.Series) -> np.ndarray:
    """Every value as text, "" for a missing one; converted once per distinct value."""
    codes, uniques = pd.factorize(values, sort=False)  # missing: -1, the last text below
    texts = np.array([*(str(u) for u in uniques), ""], dtype=object)
    return texts[codes]


def _periods(programme: Programme, data: pd.DataFrame, validations) -> list[str]:
    reported = data["Periode"].unique() if not data.empty else ()
    return programme_periods(programme, reported)


def programme_periods(programme: Programme, reported=()) -> list[str]:
    """Every quarter of the programme, from its first reporting quarter (setting
    ``eerste_periode``, else the quarter of its start) to the quarter of its end, widened to
    any ``reported`` quarter outside that span.

    The master lays out these quarters (peilperiode list, trend, matrix, Doelen) whatever the
    inbox holds, so the Consolideer button, which cannot add rows or columns to that layout,
    can fill in a quarter that started after the master was written."""
    first = parse_period(programme.settings.get("eerste_periode")) or period_of(programme.start)
    last = max(period_of(programme.end), first)
    reported = [str(p) for p in reported if parse_period(p) == str(p)]
    return periods_between(min([first, *reported]), max([last, *reported]))


def _matrix(programme, periods, winners, validations, status) -> pd.DataFrame:
    municipalities = list(programme.municipalities.index)
    row = {m: i for i, m in enumerate(municipalities)}
    column = {p: j for j, p in enumerate(periods)}
    grid = np.full((len(municipalities), len(periods)), "ontbreekt", dtype=object)
    for v in validations:
        sub = v.submission
        if status.get(sub.name) != "afgekeurd" or sub.municipality not in row:
            continue
        for period in _periods_in(sub.rows):
            if period in column:
                grid[row[sub.municipality], column[period]] = "afgekeurd"
    for (municipality, period), _name in winners.items():
        if municipality in row and period in column:
            grid[row[municipality], column[period]] = "ontvangen"
    matrix = pd.DataFrame(grid, index=pd.Index(municipalities, name="Gemeente"),
                          columns=list(periods), dtype=object)
    return matrix_for_periods(matrix, periods)


def matrix_for_periods(matrix: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """``matrix`` (statuses, municipality × quarter) with the columns ``periods``, in that
    order. A quarter after the last one with a received file is not yet due: ``later``
    instead of ``ontbreekt``, in the quarters ``matrix`` has and in those it lacks. The first
    quarter is always due. No "today" is involved: the inbox alone decides what is due, so the
    same inbox gives the same matrix (and the same master bytes) on every run."""
    laid = matrix.reindex(columns=list(periods), fill_value="ontbreekt")
    if not len(periods):
        return laid
    grid = laid.to_numpy(dtype=object, copy=True)
    received = [p for p, any_ in zip(periods, (grid == "ontvangen").any(axis=0), strict=True)
                if any_]
    due = max(received[-1], periods[0]) if received else periods[0]
    later = np.array([p > due for p in periods])
    grid[(grid == "ontbreekt") & later[np.newaxis, :]] = "later"
    return pd.DataFrame(grid, index=laid.index, columns=laid.columns, dtype=object)


def _default_peilperiode(matrix: pd.DataFrame, periods: list[str]) -> str:
    """The last quarter every municipality delivered, else the last quarter anyone
    delivered, else the first quarter."""
    if not periods:
        return ""
    complete = [p for p in periods if (matrix[p] == "ontvangen").all()]
    if complete:
        return complete[-1]
    reported = [p for p in periods if (matrix[p] == "ontvangen").any()]
    return reported[-1] if reported else periods[0]


def _register(validations, status, superseded_by, findings, programme: Programme,
              skipped, claimed) -> pd.DataFrame:
    deadline_days = int(programme.settings.get("termijn_dagen") or 0)
    records = []
    for v in validations:
        sub = v.submission
        own = findings[sub.name]
        raw, clean = claimed[sub.name]
        periods = clean or raw  # a rejected file: the periods it claims
        made = submission_date(sub)
        on_time = ""
        if deadline_days and made is not None and periods:
            due = period_end(periods[-1]) + timedelta(days=deadline_days)
            on_time = "ja" if made <= due else "nee"
        records.append({
            "Bestand": sub.name,
            "Gemeente": sub.municipality or "",
            "Periodes": ", ".join(periods),
            "Indeling": sub.layout or "",
            "Status": status.get(sub.name, "ontvangen"),
            "Vervangen door": ", ".join(sorted(superseded_by.get(sub.name, ()))),
            "Ingevuld op": sub.submitted_on,
            "Gewijzigd": sub.modified.replace(microsecond=0) if sub.modified else None,
            "Op tijd": on_time,
            "Fouten": sum(f.is_error for f in own),
            "Waarschuwingen": sum(not f.is_error for f in own),
            "sha256": sub.sha256,
        })
    for path, reason in skipped:
        records.append({"Bestand": path.name, "Gemeente": "", "Periodes": "", "Indeling": "",
                        "Status": "overgeslagen", "Vervangen door": reason,
                        "Ingevuld op": None, "Gewijzigd": None, "Op tijd": "", "Fouten": 0,
                        "Waarschuwingen": 0, "sha256": ""})
    register = pd.DataFrame(records, columns=REGISTER_COLUMNS)
    return register.sort_values("Bestand", kind="stable").reset_index(drop=True)
