"""Novelty check, cumulative effect and daily SRM.

References: the daily effects by day since exposure equal a pandas computation by hand
(exposed cohorts, zero for units without events that day) with ``scipy.stats.ttest_ind``
(Welch) to 1e-9; the trend slope equals ``numpy.polyfit`` with weights 1/se; under no trend
the test rejects at its level (2,000 simulated series); the daily SRM p-values equal
``scipy.stats.chisquare``. The event generator's planted novelty is found and its pooled
lift is covered.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sds.data import synth
from sds.experiments.analysis.novelty import trend
from sds.experiments.analysis.run import analyze
from sds.experiments.analysis.timeline_records import NoveltyDay
from tests.conftest import invoke

TOL = 1e-9
REVENUE = [{"name": "revenue", "type": "mean", "column": "revenue"}]


def _events(seed: int = 0, users: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        arm = "treatment" if rng.random() < 0.5 else "control"
        first = int(rng.integers(0, 6))
        days = sorted({first, *rng.integers(first, 9, int(rng.integers(0, 5))).tolist()})
        for d in days:
            stamp = pd.Timestamp("2026-05-01") + pd.Timedelta(days=d, hours=int(rng.integers(24)))
            rows.append(
                (u, arm, stamp, float(rng.gamma(2.0, 5.0)) * (1.2 if arm == "treatment" else 1))
            )
    return pd.DataFrame(rows, columns=["u", "v", "ts", "revenue"])


def _by_hand(df: pd.DataFrame) -> dict[int, tuple[float, float, int, int]]:
    """Per day since exposure: Welch effect, its se, and each arm's exposed units."""
    day = df["ts"].dt.floor("D")
    first = day.groupby(df["u"]).transform("min")
    k = (day - first).dt.days
    per = df.assign(k=k).groupby(["u", "k"])["revenue"].sum()
    users = df.groupby("u").agg(v=("v", "first"), first=("ts", "min"))
    users["first"] = users["first"].dt.floor("D")
    last = day.max()
    out = {}
    for kk in range(int(k.max()) + 1):
        exposed = users[(last - users["first"]).dt.days >= kk]
        values = per.xs(kk, level="k").reindex(exposed.index, fill_value=0.0)
        c, t = values[exposed["v"] == "control"], values[exposed["v"] == "treatment"]
        welch = stats.ttest_ind(t, c, equal_var=False)
        se = float(np.sqrt(t.var() / len(t) + c.var() / len(c)))
        out[kk] = (float(t.mean() - c.mean()), se, len(c), len(t), float(welch.pvalue))
    return out


def test_daily_effects_by_day_since_exposure_match_a_hand_computation() -> None:
    df = _events()
    spec = {"unit": "u", "variant": "v", "control": "control", "date": "ts", "metrics": REVENUE}
    nov = analyze(spec, df).to_dict()["novelty"]
    assert nov["basis"] == "days since exposure"
    rows = nov["arms"]["treatment"]["days"]
    ref = _by_hand(df)
    assert [r["day"] for r in rows] == sorted(ref)
    for r in rows:
        effect, se, nc, nt, _ = ref[r["day"]]
        assert (r["n_control"], r["n_treatment"]) == (nc, nt)
        assert r["effect"] == pytest.approx(effect, rel=TOL, abs=TOL)
        assert r["std_error"] == pytest.approx(se, rel=TOL)


def _day(k: int, effect: float, se: float) -> NoveltyDay:
    return NoveltyDay(k, 100, 100, effect, None, None, se)


def test_trend_slope_equals_weighted_polyfit() -> None:
    rng = np.random.default_rng(3)
    se = rng.uniform(0.5, 2.0, 12)
    rows = [_day(k, 3.0 - 0.2 * k + rng.normal(0, s), s) for k, s in enumerate(se)]
    ours = trend(rows, alpha=0.05)
    slope, _ = np.polyfit(np.arange(12.0), [r.effect for r in rows], 1, w=1 / se)
    assert ours.slope == pytest.approx(slope, rel=TOL)
    assert trend(rows[:2], alpha=0.05).slope is None


@pytest.mark.parametrize(("days", "seed"), [(3, 1), (5, 2), (12, 3), (30, 4)])
def test_trend_equals_statsmodels_wls(days: int, seed: int) -> None:
    from statsmodels.regression.linear_model import WLS

    rng = np.random.default_rng(seed)
    se = rng.uniform(0.001, 0.02, days)
    rows = [_day(k, 0.03 - 0.001 * k + rng.normal(0, s), s) for k, s in enumerate(se)]
    ours = trend(rows, alpha=0.05)
    x = np.arange(float(days))
    fit = WLS([r.effect for r in rows], np.column_stack([np.ones(days), x]), weights=se**-2).fit()
    assert ours.slope == pytest.approx(fit.params[1], rel=1e-12)
    assert ours.slope_se == pytest.approx(fit.bse[1], rel=1e-12)
    assert ours.p_value == pytest.approx(fit.pvalues[1], rel=1e-12)


def test_trend_test_rejects_at_its_level_when_the_effect_is_flat() -> None:
    rng = np.random.default_rng(5)
    rejected = 0
    for _ in range(2000):
        se = rng.uniform(0.5, 3.0, 14)
        rows = [_day(k, 1.0 + rng.normal(0, s), s) for k, s in enumerate(se)]
        rejected += (trend(rows, alpha=0.05).p_value or 1.0) < 0.05
    assert abs(rejected / 2000 - 0.05) <= 0.01, rejected / 2000


EVENT_SPEC = {
    "unit": "user_id",
    "variant": "variant",
    "control": "control",
    "date": "ts",
    "metrics": [
        {
            "name": "orders_per_session",
            "type": "ratio",
            "numerator": "orders",
            "denominator": "sessions",
        }
    ],
}


def test_planted_novelty_is_found_and_the_pooled_lift_covered() -> None:
    params = synth.ABEventsParams(n_users=30_000)
    df = synth.make_ab_events(30_000, seed=8)
    result = analyze(EVENT_SPEC, df)
    effect = result.effect("orders_per_session")
    assert effect.rel_ci_lower < params.pooled_lift < effect.rel_ci_upper
    arm = result.to_dict()["novelty"]["arms"]["treatment"]
    assert arm["pattern"].startswith("novelty") and arm["slope"] < 0
    assert any(r.startswith("caution: novelty") for r in result.reasons)


def test_no_planted_novelty_no_flag() -> None:
    df = synth.make_ab_events(30_000, seed=10, novelty_lift=0.0)
    arm = analyze(EVENT_SPEC, df).to_dict()["novelty"]["arms"]["treatment"]
    assert arm["pattern"].startswith("stable"), arm


def test_unit_level_data_is_checked_by_assignment_cohort_and_no_date_is_said() -> None:
    df = synth.make_ab_test(5000, seed=1)
    spec = {"unit": "user_id", "variant": "variant", "control": "control", "metrics": REVENUE}
    with_date = analyze({**spec, "date": "assigned_at"}, df).to_dict()["novelty"]
    assert with_date["basis"].startswith("assignment-day cohort")
    assert len(with_date["arms"]["treatment"]["days"]) == 14
    without = analyze(spec, df).to_dict()["novelty"]
    assert without == {"checked": False, "reason": "the spec names no date column"}


def test_daily_srm_counts_and_p_values() -> None:
    df = synth.make_ab_test(8000, seed=2)
    spec = {
        "unit": "user_id",
        "variant": "variant",
        "control": "control",
        "variants": ["control", "treatment"],
        "split": [0.5, 0.5],
        "date": "assigned_at",
        "metrics": REVENUE,
    }
    rows = analyze(spec, df).to_dict()["daily_srm"]
    day = df["assigned_at"].dt.floor("D").dt.strftime("%Y-%m-%d")
    counts = pd.crosstab(day, df["variant"])
    assert sum(r["units"] for r in rows) == len(df)
    for r in rows:
        c = counts.loc[str(r["date"])[:10]]
        assert (r["n_control"], r["n_treatment"]) == (c["control"], c["treatment"])
        ref = stats.chisquare([c["control"], c["treatment"]])
        assert r["p_value"] == pytest.approx(float(ref.pvalue), rel=TOL)
        assert r["share_gap_treatment"] == pytest.approx(c["treatment"] / c.sum() - 0.5, abs=TOL)


def test_html_report_shows_the_checks(tmp_path: Path) -> None:
    data = tmp_path / "events.parquet"
    synth.make_ab_events(8000, seed=4, mislabel_share=0.2).to_parquet(data)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "data: events.parquet\nunit: user_id\nvariant: variant\ncontrol: control\ndate: ts\n"
        "segments: [platform]\nmetrics:\n"
        "  - {name: ops, type: ratio, numerator: orders, denominator: sessions}\n"
    )
    html = tmp_path / "report.html"
    assert invoke(["analyze", str(spec), "-o", str(html)]).exit_code == 0
    text = html.read_text()
    for title in (
        "Segment mix: platform",
        "Effects by platform",
        "Novelty check: ops by days since exposure",
        "Cumulative effect of the primary metric",
        "Daily sample ratio",
    ):
        assert title in text, title
    assert text.count("<svg") >= 4
