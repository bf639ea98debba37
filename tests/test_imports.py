"""No import cycle inside pdssb: no module imports, directly or through others, a module that
imports it back. Imports are read with ``ast`` from every module of the package, at module level
and inside functions alike (a lazy import is still an edge of the graph), relative imports
resolved; imports under ``if TYPE_CHECKING:`` are never executed and are left out."""

import ast
from pathlib import Path

import pdssb

ROOT = Path(pdssb.__file__).parent


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = (root.name,) + path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST):
    """Every Import/ImportFrom node, at any depth, except those guarded by ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        for child in ast.iter_child_nodes(node):
            if not _type_checking_only(child):
                stack.append(child)
            else:
                stack.extend(child.orelse)


def imported_modules(source: str, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The modules of ``modules`` that the module ``name`` (with this source) imports."""
    out = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in _imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            # `from pkg import name`: the submodule pkg.name when there is one, else pkg itself
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for target in targets:
            while target and target not in modules:  # `import a.b.c` of a name inside a module
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    modules = set(files)
    return {name: imported_modules(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", modules)
            for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None (depth-first search, three colours)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle_in_pdssb():
    graph = import_graph()
    assert len(graph) > 50 and "pdssb.cli" in graph  # the walk found the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_checker_sees_lazy_relative_imports_and_cycles():
    """The reader resolves a function-level relative import, and the search names a cycle it contains."""
    modules = {"p", "p.a", "p.b", "p.sub", "p.sub.c", "p.sub.d"}
    src = "def f():\n    from ..b import thing\n    from . import c, helper\n    import p.a.x\n"
    assert imported_modules(src, "p.sub.d", False, modules) == {"p.b", "p.sub.c", "p.sub", "p.a"}
    assert imported_modules("from .sub import c\n", "p", True, modules) == {"p.sub.c"}
    assert imported_modules("if TYPE_CHECKING:\n    from . import b\n", "p.a", False, modules) == set()
    graph = {"p.a": {"p.b"}, "p.b": {"p.sub.c"}, "p.sub.c": {"p.a"}, "p.sub": set()}
    assert find_cycle(graph) == ["p.a", "p.b", "p.sub.c", "p.a"]
    assert find_cycle({"p.a": {"p.b"}, "p.b": set()}) is None


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module that ``start`` imports, directly or through others."""
    seen, stack = set(), [start]
    while stack:
        for nxt in graph.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def test_equilibrium_solvers_and_the_mechanics_model_import_each_other_one_way():
    """The model picks its solver through the factory (mechanics.solvers); no solver imports the model,
    directly or through others: a solver takes the model as an argument."""
    graph = import_graph()
    solvers = sorted(n for n in graph if n.startswith("pdssb.mechanics.solvers"))
    assert {"pdssb.mechanics.solvers.adr", "pdssb.mechanics.solvers.newton"} <= set(solvers)
    for name in solvers:
        assert "pdssb.mechanics.model" not in reachable(graph, name), f"{name} imports the mechanics model"
    assert "pdssb.mechanics.solvers" in graph["pdssb.mechanics.model"]
    assert reachable({"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": set()}, "p.a") == {"p.b", "p.c"}
