"""The aggregate rows pooled without pandas (``sds.experiments.analysis.rows``) give what
pandas' ``groupby(keys, sort=True, dropna=False)`` gave, to the last bit: the same keys in
the same order (missing ones last, as NaN) and the same moments. The reference below is
the pooling sds ran on pandas before, applied to the same rows as a DataFrame."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sds.experiments.analysis import rows as rw
from sds.experiments.analysis.moments import Moments
from sds.experiments.analysis.queries import VARIANT, Layout

LAYOUT = Layout(
    outcomes=["y", "x"],
    covariates=["z"],
    binary=[],
    pairs=[("y", "y"), ("y", "z"), ("z", "z"), ("x", "x"), ("x", "y")],
    keys=[VARIANT, "seg", "__day"],
)


def reference(frame: pd.DataFrame, lay: Layout, keys: list[str]) -> dict[tuple, Moments]:
    """sds's pooling before this module (pandas groupby), verbatim."""
    out = {}
    for index, group in frame.groupby(keys, sort=True, dropna=False):
        key = index if isinstance(index, tuple) else (index,)
        with np.errstate(over="ignore", invalid="ignore"):
            n = group["n"].to_numpy(dtype=float)
            total = float(n.sum())
            weights = n / total
            offsets = {v: group[lay.mean_name(v)].to_numpy(dtype=float) for v in lay.variables}
            pooled = {v: float(weights @ m) for v, m in offsets.items()}
            dev = {v: offsets[v] - pooled[v] for v in lay.variables}
            co = {
                (a, b): float(group[lay.comoment_name(a, b)].sum() + n @ (dev[a] * dev[b]))
                for a, b in lay.pairs
            }
        out[key] = Moments(total, pooled, co, {})
    return out


def table(rows: int, seed: int, seg: pa.Array | None = None) -> pa.Table:
    rng = np.random.default_rng(seed)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 9, rows)]
    columns: dict[str, pa.Array] = {
        VARIANT: pa.array(rng.choice(["control", "b", "a"], rows).tolist()),
        "seg": seg if seg is not None else pa.array(rng.choice(["ios", "web", "Ä", ""], rows)),
        "__day": pa.array([None if i % 17 == 5 else d for i, d in enumerate(days)], pa.date32()),
        "n": pa.array(rng.integers(1, 50_000, rows), pa.int64()),
    }
    for i in range(len(LAYOUT.variables)):
        columns[f"m{i}"] = pa.array(rng.normal(1e3 * i, 10, rows))
    for a, b in LAYOUT.pairs:
        values = rng.normal(1e6, 1e5, rows).tolist()
        columns[LAYOUT.comoment_name(a, b)] = pa.array(
            [None if j % 11 == 3 else v for j, v in enumerate(values)], pa.float64()
        )
    return pa.table(columns)


def as_reference_frame(t: pa.Table) -> pd.DataFrame:
    """The rows as sds's from_moments made them from the same query result."""
    frame = t.to_pandas()
    frame = frame.fillna({c: 0 for c in frame.columns if c not in LAYOUT.keys})
    for a, b in LAYOUT.pairs:
        name = LAYOUT.comoment_name(a, b)
        frame[name] = frame[name].astype(float) * (frame["n"].astype(float) - 1)
    return frame


def same(found: dict[tuple, Moments], expected: dict[tuple, Moments]) -> None:
    assert len(found) == len(expected)
    for (k1, m1), (k2, m2) in zip(found.items(), expected.items(), strict=True):
        assert len(k1) == len(k2)
        for a, b in zip(k1, k2, strict=True):  # NaN keys compare as NaN, of the same type
            assert type(a) is type(b) and (a == b or (a != a and b != b)), (k1, k2)
        # exact: every float to the last bit (NaN where both give NaN)
        assert bits(m1) == bits(m2), (k1, m1, m2)


def bits(m: Moments) -> list[bytes]:
    values = [m.n, *m.means.values(), *m.comoments.values()]
    return [np.float64(v).tobytes() for v in values]


KEY_SETS = [[VARIANT], [VARIANT, "seg"], [VARIANT, "__day"], [VARIANT, "seg", "__day"]]


@pytest.mark.parametrize("keys", KEY_SETS)
@pytest.mark.parametrize("rows", [3, 40, 700])  # 700: pairwise sums of more than 128 terms
def test_pooled_rows_equal_pandas_groupby(keys: list[str], rows: int) -> None:
    seg = pa.array([None if i % 13 == 2 else s for i, s in enumerate(["x", "y", "Ä"] * rows)])
    t = table(rows, seed=rows, seg=seg[:rows])
    found = rw.pool(rw.moment_rows(t, LAYOUT), LAYOUT, keys)
    same(found, reference(as_reference_frame(t), LAYOUT, keys))
    assert set(keys) <= rw.moment_rows(t, LAYOUT).own_keys  # grouped without pandas


@pytest.mark.parametrize(
    "seg",
    [
        pa.array([3, 1, None, 2] * 10, pa.int64()),
        pa.array([True, False, None, True] * 10),
        pa.array([dt.datetime(2024, 1, d % 3 + 1) for d in range(40)], pa.timestamp("us")),
    ],
)
def test_other_key_types_are_grouped_by_pandas(seg: pa.Array) -> None:
    """Numbers, booleans and times keep pandas' own key objects (numpy.int64, Timestamp)."""
    t = table(40, seed=3, seg=seg)
    rows = rw.moment_rows(t, LAYOUT)
    assert "seg" not in rows.own_keys
    same(
        rw.pool(rows, LAYOUT, [VARIANT, "seg"]),
        reference(as_reference_frame(t), LAYOUT, [VARIANT, "seg"]),
    )


def test_overflowed_comoments_are_skipped_as_pandas_skips_nan() -> None:
    t = table(30, seed=5)
    name = LAYOUT.comoment_name("y", "z")
    values = t[name].to_pylist()
    # an overflow: inf and -inf pool to NaN; NaN from the engine counts as 0 (as NULL)
    values[4], values[7], values[9] = float("inf"), float("-inf"), float("nan")
    t = t.set_column(t.column_names.index(name), name, pa.array(values, pa.float64()))
    same(
        rw.pool(rw.moment_rows(t, LAYOUT), LAYOUT, [VARIANT]),
        reference(as_reference_frame(t), LAYOUT, [VARIANT]),
    )


def test_missing_numbers_are_nan_and_integers_stay_integers() -> None:
    t = pa.table({"n": pa.array([1, 2], pa.int64()), "k": pa.array([1, None], pa.int64())})
    rows = rw.from_arrow(t, [])
    assert rows["n"].dtype == np.int64 and rows["n"].tolist() == [1, 2]
    assert rows["k"].dtype == np.float64 and rows["k"][0] == 1 and np.isnan(rows["k"][1])
