"""DesignPlan as typed, frozen records: the same JSON as the dict it replaced, sample sizes
equal to statsmodels, hashable, and no import cycle between design and design_result.

``design_records_golden.json`` holds ``to_dict()`` of three plans (a proportion with a
sequential plan and a duration guardrail, a mean with CUPED, a ratio with three arms) as
the code before the typed records computed them.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

import sds.experiments.design_result as design_result
from sds.experiments.design import design
from sds.experiments.design_result import CupedGain, DesignPlan, MethodRow, SequentialLooks

GOLDEN = json.loads((Path(__file__).with_name("design_records_golden.json")).read_text())
CASES: dict[str, dict[str, Any]] = GOLDEN["cases"]


def _same(got: Any, want: Any, where: str) -> None:
    """Equal JSON, floats to 1e-12 relative (the solvers' root-finding tolerance)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for key in want:
            _same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), where
    else:
        assert got == want and type(got) is type(want), where


@pytest.mark.parametrize("case", sorted(CASES))
def test_to_dict_is_the_json_of_before(case: str) -> None:
    plan = design(**CASES[case])
    _same(plan.to_dict(), GOLDEN["plans"][case], case)
    assert json.loads(plan.to_json()) == plan.to_dict()


def test_proportion_plan_is_typed_and_matches_statsmodels() -> None:
    plan = design(**CASES["proportion"])
    assert plan.n_per_variant == (plan.n_per_variant[0],) * 2
    assert all(type(n) is int for n in plan.n_per_variant)
    assert plan.n_total == sum(plan.n_per_variant)
    # arcsine (Cohen's h) against statsmodels' NormalIndPower
    (arcsine,) = [m for m in plan.methods if m.method == "arcsine"]
    h = proportion_effectsize(0.05 * 1.05, 0.05)
    want = NormalIndPower().solve_power(h, alpha=0.05, power=0.8, ratio=1.0)
    assert arcsine.n_control_exact == pytest.approx(want, rel=1e-6)
    assert arcsine.n_control == math.ceil(want)
    assert isinstance(plan.sequential, SequentialLooks) and plan.sequential.looks == 3
    assert plan.sequential.n_max >= plan.n_per_variant[0]
    # the plan is longer than 14 days: the MDE reachable in them is a typed field
    assert plan.days is not None and plan.days > 14
    assert plan.mde_at_max_days is not None and plan.mde_at_max_days > plan.mde_absolute
    assert any("14-day limit" in w for w in plan.warnings)


def test_mean_plan_with_cuped_matches_statsmodels() -> None:
    plan = design(**CASES["mean_cuped"])
    t = TTestIndPower()
    effect = 0.2 / 5  # 2% of a mean of 10, in standard deviations
    with_cuped = t.solve_power(effect / math.sqrt(1 - 0.6**2), alpha=0.05, power=0.8, ratio=1.0)
    without = t.solve_power(effect, alpha=0.05, power=0.8, ratio=1.0)
    (student,) = [m for m in plan.methods if m.method == "t"]
    assert student.n_control_exact == pytest.approx(with_cuped, rel=1e-6)
    assert plan.n_per_variant == (math.ceil(with_cuped),) * 2
    assert isinstance(plan.cuped, CupedGain)
    assert plan.cuped.n_per_variant_without == (math.ceil(without),) * 2
    assert plan.cuped.variance_reduction_share == pytest.approx(0.36, rel=1e-12)
    assert plan.cuped.units_saved == 2 * (math.ceil(without) - math.ceil(with_cuped))


def test_ratio_plan_with_three_arms_matches_statsmodels() -> None:
    plan = design(**CASES["ratio_3_arms"])
    assert plan.arms == 3 and len(plan.n_per_variant) == 3
    assert plan.alpha_per_comparison == pytest.approx(0.05 / 2, rel=1e-15)
    effect = 0.05 * 0.2 / 0.5  # absolute effect over the per-unit std
    want = NormalIndPower().solve_power(effect, alpha=0.025, power=0.8, ratio=1.5)
    (delta,) = plan.methods
    assert isinstance(delta, MethodRow)
    assert delta.n_control_exact == pytest.approx(want, rel=1e-6)
    n_c = math.ceil(want)
    assert plan.n_per_variant == (n_c, math.ceil(want * 1.5), math.ceil(want * 1.5))


@pytest.mark.parametrize("case", sorted(CASES))
def test_plans_are_frozen_and_hashable(case: str) -> None:
    plan = design(**CASES[case])
    again = design(**CASES[case])
    assert plan == again and hash(plan) == hash(again)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.power = 0.5  # type: ignore[misc]
    for field in dataclasses.fields(DesignPlan):
        assert not isinstance(getattr(plan, field.name), list | dict), field.name


def test_design_result_does_not_import_design() -> None:
    tree = ast.parse(Path(design_result.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert "sds.experiments.design" not in imported
    assert "sds.experiments" not in imported  # no `from sds.experiments import design`
