"""Population stability index: the one definition (:mod:`sds.stats.psi`).

References: two examples worked by hand, sum over bins of (a - e) ln(a / e), one of them
with an empty bin floored at 1e-4; the binning rules against explicit numpy counts. Agreement:
``sds features check`` and ``sds monitor`` report the same PSI, to 1e-9, for a numeric column
and a 40-level category on the same two files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sds.stats import psi as rules
from tests.conftest import invoke


def test_psi_of_counts_is_the_hand_computed_textbook_sum() -> None:
    # shares e = (.1, .2, .3, .4), a = (.2, .2, .3, .3):
    # (.2 - .1) ln 2 + 0 + 0 + (.3 - .4) ln(.75) = .0693147 + .0287682 = .0980829
    assert rules.psi_from_counts([10, 20, 30, 40], [40, 40, 60, 60]) == pytest.approx(
        0.0980829, abs=1e-7
    )
    # an empty reference bin counts as a share of 1e-4, not as an infinite PSI:
    # (.1 - .0001) ln(1000) + 2 (.45 - .5) ln(.9) = .6900847 + .0105361 = .7006208
    assert rules.psi_from_counts([0, 50, 50], [10, 45, 45]) == pytest.approx(0.7006208, abs=1e-7)
    assert rules.psi_from_counts([3, 7], [30, 70]) == 0.0


def test_psi_of_counts_refuses_mismatched_or_negative_counts() -> None:
    with pytest.raises(ValueError, match="same bins"):
        rules.psi_from_counts([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="negative"):
        rules.psi_from_counts([1, -2], [1, 2])


def test_numeric_bins_are_reference_quantiles_with_a_missing_bin() -> None:
    rng = np.random.default_rng(0)
    ref = np.r_[rng.normal(size=1_000), np.round(rng.normal(size=200), 1), [np.nan] * 30]
    cur = np.r_[rng.normal(0.3, 1, 900), [np.nan] * 100]
    edges = rules.numeric_edges(ref, 10)
    present = ref[~np.isnan(ref)]
    want = np.unique(np.quantile(present, np.arange(1, 10) / 10))
    np.testing.assert_allclose(edges, want, rtol=0, atol=1e-12)  # i/10 vs linspace rounding
    full = np.r_[-np.inf, edges, np.inf]  # histogram's bins are [e_i, e_i+1) too
    for x in (ref, cur):
        counts = np.append(np.histogram(x[~np.isnan(x)], full)[0], np.isnan(x).sum())
        np.testing.assert_array_equal(rules.numeric_counts(x, edges), counts)
    # a value on an edge goes to the bin above it
    np.testing.assert_array_equal(
        rules.numeric_counts(np.array([1.0, 2.0]), np.array([2.0])), [1, 1, 0]
    )
    # repeated quantiles merge: a constant reference has one edge, so three bins with missing
    assert len(rules.numeric_counts(np.ones(50), rules.numeric_edges(np.ones(50), 10))) == 3


def test_levels_are_the_reference_top_k_then_other_then_missing() -> None:
    ref = pd.Series(["b"] * 5 + ["a"] * 5 + ["c"] * 3 + ["d"] * 1 + [None] * 2, dtype=object)
    cur = pd.Series(["d"] * 9 + ["a"] * 1 + ["new"] * 4, dtype=object)
    # ties rank by level: a before b; "d" is ranked by the reference, not by the current data
    assert rules.top_levels(ref.value_counts().to_dict(), 3) == ["a", "b", "c"]
    got_ref, got_cur = rules.series_counts(ref, cur, top=3)
    np.testing.assert_array_equal(got_ref, [5, 5, 3, 1, 2])  # a, b, c, other, missing
    np.testing.assert_array_equal(got_cur, [1, 0, 0, 13, 0])


def _frames(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A numeric column with missing values, and a 40-level category whose reference counts
    tie across the 20th place (so the tie rule decides which levels get a bin)."""
    rng = np.random.default_rng(seed)
    levels = [f"L{i:02d}" for i in range(40)]
    ref_counts = [300 - 5 * i for i in range(15)] + [100] * 10 + [60 - 2 * i for i in range(15)]
    ref_level = np.repeat(levels, ref_counts).astype(object)
    n = len(ref_level)
    cur_weights = np.linspace(1, 3, 40)
    cur_level = rng.choice(np.array(levels, dtype=object), 3_000, p=cur_weights / cur_weights.sum())
    ref_level[rng.choice(n, 40, replace=False)] = None
    cur_level[:150] = None
    ref_x = rng.gamma(2.0, 10.0, n)
    cur_x = rng.gamma(2.3, 10.0, 3_000)
    ref_x[rng.choice(n, 60, replace=False)] = np.nan
    reference = pd.DataFrame({"spend": ref_x, "plan": ref_level}).sample(frac=1, random_state=1)
    current = pd.DataFrame({"spend": cur_x, "plan": cur_level})
    return reference, current


def test_features_check_and_monitor_report_the_same_psi(tmp_path: Path) -> None:
    reference, current = _frames(7)
    ref, cur = tmp_path / "reference.parquet", tmp_path / "current.parquet"
    reference.to_parquet(ref, index=False)
    current.to_parquet(cur, index=False)
    check = invoke(
        ["features", "check", "--reference", str(ref), "--data", str(cur), "--format", "json"]
    )
    assert check.exit_code == 0, check.stderr
    watch = invoke(["monitor", "--reference", str(ref), "--data", str(cur), "--format", "json"])
    assert watch.exit_code == 0, watch.stderr
    by_check = {f["feature"]: f["psi"] for f in json.loads(check.stdout)["features"]}
    by_monitor = {f["feature"]: f["psi"] for f in json.loads(watch.stdout)["features"]}
    assert set(by_check) == set(by_monitor) == {"spend", "plan"}
    for feature in ("spend", "plan"):
        assert by_check[feature] == pytest.approx(by_monitor[feature], abs=1e-9), feature
    # and both are the rule of sds.stats.psi on the two frames
    for feature in ("spend", "plan"):
        want = rules.psi(reference[feature], current[feature])
        assert by_monitor[feature] == pytest.approx(want, abs=1e-9), feature
    assert by_monitor["plan"] > 0.2 and by_monitor["spend"] > 0.05  # real drift, not zeros
