"""The Rapport button: what the master workbook's VBA runs through xlwings.

``macros/Consolideren.bas`` (``Rapport``) offers to save the workbook, then calls
``RunPython "import xlmonitor.report.button; xlmonitor.report.button.rapport()"``.
:func:`rapport` writes the Monitor at the peilperiode chosen on the Dashboard as
``Monitor <peilperiode>.docx`` beside the workbook, from the saved file, and says where.
Importing this module does not import xlwings.
"""

from __future__ import annotations

from pathlib import Path

from xlmonitor.errors import XlmonitorError
from xlmonitor.periods import parse_period

TITLE = "Rapport"


def report_path(workbook: Path, peilperiode: str) -> Path:
    """Where the button writes the report: beside the workbook."""
    return workbook.with_name(f"Monitor {peilperiode}.docx")


def rapport(book=None) -> Path | None:
    """Entry point of the Rapport button. ``book`` defaults to ``xlwings.Book.caller()``;
    returns the document written, or None (the user then got a Dutch message)."""
    from xlmonitor.report.monitor import write_report

    if book is None:
        import xlwings

        book = xlwings.Book.caller()
    fullname = str(book.fullname)
    if "://" in fullname:
        book.app.alert("Deze werkmap staat in OneDrive of SharePoint. Zet hem op de gedeelde "
                       "schijf om er een rapport van te maken.", title=TITLE, mode="critical")
        return None
    workbook = Path(fullname)
    workbook = workbook if workbook.is_absolute() else Path.cwd() / workbook
    chosen = None
    if book.names.contains("Peilperiode"):
        chosen = parse_period(book.names["Peilperiode"].refers_to_range.value)
    try:
        from xlmonitor.report.source import read_master

        peilperiode = chosen or read_master(workbook).peilperiode
        output = write_report(workbook, report_path(workbook, peilperiode),
                              peilperiode=peilperiode)
    except XlmonitorError as error:
        book.app.alert(f"Het rapport is niet gemaakt.\n\n{error}", title=TITLE,
                       mode="critical")
        return None
    book.app.alert(f"De Monitor over {peilperiode} staat in:\n{output}\n\nOpen hem in Word om "
                   "de tekst na te lezen voordat hij naar de gemeenteraden gaat.",
                   title=TITLE, mode="info")
    return output
