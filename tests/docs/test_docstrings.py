"""Every public function, and every public method of every public class, in the API
reference has a Google-style docstring that mkdocstrings can render: each parameter is in
``Args:``, ``Args:`` names no parameter the signature lacks, a function that returns a value
has ``Returns:`` (a generator ``Yields:``), and griffe's Google parser raises no warning.

The objects are the ones the API page is generated from (``gen_api.public_names`` over
``gen_api.NAMESPACES``), read with griffe as mkdocstrings reads them. The checker is shown
failing on a bad docstring defined here, so a checker that passes everything is caught.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs"))
import gen_api  # noqa: E402

GENERATOR_RETURNS = ("Iterator", "Generator", "Iterable", "AsyncIterator", "AsyncGenerator")


@contextmanager
def griffe_warnings() -> Iterator[list[str]]:
    """Collect what griffe logs (docstring warnings) while the block runs."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("griffe")
    handler = Collect(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)


def docstring_problems(func: griffe.Function) -> list[str]:
    """What is wrong with ``func``'s docstring as a Google docstring, one line each."""
    if func.docstring is None or not func.docstring.value.strip():
        return ["no docstring"]
    with griffe_warnings() as warned:
        sections = griffe.Docstring(func.docstring.value, parent=func, parser="google").parse()
    problems = [f"griffe: {message}" for message in warned]
    problems += args_problems(func, sections)
    problems += [
        f"{section.kind.value}: has {len(section.value)} items: indent continuation lines"
        for section in sections
        if section.kind in (griffe.DocstringSectionKind.returns, griffe.DocstringSectionKind.yields)
        and len(section.value) > 1
        and not str(func.returns).startswith("tuple")
    ]
    kinds = {section.kind for section in sections}
    if func.returns is None:
        problems.append("no return annotation")
    elif str(func.returns) != "None":
        if str(func.returns).split("[")[0].rsplit(".")[-1] in GENERATOR_RETURNS:
            if griffe.DocstringSectionKind.yields not in kinds:
                problems.append("a generator without Yields:")
        elif griffe.DocstringSectionKind.returns not in kinds:
            problems.append(f"returns {func.returns} without Returns:")
    return problems


def args_problems(func: griffe.Function, sections: list[griffe.DocstringSection]) -> list[str]:
    """Parameters missing from ``Args:`` and ``Args:`` entries naming no parameter
    (``*args`` / ``**kwargs`` may be written with or without their stars)."""
    documented = [
        param.name.lstrip("*")
        for section in sections
        if section.kind is griffe.DocstringSectionKind.parameters
        for param in section.value
    ]
    signature = [p.name for p in func.parameters if p.name not in ("self", "cls")]
    missing = [
        f"parameter {name!r} is not in Args:" for name in signature if name not in documented
    ]
    unknown = [f"Args: names {n!r}, not a parameter" for n in documented if n not in signature]
    return missing + unknown


@cache
def package() -> griffe.Module:
    """The ``sds`` package as griffe reads it from the source (as mkdocstrings does)."""
    loaded = griffe.load("sds", search_paths=[str(ROOT / "src")], docstring_parser="google")
    assert isinstance(loaded, griffe.Module)
    return loaded


def runtime_object(path: str) -> Any:
    """The object at a dotted ``module.qualname`` path."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise LookupError(path)


def public_methods(cls: type) -> list[str]:
    """Defining paths of the public methods of ``cls`` written in sds's own code (inherited
    ones included, where they are defined); properties and attributes are left out."""
    paths = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next(k for k in cls.__mro__ if name in vars(k))
        value = vars(owner)[name]
        if isinstance(value, classmethod | staticmethod):
            value = value.__func__
        if owner.__module__.split(".")[0] == "sds" and inspect.isfunction(value):
            paths.append(f"{owner.__module__}.{owner.__qualname__}.{name}")
    return paths


@cache
def documented_paths() -> tuple[str, ...]:
    """Defining paths of every public function and public method reached from the API
    reference's namespaces, each once."""
    paths: dict[str, None] = {}
    for namespace in gen_api.NAMESPACES:
        for _public, path in gen_api.public_names(namespace.module):
            obj = runtime_object(path)
            for found in public_methods(obj) if inspect.isclass(obj) else [path]:
                paths[found] = None
    return tuple(paths)


def test_every_public_function_and_method_has_args_and_returns() -> None:
    paths = documented_paths()
    # 50 public functions in the namespaces; their classes add about 30 public methods.
    assert len(paths) >= 75, paths
    offenders = []
    for path in paths:
        func = package()[path.removeprefix("sds.")]
        assert isinstance(func, griffe.Function), path
        offenders += [f"{path}: {problem}" for problem in docstring_problems(func)]
    assert not offenders, "\n".join(offenders)


BAD = '''
from typing import Iterator

def bad(data: int, alpha: float = 0.05, **options: str) -> int:
    """Something.

    Args:
        data: The rows.
        beta: Not a parameter.
        oops
    """
    return data

def bad_generator(n: int) -> Iterator[int]:
    """Counts.

    Args:
        n: How many.

    Returns:
        The numbers.
    """
    yield from range(n)

def split_returns(n: int) -> int:
    """Counts.

    Args:
        n: How many.

    Returns:
        The count
        of things.
    """
    return n

def good(data: int, *args: int, **options: str) -> int:
    """Something.

    Args:
        data: The rows.
        *args: More rows.
        **options: Passed on.

    Returns:
        The number of rows.
    """
    return data

def untyped(n: int):
    """No annotation.

    Args:
        n: How many.
    """
    return n

class Thing:
    def method(self, n: int) -> None:
        """Does it.

        Args:
            n: How many times.
        """
'''


def test_checker_fails_on_a_bad_docstring() -> None:
    module = griffe.visit("fake", Path("fake.py"), BAD, docstring_parser="google")
    bad = docstring_problems(module["bad"])
    assert "parameter 'alpha' is not in Args:" in bad
    assert "parameter 'options' is not in Args:" in bad
    assert "Args: names 'beta', not a parameter" in bad
    assert "returns int without Returns:" in bad
    assert any(p.startswith("griffe: ") and "beta" in p for p in bad), bad
    assert any(p.startswith("griffe: ") and "oops" in p for p in bad), bad
    assert docstring_problems(module["bad_generator"]) == ["a generator without Yields:"]
    assert docstring_problems(module["untyped"]) == ["no return annotation"]
    assert docstring_problems(module["split_returns"]) == [
        "returns: has 2 items: indent continuation lines"
    ]
    assert docstring_problems(module["good"]) == []
    assert docstring_problems(module["Thing.method"]) == []


def test_reached_names_include_functions_and_inherited_methods() -> None:
    paths = documented_paths()
    assert "sds.experiments.api.analyze" in paths
    assert "sds.results.Result.to_json" in paths  # reached from sds.Profile and others
    assert "sds.data.engine.Engine.spark" in paths  # a classmethod
    assert "sds.errors.SdsError.to_dict" in paths
    assert not any(path.rsplit(".", 1)[1].startswith("_") for path in paths)
