"""One p-value adjustment: one vocabulary (``sds.stats.multiple.CORRECTIONS``, the rule of
every ``correction`` option and key), one default (``holm``), one key (``p_adjusted``), one
implementation (``sds.stats.multiple.adjust``, equal to statsmodels' ``multipletests`` to
1e-12 for every method), and the design's per-comparison level for each method."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

import sds
from sds.errors import ParameterError
from sds.experiments.analysis.spec import AnalysisSpec
from sds.experiments.design import design
from sds.experiments.design_spec import DesignSpec
from sds.params import RULES, Correction
from sds.stats.multiple import CORRECTIONS, adjust, planning_alpha
from sds.stats.spec import StatsSpec

STATSMODELS = {
    "holm": "holm",
    "hochberg": "simes-hochberg",
    "bonferroni": "bonferroni",
    "sidak": "sidak",
    "benjamini-hochberg": "fdr_bh",
    "benjamini-yekutieli": "fdr_by",
}
SRC = Path(sds.__file__).parent


def test_one_vocabulary() -> None:
    assert RULES["correction"] is CORRECTIONS
    assert set(CORRECTIONS.options) == set(get_args(Correction)) == {*STATSMODELS, "none"}
    assert CORRECTIONS.options[0] == "holm"
    for spec in (DesignSpec, AnalysisSpec, StatsSpec):
        assert spec.model_fields["correction"].default == "holm", spec.__name__


@pytest.mark.parametrize("method", sorted(STATSMODELS))
@pytest.mark.parametrize("seed", [0, 1])
def test_each_method_equals_multipletests(method: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.05, 6), rng.uniform(0, 1, 10), [0.02, 0.02, 0.97]])
    rng.shuffle(p)
    expected = multipletests(p, method=STATSMODELS[method])[1]
    assert adjust(list(p), method) == pytest.approx(list(expected), rel=1e-12, abs=1e-15)


def test_none_and_bad_names() -> None:
    assert adjust([0.01, 0.3], "none") == [0.01, 0.3]
    with pytest.raises(ParameterError, match="correction == 'holmes', must be one of 'holm'"):
        adjust([0.01], "holmes")


def _offenders(predicate: str) -> list[str]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "stats/multiple.py":
            continue
        text = path.read_text(encoding="utf-8")
        if predicate == "p_holm" and "p_holm" in text:
            out.append(rel)
        if predicate == "multipletests":
            for node in ast.walk(ast.parse(text)):
                name = getattr(node, "attr", None) or getattr(node, "id", None)
                names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
                if name == "multipletests" or "multipletests" in names:
                    out.append(rel)
                    break
    return out


def test_no_other_module_writes_p_holm_or_calls_multipletests() -> None:
    assert _offenders("p_holm") == []
    assert _offenders("multipletests") == []


def test_design_default_is_holm_powered_at_its_first_step() -> None:
    plan = design(metric="proportion", baseline=0.05, mde=0.10, arms=4)  # 3 treatment arms
    assert plan.correction == "holm"
    assert plan.alpha_per_comparison == pytest.approx(0.05 / 3, rel=1e-15)
    assert "Holm's first step" in plan.explanation and "conservative" in plan.explanation
    two = design(metric="proportion", baseline=0.05, mde=0.10)
    assert two.alpha_per_comparison == 0.05 and "Correction" not in two.explanation


@pytest.mark.parametrize(
    ("method", "level"),
    [
        ("holm", 0.05 / 3),
        ("bonferroni", 0.05 / 3),
        ("sidak", 1 - 0.95 ** (1 / 3)),
        ("hochberg", 0.05 / 3),
        ("benjamini-hochberg", 0.05 / 3),
        ("benjamini-yekutieli", 0.05 / (3 * (1 + 1 / 2 + 1 / 3))),
        ("none", 0.05),
    ],
)
def test_per_comparison_alpha_of_each_method(method: str, level: float) -> None:
    assert planning_alpha(0.05, 3, method) == pytest.approx(level, rel=1e-15)
    plan = design(metric="proportion", baseline=0.05, mde=0.10, arms=4, correction=method)
    assert plan.alpha_per_comparison == pytest.approx(level, rel=1e-15)
    stepwise = method not in ("bonferroni", "sidak", "none")  # planned below most steps
    assert (f"Correction {method}: each of the 3 comparisons" in plan.explanation) is stepwise
    # the smallest Holm/BH/BY-adjusted p-value is below alpha exactly when the smallest raw
    # p-value is below the planned level: the plan is right for the first comparison
    for raw in (level * 0.999, level * 1.001):
        first = adjust([raw, 0.5, 0.9], method)[0]
        assert (first < 0.05) is (raw < level) or method == "none"
