"""Profile statistics against independent references (pandas and numpy) on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sds.data import synth
from sds.errors import ParameterError
from sds.features.profile import profile
from sds.features.profile_result import QUANTILE_NAMES, QUANTILES, ProfileOptions

REL = 1e-9  # engine sums in a different order than numpy: allow rounding, nothing more


@pytest.fixture
def frame_with_quirks(small_frame: pd.DataFrame) -> pd.DataFrame:
    df = pd.concat([small_frame, small_frame.iloc[[0, 1, 2]]], ignore_index=True)
    df.loc[7, "visits"] = np.nan  # nullable integer after the round trip below
    return df


def test_counts_and_moments_match_pandas(tmp_path: Path, frame_with_quirks: pd.DataFrame) -> None:
    df = frame_with_quirks
    path = tmp_path / "q.parquet"
    df.to_parquet(path, index=False)
    result = profile(str(path))
    assert result.n_rows == len(df)
    assert result.duplicate_rows == int(df.duplicated().sum()) == 3
    for col in df.columns:
        got = result.column(col)
        assert got.null_count == int(df[col].isna().sum()), col
        assert got.distinct_count == int(df[col].nunique()), col
    for col in ("score", "visits", "user_id"):
        s = df[col].dropna().astype(float)
        block = result.column(col).numeric
        assert block is not None
        assert block["min"] == s.min() and block["max"] == s.max()
        assert block["mean"] == pytest.approx(s.mean(), rel=REL)
        assert block["std"] == pytest.approx(s.std(ddof=1), rel=REL)
        expected_q = np.quantile(s.to_numpy(), QUANTILES)  # linear, like quantile_cont
        for name, value in zip(QUANTILE_NAMES, expected_q, strict=True):
            assert block[name] == pytest.approx(value, rel=REL), (col, name)
        assert block["zero_count"] == int((s == 0).sum())


def test_top_values_match_value_counts(small_frame: pd.DataFrame) -> None:
    result = profile(small_frame)
    counts = small_frame["city"].value_counts()
    top = result.column("city").top_values
    assert [(t["value"], t["count"]) for t in top] == list(counts.items())
    assert top[0]["row_share"] == pytest.approx(counts.iloc[0] / len(small_frame))


def test_histogram_matches_numpy(small_frame: pd.DataFrame) -> None:
    result = profile(small_frame, ProfileOptions(bins=15))
    hist = result.column("score").histogram
    assert hist is not None
    values = small_frame["score"].dropna().to_numpy()
    expected, _ = np.histogram(values, bins=np.asarray(hist["edges"]))
    assert hist["counts"] == expected.tolist()
    assert sum(hist["counts"]) == len(values)


def test_integer_histogram_has_whole_number_bins(small_frame: pd.DataFrame) -> None:
    hist = profile(small_frame).column("visits").histogram
    assert hist is not None
    widths = np.diff(hist["edges"])
    assert np.allclose(widths, np.round(widths)) and hist["edges"][0] % 1 == 0.5
    expected, _ = np.histogram(small_frame["visits"], bins=np.asarray(hist["edges"]))
    assert hist["counts"] == expected.tolist()


def test_temporal_and_text_blocks(small_frame: pd.DataFrame) -> None:
    result = profile(small_frame)
    signup = result.column("signup")
    assert signup.kind == "temporal"
    assert signup.temporal == {
        "min": small_frame["signup"].min(),
        "max": small_frame["signup"].max(),
    }
    assert signup.histogram is not None and sum(signup.histogram["counts"]) == len(small_frame)
    city = result.column("city").text
    lengths = small_frame["city"].dropna().str.len()
    assert city == {
        "min_length": lengths.min(),
        "max_length": lengths.max(),
        "mean_length": pytest.approx(lengths.mean(), rel=REL),
        "empty_count": 0,
    }


def test_nan_and_inf_are_counted_not_averaged(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "nan.parquet"  # written by Arrow: a real NaN, not pandas' null
    pq.write_table(pa.table({"x": pa.array([1.0, 2.0, np.nan, np.inf, -np.inf, 3.0])}), path)
    x = profile(str(path)).column("x")
    assert x.numeric is not None
    assert (x.numeric["nan_count"], x.numeric["inf_count"]) == (1, 2)
    assert (x.numeric["min"], x.numeric["max"], x.numeric["mean"]) == (1.0, 3.0, 2.0)
    assert "non_finite" in x.flags


def test_flags_on_the_churn_generator() -> None:
    df = synth.make_churn(n_rows=20_000, seed=2)
    result = profile(df)
    flags = {(f["column"], f["flag"]) for f in result.flags}
    assert ("customer_id", "id_like") in flags
    assert ("country", "constant") in flags
    assert ("referral_code", "mostly_null") in flags
    assert ("zip_code", "high_cardinality") in flags
    assert not any(c == "monthly_charges" for c, _ in flags)


def test_single_row_and_all_null() -> None:
    result = profile(pd.DataFrame({"a": [1.5], "b": pd.array([None], dtype="string")}))
    flags = {(f["column"], f["flag"]) for f in result.flags}
    assert ("*", "single_row") in flags and ("b", "all_null") in flags
    assert result.column("a").numeric["std"] is None  # undefined, not NaN, not 0


def test_near_constant_flag() -> None:
    df = pd.DataFrame({"a": ["x"] * 995 + ["y"] * 5})
    assert profile(df).column("a").flags == ["near_constant"]


def test_approximate_distinct_past_the_limit() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"k": rng.integers(0, 30_000, 100_000)})
    approx = profile(df, ProfileOptions(exact_distinct_max_rows=1_000))
    exact = df["k"].nunique()
    assert approx.distinct_method.startswith("approximate")
    assert abs(approx.column("k").distinct_count / exact - 1) < 0.05
    assert approx.column("k").numeric["p50"] == pytest.approx(np.median(df["k"]), rel=0.02)


def test_columns_option_and_bad_options(small_frame: pd.DataFrame) -> None:
    result = profile(small_frame, ProfileOptions(columns=("score", "city")))
    assert [c.name for c in result.columns] == ["score", "city"]
    with pytest.raises(ParameterError, match="bins == 1, must be >= 2"):
        ProfileOptions(bins=1)
