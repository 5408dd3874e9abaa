"""The house's layers, read from the code's imports: no module imports one above its layer,
and no two modules import each other, even through others or inside a function."""

import ast
from pathlib import Path


KIT = Path(__file__).resolve().parent.parent / "kit"

# Each layer may import only those after it (docs/design.md, "Layers").
LAYERS = [("kit.cli", "kit.server", "kit.__main__"), ("kit.demo",), ("kit.sync",), ("kit.learning", "kit.reports"),
          ("kit.content",), ("kit.core",)]


def layer(module: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if any(module == n or module.startswith(n + ".") for n in names))


def _modules() -> "dict[str, tuple[Path, bool]]":
    out = {}
    for path in KIT.rglob("*.py"):
        parts = list(path.relative_to(KIT.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def import_graph() -> "dict[str, set[str]]":
    """Module -> the kit modules it imports, wherever the import statement is (a function's
    import is a circle deferred, not a circle avoided)."""
    modules = _modules()
    graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in modules and t != name}
        graph[name] = deps
    return graph


def circles(graph: "dict[str, set[str]]") -> "list[frozenset[str]]":
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_sees_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]
    graph = import_graph()
    assert "kit.core.eventlog" in graph["kit.core.records"] and "kit.core.events" in graph["kit.core.eventlog"]


def test_kit_modules_import_each_other_in_no_circle():
    found = [sorted(group) for group in circles(import_graph())]
    assert found == [], f"import circles: {found}"


def test_no_module_imports_a_layer_above_its_own():
    graph = import_graph()
    upward = sorted((m, d) for m, deps in graph.items() for d in deps if layer(d) < layer(m))
    assert upward == [], f"imports that run up the layers: {upward}"


def test_the_layer_check_sees_an_upward_import():
    assert layer("kit.core.events") > layer("kit.content.quiz") > layer("kit.learning") > layer("kit.server.hub")
