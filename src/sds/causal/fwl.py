"""One slope after two-way effects are partialled out, with pyfixest's CRV1 errors.

By Frisch-Waugh-Lovell, the coefficient of a regressor in ``y ~ x | unit + time`` is the
slope of demeaned y on demeaned x. For a balanced panel the demeaning has a closed form
(x minus its unit mean and its period mean, plus the grand mean); otherwise pyfixest's
alternating projections do it. The errors are cluster-robust (CRV1) with the small-sample
factor pyfixest applies: G/(G-1) * (n-1)/(n-K), where K counts the slope and the period
levels, and the unit levels too when units are not nested in the clusters. Tests check
every figure against pyfixest's ``feols``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class Slope:
    estimate: float
    std_error: float
    ci_lower: float
    ci_upper: float
    p_value: float

    @classmethod
    def from_tidy(cls, row: pd.Series) -> Slope:
        """A row of pyfixest's ``tidy()`` (its interval columns are the 5th and 6th)."""
        return cls(
            float(row["Estimate"]),
            float(row["Std. Error"]),
            float(row.iloc[4]),
            float(row.iloc[5]),
            float(row["Pr(>|t|)"]),
        )


def partial_out(
    values: np.ndarray, units: np.ndarray, periods: np.ndarray, weights: np.ndarray | None
) -> np.ndarray:
    """Each column of ``values`` minus its unit and period effects (codes from 0)."""
    if weights is None:
        closed = balanced_demean(values, units, periods)
        if closed is not None:
            return closed
    from pyfixest.estimation import demean

    codes = np.column_stack([units, periods]).astype(np.uint64)
    w = np.ones(len(values)) if weights is None else weights
    out, _ = demean(np.ascontiguousarray(values, dtype=np.float64), codes, w)
    return np.asarray(out)


def balanced_demean(
    values: np.ndarray, units: np.ndarray, periods: np.ndarray
) -> np.ndarray | None:
    """The closed form, exact only when every unit is seen once in every period (else
    None)."""
    n_units, n_periods = int(units.max()) + 1, int(periods.max()) + 1
    if len(values) != n_units * n_periods:
        return None
    if (np.bincount(units, minlength=n_units) != n_periods).any():
        return None
    if (np.bincount(periods, minlength=n_periods) != n_units).any():
        return None
    out = np.empty(values.shape, dtype=np.float64)
    for j in range(values.shape[1]):
        v = values[:, j].astype(np.float64)
        by_unit = np.bincount(units, weights=v, minlength=n_units) / n_periods
        by_period = np.bincount(periods, weights=v, minlength=n_periods) / n_units
        out[:, j] = v - by_unit[units] - by_period[periods] + v.mean()
    return out


def crv1_slope(
    y: np.ndarray,
    x: np.ndarray,
    groups: np.ndarray,
    k: int,
    confidence: float,
    weights: np.ndarray | None = None,
) -> Slope | None:
    """The slope of demeaned ``y`` on demeaned ``x`` with CRV1 errors (None if x is 0)."""
    w = np.ones(len(y)) if weights is None else weights
    sxx = float((w * x * x).sum())
    if sxx < 1e-12:
        return None
    beta = float((w * x * y).sum() / sxx)
    g = int(groups.max()) + 1
    n = len(y)
    score = np.bincount(groups, weights=w * x * (y - beta * x), minlength=g)
    se = float(np.sqrt(g / (g - 1) * (n - 1) / (n - k) * (score**2).sum()) / sxx)
    tq = float(stats.t.ppf(0.5 + confidence / 2, g - 1))
    p = float(2 * stats.t.sf(abs(beta / se), g - 1))
    return Slope(beta, se, beta - tq * se, beta + tq * se, p)


def small_sample_k(units: np.ndarray, groups: np.ndarray, n_periods: int) -> int:
    """pyfixest's K for one slope with unit and period effects."""
    nested = bool(pd.Series(groups).groupby(units).nunique().max() == 1)
    return 1 + n_periods + (0 if nested else int(units.max()))
