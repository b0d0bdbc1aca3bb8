"""The import graph of conformance/ (module level and function level imports alike) has no cycle beyond the
known ones listed in KNOWN_CYCLES (none left: client <-> reconcile was broken by injecting the lookup, drift <->
drift_recorded by moving Case beside the recorded cases); the test fails on any new cycle and on a known one that is
gone (so the list only shrinks)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "conformance"
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()  # debt to break; empty since issue 12


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("").as_posix().replace("/", ".")
    return rel.removesuffix(".__init__")


def graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in ROOT.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                if t in modules and t != mod:
                    edges[mod].add(t)
    return edges


def cycles(edges: dict[str, set[str]] | None = None) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan) of `edges` (default: conformance/'s graph)."""
    edges = graph() if edges is None else edges
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: set[str] = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.add(frozenset(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_new_import_cycle() -> None:
    new = sorted(sorted(c) for c in cycles() - KNOWN_CYCLES)
    assert not new, f"new import cycle in conformance/ (make the dependency point one way): {new}"


def test_known_cycles_only_shrink() -> None:
    gone = sorted(sorted(c) for c in KNOWN_CYCLES - cycles())
    assert not gone, f"cycle broken, remove it from KNOWN_CYCLES: {gone}"


def test_cycle_finder_sees_a_cycle() -> None:
    """The walk is proven on a made-up graph: a two-module loop and a three-module loop are found, a chain is not."""
    made_up = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert cycles(made_up) == {frozenset({"a", "b"}), frozenset({"c", "d", "e"})}


# The layers of conformance/, lowest first (issue 12, item 5): a module imports only from its own layer or lower ones.
LAYERS = ("data", "checks", "harness", "plugins", "tools", "tests")


def layer(module: str) -> str | None:
    """The layer of a conformance module; None for the mock (a separate component: it imports nothing of the suite,
    and the harness may start it)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "data"  # conformance/__init__.py: the paths of the data files
    if parts[1] == "mock":
        return None
    if parts[1] in LAYERS:
        return parts[1]
    if parts[1].startswith("test_") or parts[1] == "conftest":
        return "tests"
    raise AssertionError(f"{module} is in no layer: put it under one of conformance/{{{','.join(LAYERS[:-1])}}}/")


def upward(edges: dict[str, set[str]] | None = None) -> list[tuple[str, str]]:
    """Imports that point the wrong way: to a higher layer, or out of the mock into the suite."""
    edges = graph() if edges is None else edges
    wrong = []
    for mod, deps in sorted(edges.items()):
        here = layer(mod)
        for dep in sorted(deps):
            there = layer(dep)
            if (here is None and there is not None) or (
                    here is not None and there is not None and LAYERS.index(there) > LAYERS.index(here)):
                wrong.append((mod, dep))
    return wrong


def test_imports_point_one_way() -> None:
    """data -> checks -> harness -> plugins -> tools -> tests, and the mock imports nothing of the rest."""
    wrong = upward()
    assert not wrong, f"imports against the layers {' -> '.join(LAYERS)} (or out of the mock): {wrong}"


def test_the_layer_check_sees_an_upward_import() -> None:
    made_up = {"conformance.data.contract": {"conformance.harness.client"}, "conformance.harness.client": set(),
               "conformance.mock.app": {"conformance.data.contract"}, "conformance.test_x": {"conformance.mock.app"},
               "conformance.checks.general": {"conformance.data.contract"}}
    assert upward(made_up) == [("conformance.data.contract", "conformance.harness.client"),
                               ("conformance.mock.app", "conformance.data.contract")]
