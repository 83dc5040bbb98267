"""Rows to score checked against the input schema the model was saved with.

A column the model learned as numbers must hold numbers: text that reads as numbers (a
column with no values, typed text by the reader) is converted, anything else is refused
naming the column, what was found and what the model expects; infinite values are refused.
Values outside the training range (widened by :data:`RANGE_MARGIN` of its span, as the
model server does) are scored but reported: there the model extrapolates, and figures such
as the AUC or the train-test gap say more about the inputs than about the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sds.errors import DataError

RANGE_MARGIN = 0.1  # as sds serve's --range-margin default


def checked_inputs(
    x: pd.DataFrame, meta: dict[str, Any], source: str
) -> tuple[pd.DataFrame, list[str]]:
    """``x`` with numeric columns as numbers, and warnings about values out of range."""
    schema = {c["name"]: c for c in meta.get("input_schema") or []}
    numeric = [c for c in x.columns if schema.get(c, {}).get("kind") in ("number", "integer")]
    converted = {c: _numbers(x[c], schema[c], source) for c in numeric}
    x = x.assign(**{c: v for c, v in converted.items() if v is not x[c]})
    infinite = {c: int(np.isinf(_floats(x[c])).sum()) for c in numeric}
    infinite = {c: n for c, n in infinite.items() if n}
    if infinite:
        raise DataError(
            "infinite values cannot be scored",
            source=source,
            column=next(iter(infinite)) if len(infinite) == 1 else None,
            found=", ".join(f"{n:,} in {c!r}" for c, n in infinite.items()),
            expected="finite numbers",
            hint="Replace them (cap them, or set them missing) in a query, or filter those rows.",
        )
    outside = [o for c in numeric if (o := _outside(c, x[c], schema[c]))]
    if not outside:
        return x, []
    return x, [
        "inputs outside the training range (widened by "
        f"{RANGE_MARGIN:.0%} of its span), where the model extrapolates and its scores "
        f"are unreliable: {'; '.join(outside)}"
    ]


def _numbers(values: pd.Series, entry: dict[str, Any], source: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values
    parsed = pd.to_numeric(values, errors="coerce")
    wrong = values.notna() & parsed.isna()
    if wrong.any():
        raise DataError(
            "the model was trained on numbers in this column",
            source=source,
            column=str(values.name),
            found=f"{values.dtype} values, {int(wrong.sum()):,} of {len(values):,} not "
            f"numbers, e.g. {values[wrong].iloc[0]!r}",
            expected=f"{entry['kind']} values, as in training",
            hint="Fix or filter the rows that are not numbers, or cast the column in a query.",
        )
    return parsed.astype(np.float64)


def _floats(values: pd.Series) -> np.ndarray:
    return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))


def _outside(name: str, values: pd.Series, entry: dict[str, Any]) -> str | None:
    if "min" not in entry or pd.api.types.is_bool_dtype(values):
        return None
    low, high = float(entry["min"]), float(entry["max"])
    margin = RANGE_MARGIN * (high - low)
    v = _floats(values)
    present = ~np.isnan(v)
    out = int(((v < low - margin) | (v > high + margin))[present].sum())
    if not out:
        return None
    return (
        f"{name!r}: {out:,} of {int(present.sum()):,} value(s) ({out / present.sum():.0%}) "
        f"outside {low:g} to {high:g}"
    )
