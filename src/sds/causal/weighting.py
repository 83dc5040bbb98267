"""Inverse-probability weighting and the doubly robust AIPW estimator.

IPW reweights the groups to look alike: ATE weights 1/e and 1/(1-e), ATT weights 1 for the
treated and e/(1-e) for controls, normalized within each group (Hajek). Robust errors come
from the estimator's influence function, including the estimation of a logistic score (as
statsmodels' GMM does; treating the weights as fixed overstates the error); or from a
bootstrap that refits the propensity model on every resample.

AIPW (Robins, Rotnitzky & Zhao 1994) adds outcome regressions fitted in each group: the
estimate stays consistent if either the propensity or the outcome model is right, and its
standard error comes from the efficient influence function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sds.causal.plots import love_plot, overlap_plot
from sds.causal.propensity import (
    Design,
    balance,
    balance_warnings,
    confounding_sensitivity,
    fit_scores,
    overlap_histogram,
    prepare,
)  # fmt: skip
from sds.causal.result import TREATED, CausalResult, normal_summary
from sds.params import OneOf, check
from sds.stats.estimate import Estimate

ERRORS = ("robust", "bootstrap")


def ipw(
    data: Any,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    *,
    estimand: str = "ATE",
    errors: str = "robust",
    model: str = "logistic",
    trim: float | None = None,
    bootstrap: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
) -> CausalResult:
    """The effect of `treatment` on `outcome` by inverse-probability weighting.

    Args:
        data: A DataFrame, or what `sds.open_table` reads (a path, glob, SQL query or
            `Table`). Rows with a missing value in a column used are dropped and counted; a
            missing treatment is an error.
        outcome: Numeric outcome column.
        treatment: 0/1 treatment column.
        covariates: Confounder columns the propensity score is fitted on; text and
            categorical columns are one-hot encoded (first level dropped).
        estimand: `ATE` (default; weights 1/e and 1/(1-e)) or `ATT` (treated weigh 1,
            controls e/(1-e)).
        errors: `robust` (influence function, accounting for the fitted logistic score) or
            `bootstrap` (refits the propensity model on each resample).
        model: Propensity model: `logistic` (unpenalised logistic regression) or `boosting`
            (gradient boosting, scores from 5-fold cross-fitting).
        trim: Drop rows whose propensity lies outside `[trim, 1 - trim]`, a value in
            (0, 0.5); the estimate is then for the population with overlap. `None` keeps
            every row.
        bootstrap: Number of bootstrap resamples when `errors="bootstrap"`.
        confidence: Coverage of the reported intervals, in (0, 1); `1 - confidence` is also
            the level of the warnings' tests.
        seed: Seed of the bootstrap and of the boosting model.

    Returns:
        The Hajek-weighted estimate with its standard error and interval, the weights'
            summary (Kish's effective sample size and the largest weight's share, per group),
            covariate balance, score overlap, plots and a verdict.

    Raises:
        ParameterError: An unknown `estimand`, `errors` or `model`, or `trim` outside
            (0, 0.5).
        DataError: A column is missing or unusable, or the groups' scores do not overlap.
    """
    check("confidence", confidence)
    estimand = _estimand(estimand)
    check("errors", errors, OneOf(ERRORS))
    design = prepare(data, outcome, treatment, covariates, model=model, trim=trim, seed=seed)
    w = weights(design.score, design.t, estimand)
    est = _hajek(design.y, design.t, w)
    if errors == "robust":
        se = _influence_se(design, w, estimand, est, logistic=model == "logistic")
    else:
        se = _bootstrap_se(design, estimand, model, bootstrap, seed)
    return _result("ipw", design, outcome, treatment, estimand, est, se, w, confidence,
                   {"errors": errors, **_weight_stats(w, design.t)})  # fmt: skip


def aipw(
    data: Any,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    *,
    estimand: str = "ATE",
    model: str = "logistic",
    trim: float | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> CausalResult:
    """The doubly robust (augmented IPW) estimate with influence-function errors.

    The outcome regressions are linear, fitted on the covariates within each group; the
    estimate is consistent when either they or the propensity model are right.

    Args:
        data: A DataFrame, or what `sds.open_table` reads (a path, glob, SQL query or
            `Table`). Rows with a missing value in a column used are dropped and counted; a
            missing treatment is an error.
        outcome: Numeric outcome column.
        treatment: 0/1 treatment column.
        covariates: Confounder columns the propensity score is fitted on; text and
            categorical columns are one-hot encoded (first level dropped).
        estimand: `ATE` (default) or `ATT`.
        model: Propensity model: `logistic` (unpenalised logistic regression) or `boosting`
            (gradient boosting, scores from 5-fold cross-fitting).
        trim: Drop rows whose propensity lies outside `[trim, 1 - trim]`, a value in
            (0, 0.5); the estimate is then for the population with overlap. `None` keeps
            every row.
        confidence: Coverage of the reported intervals, in (0, 1); `1 - confidence` is also
            the level of the warnings' tests.
        seed: Seed of the boosting model (unused with `logistic`).

    Returns:
        The AIPW estimate with its influence-function standard error and interval, the
            weights' summary, covariate balance, score overlap, plots and a verdict.

    Raises:
        ParameterError: An unknown `estimand` or `model`, or `trim` outside (0, 0.5).
        DataError: A column is missing or unusable, or the groups' scores do not overlap.
    """
    check("confidence", confidence)
    estimand = _estimand(estimand)
    design = prepare(data, outcome, treatment, covariates, model=model, trim=trim, seed=seed)
    y, t, e = design.y, design.t, design.score
    mu1, mu0 = (_outcome_model(design, g) for g in (1, 0))
    if estimand == "ATE":
        psi = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
        est = float(psi.mean())
        influence = psi - est
    else:
        p = t.mean()
        odds = e / (1 - e)
        est = float((t * (y - mu0) - (1 - t) * odds * (y - mu0)).sum() / t.sum())
        influence = (t * (y - mu0 - est) - (1 - t) * odds * (y - mu0)) / p
    se = float(influence.std(ddof=1) / np.sqrt(len(y)))
    w = weights(e, t, estimand)
    return _result("aipw", design, outcome, treatment, estimand, est, se, w, confidence,
                   _weight_stats(w, t))  # fmt: skip


def weights(score: np.ndarray, t: np.ndarray, estimand: str) -> np.ndarray:
    if estimand == "ATE":
        return np.where(t == 1, 1 / score, 1 / (1 - score))
    return np.where(t == 1, 1.0, score / (1 - score))


def _estimand(value: str) -> str:
    result: str = check("estimand", value.upper(), OneOf(("ATE", "ATT")))
    return result


def _hajek(y: np.ndarray, t: np.ndarray, w: np.ndarray) -> float:
    return float(
        np.average(y[t == 1], weights=w[t == 1]) - np.average(y[t == 0], weights=w[t == 0])
    )


def _influence_se(
    design: Design, w: np.ndarray, estimand: str, est: float, *, logistic: bool
) -> float:
    """The Hajek estimator's influence function, plus (for a logistic score) the term for
    estimating the score: IF = phi + s' H^-1 G, with s the logit's score, H its information
    and G the derivative of phi in the logit's coefficients (M-estimation, stacked)."""
    y, t, e = design.y, design.t, design.score
    m1 = np.average(y[t == 1], weights=w[t == 1])
    m0 = np.average(y[t == 0], weights=w[t == 0])
    a1, a0 = np.mean(t * w), np.mean((1 - t) * w)
    phi = t * w * (y - m1) / a1 - (1 - t) * w * (y - m0) / a0
    if logistic:
        x = np.column_stack([np.ones(len(y)), design.x.to_numpy()])
        if estimand == "ATE":  # d(1/e) = -(1-e)/e x, d(1/(1-e)) = e/(1-e) x
            dphi = -t * (y - m1) * (1 - e) / e / a1 - (1 - t) * (y - m0) * e / (1 - e) / a0
        else:  # d(e/(1-e)) = e/(1-e) x
            dphi = -(1 - t) * w * (y - m0) / a0
        g = (dphi[:, None] * x).mean(axis=0)
        info = (x * (e * (1 - e))[:, None]).T @ x / len(y)
        phi = phi + (x * (t - e)[:, None]) @ np.linalg.solve(info, g)
    return float(phi.std(ddof=1) / np.sqrt(len(y)))


def _bootstrap_se(design: Design, estimand: str, model: str, reps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    n = len(design.y)
    draws = []
    for _ in range(reps):
        i = rng.integers(0, n, n)
        t = design.t[i]
        if t.min() == t.max():
            continue
        x = design.x.iloc[i].reset_index(drop=True)
        score = np.clip(fit_scores(x, t, model, seed), 1e-6, 1 - 1e-6)
        draws.append(_hajek(design.y[i], t, weights(score, t, estimand)))
    return float(np.std(draws, ddof=1))


def _outcome_model(design: Design, group: int) -> np.ndarray:
    """Linear regression of the outcome on the covariates in one group, predicted for all."""
    from sklearn.linear_model import LinearRegression

    mask = design.t == group
    fit = LinearRegression().fit(design.x[mask], design.y[mask])
    return np.asarray(fit.predict(design.x))


def _weight_stats(w: np.ndarray, t: np.ndarray) -> dict[str, Any]:
    """Kish's effective sample size per group and the largest weight's share."""
    out: dict[str, Any] = {}
    for g, name in ((1, "treated"), (0, "control")):
        wg = w[t == g]
        out[f"effective_n_{name}"] = float(wg.sum() ** 2 / (wg**2).sum())
        out[f"max_weight_share_{name}"] = float(wg.max() / wg.sum())
    return out


def _result(
    method: str, design: Design, outcome: str, treatment: str, estimand: str, est: float,
    se: float, w: np.ndarray, confidence: float, extra: dict[str, Any],
) -> CausalResult:  # fmt: skip
    lo, hi, p = normal_summary(est, se, confidence)
    bal = balance(design.x, design.t, w)
    warnings = list(design.warnings) + balance_warnings(bal)
    for name in ("treated", "control"):
        share = extra[f"max_weight_share_{name}"]
        if share > 0.1:
            warnings.append(
                f"one {name} unit carries {share:.0%} of its group's weight: the estimate "
                "rests on a few units (consider trim=0.1)"
            )

    return CausalResult(
        method=method, estimand=estimand,
        effect=Estimate(est, se, lo, hi, p, confidence, method, TREATED),
        n={"observations": len(design.y), "treated": int(design.t.sum()),
           "trimmed": design.trimmed},
        outcome=outcome, treatment=treatment,
        diagnostics={**extra, "max_smd_before": max(abs(r["smd_before"]) for r in bal),
                     "max_smd_after": max(abs(r["smd_after"]) for r in bal),
                     **confounding_sensitivity(design, est, lo, hi, 1 - confidence)},
        warnings=tuple(warnings),
        tables={"balance": bal, "overlap": overlap_histogram(design.score, design.t)},
        assumptions=(
            "No unmeasured confounding given the covariates.",
            "Positivity: every unit could have been treated or not (scores away from 0, 1).",
            "The propensity model is right"
            + (" or the outcome model is (doubly robust)." if method == "aipw" else "."),
        ),
        figures=(("Love plot", love_plot), ("Propensity overlap", overlap_plot)),
    )  # fmt: skip
