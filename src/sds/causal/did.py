"""Difference-in-differences: the 2x2 and two-way fixed effects (pyfixest).

``did(data, outcome="y", treatment="treated_now", unit="state", time="year")`` regresses the
outcome on the treatment indicator with unit and time fixed effects, errors clustered by
unit (or ``cluster``). Around the estimate: the panel checks (:mod:`sds.causal.panel`), the
share of negative weights TWFE puts on treated rows when adoption is staggered, placebo
treatment dates inside the pre-period, and a randomization-inference p-value that permutes
treatment histories across units.
"""

from __future__ import annotations

import dataclasses
import warnings as pywarnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sds.causal.data import load, numeric, treatment_indicator
from sds.causal.fwl import Slope, balanced_demean, crv1_slope, partial_out, small_sample_k
from sds.causal.panel import Panel, check_panel, plain, twfe_weights
from sds.causal.result import TREATED, CausalResult
from sds.params import check
from sds.report.plots import lines_svg
from sds.stats.estimate import Estimate
from sds.stats.formula_guard import check_formula
from sds.stats.multiple import adjust

PLACEBO_DATES = 3
CORRECTION = "holm"  # across the placebo treatment dates
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
    formula = f"{outcome} ~ {rhs} | {unit} + {time}"
    # pyfixest evaluates column names as code; i(x, ref=...) is the event-study term
    check_formula(formula, parameter="covariates", functions={"i"}, keywords={"ref"})
    # only the columns the formula names: pyfixest converts whatever frame it is given
    named = {
        outcome,
        unit,
        time,
        cluster,
        weights,
        *rhs.replace("(", " ").replace(",", " ").split(),
    }
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        return pf.feols(
            formula,
            data=frame[[c for c in frame.columns if c in named]],
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
    """The average effect of switching `treatment` on, by two-way fixed effects.

    Beside the estimate: the panel checks, on staggered adoption the share and sum of the
    negative weights TWFE gives treated rows, placebo treatment dates in the pre-period
    (Holm-adjusted), mean outcomes of ever- and never-treated units by period, and a
    randomization-inference p-value.

    Args:
        data: A DataFrame, or what `sds.open_table` reads (a path, glob, SQL query or
            `Table`). Rows with a missing value in a column used are dropped and counted; a
            missing treatment is an error.
        outcome: Numeric outcome column.
        treatment: 0/1 column, 1 in the periods a unit is treated ("treated now").
        unit: Column identifying the unit (state, store, user) followed over time.
        time: Period column (numbers or dates); periods are counted in the data's own steps.
        covariates: Time-varying control columns added to the regression.
        cluster: Column to cluster the standard errors by; `None` clusters by `unit`.
        weights: Column of non-negative row weights for a weighted fit; `None` weighs rows
            equally.
        confidence: Coverage of the reported intervals, in (0, 1); `1 - confidence` is also
            the level of the warnings' tests.
        permutations: Number of treatment-history permutations for the randomization
            p-value (`diagnostics.randomization_p`); 0 skips it. With fewer than 10 treated
            clusters that p-value is the one to trust.
        seed: Seed of the permutations.

    Returns:
        The ATT (method `did-2x2` with two periods and one cohort, else `did-twfe`) with
            its clustered interval, the checks above as diagnostics and tables, a
            trend plot and a verdict.

    Raises:
        DataError: A column is missing or not numeric, the treatment is not 0/1 or is
            constant, or the panel cannot identify an effect.
    """
    check("confidence", confidence)
    columns = [outcome, treatment, unit, time, *covariates, cluster, weights]
    frame, warnings, source = load(data, columns, required=[treatment])
    numeric(frame, outcome, source)
    treatment_indicator(frame, treatment, source)
    panel = check_panel(frame, unit, time, treatment, source)
    frame, cluster = panel.frame, cluster or unit
    warnings += panel.warnings
    fast = None if covariates or weights else _balanced_fit(frame, panel, outcome, treatment,
                                                             unit, cluster, confidence)  # fmt: skip
    slope = fast
    if slope is None:
        fit = fit_twfe(frame, outcome, [treatment, *covariates], unit, time, cluster, weights)
        slope = Slope.from_tidy(fit.tidy(alpha=1 - confidence).loc[treatment])
    est, se, lo, hi, p = dataclasses.astuple(slope)
    two_by_two = len(panel.periods) == 2 and len(panel.cohorts) == 1
    diagnostics: dict[str, Any] = {
        "fit": "pyfixest feols"
        if fast is None
        else "two-way demeaning in closed form (balanced panel; equal to pyfixest)",
        "periods": len(panel.periods),
        "adoption_cohorts": len(panel.cohorts),
    }
    if panel.staggered:
        w = twfe_weights(frame, unit, time, treatment)
        diagnostics["negative_weight_share"] = float((w < 0).mean())
        diagnostics["negative_weight_sum"] = float(w[w < 0].sum())
    tables = {
        "placebo_dates": _placebo_dates(frame, panel, outcome, unit, cluster, weights),
        "group_means": _group_means(frame, panel, outcome),
    }
    placebo = tables["placebo_dates"]
    adjusted = adjust([r["p_value"] for r in placebo], CORRECTION)
    for row, p_adjusted in zip(placebo, adjusted, strict=True):
        row["p_adjusted"], row["correction"] = p_adjusted, CORRECTION
    false = [r for r in placebo if r["p_adjusted"] < 1 - confidence]
    if false:
        warnings.append(
            f"{len(false)} of {len(placebo)} placebo treatment dates inside the pre-period "
            "show an 'effect' (Holm-adjusted): treated and control units were already "
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
    method = "did-2x2" if two_by_two else "did-twfe"
    return CausalResult(
        method=method,
        estimand="ATT",
        effect=Estimate(est, se, lo, hi, p, confidence, method, TREATED),
        n={
            "observations": len(frame),
            "units": int(frame[unit].nunique()),
            "treated_units": int(frame.loc[frame["_cohort"].notna(), unit].nunique()),
            "clusters": int(frame[cluster].nunique()),
        },
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


def _group_means(frame: pd.DataFrame, panel: Panel, outcome: str) -> list[dict[str, Any]]:
    """Mean outcome per period of the ever-treated and the never-treated units."""
    pos, periods = panel.period_index, panel.periods
    ever = frame["_cohort"].notna().to_numpy()
    y = frame[outcome].to_numpy(np.float64)
    rows = []
    sums = [np.bincount(pos[m], weights=y[m], minlength=len(periods)) for m in (ever, ~ever)]
    counts = [np.bincount(pos[m], minlength=len(periods)) for m in (ever, ~ever)]
    for i, period in enumerate(periods):
        treated, control = (
            s[i] / c[i] if c[i] else None for s, c in zip(sums, counts, strict=True)
        )
        rows.append({"period": plain(period), "treated_mean": treated, "control_mean": control})
    return rows


def _trend_plot(d: dict[str, Any]) -> str:
    rows = d["tables"]["group_means"]
    return lines_svg(
        [r["period"] for r in rows],
        {"ever treated": ([r["treated_mean"] for r in rows], None, None),
         "never treated": ([r["control_mean"] for r in rows], None, None)},
        xlabel="period", ylabel=d["outcome"],
    )  # fmt: skip


def _balanced_fit(
    frame: pd.DataFrame,
    panel: Panel,
    outcome: str,
    treatment: str,
    unit: str,
    cluster: str,
    confidence: float,
) -> Slope | None:
    """TWFE without covariates or weights on a balanced panel whose units sit inside the
    clusters: the closed form of :mod:`sds.causal.fwl` (None when it does not apply)."""
    if panel.gaps:
        return None
    units, pos = panel.unit_codes, panel.period_index
    groups = units if cluster == unit else pd.factorize(frame[cluster].to_numpy())[0]
    if cluster != unit and pd.Series(groups).groupby(units).nunique().max() > 1:
        return None
    values = np.column_stack([frame[outcome].to_numpy(np.float64), frame[treatment].to_numpy()])
    both = balanced_demean(values, units, pos)
    if both is None:
        return None
    k = small_sample_k(units, groups, len(panel.periods))
    return crv1_slope(both[:, 0], both[:, 1], groups, k, confidence)


def _placebo_dates(
    frame: pd.DataFrame,
    panel: Panel,
    outcome: str,
    unit: str,
    cluster: str,
    weights: str | None,
) -> list[dict[str, Any]]:
    """Keep the rows before the first adoption; pretend the eventually treated units were
    treated from a date inside that window; there should be no effect. Each fake date is
    one regression with unit and time effects and CRV1 errors, computed together after
    partialling out the effects once (:mod:`sds.causal.fwl`)."""
    first = panel.periods.index(min(panel.cohorts))  # position of the first adoption
    mask = panel.period_index < first
    periods = panel.periods[:first]
    ever = frame["_cohort"].notna().to_numpy()[mask]
    fakes = periods[1:][-PLACEBO_DATES:]
    if len(periods) < 2 or not ever.any() or ever.all():
        return []
    pos = panel.period_index[mask]
    d = np.column_stack([(ever & (pos >= periods.index(f))).astype(np.float64) for f in fakes])
    w = frame[weights].to_numpy(np.float64)[mask] if weights else None
    units = pd.factorize(panel.unit_codes[mask])[0]  # units with no pre-period rows drop out
    values = np.column_stack([frame[outcome].to_numpy(np.float64)[mask], d])
    both = partial_out(values, units, pos, w)
    groups = units if cluster == unit else pd.factorize(frame[cluster].to_numpy()[mask])[0]
    k = small_sample_k(units, groups, len(periods))
    rows = []
    for j, fake in enumerate(fakes):
        slope = crv1_slope(both[:, 0], both[:, 1 + j], groups, k, 0.95, w)
        if slope is not None:
            rows.append({"fake_date": plain(fake), **dataclasses.asdict(slope)})
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
    another (a permutation of the units' treatment histories), refit (unweighted), and
    count refits at least as far from zero as the observed estimate. By Frisch-Waugh-
    Lovell, each refit is one dot product after the fixed effects and covariates are
    partialled out, in batches."""
    unit_codes = pd.factorize(frame[unit])[0]
    period_codes = pd.factorize(frame[time])[0]
    tilde = partial_out(frame[[outcome, *covariates]].to_numpy(np.float64), unit_codes,
                        period_codes, None)  # fmt: skip
    y, x = tilde[:, 0], tilde[:, 1:]
    if x.shape[1]:
        y = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    cohort = frame.groupby(unit_codes, sort=True)["_cohort"].first().to_numpy()
    times = frame[time].to_numpy(np.float64)
    rng = np.random.default_rng(seed)
    extreme = 0
    size = int(np.clip(10_000_000 // len(frame), 1, 100))  # about 80 MB per batch array
    for start in range(0, reps, size):
        batch = min(size, reps - start)
        drawn = np.stack([rng.permutation(cohort)[unit_codes] for _ in range(batch)], axis=1)
        d = (times[:, None] >= drawn).astype(np.float64)  # NaN (never treated) compares False
        dt = partial_out(d, unit_codes, period_codes, None)
        if x.shape[1]:
            dt = dt - x @ np.linalg.lstsq(x, dt, rcond=None)[0]
        denom = np.einsum("ij,ij->j", dt, dt)
        beta = np.divide(dt.T @ y, denom, out=np.zeros(batch), where=denom > 1e-12)
        extreme += int((np.abs(beta) >= abs(observed) - 1e-12).sum())
    return (1 + extreme) / (1 + reps)
