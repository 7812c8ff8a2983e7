"""The one exception hierarchy of xlmonitor.

Findings are data (see :mod:`xlmonitor.findings`); exceptions are only for work that cannot go
on. Every exception carries a Dutch message for the user, naming the file, sheet and range
where it can.
"""

from __future__ import annotations


class XlmonitorError(Exception):
    """Base of every error xlmonitor raises on purpose. ``str(err)`` is Dutch, for users."""

    exit_code = 1


class UsageError(XlmonitorError):
    """Bad input on the command line (unknown municipality, period ``2021-Q5``, ...)."""

    exit_code = 2


class ProgrammeError(XlmonitorError):
    """The programme workbook is unreadable or breaks its schema."""

    exit_code = 2


class WriteError(XlmonitorError):
    """A result could not be written (master locked, open in Excel, disk full)."""

    exit_code = 3


class BusyError(WriteError):
    """Another consolidation of the same master held the lock longer than this one waits."""


class LibreOfficeError(XlmonitorError):
    """Headless LibreOffice is missing or failed to convert a file."""

    exit_code = 1
