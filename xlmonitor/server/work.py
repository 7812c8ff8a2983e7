"""What one click asks of the server: the workbook xlwings' ``RunServerPython`` posted →
xlwings' remote ``Book`` → the nightly job's run (:func:`~xlmonitor.run.schedule.run_consolidation`:
its lock, arrival guard, log and feedback copies) → the actions that refresh the open workbook,
made by the button's own code (:func:`xlmonitor.excel.button.refresh_book`).

No web framework here: :class:`Consolidator` takes a parsed payload and gives an
:class:`Answer` (HTTP status, body, outcome), so the rules are testable without a socket.

* **One consolidation at a time.** A click while another click is being consolidated gets
  at once the Dutch answer that the server is busy (no second run). A click while another
  process holds the run's lock (the nightly job, ``xlmonitor consolidate``, a click through
  RunPython) waits ``[server] wacht_seconden``, then gets the same kind of answer.
* **The master file is not written**: like the button, the server refreshes the *open*
  workbook (``publish=`` of ``run_consolidation`` is a no-op); the analyst saves it.
* Refusals and failures the user must read come back as xlwings actions too (the Status
  cell and a Dutch message box, HTTP 200), because ``RunServerPython`` shows any other answer
  as a bare "Error" box. A payload that is not xlwings' is a 400.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from xlmonitor.errors import BusyError, XlmonitorError
from xlmonitor.excel import button
from xlmonitor.master.contract import SERVER_SHEETS, TABLE_SHEETS
from xlmonitor.run.settings import ServerSettings, Settings, with_overrides
from xlmonitor.texts import text

__all__ = ["Answer", "Consolidator", "alert_action", "open_remote_book"]

log = logging.getLogger("xlmonitor.server")

#: Actions xlwings' VBA client (``addin/Remote.bas``) runs with ``Application.Run``: the
#: server answers no other. ``calculate`` (the button's ``book.app.calculate()``) has no Sub
#: there; Excel recalculates by itself after the values change.
CLIENT_ACTIONS = frozenset({"setValues", "rangeClearContents", "resizeTable", "alert"})
LICENSE_VARIABLE, LICENSE = "XLWINGS_LICENSE_KEY", "noncommercial"

#: xlwings' remote engine keeps one "active" book: ``book.app.alert`` lands there. Every
#: use of a remote book holds this lock, so two requests never mix their actions.
_BOOKS = threading.Lock()


@dataclass
class Answer:
    """What the server answers: HTTP ``status``, JSON ``body`` (xlwings' ``{"actions": …}``)
    or Dutch text, and ``outcome`` (``bijgewerkt``, ``bezig``, ``mislukt``, ``ongeldig``)."""

    status: int
    body: dict | str
    outcome: str


# -- xlwings' remote engine -----------------------------------------------------------------

def _remote_engine():
    """xlwings with its remote engine registered. It is licensed PolyForm Noncommercial,
    which allows government institutions: key ``noncommercial`` unless one is set."""
    os.environ.setdefault(LICENSE_VARIABLE, LICENSE)
    import xlwings

    if "remote" not in [engine.name for engine in xlwings.engines]:
        # xlwings was imported before the key was set: register the engine as its
        # __init__ does (importing _xlremote validates the key now).
        from xlwings.main import Engine
        from xlwings.pro import _xlremote

        xlwings.engines.add(Engine(impl=_xlremote.engine))
    return xlwings


@contextmanager
def open_remote_book(payload: dict) -> Iterator[object]:
    """``xlwings.Book(json=payload)``, closed afterwards (the engine keeps every book open
    otherwise). Raises ``xlwings.XlwingsError`` for another client version, ``KeyError`` /
    ``TypeError`` for a payload that is not xlwings'."""
    xlwings = _remote_engine()
    with _BOOKS:
        book = xlwings.Book(json=payload)
        try:
            yield book
        finally:
            book.close()


def actions_of(book) -> list[dict]:
    return [a for a in book.json()["actions"] if a["func"] in CLIENT_ACTIONS]


def alert_action(prompt: str, *, critical: bool = True) -> dict:
    """An ``alert`` action as xlwings' remote engine writes it (``App.alert``), for answers
    without a book (a payload of another xlwings version)."""
    return {"func": "alert",
            "args": [prompt, text("knop.titel"), "ok", "critical" if critical else "info", ""],
            "values": None, "sheet_position": None, "start_row": None, "start_column": None,
            "row_count": None, "column_count": None}


def _missing_tables(book) -> list[str]:
    """``tblX op blad Y`` for each table the refresh needs that the posted book lacks."""
    sheets = {sheet.name: sheet for sheet in book.sheets}
    missing = []
    for table, sheet in TABLE_SHEETS.items():
        if sheet not in sheets or table not in [t.name for t in sheets[sheet].tables]:
            missing.append(f"{table} op blad {sheet}")
    return missing


# -- the work -------------------------------------------------------------------------------

class Consolidator:
    """The server's state: the run's settings, the one-click-at-a-time lock and the last
    outcome (``GET /status``)."""

    def __init__(self, settings: Settings, server: ServerSettings) -> None:
        self.settings = with_overrides(settings, lock_wait=server.lock_wait)
        self.server = server
        self._running = threading.Lock()
        self.started: datetime | None = None
        self.last: dict | None = None

    @property
    def busy(self) -> bool:
        return self._running.locked()

    def status(self) -> dict:
        """For IT's monitoring and the button's first look: busy, versions, the last click."""
        from importlib.metadata import version

        return {"bezig": self.busy,
                "sinds": self.started.isoformat(timespec="seconds") if self.started else None,
                "xlmonitor": version("xlmonitor"), "xlwings": _remote_engine().__version__,
                "master": str(self.settings.master), "inbox": str(self.settings.inbox),
                "log": str(self.settings.log), "laatste": self.last}

    def consolideer(self, payload: object, *, now: datetime | None = None) -> Answer:
        """One click: the answer to ``POST /consolideer`` with the parsed JSON ``payload``."""
        when = now or datetime.now().replace(microsecond=0)
        xlwings = _remote_engine()
        try:
            with open_remote_book(payload) as book:  # type: ignore[arg-type]
                missing = _missing_tables(book)
        except xlwings.XlwingsError:  # another version of xlwings' VBA
            client = payload.get("version", "?") if isinstance(payload, dict) else "?"
            return self._refused(None, when, f"Deze werkmap hoort bij xlwings {client}, de "
                                 f"server heeft xlwings {xlwings.__version__}. Vraag functioneel "
                                 "beheer om de server en de werkmap dezelfde xlwings-versie te "
                                 "geven.")
        except (KeyError, TypeError, IndexError, AttributeError, ValueError):
            return Answer(400, "Dit is geen werkmap zoals xlwings' RunServerPython die "
                               "stuurt.", "ongeldig")
        if missing:
            return self._refused(None, when, "Deze werkmap is geen master van xlmonitor, of "
                                 f"stuurde niet de bladen {', '.join(SERVER_SHEETS)}: "
                                 f"{'; '.join(missing)} ontbreekt.")
        if not self._running.acquire(blocking=False):
            since = f" (sinds {self.started:%H:%M:%S})" if self.started else ""
            return self._refused(payload, when, "Er loopt al een consolidatie op de server"
                                 f"{since}: iemand anders klikte net op Consolideer. Er is "
                                 "niets gewijzigd; probeer het over een minuut opnieuw.",
                                 outcome="bezig")
        try:
            self.started = when
            return self._run(payload, when)
        finally:
            self.started = None
            self._running.release()

    def _run(self, payload, when: datetime) -> Answer:
        from xlmonitor.run.schedule import run_consolidation

        try:
            result = run_consolidation(self.settings, publish=lambda consolidation: None,
                                       origin="knop via server")
        except BusyError:
            return self._refused(payload, when, "Er loopt al een consolidatie van de master "
                                 "(de nachtelijke verwerking of een andere knop); na "
                                 f"{self.settings.lock_wait:g} seconden wachten is deze klik "
                                 "gestopt. Er is niets gewijzigd; probeer het over een paar "
                                 "minuten opnieuw.", outcome="bezig")
        except XlmonitorError as error:
            return self._refused(payload, when, str(error))
        with open_remote_book(payload) as book:
            button.refresh_book(book, result, when, via="server")
            book.app.alert(self._message(result), title=text("knop.titel"), mode="info")
            actions = actions_of(book)
        summary = {"tijd": when.isoformat(timespec="seconds"), "uitkomst": "bijgewerkt",
                   "seconden": round(result.seconds, 2), **result.summary()}
        self.last = summary
        return Answer(200, {"actions": actions, "uitkomst": "bijgewerkt"}, "bijgewerkt")

    def _message(self, result) -> str:
        """The button's own summary (:func:`xlmonitor.excel.button.message`), saying where."""
        return (f"Geconsolideerd op de xlmonitor-server ({socket.gethostname()}).\n\n"
                + button.message(result))

    def _refused(self, payload, when: datetime, reason: str, *,
                 outcome: str = "mislukt") -> Answer:
        """The Status cell says it was not refreshed and why; a Dutch message box."""
        message = f"Het consolideren via de server is niet gelukt.\n\n{reason}"
        if payload is None:
            actions = [alert_action(message)]
        else:
            with open_remote_book(payload) as book:
                button.status_cell(book).value = (
                    f"'Niet bijgewerkt ({when:%d-%m-%Y %H:%M}): {reason}")
                book.app.alert(message, title=text("knop.titel"), mode="critical")
                actions = actions_of(book)
        if outcome != "bezig":  # the run that made it busy gets to be the last one
            self.last = {"tijd": when.isoformat(timespec="seconds"), "uitkomst": outcome,
                         "melding": reason}
        log.info(f"klik niet verwerkt ({outcome})")
        return Answer(200, {"actions": actions, "uitkomst": outcome}, outcome)
