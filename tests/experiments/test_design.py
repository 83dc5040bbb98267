"""Plans: what they solve for, their guardrails and advice, and estimates from history."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sds.data import synth
from sds.data.io import open_table
from sds.errors import DataError, ParameterError
from sds.experiments import history
from sds.experiments import power as pw
from sds.experiments.design import design


def test_seed_example_plan() -> None:
    plan = design(metric="proportion", baseline=0.05, mde=0.10)
    d = plan.to_dict()
    assert d["n_per_variant"] == [31234, 31234] and d["n_total"] == 62468
    assert d["mde_absolute"] == pytest.approx(0.005) and d["mde_relative"] == pytest.approx(0.1)
    assert d["method"] == "pooled"
    by_method = {m["method"]: m["n_control"] for m in d["methods"]}
    assert by_method == {"pooled": 31234, "unpooled": 31231, "arcsine": 31218}
    assert (
        "With 31,234 units per variant (62,468 in all) you have an 80% chance" in (d["explanation"])
    )
    assert "from 5.00% to 5.50% (+10.0% relative)" in d["explanation"]


def test_solves_power_and_mde_from_n() -> None:
    power = design(metric="mean", mean=10, std=5, mde=0.02, n_per_variant=5000).to_dict()
    assert power["solve_for"] == "power"
    want = pw.power_at(pw.mean_model(5, "t"), 0.2, 5000, 1.0, 0.05)
    assert power["power"] == pytest.approx(want)
    assert any("below 80%" in w for w in power["warnings"])
    mde = design(metric="mean", mean=10, std=5, n_per_variant=5000, power=0.9).to_dict()
    assert mde["solve_for"] == "mde"
    assert pw.power_at(
        pw.mean_model(5, "t"), mde["mde_absolute"], 5000, 1.0, 0.05
    ) == pytest.approx(0.9)


def test_unequal_split_and_several_variants() -> None:
    d = design(
        metric="proportion", baseline=0.1, mde=0.1, ratio=2.0, arms=3, correction="bonferroni"
    ).to_dict()
    assert d["alpha_per_comparison"] == pytest.approx(0.025)
    n_c = pw.solve_n(pw.proportion_model(0.1, "pooled", ratio=2.0), 0.01, 0.8, 2.0, 0.025)
    assert d["n_per_variant"] == [math.ceil(n_c), math.ceil(2 * n_c), math.ceil(2 * n_c)]
    assert d["n_total"] == sum(d["n_per_variant"])


def test_duration_and_max_days_guardrail() -> None:
    d = design(
        metric="proportion", baseline=0.05, mde=0.02, daily_units=1000, max_days=28
    ).to_dict()
    assert d["days"] == math.ceil(d["n_total"] / 1000)
    assert any("more than the 28-day limit" in w for w in d["warnings"])
    # the MDE offered for 28 days really has the planned power with 28 days of traffic
    n_c = 1000 * 28 / 2
    mde = d["mde_at_max_days"]
    assert pw.power_at(pw.proportion_model(0.05), mde, n_c, 1.0, 0.05) == pytest.approx(0.8)


def test_cuped_shrinks_the_plan_by_one_minus_rho_squared() -> None:
    d = design(metric="mean", mean=10, std=5, mde=0.05, rho=0.6, method="z").to_dict()
    cuped = d["cuped"]
    assert cuped["variance_reduction_share"] == pytest.approx(0.36)
    n_with = pw.solve_n(pw.mean_model(5 * math.sqrt(1 - 0.36), "z"), 0.5, 0.8, 1.0, 0.05)
    n_without = pw.solve_n(pw.mean_model(5, "z"), 0.5, 0.8, 1.0, 0.05)
    assert d["n_per_variant"][0] == math.ceil(n_with)
    assert cuped["n_per_variant_without"][0] == math.ceil(n_without)
    assert n_with / n_without == pytest.approx(0.64)


def test_history_estimates_match_pandas(tmp_path: Path) -> None:
    df = synth.make_ab_test(n_users=20_000, seed=3)
    table = open_table(df)
    conv = history.estimate_proportion(table, "converted", covariate="pre_revenue")
    assert conv.mean == pytest.approx(df["converted"].mean(), rel=1e-12)
    assert conv.rho == pytest.approx(df["converted"].corr(df["pre_revenue"]), rel=1e-9)
    rev = history.estimate_mean(table, "revenue", covariate="pre_revenue")
    assert rev.std == pytest.approx(df["revenue"].std(), rel=1e-9)
    ratio = history.estimate_ratio(table, "orders", "sessions", covariate="pre_revenue")
    x, y, c = (df[k].to_numpy(float) for k in ("orders", "sessions", "pre_revenue"))
    r = x.mean() / y.mean()
    linear = (x - r * y) / y.mean()  # the delta method's linearisation, computed directly
    assert ratio.mean == pytest.approx(r, rel=1e-12)
    assert ratio.std == pytest.approx(linear.std(ddof=1), rel=1e-9)
    assert ratio.rho == pytest.approx(np.corrcoef(linear, c)[0, 1], rel=1e-9)


def test_plan_from_history_file(tmp_path: Path) -> None:
    path = tmp_path / "history.parquet"
    synth.make_ab_test(n_users=20_000, seed=4).to_parquet(path)
    d = design(
        metric="ratio",
        data=str(path),
        numerator="orders",
        denominator="sessions",
        covariate="pre_revenue",
        mde=0.1,
    ).to_dict()
    assert d["history"]["n"] == 20_000 and d["cuped"]["rho"] == d["history"]["rho"]
    assert d["cuped"]["n_total_without"] >= d["n_total"]
    conv = design(metric="proportion", data=str(path), column="converted", mde=0.1).to_dict()
    assert conv["baseline"] == pytest.approx(pd.read_parquet(path)["converted"].mean())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"baseline": 1.5, "mde": 0.1}, r"baseline == 1\.5, must be < 1"),
        ({"baseline": 0.05, "mde": 0.1, "alpha": 1.0}, r"alpha == 1\.0, must be < 1"),
        ({"metric": "mean", "mean": 10, "std": -5, "mde": 0.1}, r"std == -5\.0, must be > 0"),
        (
            {"baseline": 0.05, "mde": 0.1, "alternative": "up"},
            "alternative == 'up', must be one of",
        ),
        ({"baseline": 0.05, "mde": 0.1, "arms": 1}, r"arms == 1, must be >= 2"),
        ({"baseline": 0.05}, "say what to solve for"),
        ({"baseline": 0.95, "mde": 0.1}, "moves the rate outside"),
        ({"metric": "mean", "std": 5, "mde": 0.1}, "relative mde needs a non-zero mean"),
        ({"metric": "share", "baseline": 0.1, "mde": 0.1}, "metric == 'share', must be one of"),
        ({"baseline": 0.05, "mde": 0.1, "method": "t"}, "method == 't', must be one of"),
    ],
)
def test_bad_input_names_the_parameter(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        design(**kwargs)


def test_unknown_key_suggests_the_right_one() -> None:
    with pytest.raises(ParameterError, match=r"unknown key 'baseline_rate'.*'baseline'"):
        design(baseline_rate=0.05, mde=0.1)


def test_bad_history() -> None:
    df = pd.DataFrame({"x": [0, 1, 2, 1], "k": [1.0, 1.0, 1.0, 1.0]})
    with pytest.raises(DataError, match="a proportion metric needs a 0/1 column"):
        history.estimate_proportion(open_table(df), "x")
    with pytest.raises(DataError, match="column is constant"):
        history.estimate_mean(open_table(df), "k")
    with pytest.raises(DataError, match="denominator's mean is 0"):
        history.estimate_ratio(
            open_table(pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 0.0]})), "a", "b"
        )


def test_sequential_plan_inflates_the_fixed_sample() -> None:
    from sds.experiments.sequential import sequential_design

    d = design(metric="proportion", baseline=0.05, mde=0.1, looks=5, spending="pocock").to_dict()
    seq = sequential_design(looks=5, spending="pocock", n_fixed=d["n_per_variant"][0])
    assert d["sequential"]["n_max"] == seq.to_dict()["n_max"]
    assert d["sequential"]["inflation_factor"] == pytest.approx(seq.inflation_factor)
    assert d["sequential"]["z_boundaries"] == pytest.approx(list(seq.boundaries.z_boundaries))
    assert d["sequential"]["n_max"] > d["n_per_variant"][0] > d["sequential"]["expected_n_h1"]
    assert f"needs up to {d['sequential']['n_max']:,} control units" in d["explanation"]


def test_continuity_correction_plans() -> None:
    d = design(metric="proportion", baseline=0.05, mde=0.1, continuity=True).to_dict()
    assert [m["method"] for m in d["methods"]] == ["pooled", "unpooled"]
    assert d["n_per_variant"][0] > 31_234  # the correction costs units
    with pytest.raises(ParameterError, match="continuity == True, applies to the pooled"):
        design(metric="proportion", baseline=0.05, mde=0.1, continuity=True, method="arcsine")
