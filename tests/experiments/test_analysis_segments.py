"""Segment breakdowns: per-segment effects, the traffic-mix test, Simpson's paradox.

References: each segment's effect equals ``sds.analyze`` on that segment's rows alone (an
independent path through the engine) to 1e-9; the mix test equals Pearson's chi-square
computed by hand from the counts; Cochran's Q equals statsmodels ``combine_effects``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.run import analyze
from sds.experiments.analysis.segments import heterogeneity, traffic_mix

TOL = 1e-9


def _users(n: int, seed: int, *, treated_mobile: float = 0.3, lift: float = 0.1) -> pd.DataFrame:
    """Desktop converts at 20%, mobile at 5%; the treatment lifts both by ``lift``; control is
    30% mobile and the treatment ``treated_mobile``."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["control", "treatment"], n)
    mobile = rng.random(n) < np.where(arm == "treatment", treated_mobile, 0.3)
    p = np.where(mobile, 0.05, 0.20) * np.where(arm == "treatment", 1 + lift, 1.0)
    return pd.DataFrame(
        {
            "u": np.arange(n),
            "v": arm,
            "conv": (rng.random(n) < p).astype(int),
            "spend": rng.gamma(2.0, 10.0, n) * np.where(mobile, 0.5, 1.0),
            "pre": rng.gamma(2.0, 10.0, n),
            "platform": np.where(mobile, "mobile", "desktop"),
            "country": rng.choice(["US", "GB", "DE"], n),
        }
    )


METRICS = [
    {"name": "conv", "type": "proportion", "column": "conv"},
    {"name": "spend", "type": "mean", "column": "spend", "covariate": "pre"},
]


def _spec(**extra: object) -> dict[str, object]:
    return {"unit": "u", "variant": "v", "control": "control", "metrics": METRICS, **extra}


def test_each_segment_effect_equals_the_analysis_of_that_segment_alone() -> None:
    df = _users(6000, seed=1)
    seg = analyze(_spec(segments=["platform", "country"]), df).to_dict()["segments"]
    for column in ("platform", "country"):
        for row in seg[column]["effects"]:
            alone = analyze(_spec(), df[df[column] == row["level"]]).effect(row["metric"]).to_dict()
            for key in ("control", "treatment", "effect", "ci_lower", "ci_upper", "p_value"):
                assert row[key] == pytest.approx(alone[key], rel=TOL, abs=TOL), (column, key)


def test_mix_test_is_pearsons_chi_square_of_the_counts() -> None:
    df = _users(5000, seed=2, treated_mobile=0.33)
    mix = analyze(_spec(segments=["platform"]), df).to_dict()["segments"]["platform"]["mix"]
    table = pd.crosstab(df["v"], df["platform"]).to_numpy(dtype=float)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    chi2 = float(((table - expected) ** 2 / expected).sum())
    assert mix["chi2"] == pytest.approx(chi2, rel=TOL)
    assert mix["df"] == 1
    shares = {s["level"]: s for s in mix["shares"]}
    control = df[df["v"] == "control"]
    assert shares["mobile"]["control"] == pytest.approx((control["platform"] == "mobile").mean())


def test_cochran_q_matches_statsmodels() -> None:
    rows = [
        {"effect": 0.10, "std_error": 0.04},
        {"effect": 0.02, "std_error": 0.03},
        {"effect": -0.05, "std_error": 0.05},
        {"effect": 0.07, "std_error": 0.02},
    ]
    effects, std_errors = [r["effect"] for r in rows], [r["std_error"] for r in rows]
    q, df, _ = heterogeneity(effects, std_errors)
    ref = combine_effects(np.array(effects), np.array(std_errors) ** 2)
    assert q == pytest.approx(float(ref.q), rel=TOL)
    assert df == 3
    assert heterogeneity(effects[:1], std_errors[:1])[0] is None


def test_a_mix_shift_reverses_the_pooled_sign_and_invalidates_the_experiment() -> None:
    """Treatment helps in both segments but gets mostly low-converting mobile traffic: the
    pooled effect is negative (Simpson's paradox), the mix test catches the cause."""
    result = analyze(_spec(segments=["platform"]), _users(40_000, seed=3, treated_mobile=0.7))
    d = result.to_dict()
    assert result.effect("conv").effect < 0
    assert all(
        r["effect"] > 0 for r in d["segments"]["platform"]["effects"] if r["metric"] == "conv"
    )
    assert d["segments"]["platform"]["mix"]["shift"]
    assert d["verdict"] == "invalid experiment"
    assert "traffic-mix shift in 'platform'" in d["reasons"][0]
    assert any("Simpson's paradox (conv in treatment, by platform)" in w for w in d["warnings"])


def test_with_a_failed_srm_the_mix_shift_says_where() -> None:
    df = _users(20_000, seed=8)
    lost = (df["v"] == "treatment") & (df["platform"] == "mobile") & (df.index % 3 == 0)
    d = analyze(_spec(segments=["platform", "country"]), df[~lost]).to_dict()
    assert d["verdict"] == "invalid experiment"
    assert d["reasons"][0].startswith("the arms' sizes do not match")
    assert [r for r in d["reasons"] if r.startswith("where:")] == [
        "where: " + d["segments"]["platform"]["mix"]["message"]
    ]


def test_a_segment_moving_significantly_the_other_way_is_flagged() -> None:
    df = _users(30_000, seed=4)
    hurt = (df["v"] == "treatment") & (df["country"] == "DE")
    df.loc[hurt, "spend"] = df.loc[hurt, "spend"] * 0.6  # the treatment hurts Germany
    df.loc[(df["v"] == "treatment") & ~hurt, "spend"] *= 1.3
    d = analyze(_spec(segments=["country"]), df).to_dict()
    assert d["verdict"] != "invalid experiment"
    flags = d["segments"]["country"]["flags"]
    assert any("sign reversal (spend in treatment, by country): segment 'DE'" in f for f in flags)
    assert any(r.startswith("caution: sign reversal") for r in d["reasons"])
    het = next(h for h in d["segments"]["country"]["heterogeneity"] if h["metric"] == "spend")
    assert het["p_value"] < 1e-6


def test_randomized_traffic_raises_no_segment_flag() -> None:
    d = analyze(_spec(segments=["platform", "country"]), _users(20_000, seed=7)).to_dict()
    for seg in d["segments"].values():
        assert not seg["mix"]["shift"]
        assert seg["flags"] == []


def test_missing_levels_and_long_tails_are_grouped() -> None:
    df = _users(4000, seed=6)
    df["city"] = [f"c{i % 45}" for i in range(len(df))]
    df["platform"] = df["platform"].where(df.index % 10 != 0, None)
    seg = analyze(_spec(segments=["city", "platform"]), df).to_dict()["segments"]
    cities = [s["level"] for s in seg["city"]["mix"]["shares"]]
    assert len(cities) == 30 and cities[-1] == "(other)"
    assert "(missing)" in [s["level"] for s in seg["platform"]["mix"]["shares"]]


def test_mix_test_false_alarm_rate_is_its_threshold() -> None:
    """2,000 randomized experiments with a 3-level segment: the mix test at 0.05 fires in
    5% +- 1 point of them."""
    rng = np.random.default_rng(11)
    arms, levels = ["control", "treatment"], ["a", "b", "c"]
    fired = 0
    for _ in range(2000):
        counts = rng.multinomial(3000, [0.25, 0.15, 0.1, 0.25, 0.15, 0.1]).reshape(2, 3)
        cells = {
            (arm, lv): Moments(float(counts[i, j]), {}, {})
            for i, arm in enumerate(arms)
            for j, lv in enumerate(levels)
        }
        fired += traffic_mix(cells, arms, levels, alpha=0.05).shift
    assert abs(fired / 2000 - 0.05) <= 0.01, fired / 2000
