"""Checking the programme workbook: every sheet read and checked, every problem one Dutch line at
its sheet and cell (or row), in the words of the staff who edit ``programma.xlsx``.

:func:`read_and_check` reads the sheets of :data:`~.schemas.SHEETS` and checks each in two
steps. First every cell is read as its column's kind (:data:`~.schemas.SCHEMAS`: text, whole
number, number, date; Dutch spellings such as ``1-2-2021`` and ``0,9`` accepted) and a blank
required cell or a value that is not of that kind becomes a problem; its row is left out of the
second step, so that one typo gives one line, not pandera's dtype and coercion failures and
checks that break on text. Then pandera validates the rest (lazily: all problems at once)
and each failure case is told in Dutch from the check that failed (its name and statistics,
never its repr), with the column's ``description`` as the hint of what belongs there. A cell
gets one problem, the first found. Sheets that pass are checked against each other
(:func:`_cross_checks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
import pandera.pandas as pa
from openpyxl.utils import column_index_from_string, get_column_letter

from xlmonitor.programme.schemas import (
    FIXED_LABELS,
    INDICATOR_CODES,
    MAX_COUNT_SETTING,
    SCHEMAS,
    SETTINGS,
    SHEETS,
)

_DAY_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S")


@dataclass
class Problems:
    """The problems of one programme workbook: one per cell (or per row, or per sheet), in
    sheet, row and column order."""

    file_name: str
    found: dict[tuple, str] = field(default_factory=dict)

    def add(self, sheet: str, text: str, row: int = 0, letter: str = "") -> None:
        """``text`` at cell ``letter row`` of ``sheet`` (``row`` alone: the row; neither:
        the sheet; no ``sheet``: the file). The first problem of a place wins."""
        order = list(SHEETS).index(sheet) if sheet in SHEETS else -1
        key = (order, row, column_index_from_string(letter) if letter else 0,
               "" if row else text)
        if sheet == "":
            line = f"{self.file_name}: {text}"
        elif row and letter:
            line = f"Blad '{sheet}', cel {letter}{row}: {text}"
        elif row:
            line = f"Blad '{sheet}', rij {row}: {text}"
        else:
            line = f"Blad '{sheet}': {text}"
        self.found.setdefault(key, line if line.endswith((".", "?")) else f"{line}.")

    def about(self, sheet: str) -> bool:
        """Whether ``sheet`` has a problem already."""
        order = list(SHEETS).index(sheet)
        return any(key[0] == order for key in self.found)

    def lines(self) -> list[str]:
        return [self.found[key] for key in sorted(self.found)]

    def __bool__(self) -> bool:
        return bool(self.found)


def read_and_check(workbook, file_name: str) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The sheets of an openpyxl ``workbook`` as frames (index: Excel row number) and its
    problems as Dutch lines (none: the frames are valid, checked against each other too)."""
    problems = Problems(file_name)
    frames: dict[str, pd.DataFrame] = {}
    for sheet, columns in SHEETS.items():
        frame = _read_sheet(workbook, sheet, columns, problems)
        if frame is None:
            continue
        schema = SCHEMAS.get(sheet)
        if schema is not None:
            frame = _validate(schema.to_schema(), frame, sheet, problems)
        frames[sheet] = frame
    _cross_checks(frames, problems)
    return frames, problems.lines()


def _read_sheet(workbook, sheet: str, columns: list[str], problems: Problems
                ) -> pd.DataFrame | None:
    if sheet not in workbook.sheetnames:
        problems.add("", f"het blad '{sheet}' ontbreekt")
        return None
    rows = list(workbook[sheet].iter_rows(values_only=True))
    header = [str(v).strip().lower() if v is not None else "" for v in (rows[0] if rows else [])]
    missing = [c for c in columns if c not in header]
    for column in missing:
        problems.add(sheet, f"de kolom '{column}' ontbreekt in de kopregel", row=1)
    if missing:
        return None
    positions = [header.index(c) for c in columns]
    records, excel_rows = [], []
    for number, row in enumerate(rows[1:], start=2):
        values = [row[p] if p < len(row) else None for p in positions]
        values = [v.strip() if isinstance(v, str) else v for v in values]
        values = [None if v == "" else v for v in values]
        if all(v is None for v in values):
            continue
        records.append(values)
        excel_rows.append(number)
    frame = pd.DataFrame(records, columns=columns, index=excel_rows, dtype=object)
    frame.attrs["letters"] = {c: get_column_letter(p + 1)
                              for c, p in zip(columns, positions, strict=True)}
    return frame


# -- step 1: every cell as its column's kind -------------------------------------------------

def _kind(column: pa.Column) -> str:
    dtype = str(column.dtype)
    return "date" if dtype.startswith("datetime") else "whole" if dtype.startswith("int") \
        else "number" if dtype.startswith("float") else "text"


_NOT_OF_KIND = {"date": "is geen datum", "whole": "is geen geheel getal",
                "number": "is geen getal"}


def _typed(schema: pa.DataFrameSchema, frame: pd.DataFrame, sheet: str,
           problems: Problems) -> pd.DataFrame:
    """``frame`` with every cell as its column's kind; rows with a blank required cell or a
    value not of its kind reported and left out."""
    letters, bad = frame.attrs["letters"], set()
    frame = frame.copy()
    for name, column in schema.columns.items():
        kind, hint = _kind(column), _hint(column)
        for row, value in frame[name].items():
            if is_blank(value):
                if not column.nullable:
                    problems.add(sheet, f"deze cel is leeg; hier hoort {hint}" if hint
                                 else "deze cel is leeg; vul hier iets in", row, letters[name])
                    bad.add(row)
                continue
            parsed = _as_kind(value, kind)
            if parsed is None:
                problems.add(sheet, f"{shown(value)} {_NOT_OF_KIND[kind]}"
                             + (f"; hier hoort {hint}" if hint else ""), row, letters[name])
                bad.add(row)
            else:
                frame.at[row, name] = parsed
    return frame.drop(index=sorted(bad))


def _as_kind(value: object, kind: str) -> object:
    if kind == "date":
        day = as_date(value)
        return pd.Timestamp(day) if day is not None else None
    if kind == "whole":
        return as_whole(value)
    if kind == "number":
        return _as_number(value)
    return value


def as_date(value: object) -> date | None:
    """A date as typed in a cell: a real date, or text such as ``2021-02-01`` or
    ``1-2-2021`` (Dutch order: day first)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    for pattern in _DAY_FORMATS:
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def as_whole(value: object) -> int | None:
    """A whole number as typed in a cell (``1180``, ``1.180``, ``1180.0``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?(\d{1,3}(\.\d{3})+|\d+)", value.strip()):
        return int(value.strip().replace(".", ""))  # Dutch thousands: 10.000
    return None


def as_count(value: object) -> int | None:
    """A whole number of 1 or more, as typed in a setting (``10000``, ``10.000``), or None."""
    number = as_whole(value)
    return number if number is not None and number >= 1 else None


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+([.,]\d+)?", value.strip()):
        return float(value.strip().replace(",", "."))  # Dutch decimal comma: 0,9
    return None


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def shown(value: object) -> str:
    """A cell value as a Dutch user reads it in a message: text quoted, 1-2-2021, 0,9."""
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return f"{value:%d-%m-%Y}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value).replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return f"'{value}'"


def _hint(column: pa.Column) -> str:
    """What belongs in the column: its description, else the values it allows."""
    if column.description:
        return column.description
    allowed = next((c.statistics["allowed_values"] for c in column.checks if c.name == "isin"),
                   None)
    return f"een van: {', '.join(str(v) for v in allowed if v != '')}" if allowed else ""


# -- step 2: pandera on typed rows -----------------------------------------------------------

def _validate(schema: pa.DataFrameSchema, frame: pd.DataFrame, sheet: str,
              problems: Problems) -> pd.DataFrame:
    typed = _typed(schema, frame, sheet, problems)
    try:
        return schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    letters = frame.attrs["letters"]
    duplicates: dict[tuple[str, object], list[int]] = {}
    for case in cases.itertuples():
        row = None if pd.isna(case.index) else int(case.index)
        if case.schema_context == "DataFrameSchema":
            _row_check(schema.checks[int(case.check_number)], typed, row, sheet, letters,
                       problems)
            continue
        name, failed = case.column, str(case.check)
        if failed in ("field_uniqueness", "unique"):
            duplicates.setdefault((name, case.failure_case), []).append(row)
            continue
        column = schema.columns[name]
        # A check of the column's own (isin, str_matches, ...) has a number; pandera's
        # built-in ones (dtype, coercion, nullability) do not, and step 1 made them pass.
        check = None if pd.isna(case.check_number) or failed.startswith(
            ("coerce_dtype", "dtype", "not_nullable")) else column.checks[int(case.check_number)]
        text = _check_text(check, case.failure_case)
        if check is not None and check.name == "str_matches" and _hint(column):
            text += f"; hier hoort {_hint(column)}"
        problems.add(sheet, text, row or 0, letters[name] if row else "")
    for (name, value), rows in duplicates.items():  # one line a value, at its second cell
        rows = sorted(r for r in rows if r is not None)
        if len(rows) < 2:
            continue
        others = [f"{letters[name]}{r}" for r in rows if r != rows[1]]
        where = f"cel {others[0]}" if len(others) == 1 else f"de cellen {', '.join(others)}"
        problems.add(sheet, f"{shown(value)} staat ook in {where}; elke waarde in de kolom "
                            f"'{name}' mag maar één keer voorkomen", rows[1], letters[name])
    return frame


def _check_text(check: pa.Check | None, value: object) -> str:
    """What failed, in Dutch: from the check's name and statistics, never its repr."""
    statistics = check.statistics if check is not None else {}
    name = check.name if check is not None else ""
    if name == "isin":
        allowed = ", ".join(str(v) for v in statistics["allowed_values"] if v != "")
        return f"{shown(value)} is geen toegestane waarde; kies uit: {allowed}"
    if name == "str_matches":
        return f"{shown(value)} heeft niet de goede vorm"
    if name == "greater_than_or_equal_to":
        return f"{shown(value)} is kleiner dan {shown(statistics['min_value'])}; vul " \
               f"{shown(statistics['min_value'])} of meer in"
    if name == "less_than_or_equal_to":
        return f"{shown(value)} is groter dan {shown(statistics['max_value'])}; vul " \
               f"{shown(statistics['max_value'])} of minder in"
    return f"{shown(value)} kan hier niet staan"


def _row_check(check: pa.Check, frame: pd.DataFrame, row: int | None, sheet: str,
               letters: dict[str, str], problems: Problems) -> None:
    """A dataframe check's failure at ``row``, at the cell its ``error`` names (see
    :mod:`.schemas`: ``<column>: <template over the row's values and cells>``)."""
    column, _, template = str(check.error).partition(": ")
    if row is None or row not in frame.index or column not in letters:
        problems.add(sheet, template.split(" (", 1)[0] if template else str(check.name))
        return
    values = {name: shown(value).strip("'") for name, value in frame.loc[row].items()}
    values |= {f"cel_{name}": f"{letter}{row}" for name, letter in letters.items()}
    problems.add(sheet, template.format(**values), row, letters[column])


# -- across sheets ---------------------------------------------------------------------------

def settings_of(frame: pd.DataFrame) -> dict[str, object]:
    return dict(zip(frame["instelling"], frame["waarde"], strict=True))


def _cross_checks(frames: dict[str, pd.DataFrame], problems: Problems) -> None:
    """Settings, rules and targets checked further, each sheet that could be read (its own
    problems are reported already); targets against the projects only when the projects are
    right, so that a mistyped project code is one problem, not one per target too."""
    if "Programma" in frames:
        _setting_checks(frames["Programma"], problems)
    if "Regels" in frames:
        _rule_checks(frames["Regels"], problems)
    if "Indicatoren" in frames:
        _label_checks(frames["Indicatoren"], problems)
    if "Projecten" in frames and "Doelstellingen" in frames and not problems.about("Projecten"):
        _target_checks(set(frames["Projecten"]["code"]), frames["Doelstellingen"], problems)


def _target_checks(codes: set, targets: pd.DataFrame, problems: Problems) -> None:
    letters = targets.attrs.get("letters", {})
    for row, project in targets["project"].items():
        if not is_blank(project) and project not in codes:
            problems.add("Doelstellingen", f"project '{project}' staat niet op het blad "
                         "'Projecten'", row, letters.get("project", "A"))
    seen: dict[tuple, int] = {}
    for row, key in zip(targets.index, zip(targets["project"].fillna(""), targets["indicator"],
                                           targets["geldig_vanaf"], strict=True), strict=True):
        if key in seen:
            problems.add("Doelstellingen", f"dezelfde doelstelling staat ook in rij {seen[key]} "
                         "(project, indicator en geldig_vanaf gelijk); haal een van beide weg",
                         row)
        seen.setdefault(key, row)


def _rule_checks(rules: pd.DataFrame, problems: Problems) -> None:
    for row, rule in rules.iterrows():
        for side in ("links", "rechts"):
            unknown = [t for t in re.findall(r"[a-z_]+", str(rule[side]))
                       if t not in INDICATOR_CODES]
            if unknown and not is_blank(rule[side]):
                problems.add("Regels", f"'{rule[side]}' noemt een onbekende indicator "
                             f"({', '.join(unknown)}); gebruik {', '.join(INDICATOR_CODES)}",
                             row, rules.attrs["letters"][side])


def _label_checks(indicators: pd.DataFrame, problems: Problems) -> None:
    """An indicator's label is fixed: it is tblData's column name (see FIXED_LABELS)."""
    letter = indicators.attrs["letters"]["label"]
    for row, code, label in zip(indicators.index, indicators["code"], indicators["label"],
                                strict=True):
        fixed = FIXED_LABELS.get(code)
        if fixed is not None and not is_blank(label) and str(label).strip() != fixed:
            problems.add("Indicatoren", f"de naam van indicator '{code}' ligt vast: "
                         f"'{fixed}'. De master (kolommen van tblData), Power BI, de sjablonen "
                         f"en het rapport gebruiken die naam. Zet '{fixed}' terug; uitleg bij "
                         "de indicator hoort in de kolom omschrijving", row, letter)


def _unknown_setting(key: str) -> str:
    from difflib import get_close_matches

    near = get_close_matches(key, list(SETTINGS), n=1, cutoff=0.6)
    hint = f" Bedoelde u '{near[0]}'?" if near else ""
    return (f"'{key}' is geen instelling van xlmonitor.{hint} De instellingen zijn: "
            f"{', '.join(SETTINGS)}")


def _setting_checks(frame: pd.DataFrame, problems: Problems) -> None:
    rows = {key: row for row, key in frame["instelling"].items() if not is_blank(key)}
    key_letter = frame.attrs["letters"]["instelling"]
    for key, row in rows.items():
        if str(key).strip() not in SETTINGS:
            problems.add("Programma", _unknown_setting(str(key).strip()), row, key_letter)
    letter = frame.attrs["letters"]["waarde"]
    values = settings_of(frame)
    for key in ("naam", "start", "eind"):
        if is_blank(values.get(key)):
            problems.add("Programma", f"de instelling '{key}' ontbreekt of is leeg",
                         rows.get(key, 0), letter if key in rows else "")
    for key in ("start", "eind"):
        if not is_blank(values.get(key)) and as_date(values[key]) is None:
            problems.add("Programma", f"{shown(values[key])} bij '{key}' is geen datum; vul "
                         "een datum in, zoals 1-2-2021", rows[key], letter)
    bound = values.get(MAX_COUNT_SETTING)
    if not is_blank(bound) and as_count(bound) is None:
        problems.add("Programma", f"{shown(bound)} bij '{MAX_COUNT_SETTING}' is geen geheel "
                     "getal van 1 of meer", rows[MAX_COUNT_SETTING], letter)
