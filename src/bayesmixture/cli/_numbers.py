"""Reading a column of text as numbers, or saying why it cannot be clustered on.

A column is read with the table's decimal mark and thousands separator. When some of its
values are not numbers in that style, the other usual styles are tried only to say what the
column holds and which option reads it (``numbers with ',' thousands separators: pass
--thousands ,``); nothing is read in a style the user did not give or the file did not show.

Two kinds of verdict: a column that is no measurement (text, dates, true/false, empty,
constant, row numbers) is skipped when the columns are chosen for the user; a column of
numbers that cannot be read as such (thousands separators, decimal commas, stray text) is
refused, since leaving it out would cluster other columns than the user's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The styles tried to explain a column: (decimal mark, thousands separator).
STYLES = tuple(
    (decimal, thousands)
    for decimal in (".", ",")
    for thousands in (None, ",", ".", " ", "'")
    if thousands != decimal
)
_WORDS = {True: ("true", "yes"), False: ("false", "no")}
# values of a text column tried as dates
DATE_SAMPLE = 200


@dataclass(frozen=True)
class Reading:
    """A column read as numbers (``values``), or why not (``reason``; ``refuse``: a fault)."""

    values: pd.Series | None
    reason: str | None = None
    refuse: bool = False
    example: str | None = None  # "row 3 holds '12,500'"
    fix: str | None = None  # for a fault: what to pass or do


def parse(strings: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    """Float values of ``strings`` in this style; NaN where a value is missing or no number.

    A thousands separator is taken only in whole groups of three digits (``12,500``,
    ``1.234.567,5``); with decimal commas a value with a point is no number.
    """
    text = strings.astype(object).where(strings.notna(), None).str.strip()
    if thousands is not None:
        group = rf"[+-]?\d{{1,3}}({re.escape(thousands)}\d{{3}})+({re.escape(decimal)}\d*)?"
        grouped = text.str.fullmatch(group).fillna(False).astype(bool)
        text = text.where(~grouped, text.str.replace(thousands, "", regex=False))
    if decimal != ".":
        text = text.where(~text.str.contains(".", regex=False).fillna(False).astype(bool), "x")
        text = text.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def read_column(
    strings: pd.Series, decimal: str, thousands: str | None, *, comma_separated: bool = False
) -> Reading:
    """Read a column of text (NaN: missing) as numbers, or say why it is not numbers.

    ``comma_separated``: the table's separator is ',', so a comma inside a (quoted) number is
    taken for a thousands separator rather than a decimal comma where both would read it.
    """
    present = strings[strings.notna() & (strings.astype(object).str.strip() != "")]
    if present.empty:
        return Reading(None, "empty")
    values = parse(strings, decimal, thousands)
    bad = present.index[values[present.index].isna()]
    if bad.empty:
        return Reading(values)
    example = f"row {bad[0]} holds {present[bad[0]]!r}"
    words = set(present.str.strip().str.lower())
    if words <= {*_WORDS[True], *_WORDS[False]}:
        return Reading(None, "true/false", example=example)
    other = _other_style(present, decimal, thousands, comma_separated)
    if other is not None:
        return Reading(None, other[0], refuse=True, example=example, fix=other[1])
    if values[present.index].notna().mean() < 0.5:
        head = present.iloc[:DATE_SAMPLE]  # dates are parsed one by one: a sample says enough
        if pd.to_datetime(head, errors="coerce", format="mixed").notna().all():
            return Reading(None, "dates", example=example)
        return Reading(None, "text", example=example)
    fix = "blank out or correct the cells that are not numbers"
    return Reading(None, "numbers and text", refuse=True, example=example, fix=fix)


def read_typed(column: pd.Series) -> Reading:
    """A typed column (Parquet): numbers as they are; text read as text is; others named."""
    if pd.api.types.is_bool_dtype(column):
        return Reading(None, "true/false")
    if pd.api.types.is_numeric_dtype(column):
        values = column.astype(float)
        return Reading(values) if values.notna().any() else Reading(None, "empty")
    if pd.api.types.is_datetime64_any_dtype(column) or isinstance(
        column.dtype, pd.PeriodDtype | pd.DatetimeTZDtype
    ):
        return Reading(None, "dates")
    if isinstance(column.dtype, pd.CategoricalDtype):
        return Reading(None, "categories")
    return read_column(column.astype(object).where(column.notna(), None), ".", None)


def not_a_measurement(values: pd.Series) -> str | None:
    """Why a column of numbers says nothing about clusters: constant, or the row numbers."""
    present = values.dropna()
    if present.nunique() == 1:
        return f"constant: every value is {_plain(present.iloc[0])}"
    n = len(values)
    if present.size == n and n > 2:
        for start in (0, 1):
            if np.array_equal(values.to_numpy(), np.arange(start, start + n)):
                return f"row numbers {start} to {start + n - 1}"
    return None


def _other_style(
    present: pd.Series, decimal: str, thousands: str | None, comma_separated: bool
) -> tuple[str, str] | None:
    """("numbers with ...", "pass --option ...") for the styles that read every value, fewest
    changes first; None when none does."""
    readers = []
    for style in STYLES:
        if style != (decimal, thousands) and parse(present, *style).notna().all():
            changes = [(d, t) for d, t in zip(style, (decimal, thousands), strict=True) if d != t]
            readers.append((len(changes), style))
    if not readers:
        return None
    fewest = min(n for n, _ in readers)
    styles = [style for n, style in readers if n == fewest]
    if comma_separated and any(d == decimal for d, _ in styles):
        styles = [(d, t) for d, t in styles if d == decimal]
    what, fixes = [], []
    for new_decimal, new_thousands in styles:
        options = []
        if new_decimal != decimal:
            what.append("decimal commas" if new_decimal == "," else "decimal points")
            options.append(f"--decimal {new_decimal}")
        if new_thousands != thousands and new_thousands is not None:
            what.append(f"{new_thousands!r} thousands separators")
            options.append(f"--thousands {_shell(new_thousands)}")
        fixes.append(" ".join(options))
    return f"numbers with {' or '.join(dict.fromkeys(what))}", f"pass {' or '.join(fixes)}"


def _shell(char: str) -> str:
    return repr(char) if char in " '" else char


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
