"""`Engine.write_table` on Spark: a result written as a catalog table, replaced whole.

The checks read the catalog with SQL. py4j leaves some of its client sockets to the garbage
collector during these catalog statements (a ResourceWarning, an error in this suite);
only that warning, about a socket, is ignored here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from sds.errors import DataError

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


def _rows_and_sum(spark_engine: Any) -> tuple[int, int]:
    query = "SELECT count(*) AS n, sum(a) AS s FROM sds_written.t"
    (row,) = spark_engine.con.raw_sql(query).collect()
    return int(row["n"]), int(row["s"])


def test_a_table_is_written_then_replaced(spark_engine: Any, tmp_path: Path) -> None:
    location = (tmp_path / "db").as_uri()
    spark_engine.con.raw_sql(f"CREATE DATABASE IF NOT EXISTS sds_written LOCATION '{location}'")
    rows = ibis.memtable(pa.table({"a": [1, 2, 3], "g": ["x", "y", "x"]}))
    assert spark_engine.write_table(rows, "sds_written.t") == "sds_written.t"
    assert _rows_and_sum(spark_engine) == (3, 6)
    spark_engine.write_table(rows.filter(rows.g == "x"), "sds_written.t")
    assert _rows_and_sum(spark_engine) == (2, 4)
    shown = spark_engine.con.raw_sql("SHOW TABLES IN sds_written").collect()
    assert [r.tableName for r in shown if not r.isTemporary] == ["t"]  # no temporary left
    with pytest.raises(DataError, match="is not a table name"):
        spark_engine.write_table(rows, "sds_written.t; DROP DATABASE x")
