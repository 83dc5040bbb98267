"""The CLI reference, generated from the command tree of ``sds`` (``sds.cli.main.app``):
every command with its help, usage, arguments and options (type, default, help).

Used by ``docs/hooks.py`` (the page ``reference/cli.md``) and ``tests/docs/test_reference.py``.
"""

from __future__ import annotations

import enum
import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import typer.main

from sds.cli.main import app


def root_command() -> Any:
    """The click command of ``sds``."""
    return typer.main.get_command(app)


def walk(command: Any, path: str = "sds") -> Iterator[tuple[str, Any]]:
    """Every command of the tree with its full name (``"sds causal did"``), groups included,
    in the order ``sds --help`` lists them."""
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        if not getattr(sub, "hidden", False):
            yield from walk(sub, f"{path} {name}")


def leaf_commands() -> dict[str, Any]:
    """The commands that run something (not groups), by full name."""
    return {name: c for name, c in walk(root_command()) if not getattr(c, "commands", None)}


def annotation_text(annotation: Any) -> str:
    """A reader's name for an option's Python type."""
    origin = get_origin(annotation)
    if origin is Literal:
        return "choice"
    if origin in (Union, types.UnionType):
        return " | ".join(annotation_text(a) for a in get_args(annotation) if a is not type(None))
    if origin in (list, tuple):
        return f"{annotation_text(get_args(annotation)[0])} (repeatable)"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "choice"
    if annotation is Path:
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def param_type(param: Any) -> str:
    """The type of a parameter, from typer's annotation (else click's type name)."""
    if getattr(param, "is_flag", False):
        return "flag"
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return annotation_text(descriptor.annotation)
    return str(getattr(getattr(param, "type", None), "name", "text"))


def default_text(param: Any) -> str:
    """The default a user gets when leaving the parameter out."""
    if param.required:
        return "required"
    value = param.default
    if callable(value) or value is None or value == () or value == []:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, Path):
        value = str(value)
    return f"`{json.dumps(value) if isinstance(value, str) else value}`"


def names(param: Any) -> str:
    """How the parameter is typed: ``--alpha``, ``-o/--output``, or ``DATA`` for an argument."""
    if type(param).__name__.endswith("Argument"):
        return f"`{param.metavar or param.name.upper()}`"
    opts = sorted(param.opts, key=len) + list(param.secondary_opts)
    return "`" + "` / `".join(opts) + "`"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def usage(command: Any, path: str) -> str:
    """The usage line, as ``--help`` prints it."""
    ctx = command.context_class(command, info_name=path)
    return " ".join([path, *command.collect_usage_pieces(ctx)])


def params_table(command: Any) -> list[str]:
    """The table of a command's arguments and options (``--help`` itself left out)."""
    params = [p for p in command.params if not getattr(p, "hidden", False)]
    if not params:
        return ["No options.", ""]
    lines = ["| argument / option | type | default | description |", "| --- | --- | --- | --- |"]
    for p in params:
        envvar = f" (environment: `{p.envvar}`)" if getattr(p, "envvar", None) else ""
        row = [names(p), param_type(p), default_text(p), (p.help or "") + envvar]
        lines.append("| " + " | ".join(cell(x) for x in row) + " |")
    return [*lines, ""]


def command_section(path: str, command: Any) -> str:
    """One command: heading, help, usage and parameters."""
    level = min(path.count(" ") + 1, 4)
    help_text = (command.help or "").strip()
    lines = [f"{'#' * level} `{path}`", ""]
    if help_text:
        lines += [help_text.replace("\b\n", ""), ""]
    lines += ["```text", usage(command, path), "```", ""]
    subcommands = getattr(command, "commands", None)
    if subcommands:
        lines += ["Commands: " + ", ".join(f"`{path} {n}`" for n in subcommands), ""]
    lines += params_table(command)
    return "\n".join(lines)


INTRO = """# CLI reference

Every `sds` command with its options, generated from the command definitions when the site
is built (the same text as `sds COMMAND --help`). Global options (the first table) go
before the command: `sds --engine spark profile events.parquet`. A bad value is one
`error:` line on stderr and exit 2; a failed analysis exits 1.
"""


def cli_reference() -> str:
    """The whole page, Markdown."""
    sections = [command_section(path, cmd) for path, cmd in walk(root_command())]
    return INTRO + "\n" + "\n".join(sections)
