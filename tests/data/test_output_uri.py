"""Data outputs given as URIs: Spark's writer takes them (``tests/spark/test_uri_output.py``);
DuckDB writes a ``file://`` URI as its local path and refuses every other scheme with a
one-line error (exit 2), writing nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sds.data.io import open_table
from sds.data.uri import output_target
from sds.errors import InputError
from tests.conftest import invoke


def test_output_target_per_engine(tmp_path: Path) -> None:
    local = tmp_path / "out.parquet"
    assert output_target(local, spark=False) == local
    assert output_target(str(local), spark=True) == local  # a plain path stays a Path
    assert output_target(f"file://{local}", spark=False) == local
    for uri in (f"file://{local}", "s3a://bucket/out.parquet", "hdfs://nn:8020/x.csv"):
        assert output_target(uri, spark=True) == uri
        assert isinstance(output_target(uri, spark=True), str)  # Spark's writer, as given
    for uri in ("s3a://bucket/out.parquet", "hdfs:///x.csv", "abfss://c@a.dfs.core/x.parquet"):
        with pytest.raises(InputError, match="only --engine spark writes to URIs"):
            output_target(uri, spark=False)
    with pytest.raises(InputError, match="'//' was lost"):
        output_target(Path("s3a://bucket/out.parquet"), spark=True)  # Path made it s3a:/


def test_duckdb_writes_a_file_uri_locally(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": range(50), "x": [0.5] * 50})
    table = open_table(frame)
    out = tmp_path / "out.parquet"
    assert table.engine.write(table.expr, f"file://{out}") == out
    pd.testing.assert_frame_equal(pd.read_parquet(out), frame)


def test_duckdb_refuses_a_uri_output_on_the_cli(tmp_path: Path) -> None:
    pd.DataFrame({"id": range(20)}).to_csv(tmp_path / "units.csv", index=False)
    args = ["assign", "--experiment", "e", "--variants", "a,b", "--id-column", "id"]
    args += ["--data", str(tmp_path / "units.csv")]
    res = invoke([*args, "--data-output", "s3a://bucket/assigned.parquet"])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert "only --engine spark writes to URIs" in lines[0] and "s3a://bucket" in lines[0]
    assert not list(tmp_path.glob("s3a*")) and not Path("s3a:").exists()  # nothing written
    ok = invoke([*args, "--data-output", f"file://{tmp_path / 'assigned.parquet'}"])
    assert ok.exit_code == 0, ok.stderr
    assert len(pd.read_parquet(tmp_path / "assigned.parquet")) == 20
