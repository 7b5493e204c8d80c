"""Reading the imports of the engine's modules and checking them against its layers.

A module may import from its own room (its subpackage, or itself for a top-level module)
and from rooms in lower layers, never from a higher layer or from another room of its own
layer; no imports may form a cycle, even inside a room; only ``engine/cli/`` imports click,
only the monitor's session module imports durable_rules, and only ``engine/serve/`` imports
the HTTP libraries (starlette, uvicorn, prometheus_client), only ``engine/spark/`` imports
pyarrow and only its job module pyspark. Imports under
``if TYPE_CHECKING:`` are for annotations and do not count.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

# Lowest first. Each entry is a layer: the rooms in it, by module prefix.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("engine.version", "engine.errors", "engine.canonical", "engine.paths", "engine.parallel",
     "engine.dates", "engine.per_object"),
    ("engine.language",),
    ("engine.ruleset",),
    ("engine.decide",),
    ("engine.enrich",),
    ("engine.audit",),
    ("engine.service",),
    ("engine.monitor", "engine.batch"),
    ("engine.orders", "engine.dunning"),
    ("engine.quality", "engine.replay"),
    ("engine.explain",),
    ("engine.report", "engine.serve", "engine.spark", "engine.dmn"),
    ("engine.cli",),
)
ONLY_IN = {"click": ("engine.cli",), "durable": ("engine.monitor.rete_session",),
           "starlette": ("engine.serve",), "uvicorn": ("engine.serve",),
           "prometheus_client": ("engine.serve",), "pyspark": ("engine.spark.spark_job",),
           "pyarrow": ("engine.spark",)}
FACADE = "engine"  # engine/__init__.py names the API lazily; it is no room


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_imports(root: Path, package: str = "engine") -> tuple[set[str], list[Import]]:
    """Every module under ``root/package`` and every import in them (resolved to a module
    of the tree where it names one, else to the package or outside name)."""
    paths = sorted((root / package).rglob("*.py"))
    modules = {module_name(root, p) for p in paths}
    found = []
    for path in paths:
        me = module_name(root, path)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                found.extend(Import(me, alias.name, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(me, is_package, node.level, node.module)
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    found.append(Import(me, candidate if candidate in modules else base,
                                        node.lineno))
    return modules, found


def _runtime_nodes(tree: ast.AST):
    """All nodes except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(me: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    parts = me.split(".")
    if not is_package:
        parts.pop()
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, *([module] if module else [])])


def room_of(module: str) -> tuple[int, str] | None:
    """(layer number, room prefix) of an engine module; None for the facade or outside."""
    for number, rooms in enumerate(LAYERS):
        for room in rooms:
            if module == room or module.startswith(room + "."):
                return number, room
    return None


def violations(root: Path, package: str = "engine") -> list[str]:
    """Every import that breaks the layering, and every cycle, as readable lines."""
    modules, imports = read_imports(root, package)
    problems = []
    for imp in imports:
        where = f"{imp.importer} (line {imp.line})"
        top = imp.imported.split(".")[0]
        if top in ONLY_IN and not any(imp.importer == m or imp.importer.startswith(m + ".")
                                      for m in ONLY_IN[top]):
            problems.append(f"{where} imports {top}, which only "
                            f"{' and '.join(ONLY_IN[top])} may import")
        if top != package or imp.importer == FACADE:
            continue
        if imp.imported == FACADE:
            problems.append(f"{where} imports the engine facade; import the module instead")
            continue
        mine, theirs = room_of(imp.importer), room_of(imp.imported)
        if mine is None:
            problems.append(f"{imp.importer} is in no layer: add its room to LAYERS")
            continue
        if theirs is None:
            problems.append(f"{imp.imported} is in no layer: add its room to LAYERS")
            continue
        if theirs[0] > mine[0]:
            problems.append(f"{where} imports {imp.imported}, a higher layer "
                            f"({theirs[1]} is above {mine[1]})")
        elif theirs[0] == mine[0] and theirs[1] != mine[1]:
            problems.append(f"{where} imports {imp.imported}, another room of its own layer")
    problems.extend(f"import cycle: {' -> '.join(cycle)}"
                    for cycle in cycles(modules, imports))
    return sorted(set(problems))


def cycles(modules: set[str], imports: list[Import]) -> list[list[str]]:
    """One cycle per strongly connected group of modules that import each other."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        if imp.imported in modules and imp.imported != imp.importer \
                and imp.importer != FACADE and imp.imported != FACADE:
            graph[imp.importer].add(imp.imported)
    found = []
    for group in _strongly_connected(graph):
        if len(group) > 1:
            found.append(_cycle_in(sorted(group)[0], graph, set(group)))
    return found


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _cycle_in(start: str, graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest path from ``start`` back to itself inside ``group``."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return [start]
