"""Checks on a fitted regression: collinearity, residuals, heteroskedasticity, influence.

Each check returns plain numbers for the report and, when it finds a problem worth acting
on, a warning sentence that says what was found and what to do about it. The statistics
come from statsmodels (``variance_inflation_factor``, ``het_breuschpagan``,
``jarque_bera``, the influence measures); this module chooses thresholds and words.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

VIF_LIMIT = 10.0  # the usual rule of thumb (Kutner et al., Applied Linear Statistical Models)
COOK_LIMIT = 1.0  # a point this influential moves the fit by about a confidence region
SHAPIRO_MAX_N = 5000  # scipy's Shapiro-Wilk p-value is unreliable above this
TOP_INFLUENTIAL = 5


def vif(exog: pd.DataFrame) -> dict[str, float]:
    """Variance inflation factor of every column except the intercept.

    With an intercept, VIF_j is the j-th diagonal element of the inverse correlation matrix
    of the other columns (one pass over the data); statsmodels'
    ``variance_inflation_factor`` gives the same numbers with one regression per column and
    is used for designs without an intercept.
    """
    values = exog.to_numpy(dtype=float)
    constant = np.array([_is_constant(values[:, j]) for j in range(values.shape[1])])
    names = [str(c) for c, is_const in zip(exog.columns, constant, strict=True) if not is_const]
    if not names:
        return {}
    if constant.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = np.atleast_2d(np.corrcoef(values[:, ~constant], rowvar=False))
            inverse = np.linalg.pinv(corr) if np.linalg.matrix_rank(corr) < len(names) else None
            diag = np.diag(np.linalg.inv(corr) if inverse is None else inverse)
        return {name: float(v) for name, v in zip(names, diag, strict=True)}
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    return {
        str(name): float(variance_inflation_factor(values, j))
        for j, name in enumerate(exog.columns)
    }


def _is_constant(column: np.ndarray) -> bool:
    return bool(np.ptp(column) == 0)


def collinearity(exog: pd.DataFrame) -> tuple[dict[str, Any], list[str]]:
    """VIFs and the design's condition number, with a warning for VIF above the limit."""
    vifs = vif(exog)
    condition = float(np.linalg.cond(exog.to_numpy(dtype=float)))
    high = {k: v for k, v in vifs.items() if not np.isfinite(v) or v > VIF_LIMIT}
    notes: list[str] = []
    if high:
        listed = ", ".join(f"{k} ({v:.1f})" for k, v in sorted(high.items(), key=_by_value))
        notes.append(
            f"collinearity: VIF above {VIF_LIMIT:g} for {listed}; their coefficients are "
            "estimated imprecisely and can flip sign between samples. Drop or combine "
            "overlapping predictors, or report them jointly."
        )
    return {"vif": vifs, "condition_number": condition}, notes


def _by_value(item: tuple[str, float]) -> float:
    return -item[1] if np.isfinite(item[1]) else -np.inf


def residual_normality(resid: np.ndarray) -> dict[str, Any]:
    """Jarque-Bera always, Shapiro-Wilk when n is small enough for its p-value."""
    from scipy import stats
    from statsmodels.stats.stattools import jarque_bera

    jb, jb_p, skew, kurtosis = jarque_bera(resid)
    out: dict[str, Any] = {
        "jarque_bera": float(jb),
        "jarque_bera_p_value": float(jb_p),
        "skewness": float(skew),
        "kurtosis": float(kurtosis),
    }
    if 3 <= len(resid) <= SHAPIRO_MAX_N:
        w, p = stats.shapiro(resid)
        out["shapiro_w"] = float(w)
        out["shapiro_p_value"] = float(p)
    return out


def heteroskedasticity(resid: np.ndarray, exog: pd.DataFrame) -> dict[str, Any]:
    """Breusch-Pagan (Koenker's studentized form, statsmodels' default) on the predictors."""
    from statsmodels.stats.diagnostic import het_breuschpagan

    values = exog.to_numpy(dtype=float)
    if len(values) and not np.all(values == values[:1], axis=0).any():
        values = np.column_stack([np.ones(len(values)), values])  # a model fitted with "0 +"
    if values.shape[1] < 2:
        return {}
    lm, lm_p, f, f_p = het_breuschpagan(resid, values)
    return {
        "breusch_pagan_lm": float(lm),
        "breusch_pagan_p_value": float(lm_p),
        "breusch_pagan_f": float(f),
        "breusch_pagan_f_p_value": float(f_p),
    }


def influence(fitted: Any, index: pd.Index) -> tuple[dict[str, Any], list[str]]:
    """Cook's distance: how many points exceed 4/n and 1, and the top rows by label."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # fitted probabilities of exactly 0 or 1 (separation) divide by zero in statsmodels
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            cooks = np.asarray(fitted.get_influence().cooks_distance[0], dtype=float)
        except (np.linalg.LinAlgError, ValueError):
            cooks = np.array([])
    if not np.isfinite(cooks).any():
        return {"cooks_distance": "not computable (fitted values at 0 or 1)"}, []
    n = len(cooks)
    order = np.argsort(-np.nan_to_num(cooks, nan=-1.0))[:TOP_INFLUENTIAL]
    top = [{"row": _label(index[i]), "cooks_distance": float(cooks[i])} for i in order]
    above_rule = int(np.sum(cooks > 4.0 / n))
    above_one = int(np.sum(cooks > COOK_LIMIT))
    out = {
        "cooks_distance_max": float(np.nanmax(cooks)),
        "points_above_4_over_n": above_rule,
        "points_above_1": above_one,
        "most_influential": top,
    }
    notes = []
    if above_one:
        rows = ", ".join(str(t["row"]) for t in top if t["cooks_distance"] > COOK_LIMIT)
        notes.append(
            f"influential points: {above_one} row(s) with Cook's distance above 1 "
            f"(rows {rows}); check them for data errors and refit without them to see "
            "how much the conclusions move."
        )
    return out, notes


def _label(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def overdispersion(pearson_chi2: float, df_resid: float) -> tuple[float, list[str]]:
    """Pearson chi-square over residual df for a Poisson fit; above 1.5 earns a warning."""
    ratio = pearson_chi2 / df_resid if df_resid > 0 else float("nan")
    notes: list[str] = []
    if np.isfinite(ratio) and ratio > 1.5:
        notes.append(
            f"overdispersion: Pearson chi2/df = {ratio:.2f} (a Poisson model assumes 1); "
            "robust standard errors keep the tests honest, but consider a negative binomial "
            "model for the estimates."
        )
    return ratio, notes


def events_per_variable(y: np.ndarray, n_predictors: int) -> tuple[float, list[str]]:
    """The rarer outcome's count per predictor; below 10 the logit estimates are biased."""
    events = float(min(np.sum(y == 1), np.sum(y == 0)))
    epv = events / n_predictors if n_predictors else float("inf")
    notes: list[str] = []
    if n_predictors and epv < 10:
        notes.append(
            f"few events per predictor: {events:.0f} of the rarer outcome for "
            f"{n_predictors} predictor(s) ({epv:.1f} each; at least 10 is the usual floor); "
            "coefficients are biased away from zero, so use fewer predictors or more data."
        )
    return epv, notes
