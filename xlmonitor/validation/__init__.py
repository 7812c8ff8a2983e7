"""Validation: pandera schemas (:mod:`.schemas`, lazy: all failures at once) and the
programme's rules (:mod:`.checks`) turn a submission's rows into findings and clean rows.
"""

from xlmonitor.validation.checks import Validation, validate_submission, validate_submissions

__all__ = ["Validation", "validate_submission", "validate_submissions"]
