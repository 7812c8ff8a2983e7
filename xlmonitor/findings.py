"""Findings: what is wrong with a submission, as data.

A :class:`Finding` names the file, sheet and A1 cell, a kebab-case ``code`` and a Dutch
``message`` rendered from the editable catalogue ``messages.csv`` (code, ernst, titel,
melding). ``detail`` is English, for developers, and never shown to municipal staff.

``file`` is the file's name as xlmonitor shows it: personal data in it (a colleague naming the
file after a client's BSN) is masked (:func:`xlmonitor.privacy.shown_file_name`), here and in
the message. The real name stays with the submission (``Submission.path``).
"""

from __future__ import annotations

import csv
import string
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path

from xlmonitor.privacy import mask_text, shown_file_name

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


@cache
def catalogue(path: str | None = None) -> dict[str, CatalogueEntry]:
    """The message catalogue; ``path`` overrides the one shipped with the package."""
    if path is None:
        text = resources.files("xlmonitor").joinpath("messages.csv").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8-sig")
    rows = csv.DictReader(text.splitlines())
    return {
        row["code"]: CatalogueEntry(row["code"], row["ernst"], row["titel"], row["melding"])
        for row in rows
    }


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
