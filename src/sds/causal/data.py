"""From a table to the complete, typed columns an estimator needs, with clear errors.

Every estimator names its columns; they are read (only those) from a DataFrame or anything
:func:`sds.data.io.open_table` opens, rows with a missing value in any of them are dropped
with a warning, and the treatment is checked to be a 0/1 indicator that varies. Rows with
no treatment value are refused rather than dropped (who was treated must be known), and so
are numbers no estimator can use: infinite, or too large to square (see
:mod:`sds.data.finite`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sds.data.finite import refuse_unusable
from sds.data.io import open_table
from sds.data.numeric import as_numeric
from sds.errors import DataError, missing_column_error


def load(
    data: Any,
    columns: Sequence[str | None],
    source: str | None = None,
    *,
    required: Sequence[str | None] = (),
) -> tuple[pd.DataFrame, list[str], str]:
    """The named columns, complete rows only; the warnings, and the source's name. A
    missing value in a ``required`` column (the treatment) is an error, not a dropped row."""
    wanted = list(dict.fromkeys(c for c in columns if c))
    if isinstance(data, pd.DataFrame):
        name = source or "data"
        for c in wanted:
            if c not in data.columns:
                raise missing_column_error(c, [str(x) for x in data.columns], name)
        frame = data[wanted]
    else:
        table = open_table(data)
        name = source or table.name
        table.require(*wanted)
        frame = table.engine.execute(table.expr.select(*wanted), source=name)
    _refuse_missing(frame, [c for c in required if c], name)
    refuse_unusable(frame, wanted, name)
    complete = frame.dropna() if frame.isna().to_numpy().any() else frame
    warnings = []
    dropped = len(frame) - len(complete)
    if dropped:
        warnings.append(
            f"{dropped:,} of {len(frame):,} rows dropped for a missing value in "
            f"{', '.join(wanted)}; the estimate is for complete rows only"
        )
    if complete.empty:
        raise DataError(
            "no complete rows: every row misses a value in at least one column used",
            source=name,
            found=", ".join(wanted),
        )
    return complete.reset_index(drop=True), warnings, name


def _refuse_missing(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    for c in columns:
        missing = int(frame[c].isna().sum())
        if missing:
            raise DataError(
                "rows have no treatment value",
                source=source,
                column=c,
                found=f"{missing:,} of {len(frame):,} row(s) missing",
                hint=f"Filter them out in the query (WHERE {c} IS NOT NULL) or fill them in: "
                "dropping them silently could bias the estimate.",
            )


def numeric(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """The column as float64 under the one numeric rule (:mod:`sds.data.numeric`), or its
    one error naming what was found."""
    return as_numeric(frame[column], column, source)


def treatment_indicator(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """A 0/1 treatment that takes both values."""
    d = numeric(frame, column, source)
    levels = np.sort(pd.unique(d))  # a hash, not a sort of every row
    if len(levels) == 1:
        raise DataError(
            "the treatment is constant: there is no comparison group",
            source=source,
            column=column,
            found=f"every one of {len(d):,} rows is {levels[0]:g}",
            hint="A causal contrast needs treated (1) and untreated (0) rows.",
        )
    if not set(levels) <= {0.0, 1.0}:
        raise DataError(
            "the treatment must be a 0/1 indicator",
            source=source,
            column=column,
            found=f"values {', '.join(f'{v:g}' for v in levels[:5])}",
            hint="Recode it to 1 for treated and 0 for untreated.",
        )
    return d
