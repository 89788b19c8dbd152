"""No import cycles between summitcol's packages (issue #14), nor between its modules, and
imports that point down the layers of the README's Development section.

The graph is read from the source with `ast`, not from `sys.modules`, so that it sees every
import the code can make, not just the ones a test run happened to execute. Every `import` and
`from … import` counts, wherever it is:
- at module level;
- inside a function or method: a deferred import is still a dependency, only a later one, and
  moving an import into a function is the usual way to hide a cycle rather than fix it;
- under `if TYPE_CHECKING:`: a type named in a signature is part of the module's interface, and
  the day someone needs the name at run time (an isinstance, a default) the import becomes real.

A package is the directory a module is in (`summitcol/exporters/clickhouse/writer.py` belongs to
`summitcol.exporters.clickhouse`, a package's `__init__.py` to the package itself). A module
directly in `summitcol/` (`component`, `cli`, `errors` …) is a node of its own: that directory
holds the top layers and the shared foundations, which are not one package. Importing
`a.b.c` is counted as depending on `a.b.c` only, not on `a` and `a.b` (their `__init__.py` files
are docstrings).
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from pathlib import Path

import summitcol

ROOT = Path(summitcol.__file__).parent
TOP = ROOT.name

MAX_LOOPS = 12  # loops shown per cycle in a failure; the imports that make it are all listed

# (importing module, imported module) -> the lines of the importing module where it happens
Edges = dict[tuple[str, str], list[int]]


@functools.cache
def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def package_of(module: str, found: dict[str, Path]) -> str:
    """The node a module belongs to in the package graph (see the module docstring)."""
    if found[module].name == "__init__.py" or module.count(".") == 1:
        return module
    return module.rpartition(".")[0]


def _resolve(name: str, found: dict[str, Path]) -> str:
    """The module `name` lives in: the longest prefix of it that is a module ('' if none)."""
    while name and name not in found:
        name = name.rpartition(".")[0]
    return name


def _imported(node: ast.Import | ast.ImportFrom, module: str, found: dict[str, Path]) -> list[str]:
    """The summitcol modules one import statement reaches."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: from the importing module's package, up level-1 directories
        base = module if found[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    # `from a.b import c` reaches the module a.b.c when there is one, else a.b (c is a name in it)
    return [f"{source}.{alias.name}" if f"{source}.{alias.name}" in found else source for alias in node.names]


def module_edges(found: dict[str, Path]) -> Edges:
    """Every import from one summitcol module to another, wherever in the module it is."""
    return dict(_module_edges(tuple(found.items())))


@functools.cache
def _module_edges(items: tuple[tuple[str, Path], ...]) -> Edges:
    found = dict(items)
    edges: Edges = defaultdict(list)
    for module, path in items:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported(node, module, found):
                if name != TOP and not name.startswith(f"{TOP}."):
                    continue
                target = _resolve(name, found)
                if target and target != module and node.lineno not in edges[(module, target)]:
                    edges[(module, target)].append(node.lineno)
    return edges


def package_edges(found: dict[str, Path], edges: Edges) -> dict[tuple[str, str], list[str]]:
    """The module edges between different packages, each with the imports that make it."""
    between: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (source, target), lines in sorted(edges.items()):
        a, b = package_of(source, found), package_of(target, found)
        if a != b:
            between[(a, b)] += [f"{found[source].relative_to(ROOT.parent)}:{line} imports {target}" for line in lines]
    return between


def cycles(pairs: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    graph: dict[str, list[str]] = defaultdict(list)
    for a, b in sorted(pairs):
        graph[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def shortest_loop(start: str, members: set[str], pairs: set[tuple[str, str]]) -> list[str]:
    """The shortest path from `start` back to itself inside one strongly connected component."""
    paths = {start: [start]}
    queue = [start]
    for node in queue:
        for a, b in sorted(pairs):
            if a != node or b not in members:
                continue
            if b == start:
                return [*paths[node], start]
            if b not in paths:
                paths[b] = [*paths[node], b]
                queue.append(b)
    return [start]


def describe(groups: list[list[str]], why: dict[tuple[str, str], list[str]]) -> str:
    """Each cycle: its members, the shortest loop through each, and the imports that make it."""
    lines = []
    for group in groups:
        lines.append("cycle: " + " <-> ".join(group))
        members = set(group)
        loops = {tuple(shortest_loop(node, members, set(why))) for node in group}
        shortest = sorted(loops, key=lambda loop: (len(loop), loop))
        lines += ["  loop: " + " -> ".join(loop) for loop in shortest[:MAX_LOOPS]]
        if len(shortest) > MAX_LOOPS:
            lines.append(f"  … and {len(shortest) - MAX_LOOPS} longer loops")
        for (a, b), reasons in sorted(why.items()):
            if a in members and b in members:
                lines += [f"    {a} -> {b}: {reason}" for reason in reasons]
    return "\n".join(lines)


def test_no_cycles_between_packages() -> None:
    found = modules()
    between = package_edges(found, module_edges(found))
    groups = cycles(set(between))
    assert not groups, "import cycles between packages (move the piece to the package that owns it):\n" + describe(
        groups, between
    )


def test_no_cycles_between_modules() -> None:
    """Stricter: also inside a package (the otlp receiver and its servers were one)."""
    found = modules()
    edges = module_edges(found)
    why = {pair: [f"line {line}" for line in lines] for pair, lines in edges.items()}
    groups = cycles(set(edges))
    assert not groups, "import cycles between modules:\n" + describe(groups, why)


def test_the_walk_sees_deferred_and_type_checking_imports() -> None:
    """The graph holds the imports a cycle check must not miss (else it passes for nothing)."""
    found = modules()
    edges = module_edges(found)
    assert ("summitcol.cli", "summitcol.service.service") in edges  # inside a function
    assert ("summitcol.extensions.chdb.http", "summitcol.extensions.chdb.config") in edges  # under TYPE_CHECKING
    assert ("summitcol.cli", "summitcol.components") in edges


def test_config_knows_only_the_registry_type() -> None:
    """`summitcol.components` lists the factories; the config package imports none of them."""
    found = modules()
    imported = {target for (source, target) in module_edges(found) if package_of(source, found) == "summitcol.config"}
    outside = sorted(t for t in imported if not t.startswith(("summitcol.config", "summitcol.component", "summitcol.exceptions")))
    assert outside == [], f"summitcol.config imports {outside}"
    assert "summitcol.components" not in imported


# The layers of the README's Development section, lowest first: a module imports its own layer
# and the ones below it, never one above. The longest matching prefix decides a module's layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundations", ("summitcol", "summitcol.exceptions", "summitcol.netaddr", "summitcol.tlsconfig", "summitcol.compression", "summitcol.logthrottle", "summitcol.sqltext")),
    ("pdata", ("summitcol.pdata",)),
    ("domain libraries", ("summitcol.errors", "summitcol.pii", "summitcol.sampling", "summitcol.ottl", "summitcol.cicd", "summitcol.insights", "summitcol.alerting", "summitcol.auth", "summitcol.audit", "summitcol.sentry", "summitcol.tenancy")),
    ("component model", ("summitcol.component", "summitcol.telemetry", "summitcol.worker")),
    ("config", ("summitcol.config",)),
    ("components", ("summitcol.receiver", "summitcol.processors", "summitcol.exporters", "summitcol.extensions")),
    ("service", ("summitcol.service",)),
    ("distribution", ("summitcol.components",)),
    ("commands", ("summitcol.cli", "summitcol.query", "summitcol.errors_command", "summitcol.ci_command", "summitcol.audit_command", "summitcol.insights_command", "summitcol.__main__")),
]


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the longest prefix that names `module` or a package holding it."""
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            holds = module == prefix or module.startswith(f"{prefix}.")
            if holds and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return best[0] if best else None


def test_imports_point_down_the_layers() -> None:
    found = modules()
    unplaced = sorted(module for module in found if layer_of(module) is None)
    assert unplaced == [], f"modules in no layer (add them to LAYERS and the README): {unplaced}"
    upward = []
    for (source, target), lines in sorted(module_edges(found).items()):
        low, high = layer_of(source), layer_of(target)
        assert low is not None and high is not None
        if high > low:
            upward.append(f"{source} ({LAYERS[low][0]}) imports {target} ({LAYERS[high][0]}) at line {lines[0]}")
    assert upward == [], "imports pointing up the layers:\n" + "\n".join(upward)
