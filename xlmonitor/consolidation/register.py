"""What happened to every file and every quarter: the register ``tblInzendingen`` (one row per
file in the inbox, with its status) and the municipality × quarter matrix on ``Inzendingen``,
laid out over every quarter of the programme (:func:`programme_periods`)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from xlmonitor.periods import parse_period, period_end, period_of, periods_between
from xlmonitor.programme.definition import Programme
from xlmonitor.validation.checks import submission_date

#: tblInzendingen, one row per file in the inbox.
REGISTER_COLUMNS = [
    "Bestand", "Gemeente", "Periodes", "Indeling",
    "Status",          # ontvangen · afgekeurd · vervangen · dubbel · vergrendeld · in aanvoer
                       # · overgeslagen
    "Vervangen door",  # file name of the newer submission, for status vervangen
    "Ingevuld op",     # date the municipality filled in, if the file says so
    "Gewijzigd",       # file modification time
    "Op tijd",         # ja / nee / "" (no deadline known)
    "Fouten", "Waarschuwingen", "sha256",
]

#: Statuses of a file in tblInzendingen. Only ``ontvangen`` counts; the others say why a file
#: does not (the run's summary names each such file with its reason).
REGISTER_STATUSES = ("ontvangen", "afgekeurd", "vervangen", "dubbel", "vergrendeld",
                     "in aanvoer", "overgeslagen")

#: Statuses of the municipality × period matrix on Inzendingen. ``later``: a quarter after
#: the last quarter anyone delivered (:func:`matrix_for_periods`), not yet due.
MATRIX_STATUSES = ("ontvangen", "afgekeurd", "ontbreekt", "later")


def periods_in(rows: pd.DataFrame) -> list[str]:
    """The distinct periods of some rows, sorted."""
    if rows.empty or "periode" not in rows:
        return []
    return sorted(p for p in set(rows["periode"].tolist()) if isinstance(p, str))


def programme_periods(programme: Programme, reported=()) -> list[str]:
    """Every quarter of the programme, from its first reporting quarter (setting
    ``eerste_periode``, else the quarter of its start) to the quarter of its end, widened to
    any ``reported`` quarter outside that span.

    The master lays out these quarters (peilperiode list, trend, matrix, Doelen) whatever the
    inbox holds, so the Consolideer button, which cannot add rows or columns to that layout,
    can fill in a quarter that started after the master was written."""
    first = parse_period(programme.settings.get("eerste_periode")) or period_of(programme.start)
    last = max(period_of(programme.end), first)
    reported = [str(p) for p in reported if parse_period(p) == str(p)]
    return periods_between(min([first, *reported]), max([last, *reported]))


def status_matrix(programme, periods, winners, validations, status) -> pd.DataFrame:
    municipalities = list(programme.municipalities.index)
    row = {m: i for i, m in enumerate(municipalities)}
    column = {p: j for j, p in enumerate(periods)}
    grid = np.full((len(municipalities), len(periods)), "ontbreekt", dtype=object)
    for v in validations:
        sub = v.submission
        if status.get(sub.name) != "afgekeurd" or sub.municipality not in row:
            continue
        for period in periods_in(sub.rows):
            if period in column:
                grid[row[sub.municipality], column[period]] = "afgekeurd"
    for (municipality, period), _name in winners.items():
        if municipality in row and period in column:
            grid[row[municipality], column[period]] = "ontvangen"
    matrix = pd.DataFrame(grid, index=pd.Index(municipalities, name="Gemeente"),
                          columns=list(periods), dtype=object)
    return matrix_for_periods(matrix, periods)


def matrix_for_periods(matrix: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """``matrix`` (statuses, municipality × quarter) with the columns ``periods``, in that
    order. A quarter after the last one with a received file is not yet due: ``later``
    instead of ``ontbreekt``, in the quarters ``matrix`` has and in those it lacks. The first
    quarter is always due. No "today" is involved: the inbox alone decides what is due, so the
    same inbox gives the same matrix (and the same master bytes) on every run."""
    laid = matrix.reindex(columns=list(periods), fill_value="ontbreekt")
    if not len(periods):
        return laid
    grid = laid.to_numpy(dtype=object, copy=True)
    received = [p for p, any_ in zip(periods, (grid == "ontvangen").any(axis=0), strict=True)
                if any_]
    due = max(received[-1], periods[0]) if received else periods[0]
    later = np.array([p > due for p in periods])
    grid[(grid == "ontbreekt") & later[np.newaxis, :]] = "later"
    return pd.DataFrame(grid, index=laid.index, columns=laid.columns, dtype=object)


def default_peilperiode(matrix: pd.DataFrame, periods: list[str]) -> str:
    """The last quarter every municipality delivered, else the last quarter anyone
    delivered, else the first quarter."""
    if not periods:
        return ""
    complete = [p for p in periods if (matrix[p] == "ontvangen").all()]
    if complete:
        return complete[-1]
    reported = [p for p in periods if (matrix[p] == "ontvangen").any()]
    return reported[-1] if reported else periods[0]


def register_table(validations, status, superseded_by, findings, programme: Programme,
              skipped, claimed) -> pd.DataFrame:
    deadline_days = int(programme.settings.get("termijn_dagen") or 0)
    records = []
    for v in validations:
        sub = v.submission
        own = findings[sub.name]
        raw, clean = claimed[sub.name]
        periods = clean or raw  # a rejected file: the periods it claims
        made = submission_date(sub)
        on_time = ""
        if deadline_days and made is not None and periods:
            due = period_end(periods[-1]) + timedelta(days=deadline_days)
            on_time = "ja" if made <= due else "nee"
        records.append({
            "Bestand": sub.name,
            "Gemeente": sub.municipality or "",
            "Periodes": ", ".join(periods),
            "Indeling": sub.layout or "",
            "Status": status.get(sub.name, "ontvangen"),
            "Vervangen door": ", ".join(sorted(superseded_by.get(sub.name, ()))),
            "Ingevuld op": sub.submitted_on,
            "Gewijzigd": sub.modified.replace(microsecond=0) if sub.modified else None,
            "Op tijd": on_time,
            "Fouten": sum(f.is_error for f in own),
            "Waarschuwingen": sum(not f.is_error for f in own),
            "sha256": sub.sha256,
        })
    for path, reason in skipped:
        records.append({"Bestand": path.name, "Gemeente": "", "Periodes": "", "Indeling": "",
                        "Status": "overgeslagen", "Vervangen door": reason,
                        "Ingevuld op": None, "Gewijzigd": None, "Op tijd": "", "Fouten": 0,
                        "Waarschuwingen": 0, "sha256": ""})
    register = pd.DataFrame(records, columns=REGISTER_COLUMNS)
    return register.sort_values("Bestand", kind="stable").reset_index(drop=True)
