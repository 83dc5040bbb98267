"""The API reference page: one mkdocstrings directive per public name of each public
namespace, read from the namespaces' ``__all__`` (the lists ``tests/test_public_surface.py``
checks), so a new public name appears without editing the docs.

The names of ``sds`` and ``sds.stats`` are imported lazily, which a static reader cannot
follow, so each directive names the object where it is defined (``sds.data.io.open_table``)
under the heading of its public name (``sds.open_table``).
"""

from __future__ import annotations

import importlib
import types
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Namespace:
    """A public namespace and what it is for."""

    module: str
    about: str


NAMESPACES: tuple[Namespace, ...] = (
    Namespace("sds", "The entry points, one per job, the specs, results and errors."),
    Namespace("sds.stats", "Classic tests, regressions and effect sizes (`sds stats`)."),
    Namespace("sds.causal", "Causal effects without an experiment (`sds causal`)."),
    Namespace("sds.features", "Point-in-time feature tables (`sds features`)."),
    Namespace("sds.data.synth", "Seeded data generators with documented true parameters."),
)


def public_names(module: str) -> list[tuple[str, str]]:
    """``(public name, defining path)`` of every public object of ``module`` that is not a
    module or a constant."""
    namespace = importlib.import_module(module)
    out = []
    for name in namespace.__all__:
        value: Any = getattr(namespace, name)
        if isinstance(value, types.ModuleType) or not hasattr(value, "__qualname__"):
            continue
        out.append((f"{module}.{name}", f"{value.__module__}.{value.__qualname__}"))
    return out


def api_reference() -> str:
    """The whole page, Markdown with mkdocstrings directives."""
    parts = [
        "# API reference",
        "",
        "The public Python API, from the docstrings. `import sds` is cheap: names are",
        "imported on first use. Each entry is headed by its public name, with its signature.",
        "",
    ]
    for ns in NAMESPACES:
        parts += [f"## `{ns.module}`", "", ns.about, ""]
        for public, path in public_names(ns.module):
            parts += [
                f"::: {path}",
                "    options:",
                "      show_root_heading: true",
                f'      heading: "{public}"',
                f'      toc_label: "{public}"',
                "      heading_level: 3",
                "",
            ]
    return "\n".join(parts)
