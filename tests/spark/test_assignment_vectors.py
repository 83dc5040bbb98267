"""The committed assignment vectors give exactly their arms on Spark (``local[2]``), with
integer ids in a bigint column and string ids in a string column."""

from __future__ import annotations

from typing import Any

import pytest

from sds.data.io import open_table
from tests.reference import assign_vectors as vectors
from tests.spark.conftest import on

pytestmark = pytest.mark.slow


def test_spark_reproduces_committed_vectors(spark_engine: Any) -> None:
    frames = vectors.id_frames()

    def open_ids(kind: str) -> Any:
        table = open_table(frames[kind])
        # on Spark, not necessarily the fixture's Engine object: a test that clears the
        # engine cache (tests/cli/test_assign_write_table.py) makes the next one anew
        assert table.engine.is_spark and spark_engine.is_spark
        return table

    checked, wrong = on("spark", lambda: vectors.engine_mismatches(open_ids))
    assert checked == vectors.N_VECTORS
    assert not wrong, wrong[:5]
