"""The programme definition: projects, indicators, targets, municipalities, thresholds, rules
and locked periods.

Staff edit it in ``workbooks/programma.xlsx``; :func:`load_programme` reads that workbook and
has every sheet checked (:mod:`.check`, against the pandera schemas of :mod:`.schemas`) so a
broken programme file gives one Dutch line per problem naming sheet and cell, never a
traceback. :func:`build_programme_workbook` writes the default workbook from
:mod:`xlmonitor.programme.seed`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path

import openpyxl
import pandas as pd

from xlmonitor.errors import ProgrammeError
from xlmonitor.periods import parse_period, period_end, period_start
from xlmonitor.programme import seed
from xlmonitor.programme.check import as_count, as_date, read_and_check, settings_of
from xlmonitor.programme.schemas import (
    DEFAULT_MAX_COUNT,
    INDICATOR_CODES,
    INDICATOR_LABELS,
    MAX_COUNT_SETTING,
    MISSING_VALUE_STRATEGIES,
    OPERATORS,
    SCHEMAS,
    SHEETS,
    STATUSES,
    TEMPLATE_VERSION,
)

__all__ = [  # the declarations of .schemas too, where the other stages have always found them
    "DEFAULT_MAX_COUNT",
    "INDICATOR_CODES",
    "INDICATOR_LABELS",
    "MAX_COUNT_SETTING",
    "MISSING_VALUE_STRATEGIES",
    "OPERATORS",
    "SCHEMAS",
    "SHEETS",
    "STATUSES",
    "TEMPLATE_VERSION",
    "Programme",
    "build_programme_workbook",
    "default_programme_path",
    "load_programme",
    "normalise_name",
    "period_bounds_text",
    "seed_tables",
    "validate_period",
]


def normalise_name(text: object) -> str:
    """Case, spacing and punctuation-insensitive key for names and aliases."""
    return re.sub(r"[^0-9a-z]+", "", str(text).lower().replace("&", "en"))


@dataclass(frozen=True, eq=False)
class Programme:
    """A loaded, validated programme definition. DataFrames are read-only by convention."""

    settings: dict[str, object]
    projects: pd.DataFrame  # index: code
    indicators: pd.DataFrame  # index: code, ordered by volgorde
    targets: pd.DataFrame  # project ("" = programme), indicator, doel, geldig_vanaf, geldig_tot
    municipalities: pd.DataFrame  # index: naam, column cbs_code
    thresholds: pd.DataFrame  # kleur, vanaf (fraction), sorted high → low
    rules: pd.DataFrame
    locked: pd.DataFrame  # index: periode
    source: str = ""
    digest: str = field(default="")

    # -- indicators -------------------------------------------------------------------
    @property
    def indicator_codes(self) -> list[str]:
        return list(self.indicators.index)

    def label(self, indicator: str) -> str:
        return str(self.indicators.at[indicator, "label"])

    @property
    def kpi_codes(self) -> list[str]:
        return [c for c in self.indicator_codes if self.indicators.at[c, "kpi"] == "ja"]

    # -- names ------------------------------------------------------------------------
    @cached_property
    def _project_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for code, row in self.projects.iterrows():
            names = [code, row["naam"], *str(row["aliassen"] or "").split(";")]
            for name in names:
                if str(name).strip():
                    keys.setdefault(normalise_name(name), str(code))
        return keys

    def project_code(self, name: object) -> str | None:
        """The project code for a code, name or alias as municipalities write it."""
        if name is None:
            return None
        key = (type(name), name)  # 1 == 1.0 == True, but they read "1", "1.0", "True"
        try:  # every file names the same projects: normalise each spelling once
            return self._project_memo[key]
        except (KeyError, TypeError):
            code = self._project_keys.get(normalise_name(name))
        try:
            self._project_memo[key] = code
        except TypeError:
            pass
        return code

    @cached_property
    def _project_memo(self) -> dict[object, str | None]:
        return {}

    def suggest_project(self, name: object) -> str | None:
        """Closest project name, for a "bedoelde u …?" hint."""
        import difflib

        key = normalise_name(name)
        if not key:
            return None
        match = difflib.get_close_matches(key, list(self._project_keys), n=1, cutoff=0.6)
        return str(self.projects.at[self._project_keys[match[0]], "naam"]) if match else None

    def closest_project_code(self, text: object) -> str | None:
        """The project code ``text`` most resembles (a mistyped code), or None."""
        import difflib

        codes = {normalise_name(code): str(code) for code in self.projects.index}
        match = difflib.get_close_matches(normalise_name(text), list(codes), n=1, cutoff=0.6)
        return codes[match[0]] if match else None

    @cached_property
    def _municipality_keys(self) -> dict[str, str]:
        keys = {}
        for naam, row in self.municipalities.iterrows():
            keys[normalise_name(naam)] = str(naam)
            keys[normalise_name(row["cbs_code"])] = str(naam)
            keys[normalise_name(f"gemeente {naam}")] = str(naam)
        return keys

    def municipality(self, text: object) -> str | None:
        """Canonical municipality name for a name, ``Gemeente X`` or CBS code."""
        if text is None:
            return None
        return self._municipality_keys.get(normalise_name(text))

    def cbs_code(self, municipality: str) -> str:
        return str(self.municipalities.at[municipality, "cbs_code"])

    # -- time -------------------------------------------------------------------------
    @property
    def start(self) -> date:
        return self.settings["start"]  # type: ignore[return-value]

    @property
    def end(self) -> date:
        return self.settings["eind"]  # type: ignore[return-value]

    @property
    def max_count(self) -> int:
        """Upper plausibility bound of one quarter's count (setting
        ``max_aantal_per_kwartaal``; :data:`DEFAULT_MAX_COUNT` when the workbook has none)."""
        return as_count(self.settings.get(MAX_COUNT_SETTING)) or DEFAULT_MAX_COUNT

    def active_projects(self, period: str) -> pd.DataFrame:
        """Projects running at some moment in ``period`` (those ended or on hold excluded)."""
        first, last = period_start(period), period_end(period)
        running = self.projects[
            (self.projects["start"] <= last)
            & (self.projects["eind"] >= first)
            & ~self.projects["status"].isin(["on hold"])
        ]
        return running

    def locked_since(self, period: str) -> date | None:
        if period in self.locked.index:
            return self.locked.at[period, "vergrendeld_op"]
        return None

    def target(self, project: str, indicator: str, at: date) -> float | None:
        """Target valid at ``at`` for a project code ("" = the programme), or None."""
        rows = self.targets[
            (self.targets["project"] == project)
            & (self.targets["indicator"] == indicator)
            & (self.targets["geldig_vanaf"] <= at)
        ]
        if rows.empty:
            return None
        return float(rows.sort_values("geldig_vanaf")["doel"].iloc[-1])

    def traffic_light(self, ratio: float | None) -> str:
        if ratio is None:
            return "n.v.t."
        for kleur, vanaf in zip(self.thresholds["kleur"], self.thresholds["vanaf"], strict=True):
            if ratio >= vanaf:
                return str(kleur)
        return "rood"


# -- loading ----------------------------------------------------------------------------

def default_programme_path() -> Path:
    return Path(str(resources.files("xlmonitor.workbooks").joinpath("programma.xlsx")))


def load_programme(path: str | Path | None = None) -> Programme:
    """Read and validate a programme workbook (default: the one shipped with xlmonitor)."""
    path = Path(path) if path is not None else default_programme_path()
    try:
        data = path.read_bytes()
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise ProgrammeError(f"Programmabestand {path} bestaat niet.") from None
    except Exception as exc:  # zip, xml or format errors from openpyxl
        raise ProgrammeError(
            f"Programmabestand {path.name} kan niet worden gelezen ({type(exc).__name__})."
        ) from exc
    try:
        frames, problems = read_and_check(workbook, path.name)
    finally:
        workbook.close()
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems[:30])
        more = f"\n  … en nog {len(problems) - 30} meer" if len(problems) > 30 else ""
        raise ProgrammeError(
            f"Het programmabestand {path.name} bevat {len(problems)} fout(en):\n{listed}{more}"
        )
    return _assemble(frames, str(path), hashlib.sha256(data).hexdigest())


def _dates(series: pd.Series) -> pd.Series:
    return series.map(lambda v: pd.Timestamp(v).date())


def _assemble(frames: dict[str, pd.DataFrame], source: str, digest: str) -> Programme:
    settings = settings_of(frames["Programma"])
    settings["start"] = as_date(settings["start"])
    settings["eind"] = as_date(settings["eind"])
    projects = frames["Projecten"].copy()
    projects["start"] = _dates(projects["start"])
    projects["eind"] = _dates(projects["eind"])
    for column in ("sector", "stuurindicator", "aliassen"):
        projects[column] = projects[column].fillna("").astype(str).replace("nan", "")
    projects = projects.set_index("code", drop=False)
    indicators = frames["Indicatoren"].sort_values("volgorde").set_index("code", drop=False)
    targets = frames["Doelstellingen"].copy()
    targets["project"] = targets["project"].fillna("").astype(str).replace("nan", "")
    targets["geldig_vanaf"] = _dates(targets["geldig_vanaf"])
    targets = targets.sort_values(["project", "indicator", "geldig_vanaf"]).reset_index(drop=True)
    # geldig_tot: the day before the next revision of the same target, so spreadsheet
    # formulas can pick the valid target with plain SUMIFS (MAXIFS is missing in Excel 2016).
    following = targets.groupby(["project", "indicator"])["geldig_vanaf"].shift(-1)
    targets["geldig_tot"] = [
        (pd.Timestamp(n) - pd.Timedelta(days=1)).date() if not pd.isna(n) else date(9999, 12, 31)
        for n in following
    ]
    municipalities = frames["Gemeenten"].set_index("naam", drop=False)
    thresholds = frames["Stoplicht"].sort_values("vanaf", ascending=False).reset_index(drop=True)
    locked = frames["Vergrendeld"].copy()
    locked["vergrendeld_op"] = _dates(locked["vergrendeld_op"])
    locked = locked.set_index("periode", drop=False)
    return Programme(settings=settings, projects=projects, indicators=indicators,
                     targets=targets, municipalities=municipalities, thresholds=thresholds,
                     rules=frames["Regels"].reset_index(drop=True), locked=locked,
                     source=source, digest=digest)


# -- building the default workbook --------------------------------------------------------

def seed_tables() -> dict[str, list[tuple]]:
    """The default programme as rows per sheet, from :mod:`xlmonitor.programme.seed`."""
    return {
        "Programma": [(k, v) for k, v in seed.PROGRAMME.items()],
        "Projecten": seed.PROJECTS,
        "Indicatoren": seed.INDICATORS,
        "Doelstellingen": seed.TARGETS,
        "Gemeenten": seed.MUNICIPALITIES,
        "Stoplicht": seed.THRESHOLDS,
        "Regels": seed.RULES,
        "Vergrendeld": seed.LOCKED,
    }


_SHEET_HELP = {
    "Programma": "Naam, regio en looptijd van het programma, en het hoogste aantal dat één "
                 "gemeente voor één project in één kwartaal kan melden "
                 "(max_aantal_per_kwartaal; daarboven is een getal een fout).",
    "Projecten": "Eén rij per project. Aliassen: andere schrijfwijzen in de werkmappen van "
                 "gemeenten, gescheiden door ';'. Stuurindicator bepaalt het stoplicht.",
    "Indicatoren": "De vier indicatoren; codes niet wijzigen (andere systemen lezen ze).",
    "Doelstellingen": "Doelen per indicator voor het programma (project leeg) of een project. "
                      "Een nieuwe rij met latere 'geldig_vanaf' vervangt het oude doel vanaf "
                      "die datum.",
    "Gemeenten": "Deelnemende gemeenten met CBS-code.",
    "Stoplicht": "Ondergrens van gerealiseerd ÷ verwacht tot nu (0,9 = 90%).",
    "Regels": "Controleregels: links · operator · rechts, met ernst (fout/waarschuwing).",
    "Vergrendeld": "Kwartalen die vastliggen: inzendingen van na 'vergrendeld_op' tellen "
                   "niet meer mee.",
}


def build_programme_workbook(path: str | Path, tables: dict[str, list[tuple]] | None = None
                             ) -> Path:
    """Write a programme workbook (default: the seed programme). Reproducible bytes."""
    import xlsxwriter

    tables = tables or seed_tables()
    path = Path(path)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                               "strings_to_urls": False})
    workbook.set_properties({"title": "Programma arbeidsmarktmonitor",
                             "created": datetime(2024, 1, 1)})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    help_format = workbook.add_format({"italic": True, "font_color": "#595959"})
    for sheet, columns in SHEETS.items():
        worksheet = workbook.add_worksheet(sheet)
        rows = tables[sheet]
        data = [list(r) for r in rows]
        table_rows = max(len(data), 1)
        worksheet.add_table(0, 0, table_rows, len(columns) - 1, {
            "name": f"tbl{sheet}",
            "style": "Table Style Light 9",
            "columns": [{"header": c} for c in columns],
        })
        for r, row in enumerate(data, start=1):
            for c, value in enumerate(row):
                if isinstance(value, date):
                    worksheet.write_datetime(r, c, datetime(value.year, value.month, value.day),
                                             date_format)
                elif value is None or value == "":
                    worksheet.write_blank(r, c, None)
                else:
                    worksheet.write(r, c, value)
        for c, column in enumerate(columns):
            width = max([len(column)] + [len(str(row[c])) for row in rows if c < len(row)])
            worksheet.set_column(c, c, min(max(width + 2, 10), 60))
        worksheet.freeze_panes(1, 0)
    guide = workbook.add_worksheet("Uitleg")
    guide.set_column(0, 0, 18)
    guide.set_column(1, 1, 100)
    guide.write(0, 0, "Programma arbeidsmarktmonitor", workbook.add_format({"bold": True,
                                                                         "font_size": 14}))
    guide.write(1, 0, "Pas de bladen aan en sla op; xlmonitor controleert het bestand bij elke "
                      "verwerking en meldt fouten met blad en cel.", help_format)
    for r, (sheet, text) in enumerate(_SHEET_HELP.items(), start=3):
        guide.write(r, 0, sheet, workbook.add_format({"bold": True}))
        guide.write(r, 1, text)
    workbook.close()
    return path


def period_bounds_text(programme: Programme) -> str:
    return f"{programme.start:%d-%m-%Y} t/m {programme.end:%d-%m-%Y}"


def validate_period(programme: Programme, period: str) -> bool:
    return parse_period(period) == period and (
        period_end(period) >= programme.start and period_start(period) <= programme.end)
