"""``inf``, ``-inf``, ``Infinity`` and ``NaN`` in a CSV are numbers, as they are in Parquet.

DuckDB's sniffer typed a column VARCHAR when its first data row held such a value, so
``sds profile --strict`` passed a file whose Parquet twin failed, and ``sds train`` made a
numeric column a category.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sds.data import csvtypes
from sds.data.io import open_table
from tests.conftest import invoke

pytestmark = pytest.mark.hostile


def _frame(first: float = np.inf, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    x[0] = first  # the first data row is where the sniffer went wrong
    x[7] = -np.inf
    x[9:14] = np.inf
    return pd.DataFrame(
        {
            "x": x,
            "z": rng.normal(size=n),
            "y": (rng.random(n) < 0.4).astype(int),
            "g": rng.choice(["a", "b"], n),
        }
    )


@pytest.fixture
def inf_csv(tmp_path: Path) -> Path:
    path = tmp_path / "inf.csv"
    _frame().to_csv(path, index=False)  # pandas writes inf and -inf
    return path


def test_profile_strict_fails_on_infinite_values_in_a_csv(inf_csv: Path) -> None:
    parquet = inf_csv.with_suffix(".parquet")
    _frame().to_parquet(parquet)
    for path in (parquet, inf_csv):
        result = invoke(["profile", str(path), "--strict"])
        assert result.exit_code == 2, result.stderr
        assert "non_finite in column 'x'" in result.stderr
        assert "7 infinite values" in result.stderr


@pytest.mark.parametrize("first", ["inf", "-inf", "Infinity", "-Infinity", "NaN", "+inf"])
def test_spelling_of_a_non_finite_first_value_keeps_the_column_numeric(
    tmp_path: Path, first: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"x,g\n{first},a\n1.5,b\n-2,a\n1e3,b\n")
    table = open_table(str(path))
    assert table.expr.schema()["x"].is_floating()
    assert table.expr.schema()["g"].is_string()
    values = table.engine.execute(table.expr)["x"].to_numpy()
    assert list(values[1:]) == [1.5, -2.0, 1000.0]
    assert not np.isfinite(values[0])


def test_text_that_only_starts_like_a_number_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("word,n\ninf,1\ninfo,2\nnan,3\n")
    assert open_table(str(path)).expr.schema()["word"].is_string()


def test_an_all_empty_csv_column_is_profiled_and_flagged_all_null(tmp_path: Path) -> None:
    """Its sniff query sums NULLs to NULL (NaN in pandas, and truthy: ``NaN or 0`` is NaN),
    which must count as no non-finite values, not end in ``int(nan)``."""
    path = tmp_path / "t.csv"
    path.write_text("x,empty,inf_text\n1.5,,inf\n2,,-inf\n3,,1\n")
    schema = open_table(str(path)).expr.schema()
    assert schema["empty"].is_string() and schema["inf_text"].is_floating()
    result = invoke(["profile", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    flags = {c["name"]: c["flags"] for c in json.loads(result.stdout)["columns"]}
    assert flags == {"x": [], "empty": ["all_null"], "inf_text": ["non_finite"]}


def test_normal_files_are_not_read_twice(tmp_path: Path, monkeypatch: Any) -> None:
    calls: list[list[str]] = []
    real = csvtypes._all_numbers

    def spy(table: Any, columns: list[str], engine: Any, source: str) -> list[str]:
        calls.append(columns)
        return real(table, columns, engine, source)

    monkeypatch.setattr(csvtypes, "_all_numbers", spy)
    numbers = tmp_path / "numbers.csv"
    pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50)}).to_csv(numbers, index=False)
    open_table(str(numbers))
    assert calls == []  # no text column: no query at all
    mixed = tmp_path / "mixed.csv"
    pd.DataFrame({"a": np.arange(50.0), "s": ["x"] * 50}).to_csv(mixed, index=False)
    open_table(str(mixed))
    assert calls == [["s"]]  # one sample query, no full scan


def test_train_sees_a_number_and_names_the_infinite_values(inf_csv: Path) -> None:
    config = inf_csv.parent / "train.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": str(inf_csv),
                "target": "y",
                "candidates": ["logistic"],
                "tuning": {"trials": 1, "folds": 2},
            }
        )
    )
    result = invoke(["train", str(config), "--no-track", "--model-dir", str(inf_csv.parent / "m")])
    assert result.exit_code == 2, result.stderr
    assert "infinite values" in result.stderr and "'x'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
