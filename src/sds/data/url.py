"""Connecting to the backend an engine URL names, and saying why a connection failed
without printing the password.

The URL itself (its forms, parsing and masking) is :mod:`sds.urls`, re-exported here. A
password is best left out of the URL: libpq reads ``PGPASSWORD`` and ``~/.pgpass`` itself,
and ``?password_env=NAME`` reads it from the environment variable ``NAME``. Nothing
connects until :func:`connect` is called, and the backend's driver is imported only then.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sds.errors import ConfigError, DataError, InputError
from sds.urls import (
    GENERIC_SCHEMES,
    MASK,
    POSTGRES_SCHEMES,
    SCHEME_PREFIX,
    SCHEMES,
    SECRET_PARAM,
    EngineURL,
    bad_url,
    mask,
    parse,
    resolve_password,
    scrub,
    userinfo_end,
)

__all__ = [
    "CONNECT_TIMEOUT",
    "GENERIC_SCHEMES",
    "MASK",
    "POSTGRES_SCHEMES",
    "SCHEMES",
    "EngineURL",
    "connect",
    "connection_error",
    "mask",
    "parse",
    "resolve_password",
    "scrub",
]

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

CONNECT_TIMEOUT = 5
"""Seconds a database server has to answer before it counts as unreachable."""
POSTGRES_HINT = "Install the driver with: pip install 'sds-toolkit[postgres]' (psycopg 3)."


def connect(url: str | EngineURL, *, timeout: int = CONNECT_TIMEOUT) -> BaseBackend:
    """Connect to the backend an engine URL names (its driver is imported only now).

    Args:
        url: An engine URL, as text or parsed. Spark URLs are not connected here: the
            engine starts a Spark session itself.
        timeout: Seconds a PostgreSQL server has to answer (libpq waits at least 2); other
            backends keep their driver's default.

    Returns:
        An Ibis backend connected to the database.

    Raises:
        InputError: Bad URL, or a spark URL.
        ConfigError: The backend's driver is not installed (the message names the extra).
        DataError: Wrong or missing password, unreachable server, missing database, or
            another refusal; the message shows the URL masked, never the password.
    """
    parsed = url if isinstance(url, EngineURL) else parse(url)
    if parsed.backend == "spark":
        raise bad_url(parsed.text, "a spark URL starts a session, not a connection", "a SQL engine")
    password = resolve_password(parsed)
    hidden = [v for k, v in parsed.params.items() if SECRET_PARAM.search(k)]
    secrets = [s for s in (parsed.password, password, *hidden) if s]
    failure: InputError
    try:
        if parsed.backend == "duckdb":
            import ibis

            return ibis.duckdb.connect(parsed.database or ":memory:")
        if parsed.backend == "postgres":
            return _connect_postgres(parsed, password, timeout)
        return _connect_generic(parsed, password)
    except ImportError as exc:
        failure = _missing_driver(parsed, exc)
    except Exception as exc:  # every driver raises its own classes
        failure = connection_error(parsed, exc, secrets)
    # raised outside the except block, so the error keeps no driver exception as its
    # context: the driver's frames hold the password (psycopg's conninfo) in their locals
    raise failure


def _connect_postgres(url: EngineURL, password: str | None, timeout: int) -> BaseBackend:
    import ibis
    import psycopg  # noqa: F401 - a missing driver is an ImportError here, not inside ibis

    options: dict[str, Any] = {
        "host": url.host,
        "port": url.port,  # None lets libpq read PGPORT
        "user": url.user,
        "password": password,
        "database": url.database,
        "schema": url.schema,
        "connect_timeout": max(timeout, 1),
    }
    options.update(url.params)  # sslmode, application_name, host=/socket/folder ...
    return ibis.postgres.connect(**options)


def _connect_generic(url: EngineURL, password: str | None) -> BaseBackend:
    import ibis

    text = url.text
    if password is not None and url.password is None:  # from password_env: into the URL
        found = SCHEME_PREFIX.match(text)
        assert found is not None  # parse() accepted it
        user = quote(url.user or "", safe="")
        rest = text[found.end() :]
        at = userinfo_end(rest)
        host = rest if at is None else rest[at + 1 :]
        text = f"{found.group(0)}{user}:{quote(password, safe='')}@{host}"
    text = re.sub(r"([?&])password_env=[^&#]*&?", r"\1", text).rstrip("?&")
    return ibis.connect(text)


def connection_error(url: EngineURL, exc: BaseException, secrets: list[str]) -> DataError:
    """The one-line error for a refused connection: what went wrong, the masked URL.

    Args:
        url: The URL that was connected to.
        exc: The driver's exception.
        secrets: Passwords to scrub from the driver's message (in every spelling).

    Returns:
        A DataError whose text holds no secret.
    """
    detail = scrub(_first_line(str(exc)), url, secrets)
    state = getattr(exc, "sqlstate", None) or ""
    lowered = detail.lower()
    if state == "28P01" or "password" in lowered:
        problem = "cannot log in (wrong or missing password)"
        hint = "Give the password with ?password_env=NAME" + (
            ", PGPASSWORD or a ~/.pgpass entry." if url.backend == "postgres" else "."
        )
    elif state.startswith("28") or any(s in lowered for s in _REFUSED):
        problem = "the server refused the login"
        hint = "Check the user name, and that the server lets it in from this host."
    elif state == "3D000" or ("database" in lowered and "does not exist" in lowered):
        problem, hint = "no such database", "Check the database name after the host."
    elif any(s in lowered for s in _UNREACHABLE):
        problem = "cannot reach the server"
        hint = "Check the host and port, and that the server is running and accepts TCP."
    elif "closed the connection" in lowered:
        problem = "the server closed the connection"
        hint = "Check the port: what answers there may not be this kind of database server."
    else:
        problem, hint = "cannot connect", None
    return DataError(problem, source=url.masked, found=detail or type(exc).__name__, hint=hint)


# psycopg leaves sqlstate unset on errors while connecting: the server's words tell
_REFUSED = ("authentication", "pg_hba", 'role "', "access denied", "not permitted to log in")
_UNREACHABLE = (
    "connection refused",
    "timeout expired",
    "timed out",
    "could not translate host name",
    "name or service not known",
    "no route to host",
    "network is unreachable",
    "no such file or directory",  # a unix socket that is not there
)


def _missing_driver(url: EngineURL, exc: ImportError) -> ConfigError:
    if url.backend == "postgres":
        hint = POSTGRES_HINT
    else:
        # sds has no extra for these: the driver is Ibis' own extra (every install line
        # sds prints names sds-toolkit, so this one is described, not a pip command)
        hint = f"Install Ibis' {url.backend} backend: the {url.backend} extra of ibis-framework."
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
    return ConfigError(
        f"engine {url.backend!r} needs a driver that is not installed ({reason})",
        source=url.masked,
        hint=hint,
    )


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:2]) if lines else ""
