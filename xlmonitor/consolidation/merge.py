"""Consolidation: a pure function of the inbox.

CONTRACT (publish relies on it; see docs/architecture.md). ``consolidate(inbox, programme)``
returns a :class:`Consolidation`; the same inbox always gives the same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from xlmonitor.consolidation.cache import SubmissionCache
from xlmonitor.consolidation.reading import inbox_files, read_all
from xlmonitor.consolidation.register import (
    REGISTER_COLUMNS,
    default_peilperiode,
    periods_in,
    programme_periods,
    register_table,
    status_matrix,
)
from xlmonitor.errors import UsageError
from xlmonitor.findings import Finding, finding, group_findings
from xlmonitor.intake.read import read_submission
from xlmonitor.intake.submission import Submission
from xlmonitor.periods import period_end
from xlmonitor.privacy import shown_file_name
from xlmonitor.programme.definition import INDICATOR_CODES, Programme
from xlmonitor.texts import text
from xlmonitor.validation.checks import (
    Validation,
    evaluate_cumulative_rules,
    locked_findings,
    submission_date,
)

__all__ = ["DATA_COLUMNS", "FINDING_COLUMNS", "REGISTER_COLUMNS", "Consolidation", "consolidate",
           "inbox_files", "merge"]

#: tblData, one row per municipality × period × project. Names are a contract (Power Query).
DATA_COLUMNS = [
    "Gemeente", "CBS-code", "Periode",
    "Kwartaaleinde",  # date: last day of the quarter; formulas compare it with the peildatum
    "Projectcode", "Project",
    "Aanmeldingen", "Gestarte trajecten", "Afgeronde scholing", "Bemiddeld naar werk",
    "Toelichting",
    "Bestand", "Blad", "Cellen", "sha256",  # provenance: file, sheet, A1 cells of the values
]

#: tblBevindingen
FINDING_COLUMNS = ["Bestand", "Blad", "Cel", "Code", "Ernst", "Melding"]


@dataclass
class Consolidation:
    """The merged inbox.

    File names are keys here: ``register``, ``data`` (``Bestand``), ``validations`` and
    ``file_findings`` hold the real names, so two files stay two files. What xlmonitor shows
    (the master, the button, ``--json``) masks personal data in them (a colleague naming a file
    after a client's BSN): :meth:`shown_register`, :meth:`shown_data` and the findings, whose
    ``file`` and messages are masked when they are made. Two names may mask to the same text;
    they are still two rows.
    """

    programme: Programme
    data: pd.DataFrame            # DATA_COLUMNS; indicator columns int; sorted
    register: pd.DataFrame        # REGISTER_COLUMNS; sorted by Bestand
    matrix: pd.DataFrame          # index Gemeente (programme order) × periods: MATRIX_STATUSES
    findings: list[Finding] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)  # every programme quarter (layout)
    peilperiode: str = ""         # default: latest period every municipality delivered
    validations: dict = field(default_factory=dict, repr=False)     # file name → Validation
    file_findings: dict = field(default_factory=dict, repr=False)   # file name → findings

    def shown_findings(self) -> list[Finding]:
        """The findings as users read them: grouped per file, sheet and code into cell ranges
        (:func:`~xlmonitor.findings.group_findings`); count these when telling users."""
        return group_findings(self.findings)

    def findings_frame(self) -> pd.DataFrame:
        """:meth:`shown_findings` as the master's Validatie sheet lists them."""
        return pd.DataFrame(
            [[f.file, f.sheet, f.cell, f.code, f.severity, f.message]
             for f in self.shown_findings()],
            columns=FINDING_COLUMNS,
        )

    def shown_register(self) -> pd.DataFrame:
        """``register`` as xlmonitor shows it: personal data in file names masked."""
        return _masked(self.register, ("Bestand", "Vervangen door"))

    def shown_data(self) -> pd.DataFrame:
        """``data`` as xlmonitor shows it: personal data in ``Bestand`` masked."""
        return _masked(self.data, ("Bestand",))


def _masked(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with personal data in the text of ``columns`` masked; ``frame`` itself when
    there is none (the usual case: nothing is copied). Masked once per distinct value."""
    changed = {}
    for column in columns:
        if column not in frame or not len(frame):
            continue
        codes, uniques = pd.factorize(frame[column], sort=False)
        masked = [shown_file_name(u) if isinstance(u, str) else u for u in uniques]
        if masked != list(uniques):
            values = np.array([*masked, None], dtype=object)  # the last: a missing value
            changed[column] = pd.Series(values[codes], index=frame.index, dtype=object)
    return frame.assign(**changed) if changed else frame


# -- the consolidation ---------------------------------------------------------------------

def consolidate(inbox: str | Path, programme: Programme, *, layouts=None,
                reader: Callable[..., Submission] | None = None, jobs: int = 1,
                cache: SubmissionCache | str | Path | None = None,
                progress: Callable[[Path], None] | None = None) -> Consolidation:
    """Read, validate and merge every submission in ``inbox``. The inbox is only read.

    ``cache`` (a :class:`~xlmonitor.consolidation.cache.SubmissionCache` or its folder, never
    inside the
    inbox) keeps validated submissions by content: a re-run reads only new and changed files.
    ``jobs`` > 1 reads and validates the files the cache does not have in that many processes;
    the result is the same as with one job, in the same order. ``progress(path)`` is called
    in this process as each file is done (from the cache or read)."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise UsageError(text("instelling.inbox-ontbreekt", inbox=inbox))
    if cache is not None and not isinstance(cache, SubmissionCache):
        cache = SubmissionCache(cache)
    if cache is not None and cache.folder.resolve().is_relative_to(inbox.resolve()):
        raise UsageError(text("instelling.in-inbox", label="cachemap", path=cache.folder,
                              inbox=inbox))
    reader = reader or read_submission
    paths, skipped = inbox_files(inbox)
    validations = read_all(paths, programme, layouts, reader, jobs, cache, progress)
    if cache is not None:
        cache.prune()
    return merge(validations, programme, skipped=skipped)


def merge(validations: list[Validation], programme: Programme, *,
          skipped: list[tuple[Path, str]] = ()) -> Consolidation:
    """Select the newest valid submission per municipality × period and build the tables."""
    findings: dict[str, list[Finding]] = {v.submission.name: list(v.findings)
                                          for v in validations}
    status = _first_statuses(validations, findings)
    by_name = {v.submission.name: v for v in validations}
    claimed = {v.submission.name: (periods_in(v.submission.rows), periods_in(v.rows))
               for v in validations}
    for _ in range(len(validations) + 1):  # rejections only remove data: this converges
        winners, locked_out = _select(validations, status, programme, findings, claimed)
        selected = _selected_rows(winners, by_name)
        rejected = _cumulative_rules(selected, winners, by_name, programme, findings)
        if not rejected:
            break
        status.update({name: "afgekeurd" for name in rejected})
    superseded_by = _final_statuses(validations, status, winners, locked_out, claimed)

    data = _data_table(selected, by_name, programme)
    periods = _periods(programme, data, validations)
    matrix = status_matrix(programme, periods, winners, validations, status)
    register = register_table(validations, status, superseded_by, findings, programme, skipped,
                              claimed)
    all_findings = [f for v in sorted(validations, key=lambda v: v.submission.name)
                    for f in _sorted(findings[v.submission.name])]
    all_findings += [finding("bestand-geen-spreadsheet", file=path, detail=reason)
                     for path, reason in skipped if reason == "geen spreadsheet"]
    result = Consolidation(programme=programme, data=data, register=register, matrix=matrix,
                           findings=all_findings, periods=periods,
                           peilperiode=default_peilperiode(matrix, periods))
    result.validations = by_name
    result.file_findings = {name: _sorted(f) for name, f in findings.items()}
    return result


def _first_statuses(validations: list[Validation],
                    findings: dict[str, list[Finding]]) -> dict[str, str]:
    """The statuses known before selection: ``in aanvoer`` (still being copied), ``dubbel``
    (byte-identical to another file, which gets a finding) and ``afgekeurd`` (errors)."""
    status = {v.submission.name: "in aanvoer" for v in validations
              if any(f.code == "in-aanvoer" for f in v.findings)}
    # Byte-identical files count once: the oldest (then first by name) is kept, but one
    # without errors before one with: the same bytes can differ in what their names do
    # (a BSN in one name: the renamed copy is the one to count).
    first_by_hash: dict[str, str] = {}
    for v in sorted(validations, key=lambda v: (v.has_errors,
                                                v.submission.modified or datetime.min,
                                                v.submission.name)):
        sub = v.submission
        if not sub.sha256:
            continue
        if sub.sha256 in first_by_hash:
            status[sub.name] = "dubbel"
            findings[sub.name].append(finding("dubbel-bestand", file=sub.path,
                                              other=shown_file_name(first_by_hash[sub.sha256])))
        else:
            first_by_hash[sub.sha256] = sub.name
    for v in validations:
        if v.submission.name not in status and v.has_errors:
            status[v.submission.name] = "afgekeurd"
    return status


def _final_statuses(validations, status: dict[str, str], winners, locked_out,
                    claimed) -> dict[str, set[str]]:
    """Status of every file not yet judged (``ontvangen``, ``vergrendeld`` or ``vervangen``,
    in ``status``); returns, per superseded file, the files that won its quarters."""
    accepted_periods: dict[str, set[str]] = {}
    for (_municipality, period), name in winners.items():
        accepted_periods.setdefault(name, set()).add(period)
    superseded_by: dict[str, set[str]] = {}
    for v in validations:
        name = v.submission.name
        if name in status:
            continue
        own = set(claimed[name][1])
        if name in accepted_periods:
            status[name] = "ontvangen"
        elif own and own <= locked_out.get(name, set()):
            status[name] = "vergrendeld"
        else:
            status[name] = "vervangen"
        for period in sorted(own - accepted_periods.get(name, set())):
            winner = winners.get((v.submission.municipality, period))
            if winner and winner != name:
                superseded_by.setdefault(name, set()).add(winner)
    return superseded_by


def _periods(programme: Programme, data: pd.DataFrame, validations) -> list[str]:
    reported = data["Periode"].unique() if not data.empty else ()
    return programme_periods(programme, reported)


def _sorted(findings: list[Finding]) -> list[Finding]:
    def cell_key(cell: str) -> tuple[int, str]:
        match = re.match(r"([A-Z]+)(\d+)", cell or "")
        return (int(match.group(2)), match.group(1)) if match else (0, "")

    return sorted(findings, key=lambda f: (not f.is_error, f.sheet, cell_key(f.cell), f.code))


def _select(validations, status, programme, findings, claimed):
    """Winner file per (municipality, period): the newest by filled-in date, then file time,
    then name. Locked periods accept only submissions made before they were locked.
    ``claimed``: per file name, the periods of its rows as read and of its clean rows."""
    locked_index = set(programme.locked.index)
    candidates: dict[tuple[str, str], list[tuple]] = {}
    locked_out: dict[str, set[str]] = {}
    for v in validations:
        sub = v.submission
        if status.get(sub.name) in ("dubbel", "afgekeurd") or v.rows.empty:
            continue
        raw, clean = claimed[sub.name]
        own_locked = locked_findings(sub, programme, [p for p in raw if p in locked_index])
        locked = {f.params.get("period") for f in own_locked}
        if locked:
            locked_out[sub.name] = locked
            known = {(f.code, f.params.get("period")) for f in findings[sub.name]}
            for f in own_locked:
                if (f.code, f.params.get("period")) not in known:
                    findings[sub.name].append(f)
        made = submission_date(sub) or date.min
        modified = sub.modified or datetime.min
        for period in clean:
            if period in locked:
                continue
            candidates.setdefault((sub.municipality, period), []).append(
                (made, modified, sub.name))
    winners = {key: max(options)[2] for key, options in candidates.items()}
    return winners, locked_out


def _cumulative_rules(selected, winners, by_name, programme, findings) -> set[str]:
    """Evaluate cumulative rules over each municipality's whole accepted history (the
    ``selected`` rows); return the files a blocking rule now rejects."""
    paths = {name: by_name[name].submission.path for name in set(winners.values())}
    rejected = set()
    for name, new in sorted(evaluate_cumulative_rules(selected, programme, paths).items()):
        known = {(f.sheet, f.cell, f.code, f.message) for f in findings[name]}
        for f in new:
            if (f.sheet, f.cell, f.code, f.message) not in known:
                findings[name].append(f)
                if f.is_error:
                    rejected.add(name)
    return rejected


def _selected_rows(winners, by_name) -> pd.DataFrame:
    """The accepted rows: each winner's rows of the periods it won, with ``_bestand``."""
    parts, names = [], []
    for (_municipality, period), name in sorted(winners.items()):
        rows = by_name[name].rows
        mine = rows["periode"].to_numpy() == period
        parts.append(rows if mine.all() else rows[mine])
        names.append(name)
    if not parts:
        return pd.DataFrame()
    selected = pd.concat(parts, ignore_index=True)
    selected["_bestand"] = np.repeat(np.array(names, dtype=object), [len(p) for p in parts])
    return selected


def _data_table(selected, by_name, programme: Programme) -> pd.DataFrame:
    if selected.empty:
        return pd.DataFrame(columns=DATA_COLUMNS)
    sha = {name: v.submission.sha256 for name, v in by_name.items()}
    project_order = {code: i for i, code in enumerate(programme.projects.index)}
    municipality_order = {m: i for i, m in enumerate(programme.municipalities.index)}
    # Municipality and project in the programme's order, quarters in time.
    order = np.lexsort((
        selected["projectcode"].map(project_order).to_numpy(dtype=float, na_value=np.inf),
        pd.factorize(selected["periode"], sort=True)[0],
        selected["gemeente"].map(municipality_order).to_numpy(dtype=float, na_value=np.inf)))
    selected = selected.take(order).reset_index(drop=True)
    periods = selected["periode"]
    columns = {
        "Gemeente": selected["gemeente"],
        "CBS-code": _looked_up(selected["gemeente"], programme.municipalities["cbs_code"]),
        "Periode": periods,
        "Kwartaaleinde": _looked_up(periods, {p: period_end(p) for p in periods.unique()}),
        "Projectcode": selected["projectcode"],
        "Project": _looked_up(selected["projectcode"], programme.projects["naam"]),
        **{programme.label(c): selected[c].astype("int64") for c in INDICATOR_CODES},
        "Toelichting": _texts(selected["toelichting"]),
        "Bestand": selected["_bestand"],
        "Blad": _texts(selected["blad"]),
        "Cellen": _texts(selected["cellen"]),
        "sha256": _looked_up(selected["_bestand"], sha),
    }
    # Text stays in object columns: pandas would otherwise copy each into an Arrow string
    # array (~10 ms per 84,000-row column), and nothing downstream needs that.
    counts = {programme.label(c) for c in INDICATOR_CODES}
    return pd.DataFrame({
        name: values if name in counts else pd.Series(np.asarray(values, dtype=object),
                                                      dtype=object, copy=False)
        for name, values in columns.items()})[DATA_COLUMNS]


def _looked_up(values: pd.Series, mapping) -> np.ndarray:
    """``mapping[value]`` for every value (None when missing), once per distinct value."""
    codes, uniques = pd.factorize(values, sort=False)
    found = np.empty(len(uniques) + 1, dtype=object)  # the last: for a missing value
    found[:] = [*(mapping.get(u) for u in uniques), None]
    return found[codes]


def _texts(values: pd.Series) -> np.ndarray:
    """Every value as text, "" for a missing one; converted once per distinct value."""
    codes, uniques = pd.factorize(values, sort=False)  # missing: -1, the last text below
    texts = np.array([*(str(u) for u in uniques), ""], dtype=object)
    return texts[codes]


