"""The unit values a quantile metric's bootstrap needs, read as aggregates.

The bootstrap (:mod:`quantile`) takes each arm's sorted unit values, but only some of them
can change its figures, so only those leave the engine:

* an arm with few distinct values (fewer than a tenth of its units, where the bootstrap
  draws counts over the distinct values): its value counts, which give the sorted values
  exactly (at most ``n / 10`` rows);
* otherwise the value counts in a window of ranks around the quantile's rank ``(n - 1) q``:
  the point-mass check's margin (``2%`` of ``n`` either side), or wider, the ranks a
  resample's quantile reads except with probability 2e-20 (its order statistics are Beta
  distributed: about 9.5 standard deviations ``sqrt(n q (1 - q))``), widened to whole tied
  blocks, and the number of units below the window: at most about
  ``0.04 n + 19 sqrt(n q (1 - q))`` rows per arm, one per distinct value.

The arrays handed to the bootstrap hold every unit at its rank: the ranks outside the window
hold distinct stand-ins below (above) the window's values. The sample quantile, the
point-mass check and every resample then read the same values as from the full column, with
the same random draws, so the figures are those of the full column on every engine; only a
resample whose quantile lands outside the window (probability 2e-20 per resample) would
differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sds.data.finite import MAX_MAGNITUDE
from sds.experiments.analysis.aggregates import missing_values
from sds.experiments.analysis.quantile import MASS_MARGIN
from sds.experiments.analysis.queries import VARIANT

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from sds.data.io import Table

FEW_DISTINCT = 10  # fewer than n / FEW_DISTINCT distinct values: the bootstrap draws counts
MISS = 1e-20  # the chance, on each side, that a resample's quantile reads outside the window
RANK = "__rank"


@dataclass(frozen=True)
class UnitValues:
    """Each arm's sorted unit values (stand-ins outside the window), or ``unusable``: some
    value is infinite or beyond ``MAX_MAGNITUDE`` (then ``values`` is empty)."""

    values: dict[str, np.ndarray]
    unusable: bool = False

    def __getitem__(self, arm: str) -> np.ndarray:
        return self.values[arm]


def read(table: Table, unit_rows: ir.Table, column: str, q: float) -> UnitValues:
    """The values of ``column`` per arm that a bootstrap of quantile ``q`` reads.

    Raises:
        DataError: Some units have no value (NULL or NaN).
    """
    counts = _counts(table, unit_rows, column)
    missing = int(counts["missing"].sum())
    if missing:
        raise missing_values(column, missing, table.name)
    if int(counts["unusable"].sum()):
        return UnitValues({}, unusable=True)
    sizes = {str(r[VARIANT]): (int(r["n"]), int(r["distinct"])) for _, r in counts.iterrows()}
    few = [a for a, (n, d) in sizes.items() if d * FEW_DISTINCT < n]
    out = _value_counts(table, unit_rows, column, few) if few else {}
    windows = {a: _window(sizes[a][0], q) for a in sizes if a not in few}
    if windows:
        out.update(_windowed(table, unit_rows, column, windows))
    return UnitValues(out)


def _counts(table: Table, unit_rows: ir.Table, column: str) -> Any:
    v = unit_rows[column]
    kept = v.notnull() & ~v.isnan()
    aggs = {
        "n": unit_rows.count(),
        "missing": (~kept).sum(),
        "unusable": (kept & (v.isinf() | (v.abs() > MAX_MAGNITUDE))).sum(),
        "distinct": v.nunique(),
    }
    return table.engine.execute(unit_rows.group_by(VARIANT).aggregate(**aggs), source=table.name)


def _value_counts(
    table: Table, unit_rows: ir.Table, column: str, arms: list[str]
) -> dict[str, np.ndarray]:
    u = unit_rows.filter(unit_rows[VARIANT].isin(arms))
    frame = table.engine.execute(
        u.group_by([VARIANT, column]).aggregate(__units=u.count()), source=table.name
    )
    out = {}
    for arm, group in frame.groupby(VARIANT, sort=False):
        group = group.sort_values(column)
        values = group[column].to_numpy(dtype=float)
        out[str(arm)] = np.repeat(values, group["__units"].to_numpy(dtype=np.int64))
    return out


def _window(n: int, q: float) -> tuple[int, int, int]:
    """``n`` and the first and last rank (0-based) the bootstrap of ``q`` may read: the
    point-mass check's margin around ``q``, and the ranks a resample's quantile reads
    except with probability :data:`MISS` (its order statistics are Beta distributed)."""
    from scipy import stats

    k = math.floor((n - 1) * q)
    margin = max(MASS_MARGIN, 3 * math.sqrt(q * (1 - q) / n))
    low = float(stats.beta.ppf(MISS, k + 1, n - k))
    high = float(stats.beta.isf(MISS, k + 2, max(n - k - 1, 1)))
    first = min(math.floor(n * low), math.floor((q - margin) * n) - 1)
    last = max(math.ceil(n * high), math.floor((q + margin) * n) + 1)
    return n, max(0, first), min(n - 1, last)


def _windowed(
    table: Table, unit_rows: ir.Table, column: str, windows: dict[str, tuple[int, int, int]]
) -> dict[str, np.ndarray]:
    """Per arm: the values from the window's first to its last rank (whole tied blocks),
    with stand-ins for the ranks below and above."""
    import ibis

    v = unit_rows[column]
    ranked = unit_rows.select(
        VARIANT, v, **{RANK: ibis.row_number().over(group_by=VARIANT, order_by=v)}
    )
    edges = [
        (ranked[VARIANT] == a) & ranked[RANK].isin([lo, hi]) for a, (_, lo, hi) in windows.items()
    ]
    bounds = table.engine.execute(
        ranked.filter(ibis.or_(*edges)).select(VARIANT, RANK, column), source=table.name
    )
    limits = {}
    for arm, (_, lo, hi) in windows.items():
        rows = bounds[bounds[VARIANT] == arm].set_index(RANK)[column]
        limits[arm] = (float(rows[lo]), float(rows[hi]))
    inside = ibis.or_(
        *[(v >= low) & (v <= high) & (unit_rows[VARIANT] == a) for a, (low, high) in limits.items()]
    )
    below = ibis.or_(*[(v < low) & (unit_rows[VARIANT] == a) for a, (low, _) in limits.items()])
    kept, low_rows = unit_rows.filter(inside), unit_rows.filter(below)
    frame = table.engine.execute(
        kept.group_by([VARIANT, column]).aggregate(__units=kept.count()), source=table.name
    )
    under = table.engine.execute(
        low_rows.group_by(VARIANT).aggregate(__units=low_rows.count()), source=table.name
    )
    n_below = {str(r[VARIANT]): int(r["__units"]) for _, r in under.iterrows()}
    out = {}
    for arm, (n, _, _) in windows.items():
        group = frame[frame[VARIANT] == arm].sort_values(column)
        values = np.repeat(
            group[column].to_numpy(dtype=float), group["__units"].to_numpy(dtype=np.int64)
        )
        out[arm] = _fill(values, n_below.get(arm, 0), n)
    return out


def _fill(values: np.ndarray, below: int, n: int) -> np.ndarray:
    """``values`` at ranks ``below`` onwards of ``n``, with distinct stand-ins around them:
    below the smallest and above the largest, so no stand-in ties with another."""
    above = n - below - len(values)
    if below == 0 and above == 0:
        return values
    low, high = float(values[0]), float(values[-1])
    step = max(abs(low), abs(high), high - low, 1.0)
    lower = low - step * np.arange(below, 0, -1, dtype=float)
    upper = high + step * np.arange(1, above + 1, dtype=float)
    return np.concatenate([lower, values, upper])
