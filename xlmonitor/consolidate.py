"""Consolidation: a pure function of the inbox.

CONTRACT (publish relies on it; see docs/architecture.md). ``consolidate(inbox, programme)``
returns a :class:`Consolidation`; the same inbox always gives the same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from xlmonitor.errors import UsageError
from xlmonitor.findings import Finding, finding
from xlmonitor.intake import Submission, read_submission
from xlmonitor.periods import period_end, period_of, periods_between
from xlmonitor.programme import INDICATOR_CODES, Programme
from xlmonitor.validate import (
    Validation,
    evaluate_rules,
    locked_findings,
    submission_date,
    validate_submission,
)

#: tblData, one row per municipality × period × project. Names are a contract (Power Query).
DATA_COLUMNS = [
    "Gemeente", "CBS-code", "Periode",
    "Kwartaaleinde",  # date: last day of the quarter; formulas compare it with the peildatum
    "Projectcode", "Project",
    "Aanmeldingen", "Gestarte trajecten", "Afgeronde scholing", "Bemiddeld naar werk",
    "Toelichting",
    "Bestand", "Blad", "Cellen", "sha256",  # provenance: file, sheet, A1 cells of the values
]

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

#: Statuses of the municipality × period matrix on Inzendingen.
MATRIX_STATUSES = ("ontvangen", "afgekeurd", "ontbreekt")

#: tblBevindingen
FINDING_COLUMNS = ["Bestand", "Blad", "Cel", "Code", "Ernst", "Melding"]


@dataclass
class Consolidation:
    programme: Programme
    data: pd.DataFrame            # DATA_COLUMNS; indicator columns int; sorted
    register: pd.DataFrame        # REGISTER_COLUMNS; sorted by Bestand
    matrix: pd.DataFrame          # index Gemeente (programme order), columns periods, MATRIX_STATUSES
    findings: list[Finding] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)  # first programme period … last reported
    peilperiode: str = ""         # default: latest period every municipality delivered
    validations: dict = field(default_factory=dict, repr=False)     # file name → Validation
    file_findings: dict = field(default_factory=dict, repr=False)   # file name → findings

    def findings_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [[f.file, f.sheet, f.cell, f.code, f.severity, f.message] for f in self.findings],
            columns=FINDING_COLUMNS,
        )


# -- the consolidation ---------------------------------------------------------------------

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_TEMPORARY = re.compile(r"^(~\$|\.~lock|~|\.)|(\.(tmp|part|crdownload|partial)$)", re.I)


def inbox_files(inbox: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Spreadsheets to read, and (path, reason) of what is skipped, both sorted by name."""
    read, skipped = [], []
    for path in sorted(Path(inbox).iterdir(), key=lambda p: p.name):
        if not path.is_file():
            continue
        if _TEMPORARY.search(path.name):
            skipped.append((path, "tijdelijk bestand of eigenaarsbestand van Excel"))
        elif path.name.lower().endswith(".controle.xlsx"):
            skipped.append((path, "terugkoppelingskopie van xlmonitor"))
        elif path.suffix.lower() not in SPREADSHEET_SUFFIXES:
            skipped.append((path, "geen spreadsheet"))
        else:
            read.append(path)
    return read, skipped


def consolidate(inbox: str | Path, programme: Programme, *, layouts=None,
                reader: Callable[..., Submission] | None = None) -> Consolidation:
    """Read, validate and merge every submission in ``inbox``. The inbox is only read."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise UsageError(f"De inbox-map {inbox} bestaat niet.")
    reader = reader or read_submission
    paths, skipped = inbox_files(inbox)
    validations = [_read_and_validate(path, programme, layouts, reader) for path in paths]
    return merge(validations, programme, skipped=skipped)


def _read_and_validate(path: Path, programme: Programme, layouts, reader) -> Validation:
    try:
        submission = reader(path, programme, layouts)
        if any(f.code == "in-aanvoer" for f in submission.findings):
            # Still being copied: skipped this run, not judged.
            return Validation(submission, pd.DataFrame(), list(submission.findings))
        return validate_submission(submission, programme)
    except Exception as exc:  # one bad file must never stop the others
        submission = Submission(path=path)
        submission.findings.append(finding(
            "bestand-onleesbaar", file=path, reason=type(exc).__name__,
            detail=f"{type(exc).__name__}: {exc}"))
        return Validation(submission, pd.DataFrame(), list(submission.findings))


def merge(validations: list[Validation], programme: Programme, *,
          skipped: list[tuple[Path, str]] = ()) -> Consolidation:
    """Select the newest valid submission per municipality × period and build the tables."""
    findings: dict[str, list[Finding]] = {v.submission.name: list(v.findings)
                                          for v in validations}
    status: dict[str, str] = {}
    superseded_by: dict[str, set[str]] = {}

    for v in validations:
        if any(f.code == "in-aanvoer" for f in v.findings):
            status[v.submission.name] = "in aanvoer"

    # Byte-identical files count once: the oldest (then first by name) is kept.
    first_by_hash: dict[str, str] = {}
    for v in sorted(validations, key=lambda v: (v.submission.modified or datetime.min,
                                                v.submission.name)):
        sub = v.submission
        if not sub.sha256:
            continue
        if sub.sha256 in first_by_hash:
            status[sub.name] = "dubbel"
            findings[sub.name].append(finding("dubbel-bestand", file=sub.path,
                                              other=first_by_hash[sub.sha256]))
        else:
            first_by_hash[sub.sha256] = sub.name
    for v in validations:
        if v.submission.name not in status and v.has_errors:
            status[v.submission.name] = "afgekeurd"

    by_name = {v.submission.name: v for v in validations}
    for _ in range(len(validations) + 1):  # rejections only remove data: this converges
        winners, locked_out = _select(validations, status, programme, findings)
        rejected = _cumulative_rules(winners, by_name, programme, findings)
        if not rejected:
            break
        status.update({name: "afgekeurd" for name in rejected})

    accepted_periods: dict[str, set[str]] = {}
    for (_municipality, period), name in winners.items():
        accepted_periods.setdefault(name, set()).add(period)
    for v in validations:
        name = v.submission.name
        if name in status:
            continue
        claimed = set(v.rows["periode"]) if not v.rows.empty else set()
        if name in accepted_periods:
            status[name] = "ontvangen"
        elif claimed and claimed <= locked_out.get(name, set()):
            status[name] = "vergrendeld"
        else:
            status[name] = "vervangen"
        for period in claimed - accepted_periods.get(name, set()):
            winner = winners.get((v.submission.municipality, period))
            if winner and winner != name:
                superseded_by.setdefault(name, set()).add(winner)

    data = _data_table(winners, by_name, programme)
    periods = _periods(programme, data, validations)
    matrix = _matrix(programme, periods, winners, validations, status)
    peilperiode = _default_peilperiode(matrix, periods)
    register = _register(validations, status, superseded_by, findings, programme, skipped)
    all_findings = [f for v in sorted(validations, key=lambda v: v.submission.name)
                    for f in _sorted(findings[v.submission.name])]
    all_findings += [finding("bestand-geen-spreadsheet", file=path, detail=reason)
                     for path, reason in skipped if reason == "geen spreadsheet"]
    result = Consolidation(programme=programme, data=data, register=register, matrix=matrix,
                           findings=all_findings, periods=periods, peilperiode=peilperiode)
    result.validations = {v.submission.name: v for v in validations}
    result.file_findings = {name: _sorted(f) for name, f in findings.items()}
    return result


def _sorted(findings: list[Finding]) -> list[Finding]:
    def cell_key(cell: str) -> tuple[int, str]:
        match = re.match(r"([A-Z]+)(\d+)", cell or "")
        return (int(match.group(2)), match.group(1)) if match else (0, "")

    return sorted(findings, key=lambda f: (not f.is_error, f.sheet, cell_key(f.cell), f.code))


def _select(validations, status, programme, findings):
    """Winner file per (municipality, period): the newest by filled-in date, then file time,
    then name. Locked periods accept only submissions made before they were locked."""
    candidates: dict[tuple[str, str], list[tuple]] = {}
    locked_out: dict[str, set[str]] = {}
    for v in validations:
        sub = v.submission
        if status.get(sub.name) in ("dubbel", "afgekeurd") or v.rows.empty:
            continue
        locked = {f.params.get("period") for f in locked_findings(sub, programme)}
        if locked:
            locked_out[sub.name] = locked
            known = {(f.code, f.params.get("period")) for f in findings[sub.name]}
            for f in locked_findings(sub, programme):
                if (f.code, f.params.get("period")) not in known:
                    findings[sub.name].append(f)
        made = submission_date(sub) or date.min
        modified = sub.modified or datetime.min
        for period in sorted(set(v.rows["periode"])):
            if period in locked:
                continue
            candidates.setdefault((sub.municipality, period), []).append(
                (made, modified, sub.name))
    winners = {key: max(options)[2] for key, options in candidates.items()}
    return winners, locked_out


def _cumulative_rules(winners, by_name, programme, findings) -> set[str]:
    """Evaluate cumulative rules over each municipality's whole accepted history; return the
    files a blocking rule now rejects."""
    selected = _selected_rows(winners, by_name)
    if selected.empty:
        return set()
    rejected = set()
    for name in sorted(set(winners.values())):
        v = by_name[name]
        own = selected[selected["_bestand"] == name].drop(columns="_bestand")
        history = selected[(selected["_bestand"] != name)
                           & (selected["gemeente"] == v.submission.municipality)]
        missing = pd.DataFrame(False, index=own.index, columns=list(INDICATOR_CODES))
        new = evaluate_rules(own.reset_index(drop=True), missing.reset_index(drop=True),
                             programme, v.submission.path,
                             history=history.drop(columns="_bestand"), levels=("cumulatief",))
        known = {(f.sheet, f.cell, f.code, f.message) for f in findings[name]}
        for f in new:
            if (f.sheet, f.cell, f.code, f.message) not in known:
                findings[name].append(f)
                if f.is_error:
                    rejected.add(name)
    return rejected


def _selected_rows(winners, by_name) -> pd.DataFrame:
    parts = []
    for (municipality, period), name in sorted(winners.items()):
        rows = by_name[name].rows
        parts.append(rows[rows["periode"] == period].assign(_bestand=name))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _data_table(winners, by_name, programme: Programme) -> pd.DataFrame:
    selected = _selected_rows(winners, by_name)
    if selected.empty:
        return pd.DataFrame(columns=DATA_COLUMNS)
    sha = {name: v.submission.sha256 for name, v in by_name.items()}
    project_order = {code: i for i, code in enumerate(programme.projects.index)}
    municipality_order = {m: i for i, m in enumerate(programme.municipalities.index)}
    data = pd.DataFrame({
        "Gemeente": selected["gemeente"],
        "CBS-code": selected["gemeente"].map(programme.cbs_code),
        "Periode": selected["periode"],
        "Kwartaaleinde": selected["periode"].map(period_end),
        "Projectcode": selected["projectcode"],
        "Project": selected["projectcode"].map(programme.projects["naam"]),
        **{programme.label(c): selected[c].astype("int64") for c in INDICATOR_CODES},
        "Toelichting": selected["toelichting"].map(_text),
        "Bestand": selected["_bestand"],
        "Blad": selected["blad"].map(_text),
        "Cellen": selected["cellen"].map(_text),
        "sha256": selected["_bestand"].map(sha),
    })
    data = data.assign(_m=data["Gemeente"].map(municipality_order),
                       _p=data["Projectcode"].map(project_order))
    data = data.sort_values(["_m", "Periode", "_p"]).drop(columns=["_m", "_p"])
    return data.reset_index(drop=True)[DATA_COLUMNS]


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _periods(programme: Programme, data: pd.DataFrame, validations) -> list[str]:
    first = str(programme.settings.get("eerste_periode") or period_of(programme.start))
    reported = [p for p in data["Periode"]] if not data.empty else []
    last = max(reported) if reported else first
    last = min(last, period_of(programme.end))
    return periods_between(first, last)


def _matrix(programme, periods, winners, validations, status) -> pd.DataFrame:
    matrix = pd.DataFrame("ontbreekt", index=list(programme.municipalities.index),
                          columns=periods)
    matrix.index.name = "Gemeente"
    for v in validations:
        sub = v.submission
        if status.get(sub.name) != "afgekeurd" or sub.municipality not in matrix.index:
            continue
        claimed = set(sub.rows["periode"].dropna()) if not sub.rows.empty else set()
        for period in claimed & set(periods):
            matrix.at[sub.municipality, period] = "afgekeurd"
    for (municipality, period), _name in winners.items():
        if municipality in matrix.index and period in matrix.columns:
            matrix.at[municipality, period] = "ontvangen"
    return matrix


def _default_peilperiode(matrix: pd.DataFrame, periods: list[str]) -> str:
    if not periods:
        return ""
    complete = [p for p in periods if (matrix[p] == "ontvangen").all()]
    if complete:
        return complete[-1]
    reported = [p for p in periods if (matrix[p] == "ontvangen").any()]
    return reported[-1] if reported else periods[-1]


def _register(validations, status, superseded_by, findings, programme: Programme,
              skipped) -> pd.DataFrame:
    deadline_days = int(programme.settings.get("termijn_dagen") or 0)
    records = []
    for v in validations:
        sub = v.submission
        own = findings[sub.name]
        periods = sorted(set(v.rows["periode"].dropna())) if not v.rows.empty else (
            sorted(set(sub.rows["periode"].dropna())) if not sub.rows.empty else [])
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
