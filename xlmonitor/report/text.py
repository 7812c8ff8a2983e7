"""Dutch number, percentage and date notation for the report (the council reads it)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")


def whole(value: float) -> int:
    """Rounded as Excel's number format ``0`` shows it: halves away from zero."""
    return int(Decimal(repr(float(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def number(value: float | None, missing: str = "n.v.t.") -> str:
    """``1.094``: whole, with a dot between thousands."""
    if value is None:
        return missing
    return f"{whole(value):,}".replace(",", ".")


def signed(value: float) -> str:
    """``+212``, ``-3``, ``0``."""
    n = whole(value)
    return ("+" if n > 0 else "") + number(n)


def percentage(ratio: float | None, missing: str = "n.v.t.") -> str:
    """``97%`` (Excel's ``0%``)."""
    return missing if ratio is None else f"{whole(ratio * 100)}%"


def long_date(day: date) -> str:
    """``31 maart 2022``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def listing(items: list[str]) -> str:
    """``a, b en c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} en {items[-1]}"
