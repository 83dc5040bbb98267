"""Standardised effect sizes with confidence intervals.

Each interval and its source:

- Cohen's d and Hedges' g: Hedges & Olkin (1985, p. 86),
  ``d +- t_{df, 1-a/2} sqrt(1/n_x + 1/n_y + d^2 / (2 (n_x + n_y)))`` (one sample or paired:
  ``sqrt(1/n + d^2 / (2 n))``), applied to g for Hedges' g, as pingouin's ``compute_esci``.
  Hedges' g is ``J d`` with ``J = 1 - 3 / (4 df - 1)``.
- Glass's delta (control standard deviation): Algina, Keselman & Penfield (2006), without
  assuming equal variances, ``sqrt(s_x^2 / (s_y^2 n_x) + 1/n_y + delta^2 / (2 (n_y - 1)))``
  with a normal critical value.
- Correlations (Pearson, Spearman, Kendall): Fisher's z with ``SE = 1 / sqrt(n - 3)``.
- Rank-biserial: Fisher's z with ``SE = sqrt((n_x + n_y + 1) / (3 n_x n_y))`` (two samples)
  or ``sqrt(n (n + 1) (2n + 1) / 6) / (n (n + 1) / 2)`` (matched pairs), as R's effectsize.
- Cramér's V, phi and eta squared: inversion of the non-centrality parameter of the
  chi-square or F distribution (Smithson 2003, "Confidence Intervals", ch. 4-5): the limits
  are the non-centralities under which the observed statistic sits at the 1-a/2 and a/2
  quantiles; the lower limit is 0 when the test does not reject at level a (as confintr).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

Interval = tuple[float, float]


def cohen_d_two(x: np.ndarray, y: np.ndarray) -> float:
    nx, ny = len(x), len(y)
    pooled = ((nx - 1) * np.var(x, ddof=1) + (ny - 1) * np.var(y, ddof=1)) / (nx + ny - 2)
    return float((np.mean(x) - np.mean(y)) / math.sqrt(pooled))


def cohen_d_one(values: np.ndarray, mu: float = 0.0) -> float:
    return float((np.mean(values) - mu) / np.std(values, ddof=1))


def hedges_correction(df: float) -> float:
    return 1 - 3 / (4 * df - 1)


def d_interval(d: float, nx: int, ny: int | None, confidence: float = 0.95) -> Interval:
    """Hedges & Olkin interval for a Cohen-type d (``ny=None`` for one sample or paired)."""
    if ny is None:
        se = math.sqrt(1 / nx + d**2 / (2 * nx))
        df = nx - 1
    else:
        se = math.sqrt((nx + ny) / (nx * ny) + d**2 / (2 * (nx + ny)))
        df = nx + ny - 2
    crit = float(stats.t.ppf((1 + confidence) / 2, df))
    return d - crit * se, d + crit * se


def glass_delta(x: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> tuple[float, Interval]:
    """Mean difference over the standard deviation of ``y`` (the control), with its interval."""
    nx, ny = len(x), len(y)
    ratio = float(np.var(x, ddof=1) / np.var(y, ddof=1))
    delta = float((np.mean(x) - np.mean(y)) / np.std(y, ddof=1))
    se = math.sqrt(ratio / nx + 1 / ny + delta**2 / (2 * (ny - 1)))
    z = float(stats.norm.ppf((1 + confidence) / 2))
    return delta, (delta - z * se, delta + z * se)


def fisher_z_interval(r: float, se: float, confidence: float = 0.95) -> Interval:
    """Interval for a correlation-type measure through Fisher's z (limits clipped to [-1, 1])."""
    if abs(r) >= 1:
        return r, r
    z = float(stats.norm.ppf((1 + confidence) / 2))
    centre = math.atanh(r)
    return math.tanh(centre - z * se), math.tanh(centre + z * se)


def correlation_interval(r: float, n: int, confidence: float = 0.95) -> Interval:
    return fisher_z_interval(r, 1 / math.sqrt(n - 3), confidence) if n > 3 else (-1.0, 1.0)


def rank_biserial_interval(
    r: float, nx: int, ny: int | None = None, confidence: float = 0.95
) -> Interval:
    """Interval for the rank-biserial correlation (``ny=None`` for matched pairs)."""
    if ny is None:
        se = math.sqrt(nx * (nx + 1) * (2 * nx + 1) / 6) / (nx * (nx + 1) / 2)
    else:
        se = math.sqrt((nx + ny + 1) / (3 * nx * ny))
    return fisher_z_interval(r, se, confidence)


def _ncp_limits(cdf: object, statistic: float, confidence: float) -> Interval:
    """Non-centralities putting ``statistic`` at the upper and lower tail quantiles."""
    a = (1 - confidence) / 2

    def solve(target: float) -> float:
        def gap(ncp: float) -> float:
            return float(cdf(statistic, ncp)) - target  # type: ignore[operator]

        if gap(0.0) <= 0:  # even the central distribution puts the statistic below target
            return 0.0
        high = max(10.0, 2 * statistic)
        while gap(high) > 0:
            high *= 2
        return float(optimize.brentq(gap, 0.0, high, xtol=1e-10))

    return solve(1 - a), solve(a)


def cramers_v_interval(chi2: float, n: int, df: int, k: int, confidence: float = 0.95) -> Interval:
    """Interval for Cramér's V (phi for a 2x2 table), ``k`` the smaller table dimension."""
    low, high = _ncp_limits(lambda x, ncp: stats.ncx2.cdf(x, df, ncp), chi2, confidence)
    scale = n * (k - 1)
    lower = 0.0 if low == 0 else math.sqrt(min((low + df) / scale, 1.0))
    return lower, math.sqrt(min((high + df) / scale, 1.0))


def eta_squared_interval(f: float, df1: float, df2: float, confidence: float = 0.95) -> Interval:
    """Interval for eta squared from an F statistic: ``ncp / (ncp + df1 + df2 + 1)``."""
    low, high = _ncp_limits(lambda x, ncp: stats.ncf.cdf(x, df1, df2, ncp), f, confidence)
    n = df1 + df2 + 1
    return low / (low + n), high / (high + n)
