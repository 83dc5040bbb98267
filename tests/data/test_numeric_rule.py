"""The one numeric rule (:mod:`sds.data.numeric`) and its one message, and that
``sds stats``, ``sds causal`` and PSI follow it: the same bad column gives the same
one-line error on the stats and the causal paths."""

from __future__ import annotations

import decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sds.causal.data import numeric as causal_numeric
from sds.data.numeric import as_numeric, is_numeric
from sds.errors import DataError
from sds.stats.frame import numeric as stats_numeric
from sds.stats.psi import is_numeric as psi_numeric
from tests.conftest import invoke

NUMERIC = {
    "bool": (pd.Series([True, False, True]), [1.0, 0.0, 1.0]),
    "nullable boolean": (pd.Series([True, None, False], dtype="boolean"), [1.0, np.nan, 0.0]),
    "int": (pd.Series([1, 2, 3]), [1.0, 2.0, 3.0]),
    "nullable int": (pd.Series([1, None, 3], dtype="Int64"), [1.0, np.nan, 3.0]),
    "float with NaN": (pd.Series([1.5, np.nan, -2.0]), [1.5, np.nan, -2.0]),
    "0/1": (pd.Series([0, 1, 1], dtype="int8"), [0.0, 1.0, 1.0]),
    "decimals": (pd.Series([decimal.Decimal("1.25"), None], dtype=object), [1.25, np.nan]),
    "numbers as objects": (pd.Series([1, 2.5, True], dtype=object), [1.0, 2.5, 1.0]),
    "all missing": (pd.Series([None, None], dtype=object), [np.nan, np.nan]),
}
NOT_NUMERIC = {
    "text": pd.Series(["basic", "pro", "basic"]),
    "text that reads as numbers": pd.Series(["1", "2.5", "3"]),
    "numbers with one stray text": pd.Series(["1", "n/a", "3"], dtype=object),
    "mixed objects": pd.Series([1, "x", 2.0], dtype=object),
    "dates": pd.Series(pd.to_datetime(["2026-01-01", "2026-01-02"])),
    "durations": pd.Series(pd.to_timedelta([1, 2], unit="D")),
    "category of numbers": pd.Series([1, 2, 1], dtype="category"),
    "complex": pd.Series([1 + 1j, 2 + 0j]),
}


@pytest.mark.parametrize("name", list(NUMERIC))
def test_numeric_columns_read_as_floats(name: str) -> None:
    series, expected = NUMERIC[name]
    assert is_numeric(series) and psi_numeric(series)
    got = as_numeric(series, "x", "src")
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.asarray(expected, dtype=float))


@pytest.mark.parametrize("name", list(NOT_NUMERIC))
def test_other_columns_are_refused_in_one_shape(name: str) -> None:
    series = NOT_NUMERIC[name]
    assert not is_numeric(series) and not psi_numeric(series)
    messages = []
    for reader in (
        lambda s: as_numeric(s, "x", "src"),
        lambda s: stats_numeric(pd.DataFrame({"x": s}), "x", "src"),
        lambda s: causal_numeric(pd.DataFrame({"x": s}), "x", "src"),
    ):
        with pytest.raises(DataError) as info:
            reader(series)
        err = info.value
        assert (err.column, err.source, err.problem) == ("x", "src", "is not numeric")
        assert str(series.dtype) in str(err.found) and "e.g. " in str(err.found)
        assert err.expected == "numbers (integers or reals; booleans count as 0/1)"
        assert err.hint
        messages.append(str(err))
    assert len(set(messages)) == 1  # the library, the stats and the causal readers agree


def test_the_message_names_the_values_that_are_not_numbers() -> None:
    with pytest.raises(DataError) as info:
        as_numeric(pd.Series(["1", "n/a", "3", None, "n/a"], dtype=object), "spend", "f.csv")
    assert str(info.value) == (
        "f.csv: column 'spend': is not numeric; found object column, 2 of 4 values not "
        "numbers, e.g. 'n/a'; expected numbers (integers or reals; booleans count as 0/1). "
        "Choose a numeric column, or fix or filter the values that are not numbers."
    )
    with pytest.raises(DataError, match=r"text that reads as numbers, e\.g\. '1', '2'.*CAST"):
        as_numeric(pd.Series(["1", "2"], dtype=object), "spend", "f.csv")


def test_infinities_are_refused_in_the_same_shape() -> None:
    with pytest.raises(DataError) as info:
        as_numeric(pd.Series([1.0, np.inf, -np.inf, np.inf]), "x", "src")
    err = info.value
    assert (err.column, err.source, err.problem) == ("x", "src", "holds infinite values")
    assert err.found == "float64 column, 3 infinite value(s), e.g. -inf, inf"
    assert err.expected == "finite numbers (integers or reals; booleans count as 0/1)"


@pytest.fixture
def table(tmp_path: Path) -> Path:
    n = 40
    rng = np.random.default_rng(1)
    path = tmp_path / "d.csv"
    pd.DataFrame(
        {
            "plan": ["basic", "pro"] * (n // 2),
            "spend": [f"{v:.2f}" for v in rng.gamma(2.0, 5.0, n - 1)] + ["n/a"],
            "g": ["control"] * (n // 2) + ["treatment"] * (n // 2),
            "t": [0, 1] * (n // 2),
            "x": rng.normal(size=n),
        }
    ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("column", "found"),
    [
        ("plan", "40 of 40 values not numbers, e.g. 'basic', 'pro'"),
        ("spend", "1 of 40 values not numbers, e.g. 'n/a'"),
    ],
)
def test_stats_and_causal_give_the_same_message(table: Path, column: str, found: str) -> None:
    data = str(table)
    stats_run = invoke(["stats", "ttest", "--data", data, "--value", column, "--group", "g"])
    causal = ["causal", "ipw", "--data", data, "--outcome", column, "--treatment", "t"]
    causal_run = invoke([*causal, "--covariates", "x"])
    for run in (stats_run, causal_run):
        assert run.exit_code == 2 and run.stdout == ""
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert stats_run.stderr == causal_run.stderr
    assert stats_run.stderr.startswith(f"error: {data}: column '{column}': is not numeric;")
    assert found in stats_run.stderr
