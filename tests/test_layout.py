"""The package's shape: no module imports, even only for type checking, a module that
imports it back (import-linter's layers are checked in CI; a cycle inside one layer
would slip past them)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

SIM = Path(__file__).resolve().parent.parent / "sim"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    modules = {module_name(path): path for path in SIM.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            graph.add_edges_from(
                (name, target)
                for target in targets
                if target in modules and modules[target].name != "__init__.py"
            )
    return graph


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = import_graph()
    assert graph.number_of_edges() > 200  # the walk found the package's imports
    assert list(nx.simple_cycles(graph)) == []


def test_the_wheel_ships_every_package() -> None:
    """A package folder left out of pyproject's list works in an editable install and
    breaks every import of it in a real one (CI installs the wheel)."""
    import tomllib

    config = tomllib.loads((SIM.parent / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    plugins = SIM / "batch" / "plan" / "hydra_plugins"
    folders = {
        module_name(init) for init in SIM.rglob("__init__.py") if plugins not in init.parents
    }
    assert "sim.model.images.registries" in folders  # the walk found the subpackages
    assert folders - listed == set()
