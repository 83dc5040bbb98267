"""sds.data.url.connect against the suite's own PostgreSQL server: a connection that works,
and each refusal as one line that names the masked URL and never the password."""

from __future__ import annotations

import socket
import threading
import time
import traceback
from pathlib import Path

import pytest

from sds.data.url import MASK, connect, parse
from sds.errors import DataError, InputError
from tests.postgres.conftest import SECRET_PASSWORD, SECRET_USER, PostgresServer


def leaked(error: BaseException, secret: str) -> list[str]:
    """The renderings of ``error`` that contain ``secret`` (str, repr, fields, traceback)."""
    shown = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "traceback": "".join(traceback.format_exception(error)),
    }
    if isinstance(error, DataError):
        shown["dict"] = repr(error.to_dict())
    return [name for name, text in shown.items() if secret in text]


def test_trusted_user_lists_and_counts(postgres_server: PostgresServer) -> None:
    con = connect(postgres_server.url())
    try:
        assert "events" in con.list_tables()
        assert "orders" in con.list_tables(database="sales")
        orders = con.table("orders", database="sales")
        assert orders.count().to_pyarrow().as_py() == 1000
        north = orders.filter(orders.region == "north")
        # i % 3 == 0 for i in 1..1000: 333 rows, amounts 1.5, 3.0, ... 499.5
        assert north.count().to_pyarrow().as_py() == 333
        assert north.amount.sum().to_pyarrow().as_py() == pytest.approx(0.5 * 3 * 333 * 334 / 2)
    finally:
        con.disconnect()


def test_schema_in_the_url_sets_the_search_path(postgres_server: PostgresServer) -> None:
    con = connect(postgres_server.url() + "/sales")
    try:
        assert con.table("orders").count().to_pyarrow().as_py() == 1000
    finally:
        con.disconnect()


def test_password_from_password_env(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDS_TEST_PG_SECRET", SECRET_PASSWORD)
    con = connect(postgres_server.url(SECRET_USER) + "?password_env=SDS_TEST_PG_SECRET")
    try:
        assert con.table("orders", database="sales").count().to_pyarrow().as_py() == 1000
    finally:
        con.disconnect()


def test_password_from_pgpassword(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", SECRET_PASSWORD)  # read by libpq itself
    con = connect(postgres_server.url(SECRET_USER))
    try:
        assert con.table("orders", database="sales").count().to_pyarrow().as_py() == 1000
    finally:
        con.disconnect()


def test_password_from_pgpass(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # ~/.pgpass format, read by libpq itself: ':' and '\\' in a field are escaped with '\\'
    escaped = SECRET_PASSWORD.replace("\\", "\\\\").replace(":", "\\:")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{postgres_server.port}:sds_test:{SECRET_USER}:{escaped}\n")
    pgpass.chmod(0o600)  # libpq ignores a password file others can read
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    con = connect(postgres_server.url(SECRET_USER))
    try:
        assert con.table("orders", database="sales").count().to_pyarrow().as_py() == 1000
    finally:
        con.disconnect()


def test_password_in_the_url(postgres_server: PostgresServer) -> None:
    con = connect(postgres_server.url(SECRET_USER, SECRET_PASSWORD))
    try:
        assert con.table("orders", database="sales").count().to_pyarrow().as_py() == 1000
    finally:
        con.disconnect()


@pytest.mark.parametrize("wrong", ["wrong-Pw@:/%x", SECRET_PASSWORD + "!"])
def test_wrong_password_names_the_masked_url_only(
    postgres_server: PostgresServer, wrong: str
) -> None:
    url = postgres_server.url(SECRET_USER, wrong)
    with pytest.raises(DataError) as caught:
        connect(url)
    error = caught.value
    assert error.exit_code == 2
    assert "cannot log in" in str(error)
    assert str(error).startswith(f"postgres://{SECRET_USER}:{MASK}@127.0.0.1:")
    assert "\n" not in str(error)
    for secret in (wrong, url.split("@")[0].split(":")[-1]):  # decoded and encoded
        assert not leaked(error, secret), secret
    # no driver exception is kept: psycopg's frames hold the password in their locals
    assert error.__cause__ is None and error.__context__ is None


def test_missing_password_is_a_login_error(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")
    with pytest.raises(DataError, match="cannot log in"):
        connect(postgres_server.url(SECRET_USER))


def test_unknown_role_is_a_refused_login(postgres_server: PostgresServer) -> None:
    # trust auth, but no such role: SQLSTATE 28000, not a password problem
    with pytest.raises(DataError, match="the server refused the login") as caught:
        connect(postgres_server.url("sds_no_such_role"))
    assert 'role "sds_no_such_role" does not exist' in str(caught.value)


def test_unset_password_env_is_an_input_error(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SDS_TEST_UNSET", raising=False)
    with pytest.raises(InputError, match="password_env names 'SDS_TEST_UNSET', which is not set"):
        connect(postgres_server.url(SECRET_USER) + "?password_env=SDS_TEST_UNSET")


def test_missing_database(postgres_server: PostgresServer) -> None:
    url = postgres_server.url(SECRET_USER, SECRET_PASSWORD).replace("/sds_test", "/nope")
    with pytest.raises(DataError, match="no such database") as caught:
        connect(url)
    assert not leaked(caught.value, SECRET_PASSWORD)


def test_closed_port_fails_fast(postgres_server: PostgresServer) -> None:
    from tests.postgres.conftest import free_port

    password = SECRET_PASSWORD.replace("%", "%25")
    url = f"postgres://{SECRET_USER}:{password}@127.0.0.1:{free_port()}/db"
    started = time.monotonic()
    with pytest.raises(DataError, match="cannot reach the server") as caught:
        connect(url)
    assert time.monotonic() - started < 5
    assert not leaked(caught.value, SECRET_PASSWORD)
    assert str(caught.value).startswith(f"postgres://{SECRET_USER}:{MASK}@127.0.0.1:")


def test_silent_server_times_out() -> None:
    # a socket that listens but never answers: the kernel completes the handshake, then
    # libpq waits for the server's reply until connect_timeout (libpq's minimum, 2 s)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(DataError, match="cannot reach the server") as caught:
            connect(f"postgres://u:pw@127.0.0.1:{port}/db", timeout=2)
        waited = time.monotonic() - started
    assert 1.5 < waited < 5, waited
    assert "timeout" in str(caught.value)


def test_server_that_hangs_up() -> None:
    # something on the port that is not PostgreSQL: it accepts and closes at once
    with socket.socket() as rude:
        rude.bind(("127.0.0.1", 0))
        rude.listen(1)
        port = rude.getsockname()[1]
        closer = threading.Thread(target=lambda: rude.accept()[0].close(), daemon=True)
        closer.start()
        password = "secret-pw"  # a variable: the traceback shows source lines, not values
        url = f"postgres://u:{password}@127.0.0.1:{port}/db"
        with pytest.raises(DataError, match="the server closed the connection") as caught:
            connect(url)
        closer.join(5)
    assert not leaked(caught.value, "secret-pw")


def test_parse_keeps_socket_folder_host(postgres_server: PostgresServer) -> None:
    # a unix socket folder as host, percent-encoded as libpq reads it
    from urllib.parse import quote

    folder = quote(str(postgres_server.socket_dir), safe="")
    url = f"postgres://{postgres_server.user}@{folder}:{postgres_server.port}/sds_test"
    assert parse(url).host == str(postgres_server.socket_dir)
    con = connect(url)
    try:
        assert con.table("events").count().to_pyarrow().as_py() == 2
    finally:
        con.disconnect()
