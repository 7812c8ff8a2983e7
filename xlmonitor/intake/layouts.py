"""Layout specs: how a municipality's own workbook is laid out, declared as data.

One small TOML file per layout in ``workbooks/layouts/`` (the vocabulary is documented in
``workbooks/layouts/README.md``). :func:`load_layouts` reads them into :class:`LayoutSpec`
objects; :func:`match_header` scores how well a sheet's rows fit a spec, so
:mod:`xlmonitor.intake.read` can pick the layout that fits a file best. A new municipality's layout
is a new TOML file; no Python changes.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from importlib import resources
from pathlib import Path

from xlmonitor.errors import XlmonitorError
from xlmonitor.programme.definition import INDICATOR_CODES, normalise_name

ORIENTATIONS = ("wide", "quarter-groups", "long")

#: Fields a header column can map to.
ROW_FIELDS = ("projectcode", "project", *INDICATOR_CODES, "toelichting")
CONTEXT_FIELDS = ("gemeente", "periode", "jaar", "kwartaal")
LONG_FIELDS = ("indicator", "aantal")
FIELDS = (*ROW_FIELDS, *CONTEXT_FIELDS, *LONG_FIELDS)

#: Where the municipality, the period, the year of quarter groups and the fill-in date
#: can come from ("cell:B3" names one cell).
SOURCES = {
    "municipality": ("label", "title", "cell", "metadata", "column", "sheet-name", "filename"),
    "period": ("label", "title", "cell", "metadata", "columns", "groups", "sheet-name",
               "filename"),
    "year": ("title", "cell", "sheet-name", "filename"),
    "submitted_on": ("label", "cell", "metadata"),
}
BLANK_CELL = ("missing", "zero")
BLANK_GROUP = ("not-reported", "missing")

_TOP_KEYS = {"name", "title", "description", "orientation", "sheets", "required", "ignore",
             "totals", "header_rows", "columns", "indicators", "groups", "municipality",
             "period", "submitted_on", "blanks"}
_SOURCE_KEYS = {"from", "labels", "year_from"}


#: Header texts repeat in every file: normalise each distinct text once.
header_key = lru_cache(maxsize=4096)(normalise_name)


class LayoutError(XlmonitorError):
    """A layout spec file is malformed. The message names the file and the key."""

    exit_code = 2


@dataclass(frozen=True)
class Sources:
    """An ordered list of places to look for one value, first hit wins."""

    order: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()          # texts of label cells ("Gemeente", "Periode")
    year_from: tuple[str, ...] = ()       # period only: where a bare quarter gets its year

    @cached_property
    def label_keys(self) -> frozenset[str]:
        return frozenset(normalise_name(label) for label in self.labels)


@dataclass(frozen=True, eq=False)
class LayoutSpec:
    name: str
    title: str                  # Dutch, shown to users ("de rapportage van Hilversum")
    description: str            # English, for developers
    orientation: str
    sheets: tuple[str, ...]     # preferred sheet-name patterns (fnmatch, case-insensitive)
    columns: dict[str, tuple[str, ...]]   # field -> header aliases
    required: tuple[str, ...]
    ignore: tuple[str, ...] = ()          # header texts known but not read ("Nr")
    totals: tuple[str, ...] = ("Totaal",)
    indicators: dict[str, tuple[str, ...]] = field(default_factory=dict)  # long: words
    group_label_row: int = -1             # quarter-groups: label row relative to the header
    municipality: Sources = Sources()
    period: Sources = Sources()
    submitted_on: Sources = Sources()
    blank_cell: str = "missing"
    blank_group: str = "not-reported"
    header_rows: int = 30                 # how many top rows to search for the header
    path: Path | None = None

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Normalised header text -> field (first declaration wins)."""
        aliases: dict[str, str] = {}
        for field_name, texts in self.columns.items():
            for text in texts:
                aliases.setdefault(normalise_name(text), field_name)
        return aliases

    @cached_property
    def ignore_keys(self) -> frozenset[str]:
        return frozenset(normalise_name(text) for text in self.ignore)

    @cached_property
    def total_keys(self) -> frozenset[str]:
        return frozenset(normalise_name(text) for text in self.totals)

    @cached_property
    def indicator_words(self) -> dict[str, str]:
        return {normalise_name(word): code
                for code, words in self.indicators.items() for word in words}

    def header_name(self, field_name: str) -> str:
        """How the spec writes a field's header (for Dutch messages)."""
        return self.columns.get(field_name, (field_name,))[0]

    def prefers_sheet(self, sheet: str) -> bool:
        return any(fnmatch.fnmatch(sheet.lower(), p.lower()) for p in self.sheets)


# -- loading -----------------------------------------------------------------------------

def default_layouts_folder() -> Path:
    """``workbooks/layouts`` as installed (package ``xlmonitor.workbooks.layouts``), or the
    repository folder when running from a checkout with ``PYTHONPATH=.``."""
    try:
        folder = Path(str(resources.files("xlmonitor.workbooks.layouts")))
        if folder.is_dir():
            return folder
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "workbooks" / "layouts"


def load_layouts(folder: str | Path | None = None) -> list[LayoutSpec]:
    """Every ``*.toml`` spec in ``folder`` (default: the shipped layouts), sorted by name."""
    folder = Path(folder) if folder is not None else default_layouts_folder()
    return list(_load_folder(str(folder.resolve())))


@cache
def _load_folder(folder: str) -> tuple[LayoutSpec, ...]:
    paths = sorted(Path(folder).glob("*.toml"))
    if not paths:
        raise LayoutError(f"Geen indelingen (*.toml) gevonden in {folder}.")
    return tuple(load_layout(path) for path in paths)


def load_layout(path: str | Path) -> LayoutSpec:
    """Read and check one spec file; a mistake raises :class:`LayoutError` naming the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LayoutError(f"Indeling {path.name} kan niet worden gelezen: {exc}") from exc
    return parse_layout(data, path)


def parse_layout(data: dict, path: Path | None = None) -> LayoutSpec:
    where = path.name if path else "indeling"

    def fail(text: str) -> LayoutError:
        return LayoutError(f"Indeling {where}: {text}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise fail(f"onbekende sleutel(s) {', '.join(unknown)}.")
    orientation = data.get("orientation", "wide")
    if orientation not in ORIENTATIONS:
        raise fail(f"orientation '{orientation}' moet een van {', '.join(ORIENTATIONS)} zijn.")
    columns, required = _columns(data, orientation, fail)
    indicators = _indicators(data, orientation, fail)
    groups = data.get("groups", {})
    blanks = data.get("blanks", {})
    spec = LayoutSpec(
        name=str(data.get("name") or (path.stem if path else "indeling")),
        title=str(data.get("title") or data.get("name") or (path.stem if path else "")),
        description=str(data.get("description", "")),
        orientation=orientation,
        sheets=_strings(data.get("sheets", []), "sheets", fail),
        columns=columns,
        required=required,
        ignore=_strings(data.get("ignore", []), "ignore", fail),
        totals=_strings(data.get("totals", ["Totaal"]), "totals", fail),
        indicators=indicators,
        group_label_row=int(groups.get("label_row", -1)),
        municipality=_sources(data.get("municipality", {}), "municipality", fail),
        period=_sources(data.get("period", {}), "period", fail),
        submitted_on=_sources(data.get("submitted_on", {}), "submitted_on", fail),
        blank_cell=str(blanks.get("cell", "missing")),
        blank_group=str(blanks.get("group", "not-reported")),
        header_rows=int(data.get("header_rows", 30)),
        path=path,
    )
    if spec.blank_cell not in BLANK_CELL:
        raise fail(f"blanks.cell moet een van {', '.join(BLANK_CELL)} zijn.")
    if spec.blank_group not in BLANK_GROUP:
        raise fail(f"blanks.group moet een van {', '.join(BLANK_GROUP)} zijn.")
    return spec


def _columns(data: dict, orientation: str, fail) -> tuple[dict[str, tuple[str, ...]],
                                                          tuple[str, ...]]:
    """[columns] (field → header aliases) and the fields a sheet must have."""
    columns = {k: _strings(v, f"columns.{k}", fail) for k, v in data.get("columns", {}).items()}
    bad = sorted(set(columns) - set(FIELDS))
    if bad:
        raise fail(f"onbekend veld in [columns]: {', '.join(bad)} (toegestaan: "
                   f"{', '.join(FIELDS)}).")
    required = _strings(data.get("required", ["project", *INDICATOR_CODES]), "required", fail)
    if orientation == "long" and "required" not in data:
        required = ("project", "indicator", "aantal")
    missing = [f for f in required if f not in columns]
    if missing:
        raise fail(f"required noemt {', '.join(missing)}, maar [columns] niet.")
    return columns, required


def _indicators(data: dict, orientation: str, fail) -> dict[str, tuple[str, ...]]:
    """[indicators] (indicator code → words naming it in a 'long' layout's lines)."""
    indicators = {k: _strings(v, f"indicators.{k}", fail)
                  for k, v in data.get("indicators", {}).items()}
    if set(indicators) - set(INDICATOR_CODES):
        raise fail(f"[indicators] kent alleen {', '.join(INDICATOR_CODES)}.")
    if orientation == "long" and not indicators:
        raise fail("een 'long' indeling heeft een tabel [indicators] met indicatorwoorden nodig.")
    return indicators


def _strings(value: object, key: str, fail) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(f"{key} moet een lijst met teksten zijn.")
    return tuple(value)


def _sources(table: dict, target: str, fail) -> Sources:
    unknown = sorted(set(table) - _SOURCE_KEYS)
    if unknown:
        raise fail(f"onbekende sleutel(s) in [{target}]: {', '.join(unknown)}.")
    order = _strings(table.get("from", []), f"{target}.from", fail)
    year_from = _strings(table.get("year_from", []), f"{target}.year_from", fail)
    for kind, names in ((target, order), ("year", year_from)):
        for name in names:
            base = name.split(":", 1)[0]
            if base not in SOURCES[kind]:
                raise fail(f"bron '{name}' in [{target}] onbekend (toegestaan: "
                           f"{', '.join(SOURCES[kind])}).")
            if base == "cell" and not name[5:].strip():
                raise fail(f"bron '{name}': schrijf de cel als cell:B3.")
    return Sources(order, _strings(table.get("labels", []), f"{target}.labels", fail),
                   year_from)


# -- matching a header -------------------------------------------------------------------

@dataclass
class HeaderMatch:
    """The best header row of one sheet for one spec. Row/column numbers are 0-based."""

    spec: LayoutSpec
    sheet: str
    sheet_index: int
    row: int = -1
    columns: dict[str, list[int]] = field(default_factory=dict)   # field -> columns in order
    unrecognised: int = 0
    groups: list[tuple[int, str]] = field(default_factory=list)   # (column, label) per group

    @property
    def found(self) -> set[str]:
        return set(self.columns)

    @property
    def missing_required(self) -> list[str]:
        missing = [f for f in self.spec.required if f not in self.columns]
        if self.spec.orientation == "quarter-groups" and not self.groups and self.row >= 0:
            missing.append("kwartaalkoppen")
        return missing

    @property
    def fits(self) -> bool:
        """Usable: the project column and at least half the required columns (missing ones
        become ``kolom-ontbreekt``); quarter groups need their quarter labels."""
        required = self.spec.required
        present = [f for f in required if f in self.columns]
        has_project = bool({"project", "projectcode"} & self.found)
        groups_ok = self.spec.orientation != "quarter-groups" or bool(self.groups)
        return has_project and groups_ok and 2 * len(present) >= len(required)

    def rank(self) -> tuple:
        required = self.spec.required
        present = sum(f in self.columns for f in required) / max(len(required), 1)
        declared = len(self.columns) / max(len(self.spec.columns), 1)
        return (self.fits, present, declared, -self.unrecognised,
                self.spec.prefers_sheet(self.sheet), -self.sheet_index, -self.row)


def match_header(spec: LayoutSpec, sheet: str, sheet_index: int,
                 grid: Sequence[Sequence[object]],
                 quarter_label: Callable[[str], bool] | None = None) -> HeaderMatch:
    """Find the row among the first ``spec.header_rows`` that best fits ``spec``.

    Header text is compared case-, space- and punctuation-insensitively. ``quarter_label``
    (text -> bool) recognises the quarter labels above a quarter-groups header.
    """
    aliases = spec.aliases
    ignore = spec.ignore_keys
    best = HeaderMatch(spec, sheet, sheet_index)
    for r, row in enumerate(grid[: spec.header_rows]):
        columns: dict[str, list[int]] = {}
        unrecognised = 0
        for c, value in enumerate(row):
            if not isinstance(value, str) or not value.strip():
                continue
            key = header_key(value)
            field_name = aliases.get(key)
            if field_name is None:
                unrecognised += key not in ignore
                continue
            columns.setdefault(field_name, []).append(c)
        if not columns:
            continue
        if spec.orientation != "quarter-groups":
            # a column header repeated in a one-row-per-project table is noise
            unrecognised += sum(len(cols) - 1 for cols in columns.values())
        candidate = HeaderMatch(spec, sheet, sheet_index, r, columns, unrecognised)
        if spec.orientation == "quarter-groups":
            candidate.groups = _group_labels(grid, r + spec.group_label_row, quarter_label)
        if best.row < 0 or candidate.rank() > best.rank():
            best = candidate
    return best


def _group_labels(grid: Sequence[Sequence[object]], label_row: int,
                  quarter_label: Callable[[str], bool] | None) -> list[tuple[int, str]]:
    """Quarter labels above the grouped columns: (first column, label). A merged label cell
    is read only at its top-left cell, so a label covers the columns to its right up to the
    next label."""
    if label_row < 0 or label_row >= len(grid):
        return []
    labels = []
    for c, value in enumerate(grid[label_row]):
        text = str(value).strip() if value not in (None, "") else ""
        if text and (quarter_label is None or quarter_label(text)):
            labels.append((c, text))
    return labels
