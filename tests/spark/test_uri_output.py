"""``--engine spark`` hands a URI output to Spark's own writer (its output committer makes
the folder appear whole), Parquet or CSV by suffix; a ``file://`` URI stands in for
``s3a://``, ``hdfs://`` and ``abfss://``, which take the same path through Spark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import invoke

pytestmark = pytest.mark.slow

SPARK = ["--engine", "spark", "--spark-master", "local[2]"]


def _assign(units: Path, output: str, engine: list[str]) -> Any:
    args = ["assign", "--experiment", "e", "--variants", "a,b", "--id-column", "id"]
    return invoke([*engine, *args, "--data", str(units), "-f", "json", "--data-output", output])


@pytest.fixture
def units(tmp_path: Path) -> Path:
    path = tmp_path / "units.parquet"
    pd.DataFrame({"id": [f"u{i}" for i in range(500)]}).to_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_assign_writes_to_a_uri_with_spark(
    tmp_path: Path, units: Path, spark_engine: Any, suffix: str
) -> None:
    folder = tmp_path / f"assigned{suffix}"
    uri = f"file://{folder}"
    reference = tmp_path / f"duck{suffix}"
    duck = _assign(units, str(reference), [])
    for _ in range(2):  # the second run replaces the first's output
        res = _assign(units, uri, SPARK)
        assert res.exit_code == 0, res.stderr
        assert json.loads(res.stdout)["output"] == uri
    assert duck.exit_code == 0, duck.stderr
    names = {p.name for p in folder.iterdir()}
    assert "_SUCCESS" in names and not any(n.startswith("_temporary") for n in names)
    parts = sorted(folder.glob(f"part-*{suffix}"))
    assert parts
    assert not list(tmp_path.glob(".assigned*"))  # no local temporary name or rename
    read = pd.read_parquet if suffix == ".parquet" else pd.read_csv  # CSV has its header
    spark_rows = pd.concat([read(p) for p in parts]).sort_values("id").reset_index(drop=True)
    duck_rows = read(reference).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(spark_rows, duck_rows)


def test_a_uri_folder_that_is_not_spark_output_is_refused(
    tmp_path: Path, units: Path, spark_engine: Any
) -> None:
    folder = tmp_path / "mine.parquet"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    res = _assign(units, f"file://{folder}", SPARK)
    assert res.exit_code == 2
    assert "not an earlier Spark output" in res.stderr.strip().splitlines()[0]
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
