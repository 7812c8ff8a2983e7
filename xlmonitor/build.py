"""Builds the workbooks the project ships (``xlmonitor build-workbooks``).

They are build outputs: change the sources (:mod:`xlmonitor.seed`, ``macros/*.bas``) and
rebuild; a test checks that rebuilding changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from xlmonitor.programme import build_programme_workbook


def build_workbooks(folder: str | Path = "workbooks") -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [build_programme_workbook(folder / "programma.xlsx")]
