"""Propensity scores and what to check about them: overlap, positivity, balance.

The score is P(treated | covariates) from a logistic regression (scikit-learn, unpenalized)
or gradient boosting (out-of-fold predictions, so the scores are not overfitted). Text
covariates are one-hot encoded. Balance is the standardized mean difference (by the pooled
standard deviation of the unadjusted groups, so before and after are on one scale) and the
variance ratio of every covariate, before and after matching or weighting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sds.causal.data import load, numeric, treatment_indicator
from sds.causal.sensitivity import e_values, partial_r2, robustness_value
from sds.errors import DataError, ParameterError
from sds.params import OneOf, check

MODELS = ("logistic", "boosting")
SMD_LIMIT = 0.1  # Austin (2009): |SMD| above this is imbalance
POSITIVITY = 0.01  # scores this close to 0 or 1 make weights explode


@dataclass(frozen=True)
class Design:
    """Outcome, treatment, covariate matrix and scores of the rows kept."""

    y: np.ndarray
    t: np.ndarray
    x: pd.DataFrame
    score: np.ndarray
    source: str
    warnings: list[str]
    trimmed: int


def prepare(
    data: Any,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    *,
    model: str = "logistic",
    trim: float | None = None,
    seed: int = 0,
) -> Design:
    """Read, encode, score; trim to ``[trim, 1 - trim]`` if asked; check overlap."""
    if not covariates:
        raise ParameterError(
            "propensity methods need covariates to balance", parameter="covariates",
            hint="Name the pre-treatment columns that drive both treatment and outcome.",
        )  # fmt: skip
    check("model", model, OneOf(MODELS))
    if trim is not None and not 0 < trim < 0.5:
        raise ParameterError("trim must lie in (0, 0.5)", parameter="trim", found=trim,
                             expected="e.g. 0.1 (Crump et al. 2009)")  # fmt: skip
    frame, warnings, source = load(data, [outcome, treatment, *covariates], required=[treatment])
    y = numeric(frame, outcome, source)
    t = treatment_indicator(frame, treatment, source)
    x = encode(frame[list(covariates)])
    _refuse_collinear(x, source)
    score = fit_scores(x, t, model, seed)
    _check_overlap(score, t, source, treatment)
    trimmed = 0
    if trim is not None:
        keep = (score >= trim) & (score <= 1 - trim)
        trimmed = int((~keep).sum())
        if keep.sum() == 0 or len(np.unique(t[keep])) < 2:
            raise DataError("trimming left no comparison", source=source,
                            found=f"trim={trim}", hint="Use a smaller trim.")  # fmt: skip
        y, t, x, score = y[keep], t[keep], x[keep].reset_index(drop=True), score[keep]
        warnings.append(
            f"{trimmed:,} rows with a propensity outside [{trim:g}, {1 - trim:g}] were "
            "trimmed: the estimate is for the population with overlap"
        )
    extreme = int(((score < POSITIVITY) | (score > 1 - POSITIVITY)).sum())
    if extreme:
        warnings.append(
            f"positivity: {extreme:,} rows have a propensity below {POSITIVITY:g} or above "
            f"{1 - POSITIVITY:g}; weights there are extreme and the estimate leans on "
            "extrapolation. Consider trim=0.1 or matching with a caliper."
        )
    return Design(y, t, x, score, source, warnings, trimmed)


def encode(x: pd.DataFrame) -> pd.DataFrame:
    """Numbers as they are; text and categories one-hot (first level dropped)."""
    text = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])
            and not pd.api.types.is_bool_dtype(x[c])]  # fmt: skip
    out = pd.get_dummies(x, columns=text, drop_first=True, dtype=float) if text else x
    return out.astype(float).reset_index(drop=True)


def _refuse_collinear(x: pd.DataFrame, source: str) -> None:
    """Constant covariates, and covariates that are exact linear combinations of others,
    leave the propensity and outcome regressions without a unique solution: name them."""
    z = x.to_numpy(dtype=np.float64)
    z = z - z.mean(axis=0)
    scale = np.abs(z).max(axis=0)
    constant = [str(c) for c, s in zip(x.columns, scale, strict=True) if s == 0]
    if constant:
        raise DataError("constant covariates cannot be balanced or adjusted for",
                        source=source, found=", ".join(constant), hint="Drop them.")  # fmt: skip
    z = z / scale
    gram = z.T @ z
    kept: list[int] = []
    for j in range(z.shape[1]):
        idx = [*kept, j]
        eig = np.linalg.eigvalsh(gram[np.ix_(idx, idx)])
        if eig[0] > 1e-10 * eig[-1]:
            kept.append(j)
            continue
        coef = np.linalg.lstsq(z[:, kept], z[:, j], rcond=None)[0]
        parts = [str(x.columns[k]) for k, b in zip(kept, coef, strict=True) if abs(b) > 1e-6]
        raise DataError(
            "the covariates are collinear: one is a linear combination of others, so the "
            "regressions have no unique solution",
            source=source,
            found=f"{x.columns[j]!r} = a combination of {', '.join(map(repr, parts))}",
            hint=f"Drop {x.columns[j]!r} (or one of the others) from the covariates.",
        )


def fit_scores(x: pd.DataFrame, t: np.ndarray, model: str, seed: int) -> np.ndarray:
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        # a tight tolerance: with near-separation the default stops well short of the MLE
        # (seen on the NSW-CPS data: log-likelihood -420.7 against the MLE's -404.2)
        logit = LogisticRegression(C=np.inf, max_iter=10_000, tol=1e-10)
        clf = make_pipeline(StandardScaler(), logit)
        return np.asarray(clf.fit(x, t).predict_proba(x)[:, 1])
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_predict

    gbm = HistGradientBoostingClassifier(random_state=seed, max_iter=200, learning_rate=0.05)
    scores = cross_val_predict(gbm, x, t, cv=5, method="predict_proba")[:, 1]
    return np.asarray(np.clip(scores, 1e-6, 1 - 1e-6))


def _check_overlap(score: np.ndarray, t: np.ndarray, source: str, treatment: str) -> None:
    """No overlap at all: the treated and control score ranges do not meet."""
    lo1, hi1 = score[t == 1].min(), score[t == 1].max()
    lo0, hi0 = score[t == 0].min(), score[t == 0].max()
    if lo1 > hi0 or lo0 > hi1 or (score[t == 1] > 1 - 1e-9).all() or (score[t == 0] < 1e-9).all():
        raise DataError(
            "no overlap: the covariates separate treated from untreated units completely, "
            "so no untreated unit resembles any treated one",
            source=source,
            column=treatment,
            found=f"treated scores {lo1:.3g}-{hi1:.3g}, untreated {lo0:.3g}-{hi0:.3g}",
            hint="Drop a covariate that determines treatment, or restrict to a population "
            "where both groups exist.",
        )


def balance(
    x: pd.DataFrame, t: np.ndarray, weights: np.ndarray | None = None
) -> list[dict[str, Any]]:
    """SMD and variance ratio per covariate, before and (with ``weights``) after."""
    rows = []
    for c in x.columns:
        v = x[c].to_numpy()
        pooled = np.sqrt((v[t == 1].var(ddof=1) + v[t == 0].var(ddof=1)) / 2)
        row: dict[str, Any] = {"covariate": c}
        row["smd_before"], row["variance_ratio_before"] = _smd(v, t, np.ones(len(v)), pooled)
        if weights is not None:
            row["smd_after"], row["variance_ratio_after"] = _smd(v, t, weights, pooled)
        rows.append(row)
    return rows


def _smd(v: np.ndarray, t: np.ndarray, w: np.ndarray, pooled: float) -> tuple[float, float]:
    m1, m0 = (np.average(v[t == g], weights=w[t == g]) for g in (1, 0))
    v1 = np.average((v[t == 1] - m1) ** 2, weights=w[t == 1])
    v0 = np.average((v[t == 0] - m0) ** 2, weights=w[t == 0])
    smd = (m1 - m0) / pooled if pooled > 0 else 0.0
    return float(smd), float(v1 / v0) if v0 > 0 else float("nan")


def balance_warnings(rows: list[dict[str, Any]], key: str = "smd_after") -> list[str]:
    bad = [r["covariate"] for r in rows if abs(r.get(key, 0.0)) > SMD_LIMIT]
    if not bad:
        return []
    return [
        f"imbalance remains after adjustment: |SMD| > {SMD_LIMIT:g} for {', '.join(bad[:8])}"
        + (f" and {len(bad) - 8} more" if len(bad) > 8 else "")
        + "; add interactions or squares to the propensity model, or tighten the caliper"
    ]


def overlap_histogram(score: np.ndarray, t: np.ndarray, bins: int = 20) -> list[dict[str, Any]]:
    edges = np.linspace(0, 1, bins + 1)
    treated = np.histogram(score[t == 1], edges)[0]
    control = np.histogram(score[t == 0], edges)[0]
    return [
        {"bin_low": float(edges[i]), "bin_high": float(edges[i + 1]),
         "treated": int(treated[i]), "control": int(control[i])}
        for i in range(bins)
    ]  # fmt: skip


def confounding_sensitivity(
    design: Design, estimate: float, ci_lower: float, ci_upper: float, alpha: float
) -> dict[str, Any]:
    """E-values of the estimate (outcome standardized by its SD) and Cinelli-Hazlett
    robustness values of the regression-adjusted effect (OLS of the outcome on treatment and
    covariates, HC1 errors)."""
    import statsmodels.api as sm

    out: dict[str, Any] = dict(e_values(estimate, ci_lower, ci_upper, float(design.y.std(ddof=1))))
    exog = sm.add_constant(np.column_stack([design.t, design.x.to_numpy()]), has_constant="add")
    fit = sm.OLS(design.y, exog).fit()
    t_stat, dof = float(fit.tvalues[1]), float(fit.df_resid)
    out["robustness_value"] = robustness_value(t_stat, dof)
    out["robustness_value_alpha"] = robustness_value(t_stat, dof, alpha=alpha)
    out["treatment_partial_r2"] = partial_r2(t_stat, dof)
    return out
