"""The package's import graph has no cycles, function-level imports included.

The graph is read from the source with ``ast`` (nothing is imported): an edge A -> B for every
``import`` or ``from ... import`` of B anywhere in A, at module level or inside a function.
Imports under ``if TYPE_CHECKING:`` never run and are left out (annotations only).
"""

from __future__ import annotations

import ast
from pathlib import Path

import robot_twitch

PACKAGE_DIR = Path(robot_twitch.__file__).parent


def _modules(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under package_dir (a package is its __init__)."""
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(id(n) for n in ast.walk(child))
    return skip


def import_graph(package_dir: Path, type_checking: bool = False) -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its source (function bodies too).

    ``from P import name`` counts as an import of module P.name when that is a module, else of P.
    ``type_checking``: include the imports under ``if TYPE_CHECKING:``.
    """
    modules = _modules(package_dir)
    root = package_dir.name

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        skip = set() if type_checking else _type_checking_nodes(tree)
        deps: set[str | None] = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                deps.update(owner(a.name) for a in node.names if a.name.split(".")[0] == root)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolved against the importing module's package
                    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                if base.split(".")[0] == root:
                    deps.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else owner(base)
                                for a in node.names)
        graph[module] = {d for d in deps if d is not None and d != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_robot_twitch_has_no_import_cycle():
    graph = import_graph(PACKAGE_DIR)
    assert len(graph) > 50 and "robot_twitch.experiment" in graph["robot_twitch.cli"]  # the walk sees the package
    found = cycles(graph)
    assert not found, "import cycles (module-level and function-level imports): " + "; ".join(
        " <-> ".join(c) for c in found)


def test_outputs_and_checkpoint_do_not_import_the_experiment():
    """They take plain data (a RunRecord, a Checkpointed run), not the experiment runner."""
    graph = import_graph(PACKAGE_DIR, type_checking=True)
    for module in ("robot_twitch.outputs", "robot_twitch.checkpoint", "robot_twitch.run_record"):
        assert "robot_twitch.experiment" not in graph[module], module


def test_the_walk_finds_a_function_level_cycle_and_skips_type_checking(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "a.py").write_text("import pkg.sub.b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg.c import g\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
                              "def g():\n    from .sub import b\n")
    graph = import_graph(pkg)
    assert graph["pkg.sub"] == {"pkg.sub.b"} and graph["pkg.a"] == {"pkg.sub.b"}
    assert cycles(graph) == [["pkg.c", "pkg.sub.b"]]  # b -> c only inside a function
    assert cycles(import_graph(pkg, type_checking=True)) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
