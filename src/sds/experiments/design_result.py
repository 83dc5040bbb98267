"""The experiment plan record, its guardrails and its explanation in plain words."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sds.results import KeyValue, Note, Result, Section, Table, jsonable_dict

if TYPE_CHECKING:
    from sds.experiments.design import DesignSpec

METHOD_NAMES = {
    "pooled": "two-proportion z-test, pooled variance under H0 (score test)",
    "unpooled": "two-proportion z-test, unpooled variance (Wald test)",
    "arcsine": "arcsine transform, Cohen's h (normal approximation)",
    "t": "Student t-test (noncentral t)",
    "z": "z-test (normal approximation)",
    "delta": "z-test on a ratio of means, delta-method variance",
}


@dataclass(frozen=True)
class DesignPlan(Result):
    """A solved experiment plan; ``to_dict()`` holds every figure."""

    title: ClassVar[str] = "Experiment plan"
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)

    @property
    def n_per_variant(self) -> list[int]:
        return list(self.data["n_per_variant"])

    @property
    def power(self) -> float:
        return float(self.data["power"])

    def sections(self) -> list[Section]:
        d = self.data
        keys = [
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
        ]
        out: list[Section] = [Note("In plain words", [d["explanation"]])]
        out.append(KeyValue("Plan", [(k, d[k]) for k in keys if d.get(k) is not None]))
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
    center: float | None,
    alpha_c: float,
    solved: dict[str, Any],
    plain: dict[str, Any] | None,
    methods: list[dict[str, Any]],
    history: dict[str, Any] | None,
) -> DesignPlan:
    from sds.experiments.design import units_for

    n = units_for(solved["n_control"], spec.ratio, spec.variants)
    delta = solved["delta"]
    data: dict[str, Any] = {
        "name": spec.name,
        "metric": spec.metric,
        "method": method,
        "method_description": METHOD_NAMES[method],
        "solve_for": solved["solve_for"],
        "n_per_variant": n,
        "n_total": sum(n),
        "power": solved["power"],
        "mde_absolute": delta,
        "mde_relative": delta / abs(center) if center else None,
        "baseline": spec.baseline,
        "mean": spec.mean if spec.metric != "proportion" else None,
        "std": spec.std if spec.metric != "proportion" else None,
        "alpha": spec.alpha,
        "alpha_per_comparison": alpha_c,
        "correction": spec.correction,
        "alternative": spec.alternative,
        "ratio": spec.ratio,
        "variants": spec.variants,
        "continuity_correction": spec.continuity,
        "daily_units": spec.daily_units,
        "max_days": spec.max_days,
        "days": math.ceil(sum(n) / spec.daily_units) if spec.daily_units else None,
        "methods": [_method_row(m) for m in methods],
        "cuped": _cuped(spec, n, plain),
        "history": history,
        "sequential": _sequential(spec, alpha_c, solved),
    }
    data["warnings"] = _warnings(spec, data, method, alpha_c)
    data["explanation"] = explain(data)
    return DesignPlan(jsonable_dict(data))


def _method_row(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": m["method"],
        "description": METHOD_NAMES[m["method"]],
        "n_control": math.ceil(m["n_control"] - 1e-9),
        "n_control_exact": m["n_control"],
        "power": m["power"],
        "mde_absolute": m["delta"],
    }


def _cuped(spec: DesignSpec, n: list[int], plain: dict[str, Any] | None) -> dict[str, Any] | None:
    if spec.rho is None or plain is None:
        return None
    from sds.experiments.design import units_for

    without = units_for(plain["n_control"], spec.ratio, spec.variants)
    return {
        "rho": spec.rho,
        "variance_reduction_share": spec.rho**2,
        "covariate": spec.covariate,
        "n_per_variant_without": without,
        "n_total_without": sum(without),
        "power_without": plain["power"],
        "mde_absolute_without": plain["delta"],
        "units_saved": sum(without) - sum(n),
    }


def _sequential(spec: DesignSpec, alpha_c: float, solved: dict[str, Any]) -> dict[str, Any] | None:
    if spec.looks <= 1:
        return None
    from sds.experiments.sequential import sequential_design

    kwargs: dict[str, Any] = {}
    if spec.spending_gamma is not None:
        kwargs["spending_gamma"] = spec.spending_gamma
    seq = sequential_design(
        looks=spec.looks,
        alpha=alpha_c,
        power=solved["power"],
        spending=spec.spending,
        alternative=spec.alternative,
        n_fixed=math.ceil(solved["n_control"] - 1e-9),
        **kwargs,
    )
    d = seq.to_dict()
    keep = (
        "looks",
        "spending",
        "z_boundaries",
        "nominal_p_values",
        "inflation_factor",
        "n_max",
        "expected_n_h0",
        "expected_n_h1",
        "naive_peeking_alpha",
    )
    return {k: d[k] for k in keep if k in d} | {"n_max_unit": "control-arm units"}


def _warnings(spec: DesignSpec, d: dict[str, Any], method: str, alpha_c: float) -> list[str]:
    out = []
    if d["power"] < 0.8:
        out.append(
            f"Power is {d['power']:.1%}, below 80%: a real effect of this size would be "
            f"missed {1 - d['power']:.0%} of the time."
        )
    if d["days"] is not None and d["days"] > spec.max_days:
        out.append(_too_long(spec, d, method, alpha_c))
    if (
        spec.metric == "proportion"
        and min(d["n_per_variant"]) * min(spec.baseline or 0.5, 1 - (spec.baseline or 0.5)) < 10
    ):
        out.append(
            "Fewer than 10 expected events per arm: the normal approximation is poor; "
            "plan for an exact test."
        )
    if spec.variants > 2 and spec.correction == "none":
        out.append(
            f"{spec.variants - 1} comparisons without correction: the chance of at "
            f"least one false positive is up to {1 - (1 - spec.alpha) ** (spec.variants - 1):.1%}."
        )
    return out


def _too_long(spec: DesignSpec, d: dict[str, Any], method: str, alpha_c: float) -> str:
    from sds.errors import AnalysisError
    from sds.experiments.design import _model
    from sds.experiments.power import solve_delta

    assert spec.daily_units is not None
    arms = 1 + spec.ratio * (spec.variants - 1)
    n_c = spec.daily_units * spec.max_days / arms
    text = (
        f"The plan needs {d['days']:,} days at {spec.daily_units:,.0f} units a day, more "
        f"than the {spec.max_days:g}-day limit."
    )
    try:
        factor = 1 - spec.rho**2 if spec.rho is not None else 1.0
        mde = solve_delta(
            _model(spec, method, factor), n_c, spec.power, spec.ratio, alpha_c, spec.alternative
        )
    except AnalysisError:
        return text + " No effect is detectable in that time."
    center = spec.baseline if spec.metric == "proportion" else spec.mean
    rel = f" ({mde / abs(center):+.1%} relative)" if center else ""
    d["mde_at_max_days"] = mde
    return text + f" In {spec.max_days:g} days you can detect {mde:+.4g}{rel} at the same power."


def explain(d: dict[str, Any]) -> str:
    """One paragraph a stakeholder can read."""
    n = d["n_per_variant"]
    each = (
        f"{n[0]:,} units per variant"
        if len(set(n)) == 1
        else (f"{n[0]:,} control and {n[1]:,} units per treatment arm")
    )
    side = "two-sided" if d["alternative"] == "two-sided" else "one-sided"
    if d["metric"] == "proportion":
        p0, p1 = d["baseline"], d["baseline"] + d["mde_absolute"]
        change = f"a change in conversion from {p0:.2%} to {p1:.2%}"
    else:
        change = f"a change of {d['mde_absolute']:+.4g} in the {d['metric']}"
    if d["mde_relative"] is not None:
        change += f" ({d['mde_relative']:+.1%} relative)"
    chance = f"{d['power']:.0%}"
    article = "an" if chance.startswith(("8", "11", "18")) else "a"
    text = (
        f"With {each} ({d['n_total']:,} in all) you have {article} {chance} chance to "
        f"detect {change} at a {side} {d['alpha_per_comparison']:.2%} significance level "
        f"({METHOD_NAMES[d['method']]})."
    )
    if d["days"]:
        text += f" At {d['daily_units']:,.0f} units a day that takes {d['days']:,} days."
    seq = d["sequential"]
    if seq:
        text += (
            f" Peeking {seq['looks']} times with {seq['spending']} spending needs up to "
            f"{seq['n_max']:,} control units (x{seq['inflation_factor']:.3f}); if the "
            f"effect is real you expect to stop at about {seq['expected_n_h1']:,}. Peeking "
            f"that often at the fixed threshold would give a "
            f"{seq['naive_peeking_alpha']:.1%} false-positive rate."
        )
    if d["cuped"]:
        text += (
            f" CUPED with correlation {d['cuped']['rho']:.2f} saves "
            f"{d['cuped']['units_saved']:,} units."
        )
    return text
