"""The import graph of the package: no cycles, imports only go down the layers of DESIGN.md.

The graph is read from the source with ``ast`` (every ``import`` and ``from ... import``,
inside functions too, relative ones resolved), not by importing anything. Importing
``a.b.c`` first runs the packages ``a`` and ``a.b``: those count as imported too, except the
packages the importer itself lives in (a package importing its own submodules is fine).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import bayesmixture

PACKAGE = "bayesmixture"
ROOT = Path(bayesmixture.__file__).parent

# DESIGN.md's layers, top first: a module may import from its own layer or any layer below.
# A module is placed by the first part of its name below the package (``estimators._base``
# is in ``estimators``); the package itself (``bayesmixture/__init__.py``) is on top.
LAYERS = [
    {PACKAGE, "__main__", "cli", "report", "plots"},
    {"estimators"},
    {"selection", "diagnostics"},
    {"inference"},
    {"memberships", "_dask"},
    {"relabelling"},
    {"evaluation"},
    {"likelihood", "checks"},
    {"_spec", "_logp", "_rewrites", "_validation", "_cholesky", "exceptions"}
    | {"io", "datasets", "_atomic", "_registry", "_version"},
    # the compiled kernels depend on nothing else in the package (a second process compiles
    # them while a fit prepares: bayesmixture/_kernels/compiling.py)
    {"_kernels"},
]
# Private names that a module may import from another part of the package (none today).
PRIVATE_IMPORTS_TO_REMOVE: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` (a module of the package) at ``line``."""

    source: str
    target: str
    line: int
    names: tuple[str, ...] = ()  # the names taken by ``from target import ...``

    def __str__(self) -> str:
        return f"{self.source} (line {self.line}) -> {self.target}"


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name; a package is its ``__init__.py``."""
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _known(name: str) -> str:
    """The longest prefix of ``name`` that is a module (``a.b.f`` -> ``a.b`` if f is a name)."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _targets(source: str, node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, tuple]]:
    """(module of the package, names taken) for each module one import statement names."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == PACKAGE:
                yield _known(alias.name), ()
        return
    if node.level:  # relative: from the importer's package, one level up per extra dot
        package = source if _is_package(source) else source.rpartition(".")[0]
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    if module.split(".")[0] != PACKAGE:
        return
    names = []
    for alias in node.names:
        if f"{module}.{alias.name}" in MODULES:  # ``from package import submodule``
            yield f"{module}.{alias.name}", ()
        else:
            names.append(alias.name)
    if names:
        yield _known(module), tuple(names)


def _edges() -> list[Edge]:
    edges = []
    for source, path in MODULES.items():
        own = {*_ancestors(source), source}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target, names in _targets(source, node):
                # Importing a.b.c runs a and a.b first, unless the importer lives in them.
                for module in [*_ancestors(target), target]:
                    if module not in own:
                        edges.append(Edge(source, module, node.lineno, names * (module == target)))
    return edges


EDGES = _edges()


def _cycles(edges: list[Edge]) -> list[list[Edge]]:
    """One cycle through each strongly connected part of the graph that has one."""
    graph: dict[str, list[Edge]] = {name: [] for name in MODULES}
    for edge in edges:
        graph[edge.source].append(edge)
    found, done = [], set()
    for start in graph:
        if start in done:
            continue
        path = _path_back(graph, start)
        if path:
            found.append(path)
            done.update(edge.source for edge in path)
    return found


def _path_back(graph: dict[str, list[Edge]], start: str) -> list[Edge] | None:
    """A shortest path of imports from ``start`` back to ``start`` (breadth first), or None."""
    came_by: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for name in frontier:
            for edge in graph[name]:
                if edge.target == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, came_by[path[0].source])
                    return path
                if edge.target not in came_by:
                    came_by[edge.target] = edge
                    following.append(edge.target)
        frontier = following
    return None


def _part(name: str) -> str:
    """The part of the package a module belongs to: ``estimators`` for estimators._base."""
    return name.split(".")[1] if "." in name else name


def _layer(name: str) -> int:
    for rank, layer in enumerate(LAYERS):
        if _part(name) in layer:
            return rank
    raise KeyError(_part(name))


def test_the_graph_is_read():
    # a few imports known to exist, so that a broken reader cannot pass the tests below
    pairs = {(edge.source, edge.target) for edge in EDGES}
    assert ("bayesmixture.relabelling._ecr", "bayesmixture.relabelling._assign") in pairs
    assert ("bayesmixture.estimators._predicting", "bayesmixture._dask") in pairs  # inside a method
    assert ("bayesmixture.memberships", "bayesmixture.evaluation") in pairs
    assert ("bayesmixture.inference._advi", "bayesmixture.evaluation") in pairs


def test_no_module_reaches_itself_through_imports():
    cycles = _cycles(EDGES)
    shown = ["\n    ".join(map(str, cycle)) for cycle in cycles]
    assert not cycles, "import cycles (move the shared piece down):\n    " + "\n\n    ".join(shown)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_has_a_layer(name):
    try:
        _layer(name)
    except KeyError:
        pytest.fail(f"{name} is in no layer; add it to LAYERS here and to docs/architecture.md")


def test_imports_only_go_down():
    upward = [e for e in EDGES if _layer(e.target) < _layer(e.source)]
    assert not upward, "imports of a higher layer:\n    " + "\n    ".join(map(str, upward))


def test_no_module_takes_private_names_from_another_part_of_the_package():
    taken = [
        (edge, name)
        for edge in EDGES
        if _part(edge.source) != _part(edge.target)
        for name in edge.names
        if name.startswith("_") and not name.endswith("__")  # __version__ is public
        if (edge.source, name) not in PRIVATE_IMPORTS_TO_REMOVE
    ]
    assert not taken, "private names taken across the package:\n    " + "\n    ".join(
        f"{edge}: {name}" for edge, name in taken
    )
