"""The one rule for "is this column numeric", and the one error when it is not.

A column is numeric when its values are numbers by type:

- booleans (``bool``, pandas ``boolean``), read as 1 (true) and 0 (false);
- integer and real dtypes, nullable ones included (``Int64``, ``Float64``);
- an ``object`` column whose every present value is a real number (``int``, ``float``,
  ``decimal.Decimal``, a numpy number or a boolean), as engines hand over DECIMAL columns.

Everything else is not: text (even text that reads as numbers, such as ``"1.5"``),
categories, dates and times, durations, complex numbers, and object columns that mix
numbers with anything else. Text is never parsed silently because the same column must be
judged the same way in memory and in an engine, where only the column's type is known
(:func:`is_numeric_type` is the rule on an engine schema): a CSV column that the reader
typed as text holds something that is not a number, and the error shows what.

Values must also be finite where numbers are computed with: :func:`as_numeric` refuses
infinities. Missing values (None, NaN, NA) are not judged; they stay NaN.

:func:`as_numeric` returns the values as float64 or raises one :class:`DataError` shape,
whoever asks (``sds stats``, ``sds causal``, PSI): the column, the source, the dtype found
with a few sample values, what was expected, and a hint.
"""

from __future__ import annotations

import decimal
import numbers
from typing import Any

import numpy as np
import pandas as pd

from sds.errors import DataError

EXPECTED = "numbers (integers or reals; booleans count as 0/1)"
SAMPLES = 3


def _real(value: Any) -> bool:
    """A real number by type (bool included), not text, not complex."""
    if isinstance(value, bool | np.bool_ | decimal.Decimal):
        return True
    return isinstance(value, numbers.Real)


def is_numeric(series: pd.Series) -> bool:
    """True when ``series`` is numeric under the rule of this module."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return True
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_complex_dtype(dtype):
        return False
    if pd.api.types.is_numeric_dtype(dtype):
        return True
    if pd.api.types.is_object_dtype(dtype):
        return all(_real(v) for v in series.dropna())  # no value at all: nothing is not a number
    return False


def is_numeric_type(dtype: Any) -> bool:
    """The same rule on an engine (ibis) column type: numbers, decimals and booleans."""
    return bool(dtype.is_numeric() or dtype.is_boolean())


def _samples(series: pd.Series) -> str:
    present = series.dropna()
    if not len(present):
        return "no values"
    shown = ", ".join(_show(v) for v in present.unique()[:SAMPLES])
    return f"e.g. {shown}"


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def not_numeric(series: pd.Series, column: str, source: str | None) -> DataError:
    """The one error for a column that is not numeric."""
    present = series.dropna()
    hint = "Choose a numeric column, or fix or filter the values that are not numbers."
    text = pd.api.types.is_string_dtype(series.dtype) or pd.api.types.is_object_dtype(series.dtype)
    if text and len(present):
        odd = present[pd.to_numeric(present.astype(str), errors="coerce").isna()]
        if odd.empty:
            what = f"text that reads as numbers, {_samples(present)}"
            hint = "Cast it to a number where it is read (e.g. CAST(x AS DOUBLE))."
        else:
            what = f"{len(odd):,} of {len(present):,} values not numbers, {_samples(odd)}"
    else:
        what = f"{len(present):,} value(s), {_samples(present)}"
    return DataError(
        "is not numeric",
        source=source,
        column=column,
        found=f"{series.dtype} column, {what}",
        expected=EXPECTED,
        hint=hint,
    )


def as_numeric(series: pd.Series, column: str, source: str | None) -> np.ndarray:
    """``series`` as float64 (booleans as 0/1, missing as NaN) under the rule, or the one
    DataError. Infinite values are refused in the same shape."""
    if not is_numeric(series):
        raise not_numeric(series, column, source)
    values = pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        shown = ", ".join(repr(float(v)) for v in np.unique(values[infinite])[:SAMPLES])
        raise DataError(
            "holds infinite values",
            source=source,
            column=column,
            found=f"{series.dtype} column, {int(infinite.sum()):,} infinite value(s), e.g. {shown}",
            expected="finite " + EXPECTED,
            hint="Replace or drop them first.",
        )
    return values
