"""Reading a submission's sheet by its layout: rows with the A1 cell of every value.

:func:`xlmonitor.intake.read.read_submission` checks and parses the file, then hands its visible
sheets to :func:`read_by_layout`: every sheet's top rows are scored against each layout spec
(:mod:`xlmonitor.intake.layouts`), the best fit gives the municipality, period and fill-in date from
the spec's sources (label cells, named cells, titles, metadata, columns, sheet and file name)
and is read by its orientation (``wide``, ``quarter-groups``, ``long``) into
:data:`ROW_COLUMNS` rows, totals and findings. The contract (finding codes, values as read)
is in :mod:`xlmonitor.intake.read`'s docstring.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from xlmonitor.findings import finding
from xlmonitor.intake.layouts import HeaderMatch, LayoutSpec, Sources, header_key, match_header
from xlmonitor.intake.submission import ROW_COLUMNS, Submission, rows_frame
from xlmonitor.intake.workbookfile import Sheet, WorkbookFile, a1, as_text, clean
from xlmonitor.periods import parse_period, period_of
from xlmonitor.programme.definition import INDICATOR_CODES, Programme

_VALUE_FIELDS = (*INDICATOR_CODES, "toelichting")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_QUARTER = re.compile(r"^(?:q|k|kw|kwartaal)?\s*([1-4])\s*(?:e|de|ste)?\s*(?:kwartaal|kw|q)?$")
_DAY_FORMATS = ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%y")


def read_by_layout(submission: Submission, programme: Programme, specs: list[LayoutSpec],
                   sheets: list[Sheet], metadata: dict[str, str], book: WorkbookFile) -> None:
    """Read the visible ``sheets`` into ``submission`` (layout, sheet, municipality, fill-in
    date, rows, totals, findings) by the spec that fits best. May raise
    :class:`~xlmonitor.intake.workbookfile.WorkbookRefused` (a limit of ``book`` reached)."""
    _Reader(submission, programme, specs, sheets, metadata, book).read()


# -- values ------------------------------------------------------------------------------

def _windows(text: str) -> list[str]:
    """Runs of 3, 2 and 1 words of a title, sheet or file name (``Hilversum Q3 2021
    rapportage`` → ..., ``Q3 2021``, ...) to find a period or municipality inside it."""
    words = [w for w in re.split(r"[\s_]+", text.strip()) if w]
    return [" ".join(words[i:i + n]) for n in (3, 2, 1) for i in range(len(words) - n + 1)]


@lru_cache(maxsize=2048)
def period_in_text(value: object) -> str | None:
    """The quarter a cell, title, sheet name or file name mentions, if any."""
    if isinstance(value, date):  # a datetime is a date too
        return period_of(value)
    text = as_text(value)
    if not text:
        return None
    found = parse_period(text) or parse_period(text.partition(":")[2])
    return found or next((p for w in _windows(text) if (p := parse_period(w))), None)


@lru_cache(maxsize=2048)
def quarter_number(text: object) -> int | None:
    """``Q3``, ``3``, ``3e kwartaal``, ``kwartaal 3`` → 3."""
    match = _QUARTER.match(re.sub(r"\s+", " ", as_text(text).lower()))
    return int(match.group(1)) if match else None


@lru_cache(maxsize=1024)
def _is_quarter_label(text: str) -> bool:
    return parse_period(text) is not None or quarter_number(text) is not None


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = as_text(value)
    for pattern in _DAY_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


# -- reading a sheet by its layout -------------------------------------------------------

@dataclass
class _Found:
    """A file-level value (municipality, period, year, date) and where it was read."""

    value: object              # canonical value, None if the text did not resolve
    text: str = ""             # as written
    cell: str = ""             # A1 cell on the data sheet ("" for names and metadata)


#: What each file-level target looks for in the metadata sheet and in a table column.
_METADATA_KEYS = {"municipality": ("gemeente", "gemeente_code"), "period": ("periode",),
                  "submitted_on": ("ingevuld_op",), "year": ()}
_COLUMN_FIELD = {"municipality": "gemeente"}


class _Reader:
    """Reads the sheet that fits a layout best into rows, totals and findings."""

    def __init__(self, submission: Submission, programme: Programme,
                 specs: list[LayoutSpec], sheets: list[Sheet],
                 metadata: dict[str, str], book: WorkbookFile) -> None:
        self.submission, self.programme, self.specs = submission, programme, specs
        self.sheets, self.metadata, self.book = sheets, metadata, book
        self.file, self.findings = submission.path, submission.findings
        self.rows: list[dict] = []
        self.totals: list[dict] = []
        self._reported: set[tuple[str, str]] = set()
        self._file_period: _Found | None | bool = False  # False: not looked up yet

    # -- choosing the layout ------------------------------------------------------------
    def read(self) -> None:
        matches = [match_header(spec, sheet.name, index, sheet.grid, _is_quarter_label)
                   for spec in self.specs for index, sheet in enumerate(self.sheets)]
        best = max(matches, key=HeaderMatch.rank)
        sheet = self.sheets[best.sheet_index]
        self.sheet, self.grid, self.merged = sheet.name, sheet.grid, sheet.merged
        self.chosen = sheet
        self.match, self.spec, self.header = best, best.spec, best.row
        if not best.fits:
            missing = [
                "kwartaalkoppen (Q1 … Q4) boven de kolomkoppen" if name == "kwartaalkoppen"
                else f"'{best.spec.header_name(name)}'"
                for name in (best.missing_required if best.row >= 0 else best.spec.required)]
            self.findings.append(finding(
                "indeling-onbekend", file=self.file, sheet=self.sheet, cell=self._header_cell(),
                layout=best.spec.title, missing=", ".join(missing),
                detail=f"closest layout {best.spec.name}, header row {best.row + 1}"))
            return
        self.submission.layout, self.submission.sheet = self.spec.name, self.sheet
        for missing in best.missing_required:
            self.findings.append(finding(
                "kolom-ontbreekt", file=self.file, sheet=self.sheet, cell=self._header_cell(),
                column=self.spec.header_name(missing), detail=f"layout {self.spec.name}"))
        self.municipality = self._find_municipality()
        found = self._lookup("submitted_on", lambda value, explicit: _as_date(value))
        self.submission.submitted_on = found.value if found else None  # type: ignore[assignment]
        {"wide": self._read_wide, "quarter-groups": self._read_groups,
         "long": self._read_long}[self.spec.orientation]()
        self._template_changed()
        self._finish()

    def _header_cell(self) -> str:
        if self.header < 0:
            return ""
        row = self.grid[self.header]
        return a1(self.header, next((c for c, v in enumerate(row) if clean(v) is not None), 0))

    # -- cells --------------------------------------------------------------------------
    def value(self, r: int, c: int | None) -> object:
        if c is None or r >= len(self.grid) or c >= len(self.grid[r]):
            return None
        return clean(self.grid[r][c])

    def column(self, field_name: str) -> int | None:
        columns = self.match.columns.get(field_name)
        return columns[0] if columns else None

    def _data_rows(self) -> range:
        return range(self.header + 1, len(self.grid))

    def _above_header(self) -> Iterator[tuple[int, int, object]]:
        """(row, column, value) of every filled cell above the header row."""
        for r in range(self.header):
            for c, raw in enumerate(self.grid[r]):
                if (value := clean(raw)) is not None:
                    yield r, c, value

    def _label(self, sources: Sources) -> tuple[object, str] | None:
        """The value next to a label cell (``Gemeente:`` | ``Huizen``) or after the colon in
        the label cell itself (``Periode: 3e kwartaal 2021``), with its cell. The value must
        be in the cell right after the label (or after the label's merged range), so a hint
        further right is never taken for an empty input cell."""
        for r, c, value in self._above_header():
            if isinstance(value, str):
                head, colon, tail = value.partition(":")
                if header_key(head) in sources.label_keys:
                    if colon and tail.strip():
                        return tail.strip(), a1(r, c)
                    after = self.merged.get((r, c), c) + 1
                    return self.value(r, after), a1(r, after)
        return None

    def _cell(self, source: str) -> tuple[object, str]:
        """The value of ``cell:B3``."""
        cell = source.partition(":")[2].strip().upper()
        match = re.fullmatch(r"([A-Z]{1,3})(\d+)", cell)
        if not match:
            return None, ""
        column = 0
        for letter in match.group(1):
            column = column * 26 + ord(letter) - 64
        return self.value(int(match.group(2)) - 1, column - 1), cell

    # -- file-level values: municipality, period, year, fill-in date ----------------------
    def _candidates(self, target: str, source: str
                    ) -> Iterator[tuple[object, str, bool]]:
        """(value, cell, explicit) from one source. An explicit value was written to answer
        the question (next to a label, in a named cell, in metadata or a column), so one
        that does not resolve is reported; titles and names are only searched."""
        sources = self.spec.period if target == "year" else getattr(self.spec, target)
        if source == "label":
            if (hit := self._label(sources)) is not None and hit[0] is not None:
                yield hit[0], hit[1], True
        elif source == "title":
            for r, c, value in self._above_header():
                yield value, a1(r, c), False
        elif source.startswith("cell:"):
            value, cell = self._cell(source)
            if value is not None:
                yield value, cell, True
        elif source == "metadata":
            for key in _METADATA_KEYS[target]:
                if self.metadata.get(key):
                    yield self.metadata[key], "", True
        elif source == "column" and (c := self.column(_COLUMN_FIELD[target])) is not None:
            r = next((r for r in self._data_rows() if self.value(r, c) is not None), None)
            if r is not None:
                yield self.value(r, c), a1(r, c), True
        elif source == "sheet-name":
            yield self.sheet, "", False
        elif source == "filename":
            yield self.file.stem, "", False

    def _lookup(self, target: str, resolve: Callable[[object, bool], object]) -> _Found | None:
        """First value the spec's sources give for ``target`` that ``resolve(value,
        explicit)`` accepts; else the first explicit value that it did not (to report);
        else None."""
        spec_sources = self.spec.period if target == "year" else getattr(self.spec, target)
        order = spec_sources.year_from if target == "year" else spec_sources.order
        failed = None
        for source in order:
            for value, cell, explicit in self._candidates(target, source):
                if (resolved := resolve(value, explicit)) is not None:
                    return _Found(resolved, as_text(value), cell)
                if explicit and failed is None:
                    failed = _Found(None, as_text(value), cell)
        return failed

    def _find_municipality(self) -> _Found | None:
        def resolve(value: object, explicit: bool) -> str | None:
            text = as_text(value)
            return self.programme.municipality(text) or (None if explicit else next(
                (m for w in _windows(text) if (m := self.programme.municipality(w))), None))

        found = self._lookup("municipality", resolve)
        if found is None and "title" in self.spec.municipality.order:
            found = next((_Found(None, v, a1(r, c)) for r, c, v in self._above_header()
                          if isinstance(v, str) and re.match(r"(?i)gemeente\s+\w[^:]*$", v)),
                         None)  # "Gemeente Hilverson": a title naming a municipality, misspelt
        if found is not None and found.value is None:
            self._unknown_municipality(found.text, found.cell)
        elif found is None:
            self._missing("gemeente-ontbreekt", self.spec.municipality)
        return found

    def _unknown_municipality(self, text: str, cell: str) -> None:
        if ("gemeente", text) not in self._reported:
            self._reported.add(("gemeente", text))
            self.findings.append(finding(
                "gemeente-onbekend", file=self.file, sheet=self.sheet, cell=cell, value=text,
                expected=", ".join(self.programme.municipalities.index),
                detail="not a programme municipality"))

    def _row_municipality(self, r: int) -> str | None:
        """A row's own Gemeente column when the layout has one, else the file's."""
        c = self.column("gemeente")
        if "column" in self.spec.municipality.order and (value := self.value(r, c)) is not None:
            if (name := self.programme.municipality(as_text(value))) is None:
                self._unknown_municipality(as_text(value), a1(r, c))
            return name
        return self.municipality.value if self.municipality else None  # type: ignore[return-value]

    def _sheet_period(self) -> _Found | None:
        """The period for the whole sheet (layouts with one quarter per sheet), once."""
        if self._file_period is False:
            found = self._lookup("period", lambda value, explicit: period_in_text(value))
            if found is not None and found.value is None:
                self._invalid_period(found.text, found.cell)
            elif found is None:
                self._missing("periode-ontbreekt", self.spec.period)
            self._file_period = found
        return self._file_period  # type: ignore[return-value]

    def _year(self) -> int | None:
        """The year for bare quarters (``Q3``, ``3``): ``[period] year_from`` sources."""
        def resolve(value: object, explicit: bool) -> int | None:
            match = _YEAR.search(as_text(value))
            return int(match.group(1)) if match else None

        found = self._lookup("year", resolve)
        return found.value if found else None  # type: ignore[return-value]

    def _invalid_period(self, text: str, cell: str) -> None:
        if ("periode", cell or text) not in self._reported:
            self._reported.add(("periode", cell or text))
            self.findings.append(finding("periode-ongeldig", file=self.file, sheet=self.sheet,
                                         cell=cell, value=text, detail="unreadable period"))

    def _row_period(self, r: int) -> tuple[str | None, str]:
        """(period, cell) of data row ``r``: its own Periode, or Jaar + Kwartaal, columns
        when the layout reads periods per row (``columns``), else the sheet's period."""
        c_period, c_quarter = self.column("periode"), self.column("kwartaal")
        if "columns" in self.spec.period.order:
            if (text := self.value(r, c_period)) is not None:
                cell, period = a1(r, c_period), period_in_text(text)
            elif (quarter := self.value(r, c_quarter)) is not None:
                year = self.value(r, self.column("jaar"))
                cell, period = a1(r, c_quarter), period_in_text(quarter)
                if period is None and quarter_number(quarter):
                    year = year if year is not None else self._year()
                    if year is not None and _YEAR.fullmatch(as_text(year)):
                        period = f"{as_text(year)}-Q{quarter_number(quarter)}"
                text = f"{as_text(year)} {as_text(quarter)}".strip()
            else:
                text = None
            if text is not None:
                if period is None:
                    self._invalid_period(as_text(text), cell)
                return period, cell
        found = self._sheet_period()
        return (found.value, found.cell) if found else (None, "")  # type: ignore[return-value]

    def _missing(self, code: str, sources: Sources) -> None:
        """``gemeente-ontbreekt`` / ``periode-ontbreekt``, saying in Dutch where the value
        belongs: the empty cell after its label if the sheet has one, else the first
        source of the spec."""
        source = next((s for s in sources.order if s not in ("groups", "metadata")), "")
        hit = self._label(sources) if "label" in sources.order else None
        cell = hit[1] if hit else source[5:] if source.startswith("cell:") else ""
        where = f" in cel {cell} (blad {self.sheet})" if cell else {
            "label": f" bovenaan blad {self.sheet}", "title": f" bovenaan blad {self.sheet}",
            "column": " in de kolommen van de tabel", "columns": " in de kolommen van de tabel",
            "filename": " in de bestandsnaam", "sheet-name": " in de bladnaam"}.get(source, "")
        self.findings.append(finding(code, file=self.file, sheet=self.sheet, cell=cell,
                                     where=where, detail=f"nothing found in {sources.order}"))

    def _template_changed(self) -> None:
        """``sjabloon-gewijzigd``: the visible Gemeente or Periode names another municipality
        or quarter than the hidden metadata of the template the file was made from (a
        neighbour's file, or last quarter's copied and retyped). The rows keep the visible
        value, so the file is listed where its sender meant it; the finding is an error, so
        none of its figures count until someone has looked (the project rows of a template
        are those of its own quarter, and a wrong guess would replace another municipality's
        or quarter's accepted figures)."""
        if not self.metadata:
            return
        made_for = {
            "municipality": next((name for key in _METADATA_KEYS["municipality"]
                                  if (name := self.programme.municipality(
                                      self.metadata.get(key) or None))), None),
            "period": period_in_text(self.metadata.get("periode", "")),
        }
        found = {"municipality": self.municipality,
                 "period": self._file_period if isinstance(self._file_period, _Found) else None}
        for target, what in (("municipality", "gemeente"), ("period", "kwartaal")):
            visible, expected = found[target], made_for[target]
            if visible is None or not visible.cell or visible.value in (None, expected) \
                    or expected is None:
                continue  # not from a cell (so from the metadata itself), unreadable or equal
            self.findings.append(finding(
                "sjabloon-gewijzigd", file=self.file, sheet=self.sheet, cell=visible.cell,
                what=what, value=visible.value, expected=expected,
                detail=f"{target} {visible.text!r} in the sheet, {expected!r} in the "
                       f"template's metadata"))

    # -- rows ---------------------------------------------------------------------------
    def _new_row(self, r: int, municipality: str | None, period: tuple[str | None, str],
                 code_column: int | None, name_column: int | None) -> dict:
        code, name = self.value(r, code_column), self.value(r, name_column)
        row = dict.fromkeys(ROW_COLUMNS)
        row.update({f"cel_{f}": "" for f in _VALUE_FIELDS})
        written = as_text(name if name is not None else code)
        row.update(gemeente=municipality, periode=period[0], cel_periode=period[1],
                   blad=self.sheet, project_tekst=written or None,
                   cel_project=a1(r, code_column if name is None and code is not None
                                  else name_column),
                   _code=as_text(code), _code_cell=a1(r, code_column) if code is not None
                   and name is not None else "", _r=r)
        return row

    def _set(self, row: dict, field_name: str, r: int, c: int | None) -> None:
        if c is not None:
            value = self.value(r, c)
            if value is None and self.spec.blank_cell == "zero" and field_name != "toelichting":
                value = 0
            row[field_name], row[f"cel_{field_name}"] = value, a1(r, c)
            row.setdefault("_cells", []).append((r, c))

    def _project_code(self, row: dict) -> str | None:
        """The row's project: by its name when the name is a programme project (a code
        overtyped beside it is reported by :meth:`_code_and_name`), else by its code."""
        return self.programme.project_code(row["project_tekst"]) or \
            self.programme.project_code(row["_code"])

    def _is_total(self, row: dict) -> bool:
        key = header_key(row["project_tekst"] or "")
        return bool(key) and any(key.startswith(t) for t in self.spec.total_keys) and \
            self._project_code(row) is None

    def _keep(self, row: dict) -> None:
        """File a row under totals, rows or nowhere (a blank line or a footnote)."""
        if self._is_total(row):
            self.totals.append(row)
        elif self._project_code(row) or any(row[f] is not None for f in INDICATOR_CODES):
            self.rows.append(row)

    def _read_wide(self) -> None:
        code_column, name_column = self.column("projectcode"), self.column("project")
        for r in self._data_rows():
            row = self._new_row(r, None, (None, ""), code_column, name_column)
            for field_name in _VALUE_FIELDS:
                self._set(row, field_name, r, self.column(field_name))
            if row["project_tekst"] is not None or any(row[f] is not None
                                                       for f in INDICATOR_CODES):
                row["gemeente"] = self._row_municipality(r)
                row["periode"], row["cel_periode"] = self._row_period(r)
                self._keep(row)

    def _read_groups(self) -> None:
        """Quarter groups (Huizen): the same indicator columns repeated under a quarter
        label. A label cell merged over its group is read at its first column only, so a
        label covers every column up to the next label."""
        starts = [c for c, _ in self.match.groups]
        ends = [*starts[1:], max(len(self.grid[self.header]), starts[-1] + 1)]
        code_column, name_column = (
            next((c for c in self.match.columns.get(f, []) if c < starts[0]), None)
            for f in ("projectcode", "project"))
        year = self._year()
        for (start, label), end in zip(self.match.groups, ends, strict=True):
            columns = {f: next((c for c in cols if start <= c < end), None)
                       for f, cols in self.match.columns.items() if f in _VALUE_FIELDS}
            cell = a1(self.header + self.spec.group_label_row, start)
            period = self._group_period(label, cell, year)
            group = self._group_rows((period, cell), columns, code_column, name_column)
            reported = any(row[f] is not None for row in group if not self._is_total(row)
                           for f in INDICATOR_CODES)
            if reported or self.spec.blank_group != "not-reported":
                for row in group:  # a quarter not yet reported gives no rows, no warnings
                    self._keep(row)

    def _group_period(self, label: str, cell: str, year: int | None) -> str | None:
        """The quarter a group's label names, its year from the label or the sheet."""
        period = parse_period(label) or (f"{year}-Q{quarter_number(label)}" if year else None)
        if period is None:
            self.findings.append(finding(
                "periode-ontbreekt", file=self.file, sheet=self.sheet, cell=cell,
                where=f" (het jaar bij '{label}' in cel {cell}, of in de bladnaam)",
                detail="quarter label without a year"))
        return period

    def _group_rows(self, period: tuple[str | None, str], columns: dict[str, int | None],
                    code_column: int | None, name_column: int | None) -> list[dict]:
        """The rows of one quarter group that name a project or hold a count."""
        group = []
        for r in self._data_rows():
            row = self._new_row(r, None, period, code_column, name_column)
            for field_name, c in columns.items():
                self._set(row, field_name, r, c)
            if row["project_tekst"] is not None or any(row[f] is not None
                                                       for f in INDICATOR_CODES):
                row["gemeente"] = self._row_municipality(r)
                group.append(row)
        return group

    def _read_long(self) -> None:
        """One line per project × indicator × quarter (Gooise Meren's export); lines of the
        same municipality, quarter and project make one row. A second line for an indicator
        already seen starts a new row, so validate reports the double."""
        words = self.spec.indicator_words
        c_project, c_code = self.column("project"), self.column("projectcode")
        c_indicator, c_amount = self.column("indicator"), self.column("aantal")
        open_rows: dict[tuple, dict] = {}
        for r in self._data_rows():
            project, word = self.value(r, c_project), self.value(r, c_indicator)
            if project is None and word is None and self.value(r, c_amount) is None:
                continue
            if (indicator := words.get(header_key(as_text(word)))) is None:
                self.findings.append(finding(
                    "indicator-onbekend", file=self.file, sheet=self.sheet,
                    cell=a1(r, c_indicator), value=as_text(word),
                    expected=", ".join(f"'{w[0]}'" for w in self.spec.indicators.values()),
                    detail="indicator word not in the layout's [indicators]"))
                continue
            municipality, period = self._row_municipality(r), self._row_period(r)
            key = (municipality, period[0], header_key(as_text(project)))
            row = open_rows.get(key)
            if row is None or row[f"cel_{indicator}"]:
                row = open_rows[key] = self._new_row(r, municipality, period, c_code, c_project)
                (self.totals if self._is_total(row) else self.rows).append(row)
            self._set(row, indicator, r, c_amount)
            if row["toelichting"] is None:
                self._set(row, "toelichting", r, self.column("toelichting"))

    # -- finishing ----------------------------------------------------------------------
    def _code_and_name(self, row: dict) -> None:
        """A project code that disagrees with the known project named beside it (the
        template's code overtyped on an unprotected sheet): ``projectcode-ander-project``
        (an error) when the code is another project's, whose row the figures might have
        been meant for; ``projectcode-onbekend`` (a warning: read by the name) when it is
        no project's code, with a "bedoelde u" hint when it is a typo of the name's code."""
        if not row["_code_cell"] or row["projectcode"] is None:
            return
        by_code = self.programme.project_code(row["_code"])
        if by_code == row["projectcode"]:
            return
        name, code = self.programme.projects.at[row["projectcode"], "naam"], row["projectcode"]
        where = dict(file=self.file, sheet=self.sheet, cell=row["_code_cell"],
                     value=row["_code"], project=name, expected=code,
                     other=row["cel_project"])
        if by_code is not None:
            self.findings.append(finding(
                "projectcode-ander-project", **where,
                other_project=self.programme.projects.at[by_code, "naam"],
                detail=f"code {by_code}, name {code}"))
            return
        typo = self.programme.closest_project_code(row["_code"]) == code
        self.findings.append(finding(
            "projectcode-onbekend", **where,
            suggestion=f" Bedoelde u '{code}'?" if typo else "",
            detail=f"unknown code, read by the name as {code}"))

    def _finish(self) -> None:
        for row in self.rows:
            row["projectcode"] = self._project_code(row)
            self._code_and_name(row)
            if row["projectcode"] is None:
                text = row["project_tekst"] or "(leeg)"
                suggestion = self.programme.suggest_project(text)
                self.findings.append(finding(
                    "project-onbekend", file=self.file, sheet=self.sheet,
                    cell=row["cel_project"], value=text,
                    suggestion=f" Bedoelde u '{suggestion}'?" if suggestion else "",
                    detail="no programme project, code or alias"))
        read = {row[f"cel_{f}"] for row in self.rows + self.totals for f in _VALUE_FIELDS}
        for cell in sorted(self.book.formula_cells_without_value(self.sheet) & read,
                           key=_cell_order):
            self.findings.append(finding("formule-zonder-waarde", file=self.file,
                                         sheet=self.sheet, cell=cell,
                                         detail="formula without cached value"))
        self._merged_input_cells()
        self.submission.rows = rows_frame(self.rows)
        self.submission.totals = rows_frame(self.totals)
        c = self.column("gemeente")
        per_row = [(row["gemeente"], a1(row["_r"], c)) for row in self.rows
                   if c is not None and row["gemeente"] and self.value(row["_r"], c) is not None]
        if per_row:  # a Gemeente column: the submission's municipality is its usual value
            name = Counter(n for n, _ in per_row).most_common(1)[0][0]
            self.submission.municipality = name
            self.submission.municipality_cell = next(cell for n, cell in per_row if n == name)
        elif self.municipality is not None:
            self.submission.municipality = self.municipality.value  # type: ignore[assignment]
            self.submission.municipality_cell = self.municipality.cell

    def _merged_input_cells(self) -> None:
        """``cellen-samengevoegd`` for a merged range over two or more cells read as values:
        Excel shows one number, but it is stored in the top-left cell only, and nobody can
        tell which column or row it was meant for."""
        cells = {cell for row in self.rows + self.totals for cell in row.get("_cells", ())}
        for (top, left), (bottom, right) in self.chosen.merges_over(cells):
            self.findings.append(finding(
                "cellen-samengevoegd", file=self.file, sheet=self.sheet,
                cell=a1(top, left), value=f"{a1(top, left)}:{a1(bottom, right)}",
                detail="merged range over input cells"))


def _cell_order(cell: str) -> tuple[int, str]:
    letters, number = re.match(r"([A-Z]+)(\d+)", cell).groups()
    return int(number), letters.rjust(3)
