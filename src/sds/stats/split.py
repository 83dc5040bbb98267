"""The chi-square of a split: do observed counts follow the shares they were meant to?

One home for every sample-ratio check in sds: :func:`split_test` (goodness of fit of arm
sizes to the designed shares: ``sds srm``, the daily SRM of an analysis, the canary's
traffic split) and :func:`mix_test` (do all arms show the same mix of a segment: the
segment-mix check of an analysis). They equal scipy's ``chisquare`` and ``chi2_contingency``
(without continuity correction) and are tested against them and R's ``chisq.test``;
:func:`split_test` is written in the standard library (:func:`sds.stats.distributions.chi2_sf`),
so ``sds srm`` does not import numpy or scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sds.stats.distributions import chi2_sf


@dataclass(frozen=True)
class ChiSquare:
    """A chi-square statistic, its degrees of freedom and p-value."""

    chi2: float
    df: int
    p_value: float


def split_test(counts: Sequence[float], shares: Sequence[float]) -> ChiSquare:
    """Goodness of fit of ``counts`` to ``shares`` (which sum to 1); p = 1 with no units."""
    observed = [float(c) for c in counts]
    share = [float(s) for s in shares]
    if len(observed) != len(share) or len(observed) < 2:
        raise ValueError(f"{len(observed)} counts for {len(share)} shares; need 2 or more of each")
    total = sum(observed)
    if total <= 0:
        return ChiSquare(0.0, len(observed) - 1, 1.0)
    scale = sum(share)
    chi2 = sum(_cell(o, s / scale * total) for o, s in zip(observed, share, strict=True))
    return ChiSquare(chi2, len(observed) - 1, chi2_sf(chi2, len(observed) - 1))


def _cell(observed: float, expected: float) -> float:
    """One cell's ``(O - E)^2 / E``; an arm designed to get no units but given some is an
    infinite mismatch (as in scipy)."""
    if expected == 0:
        return math.nan if observed == 0 else math.inf
    return (observed - expected) ** 2 / expected


def mix_test(table: Sequence[Sequence[float]]) -> ChiSquare:
    """Independence of rows (arms) and columns (segment levels); empty columns are dropped.

    Fewer than two non-empty levels or arms cannot differ: chi2 0, df 0, p 1.
    """
    import numpy as np  # loaded for a segment mix, not for sds srm

    counts = np.asarray(table, dtype=float)
    used = counts[:, counts.sum(axis=0) > 0]
    used = used[used.sum(axis=1) > 0]
    if used.ndim != 2 or used.shape[0] < 2 or used.shape[1] < 2:
        return ChiSquare(0.0, 0, 1.0)
    # as scipy's chi2_contingency: expected from the margins, Pearson's statistic over all cells
    expected = used.sum(axis=1, keepdims=True) * used.sum(axis=0, keepdims=True) / used.sum()
    statistic = float(np.sum((used - expected) ** 2 / expected))
    df = (used.shape[0] - 1) * (used.shape[1] - 1)
    return ChiSquare(statistic, df, chi2_sf(statistic, df))


SHARE_RTOL = 1e-9
"""Relative slack of the share rule: a deviation equal to the tolerance up to rounding
(50,500 of 100,000 against a 50% share is 1% up to the last bit) is not over it."""


def max_share_deviation(counts: Sequence[float], shares: Sequence[float]) -> float:
    """The largest relative gap between an arm's observed and designed share, in counts
    (``|observed - expected| / expected``), which keeps round figures round."""
    total = float(sum(counts))
    if total <= 0:
        return 0.0
    return max(
        abs(c - s * total) / (s * total) for c, s in zip(counts, shares, strict=True) if s > 0
    )


def share_rule(
    counts: Sequence[float], shares: Sequence[float], share_tolerance: float = 0.01
) -> dict[str, float | bool]:
    """The share rule of thumb's two fields, reported beside (never instead of) the p-value
    flag: the largest relative share deviation and whether it exceeds ``share_tolerance``."""
    deviation = max_share_deviation(counts, shares)
    return {
        "max_share_deviation": deviation,
        "share_deviation_over_tolerance": deviation > share_tolerance * (1 + SHARE_RTOL),
    }
