"""Staggered adoption: Callaway & Sant'Anna (2021) group-time effects (moderndid).

Each cohort (units first treated in period g) is compared with never-treated units (or
not-yet-treated ones) period by period, giving ATT(g, t); these are aggregated to one
number (by cohort, the default, as R's ``did::aggte``; or ``simple``, ``dynamic``,
``calendar``) and to an event study whose leads test parallel trends. Unlike TWFE, no
already-treated unit ever serves as a control, so effects that change over time do not bias
the estimate.
"""

from __future__ import annotations

import contextlib
import io
import warnings as pywarnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sds.causal.data import load, numeric, treatment_indicator
from sds.causal.panel import check_panel
from sds.causal.plots import event_plot
from sds.causal.result import CausalResult, estimate_row, normal_effect
from sds.errors import AnalysisError
from sds.params import OneOf, check
from sds.stats.estimate import Estimate
from sds.stats.formula_guard import check_formula

AGGREGATIONS = ("group", "simple", "dynamic", "calendar")
CONTROLS = {"never": "nevertreated", "not-yet": "notyettreated"}
METHODS = ("dr", "ipw", "reg")
METHOD = "did-callaway-santanna"


def staggered(
    data: Any,
    outcome: str,
    treatment: str,
    unit: str,
    time: str,
    covariates: Sequence[str] = (),
    *,
    control: str = "never",
    method: str = "dr",
    aggregation: str = "group",
    cluster: str | None = None,
    weights: str | None = None,
    confidence: float = 0.95,
) -> CausalResult:
    """The ATT under staggered adoption; `treatment` is the 0/1 'treated now' column.

    Args:
        data: A DataFrame, or what `sds.open_table` reads (a path, glob, SQL query or
            `Table`). Rows with a missing value in a column used are dropped and counted; a
            missing treatment is an error.
        outcome: Numeric outcome column.
        treatment: 0/1 column, 1 in the periods a unit is treated ("treated now").
        unit: Column identifying the unit (state, store, user) followed over time.
        time: Period column (numbers or dates); periods are counted in the data's own steps.
        covariates: Columns that parallel trends is assumed conditional on; they enter the
            propensity and outcome models of each group-time comparison (`xformla`).
        control: Comparison units: `never` (never-treated, default) or `not-yet` (also those
            not treated yet).
        method: Estimation within each group-time cell: `dr` (doubly robust, default),
            `ipw` or `reg` (outcome regression).
        aggregation: How ATT(g, t) become one number: `group` (by cohort, default, as R's
            `did::aggte`), `simple`, `dynamic` (by time since adoption) or `calendar`.
        cluster: Column to cluster the standard errors by; `None` clusters by `unit`.
        weights: Column of non-negative row weights for a weighted fit; `None` weighs rows
            equally.
        confidence: Coverage of the reported intervals, in (0, 1); `1 - confidence` is also
            the level of the warnings' tests.

    Returns:
        The aggregated ATT with its interval, the group-time effects and the event study
            as tables, the pre-trend Wald p-value, an event-study plot and a verdict.

    Raises:
        ParameterError: An unknown `control`, `method` or `aggregation`.
        DataError: A column is missing or unusable, or the panel has no cohort to compare.
        AnalysisError: The Callaway-Sant'Anna fit fails.
    """
    check("confidence", confidence)
    check("aggregation", aggregation, OneOf(AGGREGATIONS))
    check("control", control, OneOf(tuple(CONTROLS)))
    check("method", method, OneOf(METHODS))
    columns = [outcome, treatment, unit, time, *covariates, cluster, weights]
    frame, warnings, source = load(data, columns, required=[treatment])
    numeric(frame, outcome, source)
    treatment_indicator(frame, treatment, source)
    panel = check_panel(frame, unit, time, treatment, source)
    warnings += [w for w in panel.warnings if not w.startswith("staggered adoption")]
    frame = panel.frame.assign(_g=panel.frame["_cohort"].fillna(0.0))
    frame["_id"] = pd.factorize(frame[unit])[0] + 1
    gt, agg, event = _fit(frame, outcome, time, covariates, control, method, aggregation,
                          cluster, weights, confidence, panel.gaps > 0)  # fmt: skip
    effect = normal_effect(float(agg.overall_att), float(agg.overall_se), confidence, METHOD)
    diagnostics: dict[str, Any] = {
        "pretrend_wald_p": _finite(getattr(gt, "wald_pvalue", None)),
        "cohorts": len(panel.cohorts),
        "control_group": control,
        "aggregation": aggregation,
        "estimation": {"dr": "doubly robust", "ipw": "inverse probability weighting",
                       "reg": "outcome regression"}[method],
    }  # fmt: skip
    if (
        diagnostics["pretrend_wald_p"] is not None
        and diagnostics["pretrend_wald_p"] < 1 - confidence
    ):
        warnings.append(
            f"the pre-treatment ATT(g, t) are jointly non-zero (Wald p = "
            f"{diagnostics['pretrend_wald_p']:.3g}): parallel trends is doubtful"
        )
    return CausalResult(
        method=METHOD,
        estimand=f"ATT ({aggregation} aggregation)",
        effect=effect,
        n={"observations": len(frame), "units": int(frame[unit].nunique()),
           "never_treated_units": int(frame.loc[frame["_g"].eq(0), unit].nunique())},
        outcome=outcome, treatment=treatment,
        diagnostics=diagnostics, warnings=tuple(warnings),
        tables={"group_time": _group_time(gt, confidence),
                "event_study": [{"relative_period": k, **estimate_row(e)} for k, e in event]},
        period_effects=tuple(event),
        assumptions=(
            "Parallel trends between each cohort and its comparison group (never-treated or "
            "not-yet-treated units), conditional on the covariates.",
            "No anticipation before the first treated period; treatment stays on.",
            "Overlap: every cohort has comparable control units.",
        ),
        figures=(("Event study (Callaway-Sant'Anna)", event_plot),),
    )  # fmt: skip


def _fit(
    frame: pd.DataFrame,
    outcome: str,
    time: str,
    covariates: Sequence[str],
    control: str,
    method: str,
    aggregation: str,
    cluster: str | None,
    weights: str | None,
    confidence: float,
    unbalanced: bool,
) -> tuple[Any, Any, list[tuple[int, Estimate]]]:
    import moderndid

    if covariates:  # moderndid evaluates the covariate formula as code
        check_formula(f"~ {' + '.join(covariates)}", parameter="covariates")
    kwargs: dict[str, Any] = {
        "yname": outcome, "tname": time, "idname": "_id", "gname": "_g",
        "xformla": f"~ {' + '.join(covariates)}" if covariates else None,
        "control_group": CONTROLS[control], "est_method": method, "alp": 1 - confidence,
        "cband": False, "weightsname": weights, "allow_unbalanced_panel": unbalanced,
        "clustervars": [cluster] if cluster else None,
    }  # fmt: skip
    with pywarnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        pywarnings.simplefilter("ignore")
        try:
            gt = moderndid.att_gt(data=frame, **kwargs)
            agg = moderndid.aggte(gt, type=aggregation, cband=False)
            dyn = (
                agg
                if aggregation == "dynamic"
                else moderndid.aggte(gt, type="dynamic", cband=False)
            )
        except Exception as exc:  # the library's own message says what it could not do
            raise AnalysisError(f"the Callaway-Sant'Anna estimator failed: {exc}") from exc
    event = [
        (int(e), normal_effect(float(att), float(se), confidence, METHOD))
        for e, att, se in zip(dyn.event_times, dyn.att_by_event, dyn.se_by_event, strict=True)
    ]
    return gt, agg, event


def _group_time(gt: Any, confidence: float) -> list[dict[str, Any]]:
    rows = []
    for g, t, att, se in zip(gt.groups, gt.times, gt.att_gt, gt.se_gt, strict=True):
        e = estimate_row(normal_effect(float(att), float(se), confidence, METHOD))
        rows.append({"cohort": float(g), "period": float(t), "att": e.pop("estimate"), **e})
    return rows


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None
