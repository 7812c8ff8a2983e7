"""Feedback for the municipality: a copy of its own file with the offending cells marked
and commented, and a first sheet *Controle* listing what to fix (:mod:`.marked_copy`); personal
data masked in every place of it (:mod:`.masking`).
"""

from xlmonitor.feedback.marked_copy import feedback_path, write_feedback_copy

__all__ = ["feedback_path", "write_feedback_copy"]
