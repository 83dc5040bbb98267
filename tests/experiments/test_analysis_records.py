"""Typed records of an experiment analysis: the report's JSON is what it was, the records are
frozen and hashable, each effect carries an ``Estimate``, and the SRM checks inside the
analysis use the one split chi-square.

References: ``analysis_records_golden.json`` holds ``to_dict()`` of three seeded analyses
(unit-level data with every metric kind, CUPED, segments, dates, novelty and a group-
sequential plan; event-level data with mSPRT; a metric with an infinite value) as the code
before the typed records computed them: today's output must have the same keys and values
(numbers to 1e-9 relative). Beside it, independent figures: units from pandas, the
proportion from statsmodels, the CUPED effect, ratio and quantile from numpy, the daily SRM
from ``scipy.stats.chisquare``, the segment mix from ``scipy.stats.chi2_contingency``.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from sds.experiments.analysis.result import AnalysisResult
from sds.experiments.analysis.run import analyze
from sds.experiments.srm import srm_test
from sds.stats.estimate import Estimate

TOL = 1e-9
HERE = Path(__file__).resolve().parent
ANALYSIS = HERE.parents[1] / "src" / "sds" / "experiments" / "analysis"
GOLDEN = json.loads((HERE / "analysis_records_golden.json").read_text())["results"]
ARMS = ("control", "treatment", "treatment-2")
METRICS = [
    {"name": "conv", "type": "proportion", "column": "conv"},
    {"name": "revenue", "type": "mean", "column": "revenue", "covariate": "pre"},
    {
        "name": "orders_per_session",
        "type": "ratio",
        "numerator": "orders",
        "denominator": "sessions",
        "numerator_covariate": "pre_orders",
        "denominator_covariate": "pre_sessions",
    },
    {"name": "revenue_p90", "type": "quantile", "column": "revenue", "q": 0.9},
]


def _users(n: int = 3000, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(ARMS, size=n)
    lift = np.select([arm == "treatment", arm == "treatment-2"], [1.08, 0.97], 1.0)
    pre = rng.gamma(2.0, 5.0, n)
    sessions = rng.integers(1, 6, n).astype(float)
    revenue = (0.6 * pre + rng.gamma(2.0, 4.0, n)) * lift
    day = pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 6, n), unit="D")
    return pd.DataFrame(
        {
            "u": np.arange(n),
            "v": arm,
            "day": day,
            "platform": rng.choice(["ios", "android", "web"], size=n, p=[0.5, 0.3, 0.2]),
            "conv": (rng.random(n) < 0.1 * lift).astype(int),
            "revenue": revenue,
            "pre": pre,
            "sessions": sessions,
            "pre_sessions": sessions + rng.integers(0, 2, n),
            "orders": rng.poisson(0.3 * sessions * lift).astype(float),
            "pre_orders": rng.poisson(0.3 * sessions).astype(float),
        }
    )


def _unit_spec(**extra: Any) -> dict[str, Any]:
    return {
        "name": "golden",
        "unit": "u",
        "variant": "v",
        "control": "control",
        "date": "day",
        "segments": ["platform"],
        "metrics": METRICS,
        "primary": ["revenue"],
        "guardrails": ["conv"],
        "resamples": 200,
        "sequential": {"method": "group", "looks": 3, "planned_units": 4000},
        **extra,
    }


def _events(users: int = 500, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        arm = "treatment" if rng.random() < 0.5 else "control"
        first = int(rng.integers(0, 5))
        days = sorted({first, *rng.integers(first, 8, int(rng.integers(0, 4))).tolist()})
        for d in days:
            stamp = pd.Timestamp("2026-05-01") + pd.Timedelta(days=d, hours=int(rng.integers(24)))
            bought = float(rng.random() < (0.3 if arm == "treatment" else 0.25))
            rows.append((u, arm, stamp, bought, float(rng.gamma(2.0, 5.0)) * bought))
    return pd.DataFrame(rows, columns=["u", "v", "ts", "bought", "revenue"])


EVENT_SPEC = {
    "unit": "u",
    "variant": "v",
    "control": "control",
    "date": "ts",
    "metrics": [
        {"name": "bought", "type": "proportion", "column": "bought"},
        {"name": "revenue", "type": "mean", "column": "revenue"},
    ],
    "sequential": {"method": "msprt"},
}


def _broken() -> tuple[dict[str, Any], pd.DataFrame]:
    df = _users(600, seed=2)
    df.loc[5, "revenue"] = np.inf
    spec = _unit_spec(
        segments=[], sequential=None, date=None, primary=["conv"], guardrails=["revenue"]
    )
    return spec, df


@pytest.fixture(scope="module")
def results() -> dict[str, AnalysisResult]:
    broken_spec, broken_df = _broken()
    return {
        "unit": analyze(_unit_spec(), _users()),
        "event": analyze(EVENT_SPEC, _events()),
        "broken": analyze(broken_spec, broken_df),
    }


def _same(old: Any, new: Any, path: str = "") -> list[str]:
    """Where ``new`` differs from ``old``: keys, lengths, strings, numbers beyond TOL."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = [f"{path}: keys {sorted(set(old) ^ set(new))}"] if set(old) != set(new) else []
        return out + [d for k in set(old) & set(new) for d in _same(old[k], new[k], f"{path}.{k}")]
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{path}: {len(old)} items, now {len(new)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for d in _same(a, b, f"{path}[{i}]")
        ]
    numbers = (int, float)
    if isinstance(old, float) and isinstance(new, numbers) and not isinstance(new, bool):
        return (
            []
            if math.isclose(old, new, rel_tol=TOL, abs_tol=1e-12)
            else [f"{path}: {old} != {new}"]
        )
    return [] if old == new and type(old) is type(new) else [f"{path}: {old!r} != {new!r}"]


@pytest.mark.parametrize("case", ["unit", "event", "broken"])
def test_json_has_the_keys_and_values_of_the_code_before(
    results: dict[str, AnalysisResult], case: str
) -> None:
    result = results[case]
    new = json.loads(result.to_json())
    srm = new.pop("srm")
    warned = [w for w in new["warnings"] if w.startswith("sample ratio:")]
    new["warnings"] = [w for w in new["warnings"] if not w.startswith("sample ratio:")]
    assert _same(GOLDEN[case], new) == []
    # the SRM block is SrmResult's own, on the arms' unit counts
    reference = srm_test(srm["counts"], None, 0.001, variants=srm["variants"])
    assert srm == json.loads(json.dumps(reference.to_dict()))
    assert warned == (
        [f"sample ratio: {reference.note()}"] if reference.share_deviation_over_tolerance else []
    )


def test_figures_equal_independent_references(results: dict[str, AnalysisResult]) -> None:
    df, d = _users(), results["unit"].to_dict()
    assert d["units"] == df["v"].value_counts().reindex(list(ARMS)).to_dict()
    c, t = df[df["v"] == "control"], df[df["v"] == "treatment"]
    conv = results["unit"].effect("conv", "treatment")
    xc, xt = int(c["conv"].sum()), int(t["conv"].sum())
    z, p = proportions_ztest([xt, xc], [len(t), len(c)])
    low, high = confint_proportions_2indep(xt, len(t), xc, len(c), method="wald")
    assert (conv.estimate.statistic, conv.p_value) == pytest.approx((z, p), rel=TOL)
    assert (conv.ci_lower, conv.ci_upper) == pytest.approx((low, high), rel=TOL)
    # CUPED: theta from both arms pooled, effect = mean difference - theta * covariate difference
    both = pd.concat([c, t])
    theta = np.cov(both["revenue"], both["pre"])[0, 1] / np.var(both["pre"], ddof=1)
    effect = (t["revenue"].mean() - c["revenue"].mean()) - theta * (
        t["pre"].mean() - c["pre"].mean()
    )
    revenue = results["unit"].effect("revenue", "treatment")
    assert revenue.comparison.cuped is not None
    assert revenue.comparison.cuped.theta == pytest.approx(theta, rel=TOL)
    assert revenue.effect == pytest.approx(effect, rel=TOL)
    ratio = results["unit"].effect("orders_per_session", "treatment").comparison.cuped
    assert ratio is not None
    assert ratio.unadjusted_control == pytest.approx(
        c["orders"].sum() / c["sessions"].sum(), rel=TOL
    )
    p90 = results["unit"].effect("revenue_p90", "treatment")
    assert p90.comparison.control == pytest.approx(np.quantile(c["revenue"], 0.9), rel=TOL)
    counts = pd.crosstab(df["day"].dt.date, df["v"]).reindex(columns=list(ARMS))
    for row, (_, day) in zip(d["daily_srm"], counts.iterrows(), strict=True):
        assert [row[f"n_{a}"] for a in ARMS] == day.tolist()
        assert row["p_value"] == pytest.approx(stats.chisquare(day.to_numpy()).pvalue, rel=TOL)
    mix = d["segments"]["platform"]["mix"]
    table = pd.crosstab(df["v"], df["platform"]).to_numpy()
    expected = stats.chi2_contingency(table, correction=False)
    assert (mix["chi2"], mix["df"], mix["p_value"]) == pytest.approx(
        (expected.statistic, expected.dof, expected.pvalue), rel=TOL
    )


def _mutable_inside(value: Any, path: str = "result") -> list[str]:
    if isinstance(value, list | dict | set):
        return [f"{path}: {type(value).__name__}"]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            found
            for f in dataclasses.fields(value)
            for found in _mutable_inside(getattr(value, f.name), f"{path}.{f.name}")
        ]
    if isinstance(value, tuple):
        return [found for i, v in enumerate(value) for found in _mutable_inside(v, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("case", ["unit", "event", "broken"])
def test_records_are_frozen_and_hashable(results: dict[str, AnalysisResult], case: str) -> None:
    result = results[case]
    assert _mutable_inside(result) == []
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.verdict = "ship"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.effects[0].p_adjusted = 0.0  # type: ignore[misc]
    assert isinstance(hash(result), int)


def test_equal_analyses_give_equal_records() -> None:
    spec, df = _broken()
    first, second = analyze(spec, df), analyze(spec, df)
    assert first == second and hash(first) == hash(second)


def test_each_effect_states_its_estimate(results: dict[str, AnalysisResult]) -> None:
    for case, result in results.items():
        rows = result.to_dict()["effects"]
        for effect, row in zip(result.effects, rows, strict=True):
            estimate = effect.estimate
            assert isinstance(estimate, Estimate)
            assert estimate.contrast == "treatment - control"
            assert estimate.level == pytest.approx(1 - result.alpha)
            for key in ("ci_lower", "ci_upper", "p_value", "method"):
                assert getattr(estimate, key) == row[key], (case, key)
            assert estimate.estimate == row["effect"]
            assert (estimate.p_value is None) == (row.get("not_computed") is not None)


def test_analysis_srm_checks_use_the_one_split_chi_square() -> None:
    """The daily SRM and the segment mix call sds.stats.split, not scipy or a copy."""
    for name in ("timeline.py", "segments.py"):
        source = (ANALYSIS / name).read_text()
        assert "chisquare(" not in source and "chi2_contingency(" not in source, name
        assert "experiments.srm" not in source, name
        assert "from sds.stats.split import" in source, name


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, inside a function) for every import of an sds module in ``path``."""
    tree = ast.parse(path.read_text())
    local = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
    }
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sds"):
            out.append((str(node.module), id(node) in local))
        elif isinstance(node, ast.Import):
            out += [(a.name, id(node) in local) for a in node.names if a.name.startswith("sds")]
    return out


def test_aggregates_and_moments_form_no_cycle_and_imports_sit_at_the_top() -> None:
    moments = [m for m, _ in _imports(ANALYSIS / "moments.py")]
    assert not any(m.endswith("aggregates") for m in moments), moments
    local = [
        f"{path.relative_to(ANALYSIS)}: {module}"
        for path in sorted(ANALYSIS.rglob("*.py"))
        for module, inside in _imports(path)
        if inside
    ]
    assert local == []
