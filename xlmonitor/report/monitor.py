"""``xlmonitor rapport``: the half-yearly Monitor for the councils, from a master workbook.

:func:`write_report` reads the master (:func:`~xlmonitor.report.source.read_master`),
computes the figures at the peilperiode and two quarters earlier from the master's own tables
(:mod:`xlmonitor.report.figures`), lays out the Word document
(:mod:`xlmonitor.report.document`) and writes it atomically; with ``pdf`` LibreOffice also
exports it for the website.
"""

from __future__ import annotations

import io
from pathlib import Path

from xlmonitor.atomic import replace_atomically
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.periods import parse_period


def report_contents(master: str | Path, peilperiode: str | None = None):
    """The :class:`~xlmonitor.report.document.Contents` of the report on ``master`` at
    ``peilperiode`` (default: the peilperiode chosen on the master's Dashboard)."""
    from xlmonitor.report.changes import changes, highlights, previous_period
    from xlmonitor.report.delivery import accounts, delivery
    from xlmonitor.report.document import Contents
    from xlmonitor.report.figures import Calculator
    from xlmonitor.report.source import read_master

    source = read_master(master)
    calculator = Calculator(source)
    known = [q for q, _ in calculator.quarters]
    chosen = source.peilperiode if peilperiode is None else parse_period(peilperiode)
    if chosen not in known:
        raise UsageError(f"Peilperiode '{peilperiode}' is onbekend in {source.path.name}; "
                         f"kies uit {known[0]} t/m {known[-1]}.")
    figures = calculator.figures(chosen)
    earlier = previous_period(calculator, chosen)
    before = calculator.figures(earlier) if earlier else None
    data = source.table("tblData")
    return Contents(
        source=source, figures=figures, previous=before,
        changes=changes(figures, before) if before else [],
        highlights=highlights(figures, before) if before else [],
        delivery=delivery(source, calculator, chosen), accounts=accounts(source),
        reported=bool(len(data)) and chosen in set(data["Periode"].astype(str)))


def write_report(master: str | Path, output: str | Path, *, peilperiode: str | None = None,
                 pdf: str | Path | None = None) -> Path:
    """Write the Monitor on ``master`` to ``output`` (``.docx``) and, with ``pdf``, its PDF
    (headless LibreOffice). Returns ``output``.

    Raises :class:`UsageError` for a missing or foreign workbook or an unknown peilperiode,
    :class:`WriteError` when the document cannot be written (open in Word, read-only folder)
    and :class:`~xlmonitor.errors.LibreOfficeError` when the PDF cannot be made."""
    from xlmonitor.report.document import build_document

    output = Path(output)
    if output.suffix.lower() != ".docx":
        raise UsageError(f"Het rapport '{output.name}' moet de extensie .docx hebben.")
    document = build_document(report_contents(master, peilperiode))
    buffer = io.BytesIO()
    document.save(buffer)
    try:
        replace_atomically(output, lambda tmp: Path(tmp).write_bytes(buffer.getvalue()))
    except OSError as exc:
        raise WriteError(f"Het rapport '{output}' kan niet worden geschreven "
                         f"({exc.strerror or exc}); is het geopend in Word, of is de map "
                         "alleen-lezen?") from exc
    if pdf is not None:
        from xlmonitor.libreoffice import document_to_pdf

        document_to_pdf(output, Path(pdf))
    return output
