"""Engine URLs: which backend runs the jobs, and how to reach it without printing a password.

An engine URL names a backend and, for a database server, where it is and who logs in::

    duckdb                                     DuckDB in memory (the default)
    duckdb:///data/warehouse.duckdb            a DuckDB file
    spark  |  spark://host:7077                a local Spark, or a Spark master
    postgres://user@host:5432/db/schema        PostgreSQL (also postgresql://)
    mysql://..., trino://..., clickhouse://..., snowflake://..., bigquery://...,
    databricks://...                           other Ibis backends, handed to ibis.connect

Passwords never come back out: :func:`mask` (and the ``str`` and ``repr`` of
:class:`EngineURL`) show ``user:***@host``, and every error raised here names the masked URL
only. A password is best left out of the URL: libpq reads ``PGPASSWORD`` and ``~/.pgpass``
itself, and ``?password_env=NAME`` reads it from the environment variable ``NAME``. A
password written in the URL may hold ``@ : / %`` as they are; percent-encoded characters
(``%40`` for ``@``) are decoded, as in libpq. A user name holding ``@ / ?`` must be
percent-encoded. When both the password and the query hold an ``@``, the URL is split at
the last ``@`` a host name follows: more is masked, never less.

Nothing connects until :func:`connect` is called, and the backend's driver is imported only
then, so parsing and masking work without any driver installed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from sds.errors import ConfigError, DataError, InputError

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

POSTGRES_SCHEMES = ("postgres", "postgresql")
GENERIC_SCHEMES = ("bigquery", "snowflake", "trino", "clickhouse", "mysql", "databricks")
SCHEMES = ("duckdb", "spark", *POSTGRES_SCHEMES, *GENERIC_SCHEMES)
CONNECT_TIMEOUT = 5
"""Seconds a database server has to answer before it counts as unreachable."""
MASK = "***"
POSTGRES_HINT = "Install the driver with: pip install 'sds-toolkit[postgres]' (psycopg 3)."
# query parameters whose values are secrets, whatever the backend
_SECRET_PARAM = re.compile(
    r"(?i)^(?!password_env$).*(password|passwd|pwd|secret|token|private_key|credential)"
)
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[^@/?#:\[\]]*)(?::[^@/?#]*)?(?:[/?#]|$)")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class EngineURL:
    """One parsed engine URL; its ``str`` and ``repr`` hide the password.

    Attributes:
        backend: ``duckdb``, ``spark``, ``postgres`` or one of :data:`GENERIC_SCHEMES`.
        text: The URL as written (it may hold the password: show :attr:`masked` instead).
        user: The user name, decoded; ``None`` when the URL names none.
        password: The password written in the URL, decoded; ``None`` when it has none.
        host: The host name (or a socket folder, for PostgreSQL); ``None`` when absent.
        port: The port; ``None`` when absent.
        database: The database (PostgreSQL, MySQL ...), the DuckDB file (``:memory:`` when
            absent) or the Spark master (``None`` for Spark's default).
        schema: The schema after the database (``postgres://h/db/schema``).
        params: Query parameters other than ``password_env``.
        password_env: The environment variable that holds the password, if named.
    """

    backend: str
    text: str = field(repr=False)
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    database: str | None = None
    schema: str | None = None
    params: dict[str, str] = field(default_factory=dict, repr=False)
    password_env: str | None = None

    @property
    def masked(self) -> str:
        """The URL as written, with every password and secret parameter shown as ``***``."""
        return mask(self.text)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"EngineURL({self.masked!r})"


def mask(url: str) -> str:
    """The URL with its password (``user:***@host``) and secret parameters hidden.

    Never raises: text that is not a URL comes back unchanged, and text that cannot be
    split with certainty has everything between ``://`` and the last ``@`` hidden.

    Args:
        url: Any engine URL or other text.

    Returns:
        The text, safe to print or log.
    """
    found = _SCHEME.match(url)
    if not found:
        return url
    head, rest = found.group(0), url[found.end() :]
    at = _userinfo_end(rest)
    if at is None:
        if "@" in rest:  # an '@' that fits no reading: hide all that may be credentials
            return head + MASK + "@" + _mask_params(rest.rsplit("@", 1)[1])
        return head + _mask_params(rest)
    user, colon, _ = rest[:at].partition(":")
    userinfo = f"{user}:{MASK}" if colon else user
    return f"{head}{userinfo}@{_mask_params(rest[at + 1 :])}"


def parse(url: str) -> EngineURL:
    """Parse an engine URL (see the module's documentation for the forms).

    Args:
        url: ``duckdb``, ``spark``, or ``scheme://[user[:password]@]host[:port]/...``.

    Returns:
        The parsed URL.

    Raises:
        InputError: The text is not an engine URL, names an unknown backend, or has a bad
            port; the message shows the URL masked.
    """
    text = url.strip()
    if text in ("duckdb", "spark"):
        return EngineURL(text, text, database=":memory:" if text == "duckdb" else None)
    found = _SCHEME.match(text)
    if not found:
        raise _bad(text, "not an engine URL", _expected_forms())
    scheme = found.group(1).lower()
    if scheme not in SCHEMES:
        raise _bad(text, f"unknown engine {scheme!r}", f"one of: {', '.join(SCHEMES)}")
    rest = text[found.end() :]
    if scheme == "duckdb":
        return EngineURL("duckdb", text, database=unquote(rest) or ":memory:")
    if scheme == "spark":
        return EngineURL("spark", text, database=text)  # Spark's own master URL
    return _parse_server(scheme, text, rest)


def _parse_server(scheme: str, text: str, rest: str) -> EngineURL:
    at = _userinfo_end(rest)
    if at is None and "@" in rest:
        raise _bad(text, "cannot tell the user and password from the host", _expected_forms())
    user = password = None
    if at is not None:
        raw_user, colon, raw_password = rest[:at].partition(":")
        user = unquote(raw_user) or None
        password = unquote(raw_password) if colon else None
        rest = rest[at + 1 :]
    hostport, _, tail = _split_first(rest, "/?#")
    path, _, query = tail.partition("?")
    host, port = _host_port(text, hostport)
    database, _, schema = path.lstrip("/").partition("/")
    params = dict(parse_qsl(query.partition("#")[0], keep_blank_values=True))
    password_env = params.pop("password_env", None)
    if password_env == "":
        raise _bad(text, "password_env is empty", "the name of an environment variable")
    backend = "postgres" if scheme in POSTGRES_SCHEMES else scheme
    return EngineURL(
        backend,
        text,
        user=user,
        password=password,
        host=host,
        port=port,
        database=unquote(database) or None,
        schema=unquote(schema) or None,
        params=params,
        password_env=password_env,
    )


def resolve_password(url: EngineURL) -> str | None:
    """The password to log in with: the URL's own, else the variable ``password_env`` names.

    ``None`` leaves it to the driver (libpq reads ``PGPASSWORD`` and ``~/.pgpass``).

    Raises:
        InputError: ``password_env`` names a variable that is not set.
    """
    if url.password is not None or url.password_env is None:
        return url.password
    value = os.environ.get(url.password_env)
    if value is None:
        raise InputError(
            f"password_env names {url.password_env!r}, which is not set",
            source=url.masked,
            hint=f"Set the environment variable {url.password_env} to the password.",
        )
    return value


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
        raise _bad(parsed.text, "a spark URL starts a session, not a connection", "a SQL engine")
    password = resolve_password(parsed)
    hidden = [v for k, v in parsed.params.items() if _SECRET_PARAM.search(k)]
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
        found = _SCHEME.match(text)
        assert found is not None  # parse() accepted it
        user = quote(url.user or "", safe="")
        rest = text[found.end() :]
        at = _userinfo_end(rest)
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


def scrub(text: str, url: EngineURL, secrets: list[str]) -> str:
    """``text`` with the URL shown masked and every secret (as written, decoded or
    percent-encoded) replaced by ``***``."""
    text = text.replace(url.text, url.masked)
    for secret in secrets:
        spellings = {secret, unquote(secret), quote(secret, safe=""), quote(secret)}
        for spelling in sorted(spellings, key=len, reverse=True):
            if spelling:
                text = text.replace(spelling, MASK)
    return text


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


def _userinfo_end(rest: str) -> int | None:
    """Where the user[:password] part ends: the last '@' that a host follows and whose user
    name (before the first ':') holds no '@ / ? #'; None when no '@' fits."""
    for at in sorted((i for i, c in enumerate(rest) if c == "@"), reverse=True):
        user = rest[:at].partition(":")[0]
        if not any(c in user for c in "@/?#") and _HOST.match(rest[at + 1 :]):
            return at
    return None


def _host_port(text: str, hostport: str) -> tuple[str | None, int | None]:
    if hostport.startswith("["):  # [::1]:5432
        host, _, port = hostport[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise _bad(text, f"bad port {port!r}", "a number from 1 to 65535")
    return unquote(host) or None, int(port) if port else None


def _split_first(text: str, stops: str) -> tuple[str, str, str]:
    cut = min((i for i in (text.find(c) for c in stops) if i >= 0), default=len(text))
    return text[:cut], text[cut : cut + 1], text[cut:]


def _mask_params(text: str) -> str:
    return re.sub(
        r"([?&;])([^=&#]*)=([^&#]*)",
        lambda m: m.group(0) if not _SECRET_PARAM.search(m.group(2)) else f"{m[1]}{m[2]}={MASK}",
        text,
    )


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:2]) if lines else ""


def _expected_forms() -> str:
    return "duckdb, spark, or scheme://[user@]host[:port]/database with scheme one of " + (
        ", ".join(s for s in SCHEMES if s not in ("duckdb", "spark"))
    )


def _bad(text: str, problem: str, expected: str) -> InputError:
    return InputError(problem, source=mask(text), parameter="engine", expected=expected)
