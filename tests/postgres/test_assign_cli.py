"""``assign`` on PostgreSQL: the committed vectors give their arms in SQL there, string ids
and daily SRM agree with DuckDB, and the CLI (``sds --engine URL profile | srm | assign``)
runs in the database, writes ``--write-table`` there and shows the URL masked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sds.data.engine import close_servers
from sds.data.io import open_table
from sds.experiments.assign import assign, assign_table
from tests.conftest import invoke
from tests.postgres.conftest import (
    SECRET_PASSWORD,
    SECRET_USER,
    PostgresServer,
    load_table,
    on_engine,
)
from tests.postgres.test_profile_srm import neutral
from tests.reference import assign_vectors as vectors
from tests.spark.conftest import assert_same, data_dir  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ARMS = ["control", "treatment"]
USERS = pd.DataFrame({"uid": [f"user-{i}" for i in range(500)] + ["Zoë", "用户", ""]})


def test_postgres_reproduces_committed_vectors(pg_engine: Any) -> None:
    for kind, frame in vectors.id_frames().items():
        load_table(pg_engine, f"vectors.{kind}_ids", frame)

    def open_ids(kind: str) -> Any:
        table = open_table(f"vectors.{kind}_ids", engine=pg_engine)
        assert table.engine is pg_engine
        return table

    checked, wrong = vectors.engine_mismatches(open_ids)
    assert checked == vectors.N_VECTORS
    assert not wrong, wrong[:5]


def test_string_ids_and_daily_srm(data_dir: Path, pg_engine: Any) -> None:  # noqa: F811
    from sds.experiments.srm import srm_by_day

    load_table(pg_engine, "ids.users", USERS)
    load_table(pg_engine, "ids.ab", data_dir / "ab.parquet")

    def job(ids: Any, events: Any) -> tuple[dict[str, str], dict[str, Any]]:
        expr = assign_table(ids, "uid", "exp", ARMS)
        out = ids.engine.execute(expr, source=ids.name)
        daily = srm_by_day(events, "variant", "ts", ARMS)
        return dict(zip(out["uid"], out["variant"], strict=True)), daily.to_dict()

    duck = on_engine(
        "duckdb", lambda: job(open_table(USERS), open_table(str(data_dir / "ab.parquet")))
    )
    pg = job(open_table("ids.users", engine=pg_engine), open_table("ids.ab", engine=pg_engine))
    ids = USERS["uid"].tolist()
    assert [pg[0][i] for i in ids] == assign(ids, "exp", ARMS)
    assert_same(duck, pg)


@pytest.fixture
def cli_engines() -> Iterator[None]:
    """The engines the CLI opens from --engine URLs, closed after the test."""
    yield
    close_servers()


def _written(pg_engine: Any, name: str) -> dict[str, str]:
    table = open_table(name, engine=pg_engine)
    frame = table.engine.execute(table.expr, source=name)  # a check of the test's own rows
    return dict(zip(frame["uid"], frame["variant"], strict=True))


def test_cli_profile_and_srm(
    data_dir: Path,  # noqa: F811
    postgres_server: PostgresServer,
    pg_engine: Any,
    cli_engines: Any,
) -> None:
    load_table(pg_engine, "cli.ab", data_dir / "ab.parquet")
    url = postgres_server.url()
    profiled = invoke(["--engine", url, "profile", "cli.ab", "-f", "json"])
    assert profiled.exit_code == 0, profiled.stderr
    report = json.loads(profiled.stdout)
    local = invoke(["profile", str(data_dir / "ab.parquet"), "-f", "json"])
    assert local.exit_code == 0, local.stderr
    assert report["source"] == "cli.ab" and report["n_rows"] == 46_312
    assert_same(neutral(json.loads(local.stdout)), neutral(report))
    srm_args = ["srm", "--variants", "control,treatment", "--date-column", "ts", "-f", "json"]
    checked = invoke(["--engine", url, *srm_args, "--data", "cli.ab"])
    assert checked.exit_code == 0, checked.stderr
    duck = invoke([*srm_args, "--data", str(data_dir / "ab.parquet")])
    assert_same(json.loads(duck.stdout), json.loads(checked.stdout))
    query = "SELECT variant, ts FROM cli.ab WHERE platform = 'ios'"
    by_query = invoke(["--engine", url, *srm_args, "--data", query])
    assert by_query.exit_code == 0, by_query.stderr
    events = pd.read_parquet(data_dir / "ab.parquet")
    assert sum(json.loads(by_query.stdout)["counts"]) == int((events["platform"] == "ios").sum())


def test_cli_assign_write_table(
    postgres_server: PostgresServer, pg_engine: Any, cli_engines: Any, tmp_path: Path
) -> None:
    load_table(pg_engine, "cli.users", USERS)
    url = postgres_server.url()
    base = ["--engine", url, "assign", "--experiment", "exp", "--variants", "control,treatment"]
    base += ["--id-column", "uid"]
    done = invoke([*base, "--data", "cli.users", "--write-table", "cli.assigned", "-f", "json"])
    assert done.exit_code == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["output"] == f"table cli.assigned on {url}"
    ids = USERS["uid"].tolist()
    assert _written(pg_engine, "cli.assigned") == dict(
        zip(ids, assign(ids, "exp", ARMS), strict=True)
    )
    assert [v["units"] for v in summary["variants"]] == [
        assign(ids, "exp", ARMS).count(a) for a in ARMS
    ]
    # run again with other shares: the table is replaced, not appended to
    again = invoke(
        [*base, "--shares", "0.1,0.9", "--data", "cli.users", "--write-table", "cli.assigned"]
    )
    assert again.exit_code == 0, again.stderr
    expected = assign(ids, "exp", ARMS, [0.1, 0.9])
    assert _written(pg_engine, "cli.assigned") == dict(zip(ids, expected, strict=True))
    # a local file is read by DuckDB here unless uploaded: no database to write into
    path = tmp_path / "users.parquet"
    USERS.to_parquet(path)
    local = invoke([*base, "--data", str(path), "--write-table", "cli.from_file"])
    assert local.exit_code == 2
    assert "--write-table needs a database engine" in local.stderr
    assert len(local.stderr.strip().splitlines()) == 1
    uploaded = invoke(["--upload", *base, "--data", str(path), "--write-table", "cli.from_file"])
    assert uploaded.exit_code == 0, uploaded.stderr
    assert _written(pg_engine, "cli.from_file") == dict(
        zip(ids, assign(ids, "exp", ARMS), strict=True)
    )


def test_cli_assign_refusals_show_the_url_masked(
    postgres_server: PostgresServer, pg_engine: Any, cli_engines: Any
) -> None:
    load_table(pg_engine, "cli.users", USERS)
    url = postgres_server.url(SECRET_USER, SECRET_PASSWORD)
    base = ["--engine", url, "assign", "--experiment", "exp", "--variants", "control,treatment"]
    base += ["--id-column", "id", "--data", "sales.orders"]
    # sds_secret may read sales.orders but not create tables in sales
    denied = invoke([*base, "--write-table", "sales.x"])
    assert denied.exit_code == 2, denied.stderr
    assert "permission denied" in denied.stderr
    assert SECRET_PASSWORD not in denied.stderr + denied.stdout
    assert f"postgres://{SECRET_USER}:***@" in denied.stderr
    for extra, message in (
        (["--write-table", "not a name"], "is not a table name"),
        (["--write-table", "nowhere.x"], 'no such schema: schema "nowhere" does not exist'),
        (["--write-table", "sales.x", "--data-output", "x.parquet"], "not --data-output"),
    ):
        refused = invoke([*base, *extra])
        assert refused.exit_code == 2, refused.stderr
        assert message in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
