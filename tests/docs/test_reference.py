"""The generated references are complete: every field of every spec model a user writes is
described and listed with its type, default and allowed values; every command and option
of ``sds`` is in the CLI reference; every public name has an API entry."""

from __future__ import annotations

import ast
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from sds.config import literal_choices

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs"))
import gen_api  # noqa: E402
import gen_cli  # noqa: E402
import gen_config  # noqa: E402

MODEL_BASES = {"BaseModel", "StrictModel", "EngineChoice"}


def models_in_src() -> list[type[BaseModel]]:
    """Every pydantic model class defined under src/sds (found with ``ast``, so a new spec
    anywhere is caught), imported; models without fields (bases, pass-through files) are
    left out: they have no key to describe."""
    found: list[type[BaseModel]] = []
    for path in sorted((ROOT / "src" / "sds").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        classes = [
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(getattr(b, "id", getattr(b, "attr", "")) in MODEL_BASES for b in node.bases)
        ]
        if not classes:
            continue
        parts = path.relative_to(ROOT / "src").with_suffix("").parts
        module = importlib.import_module(".".join(p for p in parts if p != "__init__"))
        found += [getattr(module, name) for name in classes]
    bases = {b for m in found for b in m.__mro__[1:]}  # EngineChoice: checked in its subclasses
    return [m for m in found if m.model_fields and m not in bases]


MODELS = models_in_src()


def test_the_scan_finds_the_specs() -> None:
    names = {m.__name__ for m in MODELS}
    assert {"AnalysisSpec", "DesignSpec", "FeatureSpec", "TrainConfig", "StatsSpec"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_is_described(model: type[BaseModel]) -> None:
    undescribed = [
        f"{model.__module__}.{model.__name__}.{name}"
        for name, field in model.model_fields.items()
        if len((field.description or "").strip()) < 8
    ]
    assert not undescribed, f"fields without a description: {', '.join(undescribed)}"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_is_in_the_config_reference(model: type[BaseModel]) -> None:
    assert model in gen_config.documented_models(), (
        f"{model.__name__} is not reachable from gen_config.DOCUMENTS: add the file it reads"
    )


def table_rows(page: str, model: type[BaseModel]) -> dict[str, list[str]]:
    """The rows of ``model``'s table in the page, by key, split into cells."""
    start = page.index(f"`{model.__name__}` {{ #")
    rows: dict[str, list[str]] = {}
    for line in page[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").replace("\\|", "\u2016").split(" | ")]
            rows[cells[0].strip("`")] = [c.replace("\u2016", "|") for c in cells]
    return rows


def expected_default(field: Any) -> str | None:
    """The default in YAML spelling, computed here from the field (None: not a scalar)."""
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory else field.default
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value) if isinstance(value, int | float) else None


PAGE = gen_config.config_reference()


@pytest.mark.parametrize("model", gen_config.documented_models(), ids=lambda m: m.__name__)
def test_config_reference_lists_every_field(model: type[BaseModel]) -> None:
    rows = table_rows(PAGE, model)
    assert list(rows) == list(model.model_fields), f"{model.__name__}: keys differ"
    for name, field in model.model_fields.items():
        _key, type_cell, default, allowed, description = rows[name]
        assert description == " ".join((field.description or "").split()), name
        assert type_cell, f"{model.__name__}.{name} has no type"
        wanted = expected_default(field)
        if wanted is not None:
            assert default.strip("`") == wanted, f"{model.__name__}.{name}: {default}"
        for choice in literal_choices(field.annotation):
            assert f"`{json.dumps(choice)}`" in allowed, f"{model.__name__}.{name}: {choice}"
        for bound in field.metadata:
            kind = type(bound).__name__.lower()
            if kind in {"ge", "gt", "le", "lt"}:
                assert str(getattr(bound, kind)) in allowed, f"{name}: {bound}"


def test_config_reference_shows_rules_and_nested_sections() -> None:
    analysis = table_rows(PAGE, gen_config.AnalysisSpec)
    assert analysis["alpha"][3] == "number in (0, 1)"
    assert "(#model-metricspec)" in analysis["metrics"][1]
    train = table_rows(PAGE, gen_config.TrainConfig)
    assert train["tuning"][2] == "`its section's defaults`"
    tuning = table_rows(PAGE, gen_config.TrainConfig.model_fields["tuning"].annotation)
    assert tuning["trials"][2:4] == ["`20`", ">= 1; <= 10000"]


CLI_PAGE = gen_cli.cli_reference()
LEAVES = gen_cli.leaf_commands()


@pytest.mark.parametrize("path", list(LEAVES))
def test_cli_reference_lists_every_command_and_option(path: str) -> None:
    command = LEAVES[path]
    heading = f"# `{path}`\n"
    assert heading in CLI_PAGE, f"{path} is missing from the CLI reference"
    section = CLI_PAGE.split(heading, 1)[1].split("\n#", 1)[0]
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        shown = param.metavar or param.name.upper() if not param.opts[0].startswith("-") else None
        for opt in [shown] if shown else param.opts:
            assert f"`{opt}`" in section, f"{path}: {opt} is missing"
        if param.help:
            assert " ".join(param.help.split())[:40].replace("|", "\\|") in section


def test_cli_reference_has_the_tree() -> None:
    wanted = {"sds analyze", "sds causal did", "sds features build", "sds design proportion"}
    assert wanted <= set(LEAVES)
    assert "`--engine`" in CLI_PAGE.split("## `sds profile`")[0]  # the global options


def test_api_reference_covers_every_public_name() -> None:
    page = gen_api.api_reference()
    for ns in gen_api.NAMESPACES:
        module = importlib.import_module(ns.module)
        for name in module.__all__:
            value = getattr(module, name)
            if hasattr(value, "__qualname__") and not isinstance(value, type(sys)):
                entry = f"::: {value.__module__}.{value.__qualname__}\n"
                assert entry in page, f"{ns.module}.{name} has no API entry"
                assert f'heading: "{ns.module}.{name}"' in page.split(entry, 1)[1][:200]
