"""The layers of docs/architecture.md, checked from the code's own imports (ast, no import).

A lower layer never imports a higher one, so a new resource (a folder beside ``meetings/``)
or a new auth flow does not reach into code that does not concern it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "airflow_provider_meetings"

# What each part of the package must never import (prefixes of module names).
AIRFLOW_FACE = (f"{PACKAGE}.hooks", f"{PACKAGE}.operators", f"{PACKAGE}.cli")
ABOVE_RESOURCES = (f"{PACKAGE}.diagnostics", *AIRFLOW_FACE, "airflow")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    f"{PACKAGE}.graph": (f"{PACKAGE}.meetings", f"{PACKAGE}.events", f"{PACKAGE}.artifacts", *ABOVE_RESOURCES),
    f"{PACKAGE}.auth": (
        f"{PACKAGE}.graph.client",
        f"{PACKAGE}.graph.batch_engine",
        f"{PACKAGE}.meetings",
        f"{PACKAGE}.events",
        f"{PACKAGE}.artifacts",
        *ABOVE_RESOURCES,
    ),
    # Resources stand side by side: neither imports the other (shared rules live in graph/),
    # except that artifacts/ finds the meeting of a calendar event through events/.
    f"{PACKAGE}.meetings": (f"{PACKAGE}.events", f"{PACKAGE}.artifacts", *ABOVE_RESOURCES),
    f"{PACKAGE}.events": (f"{PACKAGE}.meetings", f"{PACKAGE}.artifacts", *ABOVE_RESOURCES),
    f"{PACKAGE}.artifacts": (f"{PACKAGE}.meetings", *ABOVE_RESOURCES),
    f"{PACKAGE}.diagnostics": AIRFLOW_FACE,
    "meetings_emulator": (PACKAGE,),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, module: str) -> set[str]:
    """Every module a file imports, at any depth of the file (type-only imports included).

    :param path: the file
    :param module: its module name (relative imports are resolved against it)
    """
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.add(node.module)
    return names


def source_files() -> list[Path]:
    return sorted([*(ROOT / PACKAGE).rglob("*.py"), *(ROOT / "meetings_emulator").rglob("*.py")])


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    crossings = [
        f"{module_name(path)} imports {name}"
        for path in source_files()
        if module_name(path) == layer or module_name(path).startswith(f"{layer}.")
        for name in sorted(imported_modules(path, module_name(path)))
        if any(name == banned or name.startswith(f"{banned}.") for banned in FORBIDDEN[layer])
    ]
    assert not crossings, "\n".join(crossings)


def test_the_parser_sees_relative_and_type_only_imports(tmp_path: Path) -> None:
    """So that the test above can fail: every form of import is read."""
    sample = tmp_path / "client.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "import airflow.sdk\n"
        "from ..meetings import request\n"
        "def later():\n    from . import retry\n"
        "if TYPE_CHECKING:\n    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook\n",
        encoding="utf-8",
    )
    assert imported_modules(sample, f"{PACKAGE}.graph.client") == {
        "typing",
        "airflow.sdk",
        f"{PACKAGE}.meetings",
        f"{PACKAGE}.graph",
        f"{PACKAGE}.hooks.online_meetings",
    }
