"""Drift on large inputs: bin counts and KS from one grouped scan per side and feature.

References: the PSI bin counts equal :func:`sds.stats.psi.numeric_counts` on numpy quantile
edges exactly (so the PSI is that of the in-memory definition); the KS statistic is within
the stated ``ks_error_bound`` of ``scipy.stats.ks_2samp`` (the grid value is a lower bound
of the exact one) and the bound is at most 1e-3, on fixed seeds and skewed, heavy-tailed,
discrete, tied and missing-valued data, shifted and not; the p-value is scipy's
asymptotic one of the reported statistic. The bound itself is checked on adversarial data:
two point masses inside one cell, where the grid alone misses a gap of 0.5.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sds.data.io import open_table
from sds.errors import DataError
from sds.monitoring import binned, binned_drift
from sds.monitoring.drift import ks_p_value
from sds.monitoring.report import monitor
from sds.stats import psi as rules

N = 40_000

Pair = Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _mixed(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = np.where(rng.random(N) < 0.3, 0.0, rng.normal(size=N))  # a point mass at 0
    y = np.where(rng.random(N) < 0.2, 0.0, rng.normal(0.1, 1, N))
    return x, y


def _rounded_missing(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = np.where(rng.random(N) < 0.05, np.nan, np.round(rng.normal(size=N), 2))
    y = np.where(rng.random(N) < 0.1, np.nan, np.round(rng.normal(0.05, 1, N), 2))
    return x, y


PAIRS: dict[str, Pair] = {
    "normal, unshifted": lambda g: (g.normal(size=N), g.normal(size=N)),
    "normal, shifted": lambda g: (g.normal(size=N), g.normal(0.3, 1.2, N)),
    "cauchy": lambda g: (g.standard_cauchy(N), g.standard_cauchy(N) + 0.05),
    "lognormal": lambda g: (g.lognormal(0, 2, N), g.lognormal(0.1, 2, N)),
    "poisson": lambda g: (g.poisson(3, N).astype(float), g.poisson(3.2, N).astype(float)),
    "point mass": _mixed,
    "rounded, missing": _rounded_missing,
    "outside the range": lambda g: (g.uniform(0, 1, N), g.uniform(0.5, 3, N)),
}


def _drift(x: np.ndarray, y: np.ndarray) -> binned_drift.NumericDrift:
    ref = open_table(pd.DataFrame({"f": x}))
    cur = open_table(pd.DataFrame({"f": y}), engine=ref.engine)
    grid = binned.grid_for(*binned.ranges(ref, ["f"])["f"])
    return binned_drift.numeric_drift(ref, cur, "f", "f", 10, grid)


@pytest.mark.parametrize("name", list(PAIRS))
def test_counts_exact_and_ks_within_its_bound(name: str) -> None:
    x, y = PAIRS[name](np.random.default_rng(sorted(PAIRS).index(name)))
    found = _drift(x, y)
    edges = rules.numeric_edges(x, 10)
    np.testing.assert_array_equal(found.ref_counts, rules.numeric_counts(x, edges))
    np.testing.assert_array_equal(found.cur_counts, rules.numeric_counts(y, edges))
    ks, bound = found.ks["ks"], found.ks["ks_error_bound"]
    exact = stats.ks_2samp(x[~np.isnan(x)], y[~np.isnan(y)], method="asymp").statistic
    assert 0 <= bound <= binned.KS_TOLERANCE
    assert ks <= exact + 1e-12  # the grid's largest gap never exceeds the exact one
    assert exact <= ks + bound + 1e-12
    n1, n2 = float((~np.isnan(x)).sum()), float((~np.isnan(y)).sum())
    assert found.ks["ks_p_value"] == pytest.approx(ks_p_value(ks, n1, n2), rel=1e-12)
    assert found.maybe_infinite == (False, False)


def test_cells_of_one_value_need_no_refinement(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole numbers fill a cell each: the grid's KS is exact (scipy's), and a cell whose
    smallest and largest values agree is known to be a point without the refinement's
    query: three queries (the reference's cells, its order statistics, the current
    cells), not four."""
    rng = np.random.default_rng(5)
    x, y = rng.poisson(3, N).astype(float), rng.poisson(3.2, N).astype(float)
    ref = open_table(pd.DataFrame({"f": x}))
    cur = open_table(pd.DataFrame({"f": y}), engine=ref.engine)
    grid = binned.grid_for(*binned.ranges(ref, ["f"])["f"])
    queries: list[int] = []
    real = ref.engine.to_pyarrow

    def spy(expr: Any, *, source: str = "data") -> Any:
        queries.append(1)
        return real(expr, source=source)

    monkeypatch.setattr(ref.engine, "to_pyarrow", spy)
    found = binned_drift.numeric_drift(ref, cur, "f", "f", 10, grid).ks
    assert len(queries) == 3
    exact = stats.ks_2samp(x, y, method="asymp").statistic
    assert found["ks"] == pytest.approx(exact, abs=1e-12)
    assert found["ks_error_bound"] == 0.0


def _two_masses() -> tuple[np.ndarray, np.ndarray]:
    """Half of each side at its own value, both inside one grid cell (1e-9 apart on a
    range of 1): the CDFs part by 0.5 between them and nowhere at a cell edge."""
    rng = np.random.default_rng(7)
    x = np.concatenate([np.full(N // 2, 0.5), rng.uniform(0, 1, N // 2)])
    y = np.concatenate([np.full(N // 2, 0.5 + 1e-9), rng.uniform(0, 1, N // 2)])
    return x, y


def test_the_bound_covers_a_gap_hidden_inside_a_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without refinement the grid misses the 0.5 gap, and the bound must say so; with it
    (the default) the cell is split to its distinct values and the statistic is exact."""
    x, y = _two_masses()
    exact = stats.ks_2samp(x, y, method="asymp").statistic
    assert exact > 0.45
    monkeypatch.setattr(binned, "KS_TOLERANCE", 1.0)  # no refinement
    coarse = _drift(x, y).ks
    assert coarse["ks"] < 0.01  # the grid alone sees nothing
    assert coarse["ks"] <= exact <= coarse["ks"] + coarse["ks_error_bound"] + 1e-12
    monkeypatch.setattr(binned, "KS_TOLERANCE", 1e-3)
    refined = _drift(x, y).ks
    assert refined["ks"] == pytest.approx(exact, abs=1e-12)
    assert refined["ks_error_bound"] <= 1e-3


def _frames(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": rng.normal(shift, 1, n),
            "b": np.round(rng.exponential(2, n), 1),
            "g": rng.choice(np.array(["u", "v", "w"]), n),
        }
    )


def test_monitor_binned_path_matches_the_exact_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    reference, current = _frames(rng, 30_000, 0.0), _frames(rng, 20_000, 0.2)
    exact = {f["feature"]: f for f in monitor(reference, current).features}
    monkeypatch.setattr(binned, "EXACT_ROWS", 1_000)
    result = monitor(reference, current)
    for f in result.features:
        assert f["psi"] == pytest.approx(exact[f["feature"]]["psi"], abs=1e-12)
        if f["kind"] == "numeric":
            assert exact[f["feature"]]["ks_error_bound"] == 0.0
            gap = exact[f["feature"]]["ks"] - f["ks"]
            assert 0 <= gap <= f["ks_error_bound"] + 1e-12 <= 1e-3 + 1e-12
    report = json.loads(json.dumps(result.to_dict()))
    assert all("ks_error_bound" in f for f in report["features"] if f["kind"] == "numeric")
    text = result.to_text(width=200)
    assert "ks_error_bound" in text and "KS from binned counts" in text


def test_binned_path_refuses_infinite_values(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"a": rng.normal(size=5_000)})
    current = pd.DataFrame({"a": np.append(rng.normal(size=4_999), np.inf)})
    monkeypatch.setattr(binned, "EXACT_ROWS", 1_000)
    with pytest.raises(DataError, match="infinite"):
        monitor(reference, current)
    with pytest.raises(DataError, match="infinite"):
        monitor(current, reference)


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: rng.gamma(3, 0.7, 20_000),
        lambda rng: np.round(rng.exponential(2, 20_000), 1),  # ties
        lambda rng: rng.integers(0, 50, 20_000).astype(float),
        lambda rng: np.full(500, 2.5),
        lambda rng: rng.normal(size=7),
    ],
)
def test_quantiles_are_duckdbs_quantile_cont(make: Callable[[np.random.Generator], Any]) -> None:
    import duckdb

    x = make(np.random.default_rng(5))
    levels = [0.5, 0.95, 0.99, 0.0, 1.0, 0.3]
    table = open_table(pd.DataFrame({"v": x}))
    got = binned.quantiles(table, "v", levels, float(x.min()), float(x.max()))
    frame = pd.DataFrame({"v": x})  # noqa: F841 (read by DuckDB's replacement scan)
    expected = duckdb.sql(f"select quantile_cont(v, {levels}) from frame").fetchone()
    assert expected is not None
    assert got == list(expected[0])  # bit for bit
    np.testing.assert_allclose(got, np.quantile(x, levels), rtol=1e-12, atol=0)


def test_large_log_latency_is_the_exact_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"a": rng.normal(size=3_000)})
    n = 4_000
    log = pd.DataFrame(
        {
            "in_a": rng.normal(size=n),
            "latency_ms": rng.gamma(3, 0.7, n),
            "status": np.where(rng.random(n) < 0.05, 500, 200),
        }
    )
    exact = monitor(reference, log).service
    monkeypatch.setattr(binned, "EXACT_ROWS", 1_000)
    binned_service = monitor(reference, log).service
    assert exact is not None and binned_service == exact
    answered = log.loc[log["status"] == 200, "latency_ms"]
    np.testing.assert_allclose(
        [exact[f"latency_p{p}_ms"] for p in (50, 95, 99)],
        np.quantile(answered, [0.5, 0.95, 0.99]),
        rtol=1e-12,
    )


def test_large_comparison_of_categorical_features_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no numeric feature (and no prediction) the binned path has nothing to bin and
    gives the exact path's figures; it used to send the engine an empty SELECT."""
    rng = np.random.default_rng(9)
    reference = pd.DataFrame({"plan": rng.choice(["a", "b", "c"], 3_000)})
    current = pd.DataFrame({"plan": rng.choice(["a", "b", "c"], 4_000, p=[0.5, 0.3, 0.2])})
    exact = monitor(reference, current).to_dict()
    monkeypatch.setattr(binned, "EXACT_ROWS", 1_000)
    assert monitor(reference, current).to_dict() == exact
    assert exact["features"][0]["psi"] > 0.01


def test_ranges_leave_out_nan_and_count_infinities() -> None:
    import pyarrow as pa

    rng = np.random.default_rng(4)
    x = rng.normal(size=1_000)
    columns = {
        "plain": x,
        "nan": np.append(x, [np.nan, np.nan]),  # Arrow keeps NaN (pandas would make it null)
        "inf": np.append(x, [np.inf, -np.inf, np.inf, np.nan]),
        "all nan": np.full(1_000, np.nan),
    }
    tables = {k: open_table(pa.table({"v": v})) for k, v in columns.items()}
    found = {k: binned.ranges(t, ["v"])["v"] for k, t in tables.items()}
    assert found["plain"] == found["nan"] == (float(np.min(x)), float(np.max(x)), 0)
    assert found["inf"] == (-np.inf, np.inf, 3)  # refused by the caller
    assert found["all nan"] == (0.0, 1.0, 0)
