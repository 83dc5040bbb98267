"""Treatment-versus-control effects from two groups' moments.

- Proportions: two-proportion z test with the pooled variance; Wald interval with the
  unpooled variance (statsmodels ``proportions_ztest`` / ``confint_proportions_2indep``).
  When any arm has fewer than 5 successes or failures: Fisher's exact p-value and Newcombe's
  hybrid-score interval.
- Means and ratio metrics: Welch t on the (delta-method) per-unit variances; a mean is a
  ratio with denominator 1. CUPED: theta from both arms pooled, as in tea-tasting and
  Deng et al. (2013); the report gives theta and the variance reduction achieved.
- Relative effect: treatment / control - 1 with an interval from the delta method on the
  log scale (exp of log-ratio +- t * se), which keeps the interval inside (-1, inf).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.records import CONTRAST, Comparison, Cuped, RelativeEffect
from sds.stats.distributions import t_isf
from sds.stats.estimate import Estimate
from sds.stats.proportions import compare_proportions, relative_proportions
from sds.stats.twosample import difference_t, scale_and_df


@dataclass(frozen=True)
class RatioTerms:
    """What a ratio of means divides: ``num / den`` per arm (``den`` None: a plain mean),
    and the pre-period ``num_covariate / den_covariate`` for CUPED (None: no adjustment).
    ``delta``: the method names the delta method (a true ratio)."""

    num: str | None
    den: str | None
    num_covariate: str | None = None
    den_covariate: str | None = None
    delta: bool = False


def two_proportions(column: str, control: Moments, treatment: Moments, alpha: float) -> Comparison:
    """Treatment against control on the share of units with ``column`` = 1."""
    return _proportion(column, control, treatment, alpha).at_level(1 - alpha)


def ratio_of_means(
    terms: RatioTerms, control: Moments, treatment: Moments, alpha: float, equal_var: bool
) -> Comparison:
    """Treatment against control on a mean or a ratio of means, CUPED-adjusted when the
    terms name a covariate."""
    return _ratio_of_means(terms, control, treatment, alpha, equal_var).at_level(1 - alpha)


def _proportion(column: str, c: Moments, t: Moments, alpha: float) -> Comparison:
    # successes: n * mean of a 0/1 column is a whole number up to rounding
    xc, nc, xt, nt = float(round(c.total(column))), c.n, float(round(t.total(column))), t.n
    est = compare_proportions(xt, nt, xc, nc, alpha=alpha, contrast=CONTRAST)
    rel = _relative_z(xc / nc, xt / nt, xc, xt, nc, nt, alpha)
    statistic = float("nan") if est.statistic is None else est.statistic
    assert est.estimate is not None and est.ci_lower is not None and est.ci_upper is not None
    assert est.p_value is not None
    return _row(
        xc / nc,
        xt / nt,
        nc,
        nt,
        est.estimate,
        est.ci_lower,
        est.ci_upper,
        rel,
        statistic,
        None,
        est.p_value,
        est.method,
        est.std_error,
    )


def _relative_z(
    pc: float, pt: float, xc: float, xt: float, nc: float, nt: float, alpha: float
) -> tuple[float | None, float | None, float | None]:
    rel = relative_proportions(xt, nt, xc, nc, alpha=alpha)
    return rel.estimate, rel.ci_lower, rel.ci_upper


def _ratio_of_means(
    terms: RatioTerms, c: Moments, t: Moments, alpha: float, equal_var: bool
) -> Comparison:
    num, den, xn, xd = terms.num, terms.den, terms.num_covariate, terms.den_covariate
    theta, cuped = 0.0, None
    if xn:
        total = c + t
        var_x = total.ratio_var(xn, xd)
        theta = total.ratio_cov(num, den, xn, xd) / var_x if var_x > 0 else 0.0
        center = total.ratio(xn, xd)

    def value(m: Moments) -> float:
        out = m.ratio(num, den)
        return out - theta * (m.ratio(xn, xd) - center) if xn else out

    def variance(m: Moments) -> float:
        var = m.ratio_var(num, den)
        if xn:
            var += theta * theta * m.ratio_var(xn, xd) - 2 * theta * m.ratio_cov(num, den, xn, xd)
        return var

    vc, vt = value(c), value(t)
    var_c, var_t = variance(c), variance(t)
    diff = vt - vc
    if den is None and num is not None and xd is None:
        # from the means' offsets: a difference of two means near 1e8 keeps its digits
        tc = t.rebased(c.origin)
        diff = tc.offset(num) - c.offset(num)
        if xn:
            diff -= theta * (tc.offset(xn) - c.offset(xn))
    if xn:
        raw = c.ratio_var(num, den) / c.n + t.ratio_var(num, den) / t.n
        adjusted = var_c / c.n + var_t / t.n
        cuped = Cuped(
            theta=theta,
            variance_reduction=1 - adjusted / raw if raw > 0 else 0.0,
            unadjusted_control=c.ratio(num, den),
            unadjusted_treatment=t.ratio(num, den),
        )
    method = ("Student t" if equal_var else "Welch t") + (" (delta method)" if terms.delta else "")
    method += ", CUPED" if xn else ""
    est = difference_t(
        diff, t.n, var_t, c.n, var_c, alpha=alpha, equal_var=equal_var, method=method
    )
    rel = _relative_t(vc, vt, var_c, c.n, var_t, t.n, alpha, equal_var)
    nan = float("nan")
    row = _row(
        vc,
        vt,
        c.n,
        t.n,
        diff,
        nan if est.ci_lower is None else est.ci_lower,
        nan if est.ci_upper is None else est.ci_upper,
        rel,
        nan if est.statistic is None else est.statistic,
        est.df,
        1.0 if est.p_value is None else est.p_value,
        method,
        nan if est.std_error is None else est.std_error,
    )
    return replace(row, cuped=cuped, reports_cuped=True)


def _welch(
    var_c: float, nc: float, var_t: float, nt: float, equal_var: bool = False
) -> tuple[float, float]:
    return scale_and_df(nt, var_t, nc, var_c, equal_var=equal_var)


def _relative_t(
    vc: float,
    vt: float,
    var_c: float,
    nc: float,
    var_t: float,
    nt: float,
    alpha: float,
    equal_var: bool,
) -> tuple[float | None, float | None, float | None]:
    if vc <= 0 or vt <= 0:
        return (vt / vc - 1 if vc else None), None, None
    scale, df = _welch(var_c / vc / vc, nc, var_t / vt / vt, nt, equal_var)
    half = math.exp(t_isf(alpha / 2, df) * scale)
    ratio = vt / vc
    return ratio - 1, ratio / half - 1, ratio * half - 1


def _row(
    control: float,
    treatment: float,
    nc: float,
    nt: float,
    diff: float,
    low: float,
    high: float,
    rel: tuple[float | None, float | None, float | None],
    statistic: float,
    df: float | None,
    p: float,
    method: str,
    se: float | None = None,
) -> Comparison:
    """The comparison from its figures (the level is set by the public functions above)."""
    estimate = Estimate(diff, se, low, high, p, 0.95, method, CONTRAST, statistic, df)
    finite = all(v is None or math.isfinite(v) for v in (low, high, se))
    return comparison(control, treatment, nc, nt, estimate, rel, complete=finite)


def comparison(
    control: float | None,
    treatment: float | None,
    nc: float,
    nt: float,
    estimate: Estimate,
    rel: tuple[float | None, float | None, float | None],
    *,
    complete: bool = True,
) -> Comparison:
    """A comparison from each arm's value and size, the absolute effect's estimate and the
    relative effect with its interval."""
    return Comparison(
        control,
        treatment,
        int(nc),
        int(nt),
        estimate,
        RelativeEffect.of(rel),
        complete=complete and estimate.estimate is not None,
    )
