""""Sinds de vorige monitor": each programme figure against the peilperiode two quarters
earlier (the monitor is half-yearly), and highlight sentences derived from the figures
only: lights that changed, the largest contributions. Nothing is added that the tables do
not say."""

from __future__ import annotations

from dataclasses import dataclass

from xlmonitor.report.figures import NVT, Calculator, ReportFigures
from xlmonitor.report.text import listing, number, percentage, signed, whole

#: Contributions named per indicator in a highlight sentence.
TOP = 3


@dataclass
class Change:
    label: str
    previous: float
    now: float
    previous_light: str
    light: str

    @property
    def difference(self) -> float:
        return self.now - self.previous


def previous_period(calculator: Calculator, peilperiode: str) -> str | None:
    """The quarter two before ``peilperiode`` in ``tblKwartalen`` (None at the start)."""
    names = [q for q, _ in calculator.quarters]
    at = names.index(peilperiode)
    return names[at - 2] if at >= 2 else None


def changes(now: ReportFigures, before: ReportFigures) -> list[Change]:
    """One row per programme indicator: realised then and now, light then and now."""
    old = {line.label: line for line in before.kpi}
    return [Change(line.label, old[line.label].realised, line.realised,
                   old[line.label].light, line.light) for line in now.kpi]


def highlights(now: ReportFigures, before: ReportFigures) -> list[str]:
    """Sentences for "Sinds de vorige monitor", in a fixed order: programme lights, project
    lights that changed, then per charted indicator the largest contributions by project
    and by municipality."""
    since = before.peilperiode
    sentences = []
    old_kpi = {line.label: line for line in before.kpi}
    for line in now.kpi:
        if line.light == NVT:
            continue
        was = old_kpi[line.label]
        if was.light != line.light:
            sentences.append(f"{line.label}: het stoplicht ging van {was.light} naar "
                             f"{line.light} ({percentage(line.ratio)} van verwacht).")
        else:
            sentences.append(f"{line.label}: het stoplicht bleef {line.light} "
                             f"({percentage(was.ratio)} → {percentage(line.ratio)} van "
                             "verwacht).")
    old_projects = {p.code: p for p in before.projects}
    turned = [(p, old_projects[p.code]) for p in now.projects
              if p.code in old_projects and old_projects[p.code].line.light != p.line.light]
    for project, was in turned:
        sentences.append(f"{project.name}: het stoplicht ging van {was.line.light} naar "
                         f"{project.line.light}.")
    if not turned:
        sentences.append(f"Geen project veranderde van stoplicht sinds {since}.")
    for label in now.kpi_labels:
        sentence = _contributions(now, before, label)
        if sentence:
            sentences.append(sentence)
    return sentences


def _contributions(now: ReportFigures, before: ReportFigures, label: str) -> str:
    old = {p.code: p.figures[label] for p in before.projects}
    grown = [(p.figures[label] - old.get(p.code, 0.0), i, p.name)
             for i, p in enumerate(now.projects)]
    grown = sorted((g for g in grown if whole(g[0]) > 0), key=lambda g: (-g[0], g[1]))[:TOP]
    total = (next(k.realised for k in now.kpi if k.label == label)
             - next(k.realised for k in before.kpi if k.label == label))
    if whole(total) <= 0 or not grown:
        return ""
    towns = (now.municipalities[label] - before.municipalities[label]).round(6)
    best = towns[towns == towns.max()].index.tolist() if len(towns) else []
    text = (f"{label}: {signed(total)} sinds {before.peilperiode}; de grootste bijdragen "
            f"kwamen van {listing([f'{name} ({signed(g)})' for g, _, name in grown])}")
    if best and whole(towns.max()) > 0:
        text += (f"; per gemeente het meest uit {listing(best)} "
                 f"({signed(towns.max())})")
    return text + "."


__all__ = ["Change", "changes", "highlights", "number", "previous_period"]
