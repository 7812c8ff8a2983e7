"""What a run tells its users, made in one place from one :class:`RunResult`: the lines the
command line prints, the Consolideer button shows and the server returns
(:func:`report_lines`), the button's status cell (:func:`status_text`) and the log's lines
(:func:`file_lines`, :func:`summary_line`). Every text comes from the catalogue
(:mod:`xlmonitor.texts`).

Every file that does not count is named with its reason (:func:`uncounted`): ``afgekeurd``
(how many errors), ``vergrendeld`` (which quarter, since when, the lock's reason), ``dubbel``
(of which file), ``vervangen`` (by which file), ``in aanvoer`` and ``overgeslagen`` (why).

Exit codes (:attr:`RunResult.exit_code`): 0 when every submitted file counts or was only
superseded, duplicated, still arriving or skipped as no submission; 1 when a file was refused
by a rule (``afgekeurd`` or ``vergrendeld``) or a finding is an error; 3 when a feedback copy
could not be written. ``dubbel`` and ``vervangen`` are 0: the figures are complete (the same
bytes count once; a newer submission replaces an older one, as municipalities are told to do).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from xlmonitor.consolidation.merge import Consolidation
from xlmonitor.privacy import shown_file_name
from xlmonitor.run.settings import Settings
from xlmonitor.texts import text

__all__ = ["REFUSED", "RunResult", "Uncounted", "report_lines", "status_text", "uncounted"]

#: Statuses of a file refused by a rule: such a run exits 1.
REFUSED = ("afgekeurd", "vergrendeld")
#: At most this many quarters with missing municipalities are listed (the latest).
MISSING_QUARTERS_SHOWN = 2


@dataclass
class RunResult:
    settings: Settings
    consolidation: Consolidation
    changed: bool                       # False: the new master equalled the old one
    archived: Path | None = None        # where the previous master was copied
    feedback: list[Path] = field(default_factory=list)
    feedback_failed: list[str] = field(default_factory=list)  # file names (real: keys)
    in_transit: list[str] = field(default_factory=list)       # file names (real: keys)
    seconds: float = 0.0
    origin: str = "opdrachtregel"       # who started it (log): opdrachtregel, knop, server…
    in_book: bool = False               # published into an open workbook, not the file
    waited: float = 0.0                 # seconds waited for another run's lock
    holder: str = ""                    # " (gestart … op HOST, proces N)" of that run

    @property
    def master(self) -> Path:
        return self.settings.master

    @property
    def exit_code(self) -> int:
        """3 when a feedback copy could not be written; 1 when a file was refused by a rule
        (afgekeurd, vergrendeld) or a finding is an error; else 0 (module docstring)."""
        if self.feedback_failed:
            return 3
        s = self.summary()
        return 1 if s["afgekeurd"] or s["vergrendeld"] or s["fouten"] else 0

    def summary(self) -> dict:
        """The run in a few figures and lists (``--json``); file names as xlmonitor shows them
        (personal data masked). ``peilperiode`` is None when no file counts."""
        result, register = self.consolidation, self.consolidation.shown_register()
        shown = result.shown_findings()
        by_status = {s: register.loc[register["Status"] == s, "Bestand"].tolist()
                     for s in ("ontvangen", "afgekeurd", "vervangen", "vergrendeld")}
        accepted = bool(by_status["ontvangen"])
        return {
            "master": str(self.master),
            "gewijzigd": self.changed,
            "archief": str(self.archived) if self.archived else None,
            "peilperiode": (self.settings.peilperiode or result.peilperiode) if accepted
            else None,
            "geaccepteerd": by_status["ontvangen"],
            "afgekeurd": by_status["afgekeurd"],
            "vervangen": by_status["vervangen"],
            "vergrendeld": by_status["vergrendeld"],
            "in_aanvoer": [shown_file_name(name) for name in self.in_transit],
            "overig": register.loc[~register["Status"].isin(list(by_status)),
                                   ["Bestand", "Status"]].values.tolist(),
            "telt_niet_mee": [{"bestand": u.file, "status": u.status, "reden": u.reason}
                              for u in uncounted(result)],
            "rijen": len(result.data),
            # As users read them (cells grouped into ranges), as validate --json lists them.
            "bevindingen": len(shown),
            "fouten": sum(f.is_error for f in shown),
            "terugkoppeling": [str(p) for p in self.feedback],
            "terugkoppeling_mislukt": [shown_file_name(name) for name in self.feedback_failed],
            "gewacht_seconden": round(self.waited, 1),
            "log": str(self.settings.log),
        }

    def report_lines(self) -> list[str]:
        """See :func:`report_lines`."""
        return report_lines(self)


# -- files that do not count ------------------------------------------------------------------

@dataclass(frozen=True)
class Uncounted:
    file: str     # as xlmonitor shows it (personal data masked)
    status: str   # the register's status
    reason: str   # Dutch: why it does not count


def uncounted(consolidation: Consolidation) -> list[Uncounted]:
    """Every file in the register that does not count, with its reason, in register order."""
    found = []
    for row in consolidation.register.to_dict("records"):
        status = row["Status"]
        if status == "ontvangen":
            continue
        name = row["Bestand"]
        found.append(Uncounted(shown_file_name(name), status,
                               _reason(consolidation, name, status, row)))
    return found


def _reason(consolidation: Consolidation, name: str, status: str, row: dict) -> str:
    findings = consolidation.file_findings.get(name, [])
    other = row["Vervangen door"] or ""
    if status == "afgekeurd":
        return text("reden.afgekeurd", errors=row["Fouten"])
    if status == "vergrendeld":
        return "; ".join(_locked(consolidation, f.params) for f in findings
                         if f.code == "periode-vergrendeld") or text("reden.vergrendeld-kort")
    if status == "dubbel":
        others = [f.params.get("other", "") for f in findings if f.code == "dubbel-bestand"]
        return text("reden.dubbel", other=others[0] if others else "?")
    if status == "vervangen":
        return text("reden.vervangen", other=", ".join(
            shown_file_name(o.strip()) for o in other.split(",")) if other else "?")
    if status == "in aanvoer":
        return text("reden.in-aanvoer")
    if status == "overgeslagen":
        return text("reden.overgeslagen", reason=other)
    return status


def _locked(consolidation: Consolidation, params: dict) -> str:
    period = params.get("period", "")
    since = consolidation.programme.locked_since(period)
    reason = params.get("reason", "")
    shown = f"{since:%d-%m-%Y}" if since is not None else "?"
    if reason and reason != f"sinds {shown}":
        return text("reden.vergrendeld-met-reden", period=period, since=shown, reason=reason)
    return text("reden.vergrendeld", period=period, since=shown)


# -- what users read ----------------------------------------------------------------------------

def report_lines(result: RunResult) -> list[str]:
    """The Dutch summary of a run: a headline (where the result went), then indented lines.
    The command line prints them; the button shows them without the indentation."""
    s = result.summary()
    if result.in_book:
        lines = [text("run.werkmap-bijgewerkt")]
    else:
        lines = [text("run.master-geschreven" if result.changed else "run.master-ongewijzigd",
                      master=result.master)]
    body = []
    if result.waited:
        body.append(text("run.gewacht", holder=result.holder, seconds=_seconds(result.waited)))
    body.append(text("run.aantallen", accepted=len(s["geaccepteerd"]),
                     rejected=len(s["afgekeurd"]), replaced=len(s["vervangen"]),
                     rows=s["rijen"], findings=s["bevindingen"], errors=s["fouten"]))
    if s["peilperiode"] is None:
        body.append(text("run.niets-telt"))
    files = uncounted(result.consolidation)
    if files:
        body.append(text("run.telt-niet-mee", count=len(files)))
        body += [text("run.telt-niet-regel", file=u.file, status=u.status, reason=u.reason)
                 for u in files]
    body += _missing(result.consolidation)
    if result.archived:
        body.append(text("run.archief", path=result.archived))
    if result.feedback:
        body.append(text("run.terugkoppeling", count=len(result.feedback),
                         folder=result.settings.feedback))
    body += [text("run.terugkoppeling-mislukt", file=name)
             for name in s["terugkoppeling_mislukt"]]
    if result.in_book:
        body.append(text("run.werkmap-opslaan"))
    return lines + ["  " + line for line in body]


def _missing(consolidation: Consolidation) -> list[str]:
    matrix = consolidation.matrix
    periods = list(matrix.columns[(matrix == "ontbreekt").any()])
    lines = [text("run.ontbreekt", period=period, municipalities=", ".join(
        matrix.index[matrix[period] == "ontbreekt"].tolist()))
        for period in periods[-MISSING_QUARTERS_SHOWN:]]
    if len(periods) > MISSING_QUARTERS_SHOWN:
        lines.append(text("run.ontbreekt-eerder", count=len(periods) - MISSING_QUARTERS_SHOWN))
    return lines


def status_text(result: RunResult, when: datetime, *, via: str) -> str:
    """The one line in the master's status cell after a run published into the open book:
    ``via`` is how it ran (``knop``, ``server``)."""
    consolidation = result.consolidation
    register = consolidation.register
    files = int((register["Status"] != "overgeslagen").sum()) if len(register) else 0
    shown = consolidation.shown_findings()  # the Validatie sheet's lines
    errors = sum(f.is_error for f in shown)
    line = text("status.bijgewerkt", when=f"{when:%d-%m-%Y %H:%M}", via=text("via." + via),
                files=files, rows=len(consolidation.data), errors=errors,
                warnings=len(shown) - errors)
    if result.feedback:
        line += text("status.terugkoppeling", count=len(result.feedback))
    return line


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}".replace(".", ",")


# -- the log --------------------------------------------------------------------------------------

def file_lines(consolidation: Consolidation) -> Iterator[str]:
    """One log line per file: no cell values, remarks or messages (they can hold personal
    data); for a file that does not count, its reason."""
    reasons = {u.file: u.reason for u in uncounted(consolidation)}
    for row in consolidation.register.to_dict("records"):
        name, status = row["Bestand"], row["Status"]
        codes = Counter(f.code for f in consolidation.file_findings.get(name, []))
        line = text("log.bestand", file=shown_file_name(name),
                    municipality=row["Gemeente"] or "-", periods=row["Periodes"] or "-",
                    status=status, errors=row["Fouten"], warnings=row["Waarschuwingen"])
        if codes:
            line += text("log.codes", codes=", ".join(
                f"{c}×{n}" for c, n in sorted(codes.items())))
        if status != "ontvangen":
            line += text("log.reden", reason=reasons.get(shown_file_name(name), status))
        yield line


def summary_line(result: RunResult) -> str:
    counts = Counter(result.consolidation.register["Status"])
    files = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or text(
        "log.geen")
    master = text("log.werkmap-bijgewerkt" if result.in_book else (
        "log.master-bijgewerkt" if result.changed else "log.master-ongewijzigd"))
    if result.archived:
        master += text("log.archief", name=result.archived.name)
    feedback = text("log.terugkoppeling", count=len(result.feedback)) if result.feedback \
        else ""
    return text("log.klaar", origin=result.origin, count=sum(counts.values()), files=files,
                rows=len(result.consolidation.data), master=master, feedback=feedback,
                seconds=f"{result.seconds:.1f}".replace(".", ","))
