"""SRM: reproduces scipy.stats.chisquare and R's chisq.test exactly; daily and cumulative
breakdown; every split chi-square goes through sds.stats.split."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sds
from sds.data import synth
from sds.data.io import open_table
from sds.errors import DataError, ParameterError
from sds.experiments.srm import srm_by_day, srm_test
from sds.stats.split import mix_test, split_test


@pytest.mark.parametrize(
    ("counts", "weights"),
    [
        ([50_500, 49_500], None),
        ([10_210, 9_790], [0.5, 0.5]),
        ([30_400, 69_600], [0.3, 0.7]),
        ([20_100, 29_800, 50_100], [0.2, 0.3, 0.5]),
        ([1_000, 1_100, 7_900], [10, 10, 80]),
    ],
)
def test_reproduces_scipy_chisquare(counts: list[int], weights: list[float] | None) -> None:
    got = srm_test(counts, weights)
    shares = np.asarray(weights if weights else [1] * len(counts), float)
    shares = shares / shares.sum()
    ref = stats.chisquare(counts, f_exp=shares * sum(counts))
    assert got.chi2 == pytest.approx(ref.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_rules_and_notes() -> None:
    both = srm_test([50_600, 49_400]).to_dict()  # 1.2% relative, p = 1.5e-4
    assert both["flag"] and both["share_deviation_over_tolerance"]
    assert both["max_share_deviation"] == pytest.approx(0.012)
    assert both["note"].startswith("Mismatch: do not trust")
    small = srm_test([106, 94]).to_dict()  # 6% relative deviation but p = 0.40
    assert not small["flag"] and small["share_deviation_over_tolerance"]
    assert "can be noise" in small["note"] and small["note"].startswith("No mismatch")
    big = srm_test([5_004_000, 4_996_000]).to_dict()  # 0.08% relative but p = 0.011
    assert not big["flag"] and not big["share_deviation_over_tolerance"]
    huge = srm_test([50_040_000, 49_960_000]).to_dict()  # 0.08% relative, p ~ 1e-15
    assert huge["flag"] and not huge["share_deviation_over_tolerance"]
    assert "bug in assignment or logging" in huge["note"]
    assert srm_test([500, 500]).to_dict()["note"].startswith("No mismatch")


def test_daily_breakdown_finds_a_planted_mismatch() -> None:
    df = synth.make_ab_test(n_users=60_000, seed=5)
    day = (df["assigned_at"] - df["assigned_at"].min()).dt.days
    lost = (
        (df["variant"] == "treatment")
        & (day >= 9)
        & (np.random.default_rng(1).random(len(df)) < 0.2)
    )
    result = srm_by_day(open_table(df[~lost]), "variant", "assigned_at", ["control", "treatment"])
    d = result.to_dict()
    first = df["assigned_at"].min().normalize() + pd.Timedelta(days=9)
    assert d["first_flagged_day"] == first.date().isoformat()
    assert all(not row["flag_day"] for row in d["daily"][:9])
    assert d["flag"] and d["daily"][-1]["flag_cumulative"]
    total = result.overall.counts
    assert list(total) == [int((df[~lost]["variant"] == v).sum()) for v in ("control", "treatment")]


def test_bad_inputs() -> None:
    with pytest.raises(ParameterError, match="shares == 50,40, must sum to 1"):
        srm_test([10, 10], [50, 40])
    with pytest.raises(ParameterError, match="must be at least 2 non-negative counts"):
        srm_test([0, 0])
    with pytest.raises(ParameterError, match="2 values for 3 arms"):
        srm_test([1, 2, 3], [0.5, 0.5])
    df = pd.DataFrame(
        {"variant": ["control", "treatment", "oops"], "ts": pd.to_datetime(["2026-01-01"] * 3)}
    )
    with pytest.raises(DataError, match="variants the design does not name; found oops"):
        srm_by_day(open_table(df), "variant", "ts", ["control", "treatment"])


def test_split_test_equals_scipy_and_r() -> None:
    # R 4.x: chisq.test(c(52, 48)) -> X-squared = 0.16, df = 1, p-value = 0.6892
    got = split_test([52, 48], [0.5, 0.5])
    assert got.chi2 == pytest.approx(0.16, abs=1e-12) and got.df == 1
    assert got.p_value == pytest.approx(0.6892, abs=5e-5)
    ref = stats.chisquare([52, 48])
    assert got.chi2 == pytest.approx(ref.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    three = split_test([20_100, 29_800, 50_100], [0.2, 0.3, 0.5])
    ref3 = stats.chisquare([20_100, 29_800, 50_100], f_exp=[20_000, 30_000, 50_000])
    assert (three.chi2, three.p_value) == pytest.approx((ref3.statistic, ref3.pvalue), rel=1e-12)
    assert srm_test([52, 48]).p_value == got.p_value  # sds srm goes through split_test


def test_mix_test_equals_scipy_chi2_contingency() -> None:
    table = [[120, 80, 40], [100, 95, 55]]
    ref = stats.chi2_contingency(table, correction=False)
    got = mix_test(table)
    assert (got.chi2, got.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    assert got.df == ref.dof == 2


# The modules that test a split: each must go through sds.stats.split, never scipy directly.
# experiments/srm.py is this part's; analysis/timeline.py (daily SRM) and analysis/segments.py
# (segment mix) belong to the analysis engineer and are covered here too.
SPLIT_CALLERS = (
    "experiments/srm.py",
    "experiments/analysis/timeline.py",
    "experiments/analysis/segments.py",
)


@pytest.mark.parametrize("module", SPLIT_CALLERS)
def test_split_callers_do_not_call_scipy_chi_square(module: str) -> None:
    path = Path(sds.__file__).parent / module
    calls = [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
        in ("chisquare", "chi2_contingency")
    ]
    assert calls == [], f"{module} calls scipy's chi-square at lines {calls}: use sds.stats.split"
