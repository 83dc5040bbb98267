"""Matching, IPW and AIPW against the NSW experimental benchmark, statsmodels and
simulations; the sensitivity measures against their papers' published values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from sds.causal.matching import psm
from sds.causal.sensitivity import (
    e_value_rr,
    e_values,
    partial_r2,
    robustness_value,
    rosenbaum_bounds,
)  # fmt: skip
from sds.causal.weighting import aipw, ipw
from sds.errors import DataError, ParameterError

# Dehejia & Wahba (1999, JASA), the propensity model of their CPS comparison (also Cunningham's
# Mixtape, ch. 5): age, its square and cube, schooling and its square, marital status, no
# degree, race, 1974/1975 earnings and their zero indicators, schooling x 1974 earnings.
NSW_COVARIATES = ["age", "age2", "age3", "educ", "educ2", "marr", "nodegree", "black", "hisp",
                  "re74", "re75", "u74", "u75", "educ_re74"]  # fmt: skip
EXPERIMENT = 1794.34  # NSW experimental effect on 1978 earnings (Dehejia & Wahba 1999, Table 3)


@pytest.fixture(scope="module")
def nsw_cps() -> pd.DataFrame:
    import causaldata

    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    d = pd.concat([nsw[nsw["treat"] == 1], cps]).drop(columns="data_id").astype(float)
    d = d.reset_index(drop=True)
    d["u74"], d["u75"] = (d["re74"] == 0) * 1.0, (d["re75"] == 0) * 1.0
    d["age2"], d["age3"], d["educ2"] = d["age"] ** 2, d["age"] ** 3, d["educ"] ** 2
    d["educ_re74"] = d["educ"] * d["re74"]
    return d


def test_the_experimental_benchmark_and_the_naive_gap(nsw_cps: pd.DataFrame) -> None:
    import causaldata

    nsw = causaldata.nsw_mixtape.load_pandas().data
    means = nsw.groupby("treat")["re78"].mean()
    assert means[1] - means[0] == pytest.approx(EXPERIMENT, abs=0.01)
    naive = nsw_cps.groupby("treat")["re78"].mean()
    assert naive[1] - naive[0] == pytest.approx(-8497.52, abs=0.01)  # the Mixtape's figure


@pytest.mark.parametrize("method", [psm, ipw, aipw])
def test_observational_att_recovers_the_experiment(nsw_cps: pd.DataFrame, method: object) -> None:
    r = method(nsw_cps, "re78", "treat", NSW_COVARIATES, estimand="ATT")  # type: ignore[operator]
    assert r.ci_lower <= EXPERIMENT <= r.ci_upper
    assert r.ci_lower > -8497.52  # far from the naive comparison
    assert r.diagnostics["max_smd_after"] < r.diagnostics["max_smd_before"]
    assert any(w.startswith("positivity") for w in r.warnings)  # most CPS men score near 0
    assert r.to_html().count("<svg") == 2


def test_ipw_and_aipw_equal_statsmodels(nsw_cps: pd.DataFrame) -> None:
    from statsmodels.treatment.treatment_effects import TreatmentEffect

    def reference(frame: pd.DataFrame, y: str, t: str, covs: list[str]) -> TreatmentEffect:
        x = sm.add_constant(frame[covs])
        select = sm.Logit(frame[t], x).fit(disp=0)
        return TreatmentEffect(sm.OLS(frame[y], x), frame[t].to_numpy(), results_select=select)

    # point estimates on NSW treated + a CPS sample (statsmodels' closed forms; its GMM
    # refit wanders on these unscaled earnings)
    sample = pd.concat([nsw_cps.sample(3000, random_state=1), nsw_cps[nsw_cps["treat"] == 1]])
    sample = sample.drop_duplicates().reset_index(drop=True)
    covs = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
    te = reference(sample, "re78", "treat", covs)
    assert ipw(sample, "re78", "treat", covs).estimate == pytest.approx(
        te.ipw(return_results=False)[0], rel=1e-6
    )
    assert aipw(sample, "re78", "treat", covs).estimate == pytest.approx(
        te.aipw(return_results=False)[0], rel=1e-6
    )
    # standard errors, which account for estimating the score, on well-scaled data
    frame = simulate(np.random.default_rng(1))
    te = reference(frame, "y", "t", ["x1", "x2"])
    for group, estimand in (("all", "ATE"), (1, "ATT")):
        ref = te.ipw(return_results=True, effect_group=group)
        ours = ipw(frame, "y", "t", ["x1", "x2"], estimand=estimand)
        assert ours.estimate == pytest.approx(ref.effect[0], rel=1e-6)
        # statsmodels' GMM divides by n, the influence function's SD by n - 1
        assert ours.std_error == pytest.approx(ref.sd[0], rel=2e-3)
    ref = te.aipw(return_results=True)
    ours = aipw(frame, "y", "t", ["x1", "x2"])
    assert ours.estimate == pytest.approx(ref.effect[0], rel=1e-6)
    assert ours.std_error == pytest.approx(ref.sd[0], rel=2e-2)


def test_matching_with_replacement_equals_a_hand_nearest_neighbour() -> None:
    rng = np.random.default_rng(4)
    n = 400
    x = rng.normal(size=n)
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-x))).astype(float)
    y = x + 2 * t + rng.normal(size=n)
    frame = pd.DataFrame({"y": y, "t": t, "x": x})
    r = psm(frame, "y", "t", ["x"], caliper=None)
    score = sm.Logit(t, sm.add_constant(x)).fit(disp=0).predict()
    lps = np.log(score / (1 - score))
    controls = np.flatnonzero(t == 0)
    nearest = controls[np.abs(lps[t == 1][:, None] - lps[controls][None, :]).argmin(axis=1)]
    assert r.estimate == pytest.approx(float((y[t == 1] - y[nearest]).mean()), rel=1e-6)


def simulate(rng: np.random.Generator, n: int = 600) -> pd.DataFrame:
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    e = 1 / (1 + np.exp(-(0.5 * x1 - 0.5 * x2)))
    t = (rng.uniform(size=n) < e).astype(float)
    y = 1.0 * t + x1 + 0.5 * x2 + rng.normal(size=n)  # constant effect: ATE = ATT = 1
    return pd.DataFrame({"y": y, "t": t, "x1": x1, "x2": x2})


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [(psm, {"estimand": "ATT"}), (psm, {"estimand": "ATE"}), (ipw, {"estimand": "ATE"}),
     (ipw, {"estimand": "ATT"}), (aipw, {"estimand": "ATE"}), (aipw, {"estimand": "ATT"})],
)  # fmt: skip
def test_intervals_cover_at_their_level(method: object, kwargs: dict[str, str]) -> None:
    rng = np.random.default_rng(99)
    draws = 1000
    covered = 0
    for _ in range(draws):
        r = method(simulate(rng), "y", "t", ["x1", "x2"], **kwargs)  # type: ignore[operator]
        covered += r.ci_lower <= 1.0 <= r.ci_upper
    assert abs(covered / draws - 0.95) <= 0.02


def test_matching_corrects_its_errors_for_the_estimated_score() -> None:
    # Abadie & Imbens (2016): estimating the score lowers the ATE's variance; without the
    # correction the intervals cover about 98% (measured: 97.6% and 98.1%)
    rng = np.random.default_rng(5)
    draws, ratios = 200, []
    for _ in range(draws):
        r = psm(simulate(rng), "y", "t", ["x1", "x2"], estimand="ATE")
        assert r.diagnostics["score_adjustment"] < 0
        ratios.append(r.std_error / r.diagnostics["std_error_known_score"])
    assert 0.6 < np.median(ratios) < 0.95
    boosted = psm(simulate(rng), "y", "t", ["x1", "x2"], model="boosting")
    assert boosted.diagnostics["score_adjustment"] is None  # no parametric score to correct


def test_sensitivity_measures_match_their_papers() -> None:
    # VanderWeele & Ding (2017), Annals of Internal Medicine: RR 3.9 (95% CI 1.8 to 8.7)
    # gives E-values 7.26 for the estimate and 3.0 for the lower limit.
    assert e_value_rr(3.9) == pytest.approx(7.26, abs=0.005)
    assert e_value_rr(1.8) == pytest.approx(3.0, abs=0.005)
    assert e_value_rr(1 / 3.9) == pytest.approx(7.26, abs=0.005)
    assert e_values(0.5, -0.1, 1.1, 1.0)["e_value_ci"] == 1.0
    # Cinelli & Hazlett (2020), JRSS-B, the Darfur example: t = 4.18 on 783 df gives
    # partial R2 2.2%, RV 13.9% and RV at alpha = 0.05 of 7.6%.
    assert partial_r2(4.18, 783) == pytest.approx(0.022, abs=5e-4)
    assert robustness_value(4.18, 783) == pytest.approx(0.139, abs=5e-4)
    assert robustness_value(4.18, 783, alpha=0.05) == pytest.approx(0.076, abs=5e-4)
    assert robustness_value(1.0, 783, alpha=0.05) == 0.0


def test_rosenbaum_bound_at_gamma_one_is_the_signed_rank_test() -> None:
    rng = np.random.default_rng(8)
    d = rng.normal(0.3, 1, 200)
    rows = rosenbaum_bounds(d)
    ref = stats.wilcoxon(d, alternative="greater", method="approx", correction=False)
    assert rows[0]["gamma"] == 1.0 and rows[0]["p_upper"] == pytest.approx(ref.pvalue, rel=1e-9)
    p = [r["p_upper"] for r in rows]
    assert p == sorted(p)  # more hidden bias, weaker evidence


def test_bad_input_is_refused() -> None:
    x = np.linspace(-3, 3, 200)
    frame = pd.DataFrame({"y": x, "t": (x > 0).astype(float), "x": x})
    with pytest.raises(DataError, match="no overlap"):
        psm(frame, "y", "t", ["x"])
    with pytest.raises(DataError, match="constant"):
        ipw(frame.assign(t=1.0), "y", "t", ["x"])
    with pytest.raises(ParameterError, match="covariates"):
        aipw(frame, "y", "t", [])
    with pytest.raises(ParameterError, match="with replacement"):
        psm(frame, "y", "t", ["x"], estimand="ATE", replace=False)
