"""Exports of a written master: the Dashboard as a one-page PDF or PNG for the council
letter (recalculated by LibreOffice), the tables as tidy CSV/Parquet for Power BI
(:mod:`.outputs`).
"""

from xlmonitor.export.outputs import export_dashboard, export_tables

__all__ = ["export_dashboard", "export_tables"]
