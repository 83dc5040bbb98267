"""Two proportions compared: the one home of the two-proportion test in sds.

:func:`compare_proportions` states treatment minus control as an :class:`Estimate`, with one
small-count rule used by ``sds stats ztest``, ``sds analyze`` and the canary:

- when any arm has fewer than :data:`SMALL_COUNT` (5) successes or failures: Fisher's exact
  p-value (scipy ``fisher_exact``) and Newcombe's hybrid-score interval (statsmodels
  ``confint_proportions_2indep(method="newcomb")``);
- otherwise the z test with the pooled variance (statsmodels ``proportions_ztest``) and the
  Wald interval with the unpooled variance (``confint_proportions_2indep(method="wald")``).

The interval is always two-sided at ``1 - alpha``; ``alternative`` sets only the p-value
(``greater``: the treatment's proportion is above the control's). The method text says
which branch was taken. :func:`relative_proportions` gives ``p_t / p_c - 1`` with the
delta-method interval on the log scale, which stays inside (-1, inf).
"""

from __future__ import annotations

import math

from scipy import stats

from sds.errors import DataError
from sds.params import check
from sds.stats.estimate import Estimate

SMALL_COUNT = 5
Z_METHOD = "two-proportion z (pooled test, unpooled Wald interval)"
EXACT_METHOD = "Fisher exact; Newcombe interval (small counts)"
_SM_ALTERNATIVE = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}


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
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    check("alpha", alpha)
    check("alternative", alternative)
    _check_counts(x_treatment, n_treatment, "treatment")
    _check_counts(x_control, n_control, "control")
    xt, nt, xc, nc = int(x_treatment), int(n_treatment), int(x_control), int(n_control)
    pt, pc = xt / nt, xc / nc
    se = math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    statistic: float | None
    if small_counts(xt, nt, xc, nc):
        table = [[xt, nt - xt], [xc, nc - xc]]
        p = float(stats.fisher_exact(table, alternative=alternative).pvalue)
        interval = "newcomb"
        statistic, method = None, EXACT_METHOD
    else:
        z, p_z = proportions_ztest([xt, xc], [nt, nc], alternative=_SM_ALTERNATIVE[alternative])
        statistic, p, interval, method = float(z), float(p_z), "wald", Z_METHOD
    low, high = confint_proportions_2indep(
        xt, nt, xc, nc, method=interval, compare="diff", alpha=alpha
    )
    if alternative != "two-sided":
        method += f"; one-sided p ({alternative})"
    return Estimate(
        pt - pc, se, float(low), float(high), p, 1 - alpha, method, contrast, statistic, None
    )


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
    half = math.exp(float(stats.norm.isf(alpha / 2)) * se_log)
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
