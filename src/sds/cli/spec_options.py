"""Command-line options made from a spec, and errors named as the user typed them.

A job's spec (a :class:`~sds.config.StrictModel`) is the one source of its parameters:
:func:`spec_command` turns its fields into the options of a typer command (``n_per_variant``
becomes ``--n-per-variant``; a ``Literal`` type becomes the choices shown in the help; the
field's description becomes the help; a required field a required option; the default is
the spec's), builds the spec from what was typed and hands it to the command's body. A list
field is typed comma-separated (``--shares 50,50``).

:func:`name_as_typed` rewrites an error's ``parameter`` (a field or argument name such as
``alpha``) to the option of the command that ran (``--alpha``), so the one-line message
says what the user typed.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_origin

import typer

from sds.config import literal_choices
from sds.errors import SdsError

if TYPE_CHECKING:  # pydantic is loaded when a spec command is built, not for sds --help
    from pydantic.fields import FieldInfo

    from sds.config import StrictModel

S = TypeVar("S", bound="StrictModel")


def option_name(field: str) -> str:
    """``n_per_variant`` -> ``--n-per-variant``."""
    return "--" + field.replace("_", "-")


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) in (list, tuple):
        return True
    return any(get_origin(arg) in (list, tuple) for arg in get_args(annotation))


def _option_type(annotation: Any) -> Any:
    """The type typer reads: a list field is one comma-separated string."""
    return str | None if _is_list(annotation) else annotation


def _help(field: FieldInfo, annotation: Any) -> str:
    text = (field.description or "").rstrip(".") + "."
    return text + (" Comma-separated." if _is_list(annotation) else "")


def _argument(name: str, field: FieldInfo) -> inspect.Parameter:
    """A positional argument, typed as text so the spec judges it (aliases, case)."""
    choices = literal_choices(field.annotation)
    listed = f" One of: {', '.join(map(str, choices))}." if choices else ""
    info = typer.Argument(help=_help(field, field.annotation) + listed, show_default=True)
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=... if field.is_required() else field.default,
        annotation=Annotated[str, info],
    )


def _parameter(name: str, field: FieldInfo, short: str | None) -> inspect.Parameter:
    annotation = field.annotation
    required = field.is_required()
    decls = [option_name(name), *([short] if short else [])]
    if annotation is bool and field.default is False:
        decls = [option_name(name)]  # a flag: --absolute, no --no-absolute
    info = typer.Option(*decls, help=_help(field, annotation), show_default=not required)
    default = ... if required else (None if _is_list(annotation) else field.default)
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[_option_type(annotation), info],
    )


def spec_parameters(
    model: type[StrictModel],
    *,
    exclude: Iterable[str] = (),
    shorts: dict[str, str] | None = None,
    positional: Sequence[str] = (),
) -> list[inspect.Parameter]:
    """One keyword-only typer parameter per field of ``model`` (minus ``exclude``): an
    argument for the ``positional`` fields (first, in that order), else an option."""
    skip, shorts = set(exclude), shorts or {}
    fields = model.model_fields
    arguments = [_argument(name, fields[name]) for name in positional]
    options = [
        _parameter(name, field, shorts.get(name))
        for name, field in fields.items()
        if name not in skip and name not in positional
    ]
    return [*arguments, *options]


def spec_values(model: type[StrictModel], typed: dict[str, Any]) -> dict[str, Any]:
    """The field values typed on the command line, a comma-separated list split."""
    out = {}
    for name, value in typed.items():
        annotation = model.model_fields[name].annotation
        if _is_list(annotation) and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        out[name] = value
    return out


def spec_command(
    model: type[S],
    *,
    fixed: dict[str, Any] | None = None,
    exclude: Sequence[str] = (),
    shorts: dict[str, str] | None = None,
    positional: Sequence[str] = (),
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorate ``body(spec, **other_options)``: the command gets one option per spec field
    (except ``fixed`` ones, set to their given values, and ``exclude``d ones; ``positional``
    ones are arguments) besides ``body``'s own options, and ``body`` receives the validated
    spec."""
    fixed = fixed or {}
    exclude = [*fixed, *exclude]
    params = spec_parameters(model, exclude=exclude, shorts=shorts, positional=positional)
    names = {p.name for p in params}

    def wrap(body: Callable[..., None]) -> Callable[..., None]:
        own = list(inspect.signature(body, eval_str=True).parameters.values())[1:]
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]

        @functools.wraps(body)
        def command(**typed: Any) -> None:
            fields = spec_values(model, {k: typed.pop(k) for k in names})
            body(model(**fixed, **fields), **typed)

        command.__signature__ = inspect.Signature([*params, *own])  # type: ignore[attr-defined]
        command.__annotations__ = {}
        del command.__wrapped__  # typer must read the signature above, not body's
        return command

    return wrap


def add_spec_arguments(
    parser: argparse.ArgumentParser, model: type[StrictModel], exclude: Iterable[str] = ()
) -> None:
    """The same options for a seed script's argparse parser: one ``--kebab-name`` per field,
    set in the parsed namespace only when given (the spec judges the text)."""
    skip = set(exclude)
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        help_text = _help(field, field.annotation)
        if field.annotation is bool:
            parser.add_argument(
                option_name(name),
                dest=name,
                action="store_const",
                const=True,
                default=argparse.SUPPRESS,
                help=help_text,
            )
            continue
        choices = literal_choices(field.annotation)
        listed = f" One of: {', '.join(map(str, choices))}." if choices else ""
        parser.add_argument(
            option_name(name), dest=name, default=argparse.SUPPRESS, help=help_text + listed
        )


def given_arguments(args: argparse.Namespace, model: type[StrictModel]) -> dict[str, Any]:
    """The spec fields given on a seed script's command line (see add_spec_arguments)."""
    typed = {k: v for k, v in vars(args).items() if k in model.model_fields}
    return spec_values(model, typed)


def choices_of(model: type[StrictModel], field: str) -> tuple[Any, ...]:
    """The allowed values of a ``Literal`` field (for help texts and docs)."""
    return literal_choices(model.model_fields[field].annotation)


def _command_options(root: Any, argv: Sequence[str]) -> dict[str, str]:
    """Python name -> long option of the command ``argv`` runs under the click command
    ``root``, and of the groups on the way (``sds --memory-limit``)."""
    path, command = [root], root
    for token in argv:  # a token naming a subcommand descends; options and values do not
        sub = getattr(command, "commands", {}).get(token)
        if sub is not None:
            path.append(command := sub)
    out = {}
    for param in (p for step in path for p in getattr(step, "params", [])):
        longs = [o for o in getattr(param, "opts", []) if o.startswith("--")]
        if param.param_type_name == "option" and longs and param.name:
            out[param.name] = longs[0]
            out.setdefault(longs[0][2:].replace("-", "_"), longs[0])  # fmt -> --format
    return out


def name_as_typed(exc: SdsError, argv: Sequence[str], root: Any) -> SdsError:
    """``exc`` with its parameter (and the name leading its problem) renamed to the option
    the user typed, e.g. ``alpha`` -> ``--alpha``, for the command ``argv`` runs under the
    click command ``root``; unchanged when no option matches."""
    options = _command_options(root, argv)
    _rename_mentions(exc, options)
    if not exc.parameter or exc.parameter.startswith("-"):
        return exc
    name = exc.parameter.replace("-", "_")
    option = options.get(name)
    if option is None:
        return exc
    if exc.problem.startswith((f"{exc.parameter} ", f"{name} ")):
        exc.problem = option + exc.problem[len(exc.parameter) :]
    exc.parameter = option
    return exc


def _rename_mentions(exc: SdsError, options: dict[str, str]) -> None:
    """Each name in ``exc.mentions`` that is an option of this command, written as the
    option (``n_per_variant`` -> ``--n-per-variant``) in the problem and the hint; a spec
    file's keys (no such option) stay as they are."""
    for name in getattr(exc, "mentions", ()):
        option = options.get(name)
        if option is None:
            continue
        word = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        exc.problem = word.sub(option, exc.problem)
        if exc.hint:
            exc.hint = word.sub(option, exc.hint)
