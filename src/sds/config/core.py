"""The part of :mod:`sds.config` that needs no pydantic: the settings in force (a context
variable), reading a YAML/JSON file into a mapping, and the choices of a ``Literal`` type.
Imported by every command at start-up, so it stays cheap (pydantic is loaded by
:mod:`sds.config.specs`, when a spec is built)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol, get_args, get_origin

from sds.errors import ConfigError


class EngineKeys(Protocol):
    """The ``engine`` and ``spark_master`` keys of a spec (``sds.config.EngineChoice``)."""

    @property
    def engine(self) -> str | None: ...

    @property
    def spark_master(self) -> str | None: ...


@dataclass(frozen=True)
class Settings:
    """Defaults used when a call does not say otherwise."""

    # "duckdb" (when nothing chose), "spark", a database URL (postgres://...) or an Engine
    engine: Any = None
    spark_master: str | None = None  # e.g. local[4], spark://host:7077, yarn
    threads: int | None = None
    memory_limit: str | None = None
    temp_directory: str | None = None
    alpha: float = 0.05
    seed: int = 42
    progress: bool = True
    upload: bool = False  # copy local sources to a database-server engine (else DuckDB reads them)


_SETTINGS: ContextVar[Settings] = ContextVar("sds_settings", default=Settings())  # noqa: B039


def get_settings() -> Settings:
    """The settings in force in this context.

    Returns:
        The current `Settings` (engine, threads, memory limit, alpha, seed, progress ...);
            the defaults unless a `settings()` block or the CLI's options changed them.
    """
    return _SETTINGS.get()


@contextmanager
def settings(**overrides: Any) -> Iterator[Settings]:
    """Override some settings inside a `with` block.

    The override is held in a context variable, so it applies to this thread or task only
    and is undone when the block ends, even on an error.

    Args:
        **overrides: Fields of `Settings` to change, e.g. `engine="spark"`, `threads=4`,
            `seed=7`, `progress=False`.

    Yields:
        The settings in force inside the block.

    Raises:
        TypeError: An override names no field of `Settings`.
    """
    token = _SETTINGS.set(replace(_SETTINGS.get(), **overrides))
    try:
        yield _SETTINGS.get()
    finally:
        _SETTINGS.reset(token)


def use_settings(new: Settings) -> Token[Settings]:
    """Make ``new`` the settings of this context until :func:`restore_settings` (the CLI's
    global options, which hold for the rest of one run)."""
    return _SETTINGS.set(new)


def restore_settings(token: Token[Settings]) -> None:
    """Put back the settings in force before the :func:`use_settings` that gave ``token``."""
    _SETTINGS.reset(token)


@contextmanager
def engine_scope(choice: EngineKeys) -> Iterator[Settings]:
    """Run the block on the spec's engine, unless one was chosen outside it."""
    current = get_settings()
    if choice.engine is None or current.engine is not None:
        yield current
        return
    with settings(engine=choice.engine, spark_master=choice.spark_master) as inside:
        yield inside


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON file whose top level is a mapping."""
    import yaml

    p = Path(path)
    if not p.is_file():
        problem = "is a folder, not a config file" if p.is_dir() else "config file not found"
        if p.exists() and not p.is_dir():
            problem = "is not a regular file (a pipe or device?)"
        raise ConfigError(problem, source=str(p), hint="Check the path.")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("config file is not UTF-8 text", source=str(p)) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", source=str(p)) from exc
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        where = f"{p}:{exc.lineno}:{exc.colno}"
        raise ConfigError(f"cannot parse JSON: {exc.msg}", source=where) from exc
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, p) from exc
    if data is None:
        raise ConfigError("config file is empty", source=str(p))
    if not isinstance(data, dict):
        raise ConfigError(
            "config must be a mapping of keys to values",
            source=str(p),
            found=type(data).__name__,
        )
    return data


def _yaml_error(exc: Any, path: Path) -> ConfigError:
    """One line for a YAML problem: FILE:LINE:COLUMN and what is wrong there."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = str(getattr(exc, "problem", None) or exc)
    if "python/" in problem:  # !!python/object/apply and friends: code, not data
        return ConfigError(
            "python tags are not allowed in a config",
            source=where,
            hint="Write plain values (strings, numbers, lists, mappings).",
        )
    return ConfigError(f"cannot parse YAML: {problem}", source=where)


def literal_choices(annotation: Any) -> tuple[Any, ...]:
    """The values of a ``Literal[...]`` annotation (also inside ``... | None``), else ()."""
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    for arg in get_args(annotation):
        if get_origin(arg) is Literal:
            return get_args(arg)
    return ()
