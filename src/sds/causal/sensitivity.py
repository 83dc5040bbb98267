"""How strong would an unmeasured confounder have to be to change the conclusion?

- E-value (VanderWeele & Ding 2017): the risk ratio an unmeasured confounder would need with
  both treatment and outcome to explain the estimate (or its interval's near end) away;
  mean differences are first put on the risk-ratio scale by RR = exp(0.91 d).
- Robustness value (Cinelli & Hazlett 2020): the share of the residual variance of both
  treatment and outcome a confounder must explain to bring the estimate to zero (RV), or
  to make it insignificant (RV at alpha), from the t statistic and residual df alone.
- Rosenbaum bounds for matched pairs: the largest p-value of Wilcoxon's signed-rank test
  when hidden bias may multiply the odds of treatment within a pair by up to Gamma.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

GAMMAS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


def e_value_rr(rr: float) -> float:
    """E-value of a risk ratio (either side of 1)."""
    if not math.isfinite(rr) or rr <= 0:
        return math.nan
    rr = rr if rr >= 1 else 1 / rr
    return rr + math.sqrt(rr * (rr - 1))


def e_values(estimate: float, ci_lower: float, ci_upper: float, sd: float) -> dict[str, float]:
    """E-values of a mean difference (standardized by the outcome's ``sd``) and of the
    interval end nearer the null (1 when the interval already includes no effect)."""
    point = e_value_rr(math.exp(0.91 * estimate / sd))
    if ci_lower <= 0 <= ci_upper:
        bound = 1.0
    else:
        near = ci_lower if estimate > 0 else ci_upper
        bound = e_value_rr(math.exp(0.91 * near / sd))
    return {"e_value": point, "e_value_ci": bound}


def robustness_value(t: float, dof: float, q: float = 1.0, alpha: float | None = None) -> float:
    """Cinelli & Hazlett's RV_q (``alpha=None``) or RV_{q,alpha}."""
    fq = q * abs(t) / math.sqrt(dof)
    if alpha is None:
        return 0.5 * (math.sqrt(fq**4 + 4 * fq**2) - fq**2)
    f_crit = abs(float(stats.t.ppf(alpha / 2, dof - 1))) / math.sqrt(dof - 1)
    f = fq - f_crit
    if f < 0:
        return 0.0
    rv = 0.5 * (math.sqrt(f**4 + 4 * f**2) - f**2)
    if fq > 1 / f_crit:  # the closed form's edge case, as sensemakr handles it
        return float((fq**2 - f_crit**2) / (1 + fq**2))
    return float(rv)


def partial_r2(t: float, dof: float) -> float:
    """Partial R-squared of the treatment with the outcome: t^2 / (t^2 + df)."""
    return t**2 / (t**2 + dof)


def rosenbaum_bounds(
    differences: np.ndarray, gammas: tuple[float, ...] = GAMMAS
) -> list[dict[str, Any]]:
    """Upper bound of the one-sided signed-rank p-value (effect in the observed direction)
    at each Gamma, by the normal approximation (Rosenbaum 2002, ch. 4)."""
    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return []
    sign = 1.0 if np.median(d) >= 0 else -1.0
    d = sign * d
    ranks = stats.rankdata(np.abs(d))
    t_plus = float(ranks[d > 0].sum())
    rows = []
    for gamma in gammas:
        p_plus = gamma / (1 + gamma)
        mean = p_plus * ranks.sum()
        var = p_plus * (1 - p_plus) * (ranks**2).sum()
        p = float(stats.norm.sf((t_plus - mean) / math.sqrt(var)))
        rows.append({"gamma": gamma, "p_upper": p})
    return rows


def critical_gamma(rows: list[dict[str, Any]], alpha: float) -> float | None:
    """The smallest Gamma at which the bound's p-value exceeds ``alpha`` (None if none)."""
    for r in rows:
        if r["p_upper"] > alpha:
            return float(r["gamma"])
    return None
