"""Duplicate rows on Spark: exact, as on DuckDB, at a million rows.

Spark's 32-bit ``hash`` (what Ibis' ``hash()`` compiles to there) found about 116 false
duplicates in a clean table of this size; the count is now exact on Spark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sds.data.io import open_table
from sds.data.rows import distinct_rows, row_hash64
from sds.features.store import fingerprint_table
from tests.features.test_profile_duplicates import rows_with_repeats
from tests.spark.conftest import both, on

pytestmark = pytest.mark.slow

ROWS = 1_000_000


@pytest.mark.parametrize("repeats", [0, 1_234])
def test_duplicate_rows_exact_on_both_engines(
    tmp_path: Path, spark_engine: Any, repeats: int
) -> None:
    """The count the profile makes (``distinct_rows`` on the engine's backend), on a
    million rows; the whole profile is compared across engines in ``test_parity``."""
    frame = rows_with_repeats(ROWS, repeats, seed=repeats)
    assert int(frame.duplicated().sum()) == repeats  # the reference
    path = str(tmp_path / "rows.parquet")
    frame.to_parquet(path)

    def duplicates() -> int:
        table = open_table(path)
        return ROWS - int(table.engine.scalar(distinct_rows(table.expr, table.engine.backend)))

    duck, spark = both(duplicates, spark_engine)
    assert duck == spark == repeats


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
