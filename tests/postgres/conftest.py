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
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DATABASE = "sds_test"
USER = "sds"
SECRET_USER = "sds_secret"
SECRET_PASSWORD = "p@ss:w/rd%41 x"  # the characters URLs get wrong: @ : / % and a space
ADMIN = "sds_admin"
INSTALL = "run `make postgres` (apt-get install postgresql) or set SDS_PG_BINDIR"
RUN_AS = ("postgres", "nobody")  # system users the server may run as when we are root
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


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: where it listens and how to reach it."""

    host: str
    port: int
    socket_dir: Path
    database: str = DATABASE
    user: str = USER

    def url(self, user: str = USER, password: str | None = None) -> str:
        """A ``postgres://`` URL for ``user`` (with ``password`` written in, if given)."""
        from urllib.parse import quote

        auth = user if password is None else f"{user}:{quote(password, safe='')}"
        return f"postgres://{auth}@{self.host}:{self.port}/{self.database}"


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl, postgres and psql; fails naming `make postgres`."""
    names = ("initdb", "pg_ctl", "postgres", "psql")
    if os.environ.get("SDS_PG_BINDIR"):
        candidates = [Path(os.environ["SDS_PG_BINDIR"])]
    else:
        found = Path("/usr/lib/postgresql").glob("*/bin")
        candidates = sorted(found, key=lambda p: _version(p.parent.name), reverse=True)
    for folder in candidates:
        if all(os.access(folder / n, os.X_OK) for n in names):
            return folder
    looked = ", ".join(str(c) for c in candidates) or "/usr/lib/postgresql/*/bin"
    pytest.fail(
        f"the PostgreSQL server binaries ({', '.join(names)}) are not installed "
        f"(looked in {looked}): {INSTALL}",
        pytrace=False,
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", name)) or (0,)


def run_as() -> pwd.struct_passwd | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in RUN_AS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    pytest.fail(f"running as root and none of the users {RUN_AS} exists", pytrace=False)


def temp_parent(user: pwd.struct_passwd | None) -> str | None:
    """Where the server's folder goes: the usual temporary folder (None), unless its path
    is long (a unix socket path holds 107 bytes) or holds a space, or, as root, the
    server's user cannot pass through it (a TMPDIR under /root): then /tmp."""
    base = Path(tempfile.gettempdir())
    if len(str(base)) > 60 or " " in str(base):  # pg_ctl -o splits its options at spaces
        return "/tmp"
    if user is not None and any(not p.stat().st_mode & 0o001 for p in (base, *base.parents)):
        return "/tmp"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """initdb, start, set up and stop one server in ``root``, as ``user``."""

    def __init__(self, bindir: Path, root: Path, user: pwd.struct_passwd | None) -> None:
        self.bindir, self.root, self.user = bindir, root, user
        self.data, self.port = root / "data", free_port()

    def run(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        as_user: dict[str, Any] = {}
        if self.user is not None:
            uid, gid = self.user.pw_uid, self.user.pw_gid
            as_user = {"user": uid, "group": gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        done = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.root,
            env=env,
            timeout=timeout,
            check=False,
            **as_user,
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(
                f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}\n{tail}",
                pytrace=False,
            )
        return str(done.stdout)

    def start(self) -> None:
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        flags = f"-U {ADMIN} -A trust -N -E UTF8 --locale=C".split()  # -N: no fsync
        self.run("initdb", "-D", str(self.data), *flags)
        (self.data / "pg_hba.conf").write_text(HBA)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c password_encryption=scram-sha-256"
        )
        log = str(self.root / "server.log")
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start"
        )
        self.psql(SETUP)

    def psql(self, script: str, database: str = "postgres") -> str:
        where = f"-h {self.root} -p {self.port} -U {ADMIN} -d {database}".split()
        return self.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *where, stdin=script)

    def stop(self) -> None:
        """pg_ctl stop (fast); if that fails, SIGQUIT to the postmaster (immediate stop)."""
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return
        pid = int(pidfile.read_text().split()[0])
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)
            raise


@contextlib.contextmanager
def running_server() -> Iterator[tuple[PostgresServer, Cluster]]:
    """Start a server for the block; stop it and remove its folder when the block ends,
    also when it raises."""
    bindir, user = find_bindir(), run_as()
    root = Path(tempfile.mkdtemp(prefix="sds-pg-", dir=temp_parent(user)))
    cluster = Cluster(bindir, root, user)
    started = time.monotonic()
    try:
        cluster.start()
        elapsed = time.monotonic() - started
        print(f"postgres {bindir.parent.name} up in {elapsed:.2f} s on port {cluster.port}")
        yield PostgresServer("127.0.0.1", cluster.port, root), cluster
    finally:
        stopping = time.monotonic()
        try:
            cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
            print(f"postgres stopped in {time.monotonic() - stopping:.2f} s")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The suite's PostgreSQL server (about 1 s to start), stopped and removed at the end,
    also when a test or the set-up fails."""
    with running_server() as (server, _):
        yield server


@pytest.fixture(scope="session")
def pg_engine(postgres_server: PostgresServer) -> Iterator[Any]:
    """One sds engine on the suite's server (user ``sds``, database ``sds_test``), shared by
    the parity tests of this worker; its connection is closed at the end (an open one left
    to the garbage collector is a ResourceWarning, an error in this suite)."""
    from sds.data.engine import Engine

    engine = Engine.from_url(postgres_server.url())
    yield engine
    engine.con.disconnect()


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
