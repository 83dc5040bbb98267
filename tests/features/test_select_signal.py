"""Feature selection keeps signal: a rare column is dropped as near-zero variance only when
it shows no association with the target on the training rows.

A planted flag set in ~3% of 4,000 rows (target rate 82% when set vs 37%) must survive every
step, while the planted constant, >95%-null, correlated and leaky columns, and a rare flag
with no association, still go for their reasons with their figures. Each association test's
p-value is checked against scipy called directly on the training rows (chosen in the test by
scikit-learn's split, not by sds), Holm's adjustment against statsmodels, the Monte Carlo
chi-square against a brute-force label permutation, and the rule's error rate by a seeded
simulation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.model_selection import train_test_split
from statsmodels.stats.multitest import multipletests

from sds.errors import DataError, ParameterError
from sds.features.near_zero import associations, near_zero
from sds.features.select import select_features
from tests.conftest import invoke

ROWS = 4_000


def planted(n: int = ROWS, seed: int = 7) -> pd.DataFrame:
    """A churn table with a rare informative flag (82% vs 37%), a rare flag with no
    association, a weak numeric feature, noise, and the planted problems."""
    rng = np.random.default_rng(seed)
    flag = (rng.random(n) < 0.03).astype(int)
    dull = (rng.random(n) < 0.03).astype(int)
    weak = rng.normal(size=n)
    rate = np.clip(np.where(flag == 1, 0.82, 0.37) + 0.05 * weak, 0.01, 0.99)
    churned = (rng.random(n) < rate).astype(int)
    tenure = rng.normal(size=n)
    return pd.DataFrame(
        {
            "flag": flag,
            "dull_flag": dull,
            "weak": weak,
            "tenure": tenure,
            "tenure_copy": tenure + rng.normal(scale=0.01, size=n),
            "noise": rng.normal(size=n),
            "constant": 1.0,
            "mostly_null": np.where(rng.random(n) < 0.97, np.nan, rng.normal(size=n)),
            "leak": churned + rng.normal(scale=0.05, size=n),
            "churned": churned,
        }
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return planted()


@pytest.fixture(scope="module")
def selection(frame: pd.DataFrame) -> object:
    return select_features(frame, "churned", seed=0)


def training_rows(frame: pd.DataFrame, target: str, seed: int = 0) -> pd.DataFrame:
    """The 75% the models fit on, chosen here by scikit-learn directly."""
    train, _ = train_test_split(frame, test_size=0.25, random_state=seed, stratify=frame[target])
    return train


def test_the_planted_rare_flag_is_as_rare_and_as_strong_as_planted(frame: pd.DataFrame) -> None:
    rates = frame.groupby("flag")["churned"].mean()
    assert 0.02 < frame["flag"].mean() < 0.04
    assert rates[1] == pytest.approx(0.82, abs=0.04) and rates[0] == pytest.approx(0.37, abs=0.03)
    assert near_zero(frame["flag"]) is not None  # caret's rule alone would drop it


def test_rare_informative_flag_survives_every_step(selection: object, frame: pd.DataFrame) -> None:
    result = selection
    assert "flag" in result.kept  # type: ignore[attr-defined]
    assert "flag" not in {d["feature"] for d in result.dropped}  # type: ignore[attr-defined]
    ranked = [r["feature"] for r in result.importance]  # type: ignore[attr-defined]
    assert ranked[0] == "flag"  # the strongest feature once it is allowed to compete
    (kept,) = result.rare_kept  # type: ignore[attr-defined]
    assert kept["feature"] == "flag" and kept["p_adjusted"] < 1e-10
    train = training_rows(frame, "churned")
    set_rate = train.loc[train["flag"] == 1, "churned"].mean()
    unset_rate = train.loc[train["flag"] == 0, "churned"].mean()
    assert f"churned = 1 in {set_rate:.1%} of them vs {unset_rate:.1%} when 0" in kept["evidence"]
    assert f"value 1 in {train['flag'].mean():.1%} of these rows" in kept["evidence"]
    assert f"on {len(train):,} training rows" in kept["evidence"]
    shown = result.to_dict()["kept_despite_near_zero_variance"]  # type: ignore[attr-defined]
    assert shown[0]["feature"] == "flag"
    assert "Kept despite near-zero variance" in result.to_markdown()  # type: ignore[attr-defined]


def test_planted_problems_are_still_flagged_with_their_figures(selection: object) -> None:
    dropped = {d["feature"]: d for d in selection.dropped}  # type: ignore[attr-defined]
    assert dropped["constant"]["reason"] == "constant"
    assert dropped["constant"]["evidence"].startswith("one value: 1 ")
    assert dropped["mostly_null"]["reason"] == "null-heavy"
    assert "% missing (limit 95%)" in dropped["mostly_null"]["evidence"]
    assert dropped["leak"]["reason"] == "leakage: predicts the target almost perfectly"
    assert "AUC" in dropped["leak"]["evidence"]
    pair = {"tenure", "tenure_copy"} & set(dropped)
    assert len(pair) == 1
    (loser,) = pair
    assert dropped[loser]["reason"] == "correlated above 0.95"
    partner = ({"tenure", "tenure_copy"} - pair).pop()
    assert f"|r| = 1.000 with {partner!r}" in dropped[loser]["evidence"]
    dull = dropped["dull_flag"]
    assert dull["reason"] == "near-zero variance"
    for figure in ("top value 0 in 9", "x the next", "2 distinct (0.1%)", "p = ", "raw p = "):
        assert figure in dull["evidence"], figure
    for d in dropped.values():  # no reason without a figure
        assert any(ch.isdigit() for ch in d["evidence"]), d


def test_association_p_values_equal_scipy_on_the_training_rows(
    selection: object, frame: pd.DataFrame
) -> None:
    train = training_rows(frame, "churned")
    p = {}
    for column in ("flag", "dull_flag"):
        table = pd.crosstab(train[column], train["churned"]).to_numpy()
        assert table.min() >= 5  # large counts: the z test, i.e. chi-square without Yates
        p[column] = stats.chi2_contingency(table, correction=False).pvalue
    holm = multipletests([p["flag"], p["dull_flag"]], method="holm")[1]
    (kept,) = selection.rare_kept  # type: ignore[attr-defined]
    assert kept["p_value"] == pytest.approx(p["flag"], rel=1e-9, abs=1e-12)
    assert kept["p_adjusted"] == pytest.approx(holm[0], rel=1e-9, abs=1e-12)
    dull = next(d for d in selection.dropped if d["feature"] == "dull_flag")  # type: ignore[attr-defined]
    assert f"p = {holm[1]:.2g}" in dull["evidence"] and holm[1] > 0.05
    everything = pd.crosstab(frame["flag"], frame["churned"]).to_numpy()
    on_all_rows = stats.chi2_contingency(everything, correction=False).pvalue
    assert abs(on_all_rows - p["flag"]) > 1e-3 * p["flag"]  # the held-out rows were not used


def test_fisher_on_small_counts_equals_scipy() -> None:
    rng = np.random.default_rng(11)
    n = 600
    flag = np.zeros(n, dtype=int)
    flag[:12] = 1
    churned = np.where(flag == 1, rng.random(n) < 0.9, rng.random(n) < 0.3).astype(int)
    train = pd.DataFrame({"flag": flag, "churned": churned})
    (found,) = associations(train, "churned", ["flag"], "binary")
    table = pd.crosstab(train["flag"], train["churned"]).to_numpy()
    assert table.min() < 5
    assert found.test == "Fisher's exact"
    assert found.p_value == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-9, abs=1e-12)


def test_each_kind_of_column_and_target_uses_its_scipy_test() -> None:
    rng = np.random.default_rng(5)
    n = 3_000
    rare = rng.random(n) < 0.04
    level = np.where(rare, rng.choice(["b", "c"], n), "a")
    spend = np.where(rare, rng.gamma(2.0, 10.0, n).round(2), 0.0)  # many values
    y_class = np.where(
        rare,
        rng.choice(["x", "y", "z"], n, p=[0.6, 0.2, 0.2]),
        rng.choice(["x", "y", "z"], n, p=[0.3, 0.4, 0.3]),
    )
    y_number = rng.normal(size=n) + 0.8 * rare
    frame = pd.DataFrame(
        {"level": level, "spend": spend, "plan": y_class, "revenue": y_number, "won": rare}
    )
    by_name = {a.feature: a for a in associations(frame, "plan", ["level", "spend"], "multiclass")}
    table = pd.crosstab(frame["level"], frame["plan"]).to_numpy()
    chi2 = stats.chi2_contingency(table, correction=False).pvalue
    assert by_name["level"].test == "Pearson chi-square"
    assert by_name["level"].p_value == pytest.approx(chi2, rel=1e-9, abs=1e-12)
    groups = [frame.loc[frame["plan"] == c, "spend"] for c in ("x", "y", "z")]
    assert by_name["spend"].test == "Kruskal-Wallis across the classes"
    assert by_name["spend"].p_value == pytest.approx(
        stats.kruskal(*groups).pvalue, rel=1e-9, abs=1e-12
    )
    numeric = {
        a.feature: a for a in associations(frame, "revenue", ["level", "spend"], "regression")
    }
    by_level = [frame.loc[frame["level"] == v, "revenue"] for v in ("a", "b", "c")]
    assert numeric["level"].p_value == pytest.approx(
        stats.kruskal(*by_level).pvalue, rel=1e-9, abs=1e-12
    )
    rho = stats.spearmanr(frame["spend"], frame["revenue"]).pvalue
    assert numeric["spend"].test == "Spearman rank correlation"
    assert numeric["spend"].p_value == pytest.approx(rho, rel=1e-9, abs=1e-12)
    assert "mean revenue" in numeric["spend"].contrast


def test_monte_carlo_chi_square_agrees_with_a_brute_force_permutation() -> None:
    rng = np.random.default_rng(3)
    n = 400
    level = np.full(n, "a", dtype=object)
    level[:6], level[6:12] = "b", "c"
    plan = rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2])
    plan[:5] = "z"  # 'b' mostly z: small expected counts, some association
    frame = pd.DataFrame({"level": level, "plan": plan})
    (found,) = associations(frame, "plan", ["level"], "multiclass", seed=1)
    assert found.test.startswith("chi-square, Monte Carlo")

    rows = pd.factorize(level)[0]

    def chi2(labels: np.ndarray) -> float:  # Pearson's statistic, counted by hand
        columns = pd.factorize(labels, sort=True)[0]
        table = np.zeros((rows.max() + 1, columns.max() + 1))
        np.add.at(table, (rows, columns), 1)
        expected = np.outer(table.sum(1), table.sum(0)) / n
        return float(((table - expected) ** 2 / expected).sum())

    observed = chi2(plan)
    shuffles = np.random.default_rng(2)
    draws = 2_000
    hits = sum(chi2(shuffles.permutation(plan)) >= observed - 1e-9 for _ in range(draws))
    brute = (hits + 1) / (draws + 1)
    se = np.sqrt(brute * (1 - brute) / draws)
    assert abs(found.p_value - brute) < 4 * se + 1e-3
    assert found.p_value < 0.05  # the association is found


def test_holm_adjustment_over_the_flagged_columns_equals_statsmodels() -> None:
    rng = np.random.default_rng(9)
    n = 3_000
    columns = {f"f{i}": (rng.random(n) < 0.03).astype(int) for i in range(5)}
    y = (rng.random(n) < np.where(columns["f0"] == 1, 0.7, 0.4)).astype(int)
    frame = pd.DataFrame({**columns, "y": y})
    found = associations(frame, "y", list(columns), "binary")
    raw = [a.p_value for a in found]
    expected = multipletests(raw, method="holm")[1]
    assert [a.p_adjusted for a in found] == pytest.approx(list(expected), rel=1e-12)
    assert "over 5 near-zero-variance column(s)" in found[0].text(5)


def test_the_rule_keeps_signal_and_rarely_rescues_noise() -> None:
    """Seeded: 300 null flags (same rates) and 200 informative ones (82% vs 37%), each set
    in 3% of 3,000 training rows, tested alone at alpha 0.05."""
    rng = np.random.default_rng(2024)
    n = 3_000

    def kept(informative: bool) -> bool:
        flag = (rng.random(n) < 0.03).astype(int)
        rate = np.where(flag == 1, 0.82 if informative else 0.37, 0.37)
        train = pd.DataFrame({"flag": flag, "y": (rng.random(n) < rate).astype(int)})
        (a,) = associations(train, "y", ["flag"], "binary")
        return a.significant(0.05)

    false_rescues = np.mean([kept(False) for _ in range(300)])
    power = np.mean([kept(True) for _ in range(200)])
    assert false_rescues <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)  # 0.088
    assert power >= 0.99


def test_a_flag_with_one_value_in_the_training_rows_is_dropped_as_untestable() -> None:
    train = pd.DataFrame({"flag": [0] * 50 + [np.nan] * 2, "y": [0, 1] * 26})
    (a,) = associations(train, "y", ["flag"], "binary")
    assert np.isnan(a.p_value) and not a.significant(0.05)
    assert "not testable" in a.text(0)


def test_bad_nzv_alpha_and_unsplittable_classes_are_refused() -> None:
    frame = pd.DataFrame({"x": range(40), "y": [0, 1] * 20})
    for bad in (0.0, 1.0, float("nan")):
        with pytest.raises(ParameterError) as caught:
            select_features(frame, "y", nzv_alpha=bad)
        assert caught.value.parameter == "nzv_alpha"
    lonely = pd.DataFrame({"x": range(40), "y": [0] * 39 + [1]})
    with pytest.raises(DataError, match="too few rows per class"):
        select_features(lonely, "y")


def test_cli_nzv_alpha_decides_and_is_checked(tmp_path: Path) -> None:
    data = tmp_path / "features.parquet"
    planted(1_500, seed=8)[["flag", "weak", "churned"]].to_parquet(data)
    report = tmp_path / "selection.json"
    base = ["features", "select", "--data", str(data), "--target", "churned"]
    res = invoke([*base, "--nzv-alpha", "1e-30", "-o", str(report)])  # a level nothing meets
    assert res.exit_code == 0, res.stderr
    d = json.loads(report.read_text())
    (flag,) = [x for x in d["dropped"] if x["feature"] == "flag"]
    assert flag["reason"] == "near-zero variance" and "p = " in flag["evidence"]
    assert d["kept_despite_near_zero_variance"] == []
    assert "weak" in d["kept"] + [x["feature"] for x in d["dropped"]]  # one feature left: no RFE
    res = invoke([*base, "--nzv-alpha", "0", "-o", str(tmp_path / "bad.json")])
    assert res.exit_code == 2 and "--nzv-alpha" in res.stderr, res.stderr
    assert res.stderr.count("error:") == 1
