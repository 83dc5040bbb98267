"""A SQL data source must be one read-only query: checked by a SQL parser before it runs.

A ``data:`` value or a CLI data argument that is SQL runs in the engine, where ``COPY ...
TO``, ``ATTACH``, ``INSTALL`` or a second statement after ``;`` would write files, reach
other databases or change the session. :func:`check_query` parses the text with sqlglot and
accepts exactly one statement whose root is a query (``SELECT``, ``WITH ... SELECT``, a set
operation, ``VALUES``, DuckDB's ``FROM ...``), containing no statement of another kind and
none of the table functions in :data:`DENIED_FUNCTIONS` (they change engine state or run SQL
text the parser cannot see). Reading functions (``read_csv``, ``read_parquet``, ...) stay
allowed: they read the user's own files. On DuckDB the engine's own parser must agree (one
``SELECT`` statement), as a second line of defence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sds.errors import InputError

SOURCE = "SQL query"
HINT = "Give one SELECT query (SELECT ..., WITH ... SELECT ..., VALUES ... or FROM ...)."
# a string that starts like a SQL statement of any kind (decides "SQL, to be checked")
STATEMENT_START = re.compile(
    r"^\s*\(*\s*(select|with|from|values|copy|attach|detach|install|force|load|pragma|set|"
    r"reset|call|export|import|create|drop|alter|insert|update|delete|merge|truncate|use|"
    r"vacuum|checkpoint|begin|commit|rollback|summarize|describe|show|pivot|unpivot|"
    r"prepare|execute|analyze|explain|update_extensions|comment)\s",
    re.IGNORECASE,
)
DENIED_FUNCTIONS = frozenset(
    {
        "checkpoint", "force_checkpoint", "enable_logging", "disable_logging",
        "truncate_duckdb_logs", "write_log", "json_execute_serialized_sql", "query",
        "query_table", "duckdb_secrets", "which_secret",
    }
)  # fmt: skip
SERVER_DENIED_FUNCTIONS = frozenset(
    {
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir",
        "pg_ls_waldir", "pg_ls_tmpdir", "lo_import", "lo_export", "lo_unlink", "lo_put",
        "lo_from_bytea", "lo_create", "lo_creat", "dblink", "dblink_exec", "dblink_connect",
        "dblink_send_query", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf",
        "pg_rotate_logfile", "set_config", "pg_sleep", "pg_sleep_for", "pg_sleep_until",
        "nextval", "setval", "pg_advisory_lock", "pg_advisory_xact_lock", "pg_promote",
        "pg_switch_wal", "pg_create_restore_point", "pg_logical_emit_message",
        "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
        "pg_drop_replication_slot", "pg_file_write", "pg_file_unlink", "pg_file_rename",
        "query_to_xml", "query_to_xml_and_xmlschema", "table_to_xml", "cursor_to_xml",
    }
)  # fmt: skip
"""Functions of PostgreSQL (and its common extensions) that read or write the server's
files, reach other databases, run SQL text the parser cannot see or change the session;
refused in a SQL source on a database server (a read-only role is the stronger guard)."""


def looks_like_statement(text: str) -> bool:
    """Whether ``text`` starts like a SQL statement (a query or any other kind)."""
    return bool(STATEMENT_START.match(text))


def check_query(query: str, *, dialect: str = "duckdb") -> str:
    """The query, without a trailing ``;``, if it is one read-only query; else an InputError."""
    from sqlglot import exp

    statements = [s for s in _parse(query, dialect) if s is not None]
    if len(statements) != 1:
        kinds = ", ".join(_kind(s) for s in statements) or "nothing"
        raise _refused(f"{len(statements)} statements ({kinds})")
    root = statements[0]
    denied = DENIED_FUNCTIONS if dialect in ("duckdb", "spark") else SERVER_DENIED_FUNCTIONS
    query_roots = (exp.Select, exp.SetOperation, exp.Values, exp.Subquery)
    if not isinstance(root, query_roots):
        raise _refused(_kind(root))
    for node in root.walk():
        if isinstance(node, exp.DML | exp.DDL | exp.Command | exp.Copy | exp.Pragma):
            raise _refused(f"{_kind(node)} inside the query")
        if isinstance(node, exp.Func) and _function(node) in denied:
            raise _refused(f"the function {_function(node)}()")
    if dialect == "duckdb":
        _duckdb_agrees(query)
    return query.rstrip().rstrip(";").rstrip()


def _parse(query: str, dialect: str) -> list[Any]:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        with _quiet_parser():
            return list(sqlglot.parse(query, read=dialect))
    except SqlglotError as exc:
        first = (
            str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
        )
        raise InputError(
            f"the SQL cannot be parsed as a query: {first[:160]}", source=SOURCE, hint=HINT
        ) from None


@contextmanager
def _quiet_parser() -> Iterator[None]:
    """sqlglot logs a warning when it falls back to an opaque command; it is refused anyway."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _kind(node: Any) -> str:
    """A statement's kind as the user wrote it: COPY, ATTACH, INSERT, ..."""
    from sqlglot import exp

    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, exp.Select | exp.SetOperation | exp.Values | exp.Subquery):
        return "SELECT"
    return type(node).__name__.upper()


def _function(node: Any) -> str:
    from sqlglot import exp

    name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
    return str(name).lower()


def _duckdb_agrees(query: str) -> None:
    """DuckDB's own parser must see one SELECT statement too."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0].rstrip(".")
        raise InputError(
            f"the SQL cannot be parsed as a query: {first[:160]}", source=SOURCE, hint=HINT
        ) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(s.type.name for s in statements) or "nothing"
        raise _refused(kinds)


def _refused(kind: str) -> InputError:
    return InputError(f"only one read-only query is accepted, not {kind}", source=SOURCE, hint=HINT)
