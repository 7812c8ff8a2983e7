"""Files still arriving: telling a submission that is whole from one still being copied into
the inbox (a municipality saving over a slow VPN, an e-mail attachment being dragged in).

Two checks, for the two ways a run starts:

* **Per file, while it is read** (:class:`ArrivalGuard`, the reader the unattended run hands
  to :func:`~xlmonitor.consolidation.merge.consolidate`): a file that changes during its read, or
  that
  is incomplete (half a zip, 0 bytes, unreadable) and was modified less than ``settle`` seconds
  ago, is not read but reported with an ``in-aanvoer`` finding; the register shows it as
  ``in aanvoer`` and the next run takes it in.
* **Per inbox, before a run** (:func:`inbox_snapshot`): ``xlmonitor watch`` runs only once the
  names, sizes and modification times of the inbox have stayed the same for ``settle``
  seconds.

Only reads: nothing here writes to, moves or locks a file in the inbox.
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from xlmonitor.consolidation.merge import inbox_files
from xlmonitor.findings import finding
from xlmonitor.intake.read import Submission, read_submission

__all__ = ["IN_TRANSIT", "IN_TRANSIT_STATUS", "ArrivalGuard", "inbox_snapshot",
           "incomplete_reason"]

IN_TRANSIT = "in-aanvoer"          # finding code (messages.csv)
IN_TRANSIT_STATUS = "in aanvoer"   # status in tblInzendingen
_ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")
_UNREADABLE = ("bestand-onleesbaar", "bestand-leeg")


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
    """The ``reader`` for :func:`~xlmonitor.consolidation.merge.consolidate` that skips files still
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
