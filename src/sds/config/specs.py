"""Validated specs: ``StrictModel`` (the base of every spec) and YAML/JSON config files read
into pydantic models.

``load_config(path, Model)`` reads a YAML or JSON file into a pydantic model and turns every
validation problem into one :class:`~sds.errors.ConfigError` that names the file, the key
and, for a misspelled key, the key that was probably meant. The only part of
:mod:`sds.config` that imports pydantic, loaded when a spec is first needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from sds.config.core import literal_choices, read_mapping
from sds.errors import ConfigError, ParameterError, SdsError, close_matches
from sds.params import Constraint, Interval, OneOf, Rule
from sds.urls import parse as parse_url


class StrictModel(BaseModel):
    """Base of every spec: unknown keys are errors, values are immutable, a field annotated
    with a :class:`~sds.params.Rule` is judged by that rule of ``params.RULES`` (one
    validator, here, for every spec), and constructing a spec in Python with a bad value
    raises one :class:`~sds.errors.ParameterError` naming the field (YAML/JSON files go
    through :func:`validate_mapping`, which raises a ConfigError naming file and key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise parameter_error(exc, type(self)) from None

    # validate_mapping and nested specs validate without calling __init__
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("*", mode="after")
    @classmethod
    def _obeys_rule(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        field = cls.model_fields.get(name)
        rule = next((m for m in field.metadata if isinstance(m, Rule)), None) if field else None
        if rule is None or value is None:
            return value
        for item in value if isinstance(value, list | tuple) else [value]:
            problem = rule.constraint.violation(item)
            if problem is not None:
                shown = repr(item) if isinstance(item, str) else f"{item}"
                expected = (
                    rule.constraint.describe() if isinstance(rule.constraint, Interval) else ""
                )
                raise PydanticCustomError(
                    "sds_rule",
                    "{message}",
                    {"message": f"{name} == {shown}, {problem}", "expected": expected},
                )
        return value


class EngineChoice(StrictModel):
    """The ``engine`` and ``spark_master`` keys a spec may carry. They apply only where
    neither the command line (``--engine``) nor an enclosing ``settings(engine=...)`` chose."""

    engine: str | None = Field(
        default=None,
        description="Engine for this job unless --engine chose one: duckdb, spark, or a "
        "database URL such as postgres://user@host:5432/db (no password in a spec: use "
        "PGPASSWORD, ~/.pgpass or ?password_env=NAME).",
    )
    spark_master: str | None = Field(
        default=None, description="Spark master for engine spark, e.g. local[4] or yarn."
    )

    @field_validator("engine", mode="after")
    @classmethod
    def _engine_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            parsed = parse_url(value)
        except SdsError as exc:
            raise ValueError(str(exc)) from None
        if parsed.password is not None:
            raise ValueError(
                f"{parsed.masked} holds a password; a spec must not: give it with "
                "PGPASSWORD, a ~/.pgpass entry or ?password_env=NAME"
            )
        return value


def field_rules(model: type[BaseModel]) -> dict[str, Constraint]:
    """The constraint each field of ``model`` declares: its :class:`~sds.params.Rule`, or
    the choices of a ``Literal`` type (for the CLI, the docs and generated invalid values)."""
    out: dict[str, Constraint] = {}
    for name, field in model.model_fields.items():
        rule = next((m for m in field.metadata if isinstance(m, Rule)), None)
        choices = literal_choices(field.annotation)
        if rule is not None:
            out[name] = rule.constraint
        elif choices:
            out[name] = OneOf(choices)
    return out


def _problem(err: Any, model: type[BaseModel]) -> tuple[str, str | None, str | None]:
    """The message, expected values and hint of one pydantic error, in the sds shape
    (``alpha == 2, must be < 1``); the field is the dotted key the user wrote."""
    key = ".".join(str(part) for part in err["loc"])
    leaf = str(err["loc"][-1]) if err["loc"] else ""
    value = err.get("input")
    shown = repr(value) if isinstance(value, str) else f"{value}"
    kind = err["type"]
    if kind == "sds_rule":
        message, expected = str(err["msg"]), err["ctx"].get("expected") or None
        return key + message.removeprefix(leaf), expected, None  # the dotted key of a nested one
    if kind == "literal_error":
        listed = str(err.get("ctx", {}).get("expected", "")).replace(" or ", ", ")
        options = [o.strip(" '") for o in listed.split(",") if o.strip(" '")]
        matches = close_matches(str(value), options)
        hint = f"Did you mean {', '.join(repr(m) for m in matches)}?" if matches else None
        return f"{key} == {shown}, {OneOf(tuple(options)).violation(None)}", None, hint
    if kind == "extra_forbidden":
        fields = _fields_at(model, err["loc"][:-1])
        matches = close_matches(leaf, fields)
        hint = f"Did you mean {matches[0]!r}?" if matches else None
        return f"unknown key {key!r}", "one of: " + ", ".join(fields), hint
    if kind == "missing":
        return f"{key} is required", None, None
    if kind == "value_error":  # a model's own check: its message says it all
        message = str(err["msg"]).removeprefix("Value error, ")
        return (f"{key}: {message}" if key else message), None, None
    return f"{key} == {shown}, {str(err['msg']).lower()}", None, None


def parameter_error(exc: ValidationError, model: type[BaseModel]) -> ParameterError:
    """One ParameterError for a spec built in Python with a bad value: the first problem,
    its ``parameter`` the field as the caller named it."""
    err = exc.errors()[0]
    message, expected, hint = _problem(err, model)
    key = ".".join(str(part) for part in err["loc"]) or None
    return ParameterError(message, parameter=key, expected=expected, hint=hint)


M = TypeVar("M", bound=BaseModel)


def parse_spec(data: Any, model: type[M], source: str, what: str) -> M:
    """A validated ``model`` from a mapping (YAML/JSON) or an instance of it; ``what``
    names it in the error, e.g. "an analysis spec"."""
    if isinstance(data, model):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must be a mapping", source=source)
    return validate_mapping(data, model, source)


def validate_mapping(data: dict[str, Any], model: type[M], source: str) -> M:
    """Validate a mapping into ``model``, raising ConfigError on the first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        message, expected, hint = _problem(err, model)
        raise ConfigError(message, source=source, expected=expected, hint=hint) from exc


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc`` inside ``model`` (a nested model's, for a nested key);
    list positions in ``loc`` are skipped."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(str(part)) if _is_model(current) else None
        if field is None:
            break
        current = _model_in(field.annotation)
    return list(current.model_fields) if _is_model(current) else list(model.model_fields)


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation such as ``Model``, ``list[Model]`` or
    ``Model | None``; None if there is none."""
    if _is_model(annotation):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def load_config(path: str | Path, model: type[M]) -> M:
    """Read and validate a YAML/JSON config file."""
    return validate_mapping(read_mapping(path), model, str(path))
