"""Numbers every estimator can compute with: finite, and small enough to square.

Variances, cross-products and sums of squares square the values; a float64 overflows past
about 1.8e308, so a value beyond :data:`MAX_MAGNITUDE` (1e150) turns them into ``inf`` and
then ``nan``, and an estimate quietly comes back missing (or an engine refuses the
query). :func:`refuse_unusable` names such columns before any estimate is attempted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sds.errors import DataError

if TYPE_CHECKING:  # numpy and pandas: loaded by the functions that read a frame
    import pandas as pd

MAX_MAGNITUDE = 1e150


@dataclass(frozen=True)
class Unusable:
    """A numeric column with values no estimate can use."""

    column: str
    non_finite: int  # NaN stored as a number is missing, not counted; inf is
    huge: int  # finite values beyond MAX_MAGNITUDE
    largest: float  # the largest finite magnitude

    def describe(self, named: bool = True) -> str:
        parts = []
        if self.non_finite:
            parts.append(f"{self.non_finite:,} non-finite value(s) (inf or NaN)")
        if self.huge:
            parts.append(
                f"{self.huge:,} value(s) beyond ±{MAX_MAGNITUDE:.0e} (largest {self.largest:.3g})"
            )
        return f"{self.column!r}: {' and '.join(parts)}" if named else " and ".join(parts)


def unusable(frame: pd.DataFrame, columns: Iterable[str]) -> list[Unusable]:
    """The numeric columns of ``frame`` among ``columns`` holding infinite or huge values."""
    import numpy as np
    import pandas as pd

    out = []
    for c in dict.fromkeys(columns):
        values = frame[c]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            continue
        v = values.to_numpy(dtype=np.float64, na_value=np.nan)
        magnitude = np.abs(v[np.isfinite(v)])
        found = Unusable(
            c,
            int(np.isinf(v).sum()),
            int((magnitude > MAX_MAGNITUDE).sum()),
            float(magnitude.max()) if magnitude.size else 0.0,
        )
        if found.non_finite or found.huge:
            out.append(found)
    return out


def refuse_unusable(frame: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    """A DataError naming every column of ``columns`` with infinite or huge values."""
    bad = unusable(frame, columns)
    if bad:
        raise unusable_error(bad, source)


def unusable_error(bad: list[Unusable], source: str) -> DataError:
    return DataError(
        "numbers that are infinite or too large to compute with (their squares overflow)",
        source=source,
        column=bad[0].column if len(bad) == 1 else None,
        found="; ".join(b.describe(named=len(bad) > 1) for b in bad),
        expected=f"finite numbers within ±{MAX_MAGNITUDE:.0e}",
        hint="Filter or fix those rows in a query, or rescale the column (e.g. divide by 1e6).",
    )


def unusable_aggregates(t: Any, columns: list[str], *, nan_counts: bool = True) -> dict[str, Any]:
    """Engine aggregates, for one query with any others: per column (by position ``i``) the
    non-finite count ``inf{i}`` (NaN too, unless ``nan_counts`` is false: there NaN means
    missing), the count of finite values beyond :data:`MAX_MAGNITUDE` ``huge{i}``, and the
    largest finite magnitude ``max{i}``. :func:`unusable_from_row` reads them back."""
    aggs: dict[str, Any] = {}
    for i, c in enumerate(columns):
        v = t[c].cast("float64")
        odd = v.isinf() | v.isnan()
        # counts with a filter: PostgreSQL sums a boolean cast to bigint with a 128-bit
        # accumulator, a fifth slower over a table
        aggs[f"inf{i}"] = t.count(where=odd if nan_counts else v.isinf())
        aggs[f"huge{i}"] = t.count(where=(~odd) & (v.abs() > MAX_MAGNITUDE))
        aggs[f"max{i}"] = v.abs().max(where=~odd)
    return aggs


def unusable_from_row(row: Any, columns: list[str]) -> list[Unusable]:
    """The columns whose :func:`unusable_aggregates` found infinite or huge values."""
    found = [
        Unusable(
            c,
            engine_count(row[f"inf{i}"]),
            engine_count(row[f"huge{i}"]),
            engine_number(row[f"max{i}"]),
        )
        for i, c in enumerate(columns)
    ]
    return [f for f in found if f.non_finite or f.huge]


def engine_number(value: Any) -> float:
    """A number from an engine aggregate; NULL (None, or NaN in pandas) over no rows is 0."""
    import pandas as pd  # already loaded by whatever fetched the row

    return 0.0 if value is None or pd.isna(value) else float(value)


def engine_count(value: Any) -> int:
    """A count from an engine SUM, which is NULL over no rows (NaN in pandas, and truthy)."""
    return int(engine_number(value))
