"""A submission as read: rows with provenance (``ROW_COLUMNS``), totals, findings, and the
file's identity (path, sha256, size, times). Made by :func:`xlmonitor.intake.read_submission`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from xlmonitor.findings import Finding
from xlmonitor.privacy import Hit

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
_NO_ROWS = pd.DataFrame(columns=ROW_COLUMNS)  # copied: 25 times cheaper than a new one


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts with at least :data:`ROW_COLUMNS`) as ``Submission.rows``; none: empty."""
    if not rows:
        return _NO_ROWS.copy()
    return pd.DataFrame(rows, columns=ROW_COLUMNS, dtype=object)


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
