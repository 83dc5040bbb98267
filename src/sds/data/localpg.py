"""A throwaway PostgreSQL server: initdb in a temporary folder, started on a free port and
a unix socket in that folder, stopped and removed at the end.

Used by the demo's in-database chapter, the warehouse benchmark and the test suite's
``tests/postgres`` tier. The server binaries come from Debian's ``postgresql`` package:
``/usr/lib/postgresql/<version>/bin``, the newest version; ``SDS_PG_BINDIR`` names another
folder.

PostgreSQL refuses to run as root. As root, the folder is given to the ``postgres`` system
user (the package creates it; ``nobody`` otherwise) and ``initdb``, ``pg_ctl`` and ``psql``
run as that user (``subprocess``'s ``user=``: no ``su`` or ``sudo``).
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sds.errors import ConfigError

ADMIN = "sds_admin"
INSTALL = "apt-get install postgresql (or `make postgres`), or set SDS_PG_BINDIR"
RUN_AS = ("postgres", "nobody")  # system users the server may run as when we are root
NAMES = ("initdb", "pg_ctl", "postgres", "psql")
TRUST_HBA = "local all all trust\nhost  all all 127.0.0.1/32 trust\n"


@dataclass(frozen=True)
class LocalServer:
    """A running server: where it listens, and the database and user to reach it with."""

    host: str
    port: int
    socket_dir: Path
    database: str
    user: str

    def url(self, user: str | None = None, password: str | None = None) -> str:
        """A ``postgres://`` URL for ``user`` (with ``password`` written in, if given)."""
        from urllib.parse import quote

        name = user or self.user
        auth = name if password is None else f"{name}:{quote(password, safe='')}"
        return f"postgres://{auth}@{self.host}:{self.port}/{self.database}"


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl, postgres and psql, or None when not installed."""
    if os.environ.get("SDS_PG_BINDIR"):
        candidates = [Path(os.environ["SDS_PG_BINDIR"])]
    else:
        found = Path("/usr/lib/postgresql").glob("*/bin")
        candidates = sorted(found, key=lambda p: _version(p.parent.name), reverse=True)
    for folder in candidates:
        if all(os.access(folder / n, os.X_OK) for n in NAMES):
            return folder
    return None


def require_bindir() -> Path:
    """:func:`find_bindir`, or an error naming what to install.

    Raises:
        ConfigError: The server binaries are not installed.
    """
    folder = find_bindir()
    if folder is None:
        where = os.environ.get("SDS_PG_BINDIR") or "/usr/lib/postgresql/*/bin"
        raise ConfigError(
            f"the PostgreSQL server binaries ({', '.join(NAMES)}) are not installed",
            source=where,
            hint=INSTALL,
        )
    return folder


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", name)) or (0,)


def run_as() -> pwd.struct_passwd | None:
    """The user to run the server as: None (ourselves) unless we are root.

    Raises:
        ConfigError: Running as root and no system user to run the server as.
    """
    if os.geteuid() != 0:
        return None
    for name in RUN_AS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ConfigError(f"running as root and none of the users {RUN_AS} exists")


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
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """initdb, start, set up and stop one server in ``root``, as ``user``."""

    def __init__(self, bindir: Path, root: Path, user: pwd.struct_passwd | None) -> None:
        self.bindir, self.root, self.user = bindir, root, user
        self.data, self.port = root / "data", free_port()

    def run(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        """Run one of the server's programs; its stdout.

        Raises:
            ConfigError: It failed; the message holds its error and the log's tail.
        """
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
            raise ConfigError(
                f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}\n{tail}"
            )
        return str(done.stdout)

    def start(self, hba: str, setup: str, settings: dict[str, str] | None = None) -> None:
        """initdb, write ``hba`` as pg_hba.conf, start the server with ``settings`` (extra
        ``-c name=value``), then run the ``setup`` script as the superuser."""
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        flags = f"-U {ADMIN} -A trust -N -E UTF8 --locale=C".split()  # -N: no fsync
        self.run("initdb", "-D", str(self.data), *flags)
        (self.data / "pg_hba.conf").write_text(hba)
        extra = " ".join(f"-c {k}={v}" for k, v in (settings or {}).items())
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            f"-c password_encryption=scram-sha-256 {extra}"
        )
        log = str(self.root / "server.log")
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start"
        )
        self.psql(setup)

    def psql(self, script: str, database: str = "postgres") -> str:
        """Run ``script`` with psql as the superuser (stops at the first error)."""
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


def owned_database(user: str, database: str) -> str:
    """The set-up script of a login role ``user`` owning an empty database ``database``."""
    return f"CREATE ROLE {user} LOGIN;\nCREATE DATABASE {database} OWNER {user};\n"


@contextlib.contextmanager
def running(
    setup: str | None = None,
    *,
    hba: str = TRUST_HBA,
    database: str = "sds",
    user: str = "sds",
    settings: dict[str, str] | None = None,
) -> Iterator[tuple[LocalServer, Cluster]]:
    """A server for the block, stopped and its folder removed when the block ends, also
    when it raises. ``setup`` (default: ``user`` owning an empty ``database``) runs once.

    Raises:
        ConfigError: The binaries are missing, or the server did not start.
    """
    bindir, as_user = require_bindir(), run_as()
    root = Path(tempfile.mkdtemp(prefix="sds-pg-", dir=temp_parent(as_user)))
    cluster = Cluster(bindir, root, as_user)
    try:
        cluster.start(hba, setup or owned_database(user, database), settings)
        yield LocalServer("127.0.0.1", cluster.port, root, database, user), cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
