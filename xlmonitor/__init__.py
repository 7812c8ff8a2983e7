"""xlmonitor: validate municipalities' Excel workbooks and consolidate them into one monitor."""

from xlmonitor.errors import XlmonitorError
from xlmonitor.findings import Finding
from xlmonitor.periods import parse_period
from xlmonitor.programme import Programme, build_programme_workbook, load_programme

__version__ = "0.1.0"

__all__ = [
    "Finding",
    "Programme",
    "XlmonitorError",
    "build_programme_workbook",
    "load_programme",
    "parse_period",
    "__version__",
]
