"""The one consolidation run of every entry point (command line and nightly job, ``watch``, the
Consolideer button, the server): ``xlmonitor.toml`` → :class:`Settings` (:mod:`.settings`),
one run under a lock with the arrival guard and a log (:func:`run_consolidation`,
:mod:`.schedule`), published into the master file, replaced safely, previous one archived,
never while it is open (:mod:`.masterfile`), or by the caller's ``publish`` into an open
workbook; what the run tells users (:mod:`.summary`).
"""

from xlmonitor.run.schedule import Publisher, run_consolidation, schedule_commands, watch
from xlmonitor.run.settings import Settings, resolve_settings
from xlmonitor.run.summary import RunResult, report_lines, uncounted

__all__ = ["Publisher", "RunResult", "Settings", "report_lines", "resolve_settings",
           "run_consolidation", "schedule_commands", "uncounted", "watch"]
