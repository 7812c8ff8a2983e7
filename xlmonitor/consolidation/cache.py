"""A cache of read and validated submissions, so a re-run reads only new and changed files.

Reading and validating a 240-row workbook takes about 100 ms; loading its cache entry about
half a millisecond. :func:`~xlmonitor.consolidation.merge.consolidate` asks the cache before it
calls
the reader: a hit is the :class:`~xlmonitor.validation.checks.Validation` a previous run made of the
same bytes, a miss is read, validated and stored.

**The key** is the sha256 of the file's bytes, the file *name*, and a context digest
(:func:`cache_context`) of everything else the result depends on: xlmonitor's version and its
own code and message catalogue (so a developer's change never meets an old result), the
programme (:attr:`Programme.digest`, the sha256 of programma.xlsx), the layout specs, and the
versions of pandas and python-calamine. The name is part of the key because the result depends
on it: layouts read the municipality and the period from the file name, and every finding
names the file ("Kopie van X.xlsx" must say so in its findings). A renamed file is read again.

**Not from the cache**: the file's modification time (``Submission.modified``, the submission
date when the workbook has no filled-in date) and its path are taken from the file on every
run. The bytes are hashed between two ``stat`` calls; a file that changes meanwhile is a miss
and goes to the reader (and :class:`~xlmonitor.consolidation.arrival.ArrivalGuard`, which reports
it in
transit).

**Never cached**: a submission in which personal data was found, in a cell or in its name
(the cache would be one more copy of it, beside the master), one in transit, unreadable or
empty, or stopped at a limit (a time limit depends on the machine's load, not on the file).

**Storage**: one file per entry, ``<key>.json.gz``, in a folder beside the master
(:data:`FOLDER_NAME`), never in the inbox. JSON, not pickle: the folder lives on a shared
drive, and loading a pickle runs whatever code it names. Written to a temporary name and
renamed, so a reader sees a whole entry or none; an entry that cannot be read, decoded or does
not carry its own key is a miss and is removed. The folder is safe to delete at any time.
Entries not used for :attr:`SubmissionCache.max_age_days` are pruned.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import os
import secrets
import time
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from functools import cache, lru_cache
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import pandas as pd

from xlmonitor._version import __version__
from xlmonitor.findings import Finding, catalogue_digest
from xlmonitor.intake.read import Submission
from xlmonitor.validation.checks import Validation

__all__ = ["FOLDER_NAME", "SubmissionCache", "cache_context", "default_cache_folder"]

FOLDER_NAME = ".xlmonitor-cache"  # beside the master
FORMAT = 2
#: A submission with one of these findings is never stored (see the module docstring).
NOT_CACHED = frozenset({"persoonsgegevens", "persoonsgegevens-bestandsnaam", "in-aanvoer",
                        "bestand-onleesbaar", "bestand-leeg", "limiet-overschreden"})
_SUFFIX = ".json.gz"
_README = "LEESMIJ.txt"
_README_TEXT = ("Tussenresultaten van xlmonitor: ingelezen en gecontroleerde inzendingen, zodat "
                "een volgende verwerking alleen nieuwe en gewijzigde bestanden leest.\r\n"
                "Deze map mag altijd worden verwijderd; de volgende verwerking leest dan alles "
                "opnieuw.\r\n")
_log = logging.getLogger(__name__)


def default_cache_folder(master: str | Path) -> Path:
    """The cache beside a master: ``<folder of the master>/.xlmonitor-cache``."""
    return Path(master).parent / FOLDER_NAME


# -- the key ------------------------------------------------------------------------------

@cache
def _code_digest() -> str:
    """xlmonitor's own source files and message catalogue."""
    digest = hashlib.sha256()

    def walk(folder, prefix: str) -> None:
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.is_dir() and item.name != "__pycache__":
                walk(item, f"{prefix}{item.name}/")
            elif item.name.endswith((".py", ".csv")):
                digest.update(f"{prefix}{item.name}".encode() + b"\0" + item.read_bytes() + b"\0")

    walk(resources.files("xlmonitor"), "")
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def cache_context(programme, layouts=None) -> str:
    """Digest of everything but the file that a cached result depends on."""
    from xlmonitor.intake.layouts import load_layouts

    specs = load_layouts() if layouts is None else layouts  # the shipped specs: read once
    parts = [f"format {FORMAT}", f"xlmonitor {__version__} {_code_digest()}",
             f"pandas {pd.__version__}", f"python-calamine {_version('python-calamine')}",
             f"programme {programme.digest or _programme_digest(programme)}",
             "layouts " + "\n".join(repr(spec) for spec in specs),
             f"messages {catalogue_digest()}"]  # findings are stored with their texts
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _programme_digest(programme) -> str:
    """For a programme not loaded from a workbook (it has no file digest)."""
    digest = hashlib.sha256(repr(sorted(programme.settings.items(), key=str)).encode())
    for frame in (programme.projects, programme.indicators, programme.targets,
                  programme.municipalities, programme.thresholds, programme.rules,
                  programme.locked):
        digest.update(frame.to_json(date_format="iso", default_handler=str).encode())
    return digest.hexdigest()


# -- the cache ----------------------------------------------------------------------------

@dataclass
class Lookup:
    """What :meth:`SubmissionCache.lookup` found for one file; hand it back to ``store``."""

    path: Path
    key: str | None = None          # None: the file changed while it was hashed, or is gone
    sha256: str = ""
    validation: Validation | None = None  # the hit


class SubmissionCache:
    """Validated submissions by file content; see the module docstring."""

    def __init__(self, folder: str | Path, *, max_age_days: float = 30.0) -> None:
        self.folder = Path(folder)
        self.max_age_days = max_age_days
        self.hits = self.misses = self.stored = 0
        self._used: set[str] = set()

    def lookup(self, path: Path, context: str) -> Lookup:
        """The cached validation of ``path`` (``.validation``), or a miss."""
        path = Path(path)
        try:
            before = path.stat()
            data = path.read_bytes()
            after = path.stat()
        except OSError:
            self.misses += 1
            return Lookup(path)
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or \
                len(data) != after.st_size:
            self.misses += 1
            return Lookup(path)
        sha = hashlib.sha256(data).hexdigest()
        key = hashlib.sha256(f"{sha}\n{path.name}\n{context}".encode()).hexdigest()
        found = Lookup(path, key, sha)
        entry = self.folder / f"{key}{_SUFFIX}"
        try:
            raw = entry.read_bytes()
        except OSError:  # not there (or unreadable): a miss
            self.misses += 1
            return found
        try:
            document = json.loads(gzip.decompress(raw))
            if document.get("key") != key or document.get("format") != FORMAT:
                raise ValueError("entry does not carry its own key")
            found.validation = _decode_validation(document["validation"], path, after)
        except Exception as exc:  # any damage: a miss, and the entry goes
            _log.debug("cache entry %s unusable: %r", entry.name, exc)
            self._remove(entry)
            self.misses += 1
            return found
        self._used.add(key)
        self.hits += 1
        return found

    def store(self, lookup: Lookup, validation: Validation) -> bool:
        """Keep ``validation`` for the bytes ``lookup`` hashed; False when it must not be
        kept (see :data:`NOT_CACHED`) or cannot be written (a cache never stops a run)."""
        submission = validation.submission
        if lookup.key is None or submission.sha256 != lookup.sha256 or \
                getattr(submission, "in_transit", False) or \
                getattr(submission, "personal_data", None) or \
                any(f.code in NOT_CACHED for f in (*submission.findings, *validation.findings)):
            return False
        try:
            document = {"format": FORMAT, "key": lookup.key, "file": lookup.path.name,
                        "validation": _encode_validation(validation)}
            payload = gzip.compress(json.dumps(document, ensure_ascii=False,
                                               separators=(",", ":")).encode(),
                                    compresslevel=1, mtime=0)
        except _NotCacheable as exc:
            _log.debug("not cached: %s (%s)", lookup.path.name, exc)
            return False
        try:
            self._write(f"{lookup.key}{_SUFFIX}", payload)
        except OSError as exc:
            _log.warning("cache %s not written (%s)", self.folder, exc.strerror or exc)
            return False
        self._used.add(lookup.key)
        self.stored += 1
        return True

    def prune(self) -> int:
        """Remove entries neither used by this cache object nor written for ``max_age_days``;
        returns how many went. Entries still in use keep a fresh modification time."""
        if not self.folder.is_dir():
            return 0
        now = time.time()
        limit = now - self.max_age_days * 86400
        removed = 0
        for entry in self.folder.iterdir():
            name = entry.name
            if not name.endswith(_SUFFIX):
                if name.endswith(".tmp") and _older(entry, now - 3600):
                    self._remove(entry)  # left by a killed run
                continue
            key = name[: -len(_SUFFIX)]
            if key in self._used:
                if _older(entry, now - 86400):
                    _touch(entry, now)
                continue
            if _older(entry, limit):
                self._remove(entry)
                removed += 1
        return removed

    def _write(self, name: str, payload: bytes) -> None:
        first = not self.folder.is_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        if first:
            (self.folder / _README).write_text(_README_TEXT, encoding="utf-8")
        tmp = self.folder / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            tmp.write_bytes(payload)
            os.replace(tmp, self.folder / name)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _remove(entry: Path) -> None:
        try:
            entry.unlink(missing_ok=True)
        except OSError:
            pass


def _older(path: Path, moment: float) -> bool:
    try:
        return path.stat().st_mtime < moment
    except OSError:
        return False


def _touch(path: Path, moment: float) -> None:
    try:
        os.utime(path, (moment, moment))
    except OSError:
        pass


# -- JSON encoding of a Validation ---------------------------------------------------------
# Values keep their exact Python type (int stays int, a datetime a datetime), so a hit
# validates, merges and publishes exactly like a fresh read. Anything else is not cached.

class _NotCacheable(Exception):
    pass


_SKIPPED = {"path", "modified"}  # taken from the file on every run


def _encode_validation(validation: Validation) -> dict:
    submission = validation.submission
    encoded = {}
    for item in fields(Submission):
        if item.name not in _SKIPPED:
            encoded[item.name] = _encode(getattr(submission, item.name))
    return {"submission": encoded, "rows": _encode(validation.rows),
            "findings": _encode(validation.findings)}


def _decode_validation(document: dict, path: Path, stat: os.stat_result) -> Validation:
    values = {name: _decode(value) for name, value in document["submission"].items()}
    known = {item.name for item in fields(Submission)}
    if set(values) != known - _SKIPPED:
        raise ValueError("Submission fields changed")
    submission = Submission(path=path, modified=datetime.fromtimestamp(stat.st_mtime),
                            **values)
    return Validation(submission, _decode(document["rows"]), _decode(document["findings"]))


def _encode(value: object) -> object:
    # bool before int (a bool is an int); datetime before date (a datetime is a date).
    if value is None or isinstance(value, bool | str):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if isinstance(value, pd.Timestamp):
        return {"$": "timestamp", "v": value.isoformat()} if value is not pd.NaT \
            else {"$": "nat"}
    if type(value) is datetime:
        return {"$": "datetime", "v": value.isoformat()}
    if type(value) is date:
        return {"$": "date", "v": value.isoformat()}
    if type(value) is clock_time:
        return {"$": "time", "v": value.isoformat()}
    if type(value) is timedelta:
        return {"$": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if value is pd.NA:
        return {"$": "na"}
    if value is pd.NaT:
        return {"$": "nat"}
    if type(value) is list:
        return [_encode(v) for v in value]
    if type(value) is Finding:
        return {"$": "finding", "v": [value.code, value.severity, value.message, value.file,
                                      value.sheet, value.cell, value.detail,
                                      _encode_params(value.params)]}
    if type(value) is pd.DataFrame:
        return _encode_frame(value)
    raise _NotCacheable(f"value of type {type(value).__name__}")


def _encode_params(params: dict) -> dict:
    if not all(type(k) is str and type(v) is str for k, v in params.items()):
        raise _NotCacheable("finding parameters that are not text")
    return params


def _encode_frame(frame: pd.DataFrame) -> dict:
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        index_values = None
    else:
        index_values = [_encode(v) for v in index.tolist()]
    if not all(type(c) is str for c in frame.columns):
        raise _NotCacheable("column names that are not text")
    data = [[_encode(v) for v in frame[c].tolist()] for c in frame.columns]
    return {"$": "frame", "columns": list(frame.columns), "columns_dtype": str(frame.columns.dtype),
            "dtypes": [str(t) for t in frame.dtypes], "index": index_values,
            "index_dtype": str(index.dtype), "data": data,
            "tagged": [any(type(v) is dict for v in values) for values in data]}


_SCALARS = {
    "float": lambda v: float(v),
    "timestamp": pd.Timestamp,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": clock_time.fromisoformat,
    "timedelta": lambda v: timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
}


def _decode(value: object) -> object:
    if type(value) is list:
        return [_decode(v) for v in value]
    if type(value) is not dict:
        return value
    kind = value["$"]
    if kind in _SCALARS:
        return _SCALARS[kind](value["v"])
    if kind == "na":
        return pd.NA
    if kind == "nat":
        return pd.NaT
    if kind == "finding":
        code, severity, message, file, sheet, cell, detail, params = value["v"]
        return Finding(code=code, severity=severity, message=message, file=file, sheet=sheet,
                       cell=cell, detail=detail, params=dict(params))
    if kind == "frame":
        return _decode_frame(value)
    raise ValueError(f"unknown tag {kind!r}")


@lru_cache(maxsize=64)
def _columns(names: tuple[str, ...], dtype: str) -> pd.Index:
    """Every entry has the same few column lists: one (immutable) Index each, not 1,000."""
    return pd.Index(list(names), dtype=dtype)


def _decode_frame(value: dict) -> pd.DataFrame:
    columns = _columns(tuple(value["columns"]), value["columns_dtype"])
    data = value["data"]
    rows = len(data[0]) if data else len(value["index"] or ())
    index = pd.RangeIndex(rows) if value["index"] is None else pd.Index(
        [_decode(v) for v in value["index"]], dtype=value["index_dtype"])
    arrays = []
    for dtype, values, tagged in zip(value["dtypes"], data, value["tagged"], strict=True):
        values = [_decode(v) for v in values] if tagged else values
        if dtype == "object":  # filled in place: np.array would make lists into 2-D arrays
            array = np.empty(rows, dtype=object)
            array[:] = values
        elif dtype in ("int64", "float64", "bool"):
            array = np.array(values, dtype=dtype)
        else:
            array = pd.array(values, dtype=dtype)
        arrays.append(array)
    try:
        # The column arrays as they are, object columns not re-inferred as text: a warm run
        # builds two frames per file, and this is twice as fast as any public constructor.
        return pd.DataFrame._from_arrays(arrays, columns=columns, index=index,
                                         verify_integrity=False)
    except (AttributeError, TypeError):  # a pandas without it: the public way
        frame = pd.DataFrame({i: pd.Series(array, index=index, dtype=array.dtype, copy=False)
                              for i, array in enumerate(arrays)}, index=index)
        frame.columns = columns
        return frame
