"""``sds features build`` and ``sds monitor`` inside PostgreSQL: the same jobs on DuckDB
(reading the Parquet files) and on the suite's server (reading the same rows loaded as
tables) agree, counts exactly and floats to 1e-9 (``tests.spark.conftest.differences``).

Every quantile here is exact on both engines (DuckDB's ``quantile_cont`` and PostgreSQL's
``percentile_cont``), so PSI edges, bins and latency quantiles agree to 1e-9 as well.

The data stays in the database: the tables are opened on the server engine (never the
local DuckDB), a feature table asked for with ``--write-table`` is computed there, and
everything the monitor and a table build bring back is an aggregate of a few rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import sds.data.engine as engine_module
from sds.data.server import open_named
from tests.conftest import invoke
from tests.postgres.conftest import PostgresServer, load_table, on_engine
from tests.spark.conftest import assert_same, data_dir  # noqa: F401 (a fixture)
from tests.spark.test_parity import FEATURES

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SCHEMA = "fm"
TABLES = ("transactions", "labels", "reference", "current")


@pytest.fixture(scope="module")
def pg(pg_engine: Any, data_dir: Path) -> Any:  # noqa: F811 (the imported fixture)
    """The server engine with the parity files loaded as ``fm.<name>`` tables."""
    for name in TABLES:
        load_table(pg_engine, f"{SCHEMA}.{name}", data_dir / f"{name}.parquet")
    return pg_engine


@pytest.fixture
def returned(pg: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row count of every result the server engine sends back, and a failure if the
    local DuckDB is asked to read anything while the job runs on the server."""
    sizes: list[int] = []
    real = pg.to_pyarrow

    def spy(expr: Any, *, source: str = "data") -> Any:
        out = real(expr, source=source)
        sizes.append(int(getattr(out, "num_rows", 1)))
        return out

    def no_local() -> Any:
        raise AssertionError("a job on the server read data with the local DuckDB")

    monkeypatch.setattr(pg, "to_pyarrow", spy)
    monkeypatch.setattr(engine_module, "local_engine", no_local)
    return sizes


def _pg_spec(**extra: Any) -> dict[str, Any]:
    return {**FEATURES, **extra}


def test_point_in_time_windows_and_rfm(data_dir: Path, pg: Any) -> None:  # noqa: F811
    from sds.features.build import build, open_sources
    from sds.features.spec import parse

    duck_spec = _pg_spec(labels=str(data_dir / "labels.parquet"))
    duck_summary, duck = on_engine(
        "duckdb", lambda: build(duck_spec, str(data_dir / "transactions.parquet"))
    )
    pg_spec = _pg_spec(labels=f"{SCHEMA}.labels")
    pg_summary, server = on_engine(pg, lambda: build(pg_spec, f"{SCHEMA}.transactions"))
    events, labels = on_engine(pg, lambda: open_sources(parse(pg_spec), f"{SCHEMA}.transactions"))
    assert events.engine is pg and labels is not None and labels.engine is pg
    assert duck is not None and server is not None
    assert len(duck) == len(server) == 500
    assert duck.filter(like="amount_sum_90d").notna().sum().item() > 300
    assert list(duck.columns) == list(server.columns)
    assert_same(duck, server)  # label times included: both in UTC, to the microsecond
    d, p = duck_summary.to_dict(), pg_summary.to_dict()
    assert (d.pop("events"), p.pop("events")) == (
        str(data_dir / "transactions.parquet"),
        f"{SCHEMA}.transactions",
    )
    assert_same(d, p)


def test_feature_table_written_in_the_database(
    data_dir: Path,  # noqa: F811
    pg: Any,
    returned: list[int],
    tmp_path: Path,
) -> None:
    from sds.features.build import build

    spec = _pg_spec(cutoff="2025-05-01")
    duck_out = tmp_path / "duck.parquet"
    duck_summary, _ = on_engine(
        "duckdb", lambda: build(spec, str(data_dir / "transactions.parquet"), output=duck_out)
    )
    target, events = "fm_out.features", f"{SCHEMA}.transactions"
    pg.con.raw_sql("CREATE SCHEMA IF NOT EXISTS fm_out")
    for _ in range(2):  # again, over the first table
        summary, frame = on_engine(pg, lambda: build(spec, events, table=target))
        assert frame is None and summary.table == target and summary.output is None
    assert returned and max(returned) == 1  # only one-row aggregates came back
    assert set(pg.con.list_tables(database="fm_out")) == {"features"}  # no temporary left
    key = ["customer_id"]
    duck = pd.read_parquet(duck_out).sort_values(key).reset_index(drop=True)
    returned.clear()
    server = pg.execute(open_named(pg, target, target).order_by(key))
    assert summary.rows == len(duck) == len(server) > 300
    assert_same(duck, server)  # the hidden coverage flag is not in the written table
    # the coverage warning, read on the server from that flag in the written rows, is
    # DuckDB's, counted from the events by a query of its own
    coverage = [w for w in duck_summary.warnings if "no events before the cutoff" in w]
    assert coverage and summary.warnings == duck_summary.warnings


def test_feature_table_to_a_file_and_a_table_at_once(
    data_dir: Path,  # noqa: F811
    pg: Any,
    tmp_path: Path,
) -> None:
    """The file is streamed down from the written table: the same rows as the table."""
    from sds.features.build import build

    spec = _pg_spec(cutoff="2025-05-01")
    out = tmp_path / "features.parquet"
    summary, _ = on_engine(
        pg, lambda: build(spec, f"{SCHEMA}.transactions", output=out, table="fm_out.both")
    )
    key = ["customer_id"]
    from_file = pd.read_parquet(out).sort_values(key).reset_index(drop=True)
    from_table = pg.execute(open_named(pg, "fm_out.both", "t").order_by(key))
    assert summary.output == str(out) and summary.table == "fm_out.both"
    assert summary.rows == len(from_file) > 300
    assert_same(from_file, from_table)


def test_feature_store_registers_server_tables(
    data_dir: Path,  # noqa: F811
    pg: Any,
    tmp_path: Path,
) -> None:
    """The fingerprint is computed in PostgreSQL (which has no row hash in Ibis): the
    same rows give the same version, changed rows a new one."""
    from sds.features.store import FeatureStore

    spec = _pg_spec(name="spend", cutoff="2025-05-01")
    store = FeatureStore(tmp_path / "store")
    first, new = on_engine(pg, lambda: store.register(spec, f"{SCHEMA}.transactions"))
    again, new_again = on_engine(pg, lambda: store.register(spec, f"{SCHEMA}.transactions"))
    assert new and not new_again and again == first
    events = pd.read_parquet(data_dir / "transactions.parquet")
    events.loc[0, "amount"] += 0.01  # one cent on one row
    load_table(pg, "fm_out.changed", events)
    changed, new_changed = on_engine(pg, lambda: store.register(spec, "fm_out.changed"))
    assert new_changed and changed.version == 2
    assert changed.source_fingerprint != first.source_fingerprint
    duck, _ = on_engine(
        "duckdb",
        lambda: FeatureStore(tmp_path / "duck").register(
            spec, str(data_dir / "transactions.parquet")
        ),
    )
    stored = pd.read_parquet(store.table_path(first))
    local = pd.read_parquet(FeatureStore(tmp_path / "duck").table_path(duck))
    assert first.rows == duck.rows == len(stored) > 300
    assert first.schema == duck.schema
    assert_same(local, stored)


def test_drift_histograms_tests_and_service_figures(
    data_dir: Path,  # noqa: F811
    pg: Any,
    returned: list[int],
) -> None:
    from sds.monitoring.drift import TOP_LEVELS
    from sds.monitoring.report import monitor

    ref, cur = str(data_dir / "reference.parquet"), str(data_dir / "current.parquet")
    duck = on_engine("duckdb", lambda: monitor(ref, cur).to_dict())
    server = on_engine(pg, lambda: monitor(f"{SCHEMA}.reference", f"{SCHEMA}.current").to_dict())
    assert duck["alerts"][0] == "last_login_days"  # the planted shift
    assert duck["service"]["log_rows"] == 2_000 and duck["service"]["errors"] > 0
    assert duck["output"] is not None
    assert {f["kind"] for f in duck["features"]} == {"numeric", "categorical"}
    assert_same(duck, server)
    # only aggregates came back: one-row figures, from one query for all numeric features
    # both sides' bin counts (10 bins, the two open ends and missing values at most), and
    # from one query for all categorical features each one's top levels (and missing values)
    categorical = sum(f["kind"] == "categorical" for f in duck["features"])
    numeric = sum(f["kind"] == "numeric" for f in duck["features"])
    largest = max(categorical * (TOP_LEVELS + 1), 2 * numeric * (10 + 2))
    assert returned and max(returned) <= largest < 2_000
    assert sum(returned) < 2_000


def test_binned_drift_inside_postgres(
    data_dir: Path,  # noqa: F811
    pg: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The large-input path (grid cells, edge splits, KS refinement) on the server gives
    DuckDB's figures: the same PSI, KS and error bound."""
    from sds.monitoring import binned
    from sds.monitoring.report import monitor

    monkeypatch.setattr(binned, "EXACT_ROWS", 100)
    ref, cur = str(data_dir / "reference.parquet"), str(data_dir / "current.parquet")
    duck = on_engine("duckdb", lambda: monitor(ref, cur).to_dict())
    server = on_engine(pg, lambda: monitor(f"{SCHEMA}.reference", f"{SCHEMA}.current").to_dict())
    assert any(f.get("ks_error_bound", 0) > 0 for f in duck["features"])  # binned indeed
    # the ID-like text columns left out: on PostgreSQL counted exactly (Ibis compiles the
    # sketch to count(DISTINCT)), on DuckDB estimated unless near the threshold
    assert [
        (s["feature"], s["distinct"], s["distinct_approximate"]) for s in server["skipped"]
    ] == [
        ("customer_id", 3_000, False),
        ("zip_code", 2_271, False),
    ]
    for s in duck["skipped"]:
        exact = next(m for m in server["skipped"] if m["feature"] == s["feature"])
        if s["distinct_approximate"]:  # decided alone only past 1.5 x the threshold (1,500)
            assert 2_250 < s["distinct"] <= 3_000
            assert abs(s.pop("distinct") / exact.pop("distinct") - 1) < 0.25
        s.pop("distinct_approximate"), exact.pop("distinct_approximate")
    assert_same(duck, server)


def _spec_file(tmp_path: Path, **extra: Any) -> Path:
    path = tmp_path / "features.yaml"
    path.write_text(yaml.safe_dump(_pg_spec(**extra)))
    return path


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_features_build_write_table_and_monitor(
    data_dir: Path,  # noqa: F811
    pg: Any,
    postgres_server: PostgresServer,
    tmp_path: Path,
) -> None:
    url = postgres_server.url()
    duck_out = tmp_path / "duck.parquet"
    duck_spec = _spec_file(tmp_path, labels=str(data_dir / "labels.parquet"))
    duck = _json(
        invoke(
            ["features", "build", str(duck_spec), "--data", str(data_dir / "transactions.parquet"),
             "--data-output", str(duck_out), "--format", "json"]
        )
    )  # fmt: skip
    pg_spec = _spec_file(tmp_path, labels=f"{SCHEMA}.labels", data=f"{SCHEMA}.transactions")
    server = _json(
        invoke(
            ["--engine", url, "features", "build", str(pg_spec),
             "--write-table", "fm_out.cli", "--format", "json"]
        )
    )  # fmt: skip
    assert server["table"] == "fm_out.cli" and server["output"] is None
    assert duck["output"] == str(duck_out) and duck["table"] is None
    for key in ("events", "output", "table"):
        duck.pop(key), server.pop(key)
    assert_same(duck, server)
    keys = ["customer_id", "label_time"]
    table = pg.execute(open_named(pg, "fm_out.cli", "t").order_by(keys))
    assert_same(pd.read_parquet(duck_out).sort_values(keys).reset_index(drop=True), table)

    ref, cur = str(data_dir / "reference.parquet"), str(data_dir / "current.parquet")
    local = _json(invoke(["monitor", "--reference", ref, "--data", cur, "--format", "json"]))
    remote = _json(
        invoke(
            ["--engine", url, "monitor", "--reference", f"{SCHEMA}.reference",
             "--data", f"{SCHEMA}.current", "--format", "json"]
        )
    )  # fmt: skip
    assert_same(local, remote)


def test_cli_write_table_needs_a_database(
    data_dir: Path,  # noqa: F811
    pg: Any,
    postgres_server: PostgresServer,
    tmp_path: Path,
) -> None:
    local = _spec_file(tmp_path, cutoff="2025-05-01", data=str(data_dir / "transactions.parquet"))
    url = postgres_server.url()
    named = ["--data", f"{SCHEMA}.transactions"]
    cases: list[tuple[list[str], str]] = [
        (["features", "build", str(local), "--write-table", "fm_out.x"], "in-memory database"),
        (["features", "build", str(local)], "needs a destination"),
        (["--engine", url, "features", "build", str(local), "--write-table", "fm_out.x"],
         "read by DuckDB on this machine"),
        (["--engine", url, "features", "build", str(local), *named,
          "--write-table", "fm out.x"], "not a table name"),
    ]  # fmt: skip
    for args, message in cases:
        result = invoke(args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    assert "x" not in pg.con.list_tables(database="fm_out")  # nothing was written


def test_a_job_the_server_cannot_run_names_it(pg: Any, data_dir: Path) -> None:  # noqa: F811
    """A missing operation is an error naming the job, the backend and the operation,
    never a fallback that reads the rows into Python."""
    import ibis

    from sds.errors import InputError

    table = open_named(pg, f"{SCHEMA}.reference", "reference")
    hashed: Callable[[], Any] = lambda: pg.execute(  # noqa: E731
        table.aggregate(h=ibis.struct({"a": table.age}).hash().sum()), source="reference"
    )
    with pytest.raises(InputError) as caught:  # exit 2: the user chooses another engine
        hashed()
    text = str(caught.value)
    assert "postgres" in text and "Hash" in text and "duckdb" in text
