"""Moments of large-magnitude metrics (epoch seconds, balances in cents, pre-period totals):
N(1e8, 1) data, where sums of squares cancel catastrophically (they gave a variance of 2.10
for 1.00 and a ``math domain error``), against numpy.

- Variance and covariance through the engine (DuckDB; Spark in tests/spark/test_parity.py)
  equal ``np.var(ddof=1)`` and ``np.cov`` to 1e-9 relative; the CUPED theta, standard error
  and adjusted effect of ``sds.analyze`` equal a numpy CUPED to 1e-9 relative.
- Pooling: moments of segments x days pooled (Chan et al.) equal the whole data's to 1e-12.

The numpy effect is computed from values minus 1e8 (exact: Sterbenz), which is the same
number; numpy's plain ``mean(yt) - mean(yc)`` carries the rounding of two means near 1e8
(about 1e-8 absolute), more than 1e-9 of an effect of 0.01.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sds.config import engine_scope
from sds.data.io import open_table
from sds.experiments.analysis import aggregates as ag
from sds.experiments.analysis.moments import Moments, from_arrays
from sds.experiments.analysis.run import analyze
from sds.experiments.analysis.spec import parse

CENTRE, LIFT = 1e8, 0.01
REL, POOL_REL = 1e-9, 1e-12


def big_frame(units: int, seed: int = 7) -> pd.DataFrame:
    """Units in two arms: a pre-period covariate x ~ N(1e8, 1) and the metric
    y = x + N(0, 0.5) + LIFT in treatment; three segments and five assignment days."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, units)
    x = rng.normal(CENTRE, 1.0, units)
    y = x + rng.normal(0.0, 0.5, units) + LIFT * arm
    day = pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 5, units), unit="D")
    return pd.DataFrame(
        {
            "user": np.arange(units),
            "variant": np.where(arm == 1, "treatment", "control"),
            "y": y,
            "x": x,
            "segment": rng.choice(["a", "b", "c"], units),
            "day": day,
        }
    )


def spec(**extra: object) -> dict[str, Any]:
    return {
        "unit": "user",
        "variant": "variant",
        "control": "control",
        "metrics": [
            {"name": "plain", "type": "mean", "column": "y"},
            {"name": "cuped", "type": "mean", "column": "y", "covariate": "x"},
        ],
        "correction": "none",
        **extra,
    }


def numpy_reference(frame: pd.DataFrame) -> dict[str, Any]:
    """Per arm np.var / np.cov; the CUPED theta from both arms pooled, its effect and
    standard error (Welch, as tea-tasting and Deng et al. 2013)."""
    out: dict[str, Any] = {"arms": {}}
    for arm, g in frame.groupby("variant"):
        y, x = g["y"].to_numpy(), g["x"].to_numpy()
        out["arms"][arm] = {"var_y": np.var(y, ddof=1), "var_x": np.var(x, ddof=1)}
        out["arms"][arm]["cov"] = np.cov(y, x)[0, 1]
    y, x = frame["y"].to_numpy(), frame["x"].to_numpy()
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    c, t = (frame[frame["variant"] == a] for a in ("control", "treatment"))

    def shifted(g: pd.DataFrame, column: str) -> float:
        return float(np.mean(g[column].to_numpy() - CENTRE))

    effect = shifted(t, "y") - shifted(c, "y") - theta * (shifted(t, "x") - shifted(c, "x"))
    var = [np.var(g["y"] - theta * g["x"], ddof=1) / len(g) for g in (c, t)]
    out.update(theta=theta, effect=effect, std_error=float(np.sqrt(sum(var))))
    out["plain_effect"] = shifted(t, "y") - shifted(c, "y")
    return out


def engine_moments(spec_: dict[str, Any], data: Any, *keys: str) -> dict[Any, Moments]:
    """The engine's aggregate query, pooled per ``keys`` (the path sds.analyze takes)."""
    parsed = parse(spec_)
    with engine_scope(parsed):
        named = isinstance(data, pd.DataFrame)
        table = open_table(data, name="DataFrame") if named else open_table(data)
        grain = ag.detect_grain(table, parsed)
        agg = ag.aggregate(table, parsed, ag.units(table, parsed, grain), grain)
        return agg.moments_by(*keys)


def check_against_numpy(result: dict[str, Any], per_arm: dict[Any, Moments], ref: Any) -> None:
    for arm, expected in ref["arms"].items():
        m = per_arm[(arm,)]
        assert m.var("y") == pytest.approx(expected["var_y"], rel=REL, abs=0)
        assert m.var("x") == pytest.approx(expected["var_x"], rel=REL, abs=0)
        assert m.cov("y", "x") == pytest.approx(expected["cov"], rel=REL, abs=0)
    rows = {e["metric"]: e for e in result["effects"]}
    cuped = rows["cuped"]
    assert cuped["cuped"]["theta"] == pytest.approx(ref["theta"], rel=REL, abs=0)
    assert cuped["effect"] == pytest.approx(ref["effect"], rel=REL, abs=0)
    assert cuped["std_error"] == pytest.approx(ref["std_error"], rel=REL, abs=0)
    assert rows["plain"]["effect"] == pytest.approx(ref["plain_effect"], rel=REL, abs=0)


@pytest.fixture(scope="module")
def million() -> pd.DataFrame:
    return big_frame(1_000_000)


def test_variance_covariance_and_cuped_of_n_1e8_match_numpy(million: pd.DataFrame) -> None:
    ref = numpy_reference(million)
    result = analyze(spec(), million).to_dict()
    check_against_numpy(result, engine_moments(spec(), million, ag.VARIANT), ref)
    # the figures are not only close but right: var(x) is 1, theta about 1
    assert ref["arms"]["control"]["var_x"] == pytest.approx(1.0, abs=0.01)
    assert ref["theta"] == pytest.approx(1.0, abs=0.01)


def test_parquet_source_matches_numpy(tmp_path: Any) -> None:
    frame = big_frame(200_000, seed=3)
    path = tmp_path / "big.parquet"
    frame.to_parquet(path)
    result = analyze(spec(), str(path)).to_dict()
    check_against_numpy(
        result, engine_moments(spec(), str(path), ag.VARIANT), numpy_reference(frame)
    )


def test_segments_and_days_pool_to_the_whole(million: pd.DataFrame) -> None:
    """The aggregate rows are per arm x segment x day; pooled per arm they equal numpy on
    the whole arm to 1e-12."""
    fine = spec(segments=["segment"], date="day")
    pooled = engine_moments(fine, million, ag.VARIANT)
    assert len(engine_moments(fine, million, ag.VARIANT, "segment", ag.DAY)) == 2 * 3 * 5
    for (arm,), m in pooled.items():
        g = million[million["variant"] == arm]
        assert m.n == len(g)
        assert m.mean("y") == pytest.approx(g["y"].mean(), rel=POOL_REL, abs=0)
        assert m.var("y") == pytest.approx(np.var(g["y"], ddof=1), rel=POOL_REL, abs=0)
        assert m.cov("y", "x") == pytest.approx(np.cov(g["y"], g["x"])[0, 1], rel=POOL_REL, abs=0)


def test_chan_merge_of_parts_equals_the_whole() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(CENTRE, 1.0, 300_000)
    y = x + rng.normal(0.0, 0.5, 300_000)
    whole = from_arrays({"y": y, "x": x})
    cuts = np.sort(rng.choice(np.arange(1, 300_000), 11, replace=False))
    parts = [
        from_arrays({"y": a, "x": b})
        for a, b in zip(np.split(y, cuts), np.split(x, cuts), strict=True)
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged + part
    assert merged.n == whole.n
    for v in ("y", "x"):
        assert merged.mean(v) == pytest.approx(whole.mean(v), rel=POOL_REL, abs=0)
        assert merged.var(v) == pytest.approx(whole.var(v), rel=POOL_REL, abs=0)
    assert merged.cov("y", "x") == pytest.approx(whole.cov("y", "x"), rel=POOL_REL, abs=0)
    assert whole.var("x") == pytest.approx(np.var(x, ddof=1), rel=1e-12, abs=0)
