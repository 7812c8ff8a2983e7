"""Quarters, the unit of reporting: ``2021-Q3``.

Municipal workbooks write a quarter in many ways (``Q3 2021``, ``2021 Q3``, ``3e kwartaal
2021``, ``kwartaal 3 2021``, ``2021-3``); :func:`parse_period` reads them all and everything
else in xlmonitor uses the canonical ``YYYY-Qn`` form.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_PATTERNS = [
    # 2021-Q3, 2021 Q3, 2021Q3, 2021/Q3, 2021-3 (year first)
    re.compile(r"^(?P<y>(19|20)\d\d)\s*[-/_ ]?\s*(k|q|kw|kwartaal)?\s*(?P<q>[1-4])$"),
    # Q3 2021, Q3-2021, kw3 2021, kwartaal 3 2021, 3e kwartaal 2021, 3de kwartaal 2021
    re.compile(
        r"^((k|q|kw|kwartaal)\s*(?P<q1>[1-4])|(?P<q2>[1-4])\s*(e|de|ste)?\s*(kwartaal|kw|q))"
        r"\s*[-/_ ]?\s*(?P<y>(19|20)\d\d)$"
    ),
]


def parse_period(text: object) -> str | None:
    """Return ``YYYY-Qn`` for any usual spelling of a quarter, or ``None``.

    >>> parse_period("3e kwartaal 2021"), parse_period("Q3 2021"), parse_period("2021-Q5")
    ('2021-Q3', '2021-Q3', None)
    """
    if text is None:
        return None
    cleaned = re.sub(r"\s+", " ", str(text).strip().lower())
    cleaned = re.sub(r"^(periode|kwartaal|peilperiode)\s*:\s*", "", cleaned)
    for pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            groups = match.groupdict()
            quarter = groups.get("q") or groups.get("q1") or groups.get("q2")
            return f"{groups['y']}-Q{quarter}"
    return None


def split_period(period: str) -> tuple[int, int]:
    """``"2021-Q3"`` → ``(2021, 3)``."""
    year, quarter = period.split("-Q")
    return int(year), int(quarter)


def period_start(period: str) -> date:
    year, quarter = split_period(period)
    return date(year, 3 * quarter - 2, 1)


def period_end(period: str) -> date:
    """Last day of the quarter."""
    year, quarter = split_period(period)
    if quarter == 4:
        return date(year, 12, 31)
    return date(year, 3 * quarter + 1, 1) - timedelta(days=1)


def period_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def next_period(period: str) -> str:
    year, quarter = split_period(period)
    return f"{year + 1}-Q1" if quarter == 4 else f"{year}-Q{quarter + 1}"


def periods_between(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last``, both included."""
    result = []
    current = first
    while current <= last:
        result.append(current)
        current = next_period(current)
    return result


def elapsed_share(start: date, end: date, at: date) -> float:
    """Share (0..1) of the span ``start``..``end`` (both inclusive) that has passed at the end
    of day ``at``. Used for the expected-to-date target."""
    total = (end - start).days + 1
    passed = (at - start).days + 1
    return min(max(passed / total, 0.0), 1.0)
