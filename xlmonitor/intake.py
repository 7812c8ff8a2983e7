"""Intake: read any submission (standard template or a municipality's own layout) into rows
with provenance — file, sheet and the A1 cell of every value, and the file's sha256.

CONTRACT (other stages rely on it; see docs/architecture.md):

``read_submission(path, programme, layouts=None) -> Submission`` never raises for a bad file:
problems become ``Finding``s in ``submission.findings`` (codes ``bestand-onleesbaar``,
``bestand-leeg``, ``indeling-onbekend``, ``kolom-ontbreekt``, ``gemeente-onbekend``,
``gemeente-ontbreekt``, ``periode-ongeldig``, ``periode-ontbreekt``, ``project-onbekend``,
``formule-zonder-waarde``, ``macro-aanwezig`` ...). Values are returned *as read* (int, float,
str, None, datetime): type checks are :mod:`xlmonitor.validate`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from xlmonitor.findings import Finding

#: Columns of ``Submission.rows`` (one row per period × project line in the file).
ROW_COLUMNS = [
    "gemeente",        # canonical municipality name (programme), or None if unknown
    "periode",         # "YYYY-Qn", or None if it could not be read
    "projectcode",     # programme project code, or None when the name is unknown
    "project_tekst",   # the project as written in the file
    "aanmeldingen", "gestarte_trajecten", "afgeronde_scholing", "bemiddeld_naar_werk",
    "toelichting",     # remark text or None
    "blad",            # sheet name
    "cel_project",     # A1 cell of the project name
    "cel_aanmeldingen", "cel_gestarte_trajecten", "cel_afgeronde_scholing",
    "cel_bemiddeld_naar_werk", "cel_toelichting",  # A1 cell of each value ("" if none)
    "cel_periode",     # A1 cell the period was read from ("" when from file or sheet name)
]


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
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ROW_COLUMNS))
    # Rows the file itself labels as totals ("Totaal"), same columns, for totaal-klopt-niet.
    totals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ROW_COLUMNS))
    findings: list[Finding] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def periods(self) -> list[str]:
        return sorted(p for p in self.rows["periode"].dropna().unique())


def read_submission(path, programme, layouts=None) -> Submission:  # pragma: no cover - stub
    raise NotImplementedError("intake is being written (issue 3)")
