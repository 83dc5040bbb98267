"""No code from a formula and no statement but one query from a SQL data source.

A regression formula is evaluated by patsy as Python, and a SQL data source runs in DuckDB:
both are refused (exit 2, one line) unless they are the formula language or one read-only
query. Every attack here tries to create a marker file; none may appear.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sds.errors import InputError, ParameterError
from sds.stats.formula_guard import check_formula
from tests.conftest import invoke

pytestmark = pytest.mark.hostile


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    """Run in tmp_path, so a relative marker path written by an attack lands there."""
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


@pytest.fixture
def ab_csv(in_tmp: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 400
    pre = rng.gamma(2, 5, n)
    frame = pd.DataFrame(
        {
            "revenue": pre * 0.7 + rng.gamma(1, 3, n),
            "pre_revenue": pre,
            "region": rng.choice(["north", "south", "east"], n),
            "converted": (rng.random(n) < 0.3).astype(int),
        }
    )
    path = in_tmp / "ab.csv"
    frame.to_csv(path, index=False)
    return path


def _one_line_exit_2(result: object) -> str:
    code, stderr = result.exit_code, result.stderr  # type: ignore[attr-defined]
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return str(lines[0])


FORMULA_ATTACKS = [
    "revenue ~ pre_revenue + I(__import__('os').system('touch MARKER'))",
    "revenue ~ I(open('MARKER', 'w').close())",
    "revenue ~ pre_revenue + np.os.system('touch MARKER')",
    "revenue ~ I((lambda: __import__('os').system('touch MARKER'))())",
    "revenue ~ I(f\"{__import__('os').system('touch MARKER')}\")",
    "revenue ~ I(getattr(np, 'os').system('touch MARKER'))",
    "revenue ~ I([os for os in [1]])",
    "revenue ~ pre_revenue[0]",
    "revenue ~ C(region, **{'x': 1})",
    "revenue ~ pre_revenue\nimport os",
]


@pytest.mark.parametrize("formula", FORMULA_ATTACKS)
def test_formula_that_runs_code_is_refused_and_runs_nothing(ab_csv: Path, formula: str) -> None:
    result = invoke(["stats", "ols", "--data", str(ab_csv), "--formula", formula])
    line = _one_line_exit_2(result)
    assert "'--formula'" in line and "C()" in line  # names the parameter and what is allowed
    assert not (ab_csv.parent / "MARKER").exists()


def test_formula_refusal_names_the_offending_piece() -> None:
    with pytest.raises(ParameterError, match="__import__"):
        check_formula("y ~ I(__import__('os').system('x'))")
    with pytest.raises(ParameterError, match=r"np\.load"):
        check_formula("y ~ np.load('x')")
    with pytest.raises(ParameterError, match="attribute access"):
        check_formula("y ~ x.real")


ALLOWED_FORMULAS = [
    "revenue ~ pre_revenue + C(region)",
    "revenue ~ pre_revenue",
    "np.log(revenue) ~ log(pre_revenue) + I(pre_revenue ** 2)",
    "revenue ~ pre_revenue * C(region)",
    "revenue ~ 0 + pre_revenue + converted",
    "revenue ~ pre_revenue:converted + standardize(pre_revenue)",
    "revenue ~ C(region, Treatment('south')) + center(pre_revenue)",
    "revenue ~ C(region, Treatment(reference='south')) + sqrt(pre_revenue)",
    'revenue ~ Q("pre_revenue") + np.log1p(pre_revenue) + exp(converted)',
    "revenue ~ (pre_revenue + C(region)) ** 2",
]


@pytest.mark.parametrize("formula", ALLOWED_FORMULAS)
def test_formula_language_still_works(ab_csv: Path, formula: str) -> None:
    result = invoke(["stats", "ols", "--data", str(ab_csv), "--formula", formula, "-f", "json"])
    assert result.exit_code == 0, result.stderr


def test_logit_formula_with_a_comparison_still_works(ab_csv: Path) -> None:
    formula = "I(region == 'north') ~ pre_revenue + revenue"
    result = invoke(["stats", "logit", "--data", str(ab_csv), "--formula", formula, "-f", "json"])
    assert result.exit_code == 0, result.stderr


REFUSED_SQL = {
    "COPY": "COPY (SELECT 42 AS a) TO 'MARKER'",
    "ATTACH": "ATTACH 'MARKER' AS m",
    "INSTALL": "INSTALL 'MARKER'",
    "LOAD": "LOAD 'MARKER'",
    "PRAGMA": "PRAGMA enable_profiling = 'json'",
    "SET": "SET profiling_output = 'MARKER'",
    "CREATE": "CREATE TABLE t AS SELECT 1 AS a",
    "INSERT": "INSERT INTO t VALUES (1)",
    "DROP": "DROP TABLE t",
    "2 statements": "SELECT 1 AS a; SELECT 2 AS a",
    "SELECT then COPY": "SELECT 1 AS a; COPY (SELECT 42 AS a) TO 'MARKER'",
    "COPY after a comment": "SELECT 1 AS a -- comment\n; COPY (SELECT 42 AS a) TO 'MARKER'",
    "EXPORT": "EXPORT DATABASE 'MARKER'",
    "checkpoint": "SELECT * FROM checkpoint()",
}


@pytest.mark.parametrize("sql", list(REFUSED_SQL.values()), ids=list(REFUSED_SQL))
def test_sql_that_is_not_one_query_is_refused_by_profile(in_tmp: Path, sql: str) -> None:
    line = _one_line_exit_2(invoke(["profile", sql]))
    assert "SQL query" in line and "Give one SELECT query" in line
    assert not (in_tmp / "MARKER").exists()


@pytest.mark.parametrize("sql", list(REFUSED_SQL.values()), ids=list(REFUSED_SQL))
def test_sql_that_is_not_one_query_is_refused_in_a_spec(ab_csv: Path, sql: str) -> None:
    spec = ab_csv.parent / "spec.yaml"
    spec.write_text(yaml.safe_dump({**_analysis_spec(), "data": sql}))
    line = _one_line_exit_2(invoke(["analyze", str(spec)]))
    assert "Give one SELECT query" in line
    assert not (ab_csv.parent / "MARKER").exists()


def _analysis_spec() -> dict[str, object]:
    return {
        "unit": "user_id",
        "variant": "variant",
        "control": "control",
        "metrics": [{"name": "revenue", "type": "mean", "column": "revenue"}],
        "resamples": 100,
    }


def test_the_refusal_names_the_statement_kind() -> None:
    from sds.data.sqlguard import check_query

    with pytest.raises(InputError, match=r"not 2 statements \(SELECT, COPY\)"):
        check_query("SELECT 1 AS a; COPY (SELECT 42 AS a) TO 'MARKER'")
    with pytest.raises(InputError, match="not ATTACH"):
        check_query("ATTACH 'x.db' AS x")
    with pytest.raises(InputError, match="cannot be parsed"):
        check_query("SELECT * FROM t WHERE")


def test_one_select_or_with_query_still_works(ab_csv: Path) -> None:
    rng = np.random.default_rng(1)
    users = pd.DataFrame(
        {
            "user_id": np.arange(600),
            "variant": rng.choice(["control", "treatment"], 600),
            "revenue": rng.gamma(2, 5, 600),
        }
    )
    users.to_parquet(ab_csv.parent / "users.parquet")
    queries = [
        "SELECT * FROM read_parquet('users.parquet')",
        "WITH u AS (SELECT * FROM 'users.parquet') SELECT user_id, variant, revenue FROM u;",
        "FROM read_parquet('users.parquet') SELECT *",
    ]
    for sql in queries:
        result = invoke(["profile", sql, "-f", "json"])
        assert result.exit_code == 0, (sql, result.stderr)
        spec = ab_csv.parent / "spec.yaml"
        spec.write_text(yaml.safe_dump({**_analysis_spec(), "data": sql}))
        result = invoke(["analyze", str(spec), "-f", "json"])
        assert result.exit_code == 0, (sql, result.stderr)


def test_table_option_with_a_csv_is_refused(ab_csv: Path) -> None:
    line = _one_line_exit_2(invoke(["profile", str(ab_csv), "--table", "t"]))
    assert "'--table'" in line and "DuckDB" in line


def test_did_refuses_a_covariate_column_whose_name_is_code(in_tmp: Path) -> None:
    from sds.causal.did import did

    weird = "{__import__('os').system('touch MARKER')}"  # formulaic runs {...} as Python
    rng = np.random.default_rng(0)
    units, periods = np.repeat(np.arange(20), 4), np.tile(np.arange(4), 20)
    frame = pd.DataFrame(
        {
            "unit": units,
            "time": periods,
            "d": ((units < 10) & (periods >= 2)).astype(int),
            "y": rng.normal(size=80),
            weird: rng.normal(size=80),
        }
    )
    with pytest.raises(ParameterError, match="covariates"):
        did(frame, "y", "d", "unit", "time", covariates=[weird], permutations=0)
    assert not (in_tmp / "MARKER").exists()
