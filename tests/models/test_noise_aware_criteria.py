"""Noise-aware scorecard criteria: each criterion's estimate with its interval, decided on
the interval (fail wholly outside, pass wholly inside, else not enough data), the seed's
plain rule beside it.

References: each decile's Wilson interval, the Newcombe and Wald intervals of a fairness
difference and the Katz interval of the selection-rate ratio equal statsmodels and a
formula written out here to 1e-10; the scorecard's AUC interval equals a brute-force DeLong
standard error (the m x n comparison matrix) times the one-sided normal quantile to 1e-10;
Brier's interval equals scipy's t interval.

Seeded simulations through the functions the evaluation calls (``calibration`` and
``fairness_criteria``); rates measured when written, with the binomial standard error
sqrt(r (1 - r) / reps) in brackets:

- perfectly calibrated (y ~ Bernoulli(p), p = expit(N(-1.5, 1)), a churn-like spread),
  1,000 reps: at 1,000 test rows fail 2.8% [0.5], not enough data 97.2%, pass 0 (a 90%
  Wilson interval of a 100-row decile near p = 0.4 is wider than the 10-point band); the
  seed's plain rule fails 89.6%. At 3,000 rows fail 0.2% [0.1], not enough data 99.8%
  (plain rule 27.5%). (With p uniform on 0.05-0.95, the worst spread, fail was 4.6% at
  1,000 rows: ten deciles each tested at a one-sided 5%.)
- miscalibrated by +10 points in deciles 4-6, 3,000 rows, 400 reps: fail 95.8% [1.0];
- fair model (no difference; one group 5% of the rows; selection rate 0.3), 400 reps: any
  of the three criteria fails 1.8% [0.7] at 1,000 rows (plain rules 56.5%) and 0.8% [0.4]
  at 3,000 rows (plain rules 21.5%);
- a 0.2 demographic-parity gap (selection 0.3 vs 0.5), 3,000 rows, 400 reps: with a 10%
  group the parity criterion fails 96.8% [0.9]; with a 5% group (150 rows) it fails 77.0%
  [2.1], below 80% at a 90% interval, while the column's three criteria together fail
  91.0% [1.4] (the ratio and equalized odds see the gap too).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from sds.data.synth import make_churn
from sds.models.calibration import calibration
from sds.models.config import ScorecardConfig
from sds.models.fairness import fairness, fairness_criteria
from sds.models.metrics import binary_metrics
from sds.models.records import Criterion
from sds.models.run import train_model
from sds.models.scorecard import scorecard, undecided_warnings
from sds.models.verdict import decide, rows_needed
from tests.conftest import invoke

Z90 = stats.norm.isf(0.05)


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def _delong_se(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return math.sqrt(
        np.var(psi.mean(axis=1), ddof=1) / len(pos) + np.var(psi.mean(0), ddof=1) / len(neg)
    )


# --- reference checks ----------------------------------------------------------------------


def test_decile_intervals_are_wilson_and_brier_is_a_t_interval() -> None:
    rng = np.random.default_rng(0)
    p = expit(rng.normal(-1.5, 1, 2000))
    y = (rng.random(2000) < p).astype(int)
    cal = calibration(y, p, alpha=0.05)
    edges = np.percentile(p, np.linspace(0, 100, 11))
    bins = np.searchsorted(edges[1:-1], p)
    for d in cal["deciles"]:
        inside = bins == d["bin"] - 1
        x, n, predicted = int(y[inside].sum()), int(inside.sum()), p[inside].mean()
        low, high = _wilson(x, n, Z90)
        sm_low, sm_high = proportion_confint(x, n, alpha=0.10, method="wilson")
        assert d["gap_ci_lower"] == pytest.approx(low - predicted, abs=1e-10)
        assert d["gap_ci_upper"] == pytest.approx(high - predicted, abs=1e-10)
        assert d["gap_ci_lower"] == pytest.approx(sm_low - predicted, abs=1e-10)
        assert d["gap_ci_upper"] == pytest.approx(sm_high - predicted, abs=1e-10)
        assert d["verdict"] == decide(low - predicted, high - predicted, -0.05, 0.05)
    squared = (p - y) ** 2
    t_low, t_high = stats.t.interval(0.90, len(p) - 1, squared.mean(), stats.sem(squared))
    assert cal["brier_ci_lower"] == pytest.approx(t_low, abs=1e-12)
    assert cal["brier_ci_upper"] == pytest.approx(t_high, abs=1e-12)


def _newcombe(x1: int, n1: int, x2: int, n2: int, z: float) -> tuple[float, float]:
    (l1, u1), (l2, u2) = _wilson(x1, n1, z), _wilson(x2, n2, z)
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def _groups(counts: dict[str, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with, per group, (selected, rows); the outcome equals the decision."""
    decided, group = [], []
    for g, (x, n) in counts.items():
        decided += [1] * x + [0] * (n - x)
        group += [g] * n
    d = np.array(decided)
    return d, d, np.array(group)


def test_fairness_intervals_are_newcombe_wald_and_katz() -> None:
    # small counts (3 of 40 selected): Newcombe's hybrid score interval
    y, decided, group = _groups({"a": (30, 200), "b": (3, 40)})
    parity, _, ratio = fairness_criteria(y, decided, group, "g")
    low, high = _newcombe(30, 200, 3, 40, Z90)
    sm = confint_proportions_2indep(30, 200, 3, 40, method="newcomb", compare="diff", alpha=0.1)
    assert parity.value == pytest.approx(30 / 200 - 3 / 40, abs=1e-15)
    assert (parity.ci_lower, parity.ci_upper) == pytest.approx((low, high), abs=1e-10)
    assert (parity.ci_lower, parity.ci_upper) == pytest.approx(sm, abs=1e-10)
    # the ratio: lowest over highest rate, Katz log interval
    r = (3 / 40) / (30 / 200)
    se = math.sqrt(1 / 3 - 1 / 40 + 1 / 30 - 1 / 200)
    katz = (r * math.exp(-Z90 * se), r * math.exp(Z90 * se))
    sm_ratio = confint_proportions_2indep(3, 40, 30, 200, method="log", compare="ratio", alpha=0.1)
    assert ratio.value == pytest.approx(r, rel=1e-12)
    assert (ratio.ci_lower, ratio.ci_upper) == pytest.approx(katz, abs=1e-10)
    assert (ratio.ci_lower, ratio.ci_upper) == pytest.approx(sm_ratio, abs=1e-10)
    # larger counts: the unpooled Wald interval; three groups: the highest and lowest rates
    y, decided, group = _groups({"a": (120, 400), "b": (60, 300), "c": (90, 250)})
    parity = fairness_criteria(y, decided, group, "g")[0]
    d = 90 / 250 - 60 / 300
    half = Z90 * math.sqrt(0.36 * 0.64 / 250 + 0.2 * 0.8 / 300)
    assert (parity.ci_lower, parity.ci_upper) == pytest.approx((d - half, d + half), abs=1e-10)
    assert parity.verdict == "not enough data" and parity.plain_rule == "fail"  # 0.16 > 0.10


def test_auc_and_gap_intervals_equal_brute_force_delong() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(600) < 0.3).astype(int)
    s = np.round(expit(y * 1.4 + rng.normal(size=600) - 1), 2)  # probabilities, with ties
    metrics = binary_metrics(y, s, 0.5)
    auc, se = metrics["auc"], _delong_se(y, s)
    ev = {"task": "binary", "rows": 600, "metrics": metrics}
    ev["gap"] = {"train": 0.9, "test": auc, "relative_gap": (0.9 - auc) / 0.9}
    card = {r["criterion"]: r for r in scorecard(ev, ScorecardConfig(auc_min=0.80))}
    row = card["AUC-ROC"]
    assert (row["ci_lower"], row["ci_upper"]) == pytest.approx(
        (auc - Z90 * se, auc + Z90 * se), abs=1e-10
    )
    gap = card["train-test gap (relative)"]
    expected = ((0.9 - auc - Z90 * se) / 0.9, (0.9 - auc + Z90 * se) / 0.9)
    assert (gap["ci_lower"], gap["ci_upper"]) == pytest.approx(expected, abs=1e-10)
    for r in (row, gap):
        assert r["verdict"] == decide(r["ci_lower"], r["ci_upper"], *_region(r))
        assert r["pass"] is (r["verdict"] != "fail")
    # a looser alpha: a narrower interval (one-sided 0.2: the 60% interval)
    wide = scorecard(ev, ScorecardConfig(auc_min=0.80, alpha=0.2))[0]
    z = stats.norm.isf(0.2)
    assert wide["ci_upper"] - wide["ci_lower"] == pytest.approx(2 * z * se, abs=1e-10)


def _region(row: dict[str, Any]) -> tuple[float | None, float | None]:
    bound = float(row["threshold"].split()[-1])
    return (bound, None) if row["threshold"].startswith(">") else (None, bound)


def test_rows_needed_makes_the_interval_decisive() -> None:
    """A Wald interval of a proportion judged against 0.5: at the rows it names (same
    estimate) the interval just clears the boundary; at 10% fewer it does not."""
    x, n, boundary = 140, 300, 0.5
    p = x / n

    def interval(rows: float) -> tuple[float, float]:
        half = Z90 * math.sqrt(p * (1 - p) / rows)
        return p - half, p + half

    low, high = interval(n)
    assert decide(low, high, None, boundary) == "not enough data"
    needed = rows_needed(p, low, high, n, None, boundary)
    assert needed is not None and needed > n
    assert decide(*interval(needed), None, boundary) == "pass"
    assert decide(*interval(0.9 * needed), None, boundary) == "not enough data"
    assert rows_needed(0.5, 0.4, 0.6, n, None, 0.5) is None  # on the boundary: never decided
    # a band: the boundary needing most rows decides
    assert rows_needed(0.02, -0.05, 0.09, 100, -0.05, 0.05) == math.ceil(100 * (0.07 / 0.03) ** 2)


def test_fairness_without_a_comparison_is_not_enough_data() -> None:
    # group b selects nobody: the difference decides, the ratio has no interval
    y, decided, group = _groups({"a": (150, 300), "b": (0, 200)})
    parity, _, ratio = fairness_criteria(y, decided, group, "g")
    assert parity.verdict == "fail" and parity.ci_lower is not None and parity.ci_lower > 0.1
    assert (ratio.value, ratio.ci_lower, ratio.verdict, ratio.plain_rule) == (
        0.0,
        None,
        "not enough data",
        "fail",
    )
    # equal rates: two different groups compared, a zero difference
    y, decided, group = _groups({"a": (30, 100), "b": (60, 200)})
    same = fairness_criteria(y, decided, group, "g")[0]
    sm = confint_proportions_2indep(30, 100, 60, 200, method="wald", compare="diff", alpha=0.1)
    assert same.value == 0 and (same.ci_lower, same.ci_upper) == pytest.approx(sm, abs=1e-10)
    # one group only: nothing to compare
    y, decided, group = _groups({"a": (150, 300)})
    alone = fairness_criteria(y, decided, group, "g")
    assert [c.verdict for c in alone] == ["not enough data"] * 3
    assert all(c.passed and c.ci_lower is None for c in alone)
    lines = undecided_warnings([ratio, *alone])
    assert len(lines) == 4 and all("no interval" in line for line in lines)


# --- the record ------------------------------------------------------------------------------


def test_criterion_record_keeps_the_positional_form() -> None:
    exact = Criterion("P95 latency (ms)", 12.0, "< 50", True)
    assert (exact.verdict, exact.plain_rule, exact.ci_lower, exact.rows_needed) == (
        "pass",
        "pass",
        None,
        None,
    )
    assert Criterion("x", 1.0, "< 0", False).verdict == "fail"
    d = Criterion("c", 0.1, "≤ 0.05", True, 0.0, 0.2, "not enough data", "fail", 900).to_dict()
    assert list(d) == [
        "criterion",
        "value",
        "ci_lower",
        "ci_upper",
        "threshold",
        "verdict",
        "plain_rule",
        "rows_needed",
        "pass",
    ]
    assert Criterion.from_dict(d).to_dict() == d
    with pytest.raises(ValueError, match="contradicts"):
        Criterion("c", 0.1, "≤ 0.05", False, 0.0, 0.2, "not enough data")
    with pytest.raises(ValueError, match="not a verdict"):
        Criterion("c", 0.1, "≤ 0.05", True, 0.0, 0.2, "maybe")
    card = (Criterion("c", 0.1, "≤ 0.05", True, 0.0, 0.2, "not enough data", "fail", None),)
    (line,) = undecided_warnings(card)
    assert "not enough data" in line and "plain rule: fail" in line and "no number" in line
    with pytest.raises(ValueError):
        ScorecardConfig(alpha=0.5)  # a one-sided level: 1 - 2 * alpha must stay positive


# --- simulations -----------------------------------------------------------------------------


def _calibration_rates(
    rows: int, reps: int, seed: int, shift: float = 0.0
) -> tuple[Counter[str], float]:
    """Verdicts over ``reps`` test sets, and how often the seed's plain rule failed."""
    rng = np.random.default_rng(seed)
    verdicts: Counter[str] = Counter()
    plain = 0
    for _ in range(reps):
        p = expit(rng.normal(-1.5, 1, rows))
        decile = np.searchsorted(np.percentile(p, np.linspace(0, 100, 11))[1:-1], p)
        truth = np.where(np.isin(decile, [3, 4, 5]), p + shift, p)  # deciles 4-6
        cal = calibration((rng.random(rows) < truth).astype(int), p)
        verdicts[cal["verdict"]] += 1
        plain += not cal["within_tolerance"]
    return verdicts, plain / reps


def test_calibrated_model_does_not_fail_and_miscalibration_does() -> None:
    for rows, plain_min in ((1000, 0.8), (3000, 0.2)):
        verdicts, plain = _calibration_rates(rows, 1000, seed=rows)
        assert verdicts["fail"] / 1000 <= 0.05, (rows, verdicts)
        assert plain >= plain_min, (rows, plain)  # the seed's rule failed it this often
    verdicts, plain = _calibration_rates(3000, 400, seed=7, shift=0.10)
    assert verdicts["fail"] / 400 >= 0.80, verdicts
    assert plain == 1.0


def _fairness_rates(
    rows: int, share: float, gap: float, reps: int, seed: int
) -> tuple[float, float, float]:
    """Share of runs where the parity criterion fails, where any of the three criteria
    fails, and where the seed's plain rules fail any."""
    rng = np.random.default_rng(seed)
    parity = anything = plain = 0
    for _ in range(reps):
        minority = rng.random(rows) < share
        shift = np.where(minority, stats.norm.ppf(0.3 + gap), stats.norm.ppf(0.3))
        score = expit(rng.normal(size=rows) + shift)  # selected (>= 0.5) with 0.3 or 0.3 + gap
        y = (rng.random(rows) < score).astype(int)
        criteria = fairness_criteria(y, score >= 0.5, np.where(minority, "b", "a"), "g")
        parity += criteria[0].verdict == "fail"
        anything += any(c.verdict == "fail" for c in criteria)
        plain += any(c.plain_rule == "fail" for c in criteria)
    return parity / reps, anything / reps, plain / reps


def test_fair_model_does_not_fail_and_a_parity_gap_does() -> None:
    for rows, plain_min in ((1000, 0.4), (3000, 0.15)):
        _, failed, plain = _fairness_rates(rows, 0.05, 0.0, 400, seed=rows)
        assert failed <= 0.05, (rows, failed)
        assert plain >= plain_min, (rows, plain)
    parity, _, _ = _fairness_rates(3000, 0.10, 0.2, 400, seed=11)
    assert parity >= 0.80, parity
    parity, failed, _ = _fairness_rates(3000, 0.05, 0.2, 400, seed=12)
    assert failed >= 0.80, (parity, failed)


def test_fairness_reports_fairlearn_figures_and_the_same_criteria() -> None:
    rng = np.random.default_rng(5)
    p = rng.random(800)
    y = (rng.random(800) < p).astype(int)
    group = np.where(rng.random(800) < 0.3, "F", "M")
    (found,) = fairness(y, p, 0.5, pd.DataFrame({"gender": group}), alpha=0.05)
    again = fairness_criteria(y, p >= 0.5, group, "gender")
    assert found["criteria"] == [c.to_dict() for c in again]
    assert found["criteria"][0]["value"] == pytest.approx(
        found["demographic_parity_difference"], abs=1e-12
    )
    assert found["criteria"][2]["value"] == pytest.approx(
        found["demographic_parity_ratio"], rel=1e-12
    )
    assert found["warning"] is None  # no real difference: nothing failed


# --- the command line ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("criteria")
    make_churn(1_500, seed=4).to_parquet(root / "churn.parquet")
    config = {
        "data": str(root / "churn.parquet"),
        "target": "churned",
        "drop": ["customer_id", "retention_call", "referral_code"],
        "candidates": ["logistic"],
        "tuning": {"trials": 1, "folds": 2},
    }
    train_model(config, output=root / "model", track=False)
    return root


def _card(model: Path, limits: dict[str, float], strict: bool) -> tuple[int, dict[str, Any]]:
    config = model / "card.json"
    config.write_text(json.dumps(limits))
    args = ["evaluate", "--model", str(model / "model"), "--config", str(config)]
    result = invoke([*args, "--format", "json", *(["--strict"] if strict else [])])
    return result.exit_code, json.loads(result.stdout)


def test_strict_exits_1_only_on_a_failed_criterion(model: Path) -> None:
    loose = {"auc_min": 0.5, "brier_max": 0.5, "gap_max": 0.5, "single_feature_share_max": 1.0}
    code, report = _card(model, loose, strict=True)
    card = {r["criterion"]: r for r in report["scorecard"]}
    calibrated = card["calibration, worst decile gap"]
    assert report["rows"] == 225 and calibrated["verdict"] == "not enough data"
    assert calibrated["pass"] is True and calibrated["rows_needed"] > 225
    assert not [r for r in report["scorecard"] if r["verdict"] == "fail"]
    assert code == 0  # "not enough data" is shown and warned about, never a failure
    assert any("not enough data" in w for w in report["warnings"])
    code, report = _card(model, {**loose, "auc_min": 0.97}, strict=True)
    auc = report["scorecard"][0]
    assert auc["verdict"] == "fail" and auc["ci_upper"] < 0.97 and code == 1
    code, _ = _card(model, {**loose, "auc_min": 0.97}, strict=False)
    assert code == 0
    bad = invoke(["evaluate", "--model", str(model / "model"), "--config", str(_alpha(model))])
    assert bad.exit_code == 2 and bad.stderr.count("error:") == 1 and "alpha" in bad.stderr


def _alpha(model: Path) -> Path:
    path = model / "alpha.json"
    path.write_text(json.dumps({"alpha": 0.7}))
    return path


def test_report_shows_interval_verdict_and_plain_rule(model: Path) -> None:
    from sds.models.suite import evaluate_saved

    ev = evaluate_saved(model / "model")
    text = ev.to_text(width=400)
    for column in ("ci_lower", "ci_upper", "verdict", "plain_rule", "rows_needed"):
        assert column in text
    assert "90% intervals, one-sided alpha 0.05" in text
    assert ev.passed is all(c.verdict != "fail" for c in ev.scorecard)
    assert hash(ev) == hash(dataclasses.replace(ev))
