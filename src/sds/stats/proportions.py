"""Two proportions compared: the one home of the two-proportion test in sds.

:func:`compare_proportions` states treatment minus control as an :class:`Estimate`, with one
small-count rule used by ``sds stats ztest``, ``sds analyze`` and the canary:

- when any arm has fewer than :data:`SMALL_COUNT` (5) successes or failures: Fisher's exact
  p-value (scipy ``fisher_exact``) and Newcombe's hybrid-score interval (statsmodels
  ``confint_proportions_2indep(method="newcomb")``);
- otherwise the z test with the pooled variance (statsmodels ``proportions_ztest``) and the
  Wald interval with the unpooled variance (``confint_proportions_2indep(method="wald")``),
  computed here with statsmodels' own arithmetic and the normal tails of
  :mod:`sds.stats.distributions`, so an analysis does not import statsmodels and scipy.stats (about
  2 s) for two closed forms; tests/stats hold them equal to statsmodels.

The interval is always two-sided at ``1 - alpha``; ``alternative`` sets only the p-value
(``greater``: the treatment's proportion is above the control's). The method text says
which branch was taken. :func:`relative_proportions` gives ``p_t / p_c - 1`` with the
delta-method interval on the log scale, which stays inside (-1, inf).
"""

from __future__ import annotations

import math

from sds.errors import DataError
from sds.params import check
from sds.stats.distributions import norm_cdf, norm_isf, norm_sf
from sds.stats.estimate import Estimate

SMALL_COUNT = 5
Z_METHOD = "two-proportion z (pooled test, unpooled Wald interval)"
EXACT_METHOD = "Fisher exact; Newcombe interval (small counts)"


def _check_counts(x: float, n: float, arm: str) -> None:
    if not n > 0 or not 0 <= x <= n or x != math.floor(x) or n != math.floor(n):
        raise DataError(
            f"the {arm} arm has {x} successes out of {n}",
            expected="whole numbers, a positive total and 0 <= successes <= total",
        )


def small_counts(
    x_treatment: float, n_treatment: float, x_control: float, n_control: float
) -> bool:
    """The small-count rule: an arm has fewer than 5 successes or failures."""
    cells = (x_treatment, n_treatment - x_treatment, x_control, n_control - x_control)
    return min(cells) < SMALL_COUNT


def compare_proportions(
    x_treatment: float,
    n_treatment: float,
    x_control: float,
    n_control: float,
    *,
    alpha: float = 0.05,
    contrast: str = "treatment - control",
    alternative: str = "two-sided",
) -> Estimate:
    """``p_t - p_c`` with its interval and p-value (Fisher and Newcombe on small counts)."""
    check("alpha", alpha)
    check("alternative", alternative)
    _check_counts(x_treatment, n_treatment, "treatment")
    _check_counts(x_control, n_control, "control")
    xt, nt, xc, nc = int(x_treatment), int(n_treatment), int(x_control), int(n_control)
    pt, pc = xt / nt, xc / nc
    se = math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    statistic: float | None
    if small_counts(xt, nt, xc, nc):
        statistic, method = None, EXACT_METHOD
        p, low, high = _exact(xt, nt, xc, nc, alpha, alternative)
    else:
        statistic, method = _z(xt, nt, xc, nc), Z_METHOD
        p = _z_p(statistic, alternative)
        half = norm_isf(alpha / 2) * se  # Wald: the unpooled variance
        low, high = pt - pc - half, pt - pc + half
    if alternative != "two-sided":
        method += f"; one-sided p ({alternative})"
    return Estimate(
        pt - pc, se, float(low), float(high), p, 1 - alpha, method, contrast, statistic, None
    )


def _z(xt: int, nt: int, xc: int, nc: int) -> float:
    """statsmodels' ``proportions_ztest`` statistic: the difference over the pooled standard
    error (the caller's small-count rule keeps the pooled share inside (0, 1))."""
    pooled = (xt + xc) / (nt + nc)
    return (xt / nt - xc / nc) / math.sqrt(pooled * (1 - pooled) * (1.0 / nt + 1.0 / nc))


def _z_p(statistic: float, alternative: str) -> float:
    """The normal p-value of ``statistic`` (statsmodels' ``_zstat_generic2``)."""
    if alternative == "two-sided":
        return norm_sf(abs(statistic)) * 2
    return norm_sf(statistic) if alternative == "greater" else norm_cdf(statistic)


def _exact(
    xt: int, nt: int, xc: int, nc: int, alpha: float, alternative: str
) -> tuple[float, float, float]:
    """Fisher's exact p-value and Newcombe's interval: small counts only, so their heavy
    imports are paid only there."""
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep

    table = [[xt, nt - xt], [xc, nc - xc]]
    p = float(stats.fisher_exact(table, alternative=alternative).pvalue)
    low, high = confint_proportions_2indep(
        xt, nt, xc, nc, method="newcomb", compare="diff", alpha=alpha
    )
    return p, float(low), float(high)


def relative_proportions(
    x_treatment: float,
    n_treatment: float,
    x_control: float,
    n_control: float,
    *,
    alpha: float = 0.05,
    contrast: str = "treatment / control - 1",
) -> Estimate:
    """``p_t / p_c - 1`` with the interval ``exp(log(ratio) +- z se_log) - 1``, where
    ``se_log = sqrt(1/x_t - 1/n_t + 1/x_c - 1/n_c)``; no interval when an arm has no success,
    no estimate when the control has none. No p-value: the test is the one on the difference."""
    check("alpha", alpha)
    _check_counts(x_treatment, n_treatment, "treatment")
    _check_counts(x_control, n_control, "control")
    pt, pc = x_treatment / n_treatment, x_control / n_control
    method = "risk ratio minus 1, log-scale delta-method interval"
    if x_treatment <= 0 or x_control <= 0:
        value = pt / pc - 1 if pc > 0 else None
        return Estimate(value, None, None, None, None, 1 - alpha, method, contrast)
    se_log = math.sqrt(1 / x_treatment - 1 / n_treatment + 1 / x_control - 1 / n_control)
    half = math.exp(norm_isf(alpha / 2) * se_log)
    ratio = pt / pc
    return Estimate(
        ratio - 1,
        ratio * se_log,
        ratio / half - 1,
        ratio * half - 1,
        None,
        1 - alpha,
        method,
        contrast,
    )
