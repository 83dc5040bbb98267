"""`sds --engine URL`: each way a database engine can be wrong exits 2 with one line that
names the problem and shows the URL masked, never the password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sds.config import EngineChoice
from sds.errors import ParameterError
from tests.conftest import invoke
from tests.postgres.conftest import SECRET_PASSWORD, SECRET_USER, PostgresServer, free_port

pytestmark = pytest.mark.postgres
WRONG = "hunter2-Wr0ng"
RUN = "import sys; from sds.cli.main import run; run(sys.argv[1:])"


def one_line_error(code: int, err: str, *, secret: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert secret not in err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_a_bad_url() -> None:
    result = invoke(["--engine", f"postgres://me:{WRONG}@db.example:99999/x", "profile", "t"])
    line = one_line_error(result.exit_code, result.stderr, secret=WRONG)
    assert "bad port '99999'" in line and "postgres://me:***@db.example:99999/x" in line


def test_an_unknown_scheme_lists_the_engines() -> None:
    result = invoke(["--engine", f"oracle://me:{WRONG}@db/x", "profile", "t"])
    line = one_line_error(result.exit_code, result.stderr, secret=WRONG)
    assert "unknown engine 'oracle'" in line and "postgres" in line


def test_a_wrong_password(postgres_server: PostgresServer) -> None:
    url = postgres_server.url(SECRET_USER, WRONG)
    result = invoke(["--engine", url, "profile", "sales.orders"])
    line = one_line_error(result.exit_code, result.stderr, secret=WRONG)
    assert "cannot log in (wrong or missing password)" in line
    assert f"{SECRET_USER}:***@" in line and "PGPASSWORD" in line


def test_the_right_password_from_password_env_is_never_printed(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDS_TEST_PG_PASSWORD", SECRET_PASSWORD)
    url = f"{postgres_server.url(SECRET_USER)}?password_env=SDS_TEST_PG_PASSWORD"
    result = invoke(["--engine", url, "profile", "sales.orders", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert '"n_rows": 1000' in result.stdout
    assert SECRET_PASSWORD not in result.stdout + result.stderr


def test_an_unreachable_server() -> None:
    port = free_port()  # nothing listens there
    result = invoke(["--engine", f"postgres://me:{WRONG}@127.0.0.1:{port}/x", "profile", "t"])
    line = one_line_error(result.exit_code, result.stderr, secret=WRONG)
    assert "cannot reach the server" in line and f"me:***@127.0.0.1:{port}" in line


def test_an_unknown_host() -> None:
    result = invoke(["--engine", f"postgres://me:{WRONG}@no-such-host.invalid/x", "profile", "t"])
    line = one_line_error(result.exit_code, result.stderr, secret=WRONG)
    assert "cannot reach the server" in line and "me:***@no-such-host.invalid" in line


def test_a_missing_driver(tmp_path: Path) -> None:
    """psycopg hidden from the process, as on a machine without the postgres extra."""
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from sds.cli.main import run\n"
        f"run(['--engine', 'postgres://me:{WRONG}@127.0.0.1:5432/x', 'profile', 't'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )
    line = one_line_error(done.returncode, done.stderr, secret=WRONG)
    assert "needs a driver that is not installed" in line
    assert "pip install 'sds-toolkit[postgres]'" in line and "me:***@127.0.0.1" in line


def test_a_missing_table(postgres_server: PostgresServer) -> None:
    result = invoke(["--engine", postgres_server.url(), "profile", "sales.ordres"])
    line = one_line_error(result.exit_code, result.stderr, secret=WRONG)
    assert "no table 'ordres' in schema 'sales'" in line and "orders" in line
    assert postgres_server.url() in line  # no password in it, so shown whole


def test_sds_engine_from_the_environment(postgres_server: PostgresServer, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN, "profile", "sales.orders", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "SDS_ENGINE": postgres_server.url()},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"n_rows": 1000' in done.stdout


def test_a_spec_may_name_a_database_engine_but_not_its_password() -> None:
    assert EngineChoice(engine="postgres://me@db:5432/x").engine == "postgres://me@db:5432/x"
    with pytest.raises(ParameterError) as caught:
        EngineChoice(engine=f"postgres://me:{WRONG}@db:5432/x")
    assert WRONG not in str(caught.value)
    assert "holds a password" in str(caught.value) and "password_env" in str(caught.value)
    with pytest.raises(ParameterError, match="unknown engine"):
        EngineChoice(engine="oracle://db/x")
