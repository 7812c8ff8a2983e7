"""Pandera schemas for submitted figures.

Intake returns values as read; :func:`counts_frame` turns them into numbers (text such as
``"12"`` or ``" 7 "`` is accepted, ``"12,5"`` and dates are not) and :func:`counts_schema`
(:class:`CountsSchema` plus the programme's upper bound) checks the numbers lazily, so one
pass reports every bad cell.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from functools import cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from xlmonitor.programme import INDICATOR_CODES

#: Marks a value that is not a number at all (text, a date); validate reports it.
NOT_A_NUMBER = -math.inf

#: Largest whole number a float holds exactly (2**53). A count above it cannot be stored as
#: a whole number nor summed safely as int64 (1e308 would wrap to a negative number), so
#: validate counts it as blank, whatever the finding's severity in the catalogue.
LARGEST_EXACT_COUNT = 2**53

_NUMBER_TEXT = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def parse_count(value: object) -> float:
    """A cell value as a float: NaN for blank, ``NOT_A_NUMBER`` for anything non-numeric."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or isinstance(value, (datetime, date, time)):
        return NOT_A_NUMBER
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) if not pd.isna(value) else math.nan
    text = str(value).strip().replace("\u00a0", "")
    if text in ("", "-"):
        return math.nan
    if _NUMBER_TEXT.match(text):
        # Dutch decimal comma; a dot with three digits after it is a thousands separator
        # in Dutch ("1.200"), but counts that large are not whole-number typos either way.
        return float(text.replace(",", "."))
    return NOT_A_NUMBER


def counts_frame(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: rows[c].map(parse_count).astype(float) for c in INDICATOR_CODES},
                        index=rows.index)


class CountsSchema(pa.DataFrameModel):
    """Quarterly counts: whole numbers, zero or more; blank allowed (validate warns)."""

    aanmeldingen: float = pa.Field(nullable=True)
    gestarte_trajecten: float = pa.Field(nullable=True)
    afgeronde_scholing: float = pa.Field(nullable=True)
    bemiddeld_naar_werk: float = pa.Field(nullable=True)

    @pa.check(*INDICATOR_CODES, name="is_number")
    @classmethod
    def is_number(cls, series: pd.Series) -> pd.Series:
        return series.isna() | (series != NOT_A_NUMBER)

    @pa.check(*INDICATOR_CODES, name="whole_number")
    @classmethod
    def whole_number(cls, series: pd.Series) -> pd.Series:
        finite = series.isna() | (series == NOT_A_NUMBER)
        return finite | (series % 1 == 0)

    @pa.check(*INDICATOR_CODES, name="not_negative")
    @classmethod
    def not_negative(cls, series: pd.Series) -> pd.Series:
        return series.isna() | (series == NOT_A_NUMBER) | (series >= 0)

    class Config:
        strict = False


@cache
def counts_schema(maximum: int) -> pa.DataFrameSchema:
    """:class:`CountsSchema` plus the check ``plausible``: at most ``maximum``, the
    programme's upper bound for one quarter's count (``Programme.max_count``). Infinity is
    left to ``whole_number``, so "inf" gets one finding, not two."""
    schema = CountsSchema.to_schema()

    def plausible(series: pd.Series) -> pd.Series:
        return series.isna() | ~np.isfinite(series) | (series <= maximum)

    return schema.update_columns({
        column: {"checks": [*schema.columns[column].checks,
                            pa.Check(plausible, name="plausible")]}
        for column in INDICATOR_CODES})


#: Which finding a failed check becomes.
CHECK_CODES = {
    "is_number": "geen-geheel-getal",
    "whole_number": "geen-geheel-getal",
    "not_negative": "negatief-getal",
    "plausible": "onwaarschijnlijk-hoog",
}
