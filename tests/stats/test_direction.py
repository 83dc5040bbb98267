"""Which group minus which: every two-group comparison of ``sds stats`` is treatment minus
control (ratios treatment over control), whatever the alphabetical order of the labels.

The control is ``--control`` (``control=``), else a level named control, ctrl, baseline or a,
else the first level in sorted order; the result says which rule chose it.

References: ``scipy.stats.ttest_ind(treatment, control)`` (statistic, and the mean difference
``mean(treatment) - mean(control)``); ``scipy.stats.mannwhitneyu(treatment, control)``;
statsmodels' ``proportions_ztest`` on (treatment, control) counts, as ``sds analyze`` orients
them; ``Table2x2`` with the treatment in row 1 for the odds and risk ratios.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.proportion import proportions_ztest

from sds.errors import ParameterError
from sds.stats.runner import StatsSpec, choose_arms, run
from tests.conftest import invoke

RNG = np.random.default_rng(20)
CONTROL = RNG.normal(10, 2, 80)
TREATMENT = RNG.normal(11, 2, 70)  # the treatment wins: higher mean
# conversions: the treatment wins with 30 of 100 against 18 of 110
CONVERTED = {"treatment": (30, 100), "control": (18, 110)}

# (treatment label, control label, extra CLI arguments): the control sorts first in one,
# last in the other ("b" is the control, "a" the treatment, so alphabetical order is wrong)
NAMINGS = [("treatment", "control", []), ("a", "b", ["--control", "b"])]


def _numeric(tmp_path: Path, treatment: str, control: str) -> Path:
    df = pd.DataFrame(
        {
            "arm": [control] * len(CONTROL) + [treatment] * len(TREATMENT),
            "revenue": np.r_[CONTROL, TREATMENT],
        }
    )
    path = tmp_path / "revenue.csv"
    df.to_csv(path, index=False)
    return path


def _binary(tmp_path: Path, treatment: str, control: str) -> Path:
    rows = []
    for arm, label in (("control", control), ("treatment", treatment)):
        k, n = CONVERTED[arm]
        rows += [(label, 1)] * k + [(label, 0)] * (n - k)
    path = tmp_path / "conversion.csv"
    pd.DataFrame(rows, columns=["arm", "converted"]).to_csv(path, index=False)
    return path


def _cli(test: str, path: Path, value: str, extra: list[str]) -> dict:  # type: ignore[type-arg]
    args = ["stats", test, "--data", str(path), "--value", value, "--group", "arm"]
    res = invoke([*args, *extra, "-f", "json"])
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("treatment", "control", "extra"), NAMINGS)
def test_ttest_winner_is_positive(
    tmp_path: Path, treatment: str, control: str, extra: list[str]
) -> None:
    d = _cli("ttest", _numeric(tmp_path, treatment, control), "revenue", extra)
    ref = stats.ttest_ind(TREATMENT, CONTROL, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert d["statistic"] > 0 and d["estimate"] > 0 and d["effect_size"] > 0
    assert d["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert d["estimate"] == pytest.approx(TREATMENT.mean() - CONTROL.mean(), rel=1e-12)
    assert (d["ci_lower"], d["ci_upper"]) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert d["estimate_name"] == f"mean({treatment}) - mean({control})"
    assert (d["assumptions"]["treatment"], d["assumptions"]["control"]) == (treatment, control)
    rule = d["assumptions"]["control_chosen_by"]
    assert ("given" in rule) if extra else ("named 'control'" in rule)
    assert list(d["n"]) == [treatment, control]
    others = {e["name"]: e["value"] for e in d["other_effect_sizes"]}
    assert others["hedges_g"] > 0
    # Glass's delta divides by the control's standard deviation
    glass = (TREATMENT.mean() - CONTROL.mean()) / CONTROL.std(ddof=1)
    assert others["glass_delta"] == pytest.approx(glass, rel=1e-12)


@pytest.mark.parametrize(("treatment", "control", "extra"), NAMINGS)
def test_ztest_winner_is_positive(
    tmp_path: Path, treatment: str, control: str, extra: list[str]
) -> None:
    d = _cli("ztest", _binary(tmp_path, treatment, control), "converted", extra)
    (kt, nt), (kc, nc) = CONVERTED["treatment"], CONVERTED["control"]
    z, _ = proportions_ztest([kt, kc], [nt, nc])
    assert d["statistic"] > 0 and d["estimate"] > 0 and d["effect_size"] > 0
    assert d["statistic"] == pytest.approx(z, rel=1e-12)
    assert d["estimate"] == pytest.approx(kt / nt - kc / nc, rel=1e-12)
    assert d["ci_lower"] < d["estimate"] < d["ci_upper"]
    assert d["estimate_name"] == f"p({treatment}) - p({control})"
    ref = Table2x2(np.array([[kt, nt - kt], [kc, nc - kc]], dtype=float))
    ratios = {e["name"]: e["value"] for e in d["other_effect_sizes"]}
    assert ratios["risk_ratio"] == pytest.approx(ref.riskratio, rel=1e-12)
    assert ratios["odds_ratio"] == pytest.approx(ref.oddsratio, rel=1e-12)
    labels = {k: d["assumptions"][k] for k in ("ratio_numerator", "ratio_denominator")}
    assert labels == {"ratio_numerator": treatment, "ratio_denominator": control}
    assert (d["assumptions"]["treatment"], d["assumptions"]["control"]) == (treatment, control)


@pytest.mark.parametrize("test", ["chi2", "fisher"])
def test_ratio_labels_follow_the_control(tmp_path: Path, test: str) -> None:
    d = _cli(test, _binary(tmp_path, "a", "b"), "converted", ["--control", "b"])
    assert d["assumptions"]["ratio_numerator"] == "a"
    assert d["assumptions"]["ratio_denominator"] == "b"
    (kt, nt), (kc, nc) = CONVERTED["treatment"], CONVERTED["control"]
    ref = Table2x2(np.array([[kt, nt - kt], [kc, nc - kc]], dtype=float))
    odds = next(e["value"] for e in d["other_effect_sizes"] if e["name"] == "odds_ratio")
    assert odds == pytest.approx(ref.oddsratio, rel=1e-12) and odds > 1


def test_mann_whitney_and_paired_follow_the_control() -> None:
    df = pd.DataFrame(
        {
            "arm": ["b"] * len(CONTROL) + ["a"] * len(TREATMENT),
            "y": np.r_[CONTROL, TREATMENT],
        }
    )
    mw = run(df, StatsSpec(test="mannwhitney", value="y", group="arm", control="b")).to_dict()
    ref = stats.mannwhitneyu(TREATMENT, CONTROL)
    assert mw["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert mw["effect_size"] > 0  # rank-biserial: the treatment tends to exceed the control
    assert mw["estimate_name"] == "median(a) - median(b)"
    before = RNG.normal(10, 2, 30)
    after = before + RNG.normal(1, 1, 30)
    long = pd.DataFrame(
        {
            "id": np.r_[np.arange(30), np.arange(30)],
            "when": ["after"] * 30 + ["before"] * 30,
            "y": np.r_[after, before],
        }
    )
    spec = StatsSpec(test="paired", value="y", group="when", pair_id="id", control="before")
    p = run(long, spec).to_dict()
    ref_t = stats.ttest_rel(after, before)
    assert p["statistic"] == pytest.approx(ref_t.statistic, rel=1e-12) and p["statistic"] > 0
    assert p["estimate"] == pytest.approx(np.mean(after - before), rel=1e-12)
    assert p["estimate_name"] == "mean(after - before)"
    wide = pd.DataFrame({"before": before, "after": after})
    w = run(wide, StatsSpec(test="wilcoxon", value="before,after")).to_dict()
    assert w["estimate_name"] == "median(after - before)" and w["effect_size"] > 0
    assert "first --value column" in w["assumptions"]["control_chosen_by"]


def test_control_rule() -> None:
    assert choose_arms(["new", "old"], None).control == "new"
    assert "sorted order" in choose_arms(["new", "old"], None).rule
    assert choose_arms(["B", "A"], None).control == "A"  # named like a control
    assert choose_arms(["treatment", "Baseline"], None).control == "Baseline"
    assert choose_arms(["v1", "v2"], "V2").control == "v2"
    assert choose_arms(["0", "1"], "1.0").control == "1"
    with pytest.raises(ParameterError, match="control == 'x' is not one of 'arm'"):
        choose_arms(["a", "b"], "x", column="arm")


def test_paired_t_advice_names_a_paired_test() -> None:
    from sds.stats.ttest import ttest

    x = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 9.0, 1.02, 0.98])
    res = ttest(x, np.zeros_like(x), paired=True)
    text = " ".join(res.warnings)
    assert "Wilcoxon signed-rank" in text and "Mann-Whitney" not in text
    assert "sds stats wilcoxon" in text


@pytest.mark.parametrize(("treatment", "control", "extra"), NAMINGS)
@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_fisher_honours_the_alternative_for_the_treatment(
    tmp_path: Path, treatment: str, control: str, extra: list[str], alternative: str
) -> None:
    # the CLI used to drop --alternative for fisher and report the two-sided p-value
    path = _binary(tmp_path, treatment, control)
    d = _cli("fisher", path, "converted", [*extra, "--alternative", alternative])
    (kt, nt), (kc, nc) = CONVERTED["treatment"], CONVERTED["control"]
    table = [[kt, nt - kt], [kc, nc - kc]]  # treatment in row 1: greater = treatment wins
    want = stats.fisher_exact(table, alternative=alternative).pvalue
    assert d["alternative"] == alternative
    assert d["p_value"] == pytest.approx(want, rel=1e-12)
    ci = stats.contingency.odds_ratio(table).confidence_interval(0.95, alternative=alternative)
    assert d["ci_lower"] == pytest.approx(ci.low, rel=1e-9)
    if np.isinf(ci.high):  # JSON has no infinity: an unbounded end is null
        assert alternative == "greater" and d["ci_upper"] is None
    else:
        assert d["ci_upper"] == pytest.approx(ci.high, rel=1e-9)


def test_fisher_on_a_larger_table_refuses_a_one_sided_alternative(tmp_path: Path) -> None:
    df = pd.DataFrame({"arm": ["a", "b", "c"] * 20, "converted": [0, 1] * 30})
    path = tmp_path / "three.csv"
    df.to_csv(path, index=False)
    args = ["stats", "fisher", "--data", str(path), "--value", "converted", "--group", "arm"]
    res = invoke([*args, "--alternative", "greater"])
    assert res.exit_code == 2
    assert "2x2 table" in res.stderr and "3x2" in res.stderr and "alternative" in res.stderr
    assert invoke(args).exit_code == 0


@pytest.mark.parametrize("test", ["chi2", "anova", "kruskal", "levene"])
def test_a_test_without_direction_refuses_a_one_sided_alternative(
    tmp_path: Path, test: str
) -> None:
    path = _binary(tmp_path, "treatment", "control") if test == "chi2" else None
    path = path or _numeric(tmp_path, "treatment", "control")
    value = "converted" if test == "chi2" else "revenue"
    args = ["stats", test, "--data", str(path), "--value", value, "--group", "arm"]
    res = invoke([*args, "--alternative", "less"])
    assert res.exit_code == 2, res.stdout
    assert f"the {test} test has no direction" in res.stderr
    assert res.stderr.count("error:") == 1 and "Traceback" not in res.stderr
    with pytest.raises(ParameterError, match="no direction"):
        run(pd.read_csv(path), StatsSpec(test, value=value, group="arm", alternative="greater"))
