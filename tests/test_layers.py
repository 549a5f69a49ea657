"""The layers of docs/ARCHITECTURE.md: a module imports only its own layer and those below it,
and no modules import each other in a circle. Imports inside functions count too: a lazy import
that dodges a cycle at start-up is still the same dependency."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module belongs to the longest prefix that matches its dotted name.
LAYERS = [
    "domain",
    "config",
    "storage",
    "collectors",
    "alerts.detect",
    "alerts.state",
    "alerts.notify",
    "alerts.backtest",
    "dashboard",
    "worker",
    "manage",
    "streamlit_app",
]
PACKAGES = ("domain", "config", "storage", "collectors", "alerts", "dashboard", "worker")


def project_modules() -> dict[str, Path]:
    modules = {"manage": ROOT / "manage.py", "streamlit_app": ROOT / "streamlit_app.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Project modules that ``name`` imports, at module level or inside functions."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in known)
    found.discard(name)
    return found


def layer_of(name: str) -> int:
    matches = [i for i, layer in enumerate(LAYERS) if name == layer or name.startswith(layer + ".")]
    if not matches:  # e.g. the ``alerts`` package itself: counts as its lowest part
        return min(i for i, layer in enumerate(LAYERS) if layer.startswith(name + "."))
    return max(matches, key=lambda i: len(LAYERS[i]))


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{name} ({LAYERS[layer_of(name)]}) imports {target} ({LAYERS[layer_of(target)]})"
        for name, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(name)
    )


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_every_module_belongs_to_a_layer() -> None:
    for name in project_modules():
        assert 0 <= layer_of(name) < len(LAYERS), name


def test_no_module_imports_a_higher_layer() -> None:
    assert upward_imports(import_graph()) == []


def test_no_import_cycles() -> None:
    assert import_cycles(import_graph()) == []


def test_the_checks_catch_what_they_look_for() -> None:
    """The checks themselves, on a made-up graph: an upward import and a cycle are reported."""
    graph = {
        "domain.records": {"storage.models"},
        "storage.models": {"domain.records"},
        "alerts.detect.rules": set(),
    }
    assert upward_imports(graph) == ["domain.records (domain) imports storage.models (storage)"]
    assert import_cycles(graph) == [["domain.records", "storage.models"]]


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_each_package_imports_on_its_own(package: str) -> None:
    """Every module of a package imports in a fresh interpreter, without the app's import order."""
    names = sorted(name for name in project_modules() if name.split(".")[0] == package)
    script = "\n".join(f"import {name}" for name in names if ".migrations." not in name)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
