"""The package's imports run one way: no module imports a higher layer, and no modules import
each other in a circle.

Layers, lowest first (a module may import its own layer and those below it):

    fund (the package's __init__: imports nothing of its own)
    schemas < settings < tasks < runtime, data < flows < cli < __main__

`fund.data` (the demo cycle and the generator of bigger ones) builds on the tasks like the
runtime does, and neither needs the other's layer to be below it. An upward import is an
error wherever it is written, inside a function too (a late import only hides the
dependency); a cycle counts module-level imports (those that run when a module is
imported), outside `if TYPE_CHECKING:` blocks. The imports are read from the source (AST),
so nothing is imported to check them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fund"
LAYERS = {
    "fund": 0,
    "fund.schemas": 1,
    "fund.settings": 2,
    "fund.tasks": 3,
    "fund.runtime": 4,
    "fund.data": 4,
    "fund.flows": 5,
    "fund.cli": 6,
    "fund.__main__": 7,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> tuple[str, int]:
    """The layer a module of the package belongs to: its longest prefix in LAYERS."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYERS:
            return prefix, LAYERS[prefix]
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS in {Path(__file__).name}")


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package(module) else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported module of the package, line, runs at import time) for each import in `module`."""
    found: list[tuple[str, int, bool]] = []

    def target(name: str) -> str | None:  # the package's module an import loads (its longest known prefix)
        parts = name.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in MODULES:
                return ".".join(parts[:n])
        return None

    def visit(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (hit := target(alias.name)) is not None:
                    found.append((hit, node.lineno, top))
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, node)
            for alias in node.names:
                # `from fund.tasks import reading` loads the submodule; `from fund.tasks.reading import read_csv` the module
                hit = target(f"{base}.{alias.name}") if f"{base}.{alias.name}" in MODULES else target(base)
                if hit is not None:
                    found.append((hit, node.lineno, top))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for child in ast.iter_child_nodes(node):
                visit(child, False)
        elif isinstance(node, ast.If) and type_checking(node):
            for child in node.body:
                visit(child, False)
            for child in node.orelse:
                visit(child, top)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, top)

    visit(ast.parse(MODULES[module].read_text(encoding="utf-8"), filename=str(MODULES[module])), True)
    return found


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_of_the_package_has_a_layer():
    assert len(MODULES) > 50
    for module in MODULES:
        layer(module)


def test_no_module_imports_a_higher_layer():
    upward = []
    for module, found in GRAPH.items():
        own, rank = layer(module)
        for imported, line, _ in found:
            other, other_rank = layer(imported)
            if other_rank > rank:
                upward.append(f"{MODULES[module].relative_to(ROOT)}:{line} ({own}) imports {imported} ({other})")
    assert not upward, "upward imports:\n" + "\n".join(sorted(set(upward)))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing
    itself (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def test_cycles_finds_a_circle_and_only_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"c"}}) == [["c"]]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from fund.tasks.reading import read_csv", [("fund.tasks.reading", 1, True)]),
        ("from fund.tasks import reading", [("fund.tasks.reading", 1, True)]),
        ("import fund.flows.stage", [("fund.flows.stage", 1, True)]),
        ("def f():\n    from fund.cli import app", [("fund.cli", 2, False)]),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from fund.flows import stage",
            [("fund.flows.stage", 3, False)],
        ),
        ("from .cells import fold", [("fund.schemas.cells", 1, True)]),
        ("import pandas", []),
    ],
)
def test_imports_are_read_as_python_runs_them(tmp_path, monkeypatch, source, expected):
    monkeypatch.setitem(MODULES, "fund.schemas.tables", tmp_path / "tables.py")  # as if it were fund/schemas/tables.py
    (tmp_path / "tables.py").write_text(source, encoding="utf-8")
    assert imports("fund.schemas.tables") == expected


def test_no_modules_import_each_other_in_a_circle():
    graph = {module: {imported for imported, _, top in found if top and imported != module} for module, found in GRAPH.items()}
    circles = cycles(graph)
    assert not circles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in circles)


def test_every_sentence_the_code_names_is_in_the_catalogue_and_every_entry_is_used():
    """`sentence(key, …)` fails at run time on a key the catalogue does not have: find those now,
    and the catalogue entries nothing says any more."""
    from fund.tasks.run_messages import MESSAGES

    named = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "sentence":
                key = node.args[0]
                assert isinstance(key, ast.Constant), f"{path}:{node.lineno}: sentence() with a computed key"
                named.add(key.value)
    assert sorted(named - set(MESSAGES)) == []
    assert sorted(set(MESSAGES) - named) == []
