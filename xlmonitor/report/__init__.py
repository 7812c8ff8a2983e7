"""The report stage: the half-yearly Monitor for the councils (``xlmonitor rapport``), a Word
document (and PDF) made from a master workbook's own tables (:mod:`.source`), with the
Dashboard's figures at a peilperiode (:mod:`.figures`), the changes since two quarters
earlier (:mod:`.changes`), trend charts (:mod:`.charts`) and the analyst's explanation per
project from the master's sheet Toelichting. :mod:`.monitor` writes it.
"""

from xlmonitor.report.monitor import report_contents, write_report

__all__ = ["report_contents", "write_report"]
