"""Two means compared from sufficient statistics (n, mean, variance): Welch or Student.

The one home of the two-sample t in sds: ``sds stats ttest/welch/student`` (from the raw
values' moments) and ``sds analyze`` (from per-unit, delta-method or CUPED-adjusted
variances) both call :func:`mean_difference` or, when the caller already holds the
difference more precisely than ``mean_t - mean_c`` (means near 1e8), :func:`difference_t`.

Welch: standard error ``sqrt(v_t/n_t + v_c/n_c)`` with Welch-Satterthwaite degrees of freedom;
Student (``equal_var``): the pooled variance on ``n_t + n_c - 2`` degrees of freedom. Equal to
``scipy.stats.ttest_ind_from_stats`` and statsmodels ``CompareMeans.tconfint_diff``. A
one-sided ``alternative`` gives the one-sided p-value and interval (scipy's convention),
the open end stored as ``None``.
"""

from __future__ import annotations

import math

from sds.params import check
from sds.stats.distributions import t_cdf, t_isf, t_sf
from sds.stats.estimate import Estimate


def scale_and_df(
    n_t: float, var_t: float, n_c: float, var_c: float, *, equal_var: bool = False
) -> tuple[float, float]:
    """Standard error of ``mean_t - mean_c`` and its degrees of freedom."""
    if equal_var:
        df = n_t + n_c - 2
        pooled = ((n_t - 1) * var_t + (n_c - 1) * var_c) / df
        return math.sqrt(pooled / n_t + pooled / n_c), df
    mt, mc = var_t / n_t, var_c / n_c
    denom = mt * mt / (n_t - 1) + mc * mc / (n_c - 1)
    df = (mt + mc) ** 2 / denom if denom > 0 else n_t + n_c - 2
    return math.sqrt(mt + mc), df


def _method(equal_var: bool, alternative: str) -> str:
    name = "Student t (pooled variance)" if equal_var else "Welch t"
    return name if alternative == "two-sided" else f"{name}; one-sided ({alternative})"


def difference_t(
    difference: float,
    n_t: float,
    var_t: float,
    n_c: float,
    var_c: float,
    *,
    alpha: float = 0.05,
    equal_var: bool = False,
    contrast: str = "treatment - control",
    alternative: str = "two-sided",
    method: str | None = None,
) -> Estimate:
    """The t estimate of a difference of two means given directly (see the module doc).

    With a zero standard error (nothing varies) the statistic is not computable (None), the
    interval is the point itself and the p-value is 1; with a group of fewer than 2 or a NaN
    variance only the difference is given."""
    check("alpha", alpha)
    check("alternative", alternative)
    label = method or _method(equal_var, alternative)
    if min(n_t, n_c) < 2 or math.isnan(var_t) or math.isnan(var_c):  # no variance to use
        return Estimate(difference, None, None, None, None, 1 - alpha, label, contrast)
    scale, df = scale_and_df(n_t, var_t, n_c, var_c, equal_var=equal_var)
    if not scale > 0:
        point = difference
        return Estimate(point, scale, point, point, 1.0, 1 - alpha, label, contrast, None, df)
    statistic = difference / scale
    if alternative == "two-sided":
        crit = t_isf(alpha / 2, df)
        p = 2 * t_sf(abs(statistic), df)
        low, high = difference - crit * scale, difference + crit * scale
    elif alternative == "greater":
        p = t_sf(statistic, df)
        low, high = difference - t_isf(alpha, df) * scale, math.inf
    else:
        p = t_cdf(statistic, df)
        low, high = -math.inf, difference + t_isf(alpha, df) * scale
    return Estimate(difference, scale, low, high, p, 1 - alpha, label, contrast, statistic, df)


def mean_difference(
    n_t: float,
    mean_t: float,
    var_t: float,
    n_c: float,
    mean_c: float,
    var_c: float,
    *,
    alpha: float = 0.05,
    equal_var: bool = False,
    contrast: str = "treatment - control",
    alternative: str = "two-sided",
) -> Estimate:
    """``mean_t - mean_c`` by Welch's t (default) or Student's (``equal_var``), from each
    group's size, mean and variance (ddof 1)."""
    return difference_t(
        mean_t - mean_c,
        n_t,
        var_t,
        n_c,
        var_c,
        alpha=alpha,
        equal_var=equal_var,
        contrast=contrast,
        alternative=alternative,
    )
