"""Duplicate rows are counted exactly (or by 64-bit row hashes on DuckDB), against pandas.

The Spark tier (``tests/spark/test_rows.py``) runs the same tables on Spark, whose Ibis
``hash()`` is 32-bit and found false duplicates.
"""

from __future__ import annotations

from pathlib import Path

import ibis.expr.operations as ops
import numpy as np
import pandas as pd
import pytest

from sds.data.io import open_table
from sds.data.rows import HASHED_DISTINCT, distinct_rows, row_hash64
from sds.errors import ParameterError
from sds.features.profile import profile


def rows_with_repeats(n: int, repeats: int, seed: int = 0) -> pd.DataFrame:
    """`n` rows of which exactly `repeats` repeat an earlier row (all columns equal); no
    single column is unique, and a float column has nulls, so only whole rows tell."""
    rng = np.random.default_rng(seed)
    key = rng.permutation(n)
    frame = pd.DataFrame(
        {
            "a": key // 1_000,
            "b": (key % 1_000).astype(str),
            "c": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 5, n) * 0.5),
        }
    )
    if repeats:
        copied = rng.choice(n - repeats, repeats, replace=False)  # distinct earlier rows
        frame.iloc[n - repeats :] = frame.iloc[copied].to_numpy()
        frame["a"] = frame["a"].astype("int64")
    return frame


@pytest.mark.parametrize("repeats", [0, 1_234])
def test_duckdb_duplicate_rows_match_pandas(tmp_path: Path, repeats: int) -> None:
    frame = rows_with_repeats(200_000, repeats, seed=repeats)
    assert int(frame.duplicated().sum()) == repeats  # the reference
    path = tmp_path / "rows.parquet"
    frame.to_parquet(path)
    assert profile(str(path)).duplicate_rows == repeats
    assert profile(str(path), columns=["a"]).duplicate_rows == repeats  # whole rows still
    table = open_table(str(path))
    for backend in ("duckdb", "any other"):  # the hashed rule and the exact one, on DuckDB
        count = table.engine.scalar(distinct_rows(table.expr, backend))
        assert count == 200_000 - repeats, backend


def test_only_duckdb_counts_by_hash() -> None:
    t = open_table(rows_with_repeats(10, 2)).expr
    assert {"duckdb"} == HASHED_DISTINCT
    assert distinct_rows(t, "duckdb").op().find(ops.Hash)
    for backend in ("spark", "postgres"):  # no Hash op: Spark's is 32-bit, PostgreSQL has none
        assert not distinct_rows(t, backend).op().find(ops.Hash), backend


def test_row_hash64_per_backend() -> None:
    t = open_table(rows_with_repeats(10, 0)).expr
    assert row_hash64(t, "duckdb").op().find(ops.Hash)
    assert row_hash64(t, "duckdb").type().is_integer()
    spark = row_hash64(t, "spark")
    assert not spark.op().find(ops.Hash)
    assert spark.op().__func_name__ == "xxhash64"  # the SQL function it compiles to
    assert spark.type().is_int64()
    postgres = row_hash64(t, "postgres")
    assert not postgres.op().find(ops.Hash)
    assert postgres.op().__func_name__ == "hashtextextended" and postgres.type().is_int64()
    with pytest.raises(ParameterError, match="mysql"):
        row_hash64(t, "mysql")
