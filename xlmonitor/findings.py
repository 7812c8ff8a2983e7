"""Findings: what is wrong with a submission, as data.

A :class:`Finding` names the file, sheet and A1 cell, a kebab-case ``code`` and a Dutch
``message`` rendered from the editable catalogue ``messages.csv`` (code, ernst, titel,
melding). ``detail`` is English, for developers, and never shown to municipal staff.

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
"""

from __future__ import annotations

import csv
import hashlib
import os
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
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

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict[str, str]:
        """The stable JSON shape: file, sheet, cell, code, severity, message."""
        data = asdict(self)
        data.pop("params")
        return data

    def key(self) -> tuple[str, str, str]:
        return (self.sheet, self.cell, self.code)


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    severity: str
    title: str
    template: str


def catalogue(path: str | Path | None = None) -> dict[str, CatalogueEntry]:
    """The message catalogue: the shipped ``messages.csv`` with the rows of the override
    ``path`` (default: the file named by :data:`OVERRIDE_VARIABLE`, if set) replacing its
    texts. Raises UsageError for an override that cannot be read or used."""
    if path is None:
        path = os.environ.get(OVERRIDE_VARIABLE) or None
    return _catalogue(None if path is None else str(path))


def catalogue_digest() -> str:
    """Digest of the catalogue in force (a cache of rendered findings depends on it)."""
    entries = sorted((e.code, e.severity, e.title, e.template) for e in catalogue().values())
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
                                           row["melding"]) for row in _rows(shipped)}
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
    try:
        unknown = _placeholders(template) - _placeholders(shipped.template) - {
            "file", "sheet", "cell"}
    except ValueError:
        raise UsageError(text("meldingen.haakje", where=where, code=code)) from None
    if unknown:
        raise UsageError(text("meldingen.onbekende-naam", where=where, code=code,
                              names=", ".join(sorted(unknown))))
    return CatalogueEntry(code, shipped.severity, title, template)


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
    """The finding with its file name, message, detail and parameters masked."""
    file, message, detail = shown_file_name(item.file), mask_text(item.message), \
        mask_text(item.detail)
    params = {k: mask_text(v) for k, v in item.params.items()}
    if file == item.file and message == item.message and detail == item.detail and \
            params == item.params:
        return item
    return replace(item, file=file, message=message, detail=detail, params=params)
