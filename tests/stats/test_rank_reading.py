"""The newcomer walk-through's M3 leftovers: a forced test never says sds chose another
test, and a Mann-Whitney result on zero-inflated revenue says what it found.

(a) ``sds stats ttest --value revenue`` ran Welch's t-test, then warned "... so a rank test
is chosen (Mann-Whitney U) ... run Welch's t-test (sds stats welch) instead": the reasons
of the auto path leaked into a forced test. (b) ``sds stats auto`` headlined Mann-Whitney's
``estimate 0`` (both medians are 0) with a tiny p-value and no word on what differs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sds.data.synth import make_ab_test
from sds.stats.nonparametric import mann_whitney
from tests.conftest import invoke


@pytest.fixture(scope="module")
def zero_inflated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """Revenue per user: most users buy nothing; the treatment converts more often (12% vs
    9%), so both medians are 0 while the distributions differ."""
    rng = np.random.default_rng(3)
    n = 20_000
    variant = np.repeat(["control", "treatment"], n // 2)
    buys = rng.random(n) < np.where(variant == "treatment", 0.12, 0.09)
    revenue = np.where(buys, rng.lognormal(3, 1, n), 0.0).round(2)
    frame = pd.DataFrame({"variant": variant, "revenue": revenue})
    path = tmp_path_factory.mktemp("zi") / "zi.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _json(args: list[str]) -> dict[str, object]:
    result = invoke([*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("test", ["ttest", "welch", "student"])
def test_m3a_a_forced_test_never_says_another_was_chosen(tmp_path: Path, test: str) -> None:
    path = tmp_path / "ab.csv"
    make_ab_test(20_000, seed=7).to_csv(path, index=False)
    d = _json(["stats", test, "--data", str(path), "--value", "revenue", "--group", "variant"])
    (warning,) = [w for w in d["warnings"] if "do not fit" in w]  # type: ignore[attr-defined]
    assert "chosen" not in warning and "instead" not in warning
    assert "auto would choose" not in warning
    assert "the assumption checks suggest 'mannwhitney': sds stats mannwhitney" in warning
    assert "if the mean itself is the question, this test answers it" in warning
    # the auto path still gives its own reasons, with the advice for the mean
    auto = _json(["stats", "auto", "--data", str(path), "--value", "revenue", "--group", "variant"])
    reasons = " ".join(auto["reasons"])  # type: ignore[arg-type]
    assert "so a rank test is chosen (Mann-Whitney U)" in reasons
    assert "run Welch's t-test (sds stats welch) instead" in reasons


def test_m3b_probability_of_superiority_matches_scipy(
    zero_inflated: tuple[Path, pd.DataFrame],
) -> None:
    path, frame = zero_inflated
    d = _json(["stats", "auto", "--data", str(path), "--value", "revenue", "--group", "variant"])
    assert d["test"] == "Mann-Whitney U (chosen by sds stats auto)"
    treated = frame.loc[frame["variant"] == "treatment", "revenue"].to_numpy()
    control = frame.loc[frame["variant"] == "control", "revenue"].to_numpy()
    ref = stats.mannwhitneyu(treated, control)
    by_name = {e["name"]: e for e in d["other_effect_sizes"]}  # type: ignore[attr-defined]
    superiority = by_name["probability_of_superiority"]
    assert superiority["value"] == pytest.approx(
        ref.statistic / (len(treated) * len(control)), rel=1e-12, abs=1e-12
    )
    # its interval is the rank-biserial interval, mapped by (r + 1) / 2
    assert superiority["ci_lower"] == pytest.approx((d["effect_size_ci_lower"] + 1) / 2, abs=1e-12)
    assert superiority["ci_upper"] == pytest.approx((d["effect_size_ci_upper"] + 1) / 2, abs=1e-12)
    assert d["estimate"] == 0 and d["p_value"] < 0.05
    assert d["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    meaning, equal_medians = d["notes"]  # type: ignore[misc]
    assert meaning.startswith(
        "probability_of_superiority = P(treatment > control) + P(treatment = control) / 2 = "
    )
    assert "Mann-Whitney tests whether it differs from 0.5" in meaning
    assert "The medians are equal" in equal_medians and "distributions differ" in equal_medians
    assert "sds stats welch" in equal_medians
    text = invoke(
        ["stats", "auto", "--data", str(path), "--value", "revenue", "--group", "variant"]
    )
    assert "Reading the result" in text.stdout and "probability_of_superiority" in text.stdout


def test_m3b_no_equal_medians_note_without_a_significant_difference() -> None:
    rng = np.random.default_rng(8)
    same = mann_whitney(rng.exponential(1, 200), rng.exponential(1, 200))
    assert same.p_value >= 0.05 and len(same.notes) == 1  # the meaning only
    shifted = mann_whitney(rng.exponential(1, 200) + 1, rng.exponential(1, 200))
    assert shifted.p_value < 0.05 and shifted.estimate != 0 and len(shifted.notes) == 1


def test_probability_of_superiority_is_its_definition_over_every_pair() -> None:
    """P(x > y) + P(x = y) / 2 counted over all pairs, with ties (zeros) as in revenue."""
    rng = np.random.default_rng(11)
    x = np.where(rng.random(300) < 0.8, 0.0, rng.integers(1, 20, 300))
    y = np.where(rng.random(250) < 0.85, 0.0, rng.integers(1, 20, 250))
    greater = np.sum(x[:, None] > y[None, :])
    ties = np.sum(x[:, None] == y[None, :])
    by_pairs = (greater + ties / 2) / (len(x) * len(y))
    got = mann_whitney(x, y).other_effect_sizes["probability_of_superiority"][0]
    assert got == pytest.approx(by_pairs, abs=1e-12)
