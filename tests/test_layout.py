"""The code's layout: no import cycle, imports at the top, small folders.

Read from the source with ``ast``, nothing is imported:

* the import graph of every module of ``bundler`` and ``solvers`` (every ``import`` and
  ``from ... import`` anywhere in a module: at the top, under ``if TYPE_CHECKING:``, inside
  functions) has no cycle. ``from pkg import name`` points at the module ``pkg.name`` when
  there is one, else at ``pkg`` (its ``__init__``, a node like any module);
* outside ``bundler/cli`` (where lazy imports keep the command line quick to start), no
  function imports a first-party module unless a ``#`` comment on that line or the line
  before says why;
* no folder holds more than eight modules (``__init__`` and ``__main__`` not counted).
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bundler", "solvers")
LAZY_IMPORTS_ALLOWED = ("bundler", "cli")
MAX_MODULES_PER_FOLDER = 8
NOT_COUNTED = ("__init__.py", "__main__.py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    """Module name -> file, for every module of the first-party packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _sources()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _known(name: str) -> str | None:
    """The longest prefix of the dotted ``name`` that is a first-party module, if any."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The first-party modules one import statement of ``module`` points at."""
    if isinstance(node, ast.Import):
        return [t for t in (_known(a.name) for a in node.names) if t]
    if node.level:
        package = module if _is_package(module) else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = ".".join(p for p in (package, node.module) if p)
    else:
        base = node.module or ""
    if _known(base) is None:
        return []
    out = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        out.append(sub if sub in MODULES else _known(base))
    return out


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module):
    """``(import node, inside a function)`` for every import statement of a module."""

    def walk(node: ast.AST, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from walk(child, inner)

    yield from walk(tree, False)


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    for module, path in MODULES.items():
        for node, _ in _imports(_tree(path)):
            for target in _targets(module, node):
                if target != module:
                    graph.add_edge(module, target, line=node.lineno)
    return graph


def _comment_lines(path: Path) -> set[int]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return {t.start[0] for t in tokens if t.type == tokenize.COMMENT}


def test_the_import_graph_is_read():
    graph = import_graph()
    # a few edges every layout has: the graph reader must see them
    assert graph.has_edge("bundler.planning.planner", "solvers.base")
    assert graph.has_edge("bundler.pipeline", "bundler.config.scenario")
    assert graph.number_of_edges() > len(MODULES)


def test_no_import_cycle():
    graph = import_graph()
    cycles = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            cycle = nx.find_cycle(graph.subgraph(component))
            cycles.append(
                " -> ".join(f"{a} (line {graph.edges[a, b]['line']})" for a, b in cycle)
                + f" -> {cycle[0][0]}"
            )
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def test_no_unexplained_import_inside_a_function():
    found = []
    for module, path in MODULES.items():
        if path.relative_to(ROOT).parts[: len(LAZY_IMPORTS_ALLOWED)] == LAZY_IMPORTS_ALLOWED:
            continue
        comments = None
        for node, in_function in _imports(_tree(path)):
            if not in_function or not _targets(module, node):
                continue
            comments = _comment_lines(path) if comments is None else comments
            if node.lineno in comments or node.lineno - 1 in comments:
                continue
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, (
        "first-party imports inside functions (move them to the top of the module, or say "
        "why not in a comment):\n" + "\n".join(found)
    )


def test_no_folder_holds_more_than_eight_modules():
    crowded = []
    for package in PACKAGES:
        for folder in sorted({p.parent for p in (ROOT / package).rglob("*.py")}):
            if "__pycache__" in folder.parts:
                continue
            modules = sorted(p.name for p in folder.glob("*.py") if p.name not in NOT_COUNTED)
            if len(modules) > MAX_MODULES_PER_FOLDER:
                crowded.append(f"{folder.relative_to(ROOT)}: {len(modules)} modules {modules}")
    assert not crowded, "\n".join(crowded)
