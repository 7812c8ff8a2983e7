"""Consolidation: a pure function of the inbox. Every file read and validated (in worker
processes, from the content-addressed cache where it can, :mod:`.cache`), the newest valid
submission per municipality × quarter wins, the register says what happened to every file
(:mod:`.merge`); files still being copied wait for the next run (:mod:`.arrival`).
"""

from xlmonitor.consolidation.arrival import ArrivalGuard
from xlmonitor.consolidation.cache import SubmissionCache
from xlmonitor.consolidation.merge import Consolidation, consolidate, inbox_files

__all__ = ["ArrivalGuard", "Consolidation", "SubmissionCache", "consolidate", "inbox_files"]
