"""Experiment plans: solve for sample size, power or MDE, with the advice a senior would add.

``design(spec)`` takes a :class:`DesignSpec` (from Python, the CLI or a YAML/JSON file),
estimates missing inputs from history when ``data`` is given, solves for whichever of
sample size, power or MDE is missing, compares the available methods, applies CUPED and
multiple-testing corrections, converts units to days, and explains the result.
"""

from __future__ import annotations

from typing import Any

from sds.data.io import open_table
from sds.errors import ParameterError
from sds.experiments import history
from sds.experiments import power as pw
from sds.experiments.design_result import DesignHistory, DesignPlan, Solution, build_plan
from sds.experiments.design_spec import DesignSpec as DesignSpec
from sds.params import check, check_all
from sds.stats.multiple import planning_alpha

METHODS = {"proportion": ("pooled", "unpooled", "arcsine"), "mean": ("t", "z"), "ratio": ("delta",)}


def design(spec: DesignSpec | None = None, **kwargs: Any) -> DesignPlan:
    """Plan an experiment. Keyword arguments are the fields of :class:`DesignSpec`.

    >>> from sds.experiments.design import design
    >>> design(metric="proportion", baseline=0.05, mde=0.10).n_per_variant
    (31234, 31234)
    """
    if spec is None:
        spec = DesignSpec(**kwargs)
    spec, history = _with_history(spec)
    _validate(spec)
    center = spec.baseline if spec.metric == "proportion" else spec.mean
    method = spec.method or METHODS[spec.metric][0]
    if method not in METHODS[spec.metric]:
        raise ParameterError(
            f"method == {method!r}, must be one of {', '.join(map(repr, METHODS[spec.metric]))}"
            f" for a {spec.metric} metric",
            parameter="method",
        )
    # holm (the default) is powered at alpha / m, its first step: see planning_alpha
    alpha_c = planning_alpha(spec.alpha, spec.arms - 1, spec.correction)
    delta = _absolute_delta(spec, center)
    factor = 1 - spec.rho**2 if spec.rho is not None else 1.0
    solved = _solve(spec, method, delta, alpha_c, factor)
    plain = _solve(spec, method, delta, alpha_c, 1.0) if factor < 1 else None
    # continuity correction exists for the z-tests only, so compare those when it is asked
    compared = [m for m in METHODS[spec.metric] if not (spec.continuity and m == "arcsine")]
    methods = [(m, _solve(spec, m, delta, alpha_c, factor)) for m in compared]
    return build_plan(spec, method, alpha_c, solved, plain, methods, history)


def _validate(spec: DesignSpec) -> None:
    check_all(
        spec.model_dump(),
        [
            "alpha",
            "power",
            "mean",
            "ratio",
            "arms",
            "std",
            "mde",
            "daily_units",
            "max_days",
            "rho",
            "looks",
            "spending_gamma",
            "alternative",
            "correction",
            "spending",
        ],
    )
    if spec.n_per_variant is not None:
        check("n_per_variant", spec.n_per_variant)
    if spec.metric == "proportion":
        if spec.baseline is None:
            raise ParameterError(
                "a proportion metric needs baseline (or data to estimate it)",
                parameter="baseline",
                mentions=("baseline", "data"),
                expected="a rate in (0, 1)",
            )
        check("baseline", spec.baseline)
    else:
        if spec.std is None:
            raise ParameterError(
                f"a {spec.metric} metric needs std (or data to estimate it)",
                parameter="std",
                mentions=("std", "data"),
                expected="a number > 0",
            )
        if not spec.absolute and spec.mde is not None and not spec.mean:
            raise ParameterError(
                "a relative mde needs a non-zero mean",
                parameter="mean",
                hint="Give mean, or set absolute to read mde in the metric's units.",
                mentions=("mde", "mean", "absolute"),
            )
    if spec.mde is None and spec.n_per_variant is None:
        raise ParameterError(
            "say what to solve for: give mde (to get the sample size) or "
            "n_per_variant (to get power or the MDE)",
            parameter="mde",
            mentions=("mde", "n_per_variant"),
        )


def _absolute_delta(spec: DesignSpec, center: float | None) -> float | None:
    if spec.mde is None:
        return None
    sign = -1.0 if spec.alternative == "less" else 1.0
    magnitude = spec.mde if spec.absolute or center is None else spec.mde * abs(center)
    if spec.metric == "proportion" and center is not None:
        room = center if sign < 0 else 1 - center
        if magnitude >= room:
            raise ParameterError(
                f"mde == {spec.mde:g}, moves the rate outside (0, 1) from baseline {center:g}",
                parameter="mde",
                hint="Use a smaller lift, or set absolute (mde in points of the rate).",
                mentions=("mde", "absolute"),
            )
    return sign * magnitude


def _model(spec: DesignSpec, method: str, factor: float) -> pw.MetricModel:
    return pw.metric_model(
        spec.metric,
        method,
        baseline=spec.baseline,
        std=spec.std,
        continuity=spec.continuity,
        ratio=spec.ratio,
        factor=factor,
    )


def _solve(
    spec: DesignSpec, method: str, delta: float | None, alpha_c: float, factor: float
) -> Solution:
    """Solve one method: control-arm n (unrounded), power and absolute effect."""
    model = _model(spec, method, factor)
    args = (spec.ratio, alpha_c, spec.alternative)
    if spec.n_per_variant is None:
        assert delta is not None
        n_c = pw.solve_n(model, delta, spec.power, *args)
        return Solution("n", n_c, spec.power, delta)
    if delta is not None:
        p = pw.solve_power(model, delta, spec.n_per_variant, *args)
        return Solution("power", spec.n_per_variant, p, delta)
    d = pw.solve_delta(model, spec.n_per_variant, spec.power, *args)
    return Solution("mde", spec.n_per_variant, spec.power, d)


def _with_history(spec: DesignSpec) -> tuple[DesignSpec, DesignHistory | None]:
    """Fill baseline / mean / std / rho from ``spec.data`` when given."""
    if not spec.data:
        return spec, None
    table = open_table(spec.data, table=spec.table, encoding=spec.encoding)
    if spec.metric == "ratio":
        if not (spec.numerator and spec.denominator):
            raise ParameterError(
                "a ratio metric from data needs numerator and denominator columns",
                parameter="numerator",
                mentions=("numerator", "denominator"),
            )
        est = history.estimate_ratio(table, spec.numerator, spec.denominator, spec.covariate)
    else:
        if not spec.column:
            raise ParameterError(
                f"a {spec.metric} metric from data needs the column to use",
                parameter="column",
                hint="Give column: the name of the metric in data.",
                mentions=("column",),
            )
        fn = history.estimate_proportion if spec.metric == "proportion" else history.estimate_mean
        est = fn(table, spec.column, spec.covariate)
    updates: dict[str, Any] = {"mean": est.mean, "std": est.std}
    if spec.metric == "proportion":
        updates = {"baseline": est.mean}
    if est.rho is not None and spec.rho is None:
        updates["rho"] = est.rho
    filled = spec.model_copy(update=updates)
    return filled, DesignHistory(table.name, est)
