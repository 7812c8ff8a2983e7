"""Intake: read any submission (standard template or a municipality's own layout) into rows
with provenance — file, sheet and the A1 cell of every value, and the file's sha256.

CONTRACT (other stages rely on it; see docs/architecture.md):

``read_submission(path, programme, layouts=None, *, limits=None) -> Submission`` never raises
for a bad file: problems become ``Finding``s in ``submission.findings`` (codes
``bestand-onleesbaar``, ``bestand-leeg``, ``bestand-versleuteld``, ``bestand-te-groot``,
``limiet-overschreden``, ``indeling-onbekend``, ``kolom-ontbreekt``, ``gemeente-onbekend``,
``gemeente-ontbreekt``, ``periode-ongeldig``, ``periode-ontbreekt``, ``project-onbekend``,
``indicator-onbekend``, ``formule-zonder-waarde``, ``cellen-samengevoegd``,
``sjabloon-gewijzigd``, ``macro-aanwezig``, ``externe-koppeling``). Values are returned
*as read* (int, float, str, None, datetime; whole floats as int; text stripped, blank = None):
type checks are :mod:`xlmonitor.validate`'s job. Rows labelled as totals go to
``submission.totals``; a project name the programme does not know keeps its row with
``projectcode`` None. Every BSN in any cell of any sheet is listed, masked, in
``submission.personal_data`` (validate reports them).

How a file is read: :mod:`xlmonitor.workbookfile` checks the container and parses every sheet
with python-calamine (xlsx, xlsm, xls, ods; a formula gives its cached value; macros are never
run) within the :class:`~xlmonitor.workbookfile.Limits`; then every visible sheet's top rows
are scored against each layout spec (:mod:`xlmonitor.layouts`), and the best fit is read by
its orientation (:mod:`xlmonitor.layoutreader`, which also defines ``ROW_COLUMNS``, the columns
of ``Submission.rows``).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from xlmonitor.findings import Finding, finding
from xlmonitor.layoutreader import ROW_COLUMNS, read_by_layout, rows_frame
from xlmonitor.layouts import LayoutSpec, load_layouts
from xlmonitor.privacy import Hit, find_bsns
from xlmonitor.programme import Programme
from xlmonitor.workbookfile import (
    DEFAULT_LIMITS,
    REASON_CONTENT,
    REASON_OPEN,
    Limits,
    WorkbookFile,
    WorkbookRefused,
    is_reader_failure,
    read_metadata,
)


@dataclass
class Submission:
    path: Path
    sha256: str = ""
    size: int = 0
    modified: datetime | None = None      # file modification time
    submitted_on: date | None = None      # date filled in by the municipality, if any
    layout: str | None = None             # name of the layout spec that matched
    sheet: str | None = None
    municipality: str | None = None       # canonical name
    municipality_cell: str = ""           # where the municipality was read ("" = file name)
    template_version: str | None = None
    rows: pd.DataFrame = field(default_factory=lambda: rows_frame([]))
    # Rows the file itself labels as totals ("Totaal"), same columns, for totaal-klopt-niet.
    totals: pd.DataFrame = field(default_factory=lambda: rows_frame([]))
    findings: list[Finding] = field(default_factory=list)
    # BSNs found in any cell of any sheet (masked); validate turns them into findings.
    personal_data: list[Hit] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def periods(self) -> list[str]:
        return sorted(p for p in self.rows["periode"].dropna().unique())


def read_submission(path: str | Path, programme: Programme,
                    layouts: list[LayoutSpec] | None = None, *,
                    limits: Limits | None = None) -> Submission:
    """Read one submission into rows with provenance; problems become findings. ``limits``
    (default :data:`~xlmonitor.workbookfile.DEFAULT_LIMITS`) bound what one file may cost."""
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
    submission.personal_data = [hit for sheet in sheets for hit in find_bsns(sheet.name,
                                                                             sheet.grid)]
    visible = [sheet for sheet in sheets if sheet.visible]
    if not any(v not in ("", None) for sheet in visible for row in sheet.grid for v in row):
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


def _stop(submission: Submission, code: str, **params: object) -> Submission:
    submission.findings.append(finding(code, file=submission.path, **params))
    return submission
