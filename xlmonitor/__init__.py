"""xlmonitor: validate municipalities' Excel workbooks and consolidate them into one monitor.

The public surface, used by the command line, the Excel button and the scheduled job alike::

    programme = load_programme()                      # workbooks/programma.xlsx
    result = consolidate("inbox", programme)          # read, validate, merge
    write_master(result, "master.xlsx")               # dashboard, register, findings, data
"""

from xlmonitor.consolidate import Consolidation, consolidate
from xlmonitor.errors import XlmonitorError
from xlmonitor.export import export_dashboard, export_tables
from xlmonitor.findings import Finding
from xlmonitor.intake import Submission, read_submission
from xlmonitor.layouts import load_layouts
from xlmonitor.periods import parse_period
from xlmonitor.programme import Programme, build_programme_workbook, load_programme
from xlmonitor.publish import write_master
from xlmonitor.template import build_template, build_templates
from xlmonitor.validate import Validation, validate_submission

__version__ = "0.1.0"

__all__ = [
    "Consolidation",
    "Finding",
    "Programme",
    "Submission",
    "Validation",
    "XlmonitorError",
    "__version__",
    "build_programme_workbook",
    "build_template",
    "build_templates",
    "consolidate",
    "export_dashboard",
    "export_tables",
    "load_layouts",
    "load_programme",
    "parse_period",
    "read_submission",
    "validate_submission",
    "write_master",
]
