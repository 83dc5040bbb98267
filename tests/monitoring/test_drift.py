"""Drift monitoring.

References: PSI equals a direct numpy computation (``numpy.quantile`` edges,
``numpy.histogram`` counts, shares floored at 1e-4); KS equals
``scipy.stats.ks_2samp(method="asymp")``, statistic and p-value; chi-square equals
``scipy.stats.chi2_contingency`` and Jensen-Shannon ``scipy.spatial.distance.jensenshannon``
on the same level counts. Simulation: a planted shift in the churn generator is flagged and
ranked first; two samples of one distribution raise no alert over 100 seeded repeats.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from sds.data.synth import make_churn
from sds.monitoring.report import monitor
from tests.conftest import invoke


def _numpy_psi(x: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    ref = x[~np.isnan(x)]
    edges = np.concatenate(
        [[-np.inf], np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1])), [np.inf]]
    )

    def shares(v: np.ndarray) -> np.ndarray:
        counts = np.append(np.histogram(v[~np.isnan(v)], edges)[0], np.isnan(v).sum())
        return np.maximum(counts / len(v), 1e-4)

    r, c = shares(x), shares(y)
    return float(np.sum((c - r) * np.log(c / r)))


def test_numeric_psi_and_ks_equal_numpy_and_scipy() -> None:
    rng = np.random.default_rng(0)
    x = np.where(rng.random(5_000) < 0.05, np.nan, rng.normal(0, 1, 5_000))
    y = np.where(rng.random(4_000) < 0.10, np.nan, rng.normal(0.2, 1.1, 4_000))
    x[:300] = np.round(x[:300], 1)  # ties
    result = monitor(pd.DataFrame({"f": x}), pd.DataFrame({"f": y}))
    row = result.features[0]
    assert row["psi"] == pytest.approx(_numpy_psi(x, y), abs=1e-12)
    reference = stats.ks_2samp(x[~np.isnan(x)], y[~np.isnan(y)], method="asymp")
    assert row["ks"] == pytest.approx(reference.statistic, abs=1e-12)
    assert row["ks_p_value"] == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-300)


def test_categorical_tests_equal_scipy() -> None:
    rng = np.random.default_rng(1)
    levels = np.array(["a", "b", "c", "d"])
    x = pd.Series(rng.choice(levels, 3_000, p=[0.4, 0.3, 0.2, 0.1]), dtype=object)
    y = pd.Series(rng.choice(levels, 2_000, p=[0.3, 0.3, 0.3, 0.1]), dtype=object)
    x[:50] = None
    row = monitor(pd.DataFrame({"g": x}), pd.DataFrame({"g": y})).features[0]
    order = ["a", "b", "c", "d"]
    rc = np.array([(x == v).sum() for v in order] + [0, x.isna().sum()], dtype=float)
    cc = np.array([(y == v).sum() for v in order] + [0, y.isna().sum()], dtype=float)
    r, c = np.maximum(rc / rc.sum(), 1e-4), np.maximum(cc / cc.sum(), 1e-4)
    assert row["psi"] == pytest.approx(float(np.sum((c - r) * np.log(c / r))), abs=1e-12)
    keep = (rc + cc) > 0
    chi2, p, _, _ = stats.chi2_contingency(np.vstack([rc[keep], cc[keep]]), correction=False)
    assert row["chi2"] == pytest.approx(chi2, rel=1e-12)
    assert row["chi2_p_value"] == pytest.approx(p, rel=1e-9)
    js = jensenshannon(rc / rc.sum(), cc / cc.sum(), base=2)
    assert row["js_distance"] == pytest.approx(js, rel=1e-12)


def test_planted_shift_is_flagged_and_ranked_first() -> None:
    reference = make_churn(20_000, seed=1).drop(columns=["customer_id"])
    current = make_churn(20_000, seed=2).drop(columns=["customer_id"])
    current["last_login_days"] = current["last_login_days"] * 2  # customers drifting away
    result = monitor(reference, current)
    assert result.features[0]["feature"] == "last_login_days"
    assert result.alerts == ["last_login_days"]
    assert all(f["status"] == "ok" for f in result.features[1:])


@pytest.mark.slow
def test_no_drift_between_samples_of_one_distribution() -> None:
    warned = alerted = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        frames = [
            pd.DataFrame(
                {
                    "x": rng.normal(size=2_000),
                    "y": rng.exponential(size=2_000),
                    "k": rng.poisson(2, size=2_000),
                    "g": rng.choice(np.array(["a", "b", "c"]), 2_000),
                }
            )
            for _ in range(2)
        ]
        result = monitor(frames[0], frames[1])
        warned += any(f["status"] != "ok" for f in result.features)
        alerted += bool(result.alerts)
    assert alerted == 0
    assert warned <= 5  # PSI under the null is about 9 x (1/2000 + 1/2000) = 0.009


def test_request_log_service_figures_and_cli(tmp_path: Path) -> None:
    from sds.serving.requestlog import RequestLog, base_row

    reference = make_churn(3_000, seed=5)[["tenure_months", "contract"]]
    reference.to_parquet(tmp_path / "reference.parquet")
    schema = [
        {"name": "tenure_months", "kind": "integer"},
        {"name": "contract", "kind": "category"},
    ]
    log = RequestLog(tmp_path / "log", schema, interval=60)
    current = make_churn(2_000, seed=6)
    latencies = np.linspace(1, 100, 2_000)
    for i in range(2_000):
        columns = {
            "tenure_months": np.array([float(current.tenure_months[i])]),
            "contract": [current.contract[i]],
        }
        status = 500 if i % 100 == 0 else 200
        log.add(base_row("champion", "v1", status, latencies[i] / 1000), columns, np.array([0.3]))
        if i == 999:
            log.flush()
    log.close()
    assert len(list((tmp_path / "log").glob("*.parquet"))) == 2
    result = invoke(
        [
            "monitor",
            "--reference",
            str(tmp_path / "reference.parquet"),
            "--data",
            str(tmp_path / "log"),
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    service = report["service"]
    assert service["log_rows"] == 2_000 and service["error_rate"] == pytest.approx(0.01)
    answered = latencies[np.arange(2_000) % 100 != 0]  # latency of answered requests only
    assert service["answered"] == 1_980 and service["errors"] == 20
    assert service["latency_p50_ms"] == pytest.approx(np.quantile(answered, 0.5))
    assert service["latency_p99_ms"] == pytest.approx(np.quantile(answered, 0.99))
    assert {f["feature"] for f in report["features"]} == {"tenure_months", "contract"}
    assert report["alerts"] == []
    html = invoke(
        [
            "monitor",
            "--reference",
            str(tmp_path / "reference.parquet"),
            "--data",
            str(tmp_path / "log"),
            "-o",
            str(tmp_path / "m.html"),
        ]
    )
    assert html.exit_code == 0 and "<svg" in (tmp_path / "m.html").read_text()
    missing = invoke(
        [
            "monitor",
            "--reference",
            str(tmp_path / "reference.parquet"),
            "--data",
            str(tmp_path / "log"),
            "--features",
            "tenure_monhts",
        ]
    )
    assert missing.exit_code == 2 and "tenure_months" in missing.stderr


def test_many_levels_keep_the_reference_top_20_and_an_other_bin() -> None:
    """30 levels plus missing: the reference's 20 most common (ties by name) against a
    pandas count, the rest in one bin, missing in another; ranked in the engine. The
    current data ranks its levels the other way round, so a ranking over both sides would
    pick other levels."""
    from sds.data.io import open_table
    from sds.monitoring.drift import TOP_LEVELS, level_counts

    rng = np.random.default_rng(4)
    levels = np.array([f"L{i:02d}" for i in range(30)])
    weights = np.linspace(1, 3, 30) / np.linspace(1, 3, 30).sum()
    x = pd.Series(rng.choice(levels, 4_000, p=weights), dtype=object)
    y = pd.Series(rng.choice(levels[::-1], 3_000, p=weights), dtype=object)
    x[:40], y[:70] = None, None
    ref, cur = open_table(pd.DataFrame({"g": x})), open_table(pd.DataFrame({"g": y}))
    got_ref, got_cur = level_counts(ref, cur, "g", "g")

    counted = x.value_counts().reset_index()
    counted.columns = ["v", "n"]
    top = counted.sort_values(["n", "v"], ascending=[False, True])["v"][:TOP_LEVELS].tolist()
    both = pd.concat([x, y]).value_counts().reset_index()
    both.columns = ["v", "n"]
    pooled = both.sort_values(["n", "v"], ascending=[False, True])["v"][:TOP_LEVELS].tolist()
    assert set(top) != set(pooled)  # the two rules differ on these data
    for got, side in ((got_ref, x), (got_cur, y)):
        counts = side.value_counts()
        listed = [counts.get(v, 0) for v in top]
        want = [*listed, side.notna().sum() - sum(listed), side.isna().sum()]
        np.testing.assert_array_equal(got, np.array(want, dtype=float))


def test_levels_only_the_current_data_has_and_its_missing_values() -> None:
    """The current data is counted only for the reference's top levels: its own levels
    and its missing values (which the reference lacks) go to the other and missing bins,
    as a pandas count has them."""
    from sds.data.io import open_table
    from sds.monitoring.drift import level_counts

    x = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20, dtype=object)
    y = pd.Series(["a"] * 10 + ["z"] * 60 + [None] * 25 + ["c"] * 5, dtype=object)
    ref, cur = open_table(pd.DataFrame({"g": x})), open_table(pd.DataFrame({"g": y}))
    got_ref, got_cur = level_counts(ref, cur, "g", "g")
    np.testing.assert_array_equal(got_ref, [50, 30, 20, 0, 0])  # a, b, c, other, missing
    np.testing.assert_array_equal(got_cur, [10, 0, 5, 60, 25])
