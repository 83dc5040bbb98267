"""Difference-in-differences: the 2x2 and two-way fixed effects (pyfixest).

``did(data, outcome="y", treatment="treated_now", unit="state", time="year")`` regresses the
outcome on the treatment indicator with unit and time fixed effects, errors clustered by
unit (or ``cluster``). Around the estimate: the panel checks (:mod:`sds.causal.panel`), the
share of negative weights TWFE puts on treated rows when adoption is staggered, placebo
treatment dates inside the pre-period, and a randomization-inference p-value that permutes
treatment histories across units.
"""

from __future__ import annotations

import warnings as pywarnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sds.causal.data import check_level, load, numeric, treatment_indicator
from sds.causal.panel import Panel, check_panel, twfe_weights
from sds.causal.result import CausalResult

PLACEBO_DATES = 3
FEW_TREATED = 10  # treated clusters below which CRV1 errors are unreliable


def fit_twfe(
    frame: pd.DataFrame,
    outcome: str,
    regressors: Sequence[str],
    unit: str,
    time: str,
    cluster: str,
    weights: str | None,
) -> Any:
    """pyfixest's feols with unit and time effects and CRV1 errors."""
    import pyfixest as pf

    rhs = " + ".join(regressors)
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        return pf.feols(
            f"{outcome} ~ {rhs} | {unit} + {time}",
            data=frame,
            vcov={"CRV1": cluster},
            weights=weights,
        )


def did(
    data: Any,
    outcome: str,
    treatment: str,
    unit: str,
    time: str,
    covariates: Sequence[str] = (),
    *,
    cluster: str | None = None,
    weights: str | None = None,
    confidence: float = 0.95,
    permutations: int = 500,
    seed: int = 0,
) -> CausalResult:
    """The average effect of switching ``treatment`` on, by two-way fixed effects."""
    check_level(confidence)
    columns = [outcome, treatment, unit, time, *covariates, cluster, weights]
    frame, warnings, source = load(data, columns)
    numeric(frame, outcome, source)
    treatment_indicator(frame, treatment, source)
    panel = check_panel(frame, unit, time, treatment, source)
    frame, cluster = panel.frame, cluster or unit
    warnings += panel.warnings
    fit = fit_twfe(frame, outcome, [treatment, *covariates], unit, time, cluster, weights)
    est, se, p, lo, hi = _coefficient(fit, treatment, confidence)
    two_by_two = len(panel.periods) == 2 and len(panel.cohorts) == 1
    diagnostics: dict[str, Any] = {
        "periods": len(panel.periods),
        "adoption_cohorts": len(panel.cohorts),
    }
    if panel.staggered:
        w = twfe_weights(frame, unit, time, treatment)
        diagnostics["negative_weight_share"] = float((w < 0).mean())
        diagnostics["negative_weight_sum"] = float(w[w < 0].sum())
    tables = {
        "placebo_dates": _placebo_dates(frame, panel, outcome, unit, time, cluster, weights),
        "group_means": _group_means(frame, outcome, time),
    }
    false = [r for r in tables["placebo_dates"] if r["p_value"] < 1 - confidence]
    if false:
        warnings.append(
            f"{len(false)} of {len(tables['placebo_dates'])} placebo treatment dates inside "
            "the pre-period show an 'effect': treated and control units were already "
            "diverging, so parallel trends is doubtful"
        )
    treated_clusters = int(frame.loc[frame["_cohort"].notna(), cluster].nunique())
    if treated_clusters < FEW_TREATED:
        warnings.append(
            f"only {treated_clusters} treated cluster(s): cluster-robust errors understate the "
            "uncertainty with so few (Conley & Taber 2011; MacKinnon & Webb 2017); trust the "
            "randomization p-value instead"
            + ("" if permutations else " (run with permutations > 0)")
        )
    if permutations:
        diagnostics["randomization_p"] = randomization_p(
            frame, outcome, unit, time, covariates, est, permutations, seed
        )
        diagnostics["permutations"] = permutations
    return CausalResult(
        method="did-2x2" if two_by_two else "did-twfe",
        estimand="ATT",
        estimate=est,
        std_error=se,
        ci_lower=lo,
        ci_upper=hi,
        p_value=p,
        n={
            "observations": len(frame),
            "units": int(frame[unit].nunique()),
            "treated_units": int(frame.loc[frame["_cohort"].notna(), unit].nunique()),
            "clusters": int(frame[cluster].nunique()),
        },
        confidence=confidence,
        outcome=outcome,
        treatment=treatment,
        diagnostics=diagnostics,
        warnings=tuple(warnings),
        tables=tables,
        figures=(("Mean outcome, ever-treated and never-treated units", _trend_plot),),
        assumptions=(
            "Parallel trends: without treatment, treated and control units' outcomes would "
            "have moved in parallel.",
            "No anticipation: outcomes do not react before treatment starts.",
            "With staggered adoption, a constant effect over time and across cohorts (or use "
            "the Callaway-Sant'Anna estimator).",
        ),
    )


def _group_means(frame: pd.DataFrame, outcome: str, time: str) -> list[dict[str, Any]]:
    ever = frame["_cohort"].notna().map({True: "treated_mean", False: "control_mean"})
    means = frame.groupby([frame[time], ever])[outcome].mean().unstack()
    return [
        {"period": period, "treated_mean": row.get("treated_mean"),
         "control_mean": row.get("control_mean")}
        for period, row in means.iterrows()
    ]  # fmt: skip


def _trend_plot(d: dict[str, Any]) -> str:
    from sds.report.plots import lines_svg

    rows = d["tables"]["group_means"]
    return lines_svg(
        [r["period"] for r in rows],
        {"ever treated": ([r["treated_mean"] for r in rows], None, None),
         "never treated": ([r["control_mean"] for r in rows], None, None)},
        xlabel="period", ylabel=d["outcome"],
    )  # fmt: skip


def _coefficient(fit: Any, name: str, confidence: float) -> tuple[float, ...]:
    tidy = fit.tidy(alpha=1 - confidence).loc[name]
    return (
        float(tidy["Estimate"]),
        float(tidy["Std. Error"]),
        float(tidy["Pr(>|t|)"]),
        float(tidy.iloc[4]),
        float(tidy.iloc[5]),
    )


def _placebo_dates(
    frame: pd.DataFrame,
    panel: Panel,
    outcome: str,
    unit: str,
    time: str,
    cluster: str,
    weights: str | None,
) -> list[dict[str, Any]]:
    """Keep the rows before the first adoption; pretend the eventually treated units were
    treated from a date inside that window; there should be no effect."""
    pre = frame[frame[time] < min(panel.cohorts)].copy()
    periods = sorted(pre[time].unique())
    rows: list[dict[str, Any]] = []
    if len(periods) < 2:
        return rows
    ever = pre["_cohort"].notna()
    for fake in periods[1:][-PLACEBO_DATES:]:
        pre["_placebo"] = (ever & (pre[time] >= fake)).astype(float)
        if pre["_placebo"].nunique() < 2:
            continue
        fit = fit_twfe(pre, outcome, ["_placebo"], unit, time, cluster, weights)
        est, se, p, lo, hi = _coefficient(fit, "_placebo", 0.95)
        rows.append(
            {"fake_date": fake, "estimate": est, "std_error": se, "ci_lower": lo,
             "ci_upper": hi, "p_value": p}
        )  # fmt: skip
    return rows


def randomization_p(
    frame: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    covariates: Sequence[str],
    observed: float,
    reps: int,
    seed: int,
) -> float:
    """Fisher's randomization test of no effect at all: hand each unit the adoption date of
    another (a permutation of the units' treatment histories), refit, and count refits at
    least as far from zero as the observed estimate. By Frisch-Waugh-Lovell, each refit is
    one dot product after the fixed effects and covariates are partialled out, in batches."""
    from pyfixest.estimation import demean

    codes = np.column_stack([pd.factorize(frame[unit])[0], pd.factorize(frame[time])[0]]).astype(
        np.uint64
    )
    ones = np.ones(len(frame))
    base = frame[[outcome, *covariates]].to_numpy(np.float64)
    tilde, _ = demean(base, codes, ones)
    y, x = tilde[:, 0], tilde[:, 1:]
    if x.shape[1]:
        y = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    units = frame[unit].unique()
    cohort = frame.groupby(unit, sort=False)["_cohort"].first().reindex(units).to_numpy()
    position = pd.Index(units).get_indexer(frame[unit])
    times = frame[time].to_numpy(np.float64)
    rng = np.random.default_rng(seed)
    extreme = 0
    for start in range(0, reps, 100):
        batch = min(100, reps - start)
        drawn = np.stack([rng.permutation(cohort)[position] for _ in range(batch)], axis=1)
        d = (times[:, None] >= drawn).astype(np.float64)  # NaN (never treated) compares False
        dt, _ = demean(d, codes, ones)
        if x.shape[1]:
            dt = dt - x @ np.linalg.lstsq(x, dt, rcond=None)[0]
        denom = np.einsum("ij,ij->j", dt, dt)
        beta = np.divide(dt.T @ y, denom, out=np.zeros(batch), where=denom > 1e-12)
        extreme += int((np.abs(beta) >= abs(observed) - 1e-12).sum())
    return (1 + extreme) / (1 + reps)
