"""The unattended run on the shared drive: ``xlmonitor.toml`` (:mod:`.settings`), one run
under a lock with a log (:mod:`.schedule`), and the master replaced safely, previous one
archived, never while it is open (:mod:`.masterfile`).
"""

from xlmonitor.run.schedule import RunResult, run_consolidation, schedule_commands, watch
from xlmonitor.run.settings import Settings, resolve_settings

__all__ = ["RunResult", "Settings", "resolve_settings", "run_consolidation", "schedule_commands",
           "watch"]
