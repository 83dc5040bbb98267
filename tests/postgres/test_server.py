"""The test server itself: found, run as a user that is not root, and stopped afterwards."""

from __future__ import annotations

import os
import pwd
import socket
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.postgres.conftest import PostgresServer, find_bindir, running_server
from tests.waiting import wait_until


def _uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def _exited(pid: int) -> bool:
    """Whether process ``pid`` has exited or is a zombie: the postmaster removes its pid
    file, which pg_ctl waits for, just before it exits."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def _gone(pid: int, within: float = 5) -> bool:
    """Whether process ``pid`` has exited (or is a zombie) within ``within`` seconds."""
    try:
        return wait_until(lambda: _exited(pid), within, f"process {pid} exits")
    except AssertionError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_missing_binaries_fail_naming_make_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDS_PG_BINDIR", str(tmp_path))  # a folder without the binaries
    with pytest.raises(pytest.fail.Exception, match=r"make postgres") as caught:
        find_bindir()
    assert str(tmp_path) in str(caught.value)


def test_server_runs_as_a_user_that_is_not_root(postgres_server: PostgresServer) -> None:
    pidfile = next(postgres_server.socket_dir.glob("data/postmaster.pid"))
    pid = int(pidfile.read_text().split()[0])
    assert _uid(pid) != 0
    if os.geteuid() != 0:
        assert _uid(pid) == os.geteuid()
    assert (postgres_server.socket_dir / f".s.PGSQL.{postgres_server.port}").is_socket()


def _fail_while_running(seen: dict[str, Any]) -> None:
    with running_server() as (server, _):
        seen["server"] = server
        seen["pid"] = int((server.socket_dir / "data" / "postmaster.pid").read_text().split()[0])
        seen["listening"] = _listening(server.port)
        raise RuntimeError("a test failed")


def test_server_stops_and_is_removed_when_the_block_fails() -> None:
    seen: dict[str, Any] = {}
    with pytest.raises(RuntimeError, match="a test failed"):
        _fail_while_running(seen)
    assert seen["listening"]
    assert not _listening(seen["server"].port)
    assert not seen["server"].socket_dir.exists()
    assert _gone(seen["pid"])


def test_as_root_without_a_postgres_user_the_server_runs_as_nobody(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sds.data import localpg

    monkeypatch.setattr(localpg, "RUN_AS", ("sds-no-such-user", "nobody"))
    user = localpg.run_as()
    if os.geteuid() != 0:
        assert user is None  # not root: the server runs as whoever runs the suite
        return
    assert user is not None and user.pw_name == "nobody"
    with running_server() as (server, cluster):
        pid = int((server.socket_dir / "data" / "postmaster.pid").read_text().split()[0])
        assert _uid(pid) == user.pw_uid
        assert "1000" in cluster.psql("SELECT count(*) FROM sales.orders", database="sds_test")


def test_a_private_temporary_folder_is_not_used_as_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.postgres.conftest import temp_parent

    private = Path(tempfile.mkdtemp(dir="/tmp"))  # mode 0700, and a short path
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    nobody = pwd.getpwnam("nobody")
    assert temp_parent(nobody) == "/tmp"  # the server's user could not pass through it
    assert temp_parent(None) is None  # the server runs as us: our own folder is fine
    monkeypatch.setattr(tempfile, "tempdir", "/" + "x" * 70)
    assert temp_parent(None) == "/tmp"  # too long for a unix socket path
    private.rmdir()


def test_results_are_planned_for_all_their_rows(postgres_server: PostgresServer) -> None:
    """Ibis reads through a cursor, which PostgreSQL plans for its first 10% of rows
    (a sort-based GROUP BY: 2.7x slower on the analysis' aggregate); sds reads every row."""
    from sds.data.engine import Engine

    engine = Engine.from_url(postgres_server.url())
    try:
        with engine.con.begin() as cursor:
            cursor.execute("SHOW cursor_tuple_fraction")
            assert cursor.fetchone() == ("1",)
    finally:
        engine.con.disconnect()
