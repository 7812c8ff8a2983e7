"""The Consolideer button's Python side: what ``RunPython`` calls from the master workbook
(:func:`consolideer`, in :mod:`.button`). Importing it does not import xlwings.
"""

from xlmonitor.excel.button import consolideer

__all__ = ["consolideer"]
