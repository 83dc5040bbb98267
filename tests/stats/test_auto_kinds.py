"""``sds stats auto`` on the outcomes and designs it used to refuse, and advice that exists.

- A 0/1 (false/true, no/yes, boolean) outcome is found without ``--value``: two groups get
  the two-proportion test (statsmodels ``proportions_ztest``), k groups the chi-square
  (scipy ``chi2_contingency``).
- A group column with 3+ levels is found without ``--group``: ANOVA (scipy ``f_oneway``),
  Welch's ANOVA (statsmodels ``anova_oneway(use_var="unequal")``) or Kruskal-Wallis (scipy).
- Every ``sds stats NAME`` and ``--option`` in the advice sds prints (reasons, warnings,
  misfit notes) and in the source of the auto and t-test modules is a test the CLI accepts
  and an option ``sds stats --help`` lists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.oneway import anova_oneway
from statsmodels.stats.proportion import proportions_ztest

import sds.stats.auto
import sds.stats.auto_run
import sds.stats.ttest
from sds.stats.runner import StatsSpec, run
from sds.stats.runner import test_name as canonical_test
from sds.stats.spec import TEST_NAMES
from sds.stats.ttest import ttest
from tests.conftest import invoke

REF = 1e-10


def _auto(path: Path, *extra: str) -> dict:
    result = invoke(["stats", "auto", "--data", str(path), "--format", "json", *extra])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _binary(n: int = 600, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["control", "treatment"], n)
    y = (rng.random(n) < np.where(arm == "treatment", 0.3, 0.2)).astype(int)
    return pd.DataFrame({"user": np.arange(n), "arm": arm, "y": y})


@pytest.mark.parametrize("spelling", ["01", "truefalse", "noyes", "boolean"])
def test_binary_outcome_two_groups_is_the_two_proportion_test(
    tmp_path: Path, spelling: str
) -> None:
    df = _binary()
    xt = int(df.y[df.arm == "treatment"].sum())
    nt = int((df.arm == "treatment").sum())
    xc, nc = int(df.y[df.arm == "control"].sum()), int((df.arm == "control").sum())
    words = {"truefalse": ("false", "true"), "noyes": ("no", "yes")}
    if spelling in words:
        df["y"] = np.where(df.y == 1, words[spelling][1], words[spelling][0])
    elif spelling == "boolean":
        df["y"] = df.y == 1
    path = tmp_path / "units.parquet"
    df.to_parquet(path)
    out = _auto(path)  # no --value, no --group
    assert out["test"] == "Two-proportion z-test (chosen by sds stats auto)"
    assert out["estimate_name"] == "p(treatment) - p(control)"
    z, p = proportions_ztest([xt, xc], [nt, nc])
    assert out["p_value"] == pytest.approx(p, rel=REF)
    assert out["statistic"] == pytest.approx(z, rel=REF)
    assert out["estimate"] == pytest.approx(xt / nt - xc / nc, rel=REF)


def test_binary_outcome_small_counts_uses_fisher_inside_the_proportion_test(
    tmp_path: Path,
) -> None:
    df = pd.DataFrame({"arm": ["control"] * 40 + ["treatment"] * 41, "y": 0})
    df.loc[:8, "y"] = 1  # 9 of 40 control
    df.loc[40:42, "y"] = 1  # 3 of 41 treatment
    df.to_csv(tmp_path / "small.csv", index=False)
    out = _auto(tmp_path / "small.csv")
    assert out["test"].startswith("Fisher's exact test (small counts; Newcombe interval)")
    p = stats.fisher_exact([[3, 38], [9, 31]]).pvalue
    assert out["p_value"] == pytest.approx(p, rel=REF)


def test_binary_outcome_k_groups_is_chi_square(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    arm = rng.choice(["a", "b", "c"], 900)
    y = (rng.random(900) < np.select([arm == "a", arm == "b"], [0.2, 0.25], 0.3)).astype(int)
    pd.DataFrame({"arm": arm, "y": y}).to_csv(tmp_path / "k.csv", index=False)
    out = _auto(tmp_path / "k.csv")
    ref = stats.chi2_contingency(pd.crosstab(arm, y).to_numpy())
    assert out["test"] == "Chi-square test of independence (chosen by sds stats auto)"
    assert out["p_value"] == pytest.approx(ref.pvalue, rel=REF)
    assert out["df"] == 2


def _k_groups(scales: tuple[float, ...], draw: str = "normal", seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i, scale in enumerate(scales):
        if draw == "normal":
            values = rng.normal(i * 0.3, scale, 120)
        else:
            values = rng.standard_t(1.5, 120) + i * 0.3
        parts.append(pd.DataFrame({"arm": f"g{i}", "value": values}))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize(
    ("scales", "draw", "chosen"),
    [
        ((1.0, 1.0, 1.0), "normal", "One-way ANOVA"),
        ((0.5, 1.0, 3.0, 1.5), "normal", "Welch's ANOVA"),
        ((1.0, 1.0, 1.0), "heavy", "Kruskal-Wallis"),
    ],
)
def test_k_level_group_is_found_and_tested(
    tmp_path: Path, scales: tuple[float, ...], draw: str, chosen: str
) -> None:
    df = _k_groups(scales, draw)
    df.to_csv(tmp_path / "k.csv", index=False)
    out = _auto(tmp_path / "k.csv")  # no --group: the 3- or 4-level column is found
    assert out["test"] == f"{chosen} (chosen by sds stats auto)"
    groups = [g.value.to_numpy() for _, g in df.groupby("arm")]
    assert sorted(out["n"]) == sorted(df.arm.unique())
    if chosen == "One-way ANOVA":
        p = stats.f_oneway(*groups).pvalue
    elif chosen == "Welch's ANOVA":
        p = anova_oneway(groups, use_var="unequal").pvalue
    else:
        p = stats.kruskal(*groups).pvalue
    assert out["p_value"] == pytest.approx(p, rel=1e-9)


def test_ambiguous_columns_are_named(tmp_path: Path) -> None:
    df = _binary()
    df["clicked"] = df.y[::-1].to_numpy()
    df.to_csv(tmp_path / "two.csv", index=False)
    result = invoke(["stats", "auto", "--data", str(tmp_path / "two.csv")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "2 candidates (y, clicked)" in result.stderr and "--value" in result.stderr
    groups = _k_groups((1.0, 1.0, 1.0)).assign(region=lambda d: d.arm.str.upper() + "x")
    groups.to_csv(tmp_path / "groups.csv", index=False)
    result = invoke(["stats", "auto", "--data", str(tmp_path / "groups.csv")])
    assert result.exit_code == 2 and "2 candidates (arm, region)" in result.stderr


# --- advice names a test and an option that exist ---------------------------------------


COMMAND = re.compile(r"sds stats ([a-z][a-z0-9-]*)")
OPTION = re.compile(r"(?<![\w-])--([a-z][a-z-]*)")


def _help() -> tuple[str, set[str]]:
    result = invoke(["stats", "--help"])
    assert result.exit_code == 0
    text = re.sub(r"\s+", " ", result.stdout)
    return text, set(OPTION.findall(result.stdout))


def _advice() -> list[str]:
    """Everything sds says to a user about which test or option to use, from real runs."""
    rng = np.random.default_rng(8)
    heavy = pd.DataFrame(
        {"y": rng.standard_t(1.5, 400), "g": np.repeat(["control", "treatment"], 200)}
    )
    skewed = pd.DataFrame(
        {"y": rng.lognormal(0, 1.5, 400), "g": np.repeat(["control", "treatment"], 200)}
    )
    paired = pd.DataFrame(
        {
            "id": np.r_[np.arange(12), np.arange(12)],
            "g": np.repeat(["after", "before"], 12),
            "y": np.r_[np.r_[np.ones(11), 30.0], np.zeros(12)],
        }
    )
    small = pd.DataFrame({"y": [1, 0, 0, 0, 0, 1, 1, 1, 0, 1], "g": list("aaaaabbbbb")})
    out: list[str] = []
    runs = [
        (heavy, StatsSpec("auto", value="y", group="g")),
        (skewed, StatsSpec("auto", value="y", group="g")),
        (heavy, StatsSpec("ttest", value="y", group="g")),
        (paired, StatsSpec("paired", value="y", group="g", pair_id="id")),
        (paired, StatsSpec("auto", value="y", group="g", pair_id="id")),
        (small, StatsSpec("chi2", value="y", group="g")),
        (small, StatsSpec("auto", value="y", group="g")),
        (
            heavy.assign(g=np.repeat(["a", "b", "c", "d"], 100)),
            StatsSpec("anova", value="y", group="g"),
        ),
        (heavy.head(20), StatsSpec("one-sample", value="y")),
    ]
    for df, spec in runs:
        d = run(df, spec).to_dict()
        out += [d["test"], *d.get("reasons", []), *d.get("warnings", [])]
    x = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 9.0, 1.02, 0.98])
    for res in (ttest(x, np.zeros_like(x), paired=True), ttest(x, x[::-1] + 0.1), ttest(x)):
        out += list(res.warnings)
    return out


def test_every_piece_of_advice_names_a_test_and_an_option_that_exist() -> None:
    help_text, options = _help()
    advice = _advice()
    sources = [
        Path(m.__file__).read_text() for m in (sds.stats.auto, sds.stats.auto_run, sds.stats.ttest)
    ]
    named = [t for text in [*advice, *sources] for t in COMMAND.findall(text)]
    flags = [o for text in [*advice, *sources] for o in OPTION.findall(text)]
    # the scan sees the advice (and 3+ groups are sent to Welch's ANOVA, not the 2-group t)
    assert {"welch", "welch-anova", "mannwhitney", "wilcoxon", "kruskal", "fisher"} <= set(named)
    assert not [a for a in advice if "Kruskal-Wallis" in a and "sds stats welch)" in a]
    assert "value" in flags
    for name in named:
        assert name in TEST_NAMES and canonical_test(name) == name, name
        assert re.search(rf"\b{re.escape(name)}\b", help_text), name
    for flag in flags:
        assert flag in options, f"--{flag} is advised but sds stats has no such option"
    assert "test" not in options  # the test is positional: advice never says --test


def test_paired_t_advice_is_the_signed_rank_test_and_never_claims_it_ran() -> None:
    paired = pd.DataFrame(
        {
            "id": np.r_[np.arange(12), np.arange(12)],
            "g": np.repeat(["after", "before"], 12),
            "y": np.r_[np.r_[np.ones(11), 30.0], np.zeros(12)],
        }
    )
    res = run(paired, StatsSpec("paired", value="y", group="g", pair_id="id"))
    text = " ".join(res.to_dict()["warnings"])
    assert res.to_dict()["test"] == "Paired t-test"
    assert "Wilcoxon signed-rank test on the pairs (sds stats wilcoxon)" in text
    assert "the assumption checks suggest 'wilcoxon'" in text
    assert "Mann-Whitney" not in text and "mannwhitney" not in text
    assert " is used" not in text
    root = Path(sds.stats.auto.__file__).parent
    for path in root.glob("*.py"):
        assert "signed-rank is used" not in path.read_text(), path
