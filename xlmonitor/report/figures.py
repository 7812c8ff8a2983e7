"""The report's figures at a peilperiode, computed from the master's own tables the way the
Dashboard's formulas compute them (:mod:`xlmonitor.master.dashboard`): what the workbook
shows when that peilperiode is chosen in its drop-down.

* realised: the sum of a ``tblData`` column over the rows with ``Kwartaaleinde`` up to the
  peildatum (cumulative from the start);
* target: the sum of ``tblDoelen[Doel]`` valid at the peildatum; a project has none before it
  starts or without a stuurindicator;
* expected-to-date: target × elapsed share of the programme's (or project's) duration;
* light: realised ÷ expected against ``tblStoplicht`` (highest bound first), else ``n.v.t.``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from xlmonitor.master.contract import NOTES_TABLE, PROGRAMME_KEY
from xlmonitor.periods import parse_period
from xlmonitor.privacy import mask_text

NVT = "n.v.t."


@dataclass
class Line:
    """One indicator (programme) or project: realised, target, expected, ratio, light."""

    label: str
    realised: float
    target: float | None
    expected: float | None
    ratio: float | None
    light: str
    source: str = ""                 # Bron of the target (programme indicators)
    valid_from: date | None = None   # of the target


@dataclass
class ProjectLine:
    code: str
    name: str
    status: str
    figures: dict[str, float]        # label → realised
    stuur: str                       # label of the steering indicator ("" without)
    line: Line
    text: str = ""                   # the analyst's explanation (masked)
    hand_light: str = ""
    reason: str = ""
    remarks: list[tuple[str, str]] = field(default_factory=list)  # (Gemeente, masked text)


@dataclass
class ReportFigures:
    peilperiode: str
    peildatum: date
    labels: list[str]                # every indicator, tblKPI order
    kpi_labels: list[str]            # the charted indicators (tblVerloop)
    kpi: list[Line]
    projects: list[ProjectLine]
    municipalities: pd.DataFrame     # index Gemeente: labels…, Kwartalen geleverd
    trend: pd.DataFrame              # index Kwartaal: Kwartaaleinde, (label, kind)…


def as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def quarters(source) -> list[tuple[str, date]]:
    """(Kwartaal, Kwartaaleinde) of ``tblKwartalen``, in order."""
    table = source.table("tblKwartalen")
    return [(str(q), as_date(e)) for q, e in zip(table["Kwartaal"], table["Kwartaaleinde"],
                                                 strict=True) if as_date(e)]


def share(at: date, start: date, end: date) -> float:
    """Elapsed share of start..end (both inclusive) at the end of day ``at``, 0..1: the
    Dashboard's ``MIN(1,MAX(0,(at-start+1)/(end-start+1)))``."""
    return min(1.0, max(0.0, ((at - start).days + 1) / ((end - start).days + 1)))


class Calculator:
    """The formulas of Dashboard and Gemeenten over one master's tables."""

    def __init__(self, source) -> None:
        self.source = source
        self.labels = [str(v) for v in source.table("tblKPI")["Indicator"]]
        verloop = [str(c) for c in source.table("tblVerloop").columns]
        self.kpi_labels = [lab for lab in self.labels if f"{lab} gerealiseerd" in verloop]
        data = source.table("tblData").copy()
        for label in self.labels:
            data[label] = pd.to_numeric(data[label], errors="coerce").fillna(0)
        data["_end"] = [as_date(v) for v in data["Kwartaaleinde"]]
        self.data = data[data["_end"].notna()]
        targets = source.table("tblDoelen").copy()
        targets["Doel"] = pd.to_numeric(targets["Doel"], errors="coerce")
        targets["_from"] = [as_date(v) for v in targets["Geldig vanaf"]]
        targets["_to"] = [as_date(v) for v in targets["Geldig tot"]]
        self.targets = targets[targets["_from"].notna() & targets["_to"].notna()]
        lights = source.table("tblStoplicht")
        self.thresholds = [(str(k), float(v)) for k, v in zip(lights["Kleur"], lights["Vanaf"],
                                                               strict=True)]
        self.quarters = quarters(source)
        self.end_of = dict(self.quarters)

    # -- the formulas -----------------------------------------------------------------------
    def upto(self, day: date) -> pd.DataFrame:
        return self.data[self.data["_end"] <= day]

    def target(self, project: str, at: date, *, code: str = "", label: str = "",
               ) -> tuple[float | None, str, date | None]:
        """Sum of the targets valid at ``at`` (None when none is), their Bron and start."""
        rows = self.targets[(self.targets["Projectcode"] == project)
                            & (self.targets["_from"] <= at) & (self.targets["_to"] >= at)]
        rows = rows[rows["Indicatorcode"] == code] if code else rows[rows["Indicator"] == label]
        if rows.empty:
            return None, "", None
        bron = "; ".join(str(b) for b in rows["Bron"] if str(b).strip())
        return float(rows["Doel"].sum()), bron, min(rows["_from"])

    def light(self, ratio: float | None) -> str:
        if ratio is None:
            return NVT
        for kleur, vanaf in self.thresholds:
            if kleur != "rood" and ratio >= vanaf:
                return kleur
        return "rood"

    def line(self, label: str, realised: float, target: float | None,
             expected: float | None, **extra) -> Line:
        ratio = realised / expected if expected is not None and expected > 0 else None
        return Line(label, realised, target, expected, ratio, self.light(ratio), **extra)

    # -- the report's figures ----------------------------------------------------------------
    def figures(self, peilperiode: str) -> ReportFigures:
        day = self.end_of[peilperiode]
        upto = self.upto(day)
        start, end = self.source.programme_start, self.source.programme_end
        kpi = []
        for label in self.labels:
            target, bron, since = self.target(PROGRAMME_KEY, day, label=label)
            expected = None if target is None else target * share(day, start, end)
            kpi.append(self.line(label, float(upto[label].sum()), target, expected,
                                 source=bron, valid_from=since))
        return ReportFigures(peilperiode, day, self.labels, self.kpi_labels, kpi,
                             self._projects(peilperiode, day, upto),
                             self._municipalities(upto), self._trend(day))

    def _projects(self, peilperiode: str, day: date, upto: pd.DataFrame) -> list[ProjectLine]:
        info = self.source.table("tblProjectinfo")
        sums = upto.groupby("Projectcode")[self.labels].sum()
        notes = _notes(self.source.table(NOTES_TABLE), peilperiode)
        remarks = _remarks(self.data, peilperiode)
        result = []
        for row in info.to_dict("records"):
            if str(row["Status"]) == "on hold":
                continue
            code = str(row["Projectcode"])
            figures = {lab: float(sums.at[code, lab]) if code in sums.index else 0.0
                       for lab in self.labels}
            stuur_code, stuur = str(row["Stuurindicatorcode"]), str(row["Stuurindicator"])
            begin, finish = as_date(row["Start"]), as_date(row["Eind"])
            target = None
            if stuur_code and begin is not None and day >= begin:
                target = self.target(code, day, code=stuur_code)[0]
            expected = (None if target is None or begin is None or finish is None
                        else target * share(day, begin, finish))
            line = self.line(stuur, figures.get(stuur, 0.0) if stuur_code else 0.0, target,
                             expected)
            if not stuur_code:
                line.ratio, line.light = None, NVT
            note = notes.get(code, {})
            result.append(ProjectLine(
                code, str(row["Project"]), str(row["Status"]), figures,
                stuur if stuur_code else "", line, text=note.get("Tekst", ""),
                hand_light=note.get("Eigen stoplicht", ""), reason=note.get("Reden", ""),
                remarks=remarks.get(code, [])))
        return result

    def _municipalities(self, upto: pd.DataFrame) -> pd.DataFrame:
        names = [str(n) for n in self.source.table("tblGemeenten")["Gemeente"]]
        sums = upto.groupby("Gemeente")[self.labels].sum()
        delivered = upto.groupby("Gemeente")["Periode"].nunique()
        frame = sums.reindex(names).fillna(0)
        frame["Kwartalen geleverd"] = delivered.reindex(names).fillna(0).astype(int)
        return frame

    def _trend(self, day: date) -> pd.DataFrame:
        start, end = self.source.programme_start, self.source.programme_end
        rows = []
        for quarter, quarter_end in self.quarters:
            row: dict[object, object] = {"Kwartaal": quarter, "Kwartaaleinde": quarter_end}
            upto = self.upto(quarter_end)
            for label in self.kpi_labels:
                row[(label, "gerealiseerd")] = (float(upto[label].sum())
                                                if quarter_end <= day else None)
                target = self.target(PROGRAMME_KEY, quarter_end, label=label)[0]
                row[(label, "verwacht")] = (None if target is None
                                            else target * share(quarter_end, start, end))
            rows.append(row)
        return pd.DataFrame(rows).set_index("Kwartaal", drop=False)


def _clean(value: object) -> str:
    return "" if value is None else mask_text(str(value).strip())


def _notes(table: pd.DataFrame, peilperiode: str) -> dict[str, dict[str, str]]:
    """Projectcode → the analyst's row for ``peilperiode`` (texts masked)."""
    notes: dict[str, dict[str, str]] = {}
    if table.empty or "Projectcode" not in table:
        return notes
    for row in table.to_dict("records"):
        # "2021 Q4" or "Q4 2021" typed by hand counts as 2021-Q4.
        if parse_period(str(row.get("Peilperiode", "")).strip()) != peilperiode:
            continue
        light = str(row.get("Eigen stoplicht", "") or "").strip().lower()
        notes.setdefault(str(row["Projectcode"]).strip(), {
            "Tekst": _clean(row.get("Tekst")), "Reden": _clean(row.get("Reden")),
            "Eigen stoplicht": light if light in ("groen", "oranje", "rood") else ""})
    return notes


def _remarks(data: pd.DataFrame, peilperiode: str) -> dict[str, list[tuple[str, str]]]:
    """Projectcode → (Gemeente, remark) of the municipalities for ``peilperiode``, masked."""
    result: dict[str, list[tuple[str, str]]] = {}
    rows = data[data["Periode"].astype(str) == peilperiode]
    for code, gemeente, text in zip(rows["Projectcode"], rows["Gemeente"], rows["Toelichting"],
                                    strict=True):
        if text is not None and str(text).strip():
            result.setdefault(str(code), []).append((str(gemeente), _clean(text)))
    return result
