"""The emulator's layout rules (issue 19): no imports of another module's private names, no
import cycle among its modules, no module over about 650 lines, and no import of the provider."""

from __future__ import annotations

import ast
from pathlib import Path

import meetings_emulator

PACKAGE = "meetings_emulator"
ROOT = Path(meetings_emulator.__file__).parent
MAX_LINES = 650


def _modules() -> dict[str, ast.Module]:
    return {f"{PACKAGE}.{p.stem}": ast.parse(p.read_text(), str(p)) for p in sorted(ROOT.glob("*.py"))}


def _imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every import statement, at any depth (lazy imports count too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names)
    return found


def _internal_edges(modules: dict[str, ast.Module]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, tree in modules.items():
        for module, names in _imports(tree):
            if module in modules:
                edges[name].add(module)
            elif module == PACKAGE:  # from meetings_emulator import control, entra
                edges[name].update(f"{PACKAGE}.{n}" for n in names if f"{PACKAGE}.{n}" in modules)
        edges[name].discard(name)
    return edges


def test_no_module_imports_a_private_name_of_another() -> None:
    offenders = [
        f"{name}: from {module} import {n}"
        for name, tree in _modules().items()
        for module, names in _imports(tree)
        if module.startswith(PACKAGE)
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert not offenders, offenders


def test_no_module_reaches_into_another_objects_private_members() -> None:
    """``service._persist()`` from another module is the same coupling as importing ``_persist``."""
    offenders = [
        f"{name}:{node.lineno}: {ast.unparse(node)}"
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]
    assert not offenders, offenders


def test_no_import_cycle() -> None:
    edges = _internal_edges(_modules())
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_no_module_is_over_the_size_limit() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in ROOT.glob("*.py")}
    assert not {n: s for n, s in sizes.items() if s > MAX_LINES}, sizes


def test_the_emulator_does_not_import_the_provider() -> None:
    offenders = [
        f"{name}: {module}"
        for name, tree in _modules().items()
        for module, _ in _imports(tree)
        if module.split(".")[0] == "airflow_provider_meetings"
    ]
    assert not offenders, offenders


def test_the_checks_see_the_package() -> None:
    """The rules above would pass vacuously on an empty graph: the route table's edges are there."""
    edges = _internal_edges(_modules())
    assert {f"{PACKAGE}.control", f"{PACKAGE}.graph_meetings"} <= edges[f"{PACKAGE}.routes"]
    assert f"{PACKAGE}.routes" in edges[f"{PACKAGE}.graph"]
