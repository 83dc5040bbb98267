"""DiD, event studies and Callaway-Sant'Anna against published values, pyfixest, and
seeded simulations."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sds.causal.did import did
from sds.causal.event_study import event_study
from sds.causal.panel import twfe_weights
from sds.causal.staggered import staggered
from sds.errors import DataError


@pytest.fixture(scope="module")
def organs() -> pd.DataFrame:
    import causaldata

    od = causaldata.organ_donations.load_pandas().data
    od["Treated"] = ((od["State"] == "California") & (od["Quarter_Num"] >= 4)).astype(int)
    return od


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    import moderndid

    d = moderndid.load_mpdta().to_pandas()
    d["treated_now"] = ((d["first.treat"] > 0) & (d["year"] >= d["first.treat"])).astype(int)
    return d


def quiet_feols(*args: Any, **kwargs: Any) -> Any:
    """pyfixest called directly, as the reference, without its pandas deprecation notes."""
    import pyfixest as pf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(*args, **kwargs)


def simulated_panel(
    rng: np.random.Generator, units: int = 40, periods: int = 6, tau: float = 1.0,
    starts: tuple[int, ...] = (3,),
) -> pd.DataFrame:  # fmt: skip
    u = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(periods), units)
    treated = np.arange(units) < units // 2
    start = np.where(treated, rng.choice(starts, units), 10**6)[u]
    d = (t >= start).astype(int)
    y = rng.normal(size=units)[u] + rng.normal(size=periods)[t] + tau * d + rng.normal(size=len(u))
    return pd.DataFrame({"u": u, "t": t, "d": d, "y": y})


def test_organ_donation_matches_the_effect(organs: pd.DataFrame) -> None:
    # Huntington-Klein, The Effect (2021), ch. 18 (Kessler & Roth's organ donation data):
    # feols(Rate ~ Treated | State + Quarter), errors clustered by state: -0.0225 (0.0061).
    r = did(organs, "Rate", "Treated", "State", "Quarter_Num", permutations=999)
    assert r.estimate == pytest.approx(-0.0225, abs=5e-5)
    assert r.std_error == pytest.approx(0.0061, abs=5e-5)
    assert r.method == "did-twfe" and r.n["treated_units"] == 1
    # one treated state of 27: the permutation p-value cannot go below 1/27
    assert 1 / 27 <= r.diagnostics["randomization_p"] <= 1
    assert any("only 1 treated cluster" in w for w in r.warnings)
    assert [row["fake_date"] for row in r.tables["placebo_dates"]] == [2, 3]


def test_twfe_equals_pyfixest_and_two_by_two_equals_the_difference_of_means() -> None:
    rng = np.random.default_rng(1)
    frame = simulated_panel(rng, units=60, periods=2, starts=(1,))
    frame["x"] = rng.normal(size=len(frame))
    r = did(frame, "y", "d", "u", "t", permutations=0)
    assert r.method == "did-2x2"
    m = frame.groupby([frame["u"] < 30, "t"])["y"].mean()
    by_hand = (m[True, 1] - m[True, 0]) - (m[False, 1] - m[False, 0])
    assert r.estimate == pytest.approx(by_hand, rel=1e-10)
    with_x = did(frame, "y", "d", "u", "t", ["x"], cluster="u", permutations=0)
    ref = quiet_feols("y ~ d + x | u + t", data=frame, vcov={"CRV1": "u"}).tidy().loc["d"]
    assert (with_x.estimate, with_x.std_error) == pytest.approx(
        (ref["Estimate"], ref["Std. Error"]), rel=1e-10
    )


def test_randomization_p_equals_refitting_each_permutation() -> None:
    from sds.causal.did import randomization_p
    from sds.causal.panel import check_panel

    rng = np.random.default_rng(2)
    panel = check_panel(simulated_panel(rng, units=12, periods=4, tau=0.5), "u", "t", "d", "x")
    frame = panel.frame
    observed = float(quiet_feols("y ~ d | u + t", data=frame).coef()["d"])
    fast = randomization_p(frame, "y", "u", "t", [], observed, 200, seed=9)
    # the same permutations, refitted one at a time with pyfixest
    perm_rng = np.random.default_rng(9)
    units = frame["u"].unique()
    cohort = frame.groupby("u", sort=False)["_cohort"].first().reindex(units).to_numpy()
    position = pd.Index(units).get_indexer(frame["u"])
    extreme = 0
    for _ in range(200):
        drawn = perm_rng.permutation(cohort)[position]
        frame["_d"] = (frame["t"].to_numpy() >= drawn).astype(float)
        beta = float(quiet_feols("y ~ _d | u + t", data=frame).coef()["_d"])
        extreme += abs(beta) >= abs(observed) - 1e-12
    assert fast == pytest.approx((1 + extreme) / 201, abs=1e-12)


@pytest.mark.parametrize("cluster", ["u", "c"])
def test_placebo_dates_equal_pyfixest_on_the_pre_period(cluster: str) -> None:
    rng = np.random.default_rng(12)
    frame = simulated_panel(rng, units=30, periods=8, starts=(5,)).assign(c=lambda f: f["u"] // 3)
    r = did(frame, "y", "d", "u", "t", cluster=cluster, permutations=0)
    assert [row["fake_date"] for row in r.tables["placebo_dates"]] == [2, 3, 4]
    pre = frame[frame["t"] < 5].copy()
    for row in r.tables["placebo_dates"]:
        pre["fake"] = ((pre["u"] < 15) & (pre["t"] >= row["fake_date"])).astype(float)
        ref = quiet_feols("y ~ fake | u + t", data=pre, vcov={"CRV1": cluster}).tidy()
        ref = ref.loc["fake"]
        assert row["estimate"] == pytest.approx(ref["Estimate"], rel=1e-8)
        assert row["std_error"] == pytest.approx(ref["Std. Error"], rel=1e-8)
        assert row["p_value"] == pytest.approx(ref["Pr(>|t|)"], rel=1e-6)


@pytest.mark.parametrize("cluster", ["u", "c"])
def test_balanced_closed_form_equals_pyfixest(cluster: str) -> None:
    rng = np.random.default_rng(21)
    frame = simulated_panel(rng, units=30, periods=7, starts=(2, 4, 5))
    frame = frame.assign(c=frame["u"] // 3)
    r = did(frame, "y", "d", "u", "t", cluster=cluster, permutations=0, confidence=0.9)
    assert r.diagnostics["fit"].startswith("two-way demeaning in closed form")
    ref = quiet_feols("y ~ d | u + t", data=frame, vcov={"CRV1": cluster})
    row = ref.tidy(alpha=0.1).loc["d"]
    assert r.estimate == pytest.approx(row["Estimate"], rel=1e-9)
    assert r.std_error == pytest.approx(row["Std. Error"], rel=1e-9)
    assert r.p_value == pytest.approx(row["Pr(>|t|)"], rel=1e-7)
    assert (r.ci_lower, r.ci_upper) == pytest.approx((row.iloc[4], row.iloc[5]), rel=1e-9)
    # unbalanced, weighted or with covariates: pyfixest itself
    gappy = did(frame.drop(index=3), "y", "d", "u", "t", permutations=0)
    weighted = did(frame.assign(w=1.0), "y", "d", "u", "t", weights="w", permutations=0)
    assert gappy.diagnostics["fit"] == weighted.diagnostics["fit"] == "pyfixest feols"
    assert weighted.estimate == pytest.approx(r.estimate, rel=1e-9)


def test_staggered_timing_warns_and_counts_negative_weights() -> None:
    # every unit adopts, at one of three dates: no never-treated group to compare with
    units, periods = 30, 8
    u = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(periods), units)
    d = (t >= np.array([1, 4, 7])[np.arange(units) % 3][u]).astype(int)
    frame = pd.DataFrame(
        {"u": u, "t": t, "d": d, "y": np.random.default_rng(3).normal(size=len(u))}
    )
    r = did(frame, "y", "d", "u", "t", permutations=0)
    assert any(w.startswith("staggered adoption") for w in r.warnings)
    weights = twfe_weights(frame, "u", "t", "d")
    assert weights.sum() == pytest.approx(1.0)
    assert r.diagnostics["negative_weight_share"] == pytest.approx(float((weights < 0).mean()))
    assert r.diagnostics["negative_weight_share"] > 0  # late periods of early adopters
    # the weights are the residuals of d on unit and time effects (Frisch-Waugh-Lovell)
    dummies = pd.get_dummies(frame[["u", "t"]].astype(str), drop_first=True).astype(float)
    x = np.column_stack([np.ones(len(frame)), dummies.to_numpy()])
    resid = d - x @ np.linalg.lstsq(x, d, rcond=None)[0]
    np.testing.assert_allclose(weights, resid[d == 1] / resid[d == 1].sum(), atol=1e-6)


def test_event_study_equals_pyfixest_and_tests_pretrends(organs: pd.DataFrame) -> None:
    r = event_study(organs, "Rate", "Treated", "State", "Quarter_Num")
    rel = organs["Quarter_Num"] - 4
    frame = organs.assign(rel=np.where(organs["State"] == "California", rel, -1))
    ref = quiet_feols("Rate ~ i(rel, ref=-1) | State + Quarter_Num", data=frame,
                      vcov={"CRV1": "State"})  # fmt: skip
    table = {row["relative_period"]: row for row in r.tables["event_study"]}
    for k in (-3, -2, 0, 1, 2):
        assert table[k]["estimate"] == pytest.approx(float(ref.coef()[f"rel::{k}"]), rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wald = ref.wald_test(R=np.eye(5)[:2])
    # pyfixest reports the Wald statistic W; the F is W / q, on (q, clusters - 1) df
    assert r.diagnostics["pretrend_f"] == pytest.approx(float(wald["statistic"]) / 2, rel=1e-8)
    assert r.diagnostics["pretrend_p"] == pytest.approx(stats.f.sf(wald["statistic"] / 2, 2, 26))
    assert r.estimate == pytest.approx(np.mean([table[k]["estimate"] for k in (0, 1, 2)]))
    assert r.to_html().count("<svg") == 1


def test_callaway_santanna_matches_the_did_package_vignette(mpdta: pd.DataFrame) -> None:
    # Callaway & Sant'Anna (2021); the R did package's "Getting Started" vignette on mpdta
    # (teen employment, minimum wage): ATT(2004,2004) -0.0105, ATT(2004,2006) -0.1373,
    # ATT(2007,2007) -0.0261; aggregations simple -0.0400, group -0.0310, dynamic -0.0772,
    # calendar -0.0417; pre-test of parallel trends p = 0.16812.
    r = staggered(mpdta, "lemp", "treated_now", "countyreal", "year")
    gt = {(row["cohort"], row["period"]): row["att"] for row in r.tables["group_time"]}
    assert gt[2004, 2004] == pytest.approx(-0.0105, abs=5e-5)
    assert gt[2004, 2006] == pytest.approx(-0.1373, abs=5e-5)
    assert gt[2007, 2007] == pytest.approx(-0.0261, abs=5e-5)
    assert r.estimate == pytest.approx(-0.0310, abs=5e-5)
    assert r.diagnostics["pretrend_wald_p"] == pytest.approx(0.16812, abs=5e-6)
    expected = {"simple": -0.0400, "dynamic": -0.0772, "calendar": -0.0417}
    for aggregation, value in expected.items():
        other = staggered(mpdta, "lemp", "treated_now", "countyreal", "year",
                          aggregation=aggregation)  # fmt: skip
        assert other.estimate == pytest.approx(value, abs=5e-5)


def test_did_intervals_cover_and_placebo_dates_reject_at_alpha() -> None:
    rng = np.random.default_rng(2026)
    draws = 1000
    covered = placebo = 0
    for _ in range(draws):
        r = did(simulated_panel(rng, units=40, periods=6), "y", "d", "u", "t", permutations=0)
        covered += r.ci_lower <= 1.0 <= r.ci_upper
        placebo += r.tables["placebo_dates"][-1]["p_value"] < 0.05
    assert abs(covered / draws - 0.95) <= 0.02
    assert abs(placebo / draws - 0.05) <= 0.02


def test_randomization_inference_rejects_at_alpha_under_no_effect() -> None:
    rng = np.random.default_rng(7)
    draws = 300
    rejected = sum(
        did(simulated_panel(rng, units=20, periods=4, tau=0.0), "y", "d", "u", "t",
            permutations=99, seed=i).diagnostics["randomization_p"] <= 0.05
        for i in range(draws)
    )  # fmt: skip
    assert abs(rejected / draws - 0.05) <= 0.03


def test_event_study_and_callaway_santanna_cover_dynamic_effects() -> None:
    rng = np.random.default_rng(11)
    draws = 1000
    es = cs = 0
    for _ in range(draws):
        frame = simulated_panel(rng, units=60, periods=6, starts=(2, 4))
        es += (r := event_study(frame, "y", "d", "u", "t")).ci_lower <= 1.0 <= r.ci_upper
        cs += (s := staggered(frame, "y", "d", "u", "t")).ci_lower <= 1.0 <= s.ci_upper
    assert abs(es / draws - 0.95) <= 0.02
    assert abs(cs / draws - 0.95) <= 0.02


def test_bad_panels_give_clear_errors_or_loud_warnings() -> None:
    rng = np.random.default_rng(5)
    frame = simulated_panel(rng, units=10, periods=6)
    with pytest.raises(DataError, match="once per period"):
        did(pd.concat([frame, frame.head(1)]), "y", "d", "u", "t", permutations=0)
    flipped = frame.copy()
    flipped.loc[(flipped["u"] == 0) & (flipped["t"] == 4), "d"] = 0
    with pytest.raises(DataError, match="switches off again") as info:
        did(flipped, "y", "d", "u", "t", permutations=0)
    assert "u=0" in str(info.value)
    with pytest.raises(DataError, match="constant"):
        did(frame.assign(d=0), "y", "d", "u", "t", permutations=0)
    gappy = frame[~((frame["u"] == 7) & (frame["t"] == 1))]
    r = did(gappy, "y", "d", "u", "t", permutations=0)
    assert any(w.startswith("unbalanced panel with gaps: 1 of 10") for w in r.warnings)
    always = frame.assign(d=np.where(frame["u"] == 0, 1, frame["d"]))
    r = did(always, "y", "d", "u", "t", permutations=0)
    assert any("treated from their first observed period" in w for w in r.warnings)
    with pytest.raises(DataError, match="'year'"):
        did(frame, "y", "d", "u", "year")
