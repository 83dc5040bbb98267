"""The SRM ``flag`` follows the chi-square p-value alone; the 1% share rule is its own field.

References: p-values from ``scipy.stats.chisquare``; under correct randomisation (2,000
seeded 4,000-unit 50/50 experiments) the flag fires at about the threshold rate while the
1% share rule fires for about half of them (P(|share - 0.5| > 0.005) at n = 4,000 is 0.53).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sds.data.io import open_table
from sds.experiments.analysis.run import analyze
from sds.experiments.srm import srm_by_day, srm_test
from tests.conftest import invoke


def test_52_vs_48_is_not_flagged_but_the_share_rule_is_reported() -> None:
    d = srm_test([52, 48]).to_dict()
    assert d["p_value"] == pytest.approx(float(stats.chisquare([52, 48]).pvalue), rel=1e-12)
    assert not d["flag"]
    assert d["share_deviation_over_tolerance"] and d["max_share_deviation"] == pytest.approx(0.04)
    assert "can be noise" in d["note"]


@pytest.mark.parametrize(
    ("counts", "alpha"),
    [([5_300, 4_700], 0.001), ([1_080, 920], 0.001), ([1_080, 920], 0.0001), ([530, 470], 0.1)],
)
def test_flag_is_p_below_alpha(counts: list[int], alpha: float) -> None:
    p = float(stats.chisquare(counts).pvalue)
    d = srm_test(counts, alpha=alpha).to_dict()
    assert d["p_value"] == pytest.approx(p, rel=1e-12)
    assert d["flag"] is (p < alpha)
    assert d["share_deviation_over_tolerance"]  # every case is > 1% off its share


def test_flag_true_for_a_split_with_small_p() -> None:
    counts = [5_300, 4_700]
    assert float(stats.chisquare(counts).pvalue) < 0.001
    assert srm_test(counts).flag


def test_correct_randomisation_flags_at_the_threshold_rate() -> None:
    rng = np.random.default_rng(20260501)
    treated = rng.binomial(4_000, 0.5, size=2_000)
    results = [srm_test([4_000 - int(t), int(t)], [0.5, 0.5]) for t in treated]
    flag_rate = np.mean([r.flag for r in results])
    share_rate = np.mean([r.share_deviation_over_tolerance for r in results])
    assert flag_rate <= 0.005  # alpha 0.001
    assert 0.45 < share_rate < 0.62  # the 1% rule, reported separately, fires half the time
    loose = [srm_test([4_000 - int(t), int(t)], alpha=0.05).flag for t in treated]
    assert 0.035 < np.mean(loose) < 0.065


def test_cli_counts_52_48_not_flagged() -> None:
    res = invoke(["srm", "--counts", "52,48", "-f", "json"])
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["flag"] is False and d["share_deviation_over_tolerance"] is True
    assert "does not set flag" in d["share_rule"] and "chi-square p < 0.001" in d["flag_rule"]
    text = invoke(["srm", "--counts", "52,48"])
    assert text.exit_code == 0, text.stderr
    assert "share_deviation_over_tolerance" in text.stdout and "flag: no" in text.stdout


def test_html_shows_both_fields_with_their_meaning() -> None:
    html = srm_test([52, 48]).to_html()
    for needle in (
        "share_deviation_over_tolerance",
        "does not set flag",
        "chi-square p &lt; 0.001",
    ):
        assert needle in html


def _units(control: int, treatment: int) -> pd.DataFrame:
    n = control + treatment
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "user_id": np.arange(n),
            "variant": ["control"] * control + ["treatment"] * treatment,
            "assigned_at": pd.Timestamp("2026-05-01") + pd.to_timedelta(np.arange(n) % 4, "D"),
            "revenue": rng.gamma(2.0, 5.0, n),
        }
    )


def test_daily_check_reports_both() -> None:
    d = srm_by_day(open_table(_units(52, 48)), "variant", "assigned_at", ["control", "treatment"])
    out = d.to_dict()
    assert not out["flag"] and out["share_deviation_over_tolerance"]
    assert out["first_flagged_day"] is None
    for row in out["daily"]:
        assert not row["flag_day"] and not row["flag_cumulative"]
        assert row["share_deviation_over_tolerance_day"] is (row["max_share_deviation_day"] > 0.01)
    assert "share_deviation_over_tolerance_day" in d.to_text()


def test_analysis_srm_section_and_daily_check() -> None:
    spec = {
        "unit": "user_id",
        "variant": "variant",
        "control": "control",
        "variants": ["control", "treatment"],
        "split": [0.5, 0.5],
        "date": "assigned_at",
        "metrics": [{"name": "revenue", "type": "mean", "column": "revenue"}],
    }
    result = analyze(spec, _units(52, 48))
    d = result.to_dict()
    assert not d["srm"]["flag"] and d["srm"]["share_deviation_over_tolerance"]
    assert d["verdict"] != "invalid experiment"
    assert any("can be noise" in w for w in d["warnings"])
    for row in d["daily_srm"]:
        p = float(stats.chisquare([row["n_control"], row["n_treatment"]]).pvalue)
        assert row["flag"] is (p < 0.001)
        gap = abs(row["share_gap_treatment"]) / 0.5
        assert row["max_share_deviation"] == pytest.approx(gap, rel=1e-12)
        assert row["share_deviation_over_tolerance"] is (gap > 0.01)
    assert "share_deviation_over_tolerance" in result.to_text()
    flagged = analyze(spec, _units(300, 200)).to_dict()
    assert float(stats.chisquare([300, 200]).pvalue) < 0.001 and flagged["srm"]["flag"]
