"""Duplicate rows on Spark: exact, as on DuckDB, at a million rows.

Spark's 32-bit ``hash`` (what Ibis' ``hash()`` compiles to there) found about 116 false
duplicates in a clean table of this size; the count is now exact on Spark. It is made from
64-bit row hashes, confirmed exactly wherever rows share one (:mod:`sds.data.rowcount`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sds.data import rowcount
from sds.data.io import open_table
from sds.data.rowcount import count_distinct_rows
from sds.data.rows import row_hash64
from sds.features.store import fingerprint_table
from tests.features.test_profile_duplicates import rows_with_repeats
from tests.spark.conftest import both, on

pytestmark = pytest.mark.slow

ROWS = 1_000_000


@pytest.mark.parametrize("repeats", [0, 1_234])
def test_duplicate_rows_exact_on_both_engines(
    tmp_path: Path, spark_engine: Any, repeats: int
) -> None:
    """The count the profile makes (``count_distinct_rows``), on a million rows; the whole
    profile is compared across engines in ``test_parity``."""
    frame = rows_with_repeats(ROWS, repeats, seed=repeats)
    assert int(frame.duplicated().sum()) == repeats  # the reference
    path = str(tmp_path / "rows.parquet")
    frame.to_parquet(path)

    def duplicates() -> int:
        table = open_table(path)
        return ROWS - count_distinct_rows(table.engine, table.expr, source="rows")

    duck, spark = both(duplicates, spark_engine)
    assert duck == spark == repeats


@pytest.mark.parametrize("max_shared", [rowcount.MAX_SHARED, 0])
def test_rows_that_share_a_hash_are_told_apart_exactly(
    tmp_path: Path, spark_engine: Any, monkeypatch: pytest.MonkeyPatch, max_shared: int
) -> None:
    """Spark's row hash skips nulls, so (1, null) and (null, 1) share one: the rows under a
    shared hash are compared whole (or, past ``MAX_SHARED`` shared hashes, every row is);
    -0.0 equals 0.0 and NaN equals NaN, as pandas counts them."""
    monkeypatch.setattr(rowcount, "MAX_SHARED", max_shared)
    frame = pd.DataFrame(
        {
            "x": pd.array([1, None, 1, None, 2, 2, 3, 4], "Int64"),
            "y": pd.array([None, 1, None, 1, 5, 5, 6, 7], "Int64"),
            "z": [0.5, 0.5, 0.5, 0.5, -0.0, 0.0, float("nan"), 1.0],
        }
    )
    frame = pd.concat([frame, frame.iloc[[6]]], ignore_index=True)  # a NaN row repeated
    reference = len(frame.assign(z=frame["z"] + 0.0).drop_duplicates())  # -0.0 + 0.0 is 0.0
    assert reference == 5
    path = str(tmp_path / "shared.parquet")
    frame.to_parquet(path)
    table = open_table(path, engine=spark_engine)
    hashes = spark_engine.execute(table.expr.select(h=row_hash64(table.expr, "spark")))["h"]
    assert hashes[0] == hashes[1] and hashes.nunique() == 4  # one collision, and repeats
    assert count_distinct_rows(spark_engine, table.expr, source="shared") == reference


def test_fingerprint_is_64_bit_on_spark(tmp_path: Path, spark_engine: Any) -> None:
    """The fingerprint sums xxhash64 row hashes on Spark: it follows the content (not the
    row order) and tells a one-value change."""
    frame = rows_with_repeats(10_000, 0)
    paths = [tmp_path / f"{name}.parquet" for name in ("a", "shuffled", "changed")]
    frame.to_parquet(paths[0])
    frame.sample(frac=1.0, random_state=1).reset_index(drop=True).to_parquet(paths[1])
    frame.loc[17, "b"] = "changed"
    frame.to_parquet(paths[2])

    def fingerprints() -> list[str]:
        return [fingerprint_table(open_table(str(p))) for p in paths]

    first, shuffled, changed = on("spark", fingerprints)
    assert first == shuffled != changed
    table = open_table(str(paths[0]), engine=spark_engine)
    compiled = spark_engine.con.compile(row_hash64(table.expr, "spark"))
    assert "XXHASH64(" in compiled and " HASH(" not in compiled
