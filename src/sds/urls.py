"""Engine URLs, parsed and masked: which backend runs the jobs and where it is, written so
that a password never comes back out.

Forms::

    duckdb                                     DuckDB in memory (the default)
    duckdb:///data/warehouse.duckdb            a DuckDB file
    spark  |  spark://host:7077                a local Spark, or a Spark master
    postgres://user@host:5432/db/schema        PostgreSQL (also postgresql://)
    mysql://..., trino://..., clickhouse://..., snowflake://..., bigquery://...,
    databricks://...                           other Ibis backends

:func:`mask` (and the ``str`` and ``repr`` of :class:`EngineURL`) show ``user:***@host``;
every error raised here names the masked URL only. A password written in the URL may hold
``@ : / %`` as they are; percent-encoded characters (``%40`` for ``@``) are decoded, as in
libpq. A user name holding ``@ / ?`` must be percent-encoded. When both the password and
the query hold an ``@``, the URL is split at the last ``@`` a host name follows: more is
masked, never less. Connecting is :mod:`sds.data.url`'s work; this module imports no
driver, so a spec's ``engine:`` key is checked without one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

from sds.errors import InputError, close_matches

POSTGRES_SCHEMES = ("postgres", "postgresql")
GENERIC_SCHEMES = ("bigquery", "snowflake", "trino", "clickhouse", "mysql", "databricks")
SCHEMES = ("duckdb", "spark", *POSTGRES_SCHEMES, *GENERIC_SCHEMES)
MASK = "***"
# query parameters whose values are secrets, whatever the backend
SECRET_PARAM = re.compile(
    r"(?i)^(?!password_env$).*(password|passwd|pwd|secret|token|private_key|credential)"
)
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[^@/?#:\[\]]*)(?::[^@/?#]*)?(?:[/?#]|$)")
SCHEME_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


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
    found = SCHEME_PREFIX.match(url)
    if not found:
        return url
    head, rest = found.group(0), url[found.end() :]
    at = userinfo_end(rest)
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
    found = SCHEME_PREFIX.match(text)
    if not found:
        if re.fullmatch(r"[A-Za-z][\w.+-]*", text):  # a word: an engine name misspelled?
            near = close_matches(text, ("duckdb", "spark", *POSTGRES_SCHEMES))
            hint = f"Did you mean {near[0]!r}?" if near else None
            raise bad_url(text, f"unknown engine {text!r}", _expected_forms(), hint)
        raise bad_url(text, "not an engine URL", _expected_forms())
    scheme = found.group(1).lower()
    if scheme not in SCHEMES:
        raise bad_url(text, f"unknown engine {scheme!r}", f"one of: {', '.join(SCHEMES)}")
    rest = text[found.end() :]
    if scheme == "duckdb":
        return EngineURL("duckdb", text, database=unquote(rest) or ":memory:")
    if scheme == "spark":
        return EngineURL("spark", text, database=text)  # Spark's own master URL
    return _parse_server(scheme, text, rest)


def _parse_server(scheme: str, text: str, rest: str) -> EngineURL:
    at = userinfo_end(rest)
    if at is None and "@" in rest:
        raise bad_url(text, "cannot tell the user and password from the host", _expected_forms())
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
        raise bad_url(text, "password_env is empty", "the name of an environment variable")
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


def userinfo_end(rest: str) -> int | None:
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
        raise bad_url(text, f"bad port {port!r}", "a number from 1 to 65535")
    return unquote(host) or None, int(port) if port else None


def _split_first(text: str, stops: str) -> tuple[str, str, str]:
    cut = min((i for i in (text.find(c) for c in stops) if i >= 0), default=len(text))
    return text[:cut], text[cut : cut + 1], text[cut:]


def _mask_params(text: str) -> str:
    return re.sub(
        r"([?&;])([^=&#]*)=([^&#]*)",
        lambda m: m.group(0) if not SECRET_PARAM.search(m.group(2)) else f"{m[1]}{m[2]}={MASK}",
        text,
    )


def _expected_forms() -> str:
    return "duckdb, spark, or scheme://[user@]host[:port]/database with scheme one of " + (
        ", ".join(s for s in SCHEMES if s not in ("duckdb", "spark"))
    )


def bad_url(text: str, problem: str, expected: str, hint: str | None = None) -> InputError:
    """The InputError for a bad engine URL, showing it masked."""
    return InputError(problem, source=mask(text), parameter="engine", expected=expected, hint=hint)
