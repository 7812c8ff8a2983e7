"""Intake: any submission (the standard template or a municipality's own layout; xlsx, xlsm,
xls, ods) read into rows with provenance, file, sheet and A1 cell of every value.

:mod:`.workbookfile` guards the file before parsing (zip and OLE checks, encryption, bombs,
limits); :mod:`.layouts` reads the layout specs (``workbooks/layouts/*.toml``);
:mod:`.layoutreader` reads the sheet that fits a spec best; :mod:`.hiding_places` finds every
BSN in the file (cells, notes, sheet names, ...); :mod:`.read` puts it together
into a :class:`~.submission.Submission`. A bad file never raises: it gets findings.
"""

from xlmonitor.intake.layouts import LayoutSpec, load_layouts
from xlmonitor.intake.read import read_submission
from xlmonitor.intake.submission import ROW_COLUMNS, Submission
from xlmonitor.intake.workbookfile import Limits

__all__ = ["LayoutSpec", "Limits", "ROW_COLUMNS", "Submission", "load_layouts", "read_submission"]
