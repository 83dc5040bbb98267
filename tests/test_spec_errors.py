"""Specs built in Python raise one ParameterError naming the field; files one ConfigError
naming file and key; every spec field carries its rule (or Literal choices) and a description."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, get_args

import pydantic
import pytest

import sds
from sds.cli.seed_design import DesignerConfig
from sds.config import StrictModel, field_rules, load_config, parse_spec
from sds.errors import ConfigError, ParameterError
from sds.experiments.analysis.spec import AnalysisSpec, MetricSpec, SequentialSpec
from sds.experiments.design import design
from sds.experiments.design_spec import DesignSpec
from sds.params import RULES, Correction, OneOf, Rule, check
from sds.stats import multiple
from sds.stats.runner import TESTS
from sds.stats.spec import TEST_NAMES, StatsSpec

SPECS: list[type[StrictModel]] = [
    DesignSpec,
    StatsSpec,
    AnalysisSpec,
    MetricSpec,
    SequentialSpec,
    DesignerConfig,
]
ANALYSIS = {
    "unit": "u",
    "variant": "v",
    "control": "c",
    "metrics": [{"name": "m", "type": "mean", "column": "y"}],
}


def _raises(model: type[StrictModel], **kwargs: object) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        model(**kwargs)
    assert not isinstance(info.value, pydantic.ValidationError)
    return info.value


def test_analysis_spec_alpha_2_is_a_parameter_error_naming_alpha() -> None:
    err = _raises(sds.AnalysisSpec, **{**ANALYSIS, "alpha": 2})
    assert err.parameter == "alpha"
    assert err.problem == "alpha == 2.0, must be < 1"
    assert str(err).count("\n") == 0
    # the same shape as the shared rule table's own check
    with pytest.raises(ParameterError) as direct:
        check("alpha", 2.0)
    assert direct.value.problem == err.problem and direct.value.expected == err.expected


@pytest.mark.parametrize(
    ("model", "kwargs", "parameter", "problem"),
    [
        (DesignSpec, {"alpha": 1.5}, "alpha", "alpha == 1.5, must be < 1"),
        (DesignSpec, {"arms": 1}, "arms", "arms == 1, must be >= 2"),
        (
            DesignSpec,
            {"correction": "tukey"},
            "correction",
            "correction == 'tukey', must be one of",
        ),
        (DesignSpec, {"baseline_rate": 0.1}, "baseline_rate", "unknown key 'baseline_rate'"),
        (StatsSpec, {"alpha": 0.0}, "alpha", "alpha == 0.0, must be > 0"),
        (StatsSpec, {"mu": float("nan")}, "mu", "mu == nan, must be finite"),
        (StatsSpec, {"test": "tetst"}, "test", "test == 'tetst', must be one of 'ttest'"),
        (StatsSpec, {"cov_type": "HC9"}, "cov_type", "cov_type == 'HC9', must be one of"),
        (
            AnalysisSpec,
            {**ANALYSIS, "srm_alpha": 1.0},
            "srm_alpha",
            "srm_alpha == 1.0, must be < 1",
        ),
        (
            AnalysisSpec,
            {**ANALYSIS, "resamples": 10},
            "resamples",
            "resamples == 10, must be >= 100",
        ),
        (
            AnalysisSpec,
            {**ANALYSIS, "metrics": [{"name": "m", "type": "median", "column": "y"}]},
            "metrics.0",  # the metric kinds are a registry (analysis.kinds), not a Literal
            "metrics.0: metric 'm': type == 'median', must be one of",
        ),
        (AnalysisSpec, {"unit": "u"}, "variant", "variant is required"),
        (
            SequentialSpec,
            {"looks": 51, "planned_units": 100},
            "looks",
            "looks == 51, must be <= 50",
        ),
    ],
)
def test_bad_values_name_the_field(
    model: type[StrictModel], kwargs: dict[str, object], parameter: str, problem: str
) -> None:
    err = _raises(model, **kwargs)
    assert err.parameter == parameter
    assert err.problem.startswith(problem), err.problem


def test_old_names_are_unknown_keys_with_the_new_one_suggested() -> None:
    err = _raises(AnalysisSpec, **{**ANALYSIS, "srm_threshold": 0.01})
    assert "unknown key 'srm_threshold'" in str(err) and "srm_alpha" in str(err)
    assert "unknown key 'variants'" in str(_raises(DesignSpec, variants=3))


def test_design_in_python_raises_parameter_error_and_defaults_to_holm() -> None:
    with pytest.raises(ParameterError, match=r"alpha == 2\.0, must be < 1"):
        design(baseline=0.05, mde=0.1, alpha=2)
    assert (
        DesignSpec().correction
        == "holm"
        == StatsSpec().correction
        == AnalysisSpec(**ANALYSIS).correction
    )


def test_a_yaml_design_spec_with_a_bad_key_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("metric: proportion\nbaseline: 0.05\nmde: 0.1\nvariants: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, DesignSpec)
    assert str(path) in str(info.value) and "unknown key 'variants'" in str(info.value)
    path.write_text("baseline: 0.05\nmde: 0.1\nalpha: 2\n")
    with pytest.raises(ConfigError, match=r"plan\.yaml: alpha == 2\.0, must be < 1"):
        load_config(path, DesignSpec)
    with pytest.raises(ConfigError, match=r"spec\.yaml: sequential\.looks == 0, must be >= 1"):
        parse_spec(
            {**ANALYSIS, "sequential": {"looks": 0, "planned_units": 9}},
            AnalysisSpec,
            "spec.yaml",
            "a spec",
        )


def test_every_field_has_a_description_and_registered_rules() -> None:
    for model in SPECS:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            assert "\n" not in field.description
            for meta in field.metadata:
                if isinstance(meta, Rule):
                    assert meta.name in RULES, f"{model.__name__}.{name}: {meta.name}"


def test_field_rules_reads_rules_and_literals() -> None:
    rules = field_rules(DesignSpec)
    assert rules["alpha"] is RULES["alpha"] and rules["arms"] is RULES["arms"]
    assert rules["alternative"] == OneOf(("two-sided", "greater", "less"))
    assert rules["metric"] == OneOf(("proportion", "mean", "ratio"))
    assert "name" not in rules  # free text
    assert field_rules(StatsSpec)["test"] == OneOf(TEST_NAMES)


def test_a_rule_judges_list_items_too() -> None:
    class Shares(StrictModel):
        shares: Annotated[list[float], Rule("weight")]

    assert Shares(shares=[0.5, 0.5]).shares == [0.5, 0.5]
    assert _raises(Shares, shares=[0.5, -1]).problem == "shares == -1.0, must be > 0"


def test_one_vocabulary_of_tests_and_corrections() -> None:
    assert set(TEST_NAMES) == set(TESTS)
    assert StatsSpec("T").test == "ttest" and StatsSpec(test="mwu").test == "mannwhitney"
    assert StatsSpec(cov_type="hc3").cov_type == "HC3"
    # every correction the library or the rule table accepts, a spec accepts
    assert set(multiple.CORRECTIONS.options) <= set(get_args(Correction))
    correction = RULES["correction"]
    assert isinstance(correction, OneOf) and set(correction.options) <= set(get_args(Correction))
