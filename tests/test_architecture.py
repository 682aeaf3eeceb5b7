"""The import graph of ``src/tracklearn``: no cycles, no upward imports.

The graph is read from the source with :mod:`ast` (nothing is imported):
module-level and function-level imports both count; imports under
``if TYPE_CHECKING:`` do not (they never run).  A *unit* is a subpackage
(``tracklearn.classical``) or a top-level module (``tracklearn.errors``).

:data:`LAYERS` lists the units bottom to top, in tiers.  A unit may import
units of lower tiers only: never a unit of a higher tier (upward) nor another
unit of its own tier (units side by side are independent).  A new unit must be
placed in a tier before it can be imported.  Violations not fixed yet are
listed, exactly, in :data:`KNOWN_UPWARD` and :data:`KNOWN_MODULE_CYCLES`: a
new one fails, and so does a listed one that is gone (delete it from the list).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tracklearn"

#: bottom → top; derived from ../shared/DESIGN.md ("arrows go down this table") and the code
LAYERS: tuple[tuple[str, ...], ...] = (
    # foundations: import nothing of ours (``__init__`` is ``tracklearn`` itself)
    ("__init__", "errors", "units", "typing"),
    ("config", "datapaths", "provenance", "registry"),
    # the event data model, then what reads it and the pure geometry
    ("edm",),
    ("geometry", "io", "methods"),
    ("metrics", "simulation"),
    ("plotting",),
    ("report",),
    # ``fullspectrum`` (seeding + following in numba, networks in numpy, registered
    # with ``tracklearn.methods.register_method``) imports nothing of the domain
    # packages; it sits one tier below them because ``models.candidate_mlp``, the
    # torch twin of its numpy MLP (training and ONNX export), converts to and from
    # ``fullspectrum.mlp.NumpyMLP``.
    ("fullspectrum",),
    # domain packages, side by side: methods and models that find tracks.  A new
    # method package that reuses ``classical`` goes one tier up, beside ``graph``.
    ("building", "classical", "models"),
    ("graph",),
    ("training",),
    ("export",),
    # composition: methods by name, then commands and the runners above them
    ("pipeline",),
    ("evaluation", "validate_simulation"),
    ("parallel",),
    ("bench",),
    ("cli",),
)

#: upward (or same-tier) imports not fixed yet, as (importing module, imported module)
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset()

#: import cycles between modules not fixed yet (each as the sorted tuple of its modules)
KNOWN_MODULE_CYCLES: frozenset[tuple[str, ...]] = frozenset()


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """Module → the ``tracklearn`` modules (or packages) it imports."""
    files = {_module_name(p, src): p for p in src.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
                continue
            if node.level:  # relative: from . import x / from ..a import b
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # from pkg import submodule → the submodule
                sub = f"{module}.{alias.name}"
                targets.add(sub if sub in files else module)
        graph[name] = {t for t in targets if t.split(".")[0] == "tracklearn" and t != name}
    return graph


def unit(module: str) -> str:
    """``tracklearn.a.b`` → ``a``; ``tracklearn`` → ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def tier(name: str) -> int:
    for k, units in enumerate(LAYERS):
        if name in units:
            return k
    raise KeyError(name)


def _cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[tuple[str, ...]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(tuple(sorted(comp)))
    return sorted(out)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_every_unit_has_a_tier(graph: dict[str, set[str]]) -> None:
    placed = {u for units in LAYERS for u in units}
    missing = sorted({unit(m) for m in graph} - placed)
    assert not missing, f"place these in LAYERS: {missing}"


def test_no_upward_imports(graph: dict[str, set[str]]) -> None:
    found = set()
    for module, targets in graph.items():
        for target in targets:
            a, b = unit(module), unit(target)
            if a != b and tier(b) >= tier(a):
                found.add((module, target))
    new = sorted(found - KNOWN_UPWARD)
    gone = sorted(KNOWN_UPWARD - found)
    assert not new, "upward or same-tier imports:\n" + "\n".join(f"{a} -> {b}" for a, b in new)
    assert not gone, f"fixed, delete from KNOWN_UPWARD: {gone}"


def test_no_cycles_between_units(graph: dict[str, set[str]]) -> None:
    units: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        units[unit(module)].update(unit(t) for t in targets if unit(t) != unit(module))
    known = {(unit(a), unit(b)) for a, b in KNOWN_UPWARD}
    cycles = _cycles({a: bs - {b for x, b in known if x == a} for a, bs in units.items()})
    assert cycles == [], f"cycles between subpackages: {cycles}"


def test_no_cycles_between_modules(graph: dict[str, set[str]]) -> None:
    cycles = set(_cycles(graph))
    assert not cycles - KNOWN_MODULE_CYCLES, (
        f"import cycles: {sorted(cycles - KNOWN_MODULE_CYCLES)}"
    )
    assert not KNOWN_MODULE_CYCLES - cycles, "fixed, delete from KNOWN_MODULE_CYCLES"


def test_graph_reader_on_a_tiny_package(tmp_path: Path) -> None:
    """The reader sees function-level and relative imports, skips TYPE_CHECKING."""
    pkg = tmp_path / "tracklearn"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("from . import x\n")
    (pkg / "a" / "x.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from tracklearn.cli import App\n"
        "def f():\n    from ..errors import E\n    import tracklearn.a\n"
    )
    (pkg / "cli.py").write_text("import tracklearn.a.x\n")
    g = import_graph(pkg)
    assert g == {
        "tracklearn": set(),
        "tracklearn.errors": set(),
        "tracklearn.a": {"tracklearn.a.x"},
        "tracklearn.a.x": {"tracklearn.errors", "tracklearn.a"},
        "tracklearn.cli": {"tracklearn.a.x"},
    }
    assert _cycles(g) == [("tracklearn.a", "tracklearn.a.x")]
