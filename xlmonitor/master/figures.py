"""The Dashboard and Gemeenten figures, computed in pandas.

:mod:`xlmonitor.master.dashboard` writes every figure as a formula over ``tblData`` and
the tables on ``Doelen``; :func:`compute_figures` computes what those formulas give at a
peilperiode, so each formula can carry it as its cached result (readers that do not
calculate show that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from xlmonitor.periods import elapsed_share, period_end

#: A figure without a target (none set, or the project has not started yet).
NVT = "n.v.t."


@dataclass
class Figures:
    """Every dashboard figure for one peilperiode, as the formulas should compute them."""

    peilperiode: str
    peildatum: date
    kpi: pd.DataFrame            # index indicator code: Gerealiseerd, Doel, Verwacht, ...
    projects: pd.DataFrame       # index project code: labels…, Doel, Verwacht, ...
    municipalities: pd.DataFrame  # index Gemeente: labels…, Kwartalen geleverd
    trend: pd.DataFrame          # index period: Kwartaaleinde, (code, realised/expected)…


def compute_figures(consolidation, peilperiode: str, periods: list[str]) -> Figures:
    """The cached values of every formula on Dashboard and Gemeenten."""
    programme = consolidation.programme
    peildatum = period_end(peilperiode)
    labels = [programme.label(c) for c in programme.indicator_codes]
    targets = _Targets(programme.targets)
    data = consolidation.data
    # Quarter ends as datetime64, compared with Timestamps: vectorised over 84,000 rows.
    ends = pd.to_datetime(data["Kwartaaleinde"]) if len(data) else pd.Series(
        dtype="datetime64[ns]")
    reported = (ends <= pd.Timestamp(peildatum)).to_numpy()
    upto = data if reported.all() else data[reported]  # no copy of 84,000 rows for nothing
    # Realised per quarter end once; the trend sums the ends up to each of its quarters.
    by_end = (data.groupby(ends.to_numpy())[labels].sum() if len(data)
              else pd.DataFrame(columns=labels, index=pd.DatetimeIndex([]), dtype=float))
    return Figures(
        peilperiode, peildatum,
        kpi=_kpi_figures(programme, upto, labels, targets, peildatum),
        projects=_project_figures(programme, upto, labels, targets, peildatum),
        municipalities=_municipality_figures(programme, upto, labels),
        trend=_trend_figures(programme, by_end, targets, periods, peildatum))


def _totals(frame: pd.DataFrame, by: str, labels: list[str]) -> pd.DataFrame:
    return frame.groupby(by)[labels].sum() if len(frame) else pd.DataFrame(columns=labels)


def _kpi_figures(programme, upto: pd.DataFrame, labels: list[str], targets: _Targets,
                 peildatum: date) -> pd.DataFrame:
    """``tblKPI``: the programme indicators against the programme's targets."""
    rows = []
    realised_all = upto[labels].sum() if len(upto) else pd.Series(0, index=labels)
    for code in programme.indicator_codes:
        target = targets.at("", code, peildatum)
        expected = (None if target is None
                    else target * elapsed_share(programme.start, programme.end, peildatum))
        realised = int_if_whole(realised_all[programme.label(code)])
        rows.append(_light_row(programme, realised, target, expected, code=code,
                               Indicator=programme.label(code)))
    return pd.DataFrame(rows).set_index("code")


def _project_figures(programme, upto: pd.DataFrame, labels: list[str], targets: _Targets,
                     peildatum: date) -> pd.DataFrame:
    """``tblProjecten``: each shown project's figures; its light on its stuurindicator."""
    by_project = _totals(upto, "Projectcode", labels)
    rows = []
    for code, project in shown_projects(programme).iterrows():
        realised = {lab: int_if_whole(by_project.at[code, lab]) if code in by_project.index else 0
                    for lab in labels}
        stuur = project["stuurindicator"]
        target = None
        if stuur and peildatum >= project["start"]:
            target = targets.at(code, stuur, peildatum)
        expected = (None if target is None
                    else target * elapsed_share(project["start"], project["eind"], peildatum))
        main = realised[programme.label(stuur)] if stuur else 0
        rows.append(_light_row(programme, main, target, expected, code=code,
                               Projectcode=code, Project=project["naam"], **realised))
    projects = pd.DataFrame(rows)
    return projects.set_index("code") if len(projects) else projects


def _municipality_figures(programme, upto: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """``tblGemeenten``: the indicators per municipality and the quarters it delivered."""
    by_municipality = _totals(upto, "Gemeente", labels)
    delivered = upto.groupby("Gemeente")["Periode"].nunique() if len(upto) else pd.Series()
    rows = []
    for name in programme.municipalities.index:
        row = {"Gemeente": name, "CBS-code": programme.cbs_code(name)}
        for lab in labels:
            row[lab] = (int_if_whole(by_municipality.at[name, lab])
                        if name in by_municipality.index else 0)
        row["Kwartalen geleverd"] = int(delivered.get(name, 0))
        rows.append(row)
    return pd.DataFrame(rows).set_index("Gemeente", drop=False)


def _trend_figures(programme, by_end: pd.DataFrame, targets: _Targets, periods: list[str],
                   peildatum: date) -> pd.DataFrame:
    """``tblVerloop``: per quarter, realised (up to the peildatum) and expected, per KPI."""
    rows = []
    for period in periods:
        end = period_end(period)
        row: dict[str, object] = {"Kwartaal": period, "Kwartaaleinde": end}
        for code in programme.kpi_codes:
            label = programme.label(code)
            row[(code, "realised")] = (
                int_if_whole(by_end.loc[by_end.index <= pd.Timestamp(end), label].sum())
                if end <= peildatum else None)
            target = targets.at("", code, end)
            row[(code, "expected")] = (
                None if target is None
                else target * elapsed_share(programme.start, programme.end, end))
        rows.append(row)
    return pd.DataFrame(rows).set_index("Kwartaal", drop=False)


def shown_projects(programme) -> pd.DataFrame:
    """Projects on the Dashboard: every project of the programme that is not on hold."""
    return programme.projects[programme.projects["status"] != "on hold"]


def _light_row(programme, realised: float, target: float | None, expected: float | None,
               **fields: object) -> dict[str, object]:
    ratio = realised / expected if expected is not None and expected > 0 else None
    return {**fields, "Gerealiseerd": realised,
            "Doel": NVT if target is None else target,
            "Verwacht": NVT if expected is None else expected,
            "Percentage": NVT if ratio is None else ratio,
            "Stoplicht": programme.traffic_light(ratio)}


class _Targets:
    """Sum of the targets valid at a date (what the SUMIFS over tblDoelen computes), per
    (project, indicator): grouped once, as a dashboard asks for every project."""

    def __init__(self, targets: pd.DataFrame) -> None:
        self._by_key: dict[tuple[str, str], list[tuple[date, date, float]]] = {}
        for row in targets[["project", "indicator", "geldig_vanaf", "geldig_tot",
                            "doel"]].itertuples(index=False):
            self._by_key.setdefault((row.project, row.indicator), []).append(
                (row.geldig_vanaf, row.geldig_tot, row.doel))

    def at(self, project: str, indicator: str, day: date) -> float | None:
        valid = [doel for start, end, doel in self._by_key.get((project, indicator), ())
                 if start <= day <= end]
        return int_if_whole(sum(valid)) if valid else None


def int_if_whole(value: object) -> float | int:
    """A sum as the cached value of its formula: whole numbers as int."""
    number = float(value)
    return int(number) if number.is_integer() else number
