"""Population stability index (PSI): the one definition every sds command uses
(``sds features check`` through :mod:`sds.features.alignment`, ``sds monitor`` and
``sds canary`` through :mod:`sds.monitoring.drift`).

PSI = sum over bins of (a - e) ln(a / e), where e and a are the shares of the reference
(expected) and of the current (actual) rows in each bin. Every row has a bin, so the shares
of each side sum to 1. The bins:

- **Numbers**: ``bins`` quantile bins of the reference. The inner edges are the quantiles of
  the reference's present values at 1/bins, ..., (bins - 1)/bins, interpolated linearly
  (``numpy.quantile``'s default, an engine's ``quantile_cont``), equal edges merged (so a
  column with few distinct values has fewer bins). A value x is in the bin of the edges
  e_i <= x < e_i+1; the first bin is open to -inf and the last to +inf, so current values
  outside the reference's range land in the outer bins.
- **Categories**: the reference's ``TOP_LEVELS`` most common levels, ties ranked by level
  (code-point order), one bin each; every other level in one "other" bin (levels that are
  new in the current data land there).
- **Missing** values (null, and NaN for numbers) in a bin of their own, last, on both kinds.
- **Empty bins**: each share is floored at ``EPSILON`` (1e-4), so a bin empty on one side
  counts as rare, not as an infinite PSI; PSI therefore never exceeds 2 ln(1 / EPSILON).

The functions work on counts, so an engine can count the rows of each bin itself and hand
the counts over (:mod:`sds.monitoring.drift` does, for 10,000,000-row request logs); the
edges and the level ranking it pushes down to the engine are the ones defined here.
:func:`psi` and :func:`series_counts` do the same in memory on two pandas Series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from sds.data.numeric import is_numeric as numeric_rule

EPSILON = 1e-4
TOP_LEVELS = 20
BINS = 10


def psi_from_counts(expected: ArrayLike, actual: ArrayLike) -> float:
    """PSI of the ``actual`` (current) counts against the ``expected`` (reference) counts,
    bin by bin; shares floored at ``EPSILON``."""
    e, a = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    if e.shape != a.shape or e.ndim != 1:
        raise ValueError(f"counts need the same bins on both sides, got {e.shape} and {a.shape}")
    if (e < 0).any() or (a < 0).any():
        raise ValueError("counts cannot be negative")
    r = np.maximum(e / max(e.sum(), 1.0), EPSILON)
    c = np.maximum(a / max(a.sum(), 1.0), EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def quantile_levels(bins: int) -> list[float]:
    """The probabilities of the inner edges: 1/bins, ..., (bins - 1)/bins."""
    return [float(q) for q in np.linspace(0, 1, bins + 1)[1:-1]]


def inner_edges(quantiles: ArrayLike) -> np.ndarray:
    """Edges from the reference's quantiles: NaN (no present value) dropped, equal merged."""
    values = np.asarray(quantiles, dtype=float)
    return np.unique(values[~np.isnan(values)])


def numeric_edges(reference: ArrayLike, bins: int = BINS) -> np.ndarray:
    """The inner edges of ``bins`` quantile bins of the reference's present values."""
    values = np.asarray(reference, dtype=float)
    present = values[~np.isnan(values)]
    if not len(present):
        return np.array([])
    return inner_edges(np.quantile(present, quantile_levels(bins)))


def numeric_counts(values: ArrayLike, edges: np.ndarray) -> np.ndarray:
    """Counts in ``(-inf, e1), [e1, e2), ..., [ek, inf)`` and of missing values (last)."""
    x = np.asarray(values, dtype=float)
    missing = np.isnan(x)
    index = np.searchsorted(edges, x[~missing], side="right")  # how many edges are <= x
    counts = np.bincount(index, minlength=len(edges) + 1).astype(float)
    return np.append(counts, float(missing.sum()))


def top_levels(reference_counts: Mapping[str, float], top: int = TOP_LEVELS) -> list[str]:
    """The reference's ``top`` most common levels, ties ranked by level."""
    return sorted(reference_counts, key=lambda v: (-reference_counts[v], v))[:top]


def level_counts(
    counts: Mapping[str, float], levels: Sequence[str], total: float, missing: float
) -> np.ndarray:
    """Counts of ``levels`` (in order), of every other level, and of missing values, for a
    side with ``total`` rows of which ``missing`` are missing."""
    named = [float(counts.get(v, 0)) for v in levels]
    return np.array([*named, total - missing - sum(named), missing], dtype=float)


def is_numeric(x: pd.Series) -> bool:
    """Binned as a number: numeric under the one rule of :mod:`sds.data.numeric` (numbers,
    booleans as 0/1), as an engine's schema says for ``sds monitor``; else by level."""
    return numeric_rule(x)


def series_counts(
    reference: pd.Series, current: pd.Series, bins: int = BINS, top: int = TOP_LEVELS
) -> tuple[np.ndarray, np.ndarray]:
    """Bin counts of both sides in memory: quantile bins if the reference is numeric,
    reference-ranked levels otherwise."""
    if is_numeric(reference):
        ref = reference.to_numpy(dtype=float, na_value=np.nan)
        cur = current.to_numpy(dtype=float, na_value=np.nan)
        edges = numeric_edges(ref, bins)
        return numeric_counts(ref, edges), numeric_counts(cur, edges)
    ref_text, cur_text = reference.astype("string"), current.astype("string")
    levels = top_levels({str(k): int(n) for k, n in ref_text.value_counts().items()}, top)

    def side(x: pd.Series) -> np.ndarray:
        counts = {str(k): int(n) for k, n in x.value_counts().items()}
        return level_counts(counts, levels, len(x), int(x.isna().sum()))

    return side(ref_text), side(cur_text)


def psi(reference: pd.Series, current: pd.Series, bins: int = BINS) -> float:
    """PSI of ``current`` against ``reference`` by the rules above, in memory."""
    return psi_from_counts(*series_counts(reference, current, bins))
