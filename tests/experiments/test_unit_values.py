"""The values a quantile's bootstrap reads from the engine give the figures of the full
column: the same effect, interval, p-value and point-mass warning as every unit's value,
with far fewer rows (value counts, or a window of ranks around the quantile)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sds.data.io import open_table
from sds.experiments.analysis import unit_values
from sds.experiments.analysis.quantile import quantile_effect
from sds.experiments.analysis.queries import VARIANT


def _read(frame: pd.DataFrame, q: float) -> tuple[unit_values.UnitValues, list[int]]:
    """The engine's values per arm and the size of every result it returned."""
    table = open_table(frame, name="frame")
    sizes: list[int] = []
    real = table.engine.to_pyarrow

    def spy(expr: Any, *, source: str = "data") -> Any:
        out = real(expr, source=source)
        sizes.append(int(getattr(out, "num_rows", 1)))
        return out

    table.engine.to_pyarrow = spy  # type: ignore[method-assign]
    try:
        return unit_values.read(table, table.expr, "x", q), sizes
    finally:
        del table.engine.to_pyarrow


def _frame(rng: np.random.Generator, kind: str, n: int) -> pd.DataFrame:
    arms = rng.choice(["control", "treatment"], n)
    if kind == "continuous":
        x = rng.lognormal(1.0, 1.0, n)
    elif kind == "zeros":  # 60% of units spend nothing: a point mass below p90, on p50
        x = np.where(rng.random(n) < 0.6, 0.0, np.round(rng.gamma(2.0, 20.0, n), 2))
    else:  # counts: few distinct values
        x = rng.poisson(3, n).astype(float)
    return pd.DataFrame({VARIANT: arms, "x": x})


@pytest.mark.parametrize(
    ("kind", "n", "q", "method"),
    [
        ("continuous", 20_000, 0.9, "percentile"),
        ("continuous", 20_000, 0.01, "percentile"),
        ("continuous", 30, 0.999, "percentile"),
        ("continuous", 3_000, 0.5, "bca"),
        ("zeros", 20_000, 0.5, "percentile"),
        ("zeros", 20_000, 0.62, "percentile"),
        ("zeros", 8_000, 0.9, "bca"),
        ("counts", 20_000, 0.75, "percentile"),
    ],
)
def test_the_bootstrap_on_the_read_values_equals_it_on_every_value(
    kind: str, n: int, q: float, method: str
) -> None:
    frame = _frame(np.random.default_rng(n + int(q * 1000)), kind, n)
    read, sizes = _read(frame, q)
    full = {a: np.sort(g["x"].to_numpy()) for a, g in frame.groupby(VARIANT)}
    for arm, values in full.items():
        assert len(read[arm]) == len(values)  # every unit has its rank
    kwargs: dict[str, Any] = {"alpha": 0.05, "resamples": 400, "method": method, "seed": 3}
    expected = quantile_effect(full["control"], full["treatment"], q, **kwargs)
    found = quantile_effect(read["control"], read["treatment"], q, **kwargs)
    assert found == expected
    if n >= 20_000:  # what crossed: a fraction of the units
        assert max(sizes) < n / 8, sizes
    if kind == "zeros" and q == 0.5:
        assert found.warnings  # the point mass is seen through the window


def test_few_distinct_values_come_back_as_value_counts() -> None:
    frame = _frame(np.random.default_rng(1), "counts", 50_000)
    read, sizes = _read(frame, 0.5)
    for arm, group in frame.groupby(VARIANT):
        assert np.array_equal(read[arm], np.sort(group["x"].to_numpy()))
    assert max(sizes) <= 2 * frame["x"].nunique()


def test_the_window_misses_a_resample_with_probability_below_1e_20() -> None:
    """A resample's quantile reads its order statistics k and k + 1; the first lies below
    the window's first rank ``lo`` when at least k + 1 of n draws do (binomial), the second
    above ``hi`` when at most k + 1 draws are at or below it."""
    worst = 0.0
    for n in (2, 5, 20, 100, 1_000, 10_000, 1_000_000):
        for q in (0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999):
            _, lo, hi = unit_values._window(n, q)
            k = math.floor((n - 1) * q)
            below = stats.binom.sf(k, n, lo / n) if lo > 0 else 0.0
            above = stats.binom.cdf(k + 1, n, (hi + 1) / n) if hi < n - 1 else 0.0
            worst = max(worst, below, above)
            margin = max(0.02, 3 * math.sqrt(q * (1 - q) / n))
            assert lo <= max(0, math.floor((q - margin) * n) - 1)  # the point-mass margin
            assert hi >= min(n - 1, math.floor((q + margin) * n) + 1)
    assert worst <= 1.0001e-20


def test_missing_and_unusable_values_are_found_in_the_engine() -> None:
    frame = pd.DataFrame({VARIANT: ["control", "treatment"] * 3, "x": [1.0, 2, 3, 4, 5, 6]})
    assert not _read(frame, 0.5)[0].unusable
    huge = frame.assign(x=[1.0, 2, 3, 4, 5, 1e200])
    assert _read(huge, 0.5)[0].unusable
    infinite = frame.assign(x=[1.0, 2, 3, 4, 5, np.inf])
    assert _read(infinite, 0.5)[0].unusable
    for hole in (None, np.nan):
        missing = frame.assign(x=[1.0, 2, hole, 4, 5, 6])
        with pytest.raises(Exception, match="metric values are missing"):
            _read(missing, 0.5)
