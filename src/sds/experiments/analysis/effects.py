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
from typing import Any

from scipy import stats

from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.spec import MetricSpec

SMALL_COUNT = 5


def compare(
    metric: MetricSpec,
    control: Moments,
    treatment: Moments,
    alpha: float,
    equal_var: bool = False,
) -> dict[str, Any]:
    """The effect row for one metric and one treatment arm."""
    if metric.type == "proportion":
        assert metric.column is not None
        return _proportion(metric.column, control, treatment, alpha)
    return _ratio_of_means(metric, control, treatment, alpha, equal_var)


def _proportion(column: str, c: Moments, t: Moments, alpha: float) -> dict[str, Any]:
    # successes: n * mean of a 0/1 column is a whole number up to rounding
    xc, nc, xt, nt = float(round(c.total(column))), c.n, float(round(t.total(column))), t.n
    pc, pt = xc / nc, xt / nt
    diff = pt - pc
    small = min(xc, nc - xc, xt, nt - xt) < SMALL_COUNT
    if small:
        from statsmodels.stats.proportion import confint_proportions_2indep

        table = [[int(xt), int(nt - xt)], [int(xc), int(nc - xc)]]
        p = float(stats.fisher_exact(table).pvalue)
        low, high = confint_proportions_2indep(
            int(xt), int(nt), int(xc), int(nc), method="newcomb", compare="diff", alpha=alpha
        )
        statistic, method = float("nan"), "Fisher exact; Newcombe interval (small counts)"
    else:
        pooled = (xc + xt) / (nc + nt)
        se0 = math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt))
        statistic = diff / se0 if se0 > 0 else float("nan")
        p = float(2 * stats.norm.sf(abs(statistic))) if se0 > 0 else 1.0
        se = math.sqrt(pc * (1 - pc) / nc + pt * (1 - pt) / nt)
        z = stats.norm.isf(alpha / 2)
        low, high = diff - z * se, diff + z * se
        method = "two-proportion z (pooled test, unpooled Wald interval)"
    rel = _relative_z(pc, pt, xc, xt, nc, nt, alpha)
    se_diff = math.sqrt(pc * (1 - pc) / nc + pt * (1 - pt) / nt)
    return _row(
        pc, pt, nc, nt, diff, float(low), float(high), rel, statistic, None, p, method, se_diff
    )


def _relative_z(
    pc: float, pt: float, xc: float, xt: float, nc: float, nt: float, alpha: float
) -> tuple[float | None, float | None, float | None]:
    if xc <= 0 or xt <= 0:
        return (pt / pc - 1 if pc > 0 else None), None, None
    se_log = math.sqrt(1 / xt - 1 / nt + 1 / xc - 1 / nc)
    half = math.exp(stats.norm.isf(alpha / 2) * se_log)
    ratio = pt / pc
    return ratio - 1, ratio / half - 1, ratio * half - 1


def _ratio_of_means(
    metric: MetricSpec, c: Moments, t: Moments, alpha: float, equal_var: bool
) -> dict[str, Any]:
    num, den = (
        (metric.numerator, metric.denominator)
        if metric.type == "ratio"
        else (
            metric.column,
            None,
        )
    )
    xn, xd = (metric.numerator_covariate, metric.denominator_covariate)
    if metric.type == "mean":
        xn, xd = metric.covariate, None
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
        cuped = {
            "theta": theta,
            "variance_reduction": 1 - adjusted / raw if raw > 0 else 0.0,
            "unadjusted_control": c.ratio(num, den),
            "unadjusted_treatment": t.ratio(num, den),
        }
    scale, df = _welch(var_c, c.n, var_t, t.n, equal_var)
    crit = stats.t.isf(alpha / 2, df)
    statistic = diff / scale if scale > 0 else float("nan")
    p = float(2 * stats.t.sf(abs(statistic), df)) if scale > 0 else 1.0
    rel = _relative_t(vc, vt, var_c, c.n, var_t, t.n, alpha, equal_var)
    method = ("Student t" if equal_var else "Welch t") + (
        " (delta method)" if metric.type == "ratio" else ""
    )
    method += ", CUPED" if xn else ""
    row = _row(
        vc,
        vt,
        c.n,
        t.n,
        diff,
        diff - crit * scale,
        diff + crit * scale,
        rel,
        statistic,
        df,
        p,
        method,
        scale,
    )
    row["cuped"] = cuped
    return row


def _welch(
    var_c: float, nc: float, var_t: float, nt: float, equal_var: bool = False
) -> tuple[float, float]:
    if equal_var:
        pooled = ((nc - 1) * var_c + (nt - 1) * var_t) / (nc + nt - 2)
        return math.sqrt(pooled / nc + pooled / nt), nc + nt - 2
    mc, mt = var_c / nc, var_t / nt
    scale = math.sqrt(mc + mt)
    denom = mc * mc / (nc - 1) + mt * mt / (nt - 1)
    df = (mc + mt) ** 2 / denom if denom > 0 else nc + nt - 2
    return scale, df


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
    half = math.exp(stats.t.isf(alpha / 2, df) * scale)
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
) -> dict[str, Any]:
    return {
        "control": control,
        "treatment": treatment,
        "n_control": int(nc),
        "n_treatment": int(nt),
        "effect": diff,
        "ci_lower": low,
        "ci_upper": high,
        "rel_effect": rel[0],
        "rel_ci_lower": rel[1],
        "rel_ci_upper": rel[2],
        "std_error": se,
        "statistic": statistic,
        "df": df,
        "p_value": p,
        "method": method,
    }


def add_adjusted(rows: list[dict[str, Any]], correction: str) -> None:
    """Set each row's ``p_adjusted``: its ``p_value`` adjusted across the rows."""
    from sds.stats.multiple import adjust

    for row, p in zip(rows, adjust([r["p_value"] for r in rows], correction), strict=True):
        row["p_adjusted"] = float(p)
