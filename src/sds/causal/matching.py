"""Propensity-score matching: nearest neighbours on the logit of the score.

Each treated unit (for the ATT; every unit, for the ATE) is matched to its ``k`` nearest
units of the other group on logit(score), with or without replacement, within a caliper of
``caliper`` standard deviations of the logit (0.2 by default, Austin 2011). Treated units
with no match inside the caliper are dropped and counted. Standard errors are Abadie &
Imbens's for matching estimators, corrected for estimating a logistic score
(:mod:`sds.causal.matching_variance`). Rosenbaum bounds are reported for 1:1 matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sds.causal.matching_variance import (
    abadie_imbens,
    same_score_neighbours,
    score_adjustment,
)
from sds.causal.plots import love_plot, overlap_plot
from sds.causal.propensity import (
    Design,
    balance,
    balance_warnings,
    confounding_sensitivity,
    overlap_histogram,
    prepare,
)  # fmt: skip
from sds.causal.result import TREATED, CausalResult, normal_summary
from sds.causal.sensitivity import critical_gamma, rosenbaum_bounds
from sds.errors import AnalysisError, ParameterError
from sds.params import POSITIVE_INT, OneOf, check
from sds.stats.estimate import Estimate


def psm(
    data: Any,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    *,
    estimand: str = "ATT",
    k: int = 1,
    replace: bool = True,
    caliper: float | None = 0.2,
    model: str = "logistic",
    trim: float | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> CausalResult:
    """The effect of `treatment` on `outcome` by propensity-score matching.

    Args:
        data: A DataFrame, or what `sds.open_table` reads (a path, glob, SQL query or
            `Table`). Rows with a missing value in a column used are dropped and counted; a
            missing treatment is an error.
        outcome: Numeric outcome column.
        treatment: 0/1 treatment column.
        covariates: Confounder columns the propensity score is fitted on; text and
            categorical columns are one-hot encoded (first level dropped).
        estimand: `ATT` (default; treated units are matched) or `ATE` (every unit is
            matched; needs `replace=True`).
        k: Number of nearest neighbours each unit is matched to (a positive integer).
        replace: Match with replacement (a control may serve several treated units); without
            it, treated units take their nearest free controls in random order.
        caliper: Largest allowed distance, in standard deviations of the logit of the score;
            units with no match inside it are dropped and counted. `None` matches every unit.
        model: Propensity model: `logistic` (unpenalised logistic regression) or `boosting`
            (gradient boosting, scores from 5-fold cross-fitting).
        trim: Drop rows whose propensity lies outside `[trim, 1 - trim]`, a value in
            (0, 0.5); the estimate is then for the population with overlap. `None` keeps
            every row.
        confidence: Coverage of the reported intervals, in (0, 1); `1 - confidence` is also
            the level of the warnings' tests.
        seed: Seed of the matching order without replacement and of the boosting model.

    Returns:
        The matched estimate with Abadie-Imbens standard errors, the covariate balance
            before and after matching, the overlap of the scores, Rosenbaum bounds (1:1
            matches), plots and a verdict.

    Raises:
        ParameterError: An unknown `estimand` or `model`, `k` not positive, `trim` outside
            (0, 0.5), or the ATE without replacement.
        DataError: A column is missing or unusable, or the groups' scores do not overlap.
    """
    check("confidence", confidence)
    estimand = check("estimand", estimand.upper(), OneOf(("ATT", "ATE")))
    if estimand == "ATE" and not replace:
        raise ParameterError("the ATE by matching needs matching with replacement",
                             parameter="replace", found=False)  # fmt: skip
    check("k", k, POSITIVE_INT)
    design = prepare(data, outcome, treatment, covariates, model=model, trim=trim, seed=seed)
    y, t = design.y, design.t
    lps = np.log(design.score / (1 - design.score))
    width = None if caliper is None else caliper * float(lps.std(ddof=1))
    rng = np.random.default_rng(seed)
    groups = (1, 0) if estimand == "ATE" else (1,)
    used = np.zeros(len(y))  # K_M(i)/M: how much each unit serves as a match
    imputed = np.full(len(y), np.nan)  # the matched mean of the other group
    for g in groups:
        src, dst = np.flatnonzero(t == g), np.flatnonzero(t != g)
        pairs = _match(lps[src], lps[dst], k, replace, width, rng)
        for row, matches in enumerate(pairs):
            if matches.size:
                imputed[src[row]] = y[dst[matches]].mean()
                np.add.at(used, dst[matches], 1 / matches.size)
    return _result(design, outcome, treatment, estimand, k, replace, caliper, width, used,
                   imputed, lps, confidence, model == "logistic")  # fmt: skip


def _match(
    source: np.ndarray,
    target: np.ndarray,
    k: int,
    replace: bool,
    width: float | None,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Indices into ``target`` of each source unit's matches (empty: none in the caliper)."""
    from sklearn.neighbors import NearestNeighbors

    if not replace and target.size < k * source.size:
        raise AnalysisError(
            f"matching without replacement needs {k} controls per treated unit: "
            f"{source.size:,} treated, {target.size:,} controls",
            hint="Match with replacement, or use a smaller k.",
        )
    tree = NearestNeighbors().fit(target.reshape(-1, 1))
    if replace:
        dist, idx = tree.kneighbors(source.reshape(-1, 1), n_neighbors=min(k, target.size))
        return [i[d <= width] if width is not None else i for d, i in zip(dist, idx, strict=True)]
    return _greedy(source, tree, k, width, rng, target.size)


def _greedy(
    source: np.ndarray, tree: Any, k: int, width: float | None, rng: np.random.Generator,
    n_target: int,
) -> list[np.ndarray]:  # fmt: skip
    """Without replacement: treated units in random order take their nearest free controls."""
    taken = np.zeros(n_target, dtype=bool)
    out: list[np.ndarray] = [np.empty(0, dtype=int)] * source.size
    depth = min(n_target, 8 * k)
    dist, idx = tree.kneighbors(source.reshape(-1, 1), n_neighbors=depth)
    for i in rng.permutation(source.size):
        d, j = dist[i], idx[i]
        free = ~taken[j]
        if free.sum() < k and depth < n_target:  # rare: look further for this unit
            d, j = (a[0] for a in tree.kneighbors(source[i : i + 1].reshape(1, 1),
                                                  n_neighbors=n_target))  # fmt: skip
            free = ~taken[j]
        d, j = d[free][:k], j[free][:k]
        if width is not None:
            j = j[d <= width]
        taken[j] = True
        out[i] = j
    return out


def _result(
    design: Design, outcome: str, treatment: str, estimand: str, k: int, replace: bool,
    caliper: float | None, width: float | None, used: np.ndarray, imputed: np.ndarray,
    lps: np.ndarray, confidence: float, logistic: bool,
) -> CausalResult:  # fmt: skip
    y, t = design.y, design.t
    warnings = list(design.warnings)
    treated = t == 1
    unmatched = int((treated & np.isnan(imputed)).sum())
    if unmatched == int(treated.sum()):
        raise AnalysisError("no treated unit has a match inside the caliper",
                            hint="Widen the caliper (e.g. 0.5) or drop it.")  # fmt: skip
    if unmatched:
        warnings.append(
            f"{unmatched:,} of {int(treated.sum()):,} treated units have no match within the "
            f"caliper and were dropped: the estimate is for the matched treated units"
        )
    effect = np.where(treated, y - imputed, imputed - y)  # Y(1) - Y(0) per matched unit
    scope = treated & ~np.isnan(imputed) if estimand == "ATT" else ~np.isnan(imputed)
    est = float(effect[scope].mean())
    near = same_score_neighbours(lps, t)
    variance = abadie_imbens(y, t, near, effect, scope, used, k, est, estimand) ** 2
    adjustment = score_adjustment(design, near, estimand, est) if logistic else None
    if adjustment is not None and variance + adjustment <= 0:
        warnings.append(
            "the correction for the estimated score came out larger than the variance "
            "itself; the uncorrected error is reported"
        )
        adjustment = None
    se = float(np.sqrt(variance + (adjustment or 0.0)))
    lo, hi, p = normal_summary(est, se, confidence)
    weights = np.where(scope, 1.0, 0.0) + used
    bal = balance(design.x, t, weights)
    warnings += balance_warnings(bal)
    diagnostics: dict[str, Any] = {
        "caliper_sd": caliper, "caliper_logit": width, "k": k, "replacement": replace,
        "unmatched_treated": unmatched, "controls_used": int((used > 0)[t == 0].sum()),
        "std_error_known_score": float(np.sqrt(variance)), "score_adjustment": adjustment,
        "max_smd_before": max(abs(r["smd_before"]) for r in bal),
        "max_smd_after": max(abs(r["smd_after"]) for r in bal),
    }  # fmt: skip
    tables: dict[str, list[dict[str, Any]]] = {
        "balance": bal, "overlap": overlap_histogram(design.score, t),
    }  # fmt: skip
    diagnostics.update(confounding_sensitivity(design, est, lo, hi, 1 - confidence))
    if k == 1 and estimand == "ATT":
        tables["rosenbaum_bounds"] = rosenbaum_bounds(effect[scope])
        diagnostics["rosenbaum_critical_gamma"] = critical_gamma(
            tables["rosenbaum_bounds"], 1 - confidence
        )

    return CausalResult(
        method="psm", estimand=estimand,
        effect=Estimate(est, se, lo, hi, p, confidence, "psm", TREATED),
        n={"observations": len(y), "treated": int(treated.sum()),
           "matched_treated": int((treated & ~np.isnan(imputed)).sum()),
           "trimmed": design.trimmed},
        outcome=outcome, treatment=treatment,
        diagnostics=diagnostics, warnings=tuple(warnings), tables=tables,
        assumptions=(
            "No unmeasured confounding: given the covariates, treatment is as good as random.",
            "Overlap: comparable untreated units exist for the treated ones.",
            "A correctly specified propensity model (check the balance table).",
        ),
        figures=(("Love plot", love_plot), ("Propensity overlap", overlap_plot)),
    )  # fmt: skip
