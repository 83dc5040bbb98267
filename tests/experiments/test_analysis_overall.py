"""The overall-only plan: a spec without segments and date groups by the variant alone, and
unit-level data declared as such in DuckDB is read in one pass (null ids, 0/1 columns and
the origins come from filters and the first rows, which Parquet's statistics answer).

Reference: the full plan (segments, date, and grain detection, whose first scan reads the
exact means as origins) on the same data: every overall figure (effects, intervals, p-values,
adjusted p-values, CUPED, SRM, balance, units) agrees to 1e-9. The data checks of the
one-pass plan stop on the same faults with the same counts as the full scan's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest

from sds.data import synth
from sds.data.engine import Engine
from sds.errors import DataError
from sds.experiments.analysis.run import analyze

TOL = 1e-9
METRICS = [
    {"name": "conversion", "type": "proportion", "column": "converted"},
    {"name": "revenue", "type": "mean", "column": "revenue", "covariate": "pre_revenue"},
    {"name": "ops", "type": "ratio", "numerator": "orders", "denominator": "sessions"},
]
FULL = {"segments": ["platform", "country"], "date": "assigned_at"}
EFFECT_KEYS = (
    "control", "treatment", "effect", "ci_lower", "ci_upper", "rel_effect", "rel_ci_lower",
    "rel_ci_upper", "p_value", "p_adjusted", "std_error", "statistic",
)  # fmt: skip


def spec() -> dict[str, Any]:
    return {"unit": "user_id", "variant": "variant", "control": "control", "metrics": METRICS}


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("overall") / "ab.parquet"
    synth.write_parquet("ab_test", path, seed=3, n_users=30_000)
    return str(path)


def figures(result: Any) -> dict[str, Any]:
    d = result.to_dict()
    return {
        "units": d["units"],
        "verdict": d["verdict"],
        "effects": [{k: e.get(k) for k in EFFECT_KEYS} for e in d["effects"]],
        "cuped": [e.get("cuped") for e in d["effects"]],
        "srm": {k: d["srm"][k] for k in ("chi2", "p_value", "flag")},
        "balance": d["balance"],
    }


def agree(ours: Any, reference: Any, where: str = "") -> None:
    if isinstance(reference, dict):
        assert ours.keys() == reference.keys(), where
        for key in reference:
            agree(ours[key], reference[key], f"{where}.{key}")
    elif isinstance(reference, list | tuple):
        assert len(ours) == len(reference), where
        for i, (a, b) in enumerate(zip(ours, reference, strict=True)):
            agree(a, b, f"{where}[{i}]")
    elif isinstance(reference, float):
        assert ours == pytest.approx(reference, rel=TOL, abs=TOL), where
    else:
        assert ours == reference, where


@pytest.mark.parametrize("grain", ["unit", "auto"])
def test_overall_figures_equal_the_full_plans(parquet: str, grain: str) -> None:
    overall = analyze({**spec(), "grain": "unit"}, parquet)
    full = analyze({**spec(), **FULL, "grain": grain}, parquet)
    assert overall.segments is None and overall.daily_srm is None and full.segments
    assert figures(full)["effects"][0]["p_value"] is not None
    agree(figures(overall), figures(full))


def test_a_dataframe_takes_the_same_plan(parquet: str) -> None:
    frame = pd.read_parquet(parquet)
    agree(figures(analyze({**spec(), "grain": "unit"}, frame)), figures(analyze(spec(), parquet)))


def test_the_overall_plan_reads_the_table_once_grouped_by_variant(
    parquet: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One query reads every row (the aggregate, grouped by the variant alone); the one
    other query holds filters that Parquet's statistics answer and a LIMIT (the origins,
    and whether there are rows at all)."""
    queries: list[str] = []
    original = Engine.to_pyarrow

    def spy(self: Engine, expr: Any, **kwargs: Any) -> Any:
        queries.append(str(ibis.to_sql(expr, dialect="duckdb")))
        return original(self, expr, **kwargs)

    monkeypatch.setattr(Engine, "to_pyarrow", spy)
    analyze({**spec(), "grain": "unit"}, parquet)
    full_passes = [q for q in queries if "WHERE" not in q and "LIMIT" not in q]
    assert len(full_passes) == 1, queries
    assert len(queries) == 2, queries
    assert full_passes[0].rstrip().endswith("GROUP BY\n  1"), full_passes[0]


def faulty(parquet: str, tmp_path: Path, column: str, value: Any, rows: int) -> str:
    frame = pd.read_parquet(parquet)
    whole = value is None or isinstance(value, int)  # an integer column (nullable for None)
    frame[column] = frame[column].astype("Int64" if whole else "float64")
    frame.loc[np.arange(rows) * 7 + 3, column] = value
    path = tmp_path / f"{column}.parquet"
    frame.to_parquet(path)
    return str(path)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("user_id", None, "rows have no unit id"),
        ("converted", 0.5, "a proportion metric needs a 0/1 column"),
        # integer columns are checked as < 0 or > 1 (row-group statistics): both sides
        ("converted", 2, "a proportion metric needs a 0/1 column"),
        ("converted", -1, "a proportion metric needs a 0/1 column"),
    ],
)
def test_one_pass_checks_stop_on_the_same_faults(
    parquet: str, tmp_path: Path, column: str, value: Any, message: str
) -> None:
    path = faulty(parquet, tmp_path, column, value, rows=5)
    found = []
    for grain in ("unit", "auto"):
        with pytest.raises(DataError, match=message) as caught:
            analyze({**spec(), "grain": grain}, path)
        found.append(caught.value.to_dict())
    assert found[0] == found[1]
    assert "5" in str(found[0])


@pytest.mark.parametrize("grain", ["unit", "auto", "event"])
def test_an_empty_source_is_refused_first(parquet: str, tmp_path: Path, grain: str) -> None:
    """The one-pass plan learns that there are no rows from its small query; the message is
    open_table's, and it comes before a missing column's, as when open_table checks."""
    path = tmp_path / "empty.parquet"
    pd.read_parquet(parquet).iloc[:0].to_parquet(path)
    absent = {"name": "absent", "type": "mean", "column": "no_such_column"}
    for metrics in (METRICS, [*METRICS, absent]):
        with pytest.raises(DataError, match="has no data rows") as caught:
            analyze({**spec(), "metrics": metrics, "grain": grain}, str(path))
        assert caught.value.source == str(path)


def test_a_failing_check_query_reports_the_first_problem(parquet: str, tmp_path: Path) -> None:
    """A 0/1 column the engine cannot read as numbers fails the one small query; the checks
    then run one by one, so null ids (checked first) are what is reported; without them,
    the engine's error about the column."""
    frame = pd.read_parquet(parquet)
    frame["converted"] = frame["converted"].astype(str)
    frame.loc[5, "converted"] = "yes"
    unreadable = tmp_path / "text.parquet"
    frame.to_parquet(unreadable)
    frame["user_id"] = frame["user_id"].astype("Int64")
    frame.loc[[7, 9], "user_id"] = None
    both = tmp_path / "text_null.parquet"
    frame.to_parquet(both)
    with pytest.raises(DataError, match="rows have no unit id") as caught:
        analyze({**spec(), "grain": "unit"}, str(both))
    assert "2 of 30,000 row(s)" in str(caught.value)
    with pytest.raises(DataError, match="Could not convert string 'yes'"):
        analyze({**spec(), "grain": "unit"}, str(unreadable))
