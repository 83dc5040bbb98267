"""Every public surface refuses a bad parameter value the same way, naming what the user typed.

The CLI cases are generated from the command tree of ``sds.cli.main`` at collection time, so
a new command or option is covered without editing this file. An option has a rule when

* its spec field declares one (a :class:`sds.params.Rule` or a ``Literal`` type, read with
  :func:`sds.config.field_rules` from the spec a ``spec_command`` was built from), else
* ``sds.params.RULES`` has a rule under its parameter name, else
* its type is a ``Literal`` or an ``Enum`` (choices), or ``--format`` (``sds.results.FORMATS``),
  else
* its type is ``int`` or ``float`` (a number, and for ``int`` a whole one).

For each, a few invalid values (outside the interval, NaN, inf, a wrong type, a value not in
the choices) must end in exit 2 with exactly one ``error:`` line, no traceback, and the
option as typed (``--alpha``) in the message, not the Python name (``alpha``,
``srm_threshold``). Every command also gets an unknown-option case, so none has zero cases.

The minimal valid invocation of each command, and the files it reads, come from the hostile
sweep's table (``tests/hostile/sweep_commands.py``): a command missing there fails here too.

The public Python entry points of the top-level ``sds`` namespace are judged likewise: a bad
keyword value raises one :class:`sds.ParameterError` whose ``parameter`` is the keyword.
"""

from __future__ import annotations

import enum
import inspect
import math
import re
import socket
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pandas as pd
import pytest
import typer.main

import sds
from sds.cli.main import app
from sds.config import StrictModel, field_rules
from sds.params import RULES, Constraint, Interval, OneOf
from sds.results import FORMATS
from tests.conftest import invoke
from tests.hostile.sweep_cases import Workspace
from tests.hostile.sweep_commands import COMMANDS
from tests.hostile.test_sweep import build_workspace

ROOT = typer.main.get_command(app)
BASES = {c.name: c.base for c in COMMANDS}
NOT_A_CHOICE = "no-such-choice"
UNKNOWN_OPTION = "--no-such-option"


# --- the rules each option obeys -----------------------------------------------------------


def cli_commands() -> dict[str, Any]:
    """Every leaf command of ``sds``, by its name (``"causal did"``)."""

    def walk(command: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            yield prefix, command
            return
        for name, sub in subcommands.items():
            yield from walk(sub, f"{prefix} {name}".strip())

    return dict(walk(ROOT, ""))


def spec_model(command: Any) -> type[StrictModel] | None:
    """The spec a ``spec_command`` built this command from (found in its wrapper's closure),
    else None."""
    function = getattr(command, "callback", None)
    while function is not None:
        closure = inspect.getclosurevars(function).nonlocals if inspect.isfunction(function) else {}
        model = closure.get("model")
        if isinstance(model, type) and issubclass(model, StrictModel):
            return model
        function = getattr(function, "__wrapped__", None)
    return None


def _bare(annotation: Any) -> Any:
    """``X | None`` -> ``X``."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def type_rule(annotation: Any) -> Constraint | None:
    """The rule a parameter's type implies: choices for a Literal or an Enum, a number for
    int and float."""
    bare = _bare(annotation)
    if get_origin(bare) is Literal:
        return OneOf(get_args(bare))
    if isinstance(bare, type) and issubclass(bare, enum.Enum):
        return OneOf(tuple(m.value for m in bare))
    if bare is int:
        return Interval(integer=True)
    if bare is float:
        return Interval()
    return None


def fits(rule: Constraint, annotation: Any) -> bool:
    """Whether a rule of RULES found by name applies to a parameter of this type (an
    interval to a number, choices to text): ``variants`` is an arm count in RULES but a
    list of arm names in assign and srm."""
    bare = _bare(annotation)
    if isinstance(rule, Interval):
        return bare in (int, float)
    return bare is str or get_origin(bare) is Literal


def option_rules(command: Any) -> dict[str, tuple[str, str, Constraint]]:
    """Long option -> (parameter name, source of the rule, constraint) for every option of
    ``command`` with a rule."""
    model = spec_model(command)
    from_spec = field_rules(model) if model is not None else {}
    out = {}
    for param in command.params:
        longs = [o for o in param.opts if o.startswith("--")]
        if param.param_type_name != "option" or not longs or param.name is None:
            continue
        annotation = param.type_descriptor.annotation
        if _bare(annotation) is bool:
            continue
        found: tuple[str, Constraint | None]
        if param.name in from_spec:
            found = ("spec", from_spec[param.name])
        elif param.name in RULES and fits(RULES[param.name], annotation):
            found = ("RULES", RULES[param.name])
        elif param.name == "fmt" or longs[0] == "--format":
            found = ("FORMATS", OneOf(FORMATS))
        else:
            found = ("type", type_rule(annotation))
        if found[1] is not None:
            out[longs[0]] = (param.name, found[0], found[1])
    return out


def _number(value: float, integer: bool) -> str:
    return str(int(value)) if integer else repr(float(value))


def invalid_texts(rule: Constraint) -> list[str]:
    """A few values ``rule`` refuses, as typed on a command line."""
    if isinstance(rule, OneOf):
        return [NOT_A_CHOICE]
    values = []
    if rule.low is not None:
        values.append(_number(rule.low if rule.low_open else rule.low - 1, rule.integer))
    if rule.high is not None:
        values.append(_number(rule.high if rule.high_open else rule.high + 1, rule.integer))
    values += ["1.5", "abc"] if rule.integer else ["nan", "inf", "abc"]
    return values


# --- the CLI cases -------------------------------------------------------------------------


def _with_value(args: tuple[str, ...], option: str, value: str) -> tuple[str, ...]:
    out = list(args)
    if option in out:
        out[out.index(option) + 1] = value
        return tuple(out)
    return (*out, option, value)


def cli_cases() -> list[Any]:
    cases = []
    for name, command in sorted(cli_commands().items()):
        base = BASES.get(name)
        if base is None:  # fails in the test body, not skipped
            cases.append(pytest.param(name, (), "", "", id=f"{name}:no-base"))
            continue
        cases.append(
            pytest.param(
                name, (*base, UNKNOWN_OPTION, "1"), UNKNOWN_OPTION, "", id=f"{name}:unknown"
            )
        )
        for option, (param, _, rule) in option_rules(command).items():
            for text in invalid_texts(rule):
                args = _with_value(base, option, text)
                cases.append(pytest.param(name, args, option, param, id=f"{name}:{option}={text}"))
    return cases


CLI_CASES = cli_cases()
XFAIL_CLI: dict[str, str] = {}  # case id -> reason naming the owner (none left)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return build_workspace(tmp_path_factory.mktemp("surface"))


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sds serve`` never binds here: a value let through reaches this stub and returns."""
    import granian

    class _NoServer:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def serve(self, *args: Any, **kwargs: Any) -> None:
            return None

    monkeypatch.setattr(granian, "Granian", _NoServer)


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def test_every_command_has_cases() -> None:
    commands = set(cli_commands())
    covered = {c.values[0] for c in CLI_CASES if not c.id.endswith(":no-base")}
    assert commands - covered == set(), "add these commands to tests/hostile/sweep_commands"
    ruled = {c.values[0] for c in CLI_CASES if c.values[2] not in ("", UNKNOWN_OPTION)}
    # the commands with options that take a value under a rule: most of them
    assert len(ruled) >= len(commands) - 3, sorted(commands - ruled)
    assert len(CLI_CASES) >= 300


def test_rules_come_from_every_source() -> None:
    """The generator reads spec fields, RULES, choices and number types (so a source that
    stops being read is noticed)."""
    sources = {
        source
        for command in cli_commands().values()
        for _, source, _ in option_rules(command).values()
    }
    assert {"RULES", "FORMATS", "type"} <= sources
    if any(spec_model(c) is not None for c in cli_commands().values()):
        assert "spec" in sources
    assert invalid_texts(RULES["alpha"]) == ["0.0", "1.0", "nan", "inf", "abc"]
    assert invalid_texts(Interval(2, 100, integer=True)) == ["1", "101", "1.5", "abc"]


@pytest.mark.parametrize(("command", "args", "option", "param"), CLI_CASES)
def test_cli_refuses_a_bad_value_naming_the_option(
    command: str,
    args: tuple[str, ...],
    option: str,
    param: str,
    workspace: Workspace,
    tmp_path: Path,
    no_server: None,
) -> None:
    assert args, f"{command!r} has no minimal invocation in tests/hostile/sweep_commands.py"
    values = {
        **workspace.paths,
        "out_dir": str(tmp_path / "out"),
        "out": str(tmp_path / "out" / "r.json"),
        "port": _free_port(),
    }
    result = invoke([a.format(**values) for a in args])
    text = result.stdout + result.stderr
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert result.exit_code == 2, text
    assert len(errors) == 1, text
    assert "Traceback" not in text
    assert option in errors[0], errors[0]
    typed = option.removeprefix("--")
    if param and param != typed:  # the Python name (srm_threshold, psi_warn) must not show
        assert re.search(rf"(?<![-\w]){re.escape(param)}(?![\w-])", errors[0]) is None, errors[0]


# --- the Python entry points ---------------------------------------------------------------

ENTRY_POINTS = (
    "design",
    "assign",
    "srm",
    "analyze",
    "stats",
    "causal",
    "features",
    "train",
    "evaluate",
    "monitor",
)
NAMESPACE_OWNER = (
    "the top-level entry points are added to sds/__init__.py by the 'results where "
    "notebooks live' engineer; not there yet"
)


def _entry(name: str) -> Any:
    """``sds.NAME``, or ``sds.NAME.run`` for a package (a module cannot be called)."""
    value = getattr(sds, name, None)
    if inspect.ismodule(value):
        value = getattr(value, "run", None)
    return value if callable(value) else None


def _evaluated(function: Any, annotation: Any) -> Any:
    """A postponed annotation (text) evaluated in the function's module; names imported only
    for type checking leave it unevaluated (and so without a rule from its type)."""
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, vars(inspect.getmodule(function)))
    except NameError:
        return annotation


def _spec_of(function: Any) -> type[StrictModel] | None:
    """The spec class among the annotations of ``function``'s parameters, if any."""
    for param in inspect.signature(function).parameters.values():
        annotation = _evaluated(function, param.annotation)
        for arg in (annotation, *get_args(annotation)):
            if isinstance(arg, type) and issubclass(arg, StrictModel):
                return arg
    return None


def python_rules(function: Any) -> dict[str, Constraint]:
    """Keyword -> constraint: RULES by name, else a Literal/Enum/number annotation."""
    out: dict[str, Constraint] = {}
    for name, param in inspect.signature(function).parameters.items():
        if param.kind == param.VAR_KEYWORD:  # options of a spec: the spec's field rules
            out.update(field_rules(_spec_of(function)) if _spec_of(function) else {})
        if param.kind not in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD):
            continue
        annotation = _evaluated(function, param.annotation)
        rule = RULES.get(name)
        rule = rule if rule is not None and fits(rule, annotation) else type_rule(annotation)
        if rule is not None:
            out[name] = rule
    return out


def invalid_values(rule: Constraint) -> list[Any]:
    """A few Python values ``rule`` refuses."""
    if isinstance(rule, OneOf):
        return [NOT_A_CHOICE]
    values: list[Any] = []
    if rule.low is not None:
        values.append(rule.low if rule.low_open else rule.low - 1)
    if rule.high is not None:
        values.append(rule.high if rule.high_open else rule.high + 1)
    values += [1.5, "abc"] if rule.integer else [math.nan, math.inf, "abc"]
    return values


def python_cases() -> list[Any]:
    cases = []
    for name in ENTRY_POINTS:
        function = _entry(name)
        if function is None:
            mark = pytest.mark.xfail(strict=True, reason=NAMESPACE_OWNER)
            cases.append(pytest.param(name, "", None, id=f"sds.{name}:missing", marks=mark))
            continue
        for keyword, rule in python_rules(function).items():
            for value in invalid_values(rule):
                cases.append(pytest.param(name, keyword, value, id=f"sds.{name}:{keyword}={value}"))
    return cases


VALID_ARGUMENTS = {("srm", "data"): [500, 500]}  # (entry point, argument) -> a valid value
VALID_OPTIONS = {"design": {"metric": "proportion", "baseline": 0.05, "mde": 0.1}}


def _valid(name: str, root: Path) -> dict[str, Any]:
    """Valid values of the required arguments of entry point ``name``."""
    common = _frames(root)
    return {**common, **{arg: v for (entry, arg), v in VALID_ARGUMENTS.items() if entry == name}}


def _frames(root: Path) -> dict[str, Any]:
    """Valid values of the usual required arguments of the entry points."""
    rng = np.random.default_rng(0)
    n = 200
    ab = pd.DataFrame(
        {
            "variant": np.where(np.arange(n) % 2 == 0, "control", "treatment"),
            "y": rng.normal(size=n),
            "t": np.arange(n) % 2,
            "x1": rng.normal(size=n),
        }
    )
    path = root / "ab.csv"
    ab.to_csv(path, index=False)
    return {
        "data": str(path),
        "reference": str(path),
        "value": "y",
        "group": "variant",
        "outcome": "y",
        "treatment": "t",
    }


@pytest.mark.parametrize(("name", "keyword", "value"), python_cases())
def test_python_refuses_a_bad_keyword_naming_it(
    name: str, keyword: str, value: Any, tmp_path: Path
) -> None:
    function = _entry(name)
    assert function is not None, f"sds.{name} is not a public function"
    valid = _valid(name, tmp_path)
    params = inspect.signature(function).parameters.values()
    required = [p for p in params if p.default is p.empty and p.name != keyword]
    required = [p for p in required if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    missing = [p.name for p in required if p.name not in valid]
    assert not missing, f"sds.{name} needs {missing}: add valid values to VALID_ARGUMENTS"
    positional = [valid[p.name] for p in required if p.kind == p.POSITIONAL_ONLY]
    keywords = {p.name: valid[p.name] for p in required if p.kind != p.POSITIONAL_ONLY}
    keywords.update({k: v for k, v in VALID_OPTIONS.get(name, {}).items() if k != keyword})
    with pytest.raises(sds.ParameterError) as caught:
        function(*positional, **keywords, **{keyword: value})
    assert caught.value.parameter == keyword, str(caught.value)
