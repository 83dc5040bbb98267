"""The input schema a model is saved with, from its training rows: what the model server
accepts.

Per input column: its kind (``number``, ``integer``, ``boolean``, ``category``), whether
training saw missing values, the training range of numbers, and the levels of a closed
category: at most 20 levels, or at most ``MAX_LEVELS`` with each level seen 20 times on
average. Any other category (an ID, a code, free text) accepts any string: new values are
expected there, and its encoder handles them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

MAX_LEVELS = 1_000


def input_schema(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One entry per column of ``frame`` (the training rows' model inputs)."""
    return [_column(name, frame[name]) for name in frame.columns]


def _column(name: str, values: pd.Series) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "nullable": bool(values.isna().any())}
    present = values.dropna()
    if pd.api.types.is_bool_dtype(values):
        entry["kind"] = "boolean"
    elif pd.api.types.is_numeric_dtype(values):
        integer = pd.api.types.is_integer_dtype(values)
        entry["kind"] = "integer" if integer else "number"
        if len(present):
            entry["min"], entry["max"] = float(present.min()), float(present.max())
    else:
        entry["kind"] = "category"
        levels = present.astype(str).unique()
        closed = len(levels) <= 20 or len(levels) <= min(MAX_LEVELS, len(present) / 20)
        entry["levels"] = sorted(levels.tolist()) if closed else None
    return entry
