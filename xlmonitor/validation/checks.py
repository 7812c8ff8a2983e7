"""Validation: pandera schemas plus the programme's rules, giving findings at the exact cell.

``validate_submission(submission, programme)`` returns a :class:`Validation`: the clean rows
(whole numbers, blanks counted as 0, unknown projects dropped) and the findings, errors
(``fout``) blocking the submission and warnings (``waarschuwing``) not.

Rules come from the programme's ``Regels`` sheet, DHIS2-style: ``links operator rechts``,
each side an indicator code or a sum of codes and whole numbers, with a severity and a
missing-value strategy; ``niveau`` is ``rij`` (each quarter on its own) or ``cumulatief``
(summed up to and including the quarter, over ``history`` plus this submission; judged only
when ``history`` is given, as consolidation does — a lone file cannot know its earlier quarters).

Personal data (:mod:`xlmonitor.privacy`): a BSN intake found in any cell is a
``persoonsgegevens`` error (``persoonsgegevens-vraag``, a warning that asks, when it may be an
amount), one in a note, sheet name, property or other place ``persoonsgegevens-elders`` (error),
an e-mail address or phone number in a remark a warning; the same
in the file's name is ``persoonsgegevens-bestandsnaam`` (a BSN an error). Every
finding's message and detail and the clean rows' ``toelichting`` are masked, so nothing
personal reaches the master, a feedback copy or ``--json``.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from xlmonitor import privacy
from xlmonitor.findings import WARNING, Finding, finding, mask_finding
from xlmonitor.intake.read import Submission
from xlmonitor.periods import period_end, period_start
from xlmonitor.programme.definition import INDICATOR_CODES, Programme
from xlmonitor.validation.schemas import (
    CHECK_CODES,
    LARGEST_EXACT_COUNT,
    NOT_A_NUMBER,
    counts_frame,
    counts_schema,
)

OPERATORS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt,
             "==": operator.eq, "!=": operator.ne}
OPERATOR_TEXT = {"<=": "hoogstens", "<": "minder dan", ">=": "minstens", ">": "meer dan",
                 "==": "gelijk aan", "!=": "niet gelijk aan"}

#: Columns of ``Validation.rows``.
CLEAN_COLUMNS = ["gemeente", "periode", "projectcode", *INDICATOR_CODES, "toelichting", "blad",
                 "cellen", "cel_project", *[f"cel_{c}" for c in INDICATOR_CODES]]


@dataclass
class Validation:
    submission: Submission
    rows: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)


def validate_submission(submission: Submission, programme: Programme, *,
                        history: pd.DataFrame | None = None,
                        rules: bool = True) -> Validation:
    """Check a submission; ``history`` holds earlier accepted rows (CLEAN_COLUMNS) of the same
    municipality, for cumulative rules. Never raises for bad content."""
    return validate_submissions([submission], programme, history=history, rules=rules)[0]


def validate_submissions(submissions: list[Submission], programme: Programme, *,
                         history: pd.DataFrame | None = None,
                         rules: bool = True) -> list[Validation]:
    """:func:`validate_submission` for several submissions at once, with the same results.

    The checks run once over all their rows (a column ``bestandnr`` says whose row it is) instead
    of once per file: a file is ~240 rows, so per file pandas' fixed cost per operation
    dominated (~20 ms a file, most of a national inbox's validation). ``history`` can only be
    given with one submission (it is that municipality's)."""
    if history is not None and len(submissions) != 1:
        raise ValueError("history belongs to one submission")
    found = _file_findings(submissions)
    filled = [nr for nr, sub in enumerate(submissions) if not sub.rows.empty]
    cleans: dict[int, pd.DataFrame] = {}
    if filled:
        rows = pd.concat([submissions[nr].rows for nr in filled], ignore_index=True)
        rows["bestandnr"] = np.repeat(filled, [len(submissions[nr].rows) for nr in filled])
        counts = counts_frame(rows)
        found += _row_findings(submissions, filled, rows, counts, programme)
        clean = _clean_rows(rows, counts)
        if rules:
            found += _row_rule_findings(clean, counts_missing(rows, counts), programme,
                                        [sub.path for sub in submissions], history)
        cleans = {nr: part.drop(columns="bestandnr").reset_index(drop=True)
                  for nr, part in clean.groupby("bestandnr", sort=False)}
    by_submission: list[list[Finding]] = [[] for _ in submissions]
    for nr, f in found:
        by_submission[nr].append(f)
    return [Validation(sub, cleans[nr] if nr in cleans else _empty(),
                       _dedupe(by_submission[nr]))
            for nr, sub in enumerate(submissions)]


def _file_findings(submissions: list[Submission]) -> list[tuple[int, Finding]]:
    """(submission number, finding) of what concerns each file as a whole: intake's findings,
    personal data, an empty file, the file's name."""
    found: list[tuple[int, Finding]] = []
    for nr, sub in enumerate(submissions):
        own = [*sub.findings, *_personal_data_findings(sub)]
        if sub.rows.empty and not any(f.is_error for f in own):
            own.append(finding("bestand-leeg", file=sub.path, detail="no data rows"))
        # After the emptiness check: a name is no reason for a file to be empty.
        found += [(nr, f) for f in (*own, *_file_name_findings(sub))]
    return found


def _row_findings(submissions: list[Submission], filled: list[int], rows: pd.DataFrame,
                  counts: pd.DataFrame, programme: Programme) -> list[tuple[int, Finding]]:
    """The checks over all files' rows at once: schema, blanks, periods, duplicates, totals
    the files state themselves, projects not running."""
    paths = [sub.path for sub in submissions]
    found = _schema_findings(rows, counts, paths, programme.max_count)
    found += _blank_findings(rows, counts, paths)
    found += _period_findings(rows, paths, programme)
    found += _duplicate_findings(rows, paths)
    owner = rows["bestandnr"].to_numpy()
    for nr in filled:
        sub = submissions[nr]
        if sub.totals is not None and not sub.totals.empty:
            own_counts = counts[owner == nr].set_axis(sub.rows.index)  # its rows, in order
            found += [(nr, f) for f in _total_findings(sub, own_counts, sub.path)]
    found += _activity_findings(rows, counts, programme, paths)
    return found


def _clean_rows(rows: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """CLEAN_COLUMNS (+ ``bestandnr``): rows with a known project and period, whole counts."""
    # Not a number, an infinite one ("inf" in an .ods) or one too large to be a whole int64
    # (1e308 would wrap to a negative count): reported as findings, counted as blank.
    clean = rows.assign(**{c: counts[c].where(np.isfinite(counts[c])
                                              & (counts[c] <= LARGEST_EXACT_COUNT))
                           for c in counts})
    clean = clean[clean["projectcode"].notna() & clean["periode"].notna()]
    for code in INDICATOR_CODES:
        clean[code] = clean[code].fillna(0).clip(lower=0).round().astype("int64")
    clean["cellen"] = [_cells(cells) for cells in zip(
        *(clean[f"cel_{c}"].tolist() for c in INDICATOR_CODES), strict=True)]
    clean["toelichting"] = clean["toelichting"].map(_masked_remark)
    clean = clean.reindex(columns=[*CLEAN_COLUMNS, "bestandnr"]).reset_index(drop=True)
    # Text columns as objects whatever the batch: a file's clean rows must not depend on
    # which files it was checked with (pandas infers a column's dtype from all its values).
    for column in CLEAN_COLUMNS:
        if column not in INDICATOR_CODES:
            clean[column] = clean[column].astype(object)
    return clean


def _row_rule_findings(clean: pd.DataFrame, missing: pd.DataFrame, programme: Programme,
                       paths: list, history: pd.DataFrame | None) -> list[tuple[int, Finding]]:
    if history is not None:
        # Cumulative rules need the municipality's earlier quarters: only with ``history``
        # (consolidation) are they judged; a file checked on its own gets the per-quarter ones.
        nr = int(clean["bestandnr"].iloc[0]) if len(clean) else 0
        return [(nr, f) for f in evaluate_rules(
            clean.drop(columns="bestandnr"), missing, programme, paths[nr], history=history,
            levels=("rij", "cumulatief"))]
    if clean.empty or programme.rules.empty:
        return []
    combined = clean.assign(_own=True)
    return [(int(combined.at[index, "bestandnr"]), f) for index, f in _rule_findings(
        combined, missing, programme, ("rij",), lambda row: paths[row["bestandnr"]])]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=CLEAN_COLUMNS)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Each finding once, with personal data in its message and detail masked."""
    seen, result = set(), []
    for f in map(mask_finding, findings):
        key = (f.file, f.sheet, f.cell, f.code, f.message)
        if key not in seen:
            seen.add(key)
            result.append(f)
    return result


def _personal_data_findings(submission: Submission) -> list[Finding]:
    """``persoonsgegevens``: every BSN intake found (error), and every e-mail address or
    phone number in a remark (warning). Messages show the value masked only."""
    result = [_hit_finding(submission, hit) for hit in submission.personal_data]
    reported = {(hit.sheet, hit.cell, hit.kind) for hit in submission.personal_data
                if not hit.place}
    for rows in (submission.rows, submission.totals):
        if rows is None or rows.empty:
            continue
        for remark, sheet, cell in rows[["toelichting", "blad", "cel_toelichting"]].itertuples(
                index=False):
            if not isinstance(remark, str):
                continue
            for kind, masked in privacy.find_contact_data(remark):
                if (sheet, cell, kind) not in reported:
                    reported.add((sheet, cell, kind))
                    result.append(finding(
                        "persoonsgegevens", file=submission.path, sheet=sheet, cell=cell,
                        severity=WARNING, kind=privacy.KIND_TEXT[kind], value=masked,
                        detail=f"{kind} {masked} in a remark"))
    return result


def _hit_finding(submission: Submission, hit: privacy.Hit) -> Finding:
    """A hit intake found: in a cell's value ``persoonsgegevens`` (error) or, when the number
    or text may be an amount, ``persoonsgegevens-vraag`` (a warning that asks); anywhere else
    ``persoonsgegevens-elders`` at its place (error)."""
    params = {"file": submission.path, "sheet": hit.sheet, "cell": hit.cell,
              "kind": privacy.KIND_TEXT[hit.kind], "value": hit.masked}
    if hit.place:
        return finding("persoonsgegevens-elders", place=hit.place,
                       detail=f"{hit.kind} {hit.masked} in {hit.place}", **params)
    if hit.question:
        return finding("persoonsgegevens-vraag", reason=hit.question,
                       detail=f"{hit.kind}? {hit.masked}: {hit.question}", **params)
    return finding("persoonsgegevens", detail=f"{hit.kind} {hit.masked}", **params)


def _file_name_findings(submission: Submission) -> list[Finding]:
    """``persoonsgegevens-bestandsnaam``: a BSN in the file's name (error: the file counts
    once it has been saved under another name, which is what the privacy officer wants of a
    file on the shared drive), an e-mail address or phone number (warning). The finding, like
    every finding, shows the name masked."""
    return [finding("persoonsgegevens-bestandsnaam", file=submission.path,
                    severity=None if kind == privacy.BSN else WARNING,
                    kind=privacy.KIND_TEXT[kind], value=masked,
                    detail=f"{kind} {masked} in the file name")
            for kind, masked in privacy.find_in_file_name(submission.path.name)]


def _masked_remark(value: object) -> object:
    return privacy.mask_text(value) if isinstance(value, str) else value


@lru_cache(maxsize=4096)
def _cells(cells: tuple) -> str:
    """Provenance of a row's counts: ``C8:F8`` for one row of cells, else ``C8,D9``."""
    cells = [c for c in cells if isinstance(c, str) and c]
    if not cells:
        return ""
    rows_ = {re.sub(r"[A-Z]+", "", c) for c in cells}
    if len(rows_) == 1 and len(cells) > 1:
        return f"{cells[0]}:{cells[-1]}"
    return ",".join(cells)


def _schema_findings(rows: pd.DataFrame, counts: pd.DataFrame, paths: list,
                     maximum: int) -> list[tuple[int, Finding]]:
    try:
        counts_schema(maximum).validate(counts, lazy=True)
        return []
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    result = []
    for case in cases.itertuples():
        code = CHECK_CODES.get(str(case.check))
        if code is None or pd.isna(case.index):
            continue
        row = rows.loc[case.index]
        raw = row[case.column]
        result.append((row["bestandnr"], finding(
            code, file=paths[row["bestandnr"]], sheet=row["blad"], cell=row[f"cel_{case.column}"],
            value=_as_shown(raw), maximum=f"{maximum:,}".replace(",", "."),  # Dutch: 10.000
            number=_as_read(counts.at[case.index, case.column]),
            detail=f"{case.column}: check {case.check} failed on {raw!r}")))
    return result

def _as_read(number: float) -> str:
    """A count as xlmonitor read it, for messages: ``12000``, ``12,5``."""
    if not math.isfinite(number) or abs(number) >= 10**12:
        return ""
    return str(int(number)) if number.is_integer() else str(number).replace(".", ",")


def _as_shown(value: object) -> object:
    """A huge number as Excel's General format shows it (``1E+308``), not its 309 digits
    (intake turns a whole float into an int); anything else as read."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int beyond any float: no spreadsheet holds one
            return value
        if math.isfinite(number) and abs(number) >= 10**12:
            return f"{number:.6G}".replace(".", ",")
    return value


def _blank_findings(rows, counts, paths: list) -> list[tuple[int, Finding]]:
    result = []
    known = rows["projectcode"].notna()
    for column in INDICATOR_CODES:
        for index in counts.index[counts[column].isna() & known]:
            row = rows.loc[index]
            cell = row[f"cel_{column}"] or row["cel_project"]
            result.append((row["bestandnr"], finding(
                "waarde-ontbreekt", file=paths[row["bestandnr"]], sheet=row["blad"], cell=cell,
                detail=f"{column} blank for {row['projectcode']}")))
    return result

def _period_findings(rows, paths: list, programme: Programme) -> list[tuple[int, Finding]]:
    result = []
    first, last = programme.start, programme.end
    dated = rows[rows["periode"].notna()]
    # The first row of each file's period, in period order within a file.
    firsts = dated.drop_duplicates(["bestandnr", "periode"]).sort_values(["bestandnr", "periode"],
                                                                    kind="stable")
    for row in firsts.itertuples(index=False):
        if period_end(row.periode) < first or period_start(row.periode) > last:
            result.append((row.bestandnr, finding(
                "periode-buiten-programma", file=paths[row.bestandnr], sheet=row.blad,
                cell=row.cel_periode, value=row.periode,
                expected=f"{first:%d-%m-%Y} t/m {last:%d-%m-%Y}")))
    return result

def locked_findings(submission: Submission, programme: Programme,
                    periods: list[str] | None = None) -> list[Finding]:
    """``periode-vergrendeld`` for periods locked before the submission was made."""
    made = submission_date(submission)
    result = []
    for period in periods if periods is not None else submission.periods:
        since = programme.locked_since(period)
        if since is not None and made is not None and made > since:
            reason = programme.locked.at[period, "reden"] or f"sinds {since:%d-%m-%Y}"
            result.append(finding("periode-vergrendeld", file=submission.path,
                                  sheet=submission.sheet or "", period=period, reason=reason,
                                  detail=f"submitted {made}, locked since {since}"))
    return result


def submission_date(submission: Submission) -> date | None:
    """The date a submission was made: its own filled-in date, else the file time."""
    if submission.submitted_on is not None:
        return submission.submitted_on
    return submission.modified.date() if submission.modified is not None else None


def _duplicate_findings(rows, paths: list) -> list[tuple[int, Finding]]:
    known = rows[rows["projectcode"].notna() & rows["periode"].notna()]
    key = ["bestandnr", "periode", "projectcode"]
    again = known.duplicated(key, keep="first")
    if not again.any():
        return []
    first_cell = known[~again].set_index(key)["cel_project"]
    result = []
    for row in known[again].itertuples(index=False):
        result.append((row.bestandnr, finding(
            "dubbele-rij", file=paths[row.bestandnr], sheet=row.blad, cell=row.cel_project,
            value=row.project_tekst, period=row.periode,
            other=first_cell[(row.bestandnr, row.periode, row.projectcode)])))
    return result

def _total_findings(submission: Submission, counts: pd.DataFrame, file) -> list[Finding]:
    totals = submission.totals
    if totals is None or totals.empty:
        return []
    rows = submission.rows
    result = []
    total_counts = counts_frame(totals)
    for index, total in totals.iterrows():
        period = total["periode"]
        in_period = rows["periode"] == period if pd.notna(period) else rows["periode"].isna()
        for column in INDICATOR_CODES:
            stated = total_counts.at[index, column]
            if pd.isna(stated) or stated == NOT_A_NUMBER:
                continue
            expected = counts.loc[in_period, column]
            expected = expected[(expected != NOT_A_NUMBER)].sum()
            if stated != expected:
                result.append(finding(
                    "totaal-klopt-niet", file=file, sheet=total["blad"],
                    cell=total[f"cel_{column}"], value=_number(stated),
                    expected=_number(expected)))
    return result


def _activity_findings(rows, counts, programme: Programme,
                       paths: list) -> list[tuple[int, Finding]]:
    """``project-niet-actief`` for counts reported outside a project's run (vectorised: this
    runs for every row of every file)."""
    known = rows[rows["projectcode"].notna() & rows["periode"].notna()]
    if known.empty:
        return []
    periods = {p: (period_start(p), period_end(p)) for p in known["periode"].unique()}
    first = known["periode"].map(lambda p: periods[p][0])
    last = known["periode"].map(lambda p: periods[p][1])
    start = known["projectcode"].map(programme.projects["start"])
    end = known["projectcode"].map(programme.projects["eind"])
    running = (start <= last) & (end >= first)
    reported = (counts.loc[known.index] > 0).any(axis=1)
    result = []
    for index in known.index[~running & reported]:
        row = known.loc[index]
        project = programme.projects.loc[row["projectcode"]]
        result.append((row["bestandnr"], finding(
            "project-niet-actief", file=paths[row["bestandnr"]], sheet=row["blad"],
            cell=row["cel_project"], value=project["naam"], period=row["periode"],
            expected=f"looptijd {project['start']:%d-%m-%Y} t/m {project['eind']:%d-%m-%Y}")))
    return result


def counts_missing(rows: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """Which indicator values were blank, aligned with the clean rows."""
    keep = rows["projectcode"].notna() & rows["periode"].notna()
    return counts.loc[keep, list(INDICATOR_CODES)].isna().reset_index(drop=True)


# -- rules ---------------------------------------------------------------------------------

_TERM = re.compile(r"\s*([+-]?)\s*([a-z_]+|\d+)\s*")


def _side(expression: str, values: pd.DataFrame, missing: pd.DataFrame
          ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Evaluate ``a + b - 3``: (value, any operand missing, all operands missing)."""
    total = pd.Series(0.0, index=values.index)
    any_missing = pd.Series(False, index=values.index)
    all_missing = pd.Series(True, index=values.index)
    for sign, term in _TERM.findall(expression):
        factor = -1.0 if sign == "-" else 1.0
        if term.isdigit():
            total += factor * float(term)
            all_missing &= False
        else:
            total += factor * values[term].astype(float)
            any_missing |= missing[term]
            all_missing &= missing[term]
    return total, any_missing, all_missing


def evaluate_rules(clean: pd.DataFrame, missing: pd.DataFrame, programme: Programme, file, *,
                   history: pd.DataFrame | None = None,
                   levels: tuple[str, ...] = ("rij", "cumulatief")) -> list[Finding]:
    """Findings for every rule of the programme (of the given ``levels``) broken by the clean
    rows; cumulative sums include ``history``, earlier rows of the same municipality."""
    if clean.empty or programme.rules.empty:
        return []
    own = clean.assign(_own=True)
    missing = missing.reindex(own.index, fill_value=False)
    if history is not None and not history.empty:
        earlier = history[~history.set_index(["periode", "projectcode"]).index.isin(
            own.set_index(["periode", "projectcode"]).index)].assign(_own=False)
        combined = pd.concat([own, earlier.reindex(columns=own.columns)], ignore_index=True)
        combined["_own"] = combined["_own"].astype(bool)
        missing = pd.concat([missing, pd.DataFrame(False, index=range(len(earlier)),
                                                   columns=missing.columns)],
                            ignore_index=True)
    else:
        combined = own.reset_index(drop=True)
        missing = missing.reset_index(drop=True)
    return [item for _index, item in _rule_findings(combined.reset_index(drop=True), missing,
                                                    programme, levels, lambda row: file)]


def evaluate_cumulative_rules(selected: pd.DataFrame, programme: Programme,
                              files: dict[str, object]) -> dict[str, list[Finding]]:
    """Cumulative rules over every municipality's accepted rows at once.

    ``selected`` holds CLEAN_COLUMNS plus ``_bestand``, the name of the file each row was
    accepted from (one file per municipality × period, so no row is counted twice); ``files``
    maps those names to the paths findings should name. Returns the findings per file name:
    one evaluation instead of one per file keeps a national inbox's merge linear."""
    if selected.empty or programme.rules.empty:
        return {}
    combined = selected.assign(_own=True).reset_index(drop=True)
    missing = pd.DataFrame(False, index=combined.index, columns=list(INDICATOR_CODES))
    found: dict[str, list[Finding]] = {}
    for index, item in _rule_findings(combined, missing, programme, ("cumulatief",),
                                      lambda row: files[row["_bestand"]]):
        found.setdefault(combined.at[index, "_bestand"], []).append(item)
    return found


def _rule_findings(combined: pd.DataFrame, missing: pd.DataFrame, programme: Programme,
                   levels: tuple[str, ...], file_of) -> list[tuple[int, Finding]]:
    """(row index, finding) for the rules of ``levels`` broken by the rows of ``combined``
    marked ``_own``; ``file_of(row)`` gives the file a finding names."""
    values = combined[list(INDICATOR_CODES)].astype(float)
    cumulative = cumulative_missing = None
    if "cumulatief" in levels:
        # Per municipality × project, summed in period order (integer keys: a national
        # merge groups 84,000 rows).
        municipality = pd.factorize(combined["gemeente"].fillna(""))[0].astype(np.int64)
        project = pd.factorize(combined["projectcode"])[0].astype(np.int64)
        period = pd.factorize(combined["periode"], sort=True)[0]
        order = np.lexsort((period, project, municipality))
        group = (municipality * (int(project.max(initial=0)) + 2) + project)[order]
        cumulative = values.iloc[order].groupby(group, sort=False).cumsum().reindex(
            values.index)
        cumulative_missing = missing.iloc[order].groupby(group, sort=False).cummin().reindex(
            missing.index).astype(bool)

    result = []
    for rule in programme.rules.itertuples():
        if rule.niveau not in levels:
            continue
        cumulative_rule = rule.niveau == "cumulatief"
        data = cumulative if cumulative_rule else values
        gaps = cumulative_missing if cumulative_rule else missing
        left, left_any, left_all = _side(rule.links, data, gaps)
        right, right_any, right_all = _side(rule.rechts, data, gaps)
        if rule.ontbrekend == "SKIP_IF_ANY_VALUE_MISSING":
            skip = left_any | right_any
        elif rule.ontbrekend == "SKIP_IF_ALL_VALUES_MISSING":
            skip = left_all & right_all
        else:
            skip = pd.Series(False, index=data.index)
        broken = ~OPERATORS[rule.operator](left, right) & ~skip & combined["_own"]
        left_term = _TERM.findall(rule.links)[0][1]
        for index in combined.index[broken]:
            row = combined.loc[index]
            cell = row.get(f"cel_{left_term}", "") or row["cel_project"]
            item = finding(
                "regel-geschonden", file=file_of(row), sheet=row["blad"], cell=cell,
                severity=rule.ernst, rule=f"{rule.melding} ({row['projectcode']}, "
                f"{row['periode']})", value=f"{_number(left[index])} {rule.links}",
                expected=f"{OPERATOR_TEXT[rule.operator]} {_number(right[index])} "
                         f"({rule.rechts})",
                detail=f"rule {rule.code}: {rule.links} {rule.operator} {rule.rechts}")
            result.append((index, item))
    return result


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")
