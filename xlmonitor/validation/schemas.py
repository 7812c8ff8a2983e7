"""Pandera schemas for submitted figures.

Intake returns values as read; :func:`counts_frame` turns them into numbers and
:func:`counts_schema` (:class:`CountsSchema` plus the programme's upper bound) checks the
numbers lazily, so one pass reports every bad cell.

Counts typed as text (a cell formatted as text, a pasted value, an own workbook) are read the
Dutch way, see :func:`read_count`: ``"12"`` or ``" 7 "`` silently; ``"1.200"``, ``"12.000,00"``
and ``"1 200"`` as thousands (1200, 12000, 1200) with the warning ``tekst-als-getal``, because
reading a separator is an interpretation the sender should see; ``"12,000"`` not at all
(``getal-dubbelzinnig``, an error): 12 to a Dutch reader, 12000 to an English one, and a wrong
guess would be a factor 1000 that no bound can catch when it is too low. ``"12,5"`` and dates
are not whole numbers. Real numeric cells are taken as they are.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from functools import cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from xlmonitor.programme.definition import INDICATOR_CODES

#: Marks a value that is not a number at all (text, a date); validate reports it.
NOT_A_NUMBER = -math.inf

#: Largest whole number a float holds exactly (2**53). A count above it cannot be stored as
#: a whole number nor summed safely as int64 (1e308 would wrap to a negative number), so
#: validate counts it as blank, whatever the finding's severity in the catalogue.
LARGEST_EXACT_COUNT = 2**53

#: Forms of text that needed interpreting, kept per column as row labels in
#: ``counts_frame(...).attrs[TEXT_FORMS][form][column]``: the float alone cannot say that
#: 12000 was typed as the text "12.000". Pandera hands the column checks each column with the
#: frame's ``attrs``, so the checks below can report those cells.
TEXT_FORMS = "text_forms"
#: "1.200", "12.000,00", "1 200": Dutch thousands separators (warning ``tekst-als-getal``).
GROUPED = "grouped"
#: "12,000", "1,234.5": a comma before three digits, 12 in Dutch and 12000 in English
#: (error ``getal-dubbelzinnig``); counted as ``NOT_A_NUMBER``, so that a frame that lost its
#: ``attrs`` still blocks it (as ``geen-geheel-getal``).
AMBIGUOUS = "ambiguous"

_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_DECIMAL_TEXT = re.compile(r"[+-]?\d+(?:[.,]\d+)?")  # "12,5" (Dutch) or "12.5"
# The first group of a grouped number: one to three digits, but not a lone 0 ("0.500" is a
# decimal, not five hundred).
_LEADING_GROUP = r"(?:[1-9]\d{0,2}|0\d{1,2})"
# Dutch thousands: dot, space, no-break space or narrow no-break space (Excel and Word paste
# the latter two), the same one throughout, with an optional decimal comma: "1.234.567,00".
_GROUPED_TEXT = re.compile(
    rf"(?P<sign>[+-]?)(?P<whole>{_LEADING_GROUP}(?P<sep>[. \u00a0\u202f])\d{{3}}"
    rf"(?:(?P=sep)\d{{3}})*)(?:,(?P<fraction>\d+))?")
# English thousands: "12,000", "1,234,567", "12,000.00".
_COMMA_GROUPED_TEXT = re.compile(rf"[+-]?{_LEADING_GROUP}(?:,\d{{3}})+(?:\.\d+)?")


def read_count(value: object) -> tuple[float, str]:
    """A cell value as a float and, for text that needed interpreting, its form
    (:data:`GROUPED` or :data:`AMBIGUOUS`; else ``""``). The float is NaN for blank and
    ``NOT_A_NUMBER`` for anything non-numeric, including an :data:`AMBIGUOUS` text."""
    if value is None:
        return math.nan, ""
    if isinstance(value, bool) or isinstance(value, (datetime, date, time)):
        return NOT_A_NUMBER, ""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (float(value) if not pd.isna(value) else math.nan), ""
    # strip() also removes no-break spaces around the text; U+2212 is the typographic minus.
    text = str(value).strip().replace("\u2212", "-")
    if text in ("", "-"):
        return math.nan, ""
    if _INTEGER_TEXT.fullmatch(text):
        return float(text), ""  # float, not int: Python refuses int() of 4,300+ digits
    if grouped := _GROUPED_TEXT.fullmatch(text):
        whole = re.sub(r"\D", "", grouped["whole"])
        fraction = grouped["fraction"] or "0"
        return float(f"{grouped['sign']}{whole}.{fraction}"), GROUPED
    if _COMMA_GROUPED_TEXT.fullmatch(text):
        return NOT_A_NUMBER, AMBIGUOUS
    if _DECIMAL_TEXT.fullmatch(text):
        return float(text.replace(",", ".")), ""
    return NOT_A_NUMBER, ""


def parse_count(value: object) -> float:
    """A cell value as a float: NaN for blank, ``NOT_A_NUMBER`` for anything non-numeric
    (see :func:`read_count`)."""
    return read_count(value)[0]


def counts_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The indicator columns of ``rows`` as floats (:func:`read_count`), with the cells whose
    text needed interpreting in ``attrs[TEXT_FORMS]`` (only when there are any)."""
    columns: dict[str, np.ndarray] = {}
    forms: dict[str, dict[str, tuple]] = {}
    for column in INDICATOR_CODES:
        read = [read_count(value) for value in rows[column].tolist()]
        columns[column] = np.array([number for number, _ in read], dtype=float)
        for form in {form for _, form in read if form}:
            forms.setdefault(form, {})[column] = tuple(
                label for label, (_, found) in zip(rows.index, read, strict=True)
                if found == form)
    frame = pd.DataFrame(columns, index=rows.index)
    if forms:
        frame.attrs[TEXT_FORMS] = forms
    return frame


def _written_as(series: pd.Series, form: str) -> pd.Series:
    """True where the cell's text had ``form`` (from the frame's ``attrs``)."""
    labels = series.attrs.get(TEXT_FORMS, {}).get(form, {}).get(series.name, ())
    return pd.Series(series.index.isin(labels), index=series.index)


class CountsSchema(pa.DataFrameModel):
    """Quarterly counts: whole numbers, zero or more; blank allowed (validate warns)."""

    aanmeldingen: float = pa.Field(nullable=True)
    gestarte_trajecten: float = pa.Field(nullable=True)
    afgeronde_scholing: float = pa.Field(nullable=True)
    bemiddeld_naar_werk: float = pa.Field(nullable=True)

    @pa.check(*INDICATOR_CODES, name="is_number")
    @classmethod
    def is_number(cls, series: pd.Series) -> pd.Series:
        # An ambiguous text is reported by ``unambiguous``, once.
        return series.isna() | (series != NOT_A_NUMBER) | _written_as(series, AMBIGUOUS)

    @pa.check(*INDICATOR_CODES, name="unambiguous")
    @classmethod
    def unambiguous(cls, series: pd.Series) -> pd.Series:
        return ~_written_as(series, AMBIGUOUS)

    @pa.check(*INDICATOR_CODES, name="plain_number")
    @classmethod
    def plain_number(cls, series: pd.Series) -> pd.Series:
        """Fails (a warning) on a count read from text with thousands separators; only when
        that count is whole and not negative: otherwise its error says enough."""
        counted = (series >= 0) & (series % 1 == 0)
        return ~(_written_as(series, GROUPED) & counted)

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
    "unambiguous": "getal-dubbelzinnig",
    "plain_number": "tekst-als-getal",
    "whole_number": "geen-geheel-getal",
    "not_negative": "negatief-getal",
    "plausible": "onwaarschijnlijk-hoog",
}
