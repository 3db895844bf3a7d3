"""The house's layering (ARCHITECTURE.md), checked on the source: data flows one way.

gis (formats, CRS, stores) → parcels (pure domain) → maps (pure builders) → services (read the
store, apply a rule, write or render) → api (routers, CLI). A module may import from its own
package and from the packages before it, never after; and no two modules import each other in
a circle, counting imports inside functions (a lazy import hides a cycle, it does not remove it)
but not those under `if TYPE_CHECKING:` (annotations only, never executed).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ORDER = ("gis", "parcels", "maps", "services", "api")
RANK = {name: i for i, name in enumerate(ORDER)}


def _modules() -> dict[str, Path]:
    out = {}
    for package in ORDER:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _runtime_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import that runs, skipping `if TYPE_CHECKING:` blocks."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for _, target in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            dep = owner(target)
            # a package's own __init__ is the module's parent, not a dependency in a cycle
            if dep and dep != name and not name.startswith(dep + "."):
                graph[name].add(dep)
    return graph


def test_no_package_imports_a_later_one():
    wrong = []
    for name, path in _modules().items():
        mine = name.split(".")[0]
        for line, target in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            top = target.split(".")[0]
            if top in RANK and RANK[top] > RANK[mine]:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {target}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_import_cycle():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
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
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            strongconnect(v)
    assert not cycles, cycles
