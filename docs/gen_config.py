"""The config reference, generated from the spec models: every key of every spec file with
its type, default, allowed values, constraints and description.

Used by ``docs/hooks.py`` (the page ``reference/config.md`` of the site) and by
``tests/docs/test_reference.py``. Nothing here is written by hand but the list of files a
user writes (:data:`DOCUMENTS`); nested sections are found from the annotations.
"""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sds.cli.seed_design import DesignerConfig
from sds.cli.seed_models import SuiteConfig
from sds.config import literal_choices
from sds.experiments.analysis.spec import AnalysisSpec
from sds.experiments.design_spec import DesignSpec
from sds.features.spec import FeatureSpec
from sds.models.config import TrainConfig
from sds.params import Rule
from sds.stats.spec import StatsSpec


@dataclass(frozen=True)
class Document:
    """One kind of file a user writes: its title, the model of its top level, and where it
    is used."""

    title: str
    model: type[BaseModel]
    used_by: str


DOCUMENTS: tuple[Document, ...] = (
    Document(
        "Analysis spec",
        AnalysisSpec,
        "`sds analyze SPEC.yaml`, `sds.analyze(data, spec)`, and `kind: analysis` files "
        "read by `scripts/experiment_designer.py`.",
    ),
    Document(
        "Design spec",
        DesignSpec,
        "`sds design spec SPEC.yaml`, `sds design proportion|mean|ratio` (as `--kebab-case` "
        "options), `sds.design(spec)` and the files `scripts/experiment_designer.py -i` reads.",
    ),
    Document(
        "Experiment designer config",
        DesignerConfig,
        "`python scripts/experiment_designer.py -i SPECS/ -o OUT/ -c config.yaml`.",
    ),
    Document(
        "Feature spec",
        FeatureSpec,
        "`sds features build|register SPEC.yaml`, `sds.features.run(data, spec)` and "
        "`python scripts/feature_engineering_pipeline.py -c SPEC.yaml`.",
    ),
    Document(
        "Training config",
        TrainConfig,
        "`sds train CONFIG.yaml`, `sds.train(data, config)` and "
        "`python scripts/train.py --config prod.yaml`; its `scorecard` section is also the "
        "config of `scripts/evaluate.py` and `scripts/model_evaluation_suite.py`.",
    ),
    Document(
        "Evaluation suite config",
        SuiteConfig,
        "`python scripts/model_evaluation_suite.py -c config.yaml [--deploy]`; a training "
        "config or a bare `scorecard` section is accepted there too.",
    ),
    Document(
        "Stats spec",
        StatsSpec,
        "`sds stats TEST` (as `--kebab-case` options), `sds.stats.run(data, spec)` and "
        "`python scripts/statistical_analyzer.py -c config.yaml`.",
    ),
)


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation (``Model``, ``list[Model]``, ``Model | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in nested_models(arg)]


def models_of(top: type[BaseModel]) -> list[type[BaseModel]]:
    """``top`` and every model reachable from its fields, depth first, each once."""
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for inner in nested_models(field.annotation):
                visit(inner)

    visit(top)
    return seen


def documented_models() -> list[type[BaseModel]]:
    """Every model the reference documents, each once."""
    out: list[type[BaseModel]] = []
    for doc in DOCUMENTS:
        out += [m for m in models_of(doc.model) if m not in out]
    return out


def anchor(model: type[BaseModel]) -> str:
    """The anchor of a model's section."""
    return "model-" + model.__name__.lower()


def type_text(annotation: Any) -> str:
    """A reader's name for a type: ``str``, ``list[str]``, ``float | None``, a section link."""
    origin = get_origin(annotation)
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{anchor(annotation)})"
    if origin is Literal:
        kinds = sorted({type(v).__name__ for v in get_args(annotation)})
        return " | ".join(kinds)
    if origin in (Union, types.UnionType):
        return " | ".join(type_text(a) for a in get_args(annotation))
    if origin in (list, tuple, dict):
        args = [type_text(a) for a in get_args(annotation) if a is not Ellipsis]
        return f"{origin.__name__}[{', '.join(args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def default_text(field: FieldInfo) -> str:
    """The default as YAML would spell it, ``required``, or the nested section's defaults."""
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, BaseModel):
        return "its section's defaults"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return json.dumps([v.model_dump(exclude_defaults=True) for v in value])
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value)


_BOUNDS = {
    annotated_types.Ge: (">=", "ge"),
    annotated_types.Gt: (">", "gt"),
    annotated_types.Le: ("<=", "le"),
    annotated_types.Lt: ("<", "lt"),
    annotated_types.MinLen: ("at least", "min_length"),
    annotated_types.MaxLen: ("at most", "max_length"),
}


def allowed_text(field: FieldInfo) -> str:
    """Choices (``Literal`` values), the rule of ``sds.params`` and pydantic bounds."""
    parts: list[str] = []
    choices = literal_choices(field.annotation)
    if not choices:  # list[Literal[...]]: each item is one of them
        choices = next((c for a in get_args(field.annotation) if (c := literal_choices(a))), ())
    if choices:
        parts.append("one of " + ", ".join(f"`{json.dumps(c)}`" for c in choices))
    for meta in field.metadata:
        if isinstance(meta, Rule):
            parts.append(meta.constraint.describe())
        for kind, (word, attr) in _BOUNDS.items():
            if isinstance(meta, kind):
                bound = getattr(meta, attr)
                parts.append(f"{word} {bound} items" if "len" in attr else f"{word} {bound}")
    return "; ".join(parts)


def plain(text: str) -> str:
    """A docstring's reStructuredText roles and literals as Markdown code."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def model_section(model: type[BaseModel], level: int) -> str:
    """One model's table: key, type, default, allowed values, description."""
    doc = plain(" ".join((typing.cast(str, model.__doc__) or "").split()))
    lines = [
        f"{'#' * level} `{model.__name__}` {{ #{anchor(model)} }}",
        "",
        *([doc, ""] if doc and model.__doc__ is not BaseModel.__doc__ else []),
        "| key | type | default | allowed | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, field in model.model_fields.items():
        row = [
            f"`{name}`",
            cell(type_text(field.annotation)),
            cell(f"`{default_text(field)}`" if not field.is_required() else "required"),
            cell(allowed_text(field)),
            cell(field.description or ""),
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


INTRO = """# Config reference

Every key of every file a user writes, generated from the spec models in `src/sds` when the
site is built (so it cannot drift from the code). Keys are YAML or JSON; an unknown or
misspelled key is an error that names the key meant. Where a spec also drives a command,
its keys are the command's options in `--kebab-case` (`n_per_variant` is
`--n-per-variant`). *allowed* lists the choices of a key and the interval its value must be
in; a nested section (a link in *type*) is a mapping with the keys of its own table.
"""


def config_reference() -> str:
    """The whole page, Markdown."""
    parts = [INTRO]
    shown: list[type[BaseModel]] = []
    for doc in DOCUMENTS:
        parts.append(f"## {doc.title}\n\nUsed by {doc.used_by}\n")
        for i, model in enumerate(models_of(doc.model)):
            if model in shown:
                parts.append(f"`{model.__name__}`: see [above](#{anchor(model)}).\n")
                continue
            shown.append(model)
            parts.append(model_section(model, 3 if i == 0 else 4))
    return "\n".join(parts)
