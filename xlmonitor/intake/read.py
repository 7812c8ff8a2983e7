"""Intake: read any submission (standard template or a municipality's own layout) into rows
with provenance — file, sheet and the A1 cell of every value, and the file's sha256.

CONTRACT (other stages rely on it; see docs/architecture.md):

``read_submission(path, programme, layouts=None, *, limits=None) -> Submission`` never raises
for a bad file: problems become ``Finding``s in ``submission.findings`` (codes
``bestand-onleesbaar``, ``bestand-leeg``, ``alleen-foutwaarden``, ``bestand-versleuteld``,
``bestand-te-groot``, ``limiet-overschreden``, ``indeling-onbekend``, ``kolom-ontbreekt``,
``gemeente-onbekend``, ``gemeente-ontbreekt``, ``periode-ongeldig``, ``periode-ontbreekt``,
``project-onbekend``, ``indicator-onbekend``, ``formule-zonder-waarde``, ``cellen-samengevoegd``,
``sjabloon-gewijzigd``, ``macro-aanwezig``, ``externe-koppeling``). Values are returned
*as read* (int, float, str, None, datetime; whole floats as int; text stripped, blank = None):
type checks are :mod:`xlmonitor.validation.checks`'s job. Rows labelled as totals go to
``submission.totals``; a project name the programme does not know keeps its row with
``projectcode`` None. Every BSN in any cell of any sheet, and in every other place a person
can type text (notes, sheet names, names, headers, properties, ...:
:mod:`xlmonitor.intake.hiding_places`), is listed, masked, in ``submission.personal_data``
(validate reports them).

How a file is read: :mod:`xlmonitor.intake.workbookfile` checks the container and parses every sheet
with python-calamine (xlsx, xlsm, xls, ods; a formula gives its cached value; macros are never
run) within the :class:`~xlmonitor.intake.workbookfile.Limits`; then every visible sheet's top rows
are scored against each layout spec (:mod:`xlmonitor.intake.layouts`), and the best fit is read by
its orientation (:mod:`xlmonitor.intake.layoutreader`); ``ROW_COLUMNS``, the columns of
``Submission.rows``,
are defined with :class:`~xlmonitor.intake.submission.Submission`.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from pathlib import Path

import pandas as pd

from xlmonitor.findings import finding
from xlmonitor.intake.hiding_places import find_personal_data
from xlmonitor.intake.layoutreader import read_by_layout
from xlmonitor.intake.layouts import LayoutSpec, load_layouts
from xlmonitor.intake.sniff import DUTCH_ERRORS
from xlmonitor.intake.submission import ROW_COLUMNS, Submission
from xlmonitor.intake.workbookfile import (
    DEFAULT_LIMITS,
    REASON_CONTENT,
    REASON_OPEN,
    Limits,
    WorkbookFile,
    WorkbookRefused,
    is_reader_failure,
    read_metadata,
)
from xlmonitor.programme.definition import Programme


def read_submission(path: str | Path, programme: Programme,
                    layouts: list[LayoutSpec] | None = None, *,
                    limits: Limits | None = None) -> Submission:
    """Read one submission into rows with provenance; problems become findings. ``limits``
    (default :data:`~xlmonitor.intake.workbookfile.DEFAULT_LIMITS`) bound what one file may cost."""
    path = Path(path)
    limits = limits or DEFAULT_LIMITS
    deadline = time.monotonic() + limits.seconds
    submission = Submission(path=path)
    try:
        stat = path.stat()
        submission.size = stat.st_size
        submission.modified = datetime.fromtimestamp(stat.st_mtime)
        with path.open("rb") as stream:  # once: the hash and the cells come from these bytes
            data = stream.read(limits.max_file_bytes + 1)
    except OSError as exc:
        return _stop(submission, "bestand-onleesbaar", reason=REASON_OPEN, detail=repr(exc))
    if len(data) > limits.max_file_bytes:
        size = max(stat.st_size, len(data))
        return _stop(submission, "bestand-te-groot", reason=f"{size // 2**20} MB",
                     detail=f"{size} bytes > {limits.max_file_bytes}")
    submission.size = len(data)
    submission.sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        return _stop(submission, "bestand-leeg", detail="zero bytes")
    book = WorkbookFile(data, path, limits, deadline=deadline)
    try:
        book.check()
        sheets = book.read_sheets()
    except WorkbookRefused as refused:
        submission.findings += book.notes
        return _stop(submission, refused.code, **refused.params)
    submission.findings += book.notes
    submission.personal_data = find_personal_data(book, sheets)
    visible = [sheet for sheet in sheets if sheet.visible]
    if not any(v not in ("", None) for sheet in visible for row in sheet.grid for v in row):
        if errors := book.error_values():
            return _stop(submission, "alleen-foutwaarden", sheet=errors[0][0],
                         cell=errors[0][1], value=_error_list(errors),
                         detail="only error values on visible sheets")
        return _stop(submission, "bestand-leeg", detail="no filled cells on visible sheets")
    metadata = read_metadata(sheets)
    submission.template_version = metadata.get("sjabloonversie") or None
    specs = layouts if layouts is not None else load_layouts()
    try:
        book.check_time()
        read_by_layout(submission, programme, specs, visible, metadata, book)
    except WorkbookRefused as refused:
        submission.rows = submission.totals = pd.DataFrame(columns=ROW_COLUMNS)
        _stop(submission, refused.code, **refused.params)
    except BaseException as exc:  # noqa: B036 - never let one odd file stop a run
        if not is_reader_failure(exc):
            raise
        submission.findings.append(finding(
            "bestand-onleesbaar", file=path, reason=REASON_CONTENT,
            detail=f"intake failed: {exc!r}"))
    return submission


def _error_list(errors: list[tuple[str, str, str]]) -> str:
    """``#WAARDE! (#VALUE!) in cel A1 op blad 'Invoer', ...``: the name Dutch Excel shows,
    then the one the file stores."""
    parts = []
    for sheet, cell, value in errors:
        dutch = DUTCH_ERRORS.get(value, value)
        text = value if dutch == value else f"{dutch} ({value})"
        if cell:
            text += f" in cel {cell}" + (f" op blad '{sheet}'" if sheet else "")
        parts.append(text)
    return ", ".join(parts)


def _stop(submission: Submission, code: str, **params: object) -> Submission:
    submission.findings.append(finding(code, file=submission.path, **params))
    return submission
