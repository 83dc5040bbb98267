"""The experiment plan record, its guardrails and its explanation in plain words.

A :class:`DesignPlan` is typed: per-arm sample sizes (``n_per_variant``, control first), the
metric and its inputs, power and MDE, the duration, the methods compared, the CUPED gain
(:class:`CupedGain`), the sequential looks (:class:`SequentialLooks`) and what history said
(:class:`DesignHistory`). Its warnings and explanation are read from those fields, and
``to_dict()`` lays them out as the JSON the reports render.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from sds.errors import AnalysisError
from sds.experiments.design_spec import DesignSpec
from sds.experiments.history import HistoryEstimate
from sds.experiments.power import metric_model, solve_delta, units_for
from sds.experiments.sequential import sequential_design
from sds.results import KeyValue, Note, Result, Section, Table, jsonable_dict
from sds.stats.multiple import planning_note

METHOD_NAMES = {
    "pooled": "two-proportion z-test, pooled variance under H0 (score test)",
    "unpooled": "two-proportion z-test, unpooled variance (Wald test)",
    "arcsine": "arcsine transform, Cohen's h (normal approximation)",
    "t": "Student t-test (noncentral t)",
    "z": "z-test (normal approximation)",
    "delta": "z-test on a ratio of means, delta-method variance",
}
PLAN_KEYS = (
    "name",
    "metric",
    "method",
    "solve_for",
    "n_per_variant",
    "n_total",
    "power",
    "mde_absolute",
    "mde_relative",
    "baseline",
    "mean",
    "std",
    "alpha",
    "alpha_per_comparison",
    "correction",
    "alternative",
    "ratio",
    "variants",
    "daily_units",
    "days",
    "max_days",
)


@dataclass(frozen=True)
class Solution:
    """One solve: what was solved for, control-arm units (not rounded), power, effect."""

    solve_for: str  # "n", "power" or "mde"
    n_control: float
    power: float
    delta: float


@dataclass(frozen=True)
class MethodRow:
    """One test method's plan, for the comparison table."""

    method: str
    n_control_exact: float
    power: float
    mde_absolute: float

    @property
    def description(self) -> str:
        return METHOD_NAMES[self.method]

    @property
    def n_control(self) -> int:
        return math.ceil(self.n_control_exact - 1e-9)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "description": self.description,
            "n_control": self.n_control,
            "n_control_exact": self.n_control_exact,
            "power": self.power,
            "mde_absolute": self.mde_absolute,
        }


@dataclass(frozen=True)
class CupedGain:
    """What CUPED (variance times ``1 - rho^2``) saves against the plain plan."""

    rho: float
    covariate: str | None
    n_per_variant_without: tuple[int, ...]
    power_without: float
    mde_absolute_without: float
    units_saved: int

    @property
    def variance_reduction_share(self) -> float:
        return self.rho**2

    def to_dict(self) -> dict[str, Any]:
        return {
            "rho": self.rho,
            "variance_reduction_share": self.variance_reduction_share,
            "covariate": self.covariate,
            "n_per_variant_without": list(self.n_per_variant_without),
            "n_total_without": sum(self.n_per_variant_without),
            "power_without": self.power_without,
            "mde_absolute_without": self.mde_absolute_without,
            "units_saved": self.units_saved,
        }


@dataclass(frozen=True)
class SequentialLooks:
    """The group-sequential part of a plan (sizes in control-arm units)."""

    looks: int
    spending: str
    z_boundaries: tuple[float, ...]
    nominal_p_values: tuple[float, ...]
    inflation_factor: float
    n_max: int
    expected_n_h0: int
    expected_n_h1: int
    naive_peeking_alpha: float
    n_max_unit: ClassVar[str] = "control-arm units"

    @classmethod
    def of(cls, plan: dict[str, Any]) -> SequentialLooks:
        """From a :class:`~sds.experiments.sequential.SequentialPlan`'s ``to_dict()``."""
        return cls(
            looks=plan["looks"],
            spending=plan["spending"],
            z_boundaries=tuple(plan["z_boundaries"]),
            nominal_p_values=tuple(plan["nominal_p_values"]),
            inflation_factor=plan["inflation_factor"],
            n_max=plan["n_max"],
            expected_n_h0=plan["expected_n_h0"],
            expected_n_h1=plan["expected_n_h1"],
            naive_peeking_alpha=plan["naive_peeking_alpha"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "looks": self.looks,
            "spending": self.spending,
            "z_boundaries": list(self.z_boundaries),
            "nominal_p_values": list(self.nominal_p_values),
            "inflation_factor": self.inflation_factor,
            "n_max": self.n_max,
            "expected_n_h0": self.expected_n_h0,
            "expected_n_h1": self.expected_n_h1,
            "naive_peeking_alpha": self.naive_peeking_alpha,
            "n_max_unit": self.n_max_unit,
        }


@dataclass(frozen=True)
class DesignHistory:
    """The history file a plan's inputs were estimated from, and the estimate."""

    source: str
    estimate: HistoryEstimate

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, **self.estimate.to_dict()}


@dataclass(frozen=True)
class DesignPlan(Result):
    """A solved experiment plan. ``n_per_variant`` holds the units per arm (control
    first); ``arms`` counts the arms (JSON key ``variants``)."""

    title: ClassVar[str] = "Experiment plan"
    name: str | None
    metric: str
    method: str
    solve_for: str
    n_per_variant: tuple[int, ...]
    power: float
    mde_absolute: float
    baseline: float | None
    mean: float | None
    std: float | None
    alpha: float
    alpha_per_comparison: float
    correction: str
    alternative: str
    ratio: float
    arms: int
    continuity_correction: bool
    daily_units: float | None
    max_days: float
    methods: tuple[MethodRow, ...]
    cuped: CupedGain | None = None
    history: DesignHistory | None = None
    sequential: SequentialLooks | None = None
    mde_at_max_days: float | None = None  # when the plan is longer than max_days

    @property
    def method_description(self) -> str:
        return METHOD_NAMES[self.method]

    @property
    def n_total(self) -> int:
        return sum(self.n_per_variant)

    @property
    def center(self) -> float | None:
        """The control's rate (proportion) or mean: what a relative effect is relative to."""
        return self.baseline if self.metric == "proportion" else self.mean

    @property
    def mde_relative(self) -> float | None:
        return self.mde_absolute / abs(self.center) if self.center else None

    @property
    def days(self) -> int | None:
        return math.ceil(self.n_total / self.daily_units) if self.daily_units else None

    @property
    def warnings(self) -> tuple[str, ...]:
        return plan_warnings(self)

    @property
    def explanation(self) -> str:
        return explain(self)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "metric": self.metric,
            "method": self.method,
            "method_description": self.method_description,
            "solve_for": self.solve_for,
            "n_per_variant": list(self.n_per_variant),
            "n_total": self.n_total,
            "power": self.power,
            "mde_absolute": self.mde_absolute,
            "mde_relative": self.mde_relative,
            "baseline": self.baseline,
            "mean": self.mean,
            "std": self.std,
            "alpha": self.alpha,
            "alpha_per_comparison": self.alpha_per_comparison,
            "correction": self.correction,
            "alternative": self.alternative,
            "ratio": self.ratio,
            "variants": self.arms,
            "continuity_correction": self.continuity_correction,
            "daily_units": self.daily_units,
            "max_days": self.max_days,
            "days": self.days,
            "methods": [m.to_dict() for m in self.methods],
        }
        for key in ("cuped", "history", "sequential"):
            part = getattr(self, key)
            d[key] = part.to_dict() if part is not None else None
        if self.mde_at_max_days is not None:
            d["mde_at_max_days"] = self.mde_at_max_days
        d["warnings"] = list(self.warnings)
        d["explanation"] = self.explanation
        return jsonable_dict(d)

    def sections(self) -> list[Section]:
        d = self.to_dict()
        out: list[Section] = [Note("In plain words", [d["explanation"]])]
        shown = dict(d)
        if d["variants"] == 2 and d["correction"] != "none":  # nothing to correct
            shown["correction"] = f"none (one comparison, so {d['correction']} does not apply)"
        out.append(KeyValue("Plan", [(k, shown[k]) for k in PLAN_KEYS if d.get(k) is not None]))
        cols = ["method", "description", "n_control", "power", "mde_absolute"]
        out.append(Table("Methods compared", cols, [[m[c] for c in cols] for m in d["methods"]]))
        for key, title in (
            ("cuped", "Variance reduction (CUPED)"),
            ("sequential", "Sequential plan"),
            ("history", "From history"),
        ):
            if d.get(key):
                out.append(KeyValue(title, list(d[key].items())))
        if d["warnings"]:
            out.append(Note("Warnings", d["warnings"]))
        return out


def build_plan(
    spec: DesignSpec,
    method: str,
    alpha_c: float,
    solved: Solution,
    plain: Solution | None,
    methods: list[tuple[str, Solution]],
    history: DesignHistory | None,
) -> DesignPlan:
    """The plan for ``spec`` from its solves (``plain``: the same without CUPED)."""
    n = units_for(solved.n_control, spec.ratio, spec.arms)
    rows = tuple(MethodRow(m, s.n_control, s.power, s.delta) for m, s in methods)
    is_proportion = spec.metric == "proportion"
    return DesignPlan(
        name=spec.name,
        metric=spec.metric,
        method=method,
        solve_for=solved.solve_for,
        n_per_variant=n,
        power=solved.power,
        mde_absolute=solved.delta,
        baseline=spec.baseline,
        mean=None if is_proportion else spec.mean,
        std=None if is_proportion else spec.std,
        alpha=spec.alpha,
        alpha_per_comparison=alpha_c,
        correction=spec.correction,
        alternative=spec.alternative,
        ratio=spec.ratio,
        arms=spec.arms,
        continuity_correction=spec.continuity,
        daily_units=spec.daily_units,
        max_days=spec.max_days,
        methods=rows,
        cuped=_cuped(spec, n, plain),
        history=history,
        sequential=_sequential(spec, alpha_c, solved),
        mde_at_max_days=_mde_at_max_days(spec, method, alpha_c, sum(n)),
    )


def _cuped(spec: DesignSpec, n: tuple[int, ...], plain: Solution | None) -> CupedGain | None:
    if spec.rho is None or plain is None:
        return None
    without = units_for(plain.n_control, spec.ratio, spec.arms)
    saved = sum(without) - sum(n)
    return CupedGain(spec.rho, spec.covariate, without, plain.power, plain.delta, saved)


def _sequential(spec: DesignSpec, alpha_c: float, solved: Solution) -> SequentialLooks | None:
    if spec.looks <= 1:
        return None
    kwargs: dict[str, Any] = {}
    if spec.spending_gamma is not None:
        kwargs["spending_gamma"] = spec.spending_gamma
    seq = sequential_design(
        looks=spec.looks,
        alpha=alpha_c,
        power=solved.power,
        spending=spec.spending,
        alternative=spec.alternative,
        n_fixed=math.ceil(solved.n_control - 1e-9),
        **kwargs,
    )
    return SequentialLooks.of(seq.to_dict())


def _mde_at_max_days(spec: DesignSpec, method: str, alpha_c: float, n_total: int) -> float | None:
    """The effect detectable within ``max_days`` when the plan takes longer (None when it
    does not, or when no effect is detectable in that time)."""
    if not spec.daily_units or math.ceil(n_total / spec.daily_units) <= spec.max_days:
        return None
    arms = 1 + spec.ratio * (spec.arms - 1)
    n_c = spec.daily_units * spec.max_days / arms
    factor = 1 - spec.rho**2 if spec.rho is not None else 1.0
    model = metric_model(
        spec.metric,
        method,
        baseline=spec.baseline,
        std=spec.std,
        continuity=spec.continuity,
        ratio=spec.ratio,
        factor=factor,
    )
    try:
        return solve_delta(model, n_c, spec.power, spec.ratio, alpha_c, spec.alternative)
    except AnalysisError:
        return None


def plan_warnings(plan: DesignPlan) -> tuple[str, ...]:
    """Guardrails: low power, too long, too few events, uncorrected comparisons."""
    out = []
    if plan.power < 0.8:
        out.append(
            f"Power is {plan.power:.1%}, below 80%: a real effect of this size would be "
            f"missed {1 - plan.power:.0%} of the time."
        )
    if plan.days is not None and plan.days > plan.max_days:
        out.append(_too_long(plan))
    rate = plan.baseline or 0.5
    if plan.metric == "proportion" and min(plan.n_per_variant) * min(rate, 1 - rate) < 10:
        out.append(
            "Fewer than 10 expected events per arm: the normal approximation is poor; "
            "plan for an exact test."
        )
    if plan.arms > 2 and plan.correction == "none":
        out.append(
            f"{plan.arms - 1} comparisons without correction: the chance of at "
            f"least one false positive is up to {1 - (1 - plan.alpha) ** (plan.arms - 1):.1%}."
        )
    return tuple(out)


def _too_long(plan: DesignPlan) -> str:
    assert plan.daily_units is not None
    text = (
        f"The plan needs {plan.days:,} days at {plan.daily_units:,.0f} units a day, more "
        f"than the {plan.max_days:g}-day limit."
    )
    mde = plan.mde_at_max_days
    if mde is None:
        return text + " No effect is detectable in that time."
    center = plan.center
    rel = f" ({mde / abs(center):+.1%} relative)" if center else ""
    return text + f" In {plan.max_days:g} days you can detect {mde:+.4g}{rel} at the same power."


def explain(plan: DesignPlan) -> str:
    """One paragraph a stakeholder can read."""
    n = plan.n_per_variant
    each = (
        f"{n[0]:,} units per variant"
        if len(set(n)) == 1
        else (f"{n[0]:,} control and {n[1]:,} units per treatment arm")
    )
    side = "two-sided" if plan.alternative == "two-sided" else "one-sided"
    if plan.metric == "proportion":
        assert plan.baseline is not None
        p0, p1 = plan.baseline, plan.baseline + plan.mde_absolute
        change = f"a change in conversion from {p0:.2%} to {p1:.2%}"
    else:
        change = f"a change of {plan.mde_absolute:+.4g} in the {plan.metric}"
    if plan.mde_relative is not None:
        change += f" ({plan.mde_relative:+.1%} relative)"
    chance = f"{plan.power:.0%}"
    article = "an" if chance.startswith(("8", "11", "18")) else "a"
    text = (
        f"With {each} ({plan.n_total:,} in all) you have {article} {chance} chance to "
        f"detect {change} at a {side} {plan.alpha_per_comparison:.2%} significance level "
        f"({plan.method_description})."
    )
    if plan.days:
        text += f" At {plan.daily_units:,.0f} units a day that takes {plan.days:,} days."
    seq = plan.sequential
    if seq:
        text += (
            f" Peeking {seq.looks} times with {seq.spending} spending needs up to "
            f"{seq.n_max:,} control units (x{seq.inflation_factor:.3f}); if the "
            f"effect is real you expect to stop at about {seq.expected_n_h1:,}. Peeking "
            f"that often at the fixed threshold would give a "
            f"{seq.naive_peeking_alpha:.1%} false-positive rate."
        )
    if plan.cuped:
        text += (
            f" CUPED with correlation {plan.cuped.rho:.2f} saves {plan.cuped.units_saved:,} units."
        )
    note = planning_note(plan.correction, plan.arms - 1, plan.alpha, plan.alpha_per_comparison)
    return f"{text} {note}" if note else text
