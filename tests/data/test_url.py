"""Engine URLs without a server: parsing, masking (passwords with @ : / %), password
resolution and the errors for bad URLs and missing drivers."""

from __future__ import annotations

import sys
import traceback
from urllib.parse import quote

import pytest

from sds.data.url import (
    MASK,
    EngineURL,
    connect,
    connection_error,
    mask,
    parse,
    resolve_password,
    scrub,
)
from sds.errors import ConfigError, InputError

TRICKY = ["p@ss", "a:b", "x/y", "100%", "p@:/%w0rd", "@@", "::", "//", "a%40b", "with space"]


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("duckdb", {"backend": "duckdb", "database": ":memory:"}),
        ("duckdb://", {"backend": "duckdb", "database": ":memory:"}),
        ("duckdb:///data/w.duckdb", {"backend": "duckdb", "database": "/data/w.duckdb"}),
        ("spark", {"backend": "spark", "database": None}),
        ("spark://master:7077", {"backend": "spark", "database": "spark://master:7077"}),
        (
            "postgres://ana@db.example.com:6543/shop/sales",
            {
                "backend": "postgres",
                "user": "ana",
                "password": None,
                "host": "db.example.com",
                "port": 6543,
                "database": "shop",
                "schema": "sales",
            },
        ),
        (
            "postgresql://db.example.com/shop",
            {
                "backend": "postgres",
                "user": None,
                "host": "db.example.com",
                "port": None,
                "database": "shop",
                "schema": None,
            },
        ),
        ("postgres://[::1]:5433/db", {"host": "::1", "port": 5433, "database": "db"}),
        ("postgres://u@%2Fvar%2Frun%2Fpostgresql/db", {"host": "/var/run/postgresql"}),
        (
            "postgres://u@h/db?sslmode=require&password_env=PG_PW",
            {"params": {"sslmode": "require"}, "password_env": "PG_PW"},
        ),
        ("POSTGRES://h/db", {"backend": "postgres"}),
        ("mysql://u:pw@h:3306/db", {"backend": "mysql", "user": "u", "password": "pw"}),
        ("snowflake://u@account/db/schema", {"backend": "snowflake", "schema": "schema"}),
        ("user%40corp", None),  # not a URL: an error below
    ],
)
def test_parse(url: str, fields: dict[str, object] | None) -> None:
    if fields is None:
        with pytest.raises(InputError, match="not an engine URL"):
            parse(url)
        return
    parsed = parse(url)
    for name, value in fields.items():
        assert getattr(parsed, name) == value, name


@pytest.mark.parametrize("password", TRICKY)
@pytest.mark.parametrize("encoded", [False, True])
def test_tricky_password_is_parsed_and_masked(password: str, encoded: bool) -> None:
    written = quote(password, safe="") if encoded else password
    url = f"postgres://ana:{written}@db.example.com:5432/shop?sslmode=require"
    parsed = parse(url)
    assert parsed.user == "ana"
    assert (parsed.host, parsed.port, parsed.database) == ("db.example.com", 5432, "shop")
    if encoded or "%" not in password:  # a bare % is decoded like libpq does (%40 -> @)
        assert parsed.password == password
    shown = "postgres://ana:***@db.example.com:5432/shop?sslmode=require"
    assert mask(url) == shown
    assert str(parsed) == shown
    assert repr(parsed) == f"EngineURL({shown!r})"


def test_encoded_user_with_at_sign() -> None:
    parsed = parse("postgres://ana%40corp:s3cret@h/db")
    assert (parsed.user, parsed.password, parsed.host) == ("ana@corp", "s3cret", "h")
    assert mask("postgres://ana%40corp:s3cret@h/db") == "postgres://ana%40corp:***@h/db"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://h/db", "postgres://h/db"),
        ("postgres://ana@h/db", "postgres://ana@h/db"),
        ("postgres://ana:@h/db", "postgres://ana:***@h/db"),
        ("postgres://h/db?password=x%40y&sslmode=no", "postgres://h/db?password=***&sslmode=no"),
        (
            "snowflake://u@acct/db?token=abc&authenticator=oauth",
            "snowflake://u@acct/db?token=***&authenticator=oauth",
        ),
        ("postgres://h/db?password_env=PG_PW", "postgres://h/db?password_env=PG_PW"),
        # '@' in both the password and the query: split at the last host, masking more
        ("postgres://u:pw@h/db?x=a@b", "postgres://u:***@b"),
        ("not a url: pw", "not a url: pw"),
        ("postgres://u:pw@", "postgres://u:***@"),  # no host: libpq's default socket
        ("postgres://a/b:pw@h@", "postgres://***@"),  # no reading fits: all of it hidden
    ],
)
def test_mask(url: str, shown: str) -> None:
    assert mask(url) == shown


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("oracle://u:hunter2@h/db", "unknown engine 'oracle'"),
        ("postgres://u:hunter2@h:99999/db", "bad port '99999'"),
        ("postgres://u:hunter2@h:54x/db", "bad port '54x'"),
        ("postgres://u:hunter2@/db?password_env=", "password_env is empty"),
        ("hunter2", "unknown engine .hunter2."),
        ("user@host/db", "not an engine URL"),
        ("postgres://a/b:hunter2@h@", "cannot tell the user and password from the host"),
    ],
)
def test_bad_url_is_one_line_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as caught:
        parse(url)
    error = caught.value
    assert error.exit_code == 2
    text = str(error)
    assert "\n" not in text
    if url != "hunter2":  # the whole text is not a URL: it is shown as written
        assert "hunter2" not in text + repr(error)


def test_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDS_TEST_PW", "from@env:/%")
    assert resolve_password(parse("postgres://u@h/db?password_env=SDS_TEST_PW")) == "from@env:/%"
    # a password in the URL wins; no password leaves it to libpq (PGPASSWORD, .pgpass)
    assert resolve_password(parse("postgres://u:inline@h/db?password_env=SDS_TEST_PW")) == (
        "inline"
    )
    assert resolve_password(parse("postgres://u@h/db")) is None
    monkeypatch.delenv("SDS_TEST_PW")
    with pytest.raises(InputError, match="password_env names 'SDS_TEST_PW', which is not set"):
        resolve_password(parse("postgres://u@h/db?password_env=SDS_TEST_PW"))


def test_missing_postgres_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    password = "hunter2@x"
    with pytest.raises(ConfigError) as caught:
        connect(f"postgres://u:{quote(password)}@h/db")
    text = str(caught.value)
    assert "pip install 'sds-toolkit[postgres]'" in text
    assert text.startswith(f"postgres://u:{MASK}@h/db: engine 'postgres' needs a driver")
    assert "\n" not in text
    assert "hunter2" not in "".join(traceback.format_exception(caught.value))


def test_missing_generic_driver_names_ibis_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import ibis

    def missing(url: str) -> None:
        raise ModuleNotFoundError("No module named 'MySQLdb'", name="MySQLdb")

    monkeypatch.setattr(ibis, "connect", missing)
    with pytest.raises(ConfigError, match="the mysql extra of ibis-framework") as caught:
        connect("mysql://u:hunter2@h/db")
    assert "hunter2" not in str(caught.value)


def test_generic_backend_gets_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import ibis

    seen: list[str] = []
    monkeypatch.setattr(ibis, "connect", lambda url: seen.append(url))
    monkeypatch.setenv("SDS_TEST_PW", "a@b/c")
    connect("trino://ana@h:8080/cat/sch?password_env=SDS_TEST_PW&source=sds")
    assert seen == ["trino://ana:a%40b%2Fc@h:8080/cat/sch?source=sds"]


def test_spark_and_duckdb() -> None:
    with pytest.raises(InputError, match="spark URL starts a session"):
        connect("spark")
    con = connect("duckdb")
    try:
        assert con.sql("SELECT 41 + 1 AS x").to_pyarrow()["x"][0].as_py() == 42
    finally:
        con.disconnect()


def test_engine_url_is_frozen() -> None:
    parsed = parse("postgres://u:pw@h/db")
    assert isinstance(parsed, EngineURL)
    with pytest.raises(AttributeError):
        parsed.password = "other"  # type: ignore[misc]


class FakeDriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("message", "sqlstate", "problem"),
    [
        ('FATAL:  password authentication failed for user "u"', None, "cannot log in"),
        ("fe_sendauth: no password supplied", None, "cannot log in"),
        ("anything", "28P01", "cannot log in"),
        ('FATAL:  no pg_hba.conf entry for host "10.0.0.1"', None, "refused the login"),
        ('FATAL:  role "u" does not exist', None, "refused the login"),
        ('FATAL:  database "shop" does not exist', None, "no such database"),
        ("Connection refused\n\tIs the server running?", None, "cannot reach the server"),
        ("timeout expired", None, "cannot reach the server"),
        ('could not translate host name "nope" to address', None, "cannot reach the server"),
        ("server closed the connection unexpectedly", None, "server closed the connection"),
        ("something else", None, "cannot connect"),
    ],
)
def test_connection_error_kinds(message: str, sqlstate: str | None, problem: str) -> None:
    url = parse("postgres://u:s3cr%40t@h:5432/shop")
    error = connection_error(url, FakeDriverError(message, sqlstate), ["s3cr@t"])
    assert problem in error.problem
    assert str(error).startswith("postgres://u:***@h:5432/shop: ")
    assert "\n" not in str(error) and error.exit_code == 2


def test_driver_message_echoing_the_url_or_password_is_scrubbed() -> None:
    text = "postgres://u:s3cr%40t@h:5432/shop"
    url = parse(text)
    echoed = f"bad dsn {text}: password 's3cr@t' (quoted s3cr%40t) rejected"
    error = connection_error(url, FakeDriverError(echoed), ["s3cr@t"])
    shown = str(error) + repr(error) + repr(error.to_dict())
    assert "s3cr" not in shown
    assert "postgres://u:***@h:5432/shop" in shown
    assert scrub("abc s3cr@t xyz", url, ["s3cr@t"]) == f"abc {MASK} xyz"


def test_wrong_password_hint_fits_the_backend() -> None:
    failure = FakeDriverError("Access denied for user 'u' (using password: YES)")
    mysql = connection_error(parse("mysql://u:pw@h/db"), failure, ["pw"])
    assert mysql.hint is not None and "PGPASSWORD" not in mysql.hint
    assert "password_env" in mysql.hint
    postgres = connection_error(parse("postgres://u:pw@h/db"), failure, ["pw"])
    assert postgres.hint is not None and "PGPASSWORD" in postgres.hint
