"""Every causal estimator states its main effect as one ``Estimate`` (``result.effect``)
that its ``to_dict()`` numbers are read from; event studies' effects by period are
Estimates too, and the tables equal them. Placebo p-values are adjusted under the one key
``p_adjusted`` with the method named under ``correction``, equal to statsmodels'
``multipletests`` (holm) to 1e-12."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from sds.causal import aipw, did, event_study, ipw, iv, psm, rdd, staggered
from sds.causal.refute import with_placebo_outcomes
from sds.causal.result import CausalResult
from sds.stats.estimate import Estimate

KEYS = ("estimate", "std_error", "ci_lower", "ci_upper", "p_value")


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, rel=1e-12, abs=0)


def observational(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(0.5 * x1 - 0.4 * x2)))).astype(int)
    y = 2.0 * t + x1 + 0.5 * x2 + rng.normal(size=n)
    z = rng.normal(size=n)
    d = (0.8 * z + x1 + rng.normal(size=n) > 0).astype(int)
    y_iv = 1.5 * d + x1 + rng.normal(size=n)
    return pd.DataFrame({"y": y, "t": t, "x1": x1, "x2": x2, "z": z, "d": d, "y_iv": y_iv})


def panel(seed: int = 4, units: int = 40, periods: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(periods), units)
    start = np.where(np.arange(units) < units // 2, rng.choice([2, 4], units), 10**6)[u]
    d = (t >= start).astype(int)
    y = rng.normal(size=units)[u] + rng.normal(size=periods)[t] + d + rng.normal(size=len(u))
    return pd.DataFrame({"u": u, "t": t, "d": d, "y": y})


def discontinuity(n: int = 1500, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    y = 0.5 * x + 1.0 * (x >= 0) + rng.normal(scale=0.3, size=n)
    return pd.DataFrame({"x": x, "y": y})


def results() -> dict[str, CausalResult]:
    obs, pnl = observational(), panel()
    covs = ["x1", "x2"]
    return {
        "psm": psm(obs, "y", "t", covs),
        "ipw": ipw(obs, "y", "t", covs),
        "aipw": aipw(obs, "y", "t", covs),
        "did": did(pnl, "y", "d", "u", "t"),
        "event-study": event_study(pnl, "y", "d", "u", "t"),
        "staggered": staggered(pnl, "y", "d", "u", "t"),
        "rdd": rdd(discontinuity(), "y", "x", 0.0),
        "iv": iv(obs, "y_iv", "d", ["z"], covariates=["x1"]),
    }


@pytest.fixture(scope="module")
def fitted() -> dict[str, CausalResult]:
    return results()


CONTRASTS = {
    "psm": "treated - control",
    "ipw": "treated - control",
    "aipw": "treated - control",
    "did": "treated - control",
    "event-study": "treated - control",
    "staggered": "treated - control",
    "rdd": "above cutoff - below cutoff",
    "iv": "treated - control (compliers)",
}


@pytest.mark.parametrize("name", list(CONTRASTS))
def test_effect_is_an_estimate_that_to_dict_reads(
    fitted: dict[str, CausalResult], name: str
) -> None:
    r = fitted[name]
    e = r.effect
    assert isinstance(e, Estimate)
    d = json.loads(r.to_json())
    for key in KEYS:
        assert _same(d[key], getattr(e, key)), key
        value = getattr(r, key)
        assert (math.isnan(value) and getattr(e, key) is None) or value == getattr(e, key)
    assert d["confidence"] == e.level == r.confidence == 0.95
    assert d["method"] == e.method == r.method
    assert d["contrast"] == e.contrast == CONTRASTS[name]
    assert e.ci_lower is not None and e.ci_upper is not None and e.estimate is not None
    assert e.ci_lower < e.estimate < e.ci_upper
    assert Estimate.from_dict(e.to_dict()) == e


@pytest.mark.parametrize("name", ["event-study", "staggered"])
def test_effects_by_period_are_estimates_the_table_is_written_from(
    fitted: dict[str, CausalResult], name: str
) -> None:
    r = fitted[name]
    table = json.loads(r.to_json())["tables"]["event_study"]
    assert len(r.period_effects) == len(table) >= 3
    for (period, effect), row in zip(r.period_effects, table, strict=True):
        assert isinstance(effect, Estimate) and row["relative_period"] == period
        assert all(_same(row[k], getattr(effect, k)) for k in KEYS)
        assert effect.contrast == "treated - control" and effect.level == 0.95


def test_event_study_average_uses_the_cluster_df(fitted: dict[str, CausalResult]) -> None:
    r = fitted["event-study"]
    assert r.effect.df == r.n["clusters"] - 1


def _check_adjusted(rows: list[dict[str, Any]]) -> None:
    expected = multipletests([row["p_value"] for row in rows], method="holm")[1]
    for row, p in zip(rows, expected, strict=True):
        assert row["correction"] == "holm" and "p_holm" not in row
        assert row["p_adjusted"] == pytest.approx(p, rel=1e-12)


def test_placebo_tables_carry_p_adjusted_and_the_correction(
    fitted: dict[str, CausalResult],
) -> None:
    _check_adjusted(fitted["did"].to_dict()["tables"]["placebo_dates"])
    _check_adjusted(fitted["rdd"].to_dict()["tables"]["placebo_cutoffs"])
    obs = observational()
    refuted = with_placebo_outcomes(
        fitted["ipw"], ipw, obs, ["z", "y_iv"], treatment="t", covariates=["x1", "x2"]
    )
    _check_adjusted(refuted.to_dict()["tables"]["placebo_outcomes"])
