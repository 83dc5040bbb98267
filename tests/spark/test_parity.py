"""Every engine-backed job gives the same answer on DuckDB and on Spark (``local[2]``).

The same library code (Ibis expressions) runs on both; counts must be equal and sums and
statistics equal to 1e-9 (see ``conftest.differences``). Assignment is also checked against
the documented rule computed in Python with hashlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sds.cli.demo_analysis import SPEC as DEMO_SPEC
from sds.data.io import open_table
from tests.conftest import invoke
from tests.spark.conftest import assert_same, both, on

pytestmark = pytest.mark.slow


def test_profile_parquet_and_csv(data_dir: Path, spark_engine: Any) -> None:
    from sds.features.profile import profile

    for name in ("churn.parquet", "churn.csv"):
        duck, spark = both(lambda n=name: profile(str(data_dir / n)).to_dict(), spark_engine)
        assert duck["n_rows"] == 3_000
        assert_same(duck, spark)


def _analysis_spec(data_dir: Path) -> dict[str, Any]:
    spec = yaml.safe_load(DEMO_SPEC.format(name="parity"))
    spec["data"] = str(data_dir / "ab.parquet")
    spec["sequential"] = {"method": "msprt", "looks": 4}
    spec["resamples"] = 300
    return dict(spec)


def test_experiment_analysis_every_metric_type(data_dir: Path, spark_engine: Any) -> None:
    from sds.experiments.analysis.run import analyze

    spec = _analysis_spec(data_dir)
    duck, spark = both(lambda: analyze(spec).to_dict(), spark_engine)
    types = {m["type"] for m in spec["metrics"]}
    assert types == {"ratio", "mean", "proportion", "quantile"}
    assert {e["metric"] for e in duck["effects"]} == {m["name"] for m in spec["metrics"]}
    assert duck["segments"] and duck["novelty"]  # the breakdowns ran, not just the totals
    assert_same(duck, spark)


def test_analysis_moments_of_n_1e8_match_numpy(tmp_path: Path, spark_engine: Any) -> None:
    """N(1e8, 1) metric and covariate: variance, covariance, CUPED theta, effect and
    standard error equal numpy to 1e-9 on both engines (DuckDB's covar_samp, Spark's sums
    of values shifted by an origin near their mean: no raw sums of squares), and the two
    engines agree."""
    from sds.experiments.analysis import aggregates as ag
    from sds.experiments.analysis.run import analyze
    from tests.experiments.test_analysis_precision import (
        big_frame,
        check_against_numpy,
        engine_moments,
        numpy_reference,
        spec,
    )

    frame = big_frame(200_000, seed=3)
    path = str(tmp_path / "big.parquet")
    frame.to_parquet(path)
    ref = numpy_reference(frame)

    def job() -> tuple[dict[str, Any], dict[Any, Any]]:
        return analyze(spec(), path).to_dict(), engine_moments(spec(), path, ag.VARIANT)

    (duck, duck_moments), (spark, spark_moments) = both(job, spark_engine)
    check_against_numpy(duck, duck_moments, ref)
    check_against_numpy(spark, spark_moments, ref)
    assert_same(duck, spark)


def test_assignment_in_sql_matches_the_documented_rule(data_dir: Path, spark_engine: Any) -> None:
    from sds.experiments.assign import assign, assign_table

    def job() -> pd.DataFrame:
        table = open_table(str(data_dir / "ab.parquet"))
        expr = assign_table(table, "user_id", "checkout", ["a", "b", "c"], [0.2, 0.3, 0.5])
        frame = table.engine.execute(expr.distinct().order_by("user_id"), source=table.name)
        return frame.reset_index(drop=True)

    duck, spark = both(job, spark_engine)
    assert len(duck) == 4_000
    assert_same(duck, spark)
    python = assign(duck["user_id"].tolist(), "checkout", ["a", "b", "c"], [0.2, 0.3, 0.5])
    assert duck["variant"].tolist() == python
    shares = duck["variant"].value_counts(normalize=True)
    assert shares["c"] == pytest.approx(0.5, abs=0.03)


def test_string_ids_and_daily_srm(data_dir: Path, spark_engine: Any) -> None:
    from sds.experiments.assign import assign, assign_table
    from sds.experiments.srm import srm_by_day

    ids = pd.DataFrame({"uid": [f"user-{i}" for i in range(500)]})

    def job() -> tuple[list[str], dict[str, Any]]:
        table = open_table(ids)
        expr = assign_table(table, "uid", "exp", ["control", "treatment"])
        out = table.engine.execute(expr.order_by("uid"), source=table.name)
        events = open_table(str(data_dir / "ab.parquet"))
        daily = srm_by_day(events, "variant", "ts", ["control", "treatment"])
        return out["variant"].tolist(), daily.to_dict()

    duck, spark = both(job, spark_engine)
    assert duck[0] == assign(sorted(ids["uid"]), "exp", ["control", "treatment"])
    assert_same(duck, spark)


FEATURES = {
    "entity": "customer_id",
    "timestamp": "ts",
    "windows": ["7d", "30d", "90d"],
    "aggregations": [
        {"column": "amount", "functions": ["nonnull", "sum", "mean", "min", "max", "std"]},
        {"column": "category", "functions": ["nunique", "last"]},
    ],
    "rfm": {"monetary": "amount"},
    "calendar": ["dayofweek", "hour", "month", "weekend", "days_since_first"],
}


def test_point_in_time_windows_and_rfm(data_dir: Path, spark_engine: Any) -> None:
    from sds.features.build import build

    spec = {**FEATURES, "labels": str(data_dir / "labels.parquet")}

    def job() -> tuple[dict[str, Any], pd.DataFrame]:
        summary, frame = build(spec, str(data_dir / "transactions.parquet"))
        assert frame is not None
        return summary.to_dict(), frame.drop(columns=["label_time"])

    (duck_summary, duck), (spark_summary, spark) = both(job, spark_engine)
    assert len(duck) == 500
    assert duck.filter(like="amount_sum_90d").notna().sum().item() > 300
    assert_same(duck_summary, spark_summary)
    assert list(duck.columns) == list(spark.columns)
    assert_same(duck, spark)


def test_feature_table_written_by_spark_reads_back_equal(
    data_dir: Path, tmp_path: Path, spark_engine: Any
) -> None:
    from sds.features.build import build

    spec = {**FEATURES, "cutoff": "2025-05-01"}
    events = str(data_dir / "transactions.parquet")
    duck_out, spark_out = tmp_path / "duck.parquet", tmp_path / "spark.parquet"
    on("duckdb", lambda: build(spec, events, output=duck_out))
    on("spark", lambda: build(spec, events, output=spark_out))
    on("spark", lambda: build(spec, events, output=spark_out))  # again, over the old one
    assert spark_out.is_dir() and duck_out.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    key = ["customer_id"]
    duck = pd.read_parquet(duck_out).sort_values(key).reset_index(drop=True)
    spark = on(
        "duckdb",
        lambda: open_table(str(spark_out)).engine.execute(
            open_table(str(spark_out)).expr.order_by(key)
        ),
    )
    assert len(duck) == len(spark) > 300
    assert_same(duck.drop(columns=["label_time"]), spark.drop(columns=["label_time"]))


def test_drift_histograms_tests_and_service_figures(data_dir: Path, spark_engine: Any) -> None:
    from sds.monitoring.report import monitor

    ref, cur = str(data_dir / "reference.parquet"), str(data_dir / "current.parquet")
    duck, spark = both(lambda: monitor(ref, cur).to_dict(), spark_engine)
    assert duck["alerts"][0] == "last_login_days"  # the planted shift
    assert duck["service"]["log_rows"] == 2_000
    assert duck["output"] is not None
    # ID-like text columns left out, counted exactly (3,000 ids; 2,271 zip codes)
    assert [(s["feature"], s["distinct"]) for s in duck["skipped"]] == [
        ("customer_id", 3_000),
        ("zip_code", 2_271),
    ]
    assert_same(duck, spark)


def _distinct(report: dict[str, Any]) -> dict[str, tuple[int, bool]]:
    """The skipped columns' distinct counts and whether each is a sketch's estimate (each
    engine's own HyperLogLog; near the threshold the count is exact), taken out of
    ``report``."""
    return {
        s["feature"]: (s.pop("distinct"), s.pop("distinct_approximate")) for s in report["skipped"]
    }


def test_binned_drift_on_spark(
    data_dir: Path, spark_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The large-input path (grid cells, edge splits, KS refinement) on Spark gives
    DuckDB's figures."""
    from sds.monitoring import binned
    from sds.monitoring.report import monitor

    monkeypatch.setattr(binned, "EXACT_ROWS", 100)
    ref, cur = str(data_dir / "reference.parquet"), str(data_dir / "current.parquet")
    duck, spark = both(lambda: monitor(ref, cur).to_dict(), spark_engine)
    assert any(f.get("ks_error_bound", 0) > 0 for f in duck["features"])  # binned indeed
    exact = {"customer_id": 3_000, "zip_code": 2_271}  # pandas' nunique, 3,000 rows
    for found in (_distinct(duck), _distinct(spark)):  # the same columns left out
        assert set(found) == set(exact)
        for column, (distinct, approximate) in found.items():
            if approximate:  # an estimate decides alone only past 1.5 x the threshold
                assert 1_500 * 1.5 < distinct <= 3_000
                assert abs(distinct / exact[column] - 1) < 0.25
            else:
                assert distinct == exact[column]
    assert_same(duck, spark)


def test_cli_engine_flag_and_spec_key(data_dir: Path, tmp_path: Path, spark_engine: Any) -> None:
    import sds.data.engine as engine_module

    args = ["profile", str(data_dir / "churn.parquet"), "--format", "json"]
    duck = invoke(args)
    spark = invoke(["--engine", "spark", "--spark-master", "local[2]", *args])
    assert duck.exit_code == spark.exit_code == 0, spark.stderr
    assert_same(_json(duck.stdout), _json(spark.stdout))

    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(
        yaml.safe_dump({**_analysis_spec(data_dir), "engine": "spark", "spark_master": "local[2]"})
    )
    used: list[str] = []
    real = engine_module.default_engine

    def spy() -> Any:
        engine = real()
        used.append(engine.backend)
        return engine

    engine_module.default_engine = spy
    try:
        from sds.data import io

        io.default_engine = spy  # type: ignore[attr-defined]
        by_key = invoke(["analyze", str(spec_path), "--format", "json"])
        used_by_key = set(used)
        used.clear()
        forced = invoke(["--engine", "duckdb", "analyze", str(spec_path), "--format", "json"])
    finally:
        engine_module.default_engine = real
        io.default_engine = real  # type: ignore[attr-defined]
    assert by_key.exit_code == forced.exit_code == 0, by_key.stderr + forced.stderr
    assert used_by_key == {"spark"}  # the spec's key
    assert set(used) == {"duckdb"}  # the command line's flag wins over it
    assert_same(_json(by_key.stdout), _json(forced.stdout))


def _json(text: str) -> Any:
    import json

    return json.loads(text)


QUANTILE_KEYS = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}


def test_profile_sketches_agree_within_their_error(data_dir: Path, spark_engine: Any) -> None:
    """Past ``exact_distinct_max_rows`` each engine uses its own sketches (HyperLogLog and
    t-digest in DuckDB, HyperLogLog++ and Greenwald-Khanna in Spark): null counts stay exact,
    distinct counts stay within each sketch's error, and every quantile lies within 2
    rank-percent of the exact one."""
    import numpy as np

    from sds.features.profile import profile
    from sds.features.profile_result import ProfileOptions

    source = str(data_dir / "churn.parquet")
    options = ProfileOptions(exact_distinct_max_rows=1_000)
    duck, spark = both(lambda: profile(source, options).to_dict(), spark_engine)
    frame = pd.read_parquet(source)
    assert duck["distinct_method"].startswith("approximate")
    for d, s in zip(duck["columns"], spark["columns"], strict=True):
        assert d["null_count"] == s["null_count"]
        exact = frame[d["name"]].nunique()
        # Spark: 3 standard deviations of its 5%; DuckDB 1.5's sketch is far coarser
        assert s["distinct_count"] == pytest.approx(exact, rel=0.15), d["name"]
        assert d["distinct_count"] == pytest.approx(exact, rel=0.3), d["name"]
        if d["numeric"] is None:
            continue
        values = np.sort(frame[d["name"]].dropna().to_numpy(dtype=float))
        for key, q in QUANTILE_KEYS.items():
            for result in (d, s):
                v = result["numeric"][key]  # its rank range in the data must meet q ± 0.02
                below, upto = np.mean(values < v), np.mean(values <= v)
                assert below <= q + 0.02 and upto >= q - 0.02, (d["name"], key, v)


def test_cli_assignment_file_from_spark_equals_duckdb(
    data_dir: Path, tmp_path: Path, spark_engine: Any
) -> None:
    args = ["assign", "--experiment", "e", "--variants", "a,b", "--id-column", "customer_id"]
    args += ["--data", str(data_dir / "churn.parquet"), "--format", "json"]
    duck_out, spark_out = tmp_path / "duck.csv", tmp_path / "spark.csv"
    duck = invoke([*args, "--data-output", str(duck_out)])
    spark_args = ["--engine", "spark", "--spark-master", "local[2]", *args]
    spark = invoke([*spark_args, "--data-output", str(spark_out)])
    assert duck.exit_code == spark.exit_code == 0, spark.stderr
    assert_same(_json(duck.stdout)["variants"], _json(spark.stdout)["variants"])
    assert spark_out.is_dir()  # Spark's folder of part files, renamed into place
    read = [
        on("duckdb", lambda p=p: open_table(str(p)).engine.execute(open_table(str(p)).expr))
        for p in (duck_out, spark_out)
    ]
    d, s = (f.sort_values("customer_id").reset_index(drop=True) for f in read)
    assert len(d) == 3_000
    assert_same(d, s)
