"""The house in layers (ARCHITECTURE.md): what the import-linter contract does not see.

- no import circle between two modules of the package, counting imports inside functions
  (only imports under ``if TYPE_CHECKING:`` are left out: they never run);
- no module uses another module's private (``_name``) definition;
- no command function of the command line is longer than 60 lines;
- no tracked file holds a merge-conflict marker (one shipped in README.md and docs/ once).
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dosecalc"


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("dosecalc", exclude_type_checking_imports=True, cache_dir=None)


def test_no_module_imports_itself_back() -> None:
    """No circle of imports, through any number of modules (each found as a strongly
    connected group of the import graph; a package's ``__init__`` counts as a module)."""
    graph = _graph()
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(m: str) -> None:  # Tarjan's strongly connected components
        index[m] = low[m] = len(index)
        stack.append(m)
        for n in edges.get(m, ()):
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            group = []
            while True:
                n = stack.pop()
                group.append(n)
                if n == m:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for m in sorted(edges):
        if m not in index:
            visit(m)
    assert circles == []


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def test_no_module_uses_another_modules_private_names() -> None:
    """``from dosecalc.x import _y`` and ``x._y`` (x an imported dosecalc module) are refused:
    a name another module needs is made public or moved to where both can reach it."""
    modules = _modules()
    found = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}  # local name -> dosecalc module it stands for
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("dosecalc")
            ):
                for a in node.names:
                    target = f"{node.module}.{a.name}"
                    if target in modules:
                        aliases[a.asname or a.name] = target
                    elif a.name.startswith("_") and not a.name.startswith("__"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {target}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in modules and a.asname:
                        aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and aliases[node.value.id] != name
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.append(f"{where}: {aliases[node.value.id]}.{node.attr}")
    assert found == []


def test_command_functions_are_short() -> None:
    """A command parses its options and calls one workflow: no command function (one that
    typer registers) is over 60 lines, options included."""
    long = []
    for path in (PACKAGE / "cli").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "command"
                for d in node.decorator_list
            ):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > 60:
                    long.append(f"{path.name}:{node.name}: {lines} lines")
    assert long == []


def test_no_tracked_file_holds_a_merge_conflict_marker() -> None:
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.split(b"\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout (an unpacked sdist): the markers are checked in CI")
    marked = []
    for name in filter(None, tracked):
        path = ROOT / name.decode()
        if not path.is_file():
            continue
        for n, line in enumerate(path.read_bytes().splitlines(), 1):
            if line.startswith((b"<<<<<<< ", b">>>>>>> ")):
                marked.append(f"{name.decode()}:{n}")
    assert marked == []
