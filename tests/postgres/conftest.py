"""A PostgreSQL server of the suite's own: started once per session (per xdist worker) in a
temporary folder, on a free port and a unix socket in that folder, and stopped at the end.

The server binaries come from Debian's ``postgresql`` package (``make postgres`` installs
it): ``/usr/lib/postgresql/<version>/bin``, the newest version; ``SDS_PG_BINDIR`` names
another folder. When they are missing the tests fail and say so; they never skip.

PostgreSQL refuses to run as root. When the suite runs as root, the folder is given to the
``postgres`` system user (the package creates it; ``nobody`` otherwise) and ``initdb``,
``pg_ctl`` and ``psql`` run as that user (``subprocess``'s ``user=``: no ``su`` or ``sudo``).

Roles: ``sds_admin`` (superuser, trust), ``sds`` (trust; owns database ``sds_test``) and
``sds_secret``, which must log in with :data:`SECRET_PASSWORD` (scram-sha-256).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sds.data import localpg
from sds.data.localpg import Cluster, LocalServer, free_port, temp_parent

__all__ = ["Cluster", "PostgresServer", "find_bindir", "free_port", "load_table", "temp_parent"]
from sds.errors import ConfigError

DATABASE = "sds_test"
USER = "sds"
SECRET_USER = "sds_secret"
SECRET_PASSWORD = "p@ss:w/rd%41 x"  # the characters URLs get wrong: @ : / % and a space
INSTALL = "run `make postgres` (apt-get install postgresql) or set SDS_PG_BINDIR"
HBA = f"""\
local all {SECRET_USER} scram-sha-256
host  all {SECRET_USER} 127.0.0.1/32 scram-sha-256
local all all trust
host  all all 127.0.0.1/32 trust
"""
SETUP = f"""\
CREATE ROLE {USER} LOGIN;
CREATE ROLE {SECRET_USER} LOGIN PASSWORD '{SECRET_PASSWORD}';
CREATE DATABASE {DATABASE} OWNER {USER};
\\connect {DATABASE} {USER}
CREATE SCHEMA sales;
CREATE TABLE sales.orders (id integer PRIMARY KEY, amount double precision, region text);
INSERT INTO sales.orders
  SELECT i, i * 0.5, CASE WHEN i % 3 = 0 THEN 'north' ELSE 'south' END
  FROM generate_series(1, 1000) AS i;
CREATE TABLE public.events (user_id integer, ts timestamptz);
INSERT INTO public.events VALUES (1, '2026-01-01 00:00:00+00'), (2, NULL);
GRANT USAGE ON SCHEMA sales TO {SECRET_USER};
GRANT SELECT ON ALL TABLES IN SCHEMA sales, public TO {SECRET_USER};
"""


PostgresServer = LocalServer
"""A running test server: where it listens and how to reach it (``.url()``)."""


def find_bindir() -> Path:
    """The folder of the server binaries; fails naming `make postgres` when missing."""
    try:
        return localpg.require_bindir()
    except ConfigError as exc:
        pytest.fail(f"{exc} ({INSTALL})", pytrace=False)


@contextlib.contextmanager
def running_server() -> Iterator[tuple[LocalServer, Cluster]]:
    """Start the suite's server for the block (roles and tables of :data:`SETUP`); stop it
    and remove its folder when the block ends, also when it raises. A missing binary or a
    failed start fails the test, naming what to install; it never skips."""
    started = time.monotonic()
    stack = contextlib.ExitStack()
    try:
        server, cluster = stack.enter_context(
            localpg.running(SETUP, hba=HBA, database=DATABASE, user=USER)
        )
    except ConfigError as exc:
        pytest.fail(f"{exc} ({INSTALL})", pytrace=False)
    with stack:
        print(f"postgres up in {time.monotonic() - started:.2f} s on port {server.port}")
        yield server, cluster


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The suite's PostgreSQL server (about 1 s to start), stopped and removed at the end,
    also when a test or the set-up fails."""
    with running_server() as (server, _):
        yield server


@pytest.fixture(scope="session")
def pg_engine(postgres_server: PostgresServer) -> Iterator[Any]:
    """One sds engine on the suite's server (user ``sds``, database ``sds_test``), shared by
    the parity tests of this worker; its connection is closed at the end (an open one
    left to the garbage collector is a ResourceWarning, an error in this suite)."""
    from sds.data.engine import Engine, close_servers

    engine = Engine.from_url(postgres_server.url())
    yield engine
    engine.close()
    close_servers()  # the ones settings(engine=URL) and --engine URL opened


def load_table(engine: Any, name: str, data: Any) -> str:
    """Create (or replace) the table ``name`` (``schema.table``) on the server from a
    pandas, Arrow or Parquet-path ``data``, and return its name: the same rows the DuckDB
    side reads from the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(data, str | Path):
        data = pq.read_table(data)
    elif not isinstance(data, pa.Table):
        data = pa.Table.from_pandas(data, preserve_index=False)
    schema, _, table = name.rpartition(".")
    if schema:
        engine.con.raw_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    engine.con.raw_sql(
        f'DROP TABLE IF EXISTS {(chr(34) + schema + chr(34) + ".") if schema else ""}"{table}"'
    )
    engine.con.create_table(table, obj=data, database=schema or None)
    return name


def on_engine(engine: Any, job: Any) -> Any:
    """Run ``job`` with ``engine`` (an Engine, or ``"duckdb"``) as the default engine."""
    from sds.config import settings

    with settings(engine=engine):
        return job()
