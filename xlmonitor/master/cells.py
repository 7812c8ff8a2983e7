"""Writing one value of a submission into the master: typed (text, number, date, date-time),
and never as a formula (the quote prefix keeps ``=1+1`` text even when edited in Excel)."""

from __future__ import annotations

import math
from datetime import date, datetime, time

import pandas as pd

from xlmonitor.master.datasheet import RISKY_START
from xlmonitor.master.styles import Styles, excel_serial

#: Last row (0-based) of a worksheet: conditional formats on a table column reach it, so the
#: rows the Consolideer button adds to the table are coloured too.
LAST_ROW = 1_048_575
_EPOCH = datetime(1899, 12, 30)


def is_missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, str)) else False
    except (TypeError, ValueError):
        return False


def write_text(sheet, row: int, col: int, text: str, styles: Styles, fmt=None) -> None:
    # Submitted text: always write_string. The quote prefix keeps "=1+1" text even when a
    # user later edits the cell in Excel.
    if text.startswith(RISKY_START):
        fmt = styles.quoted
    sheet.write_string(row, col, text, fmt)


def wrapped_height(texts: list[str], widths: list[float]) -> float | None:
    """Row height (points) for wrapped ``texts`` in columns of ``widths`` characters, or None
    for one line. LibreOffice does not grow rows for wrapped text on load, so we do."""
    lines = max((math.ceil(len(t) / max(w * 1.15, 1)) for t, w in zip(texts, widths, strict=True)
                 if t), default=1)
    return 13.0 * lines + 2 if lines > 1 else None


def write_value(sheet, row: int, col: int, value: object, styles: Styles) -> None:
    """One register/finding value, typed: text, number, date or date-time."""
    if is_missing(value):
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, "ja" if value else "nee")
    elif isinstance(value, (datetime, pd.Timestamp)):
        moment = pd.Timestamp(value).tz_localize(None) if pd.Timestamp(value).tzinfo else \
            pd.Timestamp(value)
        serial = (moment.to_pydatetime() - _EPOCH).total_seconds() / 86400
        fmt = styles.date if moment.time() == time() else styles.datetime
        sheet.write_number(row, col, serial, fmt)
    elif isinstance(value, date):
        sheet.write_number(row, col, excel_serial(value), styles.date)
    elif isinstance(value, (int, float)) or hasattr(value, "dtype"):
        sheet.write_number(row, col, float(value), styles.count)
    elif isinstance(value, (list, tuple, set)):
        write_text(sheet, row, col, ", ".join(str(v) for v in value), styles, styles.text)
    else:
        write_text(sheet, row, col, str(value), styles, styles.text)
