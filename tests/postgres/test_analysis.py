"""``sds analyze`` inside PostgreSQL: the same spec on DuckDB (reading the Parquet file) and
on the suite's server (reading the same rows loaded as a table) gives the same result.

Counts are equal exactly and every float to 1e-9 relative (``tests.spark.conftest``), the
quantile metric's too: both engines hand the bootstrap the same unit values (value counts
and a window of ranks around the quantile, see ``sds.experiments.analysis.unit_values``),
and the bootstrap runs in Python with the same seed, so its figures carry no engine error.
Every query of the PostgreSQL run goes to the server (no local DuckDB fallback) and brings
back aggregates only: no result of more than :data:`MAX_ROWS` rows for 20,000 units.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sds.cli.demo_analysis import SPEC as DEMO_SPEC
from sds.config import get_settings
from sds.data import synth
from sds.data.engine import Engine
from sds.experiments.analysis.run import analyze
from tests.conftest import invoke
from tests.postgres.conftest import PostgresServer, load_table, on_engine
from tests.spark.conftest import assert_same, data_dir  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MAX_ROWS = 3_000  # "a few thousand": the largest result the analysis may bring back
TABLE = "analysis.ab"


def _spec(data: str) -> dict[str, Any]:
    """The demo's spec (ratio, mean with CUPED, proportion, quantile; platform segments;
    daily breakdown and novelty) with sequential looks."""
    spec = yaml.safe_load(DEMO_SPEC.format(name="postgres parity"))
    spec.update(data=data, sequential={"method": "msprt", "looks": 4}, resamples=300)
    return dict(spec)


def _figures(result: dict[str, Any]) -> dict[str, Any]:
    """The result without its source's name (a file path on one side, a table on the other)."""
    return {k: v for k, v in result.items() if k != "source"}


@pytest.fixture(scope="module")
def ab_table(pg_engine: Engine, data_dir: Path) -> str:  # noqa: F811
    return load_table(pg_engine, TABLE, data_dir / "ab.parquet")


class Reads:
    """Every result an engine brings back while the block runs: (engine, rows)."""

    def __init__(self) -> None:
        self.seen: list[tuple[Engine, int]] = []

    def engines(self) -> set[str]:
        return {e.backend for e, _ in self.seen}

    def largest(self) -> int:
        return max(rows for _, rows in self.seen)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    found = Reads()
    real: Callable[..., Any] = Engine.to_pyarrow

    def spy(self: Engine, expr: Any, *, source: str = "data") -> Any:
        out = real(self, expr, source=source)
        found.seen.append((self, int(getattr(out, "num_rows", 1))))
        return out

    monkeypatch.setattr(Engine, "to_pyarrow", spy)
    return found


def test_every_metric_type_runs_inside_postgres_and_matches_duckdb(
    pg_engine: Engine,
    data_dir: Path,  # noqa: F811
    ab_table: str,
    reads: Reads,
) -> None:
    duck = on_engine("duckdb", lambda: analyze(_spec(str(data_dir / "ab.parquet"))).to_dict())
    assert reads.engines() == {"duckdb"}
    reads.seen.clear()
    pg = on_engine(pg_engine, lambda: analyze(_spec(ab_table)).to_dict())

    assert {e for e, _ in reads.seen} == {pg_engine}  # every query ran on the server
    assert len(reads.seen) >= 8  # grain, origins, moments, quantile values, novelty
    assert pg["source"] == TABLE
    types = {m["type"] for m in _spec(ab_table)["metrics"]}
    assert types == {"ratio", "mean", "proportion", "quantile"}
    assert {e["metric"] for e in pg["effects"]} == {m["name"] for m in _spec(TABLE)["metrics"]}
    assert any("CUPED" in e["method"] for e in pg["effects"]), pg["effects"]
    assert pg["segments"]["platform"] and pg["novelty"]["arms"]["treatment"]["days"]
    assert pg["daily_srm"] and pg["sequential"]["treatment"]["looks"]
    assert sum(pg["units"].values()) == 4_000
    assert_same(_figures(duck), _figures(pg))


def test_only_aggregates_come_back_for_20000_units(
    pg_engine: Engine, tmp_path: Path, reads: Reads
) -> None:
    path = tmp_path / "ab20k.parquet"
    synth.write_parquet("ab_events", path, seed=11, n_users=20_000)
    name = load_table(pg_engine, "analysis.ab20k", path)
    duck = on_engine("duckdb", lambda: analyze(_spec(str(path))).to_dict())
    reads.seen.clear()
    pg = on_engine(pg_engine, lambda: analyze(_spec(name)).to_dict())

    assert {e for e, _ in reads.seen} == {pg_engine}
    assert sum(pg["units"].values()) == 20_000
    assert 0 < reads.largest() <= MAX_ROWS, sorted(n for _, n in reads.seen)
    assert_same(_figures(duck), _figures(pg))


def test_the_spec_engine_key_and_the_cli_engine_flag(
    postgres_server: PostgresServer,
    data_dir: Path,  # noqa: F811
    ab_table: str,
    tmp_path: Path,
) -> None:
    duck = on_engine("duckdb", lambda: analyze(_spec(str(data_dir / "ab.parquet"))).to_dict())
    url = postgres_server.url()
    assert get_settings().engine is None  # nothing chosen outside the spec: its key counts
    by_key = analyze({**_spec(ab_table), "engine": url})
    assert by_key.source == TABLE  # read in the database, not as a local file
    assert_same(_figures(duck), _figures(by_key.to_dict()))

    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(_spec(ab_table)))
    done = invoke(["--engine", url, "analyze", str(spec_path), "--format", "json"])
    assert done.exit_code == 0, done.stderr
    assert_same(_figures(duck), _figures(json.loads(done.stdout)))

    keyed = tmp_path / "keyed.yaml"
    keyed.write_text(yaml.safe_dump({**_spec(ab_table), "engine": url}))
    done = invoke(["analyze", str(keyed), "--format", "json"])
    assert done.exit_code == 0, done.stderr
    assert_same(_figures(duck), _figures(json.loads(done.stdout)))


def test_data_as_a_select_query_on_the_server(
    pg_engine: Engine,
    data_dir: Path,  # noqa: F811
    ab_table: str,
    tmp_path: Path,
    reads: Reads,
) -> None:
    frame = pd.read_parquet(data_dir / "ab.parquet")
    kept = tmp_path / "kept.parquet"
    frame[frame["platform"] != "web"].to_parquet(kept)
    duck = on_engine("duckdb", lambda: analyze(_spec(str(kept))).to_dict())
    reads.seen.clear()
    query = f"SELECT * FROM {ab_table} WHERE platform <> 'web'"
    pg = on_engine(pg_engine, lambda: analyze(_spec(query)).to_dict())

    assert {e for e, _ in reads.seen} == {pg_engine}
    assert sum(pg["units"].values()) < 4_000
    assert_same(_figures(duck), _figures(pg))
