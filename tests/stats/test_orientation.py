"""Which way round: Kendall's interval, the event and groups of odds/risk ratios, and
normality per group.

References:
- Kendall's tau: the population tau of a bivariate normal is ``2 / pi * asin(rho)``
  (Kruskal 1958); the interval is Fisher's z with ``SE = sqrt(0.437 / (n - 4))``
  (Fieller, Hartley & Pearson 1957). Checked by a seeded coverage simulation.
- Odds and risk ratios: statsmodels ``statsmodels.stats.contingency_tables.Table2x2`` on the
  table with the event in column 1 and the numerator group in row 1, as it expects; Fisher's
  conditional odds ratio: ``scipy.stats.contingency.odds_ratio(kind="conditional")``.
- Normality per group: ``scipy.stats.shapiro`` on each group; Holm: statsmodels
  ``multipletests(method="holm")``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import odds_ratio
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.multitest import multipletests

from sds.errors import DataError, ParameterError
from sds.stats.correlation import correlation
from sds.stats.runner import StatsSpec, run
from tests.conftest import invoke

TOL = 1e-10  # same formulas as the references: only rounding differs


def test_kendall_interval_covers_population_tau() -> None:
    rng = np.random.default_rng(0)
    rho, n, runs = 0.5, 50, 1000
    tau = 2 / math.pi * math.asin(rho)
    hits = 0
    for _ in range(runs):
        x = rng.normal(size=n)
        y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=n)
        res = correlation(x, y, method="kendall")
        assert res.ci_lower is not None and res.ci_upper is not None
        hits += res.ci_lower <= tau <= res.ci_upper
    # nominal 95% +- 1.5 points (Monte Carlo SE of 1000 draws: 0.7 points); the Pearson SE
    # 1/sqrt(n - 3) used before covered about 99.6%
    assert 0.935 <= hits / runs <= 0.965


def test_kendall_interval_formula() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=40), rng.normal(size=40)
    res = correlation(x, y, method="kendall", confidence=0.9)
    centre, half = math.atanh(res.statistic), stats.norm.ppf(0.95) * math.sqrt(0.437 / 36)
    assert (res.ci_lower, res.ci_upper) == pytest.approx(
        (math.tanh(centre - half), math.tanh(centre + half)), rel=TOL
    )
    tiny = correlation([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0], method="kendall")
    assert (tiny.ci_lower, tiny.ci_upper) == (-1.0, 1.0)


# "new" is the treatment, "old" the control (control="old", --control old: neither is named
# like a control, and the first level in sorted order, "new", would be taken otherwise): the
# ratios are treatment over control, as ttest and ztest report mean(new) - mean(old),
# p(new) - p(old).
EVENTS = {"new": 24, "old": 12}
SIZES = {"new": 60, "old": 70}


def _data(event: object, other: object) -> pd.DataFrame:
    rows = []
    for group, k in EVENTS.items():
        rows += [(group, event)] * k + [(group, other)] * (SIZES[group] - k)
    return pd.DataFrame(rows, columns=["arm", "outcome"])


def _reference(first: str = "new", second: str = "old") -> Table2x2:
    table = [[EVENTS[g], SIZES[g] - EVENTS[g]] for g in (first, second)]
    return Table2x2(np.asarray(table, dtype=float))


ENCODINGS = {"0/1": (1, 0), "no/yes": ("yes", "no"), "False/True": (True, False), "1.0": (1.0, 0.0)}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("test", ["chi2", "fisher", "ztest"])
def test_ratios_are_of_the_event_in_the_first_group(encoding: str, test: str) -> None:
    event, other = ENCODINGS[encoding]
    res = run(
        _data(event, other), StatsSpec(test=test, value="outcome", group="arm", control="old")
    )
    d = res.to_dict()
    ref = _reference()
    ratios = {
        e["name"]: (e["value"], e["ci_lower"], e["ci_upper"]) for e in d["other_effect_sizes"]
    }
    assert ratios["odds_ratio"] == pytest.approx((ref.oddsratio, *ref.oddsratio_confint()), rel=TOL)
    assert ratios["risk_ratio"] == pytest.approx((ref.riskratio, *ref.riskratio_confint()), rel=TOL)
    assert ratios["odds_ratio"][0] == pytest.approx((24 / 36) / (12 / 58), rel=TOL)  # by hand
    labels = {k: d["assumptions"][k] for k in ("event_level", "ratio_numerator")}
    assert labels == {"event_level": str(event), "ratio_numerator": "new"}
    assert d["assumptions"]["ratio_denominator"] == "old"
    assert not any("not recognised" in w for w in d["warnings"])
    if test == "fisher":
        cond = odds_ratio(ref.table.astype(int), kind="conditional")
        assert d["estimate"] == pytest.approx(cond.statistic, rel=1e-8)
        assert d["estimate_name"] == f"odds ratio (conditional MLE) of {event}, new vs old"
    if test == "ztest":
        assert d["estimate"] == pytest.approx(24 / 60 - 12 / 70, rel=TOL)
        assert d["estimate_name"] == "p(new) - p(old)"


@pytest.mark.parametrize("test", ["chi2", "fisher", "ztest"])
def test_explicit_event_turns_the_ratios(test: str) -> None:
    spec = StatsSpec(test=test, value="outcome", group="arm", event="no", control="old")
    d = run(_data("yes", "no"), spec).to_dict()
    table = [[SIZES[g] - EVENTS[g], EVENTS[g]] for g in ("new", "old")]
    ref = Table2x2(np.asarray(table, dtype=float))  # "no" in column 1
    ratios = {e["name"]: e["value"] for e in d["other_effect_sizes"]}
    assert ratios == pytest.approx({"odds_ratio": ref.oddsratio, "risk_ratio": ref.riskratio})
    assert d["assumptions"]["event_level"] == "no"


def test_unknown_levels_are_guessed_with_a_note_or_refused() -> None:
    df = _data("b", "a")
    d = run(df, StatsSpec(test="chi2", value="outcome", group="arm", control="old")).to_dict()
    assert d["assumptions"]["event_level"] == "b"
    assert any("not recognised" in w and "--event" in w for w in d["warnings"])
    with pytest.raises(DataError, match="--event"):
        run(df, StatsSpec(test="ztest", value="outcome", group="arm"))
    spec = StatsSpec(test="ztest", value="outcome", group="arm", event="a", control="old")
    res = run(df, spec).to_dict()
    assert res["estimate"] == pytest.approx(36 / 60 - 58 / 70, rel=TOL)
    with pytest.raises(ParameterError, match="event == 'maybe' is not a level"):
        run(df, StatsSpec(test="chi2", value="outcome", group="arm", event="maybe"))
    numeric = pd.DataFrame({"arm": ["new", "old"] * 4, "outcome": [0, 1, 2, 1, 0, 2, 1, 0]})
    with pytest.raises(DataError, match="0/1"):
        run(numeric, StatsSpec(test="ztest", value="outcome", group="arm"))


def test_cli_event_option(tmp_path: Path) -> None:
    path = tmp_path / "trial.csv"
    _data("yes", "no").to_csv(path, index=False)
    args = ["stats", "chi2", "--data", str(path), "--value", "outcome", "--group", "arm"]
    args += ["--control", "old"]
    for extra, event_first in (([], True), (["--event", "no"], False)):
        res = invoke([*args, *extra, "-f", "json"])
        assert res.exit_code == 0, res.stderr
        d = json.loads(res.stdout)
        # the CSV reader reads no/yes as booleans: the event is labelled True / False
        assert d["assumptions"]["event_level"] == str(event_first)
        ref = _reference() if event_first else Table2x2(_reference().table[:, ::-1])
        odds = next(e["value"] for e in d["other_effect_sizes"] if e["name"] == "odds_ratio")
        assert odds == pytest.approx(ref.oddsratio, rel=TOL)


def test_normality_per_group_against_scipy() -> None:
    rng = np.random.default_rng(8)
    parts = {"a": rng.normal(size=25), "b": rng.exponential(size=40), "c": rng.normal(size=15)}
    df = pd.concat(pd.DataFrame({"g": k, "v": v}) for k, v in parts.items())
    d = run(df, StatsSpec(test="shapiro", value="v", group="g")).to_dict()
    rows = {r["level"]: r for r in d["rows"]}
    assert list(rows) == ["a", "b", "c"]
    ref = {k: stats.shapiro(v) for k, v in parts.items()}
    for k, r in rows.items():
        assert (r["statistic"], r["p_value"]) == pytest.approx(tuple(ref[k]), rel=TOL)
        assert r["n"] == len(parts[k])
    holm = multipletests([ref[k].pvalue for k in rows], method="holm")[1]
    assert [r["p_adjusted"] for r in rows.values()] == pytest.approx(list(holm), rel=TOL)
    assert "within each level of 'g' separately" in d["warnings"][0]
    pooled = stats.shapiro(np.concatenate(list(parts.values()))).pvalue
    assert all(r["p_value"] != pooled for r in rows.values())
    with pytest.raises(ParameterError, match="--group or --by"):
        run(df.assign(s=1), StatsSpec(test="shapiro", value="v", group="g", by="s"))
