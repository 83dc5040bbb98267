"""The architecture, enforced: layers, no import cycles, no private imports, imports at top.

Every module under ``src/sds`` is parsed with ``ast`` (nothing is imported). Every ``sds``
import counts: at module top, inside functions, under ``if TYPE_CHECKING:``, and module
names given to ``importlib.import_module`` as string literals (or kept as strings in a
lazy-namespace table next to an ``import_module`` call). ``ARCHITECTURE.md`` explains the
same map in prose; the two must say the same thing.

The checker works on a mapping {module name: source}, so each rule is also shown failing
on a small synthetic code base.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# The layer map, top to bottom. A module may import from its own layer or any layer below,
# never from a layer above. "sds" is the package's own ``__init__`` (the lazy public
# namespace) only; every other entry covers a package or module and everything under it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry", ("sds", "sds.__main__", "sds.cli")),
    ("serving", ("sds.serving",)),
    ("models", ("sds.models",)),
    ("domain", ("sds.features", "sds.experiments", "sds.causal", "sds.monitoring")),
    ("stats", ("sds.stats",)),
    ("data", ("sds.data",)),
    ("infrastructure", ("sds.results", "sds.report", "sds.progress", "sds.interrupts")),
    ("foundation", ("sds.config", "sds.params", "sds.errors", "sds.urls", "sds.version")),
)

# Layers whose packages are independent of each other: a module in one of them may not
# import a sibling package of the same layer (features, experiments, causal and monitoring
# each stand on stats and data alone).
INDEPENDENT_SIBLINGS = frozenset({"domain"})

# Sibling imports allowed in an independent layer, (importer package, imported package),
# each with its reason. Empty: none is needed today.
ALLOWED_SIBLING_IMPORTS: frozenset[tuple[str, str]] = frozenset()

# Modules whose function-local ``sds`` imports are allowed, each with its reason. Everything
# else imports at module top.
LAZY_NAMESPACES: Mapping[str, str] = {
    "sds": "the public namespace resolves names on first use (PEP 562), so `import sds` is cheap",
    "sds.stats": "the statistics namespace resolves names on first use (PEP 562)",
    "sds.config": "the spec base (pydantic) is imported on first use (PEP 562): settings are not",
    "sds.cli.main": "each command's module is imported when the command runs (a lazy group)",
}

# The command line loads the library per command: a ``sds.cli`` module may import a module
# below the entry layer inside the command that uses it, so ``sds --help`` does not import
# pandas, scipy, scikit-learn and the rest (measured: all of them at the top would add
# 1.7 s to every ``sds --help``, 0.39 s today). Imports between CLI modules and of the
# foundation layer stay at the top.
LAZY_COMMAND_PACKAGE = "sds.cli"
EAGER_LAYERS = frozenset({"entry", "foundation"})


def local_allowed(imp: Import) -> bool:
    """Whether a function-local import is one of the two allowed kinds."""
    if imp.importer in LAZY_NAMESPACES:
        return True
    if imp.importer.startswith(LAZY_COMMAND_PACKAGE + "."):
        return layer_of(imp.target)[1] not in EAGER_LAYERS
    return False


@dataclass(frozen=True)
class Import:
    """One ``sds`` import: who imports what, where, and which names."""

    importer: str
    target: str
    line: int
    top: bool
    names: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- collecting


def modules_under(src: Path) -> dict[str, str]:
    """{module name: source} for every ``.py`` file of the ``sds`` package under ``src``."""
    found: dict[str, str] = {}
    for path in sorted((src / "sds").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path.read_text(encoding="utf-8")
    return found


def _packages(modules: Mapping[str, str]) -> set[str]:
    """Module names that are packages: those with another module under them."""
    return {name.rsplit(".", 1)[0] for name in modules if "." in name}


def _resolve(name: str, modules: Mapping[str, str]) -> str | None:
    """The longest prefix of a dotted name that is a known module."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _absolute(importer: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module name of a (possibly relative) ``from ... import``."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class _Collector(ast.NodeVisitor):
    def __init__(self, importer: str, modules: Mapping[str, str], is_package: bool) -> None:
        self.importer = importer
        self.modules = modules
        self.is_package = is_package
        self.depth = 0  # function/class nesting: 0 is module top
        self.found: list[Import] = []
        self.strings: list[tuple[str, int]] = []
        self.dynamic = False  # import_module called with something other than a literal

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, _SCOPES):  # a body that runs later: not module top
            self.depth += 1
            self.generic_visit(node)
            self.depth -= 1
        else:
            super().visit(node)

    def _add(self, target: str, line: int, names: tuple[str, ...] = (), top: bool = True) -> None:
        resolved = _resolve(target, self.modules)
        if resolved is not None:
            self.found.append(Import(self.importer, resolved, line, top, names))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "sds" or alias.name.startswith("sds."):
                self._add(alias.name, node.lineno, top=self.depth == 0)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = _absolute(self.importer, node, self.is_package)
        if module != "sds" and not module.startswith("sds."):
            return
        for alias in node.names:
            sub = f"{module}.{alias.name}"
            target = sub if sub in self.modules else module
            self._add(target, node.lineno, (alias.name,), top=self.depth == 0)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "import_module" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if first.value.startswith("sds"):
                    self._add(first.value, node.lineno, top=False)
            else:
                self.dynamic = True
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value.startswith("sds."):
            self.strings.append((node.value, node.lineno))


def collect(modules: Mapping[str, str]) -> list[Import]:
    """Every ``sds`` import of every module, parsed, not imported."""
    packages = _packages(modules)
    found: list[Import] = []
    for name, source in modules.items():
        collector = _Collector(name, modules, is_package=name in packages or name == "sds")
        collector.visit(ast.parse(source, filename=name))
        found.extend(collector.found)
        if collector.dynamic:  # a lazy table: its module-name strings are imports too
            for text, line in collector.strings:
                if text in modules:
                    found.append(Import(name, text, line, top=False))
    return [imp for imp in found if imp.target != imp.importer]


# ----------------------------------------------------------------------------- the rules


def layer_of(module: str) -> tuple[int, str, str]:
    """(layer index, layer name, package) of a module; index 0 is the top."""
    for index, (layer, packages) in enumerate(LAYERS):
        for package in packages:
            if module == package or (package != "sds" and module.startswith(package + ".")):
                return index, layer, package
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and ARCHITECTURE.md")


def upward_imports(imports: Iterable[Import]) -> list[str]:
    """Imports of a higher layer, or of an independent sibling package of the same layer."""
    problems = []
    for imp in imports:
        low, layer, package = layer_of(imp.importer)
        high, _, target_package = layer_of(imp.target)
        if high < low:
            problems.append(
                f"{imp.importer}:{imp.line} ({layer}) imports {imp.target} "
                f"({LAYERS[high][0]}, a higher layer)"
            )
        elif (
            high == low
            and layer in INDEPENDENT_SIBLINGS
            and package != target_package
            and (package, target_package) not in ALLOWED_SIBLING_IMPORTS
        ):
            problems.append(
                f"{imp.importer}:{imp.line} ({package}) imports its sibling {imp.target}"
            )
    return problems


def _same_package_private_module(imp: Import, name: str) -> bool:
    """``from sds.pkg import _mod`` inside ``sds.pkg``: a package-private module."""
    package = imp.importer.rsplit(".", 1)[0]
    return imp.target == f"{imp.target.rsplit('.', 1)[0]}.{name}" and imp.target.startswith(
        package + "."
    )


def private_imports(imports: Iterable[Import], modules: Mapping[str, str]) -> list[str]:
    """``from sds.x import _name`` (or ``x._name`` on an imported sds module) from elsewhere."""
    problems = []
    for imp in imports:
        for name in imp.names:
            private = name.startswith("_") and not name.startswith("__")
            if private and not _same_package_private_module(imp, name):
                problems.append(f"{imp.importer}:{imp.line} imports {imp.target}.{name}")
    problems.extend(_private_attributes(modules))
    return problems


def _module_aliases(tree: ast.Module, modules: Mapping[str, str], importer: str) -> dict[str, str]:
    """Local names bound to sds modules: ``from sds.x import y`` (a module), ``import ... as``."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sds"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules:
                    aliases[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in modules:
                    aliases[alias.asname] = alias.name
    return aliases


def _private_attributes(modules: Mapping[str, str]) -> Iterator[str]:
    for importer, source in modules.items():
        tree = ast.parse(source)
        aliases = _module_aliases(tree, modules, importer)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                yield f"{importer}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}"


def local_imports(imports: Iterable[Import]) -> list[str]:
    """``sds`` imports that are not at module top, outside the allowlist."""
    return [
        f"{imp.importer}:{imp.line} imports {imp.target} inside a function"
        for imp in imports
        if not imp.top and not local_allowed(imp)
    ]


def cycles(imports: Iterable[Import]) -> list[list[str]]:
    """One cycle path (first module repeated at the end) per strongly connected component."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.importer, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    found = []
    for component in _components(graph):
        if len(component) > 1:
            found.append(_cycle_path(graph, component))
    return sorted(found)


def _components(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    result.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return result


def _cycle_path(graph: Mapping[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start = min(component)
    parents: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & component):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return [*reversed(path), start]
            if child not in parents:
                parents[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def violations(modules: Mapping[str, str]) -> dict[str, list[str]]:
    """Every rule's findings on a code base; all lists empty when it is clean."""
    imports = collect(modules)
    return {
        "cycles": [" -> ".join(path) for path in cycles(imports)],
        "upward": upward_imports(imports),
        "private": private_imports(imports, modules),
        "local": local_imports(imports),
    }


# ------------------------------------------------------------------- the real code base


@pytest.fixture(scope="module")
def real() -> dict[str, list[str]]:
    return violations(modules_under(SRC))


@pytest.mark.parametrize("rule", ["cycles", "upward", "private", "local"])
def test_sds_follows_the_rule(real: dict[str, list[str]], rule: str) -> None:
    assert real[rule] == [], "\n".join(real[rule])


def test_the_checker_sees_the_whole_package() -> None:
    modules = modules_under(SRC)
    imports = collect(modules)
    assert len(modules) > 150
    assert len(imports) > 500  # every module imports something from sds
    for module in modules:  # every module sits in exactly one layer
        layer_of(module)
    importers = {imp.importer for imp in imports}
    assert {"sds", "sds.cli.main", "sds.stats"} <= importers


def test_allowlists_name_real_modules() -> None:
    modules = modules_under(SRC)
    assert set(LAZY_NAMESPACES) <= set(modules)
    packages = {package for _, layer in LAYERS for package in layer}
    assert {p for pair in ALLOWED_SIBLING_IMPORTS for p in pair} <= packages


def test_architecture_md_states_the_same_layers() -> None:
    text = (SRC.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for layer, packages in LAYERS:
        assert f"`{layer}`" in text
        for package in packages:
            assert f"`{package}`" in text, package


# ------------------------------------------------- each rule fails on a synthetic package


def _synthetic(**sources: str) -> dict[str, str]:
    """{module: source} from keyword arguments whose names use '__' for dots."""
    return {name.replace("__", "."): text for name, text in sources.items()}


def test_a_cycle_is_found_with_its_path_even_inside_functions() -> None:
    modules = _synthetic(
        sds="",
        sds__data="",
        sds__data__engine="from sds.data import spark\n",
        sds__data__spark="def f():\n    from sds.data.io import open_table\n",
        sds__data__io="import sds.data.engine\n",
    )
    found = violations(modules)
    assert found["cycles"] == [
        "sds.data.engine -> sds.data.spark -> sds.data.io -> sds.data.engine"
    ]
    assert found["local"] == ["sds.data.spark:2 imports sds.data.io inside a function"]


def test_a_cycle_through_import_module_literal_is_found() -> None:
    modules = _synthetic(
        sds="",
        sds__results="import importlib\nM = importlib.import_module('sds.report.render')\n",
        sds__report="",
        sds__report__render="from sds.results import Result\n",
    )
    assert violations(modules)["cycles"] == [
        "sds.report.render -> sds.results -> sds.report.render"
    ]


def test_an_upward_import_is_found() -> None:
    modules = _synthetic(
        sds="",
        sds__stats="",
        sds__stats__ttest="from sds.experiments.srm import srm\n",
        sds__experiments="",
        sds__experiments__srm="from sds.stats.ttest import ttest\n",
    )
    found = violations(modules)
    assert found["upward"] == [
        "sds.stats.ttest:1 (stats) imports sds.experiments.srm (domain, a higher layer)"
    ]
    assert found["cycles"] == ["sds.experiments.srm -> sds.stats.ttest -> sds.experiments.srm"]


def test_a_sibling_import_in_an_independent_layer_is_found() -> None:
    modules = _synthetic(
        sds="",
        sds__monitoring="",
        sds__monitoring__drift="from sds.features.check import psi\n",
        sds__features="",
        sds__features__check="from sds.stats.psi import psi\n",
        sds__stats="",
        sds__stats__psi="",
    )
    assert violations(modules)["upward"] == [
        "sds.monitoring.drift:1 (sds.monitoring) imports its sibling sds.features.check"
    ]


def test_a_private_import_is_found() -> None:
    modules = _synthetic(
        sds="",
        sds__stats="",
        sds__stats__ttest="def _welch():\n    pass\n",
        sds__stats__runner="from sds.stats.ttest import _welch, __doc__\n",
        sds__stats__auto="from sds.stats import ttest\nx = ttest._welch\n",
        sds__stats___helpers="",
        sds__stats__by="from sds.stats import _helpers\n",
    )
    assert violations(modules)["private"] == [
        "sds.stats.runner:1 imports sds.stats.ttest._welch",
        "sds.stats.auto:2 uses sds.stats.ttest._welch",
    ]


def test_a_local_import_outside_the_allowlist_is_found() -> None:
    modules = _synthetic(
        sds="import importlib\n_LAZY = {'x': 'sds.errors'}\n"
        "def __getattr__(n):\n    return importlib.import_module(_LAZY[n])\n",
        sds__errors="",
        sds__params="class P:\n    def f(self):\n        import sds.errors\n",
    )
    found = violations(modules)
    assert found["local"] == ["sds.params:3 imports sds.errors inside a function"]
    assert collect(modules)[0] == Import("sds", "sds.errors", 2, top=False)


def test_a_clean_synthetic_package_passes() -> None:
    modules = _synthetic(
        sds="",
        sds__errors="",
        sds__stats="",
        sds__stats__ttest="from sds.errors import ParameterError\n",
        sds__cli="",
        sds__cli__stats="from typing import TYPE_CHECKING\nfrom sds.stats import ttest\n"
        "if TYPE_CHECKING:\n    from sds.errors import SdsError\n",
    )
    assert violations(modules) == {"cycles": [], "upward": [], "private": [], "local": []}
