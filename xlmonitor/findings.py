"""Findings: what is wrong with a submission, as data.

A :class:`Finding` names the file, sheet and A1 cell, a kebab-case ``code`` and a Dutch
``message`` rendered from the editable catalogue ``messages.csv`` (code, ernst, titel,
melding, meervoud). ``detail`` is English, for developers, and never shown to municipal staff.

**Your own wording.** A region or municipality can reword messages without touching the
package: a CSV with the same columns holding only the rows it changes (``code`` and
``melding`` and/or ``titel``), named in ``xlmonitor.toml`` (``meldingen = "meldingen.csv"``),
with ``--meldingen BESTAND`` or in the environment variable ``XLMONITOR_MELDINGEN``. Its rows
replace the shipped texts; rows it leaves out keep them. It may not change a code's ``ernst``
(what blocks a file is the programme's decision, not wording), invent codes, or use a
placeholder the shipped text does not fill: each is refused with a Dutch message (exit 2), so
a typo never shows users an empty hole. :func:`use_catalogue` makes a file the one in force
for a block of work, worker processes included (they inherit the environment variable).

``file`` is the file's name as xlmonitor shows it: personal data in it (a colleague naming the
file after a client's BSN) is masked (:func:`xlmonitor.privacy.shown_file_name`), here and in
the message. The real name stays with the submission (``Submission.path``).

What users read is grouped (:func:`group_findings`): findings of one code in the same file and
sheet become one finding over a range of cells ("Cellen C12:F20 (blad Invoer) zijn leeg"),
worded by the catalogue's plural template (``meervoud``). A grouped finding keeps its
individual cells in ``cells``, so a feedback copy still marks every one.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import string
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path

from xlmonitor.errors import UsageError
from xlmonitor.privacy import mask_text, shown_file_name
from xlmonitor.texts import text

#: Environment variable naming a CSV of reworded messages (see the module docstring).
OVERRIDE_VARIABLE = "XLMONITOR_MELDINGEN"

ERROR = "fout"  # blocks the submission
WARNING = "waarschuwing"  # reported, does not block


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    detail: str = ""
    params: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    #: The single cells a grouped finding stands for (``cell`` is then their ranges, e.g.
    #: ``C12:F20, H5``); empty for an ungrouped finding.
    cells: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict[str, object]:
        """The stable JSON shape (``validate --json``), in the words of the master's
        ``tblBevindingen`` and of ``consolidate --json``: bestand, blad, cel, code, ernst,
        melding, ``cellen`` (the single cells: one for an ungrouped finding at a cell, none
        for a finding about the whole file or sheet) and ``detail`` (English, developers)."""
        cells = list(self.cells) if self.cells else [self.cell] if self.cell else []
        return {"bestand": self.file, "blad": self.sheet, "cel": self.cell, "cellen": cells,
                "code": self.code, "ernst": self.severity, "melding": self.message,
                "detail": self.detail}

    def key(self) -> tuple[str, str, str]:
        return (self.sheet, self.cell, self.code)


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    severity: str
    title: str
    template: str
    plural: str = ""  # the template for a group of cells; empty: never grouped


def catalogue(path: str | Path | None = None) -> dict[str, CatalogueEntry]:
    """The message catalogue: the shipped ``messages.csv`` with the rows of the override
    ``path`` (default: the file named by :data:`OVERRIDE_VARIABLE`, if set) replacing its
    texts. Raises UsageError for an override that cannot be read or used."""
    if path is None:
        path = os.environ.get(OVERRIDE_VARIABLE) or None
    return _catalogue(None if path is None else str(path))


def catalogue_digest() -> str:
    """Digest of the catalogue in force (a cache of rendered findings depends on it)."""
    entries = sorted((e.code, e.severity, e.title, e.template, e.plural)
                     for e in catalogue().values())
    return hashlib.sha256(repr(entries).encode()).hexdigest()[:16]


@contextmanager
def use_catalogue(path: str | Path | None) -> Iterator[None]:
    """Make the override ``path`` the one in force inside the block (``None``: leave it as
    it is). Checked first: a bad file stops the work before anything is read."""
    if path is None:
        yield
        return
    catalogue(path)
    before = os.environ.get(OVERRIDE_VARIABLE)
    os.environ[OVERRIDE_VARIABLE] = str(Path(path).resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(OVERRIDE_VARIABLE, None)
        else:
            os.environ[OVERRIDE_VARIABLE] = before


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines()))


@cache
def _catalogue(override: str | None) -> dict[str, CatalogueEntry]:
    shipped = resources.files("xlmonitor").joinpath("messages.csv").read_text("utf-8")
    entries = {row["code"]: CatalogueEntry(row["code"], row["ernst"], row["titel"],
                                           row["melding"], row.get("meervoud") or "")
               for row in _rows(shipped)}
    if override is None:
        return entries
    override = str(Path(override).resolve())
    try:
        rows = _rows(Path(override).read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(text("meldingen.onleesbaar", path=override,
                              reason=type(exc).__name__)) from exc
    for number, row in enumerate(rows, start=2):
        entries[row.get("code") or ""] = _overridden(
            entries, row, text("meldingen.regel", path=override, number=number))
    return entries


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _overridden(entries: dict[str, CatalogueEntry], row: dict, where: str) -> CatalogueEntry:
    code = (row.get("code") or "").strip()
    if code not in entries:
        raise UsageError(text("meldingen.onbekende-code", code=code, where=where))
    shipped = entries[code]
    severity = (row.get("ernst") or "").strip()
    if severity and severity != shipped.severity:
        raise UsageError(text("meldingen.ernst", where=where, code=code,
                              shipped=shipped.severity, severity=severity))
    title = (row.get("titel") or "").strip() or shipped.title
    template = (row.get("melding") or "").strip() or shipped.template
    plural = (row.get("meervoud") or "").strip() or shipped.plural
    try:
        unknown = _placeholders(template) - _placeholders(shipped.template) - {
            "file", "sheet", "cell"}
        if plural:  # a group's template also has its cells, their number and values
            unknown |= _placeholders(plural) - _placeholders(shipped.plural or shipped.template) \
                - {"file", "sheet", "cell", "cells", "count", "values"}
    except ValueError:
        raise UsageError(text("meldingen.haakje", where=where, code=code)) from None
    if unknown:
        raise UsageError(text("meldingen.onbekende-naam", where=where, code=code,
                              names=", ".join(sorted(unknown))))
    return CatalogueEntry(code, shipped.severity, title, template, plural)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def finding(
    code: str,
    *,
    file: str | Path = "",
    sheet: str = "",
    cell: str = "",
    detail: str = "",
    severity: str | None = None,
    **params: object,
) -> Finding:
    """Build a finding from the catalogue. ``params`` fill the Dutch template."""
    entry = catalogue()[code]
    file_name = shown_file_name(Path(file).name) if file else ""
    values = _Blank({k: "" if v is None else str(v) for k, v in params.items()})
    values.setdefault("file", file_name)
    values.setdefault("sheet", sheet)
    values.setdefault("cell", f"{cell} (blad {sheet})" if sheet and cell else cell)
    message = string.Formatter().vformat(entry.template, (), values)
    return Finding(
        code=code,
        severity=severity or entry.severity,
        message=message,
        file=file_name,
        sheet=sheet,
        cell=cell,
        detail=detail,
        params={k: str(v) for k, v in values.items()},
    )


def has_errors(findings: list[Finding]) -> bool:
    return any(f.is_error for f in findings)


def mask_finding(item: Finding) -> Finding:
    """The finding with its file name, sheet name (a sheet named after a client), message,
    detail and parameters masked."""
    file, sheet, message, detail = shown_file_name(item.file), mask_text(item.sheet), \
        mask_text(item.message), mask_text(item.detail)
    params = {k: mask_text(v) for k, v in item.params.items()}
    if file == item.file and sheet == item.sheet and message == item.message and \
            detail == item.detail and params == item.params:
        return item
    return replace(item, file=file, sheet=sheet, message=message, detail=detail, params=params)


# -- grouping what users read ----------------------------------------------------------------

_SINGLE_CELL = re.compile(r"([A-Z]{1,3})([1-9][0-9]*)")
#: What a plural template says of the group as a whole (every other field it names must be
#: the same for all members).
_GROUP_FIELDS = frozenset({"cells", "count", "values"})


def group_findings(findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` as users read them: findings of one code, severity, file and sheet at
    single cells, whose other parameters agree, become one finding over their cells, worded
    by the code's plural template (``meervoud`` in the catalogue: ``{cells}`` is the cells
    as rectangular A1 ranges, ``{count}`` their number, ``{values}`` the distinct values
    written). A group takes the place of its first member; a finding alone, or of a code
    without a plural template, is returned as it is. Every output (command line, the
    master's Validatie sheet, the feedback copy's Controle sheet, ``--json``) uses this."""
    groups: dict[tuple, list[Finding]] = {}
    for index, item in enumerate(findings):
        groups.setdefault(_group_key(item, index), []).append(item)
    grouped: list[Finding] = []
    for members in groups.values():  # in the order of each group's first member
        if len({m.cell for m in members}) == 1:  # alone (or the same cell twice: as it was)
            grouped.extend(members)
        else:
            grouped.append(_grouped(members))
    return grouped


def _group_key(item: Finding, index: int) -> tuple:
    entry = catalogue().get(item.code)
    if entry is None or not entry.plural or not _SINGLE_CELL.fullmatch(item.cell) \
            or item.cells:
        return (index,)
    shared = tuple(item.params.get(name, "") for name in _plural_fields(item.code))
    return (item.code, item.severity, item.file, item.sheet, shared)


@cache
def _plural_fields(code: str) -> tuple[str, ...]:
    """The fields of ``code``'s plural template that its members must share."""
    names = (name for _, name, _, _ in string.Formatter().parse(catalogue()[code].plural))
    return tuple(sorted({n for n in names if n} - _GROUP_FIELDS))


def _grouped(members: list[Finding]) -> Finding:
    first = members[0]
    cells = tuple(sorted(dict.fromkeys(m.cell for m in members), key=_position))
    shown = cell_ranges(cells)
    values = list(dict.fromkeys(m.params.get("value", "") for m in members))
    params = _Blank({k: v for k, v in first.params.items() if k not in ("cell", "value")})
    params.update(cells=f"{shown} (blad {first.sheet})" if first.sheet else shown,
                  count=str(len(cells)), values=", ".join(f"'{v}'" for v in values if v))
    message = string.Formatter().vformat(catalogue()[first.code].plural, (), params)
    details = list(dict.fromkeys(m.detail for m in members if m.detail))
    detail = f"{len(members)} findings grouped" + (f"; first: {details[0]}" if details else "")
    return replace(first, message=message, cell=shown, detail=detail,
                   params=dict(params), cells=cells)


def _position(cell: str) -> tuple[int, int]:
    """``C12`` → (12, 3): 1-based row and column."""
    letters, number = _SINGLE_CELL.fullmatch(cell).groups()  # type: ignore[union-attr]
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(number), column


def _letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_ranges(cells: Iterable[str]) -> str:
    """Single A1 cells as a comma list of rectangular ranges, each cell in exactly one, in
    reading order: ``C12 D12 C13 D13 F20`` → ``C12:D13, F20``. Two ways, the one with fewer
    ranges wins (rows on a tie): row by row, a run of cells joins the same run in the rows
    below (blank project rows are one range), or, from each first cell not yet covered, the
    largest rectangle (blank columns are one range)."""
    positions = {_position(c) for c in cells}
    ranges = min((_row_runs(positions), _largest_rectangles(positions)), key=len)
    return ", ".join(start if start == end else f"{start}:{end}"
                     for start, end in (
                         (f"{_letters(c0)}{r0}", f"{_letters(c1)}{r1}")
                         for r0, c0, r1, c1 in sorted(ranges)))


def _runs(columns: list[int]) -> list[tuple[int, int]]:
    """(first, last) of each unbroken run of sorted ``columns``."""
    runs: list[tuple[int, int]] = []
    for column in columns:
        if runs and runs[-1][1] == column - 1:
            runs[-1] = (runs[-1][0], column)
        else:
            runs.append((column, column))
    return runs


def _row_runs(positions: set[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right): each row's runs, a run stacked on the same run in the
    row above."""
    by_row: dict[int, list[int]] = {}
    for row, column in sorted(positions):
        by_row.setdefault(row, []).append(column)
    tops: dict[tuple[int, int], int] = {}  # run → its top row, while the rows continue it
    found, previous = [], 0
    for row in sorted(by_row):
        runs = set(_runs(by_row[row]))
        for run in list(tops):
            if run not in runs or row != previous + 1:
                found.append((tops.pop(run), run[0], previous, run[1]))
        for run in runs:
            tops.setdefault(run, row)
        previous = row
    return found + [(top, run[0], previous, run[1]) for run, top in tops.items()]


def _largest_rectangles(positions: set[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right): from each first cell not yet covered, in reading order,
    the largest rectangle of cells not yet covered (the widest of equal ones)."""
    left = set(positions)
    found = []
    for row, column in sorted(positions):
        if (row, column) not in left:
            continue
        best, width = (row, column), 0
        while (row, column + width) in left:
            width += 1
            bottom = row
            while all((bottom + 1, c) in left for c in range(column, column + width)):
                bottom += 1
            if (bottom - row + 1) * width >= (best[0] - row + 1) * (best[1] - column + 1):
                best = (bottom, column + width - 1)
        left -= {(r, c) for r in range(row, best[0] + 1) for c in range(column, best[1] + 1)}
        found.append((row, column, *best))
    return found
