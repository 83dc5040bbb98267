"""Spark jobs sds spares: local Parquet's schema and rows come from the footers (no
inference or probe job), and a unit-level analysis runs its aggregate query and one short
job for the origins, with the same answers and messages as on DuckDB."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sds.data.io import open_table
from sds.data.spark_footer import local_footer
from sds.errors import DataError
from tests.spark.conftest import assert_same, both, on

pytestmark = pytest.mark.slow


def _jobs(spark_engine: Any, work: Callable[[], Any]) -> int:
    """How many Spark jobs ``work`` launched."""
    tracker = spark_engine.con._session.sparkContext.statusTracker()
    before = set(tracker.getJobIdsForGroup(None))
    work()
    return len(set(tracker.getJobIdsForGroup(None)) - before)


def _typed_table() -> pa.Table:
    return pa.table(
        {
            "flag": pa.array([True, None, False]),
            "tiny": pa.array([1, 2, None], pa.int8()),
            "small": pa.array([1, 2, 3], pa.int16()),
            "int": pa.array([1, None, 3], pa.int32()),
            "big": pa.array([1, 2, 3], pa.int64()),
            "single": pa.array([1.5, 2.5, None], pa.float32()),
            "double": pa.array([1.5, np.nan, 3.5]),
            "text": pa.array(["a", None, "c"]),
            "day": pa.array([0, 1, 2], pa.date32()),
            "naive": pa.array([0, 1_000_000, None], pa.timestamp("us")),
            "zoned": pa.array([0, 1_000, 2_000], pa.timestamp("ms", tz="UTC")),
            "money": pa.array([Decimal("1.25"), None, Decimal("3.50")], pa.decimal128(12, 2)),
        }
    )


def test_footer_schema_is_the_one_spark_infers(spark_engine: Any, tmp_path: Path) -> None:
    session = spark_engine.con._session
    paths = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    for path in paths:
        pq.write_table(_typed_table(), path)
    footer = local_footer(session, paths)
    assert footer is not None
    assert footer.rows == 6
    assert footer.schema == session.read.parquet(*paths).schema
    given = session.read.schema(footer.schema).parquet(*paths)
    assert _rows(given) == _rows(session.read.parquet(*paths))
    # Spark's own output: zoned times as INT96
    session.read.parquet(*paths).write.parquet(str(tmp_path / "spark"))
    parts = sorted(str(p) for p in (tmp_path / "spark").glob("part-*"))
    written = local_footer(session, parts)
    assert written is not None
    assert written.rows == 6
    assert written.schema == session.read.parquet(*parts).schema == footer.schema


def _rows(frame: Any) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # pyspark leaves its socket
        return sorted(map(str, frame.toArrow().to_pylist()))


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1, 2], pa.uint32()),  # Spark widens unsigned types
        pa.array([1, 2], pa.timestamp("ns")),  # Spark refuses nanoseconds
        pa.array([[1], [2]]),  # nested
    ],
    ids=["unsigned", "nanoseconds", "list"],
)
def test_types_spark_reads_its_own_way_are_left_to_it(
    spark_engine: Any, tmp_path: Path, column: pa.Array
) -> None:
    path = str(tmp_path / "odd.parquet")
    pq.write_table(pa.table({"x": column}), path, coerce_timestamps=None)
    assert local_footer(spark_engine.con._session, [path]) is None


def test_files_of_different_schemas_are_left_to_spark(spark_engine: Any, tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"x": [1.5]}), tmp_path / "b.parquet")
    paths = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    assert local_footer(spark_engine.con._session, paths) is None
    assert local_footer(spark_engine.con._session, ["s3a://bucket/x.parquet"]) is None


def test_opening_local_parquet_runs_no_spark_job(spark_engine: Any, tmp_path: Path) -> None:
    pq.write_table(_typed_table(), tmp_path / "t.parquet")
    path = str(tmp_path / "t.parquet")
    assert _jobs(spark_engine, lambda: on("spark", lambda: open_table(path))) == 0
    pq.write_table(_typed_table().slice(0, 0), tmp_path / "empty.parquet")
    with pytest.raises(DataError, match="has no data rows"):
        on("spark", lambda: open_table(str(tmp_path / "empty.parquet")))


def _units(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user": np.arange(n),
            "variant": rng.choice(["control", "treatment"], n),
            "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 5, n), "D"),
            "platform": rng.choice(["ios", "web"], n),
            "converted": (rng.random(n) < 0.1).astype("int8"),
            "revenue": 1e6 + rng.gamma(2.0, 10.0, n),
            "pre": np.where(rng.random(n) < 0.05, np.nan, rng.gamma(2.0, 10.0, n)),
            "orders": rng.poisson(2.0, n),
            "sessions": rng.poisson(5.0, n) + 1,
        }
    )


SPEC: dict[str, Any] = {
    "unit": "user",
    "variant": "variant",
    "control": "control",
    "grain": "unit",
    "date": "day",
    "segments": ["platform"],
    "metrics": [
        {"name": "conversion", "type": "proportion", "column": "converted"},
        {"name": "revenue", "type": "mean", "column": "revenue", "covariate": "pre"},
        {"name": "ops", "type": "ratio", "numerator": "orders", "denominator": "sessions"},
        {"name": "p90", "type": "quantile", "column": "revenue", "q": 0.9},
    ],
    "resamples": 200,
}


def test_unit_level_analysis_agrees_in_two_jobs(spark_engine: Any, tmp_path: Path) -> None:
    from sds.experiments.analysis.run import analyze

    path = str(tmp_path / "units.parquet")
    # several row groups: the origins' rows are the first ones on both engines
    pq.write_table(pa.Table.from_pandas(_units(60_000, 1)), path, row_group_size=7_000)
    duck, spark = both(lambda: analyze(SPEC, path).to_dict(), spark_engine)
    assert duck["segments"] and duck["daily_srm"]
    assert_same(duck, spark)
    overall = {k: v for k, v in SPEC.items() if k not in ("segments", "date")}
    overall["metrics"] = SPEC["metrics"][:3]  # the quantile reads unit values: a job more
    # the aggregate alone: the origins' first rows come from the file (Footer.head)
    assert _jobs(spark_engine, lambda: on("spark", lambda: analyze(overall, path))) == 1
    pq.write_table(pa.Table.from_pandas(_units(20_000, 1)), tmp_path / "two.parquet")
    pair = str(tmp_path / "*.parquet")  # several files: Spark takes the first rows
    assert _jobs(spark_engine, lambda: on("spark", lambda: analyze(overall, pair))) == 2


def test_footer_head_is_the_rows_spark_takes(spark_engine: Any, tmp_path: Path) -> None:
    session = spark_engine.con._session
    frame = _units(30_000, 6)
    path = str(tmp_path / "units.parquet")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=4_000)
    footer = local_footer(session, [path])
    assert footer is not None
    columns = ["revenue", "orders", "pre"]
    for n in (10, 4_000, 10_000, 40_000):
        head = footer.head(columns, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # pyspark leaves its socket
            taken = session.read.schema(footer.schema).parquet(path).select(*columns).take(n)
        assert head.num_rows == min(n, 30_000) == len(taken)
        expected = pa.table({c: [row[i] for row in taken] for i, c in enumerate(columns)})
        assert head.cast(expected.schema).equals(expected)
    assert footer.head(["absent"], 10) is None
    pq.write_table(pa.Table.from_pandas(frame.iloc[:0], preserve_index=False), tmp_path / "e.pq")
    empty = local_footer(session, [str(tmp_path / "e.pq")])
    assert empty is not None and empty.head(columns, 10).num_rows == 0
    both_files = local_footer(session, [path, path])
    assert both_files is not None and both_files.head(columns, 10) is None


def test_binned_drift_runs_a_query_a_step_for_all_features(
    data_dir: Path, spark_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each step of the large-input comparison (the reference's cells, its order
    statistics, the current cells, the KS refinement, the categorical features' reference
    top levels and current counts) is one query for every feature: two features or all
    twenty launch the same jobs (were 3 or 4 a numeric feature and one a categorical
    feature: 13 and 44 jobs here)."""
    from sds.monitoring import binned
    from sds.monitoring.report import monitor

    monkeypatch.setattr(binned, "EXACT_ROWS", 100)
    ref, cur = str(data_dir / "reference.parquet"), str(data_dir / "current.parquet")

    reports = []

    def jobs(features: list[str] | None) -> int:
        def run() -> Any:
            reports.append(monitor(ref, cur, features=features).to_dict())

        return _jobs(spark_engine, lambda: on("spark", run))

    few, every = jobs(["age", "gender"]), jobs(None)
    # the log's check, the answered rows' count, the two sides' counts and the service
    # figures (5); the ranges, the reference's cells, the order statistics, the current
    # cells, the reference's top levels and the current data's counts of them (6); no KS
    # refinement: every cell whose KS bound is loose holds one repeated value, which the
    # cells' smallest and largest values tell
    assert few == 11
    # every feature: the ID-like text columns' sketches ride in the ranges' query; one
    # query more only when an estimate is near the threshold and is counted exactly
    # (zip_code here: 2,271 distinct of 3,000 rows)
    skipped = reports[1]["skipped"]
    assert {s["feature"] for s in skipped} == {"customer_id", "zip_code"}
    exact = any(not s["distinct_approximate"] for s in skipped)
    assert every == 11 + exact


def test_exact_drift_runs_a_query_a_step_for_all_features(
    data_dir: Path, spark_engine: Any
) -> None:
    """Below a million rows the numeric features' bin counts (both sides) are one query
    and their KS statistics another, for every feature (were 3 queries a numeric
    feature: about 50 jobs here with every feature)."""
    from sds.monitoring.report import monitor

    ref, cur = str(data_dir / "reference.parquet"), str(data_dir / "current.parquet")

    def jobs(features: list[str] | None) -> int:
        return _jobs(
            spark_engine, lambda: on("spark", lambda: monitor(ref, cur, features=features))
        )

    # 12 queries: the log's check, the answered rows' count, the two sides' counts, the
    # service figures, the two sides' finite checks (the reference's with the text
    # columns' distinct counts), the reference's quantile edges, the bin counts, KS, the
    # reference's top levels and the current data's counts of them. Spark adds a job per
    # broadcast; measured: 14 with one numeric feature, 23 with all 11 (the KS part of
    # each numeric feature broadcasts its totals to the cross join)
    assert jobs(["age", "gender"]) == 14
    assert jobs(None) == 23


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"user": [np.nan, 1.0, 2.0]}, "rows have no unit id"),
        ({"converted": [2, 0, 1]}, "a proportion metric needs a 0/1 column"),
        ({"revenue": [np.nan, 1.0, 2.0]}, "metric values are missing"),
        ({"user": [np.nan, 1.0, 2.0], "revenue": [np.nan, 1.0, 2.0]}, "rows have no unit id"),
    ],
    ids=["null-id", "not-binary", "missing-outcome", "null-id-first"],
)
def test_unit_level_errors_are_duckdbs(
    spark_engine: Any, tmp_path: Path, change: dict[str, list[Any]], message: str
) -> None:
    from sds.experiments.analysis.run import analyze

    frame = _units(3_000, 2)
    for column, values in change.items():  # the first rows changed: inside the origins' rows
        frame[column] = [*values, *frame[column].iloc[len(values) :]]
    path = str(tmp_path / "bad.parquet")
    frame.to_parquet(path)
    spec = {**SPEC, "metrics": SPEC["metrics"][:3]}

    def job() -> str:
        with pytest.raises(DataError, match=message) as raised:
            analyze(spec, path)
        return str(raised.value)

    duck, spark = both(job, spark_engine)
    assert duck == spark


def test_cutoff_features_file_counts_coverage_while_written(
    spark_engine: Any, tmp_path: Path
) -> None:
    """At a cutoff, the entities without events before it, and the summary, are counted
    while Spark writes the file (no pass over the events or the file of their own): the
    same warning and summary as DuckDB's, Parquet and CSV, and no trace of the hidden flag
    in the file."""
    from sds.features.build import build

    rng = np.random.default_rng(4)
    n = 5_000
    events = pd.DataFrame(
        {
            "customer": rng.integers(0, 400, n).astype("float64"),
            "ts": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"),
            "amount": rng.gamma(2.0, 10.0, n),
        }
    )
    events.loc[:5, "customer"] = np.nan  # no entity: neither counted nor known
    late = events["customer"] >= 380  # these (and one more) appear only after the cutoff
    events.loc[late, "ts"] += pd.Timedelta(days=120)
    path = str(tmp_path / "events.parquet")
    events.to_parquet(path)
    spec = {
        "entity": "customer",
        "timestamp": "ts",
        "cutoff": "2026-03-01",
        "windows": ["7d", "30d"],
        "aggregations": [{"column": "amount", "functions": ["nonnull", "sum", "mean"]}],
        "rfm": {"monetary": "amount"},
    }

    def job(engine: str, suffix: str = ".parquet") -> dict[str, Any]:
        out = tmp_path / f"{engine}{suffix}"
        return on(engine, lambda: build(spec, path, output=out)[0].to_dict() | {"output": None})

    duck, spark = job("duckdb"), job("spark")
    assert any("21 of 400 entities have no events before the cutoff" in w for w in duck["warnings"])
    assert duck["entities"] == 400 and duck["rows"] == 401  # and the missing entity's row
    assert 0 < duck["features"][2]["missing"] < 1  # amount_mean_7d: some without events
    assert_same(duck, spark)
    assert_same(job("duckdb", ".csv"), job("spark", ".csv"))
    written = pq.read_schema(next((tmp_path / "spark.parquet").glob("part-*.parquet")))
    assert "__sds_known" not in written.names
    assert written.names == pq.read_schema(tmp_path / "duckdb.parquet").names
    # the sort's sample and the write: two jobs (the values' check rides along the
    # feature query, the summary is observed during the write, not read back)
    assert _jobs(spark_engine, lambda: job("spark")) == 2


@pytest.mark.parametrize(
    ("value", "found"),
    [(np.inf, "non-finite"), (np.nan, "non-finite"), (1e200, "beyond")],
    ids=["inf", "nan", "huge"],
)
def test_cutoff_features_file_refuses_unusable_values_as_duckdb(
    spark_engine: Any, tmp_path: Path, value: float, found: str
) -> None:
    """A value the check refuses, found while Spark writes the file: DuckDB's message, and
    the earlier file at the path stays as it was."""
    from sds.features.build import build

    rng = np.random.default_rng(5)
    n = 2_000
    events = pd.DataFrame(
        {
            "customer": rng.integers(0, 100, n),
            "ts": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"),
            "amount": rng.gamma(2.0, 10.0, n),
        }
    )
    spec = {"entity": "customer", "timestamp": "ts", "cutoff": "2026-03-01", "windows": ["30d"]}
    spec |= {"aggregations": [{"column": "amount", "functions": ["sum"]}]}
    clean = str(tmp_path / "clean.parquet")
    events.to_parquet(clean)
    out = tmp_path / "spark.parquet"
    on("spark", lambda: build(spec, clean, output=out))
    before = sorted(p.name for p in out.iterdir())
    events.loc[n - 1, "amount"] = value  # a late event: after the cutoff, checked still
    events.loc[n - 1, "ts"] = pd.Timestamp("2026-05-01")
    bad = str(tmp_path / "bad.parquet")
    pa_table = pa.Table.from_pandas(events, preserve_index=False)
    pq.write_table(
        pa_table.set_column(2, "amount", pa.array(events["amount"], from_pandas=False)), bad
    )

    def job(engine: str) -> str:
        with pytest.raises(DataError) as raised:
            build(spec, bad, output=tmp_path / f"{engine}-bad.parquet")
        return str(raised.value)

    duck, spark = on("duckdb", lambda: job("duckdb")), on("spark", lambda: job("spark"))
    assert found in duck
    if value == np.inf:  # Spark's check query counts inf among the huge values (as before)
        assert spark.split(";")[0] == duck.split(";")[0]
    else:
        assert spark == duck
    with pytest.raises(DataError):
        on("spark", lambda: build(spec, bad, output=out))
    assert sorted(p.name for p in out.iterdir()) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


def test_footer_statistics_give_null_counts_and_bounds(spark_engine: Any, tmp_path: Path) -> None:
    table = pa.table({"id": [1, None, 3, 4], "flag": pa.array([0, 1, 1, 0], pa.int8())})
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=2)
    pq.write_table(table.slice(0, 1), tmp_path / "b.parquet")
    session = spark_engine.con._session
    footer = local_footer(session, [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")])
    assert footer is not None
    assert footer.nulls("id") == 1 and footer.nulls("flag") == 0
    assert footer.bounds("id") == (1, 4) and footer.bounds("flag") == (0, 1)
    assert footer.nulls("absent") is None and footer.bounds("absent") is None
    pq.write_table(table, tmp_path / "bare.parquet", write_statistics=False)
    bare = local_footer(session, [str(tmp_path / "bare.parquet")])
    assert bare is not None
    assert bare.nulls("id") is None and bare.bounds("flag") is None
    pq.write_table(pa.table({"x": pa.array([None, None], pa.int64())}), tmp_path / "n.parquet")
    empty = local_footer(session, [str(tmp_path / "n.parquet")])
    assert empty is not None
    assert empty.nulls("x") == 2 and empty.bounds("x") is None


@pytest.mark.parametrize(
    ("change", "later", "checked"),
    [
        ({}, False, True),
        ({"user": [np.nan, 1.0, 2.0]}, True, True),
        ({"converted": [2, 0, 1]}, False, False),
        ({"converted": [0.0, 1.0, 0.5]}, False, False),  # not integers: the query checks
    ],
    ids=["clean", "null-id", "not-binary", "floats"],
)
def test_footers_spare_the_aggregate_its_checks(
    spark_engine: Any, tmp_path: Path, change: dict[str, list[Any]], later: bool, checked: bool
) -> None:
    """The null ids and the 0/1 columns are checked from local Parquet's statistics, so
    the aggregate query neither reads the ids nor tests each value, unless the statistics
    leave it open (then the query checks, with DuckDB's messages: see above)."""
    from sds.experiments.analysis import aggregates as ag
    from sds.experiments.analysis.spec import parse

    frame = _units(3_000, 3)
    for column, values in change.items():
        frame[column] = [*values, *frame[column].iloc[len(values) :]]
    path = str(tmp_path / "units.parquet")
    frame.to_parquet(path)
    spec = parse({**SPEC, "metrics": SPEC["metrics"][:3], "data": path})
    table = on("spark", lambda: open_table(path))
    grain, scanned = ag.first_scan(table, spec)
    assert grain == "unit" and scanned is not None
    assert bool(scanned.get(ag.IDS_LATER)) is later
    assert bool(scanned.get(ag.CHECKED)) is checked


def _tied(n: int) -> pd.DataFrame:
    """Columns whose values repeat, in ties broken by value, and with nulls."""
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "id": np.arange(n),  # mostly unique: no top values
            "tiny": pd.array(rng.integers(-3, 4, n), "int8"),
            "level": rng.choice(["b", "a", "c", "d"], n),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 9, n) * 0.25),
            "flag": rng.random(n) < 0.3,
            "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 6, n), "D"),
            "empty": pd.array([None] * n, "Int64"),  # no values: no top values
        }
    )


def test_profile_top_values_in_one_job_as_on_duckdb(spark_engine: Any, tmp_path: Path) -> None:
    """Every column's top values come from one query on Spark (two jobs: the union and
    its sort), with DuckDB's values, counts and tie order, as pandas counts them."""
    from sds.features.profile import profile

    frame = _tied(4_000)
    frame.loc[:40, "level"] = "a"  # "a" leads; the other three tie in order of value
    path = str(tmp_path / "tied.parquet")
    frame.to_parquet(path)
    duck, spark = both(lambda: profile(path).to_dict(), spark_engine)
    for result in (duck, spark):  # the engines name the timestamp type apart
        assert result["columns"][5].pop("dtype").startswith("timestamp")
    assert_same(duck, spark)
    tops = {c["name"]: c["top_values"] for c in duck["columns"]}
    assert tops["id"] == tops["empty"] == []
    for name in ("tiny", "level", "score", "flag", "day"):
        counts = frame[name].value_counts(dropna=True)
        expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        found = [(t["value"], t["count"]) for t in tops[name]]
        assert [c for _, c in found] == [c for _, c in expected], name
        assert [str(v)[:10] for v, _ in found] == [str(v)[:10] for v, _ in expected], name
    # row count, statistics (2: the plain aggregates, then the quantiles), exact distincts,
    # duplicate rows, top values (2), histograms: one job each (no two columns could be
    # equal); before, one a column for top values
    assert _jobs(spark_engine, lambda: on("spark", lambda: profile(path))) == 8


def test_wide_aggregates_run_as_generated_code(spark_engine: Any) -> None:
    """An aggregate of 200 figures (a profile's plain aggregates of 18 columns are about
    110) is compiled by whole-stage code generation in the session sds starts: Spark's
    default stops at 100 fields and runs such a query interpreted, 3 times the CPU; its
    figures are the ones numpy gives."""
    from pyspark.sql import functions as sf

    session = spark_engine.con._session
    frame = session.range(1_000).selectExpr(*[f"id * {i} AS c{i}" for i in range(40)])
    stats = [f(c) for c in frame.columns for f in (sf.count, sf.min, sf.max, sf.avg, sf.stddev)]
    query = frame.agg(*stats)
    plan = query._jdf.queryExecution().executedPlan().toString()
    assert plan.startswith("*("), plan[:200]  # "*(n)" marks a generated-code stage
    with warnings.catch_warnings():  # pyspark leaves its collection socket to the collector
        warnings.simplefilter("ignore", ResourceWarning)
        row = query.toArrow().to_pylist()[0]
    values = np.arange(1_000) * 7.0
    assert row["avg(c7)"] == pytest.approx(values.mean(), rel=1e-12)
    assert row["stddev(c7)"] == pytest.approx(values.std(ddof=1), rel=1e-12)
    assert row["max(c7)"] == values.max()
