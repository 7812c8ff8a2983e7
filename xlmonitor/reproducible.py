"""Saving an openpyxl workbook as the same bytes on every run.

openpyxl's save stamps the clock into ``docProps/core.xml`` (``dcterms:modified``) and
zipfile stamps it into every zip member, so saving the same workbook twice gives two different
files. :func:`save_workbook` writes the time the caller chooses instead (for a file derived
from another, that file's own time) and every member carries :data:`ZIP_MEMBER_TIME`. Used for
the demo inbox and the feedback copies; XlsxWriter (the master, templates) fixes its zip
timestamps itself.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from openpyxl.workbook.workbook import Workbook
from openpyxl.xml.functions import tostring

__all__ = ["ZIP_MEMBER_TIME", "save_workbook", "utc_time"]

#: Every zip member's timestamp: 1 January 1980 (the zip format's first day), as Excel and
#: XlsxWriter write it.
ZIP_MEMBER_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_PROPERTIES = "docProps/core.xml"


def save_workbook(workbook: Workbook, target: str | Path | BinaryIO, *, saved_at: datetime,
                  created: datetime | None = None) -> None:
    """Save ``workbook`` to ``target`` as bytes that depend only on the workbook and the times.

    ``saved_at`` becomes ``dcterms:modified``; ``created`` (if given) ``dcterms:created``. Both
    are naive UTC for openpyxl, which writes them with a ``Z``. Members, their order and their
    contents stay openpyxl's.
    """
    saved = io.BytesIO()
    workbook.save(saved)  # stamps the clock into properties.modified; replaced below
    workbook.properties.modified = saved_at
    if created is not None:
        workbook.properties.created = created
    core = tostring(workbook.properties.to_tree())  # what openpyxl's save writes there
    with zipfile.ZipFile(saved) as source, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            data = core if info.filename == _CORE_PROPERTIES else source.read(info)
            copy.writestr(zipfile.ZipInfo(info.filename, ZIP_MEMBER_TIME), data,
                          compress_type=zipfile.ZIP_DEFLATED)


def utc_time(timestamp: float) -> datetime:
    """A file time (``st_mtime``) as the naive UTC datetime, to the second, openpyxl expects."""
    return datetime.fromtimestamp(int(timestamp), UTC).replace(tzinfo=None)
