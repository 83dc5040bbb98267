"""Sample size, power and MDE against statsmodels on a grid, and round trips.

References: statsmodels.stats.proportion.power_proportions_2indep /
samplesize_proportions_2indep_onetail / proportion_effectsize and
statsmodels.stats.power.NormalIndPower / TTestIndPower. statsmodels' ``nobs1`` is the
treatment arm and its ``ratio`` is n_control / n_treatment (ours is the inverse).
"""

from __future__ import annotations

import itertools
import math

import pytest
from scipy import optimize
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    proportion_effectsize,
    samplesize_proportions_2indep_onetail,
)

from sds.errors import AnalysisError, ParameterError
from sds.experiments import power as pw
from sds.stats.multiple import planning_alpha

SM_ALT = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}
UNITS = 0.01  # the acceptance tolerance on sample sizes, in units

GRID = list(
    itertools.product(
        [0.01, 0.05, 0.2, 0.5],  # baseline
        [0.05, 0.3],  # relative mde
        [0.01, 0.05],  # alpha
        [0.8, 0.9],  # power
        [1.0, 2.0, 0.5],  # treatment:control ratio
        ["two-sided", "greater", "less"],
    )
)


def _delta(p0: float, rel: float, alternative: str) -> float:
    return -p0 * rel if alternative == "less" else p0 * rel


def _sm_power(
    delta: float, p0: float, n_c: float, ratio: float, alpha: float, alternative: str
) -> float:
    return float(
        power_proportions_2indep(
            delta,
            p0,
            ratio * n_c,
            ratio=1 / ratio,
            alpha=alpha,
            alternative=SM_ALT[alternative],
            return_results=False,
        )
    )


@pytest.mark.parametrize(("p0", "rel", "alpha", "power", "ratio", "alternative"), GRID)
def test_pooled_proportions_match_statsmodels(
    p0: float, rel: float, alpha: float, power: float, ratio: float, alternative: str
) -> None:
    delta = _delta(p0, rel, alternative)
    model = pw.proportion_model(p0, "pooled", ratio=ratio)
    n_c = pw.solve_n(model, delta, power, ratio, alpha, alternative)
    # power at our n equals statsmodels' power (same two-tailed formula)
    assert pw.power_at(model, delta, n_c, ratio, alpha, alternative) == pytest.approx(
        _sm_power(delta, p0, n_c, ratio, alpha, alternative), rel=1e-10
    )
    if alternative == "two-sided":
        # statsmodels' sample-size helper ignores the far tail; solve its own power instead
        sm_n = optimize.brentq(
            lambda n: _sm_power(delta, p0, n, ratio, alpha, alternative) - power, 2, 1e9, xtol=1e-9
        )
    else:
        sm_n = (
            samplesize_proportions_2indep_onetail(
                delta, p0, power, ratio=1 / ratio, alpha=alpha, alternative=SM_ALT[alternative]
            )
            / ratio
        )
    assert abs(n_c - sm_n) < UNITS


@pytest.mark.parametrize(("p0", "rel", "alpha", "power", "ratio", "alternative"), GRID[::5])
def test_arcsine_matches_normal_ind_power(
    p0: float, rel: float, alpha: float, power: float, ratio: float, alternative: str
) -> None:
    delta = _delta(p0, rel, alternative)
    n_c = pw.solve_n(pw.proportion_model(p0, "arcsine"), delta, power, ratio, alpha, alternative)
    h = proportion_effectsize(p0 + delta, p0)
    sm_n = NormalIndPower().solve_power(
        h, nobs1=None, alpha=alpha, power=power, ratio=ratio, alternative=SM_ALT[alternative]
    )
    assert abs(n_c - sm_n) < UNITS


@pytest.mark.parametrize(
    ("d", "alpha", "power", "ratio", "alternative"),
    list(
        itertools.product(
            [0.05, 0.2, 0.8],
            [0.01, 0.05],
            [0.8, 0.95],
            [1.0, 3.0],
            ["two-sided", "greater", "less"],
        )
    ),
)
def test_means_match_statsmodels(
    d: float, alpha: float, power: float, ratio: float, alternative: str
) -> None:
    std = 4.0
    delta = -d * std if alternative == "less" else d * std
    for method, solver in (("z", NormalIndPower()), ("t", TTestIndPower())):
        n_c = pw.solve_n(pw.mean_model(std, method), delta, power, ratio, alpha, alternative)
        sm_n = solver.solve_power(
            delta / std,
            nobs1=None,
            alpha=alpha,
            power=power,
            ratio=ratio,
            alternative=SM_ALT[alternative],
        )
        assert abs(n_c - sm_n) < UNITS, method
        got = pw.power_at(pw.mean_model(std, method), delta, 40, ratio, alpha, alternative)
        want = solver.power(
            delta / std, nobs1=40, alpha=alpha, ratio=ratio, alternative=SM_ALT[alternative]
        )
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), method


@pytest.mark.parametrize("method", ["pooled", "unpooled", "arcsine"])
def test_round_trips(method: str) -> None:
    model = pw.proportion_model(0.05, method, ratio=1.5)
    n_c = pw.solve_n(model, 0.004, 0.85, 1.5, 0.05)
    assert pw.solve_power(model, 0.004, n_c, 1.5, 0.05) == pytest.approx(0.85, abs=1e-9)
    assert pw.solve_delta(model, n_c, 0.85, 1.5, 0.05) == pytest.approx(0.004, rel=1e-7)
    down = pw.solve_delta(model, n_c, 0.85, 1.5, 0.05, "less")
    assert down < 0 and pw.solve_power(model, down, n_c, 1.5, 0.05, "less") == pytest.approx(0.85)


def test_seed_example_about_31200_per_variant() -> None:
    # baseline 5%, +10% relative, alpha 0.05 two-sided, power 0.8 (the seed's example)
    got = {
        m: pw.solve_n(pw.proportion_model(0.05, m), 0.005, 0.8, 1.0, 0.05)
        for m in ("pooled", "unpooled", "arcsine")
    }
    assert got["pooled"] == pytest.approx(31233.36, abs=0.01)
    assert got["unpooled"] == pytest.approx(31230.62, abs=0.01)  # (z_a+z_b)^2 (p0q0+p1q1)/d^2
    assert got["arcsine"] == pytest.approx(31217.42, abs=0.01)
    assert all(abs(n - 31_200) < 100 for n in got.values())


def test_continuity_correction_matches_fleiss() -> None:
    # Fleiss, Levin & Paik (2003), eq. 4.14: n' = n/4 (1 + sqrt(1 + 4 / (n |d|)))^2 (equal n)
    for p0, d in ((0.05, 0.005), (0.3, 0.05), (0.1, 0.03)):
        n = pw.solve_n(pw.proportion_model(p0, "pooled"), d, 0.8, 1.0, 0.05)
        fleiss = n / 4 * (1 + math.sqrt(1 + 4 / (n * d))) ** 2
        cc = pw.solve_n(pw.proportion_model(p0, "pooled", continuity=True), d, 0.8, 1.0, 0.05)
        assert cc == pytest.approx(fleiss, rel=0.005)


def test_planning_alpha_per_comparison() -> None:
    assert planning_alpha(0.05, 1, "bonferroni") == 0.05
    assert planning_alpha(0.05, 2, "bonferroni") == 0.025
    assert planning_alpha(0.05, 2, "holm") == 0.025
    assert planning_alpha(0.05, 3, "sidak") == pytest.approx(1 - 0.95 ** (1 / 3))
    assert planning_alpha(0.05, 3, "none") == 0.05


def test_bad_parameters() -> None:
    with pytest.raises(ParameterError, match=r"baseline == 1\.5, must be < 1"):
        pw.proportion_model(1.5)
    with pytest.raises(ParameterError, match=r"std == -5, must be > 0"):
        pw.mean_model(-5)
    with pytest.raises(
        ParameterError, match=r"mde == -0\.1, must be non-zero and in the direction"
    ):
        pw.solve_n(pw.mean_model(1), -0.1, 0.8, 1.0, 0.05, "greater")
    with pytest.raises(AnalysisError, match="no effect up to"):
        pw.solve_delta(pw.proportion_model(0.5), 3, 0.99, 1.0, 0.001)
