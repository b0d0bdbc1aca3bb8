"""No new module-level mutable state in conformance/ (issue 12, item 2).

Definition (precise, what this lint enforces): a *module-level state* is a name bound at the top level of a
module under ``conformance/`` (or a class attribute of a top-level class) that some code in ``conformance/``
mutates after import: named in a ``global`` statement, the target of ``NAME[...] = / del NAME[...]``, of
``NAME += ...`` / ``Cls.attr += ...`` outside the module top level, or the receiver of a mutating method
(``append extend insert remove pop clear update add discard setdefault``), directly or as ``module.NAME``.
Constants — UPPER_CASE tables built once at import and only read (tuples, frozensets, strings, dicts never
written), typed ``Final`` — are not state. A module-level *instance* of a mutable class is state too: a
class defined in ``conformance/`` one of whose methods (``__init__`` aside) writes ``self.x``, ``self.x[...]`` or
calls a mutating method on ``self.x`` (an object changed through its methods, which the name rule cannot see).

Registries filled at import time by decorators are accepted only as ``checks.Registry`` instances:
``checks.load_all`` freezes them once every check module is imported, and a later registration raises
(``test_registries_are_frozen_after_import``). ``ALLOWED`` lists the other deliberate exceptions, each with why.

``KNOWN`` is the debt listed in issue 12 (to move onto the run's state object); the test fails on any name
not in it, and on a ``KNOWN`` entry that is gone (so the list only shrinks)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "conformance"
MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "update", "add", "discard",
                      "setdefault"})
KNOWN: frozenset[tuple[str, str]] = frozenset()  # issue 12 item 2: state still to move onto session.RunState
FROZEN_AFTER_IMPORT = frozenset({"Registry"})  # mutable until checks.load_all freezes it, read-only after
ALLOWED = {
    # Append-only and process-wide on purpose: a secret must be masked by every writer of the process (log
    # handlers, files scrubbed after the run, a second run in the same process), and forgetting one is the
    # failure this table exists to prevent. Nothing is ever removed or read back except to mask it.
    ("harness/redact.py", "_SECRETS"): "secrets to mask",
}


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.ClassDef):
            for sub in node.body:
                sub_targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target] if isinstance(
                    sub, ast.AnnAssign) else []
                names |= {f"{node.name}.{t.id}" for t in sub_targets if isinstance(t, ast.Name)}
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _mutated(tree: ast.Module) -> set[str]:
    """Dotted names this module mutates (``X``, ``mod.X``, ``Cls.attr``), outside top-level statements."""
    out: set[str] = set()
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            out |= set(node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            if (name := _dotted(node.func.value)):
                out.add(name)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)) and id(node) not in top:
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                written = _dotted(t.value) if isinstance(t, ast.Subscript) else None
                if written is None and isinstance(node, ast.AugAssign) and isinstance(t, ast.Attribute):
                    written = _dotted(t)
                if written:
                    out.add(written)
    return out


def _writes_self(method: ast.AST) -> bool:
    """Does this method change its object: ``self.x = / +=``, ``self.x[...] =``, ``self.x.append(...)``?"""
    for node in ast.walk(method):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            if (_dotted(node.func.value) or "").startswith("self."):
                return True
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                written = _dotted(t.value if isinstance(t, ast.Subscript) else t) or ""
                if written.startswith("self.") or (isinstance(t, ast.Subscript) and written == "self"):
                    return True
    return False


def mutable_classes(trees: dict[str, ast.Module]) -> set[str]:
    """Names of the classes in ``conformance/`` whose methods (``__init__`` aside) change the object."""
    return {node.name for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
            and any(isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.name not in ("__init__",
                    "__post_init__") and _writes_self(f) for f in node.body)} - FROZEN_AFTER_IMPORT


def _instances(tree: ast.Module, classes: set[str]) -> set[str]:
    """Top-level names bound to ``Cls(...)`` of one of `classes`."""
    out: set[str] = set()
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if isinstance(value, ast.Call) and (_dotted(value.func) or "").rsplit(".", 1)[-1] in classes:
            out |= {t.id for t in targets if isinstance(t, ast.Name)}
    return out


def _trees() -> dict[str, ast.Module]:
    return {p.relative_to(ROOT).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
            for p in sorted(ROOT.rglob("*.py"))}


def module_state(trees: dict[str, ast.Module] | None = None) -> set[tuple[str, str]]:
    trees = _trees() if trees is None else trees
    mutated = set().union(*(_mutated(t) for t in trees.values()))
    classes = mutable_classes(trees)
    found: set[tuple[str, str]] = set()
    for rel, tree in trees.items():
        module = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        short = module.rsplit(".", 1)[-1]
        for name in _top_level_names(tree):
            if {name, f"{short}.{name}", f"{module}.{name}"} & mutated:
                found.add((rel, name))
        found |= {(rel, name) for name in _instances(tree, classes)}
    return found - set(ALLOWED)


def test_no_new_module_level_mutable_state() -> None:
    found = module_state()
    new = sorted(found - KNOWN)
    assert not new, f"new module-level mutable state (put it on the run's state object, session.RunState): {new}"


def test_known_debt_only_shrinks() -> None:
    gone = sorted(KNOWN - module_state())
    assert not gone, f"no longer module-level state, remove from KNOWN: {gone}"


def test_lint_catches_a_new_journal() -> None:
    tree = ast.parse("LOG: list[int] = []\ndef f():\n    LOG.append(1)\n")
    assert "LOG" in _top_level_names(tree) & _mutated(tree)
    constant = ast.parse("TABLE = {'a': 1}\ndef f():\n    return TABLE['a']\n")
    assert not _top_level_names(constant) & _mutated(constant)


def test_lint_catches_a_module_level_instance_of_a_mutable_class() -> None:
    trees = {"m.py": ast.parse("class Seen:\n    def __init__(self):\n        self.items = []\n"
                               "    def __call__(self, x):\n        self.items.append(x)\n"
                               "class Point:\n    def __init__(self, x):\n        self.x = x\n"
                               "SEEN = Seen()\nORIGIN = Point(0)\n")}
    assert module_state(trees) == {("m.py", "SEEN")}


def test_registries_are_frozen_after_import() -> None:
    import pytest

    from conformance import checks
    from conformance.checks import parameters
    from conformance.data.exceptions import HarnessError

    checks.load_all()
    for registry in (checks.REGISTRY, parameters.COMPARISONS, checks.SCENARIOS):
        with pytest.raises(HarnessError, match="frozen"):
            registry.register("general.json-responses", lambda *_: None)  # type: ignore[arg-type]
