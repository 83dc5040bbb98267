"""`Engine.write_table` on Spark: a result written as a catalog table, replaced whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from sds.errors import DataError

pytestmark = pytest.mark.slow


def test_a_table_is_written_then_replaced(spark_engine: Any, tmp_path: Path) -> None:
    location = (tmp_path / "db").as_uri()
    spark_engine.con.raw_sql(f"CREATE DATABASE IF NOT EXISTS sds_written LOCATION '{location}'")
    rows = ibis.memtable(pa.table({"a": [1, 2, 3], "g": ["x", "y", "x"]}))
    assert spark_engine.write_table(rows, "sds_written.t") == "sds_written.t"
    table = spark_engine.con.table("t", database="sds_written")
    assert spark_engine.scalar(table.count()) == 3
    spark_engine.write_table(rows.filter(rows.g == "x"), "sds_written.t")
    table = spark_engine.con.table("t", database="sds_written")
    assert spark_engine.scalar(table.count()) == 2
    assert spark_engine.scalar(table.a.sum()) == 4
    leftovers = [t for t in spark_engine.con.list_tables(database="sds_written") if "__sds_" in t]
    assert leftovers == []
    with pytest.raises(DataError, match="is not a table name"):
        spark_engine.write_table(rows, "sds_written.t; DROP DATABASE x")
