"""Event study: two-way fixed effects with leads and lags of adoption (pyfixest).

Each treated unit's periods are counted relative to its adoption (period 0 is the first
treated one, counted in the data's own periods, not calendar units); never-treated units
sit in the reference period (-1 by default). The leads (periods before adoption) test
parallel trends jointly; the lags trace the effect over time; the headline estimate is the
average of the lags. With ``window=(leads, lags)`` the end points are binned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sds.causal.data import load, numeric, treatment_indicator
from sds.causal.did import fit_twfe
from sds.causal.fwl import Slope
from sds.causal.panel import check_panel
from sds.causal.plots import event_plot
from sds.causal.result import TREATED, CausalResult, estimate_row
from sds.errors import DataError, ParameterError
from sds.params import check
from sds.stats.estimate import Estimate

REL = "_rel"


def event_study(
    data: Any,
    outcome: str,
    treatment: str,
    unit: str,
    time: str,
    covariates: Sequence[str] = (),
    *,
    cluster: str | None = None,
    weights: str | None = None,
    window: tuple[int, int] | None = None,
    reference: int = -1,
    confidence: float = 0.95,
) -> CausalResult:
    """Effects by period relative to adoption, a joint pre-trend test, and their average.

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
        window: `(leads, lags)`: periods further than `leads` before or `lags` after adoption
            are binned into the end points. `None` estimates every relative period.
        reference: The relative period left out as the baseline (negative; default -1, the
            period just before adoption); never-treated units are placed in it.
        confidence: Coverage of the reported intervals, in (0, 1); `1 - confidence` is also
            the level of the warnings' tests.

    Returns:
        The average of the post-adoption effects as the headline estimate, each relative
            period's effect (`period_effects` and a table), the leads' joint F test in the
            diagnostics, an event-study plot and a verdict.

    Raises:
        ParameterError: `reference` is not negative.
        DataError: A column is missing or unusable, or there is no treated or no non-reference
            period to estimate.
    """
    check("confidence", confidence)
    if reference >= 0:
        raise ParameterError(
            "the reference period must be before adoption", parameter="reference",
            found=reference, expected="a negative number, usually -1",
        )  # fmt: skip
    frame, warnings, source = load(data, [outcome, treatment, unit, time, *covariates,
                                          cluster, weights], required=[treatment])  # fmt: skip
    numeric(frame, outcome, source)
    treatment_indicator(frame, treatment, source)
    panel = check_panel(frame, unit, time, treatment, source)
    frame, cluster = panel.frame, cluster or unit
    warnings += [w.replace("Plain TWFE", "A TWFE event study") for w in panel.warnings]
    frame[REL] = _relative(frame, time, panel.periods, reference, window)
    if frame[REL].nunique() < 2:
        raise DataError("no period other than the reference: nothing to estimate",
                        source=source, column=time)  # fmt: skip
    fit = fit_twfe(frame, outcome, [f"i({REL}, ref={reference})", *covariates], unit, time,
                   cluster, weights)  # fmt: skip
    periods, names = _coefficients(fit, confidence, reference)
    df = int(frame[cluster].nunique()) - 1
    leads = [n for n in names if _period(n) < reference]
    lags = [n for n in names if _period(n) >= 0]
    if not lags:
        raise DataError("no treated period in the data: nothing to estimate", source=source,
                        column=treatment)  # fmt: skip
    pre_f, pre_p = _joint_test(fit, leads, df)
    effect = _average(fit, lags, df, confidence)
    if pre_p is not None and pre_p < 1 - confidence:
        warnings.append(
            f"the leads are jointly significant (pre-trend F = {pre_f:.3g}, p = {pre_p:.3g}): "
            "treated units were already moving differently before adoption"
        )
    return CausalResult(
        method="event-study",
        estimand="ATT (average of post-adoption periods)",
        effect=effect,
        n={"observations": len(frame), "units": int(frame[unit].nunique()),
           "clusters": df + 1},
        outcome=outcome, treatment=treatment,
        diagnostics={"pretrend_f": pre_f, "pretrend_p": pre_p, "leads": len(leads),
                     "lags": len(lags), "reference_period": reference},
        warnings=tuple(warnings),
        tables={"event_study": [{"relative_period": k, **estimate_row(e)} for k, e in periods]},
        period_effects=tuple(periods),
        assumptions=(
            "Parallel trends, which the leads test: before adoption, treated and control "
            "units moved alike.",
            "No anticipation, and with staggered adoption effects that do not differ by "
            "cohort (else use sds causal staggered).",
        ),
        figures=(("Event study", event_plot),),
    )  # fmt: skip


def _relative(
    frame: pd.DataFrame,
    time: str,
    periods: list[float],
    reference: int,
    window: tuple[int, int] | None,
) -> pd.Series:
    index = {p: i for i, p in enumerate(periods)}
    pos = frame[time].map(index)
    start = frame["_cohort"].map(index)
    rel = (pos - start).fillna(reference).astype(int)
    if window is not None:
        leads, lags = window
        rel = rel.clip(lower=-abs(leads), upper=abs(lags))
    return rel


def _coefficients(
    fit: Any, confidence: float, reference: int
) -> tuple[list[tuple[int, Estimate]], list[str]]:
    """The effect of each period relative to adoption (the reference one is 0 by
    construction), in period order; and the coefficients' names."""
    tidy = fit.tidy(alpha=1 - confidence)
    periods, names = [], []
    for name, r in tidy.iterrows():
        if not str(name).startswith(f"{REL}::"):
            continue
        names.append(str(name))
        s = Slope.from_tidy(r)
        effect = _effect(s.estimate, s.std_error, s.ci_lower, s.ci_upper, s.p_value, confidence)
        periods.append((_period(str(name)), effect))
    periods.append((reference, _effect(0.0, 0.0, 0.0, 0.0, 1.0, confidence)))
    return sorted(periods, key=lambda pe: pe[0]), names


def _effect(
    est: float,
    se: float,
    lo: float,
    hi: float,
    p: float,
    confidence: float,
    df: float | None = None,
) -> Estimate:
    return Estimate(est, se, lo, hi, p, confidence, "event-study", TREATED, df=df)


def _period(name: str) -> int:
    return int(float(name.split("::")[1]))


def _joint_test(fit: Any, names: list[str], df: int) -> tuple[float | None, float | None]:
    if not names:
        return None, None
    coef = fit.coef()[names].to_numpy()
    idx = [list(fit._coefnames).index(n) for n in names]
    v = fit._vcov[np.ix_(idx, idx)]
    f = float(coef @ np.linalg.solve(v, coef) / len(names))
    return f, float(stats.f.sf(f, len(names), df))


def _average(fit: Any, names: list[str], df: int, confidence: float) -> Estimate:
    idx = [list(fit._coefnames).index(n) for n in names]
    a = np.full(len(idx), 1 / len(idx))
    est = float(a @ fit.coef()[names].to_numpy())
    se = float(np.sqrt(a @ fit._vcov[np.ix_(idx, idx)] @ a))
    t = stats.t.ppf(0.5 + confidence / 2, df)
    p = float(2 * stats.t.sf(abs(est / se), df))
    return _effect(est, se, est - t * se, est + t * se, p, confidence, df)
