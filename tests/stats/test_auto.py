"""``--test auto``: the documented decision table, case by case (see sds.stats.auto)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sds.stats.runner import StatsSpec, run


def _groups(*samples: np.ndarray) -> pd.DataFrame:
    names = "abcdefgh"
    return pd.DataFrame(
        {
            "y": np.concatenate(samples),
            "g": np.repeat([names[i] for i in range(len(samples))], [len(s) for s in samples]),
        }
    )


def _auto(df: pd.DataFrame, **kw: str) -> tuple[str, list[str]]:
    d = run(df, StatsSpec(test="auto", **{"value": "y", "group": "g", **kw})).to_dict()
    return d["test"].replace(" (chosen by sds stats auto)", ""), d["reasons"]


RNG = np.random.default_rng(2024)


CASES = [
    (
        "normal, equal variances",
        _groups(RNG.normal(0, 1, 40), RNG.normal(0.3, 1, 40)),
        "Welch t-test",
    ),
    (
        "normal, unequal variances",
        _groups(RNG.normal(0, 1, 60), RNG.normal(0, 4, 25)),
        "Welch t-test",
    ),
    (
        "heavy tails",
        _groups(RNG.standard_t(2, 200), RNG.standard_t(2, 200) + 0.3),
        "Mann-Whitney U",
    ),
    (
        "tiny: 2 values a group",
        _groups(np.array([1.2, 3.4]), np.array([2.2, 5.1])),
        "Mann-Whitney U",
    ),
    ("tiny but normal", _groups(RNG.normal(0, 1, 6), RNG.normal(1, 1, 6)), "Welch t-test"),
    (
        "ties: 5-point ratings",
        _groups(RNG.integers(1, 6, 80) * 1.0, RNG.integers(2, 6, 80) * 1.0),
        "Mann-Whitney U",
    ),
    (
        "skewed small",
        _groups(RNG.lognormal(0, 1.2, 20), RNG.lognormal(0.3, 1.2, 20)),
        "Mann-Whitney U",
    ),
    (
        "3 groups, equal variances",
        _groups(*(RNG.normal(m, 1, 30) for m in (0, 0.2, 0.4))),
        "One-way ANOVA",
    ),
    (
        "3 groups, unequal variances",
        _groups(RNG.normal(0, 1, 30), RNG.normal(0, 3, 30), RNG.normal(0, 6, 30)),
        "Welch's ANOVA",
    ),
    (
        "3 groups, heavy tails",
        _groups(*(RNG.standard_t(1.5, 100) for _ in range(3))),
        "Kruskal-Wallis",
    ),
    (
        "3 groups, ordinal",
        _groups(*(RNG.integers(1, 5, 50) * 1.0 for _ in range(3))),
        "Kruskal-Wallis",
    ),
]


@pytest.mark.parametrize(("case", "df", "expected"), CASES, ids=[c[0] for c in CASES])
def test_auto_two_or_more_groups(case: str, df: pd.DataFrame, expected: str) -> None:
    chosen, reasons = _auto(df)
    assert chosen == expected, (case, reasons)
    assert reasons


def test_large_skewed_mentions_the_mean_alternative() -> None:
    df = _groups(RNG.lognormal(0, 1.5, 500), RNG.lognormal(0.1, 1.5, 500))
    chosen, reasons = _auto(df)
    assert chosen == "Mann-Whitney U"
    assert any("central limit theorem" in r and "sds stats welch" in r for r in reasons)


def _paired(diff: np.ndarray) -> pd.DataFrame:
    n = len(diff)
    before = RNG.normal(10, 2, n)
    return pd.DataFrame(
        {
            "id": np.r_[np.arange(n), np.arange(n)],
            "g": np.repeat(["after", "before"], n),
            "y": np.r_[before + diff, before],
        }
    )


def test_auto_paired_and_one_sample() -> None:
    assert _auto(_paired(RNG.normal(0.5, 1, 25)), pair_id="id")[0] == "Paired t-test"
    heavy = _paired(RNG.standard_t(1.5, 60))
    assert _auto(heavy, pair_id="id")[0] == "Wilcoxon signed-rank"
    one = pd.DataFrame({"y": RNG.normal(1, 1, 40)})
    assert _auto(one, group=None)[0] == "One-sample t-test"  # type: ignore[arg-type]
    skewed = pd.DataFrame({"y": RNG.exponential(1, 40) ** 2})
    assert _auto(skewed, group=None)[0] == "Wilcoxon signed-rank"  # type: ignore[arg-type]


def test_auto_counts() -> None:
    ample = pd.DataFrame({"y": RNG.binomial(1, 0.3, 400), "g": np.repeat(["a", "b"], 200)})
    assert _auto(ample)[0] == "Two-proportion z-test"
    sparse = pd.DataFrame({"y": [1, 0, 0, 0, 0, 1, 1, 1, 0, 1], "g": list("aaaaabbbbb")})
    assert _auto(sparse)[0] == "Fisher's exact test (small counts; Newcombe interval)"
    colours = pd.DataFrame(
        {"y": RNG.choice(["red", "green", "blue"], 300), "g": RNG.choice(["a", "b", "c"], 300)}
    )
    assert _auto(colours)[0] == "Chi-square test of independence"
    sparse_rxc = pd.DataFrame({"y": list("rgbrgbrgb"), "g": list("aaabbbccc")})
    assert _auto(sparse_rxc)[0] == "Fisher's exact test (Monte Carlo p-value)"


def test_forced_test_that_does_not_fit_warns() -> None:
    heavy = _groups(RNG.standard_t(2, 200), RNG.standard_t(2, 200))
    res = run(heavy, StatsSpec(test="ttest", value="y", group="g")).to_dict()
    assert any("do not fit 'ttest'" in w and "'mannwhitney'" in w for w in res["warnings"])
    fine = _groups(RNG.normal(0, 1, 50), RNG.normal(0, 1, 50))
    assert not run(fine, StatsSpec(test="ttest", value="y", group="g")).to_dict()["warnings"]
    sparse = pd.DataFrame({"y": [1, 0, 0, 0, 0, 1, 1, 1, 0, 1], "g": list("aaaaabbbbb")})
    chi = run(sparse, StatsSpec(test="chi2", value="y", group="g")).to_dict()
    assert any("do not fit 'chi2'" in w for w in chi["warnings"])
    unequal = _groups(RNG.normal(0, 1, 30), RNG.normal(0, 3, 30), RNG.normal(0, 6, 30))
    anova = run(unequal, StatsSpec(test="anova", value="y", group="g")).to_dict()
    assert any("'welch-anova'" in w for w in anova["warnings"])
