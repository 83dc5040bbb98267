"""Sample size, power and minimum detectable effect for two-arm comparisons.

One core serves every metric: the test statistic is an estimated difference ``D`` between a
treatment and the control, with per-unit variances under the alternative (``var_c``,
``var_t``) and under the null (``var0_c``, ``var0_t``), so that
``se(D) = sqrt(var_c / n_c + var_t / n_t)``. Power is

    P(reject) = Phi((delta - z * se0) / se1) [+ Phi((-delta - z * se0) / se1) if two-sided]

exactly as ``statsmodels.stats.power.normal_power_het`` computes it; the t method uses the
noncentral t distribution like ``TTestIndPower``. Sample size and MDE are found by root
finding on this power function, so power, n and MDE round-trip. The normal quantiles and
probabilities and the root finder come from :mod:`sds.stats.distributions` (the standard
library, equal to scipy's to 1e-12): ``sds design proportion`` imports no scipy; the t
method loads ``scipy.stats`` for the noncentral t.

Metric models (``MetricModel``) say how the variances depend on the effect:

- proportions: ``pooled`` (score test; statsmodels ``power_proportions_2indep``), ``unpooled``
  (Wald test), ``arcsine`` (Cohen's h; statsmodels ``NormalIndPower`` with
  ``proportion_effectsize``), optionally with Fleiss' continuity correction;
- means: ``z`` (known variance) and ``t`` (Student, pooled df);
- ratio metrics: ``delta`` (delta-method variance of a ratio of means, z test).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from sds.errors import AnalysisError, ParameterError
from sds.params import check
from sds.stats.distributions import brentq, norm_cdf, norm_isf, norm_sf

Variances = tuple[float, float, float, float]  # var_c, var_t, var0_c, var0_t


@dataclass(frozen=True)
class MetricModel:
    """How a metric's test behaves: the effect on the test scale and its variances.

    ``effect(delta)`` maps the difference in the metric (treatment minus control) to the
    difference the test sees; ``variances(delta)`` gives per-unit variances.
    ``continuity`` subtracts Fleiss' correction ``(1/n_c + 1/n_t) / 2`` from the effect.
    """

    name: str
    effect: Callable[[float], float]
    variances: Callable[[float], Variances]
    max_delta: float = math.inf
    min_delta: float = -math.inf
    t_test: bool = False
    continuity: bool = False


def proportion_model(
    baseline: float, method: str = "pooled", continuity: bool = False, ratio: float = 1.0
) -> MetricModel:
    """A conversion-rate model; ``delta`` is the absolute difference in rates.

    ``ratio`` (treatment:control units) weights the pooled rate of the ``pooled`` method.
    """
    check("baseline", baseline)
    check("ratio", ratio)
    p0 = baseline

    def unpooled(delta: float) -> Variances:
        p1 = p0 + delta
        return p0 * (1 - p0), p1 * (1 - p1), p0 * (1 - p0), p1 * (1 - p1)

    def pooled(delta: float) -> Variances:
        p1 = p0 + delta
        pbar = (p0 + ratio * p1) / (1 + ratio)
        return p0 * (1 - p0), p1 * (1 - p1), pbar * (1 - pbar), pbar * (1 - pbar)

    def arcsine(delta: float) -> float:
        return 2 * math.asin(math.sqrt(p0 + delta)) - 2 * math.asin(math.sqrt(p0))

    hi, lo = 1 - p0, -p0
    if method == "unpooled":
        return MetricModel("unpooled", _identity, unpooled, hi, lo, continuity=continuity)
    if method == "pooled":
        return MetricModel("pooled", _identity, pooled, hi, lo, continuity=continuity)
    if method == "arcsine":
        if continuity:
            raise ParameterError(
                "continuity == True, applies to the pooled and unpooled z-tests, not arcsine",
                parameter="continuity",
            )
        return MetricModel("arcsine", arcsine, lambda d: (1.0, 1.0, 1.0, 1.0), hi, lo)
    raise ParameterError(
        f"method == {method!r}, must be one of 'pooled', 'unpooled', 'arcsine'",
        parameter="method",
    )


def _identity(delta: float) -> float:
    return delta


def mean_model(std: float, method: str = "t") -> MetricModel:
    """A continuous metric with standard deviation ``std`` in both arms."""
    check("std", std)
    if method not in ("z", "t"):
        raise ParameterError(f"method == {method!r}, must be one of 'z', 't'", parameter="method")
    v = std**2
    return MetricModel(method, _identity, lambda d: (v, v, v, v), t_test=method == "t")


def ratio_model(unit_variance: float) -> MetricModel:
    """A ratio metric whose delta-method per-unit variance is ``unit_variance``."""
    check("std", math.sqrt(unit_variance) if unit_variance > 0 else 0.0)
    v = unit_variance
    return MetricModel("delta", _identity, lambda d: (v, v, v, v))


def metric_model(
    metric: str,
    method: str,
    *,
    baseline: float | None = None,
    std: float | None = None,
    continuity: bool = False,
    ratio: float = 1.0,
    factor: float = 1.0,
) -> MetricModel:
    """The model of a ``proportion`` (from ``baseline``), ``mean`` or ``ratio`` (from
    ``std``) metric; ``factor`` scales every variance (``1 - rho^2`` under CUPED)."""
    if metric == "proportion":
        assert baseline is not None
        model = proportion_model(baseline, method, continuity, ratio)
    elif metric == "mean":
        assert std is not None
        model = mean_model(std, method)
    else:
        assert std is not None
        model = ratio_model(std**2)
    if factor == 1.0:
        return model
    base = model.variances

    def scaled(delta: float) -> Variances:
        var_c, var_t, var0_c, var0_t = base(delta)
        return var_c * factor, var_t * factor, var0_c * factor, var0_t * factor

    return replace(model, variances=scaled)


def units_for(n_control: float, ratio: float, arms: int) -> tuple[int, ...]:
    """Rounded units per arm, control first (``n_control`` control units, ``ratio`` times
    as many in each treatment arm)."""
    treated = math.ceil(n_control * ratio - 1e-9)
    return (math.ceil(n_control - 1e-9), *([treated] * (arms - 1)))


def _side(alpha: float, alternative: str) -> float:
    return alpha / 2 if alternative == "two-sided" else alpha


def power_at(
    model: MetricModel,
    delta: float,
    n_c: float,
    ratio: float,
    alpha: float,
    alternative: str = "two-sided",
) -> float:
    """Power for ``n_c`` control units and ``ratio * n_c`` treatment units."""
    n_t = ratio * n_c
    var_c, var_t, var0_c, var0_t = model.variances(delta)
    se1 = math.sqrt(var_c / n_c + var_t / n_t)
    se0 = math.sqrt(var0_c / n_c + var0_t / n_t)
    effect = model.effect(delta)
    if model.continuity:
        effect = math.copysign(max(abs(effect) - (1 / n_c + 1 / n_t) / 2, 0.0), effect)
    if model.t_test:
        return _t_power(effect / se1, n_c + n_t - 2, alpha, alternative)
    a = _side(alpha, alternative)
    z = norm_isf(a)
    power = 0.0
    if alternative in ("two-sided", "greater"):
        power += norm_sf(z * se0 / se1 - effect / se1)
    if alternative in ("two-sided", "less"):
        power += norm_cdf(-z * se0 / se1 - effect / se1)
    return power


def _t_power(noncentrality: float, df: float, alpha: float, alternative: str) -> float:
    from scipy import stats  # the noncentral t: loaded for the t method only

    a = _side(alpha, alternative)
    crit = stats.t.isf(a, df)
    power = 0.0
    if alternative in ("two-sided", "greater"):
        upper = float(stats.nct.sf(crit, df, noncentrality))
        power += upper if math.isfinite(upper) else norm_sf(crit - noncentrality)
    if alternative in ("two-sided", "less"):
        # scipy's nct returns NaN deep in a tail (large df and noncentrality), where the
        # probability is far below 1e-15: the normal limit is exact enough there.
        lower = float(stats.nct.cdf(-crit, df, noncentrality))
        power += lower if math.isfinite(lower) else norm_cdf(-crit - noncentrality)
    return power


def solve_n(
    model: MetricModel,
    delta: float,
    power: float,
    ratio: float,
    alpha: float,
    alternative: str = "two-sided",
) -> float:
    """Control-arm units (not rounded) giving ``power`` to detect ``delta``."""
    _check_direction(delta, alternative)

    def gap(n: float) -> float:
        return power_at(model, delta, n, ratio, alpha, alternative) - power

    low, high = 2.0, 10.0
    while gap(high) < 0:
        low, high = high, high * 10
        if high > 1e13:
            raise AnalysisError(
                f"no sample size below 1e13 reaches power {power:g} for an effect of {delta:g}",
                hint="The effect is too small to detect; raise the MDE.",
            )
    if gap(low) >= 0:
        return low
    return brentq(gap, low, high, xtol=1e-9, rtol=1e-12)


def solve_power(
    model: MetricModel,
    delta: float,
    n_c: float,
    ratio: float,
    alpha: float,
    alternative: str = "two-sided",
) -> float:
    _check_direction(delta, alternative)
    return power_at(model, delta, n_c, ratio, alpha, alternative)


def solve_delta(
    model: MetricModel,
    n_c: float,
    power: float,
    ratio: float,
    alpha: float,
    alternative: str = "two-sided",
) -> float:
    """The smallest effect (signed by the alternative; upward for two-sided) with ``power``."""
    sign = -1.0 if alternative == "less" else 1.0
    limit = model.min_delta if sign < 0 else model.max_delta
    limit = sign * min(abs(limit) * (1 - 1e-9), 1e12)

    def gap(magnitude: float) -> float:
        return power_at(model, sign * magnitude, n_c, ratio, alpha, alternative) - power

    high = abs(limit)
    if gap(high) < 0:
        raise AnalysisError(
            f"with {n_c:,.0f} control units no effect up to {limit:g} reaches power {power:g}",
            hint="Collect more units or accept lower power.",
        )
    return sign * brentq(gap, 1e-12, high, xtol=1e-14, rtol=1e-12)


def _check_direction(delta: float, alternative: str) -> None:
    check("alternative", alternative)
    if (
        delta == 0
        or (alternative == "greater" and delta < 0)
        or (alternative == "less" and delta > 0)
    ):
        raise ParameterError(
            f"mde == {delta:g}, must be non-zero and in the direction of alternative "
            f"{alternative!r}",
            parameter="mde",
        )
