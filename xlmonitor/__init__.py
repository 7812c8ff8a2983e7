"""xlmonitor: validate municipalities' Excel workbooks and consolidate them into one monitor.

The public surface, used by the command line, the Excel button and the scheduled job alike::

    programme = load_programme()                      # workbooks/programma.xlsx
    result = consolidate("inbox", programme)          # read, validate, merge
    write_master(result, "master.xlsx")               # dashboard, register, findings, data
    write_report("master.xlsx", "Monitor.docx")       # the Monitor for the councils

The subpackages are the stages of the pipeline (``docs/architecture.md``): programme ·
template · intake · validation · consolidation · master · feedback · export · run · excel ·
report.
The names below load their stage on first use, so ``xlmonitor --help`` starts without pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from xlmonitor._version import __version__

#: Public name → the module that defines it.
_EXPORTS = {
    "Consolidation": "xlmonitor.consolidation.merge",
    "consolidate": "xlmonitor.consolidation.merge",
    "XlmonitorError": "xlmonitor.errors",
    "export_dashboard": "xlmonitor.export.outputs",
    "export_tables": "xlmonitor.export.outputs",
    "Finding": "xlmonitor.findings",
    "Submission": "xlmonitor.intake.submission",
    "read_submission": "xlmonitor.intake.read",
    "load_layouts": "xlmonitor.intake.layouts",
    "parse_period": "xlmonitor.periods",
    "Programme": "xlmonitor.programme.definition",
    "build_programme_workbook": "xlmonitor.programme.definition",
    "load_programme": "xlmonitor.programme.definition",
    "write_master": "xlmonitor.master.publish",
    "write_report": "xlmonitor.report.monitor",
    "build_template": "xlmonitor.template.standard",
    "build_templates": "xlmonitor.template.standard",
    "Validation": "xlmonitor.validation.checks",
    "validate_submission": "xlmonitor.validation.checks",
}

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
    "write_report",
]

if TYPE_CHECKING:  # what type checkers and readers see; at run time __getattr__ loads them
    from xlmonitor.consolidation.merge import Consolidation, consolidate
    from xlmonitor.errors import XlmonitorError
    from xlmonitor.export.outputs import export_dashboard, export_tables
    from xlmonitor.findings import Finding
    from xlmonitor.intake.layouts import load_layouts
    from xlmonitor.intake.read import read_submission
    from xlmonitor.intake.submission import Submission
    from xlmonitor.master.publish import write_master
    from xlmonitor.periods import parse_period
    from xlmonitor.programme.definition import Programme, build_programme_workbook, load_programme
    from xlmonitor.report.monitor import write_report
    from xlmonitor.template.standard import build_template, build_templates
    from xlmonitor.validation.checks import Validation, validate_submission


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlmonitor' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
