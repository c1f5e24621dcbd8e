"""The package's shape: subpackages in pipeline order, no import cycle, no private names shared.

The import graph is built from the source with :mod:`ast`, imports inside functions included
(they hide cycles from the interpreter, not from this check).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "callscan"

# Pipeline order: a module may import its own layer, the core, and any earlier layer.
CORE = {"errors", "resources", "config", "conversation", "transcript", "util", "text"}
LAYERS = ["audio", "asr", "speakers", "analysis", "pipeline", "report", "qa", "cli"]


def _modules() -> dict[str, Path]:
    mods = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = p
    for p in (ROOT / "cli").rglob("*.py"):
        stem = p.relative_to(ROOT / "cli").with_suffix("").parts
        mods[".".join(["callscan", "cli", *[s for s in stem if s != "__init__"]])] = p
    return mods


def _imports(path: Path, name: str, mods: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("callscan")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("callscan"):
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((sub, []) if sub in mods else (base, [a.name]))
    return out


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods if m != "callscan"}
    private = []
    for name, path in mods.items():
        if name == "callscan":
            continue
        for target, names in _imports(path, name, mods):
            # the facade (callscan/__init__) only re-exports lazily: not a node of the graph
            if target in mods and target != name and "callscan" not in (name, target):
                graph[name].add(target)
            private += [
                f"{name} imports {target}.{n}"
                for n in names
                if n.startswith("_") and not n.endswith("__")  # dunders (__version__) are public
            ]
    return graph, private


def _layer(module: str) -> int | None:
    part = module.split(".")[1] if "." in module else ""
    if part == "__main__":
        return LAYERS.index("cli")  # `python -m callscan` is the command line
    if part in CORE or module == "callscan":
        return None
    return LAYERS.index(part) if part in LAYERS else None


def test_no_import_cycle():
    graph, _ = _graph()
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_each_layer_imports_only_earlier_layers_and_the_core():
    graph, _ = _graph()
    wrong = []
    for module, targets in graph.items():
        mine = _layer(module)
        for target in targets:
            theirs = _layer(target)
            if target == "callscan":
                continue  # the facade's __version__ and errors
            if mine is None and theirs is not None:
                wrong.append(f"core module {module} imports {target}")
            elif mine is not None and theirs is not None and theirs > mine:
                wrong.append(f"{module} ({LAYERS[mine]}) imports {target} ({LAYERS[theirs]})")
    assert wrong == []


def test_no_private_name_is_imported_from_another_module():
    _, private = _graph()
    assert private == []


def test_the_graph_sees_imports_inside_functions():
    graph, _ = _graph()
    # pipeline imports the analyses inside its functions (lazily): they must be edges
    assert "callscan.analysis.stages" in graph["callscan.pipeline"]
    assert "callscan.asr" in graph["callscan.pipeline"]
