"""Builds the workbooks the project ships (``xlmonitor build-workbooks``).

They are build outputs: change the sources (:mod:`xlmonitor.programme.seed`, ``macros/*.bas``) and
rebuild; a test checks that rebuilding changes nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from xlmonitor.programme.definition import Programme, build_programme_workbook, load_programme


def build_workbooks(folder: str | Path = "workbooks") -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    programme_file = build_programme_workbook(folder / "programma.xlsx")
    master = build_master_workbook(folder / "master.xlsm",
                                   programme=load_programme(programme_file))
    return [programme_file, master]


def build_master_workbook(path: str | Path, *, programme: Programme | None = None) -> Path:
    """``master.xlsm``: the master of an *empty* inbox, with the sheet Instellingen (default
    settings: ``inbox`` and ``terugkoppeling`` beside the workbook), the VBA project of
    :mod:`xlmonitor.master.vba` and the Consolideer button on Dashboard.

    Empty, not the demo: the region puts this file on its shared drive and must never present
    invented figures; the first click on Consolideer fills it. It lays out every quarter of the
    programme (peilperiode list, trend, matrix), so that click can fill in any quarter the
    inbox holds. It also keeps the binary independent of the demo data. Needs xlwings and
    pyOpenVBA (developers only).
    """
    from xlmonitor.consolidation.merge import consolidate
    from xlmonitor.master.publish import write_button_master
    from xlmonitor.master.settings_sheet import settings_for
    from xlmonitor.master.vba import build_vba_project, document_names, quickstart_workbook

    path = Path(path)
    programme = programme or load_programme()
    settings = settings_for(path)
    with tempfile.TemporaryDirectory(prefix="xlmonitor-build-") as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        result = consolidate(inbox, programme)
        # The document modules of the VBA project must match the sheets' code names, which
        # XlsxWriter gives by position (Sheet1 …): write once to learn them, then for real.
        draft = write_button_master(result, Path(tmp) / "draft.xlsm", settings=settings,
                                    vba_project=_vba_entry(quickstart_workbook()))
        project = build_vba_project(document_names(draft))
        return write_button_master(result, path, settings=settings, vba_project=project)


def _vba_entry(workbook: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(workbook) as package:
        return package.read("xl/vbaProject.bin")
