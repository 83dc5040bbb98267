"""Group-sequential boundaries against published values, and seeded simulations under peeking.

References:
- gsDesign's own test suite, tests/testthat/test-outputs.R (keaven/gsDesign):
  * "test.Deming.gsProb": repeated testing at z = 1.96 (upper crossing, symmetric bounds)
    gives type I error 0.042, 0.063, 0.097, 0.124 for k = 2, 4, 10, 20;
  * "test.JT.Power.symm": symmetric two-sided sfPower designs (alpha 0.025 per side,
    beta 0.2): k=3 rho=1 -> max n 1.117, E[n | H0] 1.099 and E[n] at theta = delta 0.812;
    k=10 rho=2 -> 1.081, 1.066, 0.762; k=2 rho=3 -> 1.010, 1.007, 0.895 (fractions of the
    fixed-design n, printed to 1 decimal in percent there).
- Lan-DeMets O'Brien-Fleming spending, 5 equal looks, one-sided 0.025 per side: the classic
  table of Reboussin, DeMets, Kim & Lan (2000, Controlled Clinical Trials 21:190-207;
  the ldbounds program): 4.8769, 3.3569, 2.6803, 2.2898, 2.0310.
"""

from __future__ import annotations

import numpy as np
import pytest

from sds.errors import ParameterError
from sds.experiments.sequential import (
    boundaries,
    crossing,
    sequential_boundaries,
    sequential_design,
)

EQUAL5 = [0.2, 0.4, 0.6, 0.8, 1.0]


def test_obrien_fleming_five_looks_matches_reboussin_table() -> None:
    got = boundaries(EQUAL5, alpha=0.05, spending="obrien-fleming")
    assert got == pytest.approx([4.8769, 3.3569, 2.6803, 2.2898, 2.0310], abs=1.5e-4)


@pytest.mark.parametrize(("k", "expected"), [(2, 0.042), (4, 0.063), (10, 0.097), (20, 0.124)])
def test_naive_repeated_testing_matches_gsdesign(k: int, expected: float) -> None:
    fractions = [i / k for i in range(1, k + 1)]
    up, _ = crossing([1.959964] * k, fractions, 0.0)
    assert round(sum(up), 3) == expected


@pytest.mark.parametrize(
    ("k", "gamma", "n_max", "en_h0", "en_h1"),
    [
        (3, 1.0, 1.117, 1.099, 0.812),
        (10, 2.0, 1.081, 1.066, 0.762),
        (2, 3.0, 1.010, 1.007, 0.895),
    ],
)
def test_power_family_design_matches_gsdesign(
    k: int, gamma: float, n_max: float, en_h0: float, en_h1: float
) -> None:
    plan = sequential_design(looks=k, alpha=0.05, power=0.8, spending="power", spending_gamma=gamma)
    assert round(plan.inflation_factor, 3) == n_max
    assert round(plan.expected_n_h0_fraction, 3) == en_h0
    assert round(plan.expected_n_h1_fraction, 3) == en_h1


def test_one_look_is_the_fixed_design() -> None:
    plan = sequential_design(looks=1, alpha=0.05, power=0.8)
    assert plan.boundaries.z_boundaries[0] == pytest.approx(1.959964, abs=1e-6)
    assert plan.inflation_factor == pytest.approx(1.0, abs=1e-8)


def _simulate_null_rejections(
    bounds: list[float], fractions: list[float], sims: int, seed: int
) -> float:
    """Share of null experiments whose |Z_k| crosses a bound at any look (Brownian motion)."""
    rng = np.random.default_rng(seed)
    increments = np.diff([0.0, *fractions])
    rejected = 0
    for _ in range(sims // 50_000):
        s = np.cumsum(rng.normal(0.0, np.sqrt(increments), (50_000, len(fractions))), axis=1)
        z = s / np.sqrt(fractions)
        rejected += int(np.any(np.abs(z) >= np.asarray(bounds), axis=1).sum())
    return rejected / sims


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock", "power"])
def test_false_positive_rate_holds_under_peeking(spending: str) -> None:
    bounds = boundaries(EQUAL5, 0.05, spending)
    rate = _simulate_null_rejections(bounds, EQUAL5, 200_000, seed=7)
    assert abs(rate - 0.05) < 0.005


def test_naive_peeking_inflates_the_false_positive_rate() -> None:
    rate = _simulate_null_rejections([1.959964] * 5, EQUAL5, 200_000, seed=8)
    plan = sequential_design(looks=5)
    assert rate > 0.12
    assert rate == pytest.approx(plan.naive_peeking_alpha, abs=0.005)  # about 0.142


def test_planned_power_is_realised() -> None:
    plan = sequential_design(looks=4, power=0.9, spending="pocock")
    fractions = list(plan.boundaries.information_fractions)
    theta = (1.959964 + 1.281552) * np.sqrt(plan.inflation_factor)  # drift of the max n
    rng = np.random.default_rng(9)
    increments = np.diff([0.0, *fractions])
    s = np.cumsum(rng.normal(theta * increments, np.sqrt(increments), (100_000, 4)), axis=1)
    z = s / np.sqrt(fractions)
    realised = np.mean(np.any(z >= np.asarray(plan.boundaries.z_boundaries), axis=1))
    assert realised == pytest.approx(0.9, abs=0.01)


def test_unequal_looks_and_one_sided() -> None:
    result = sequential_boundaries([0.3, 0.55, 1.0], alpha=0.025, alternative="greater")
    d = result.to_dict()
    assert d["cumulative_alpha"][-1] == pytest.approx(0.025)
    up, _ = crossing(d["z_boundaries"], d["information_fractions"], 0.0, two_sided=False)
    assert sum(up) == pytest.approx(0.025, abs=1e-6)


def test_plan_dict_has_sample_sizes() -> None:
    d = sequential_design(looks=5, n_fixed=31_234).to_dict()
    for key in (
        "z_boundaries",
        "nominal_p_values",
        "cumulative_alpha",
        "inflation_factor",
        "expected_n_h0",
        "expected_n_h1",
        "n_max",
        "naive_peeking_alpha",
    ):
        assert key in d
    assert d["n_max"] == int(np.ceil(31_234 * d["inflation_factor"]))


def test_bad_parameters() -> None:
    with pytest.raises(ParameterError, match=r"alpha == 1\.5, must be < 1"):
        boundaries(EQUAL5, alpha=1.5)
    with pytest.raises(ParameterError, match="must be increasing"):
        boundaries([0.5, 0.4, 1.0])
    with pytest.raises(ParameterError, match="spending == 'linear', must be one of"):
        boundaries(EQUAL5, spending="linear")
    with pytest.raises(ParameterError, match="ending at 1"):
        sequential_design(looks=2, information_fractions=[0.5, 0.9])
