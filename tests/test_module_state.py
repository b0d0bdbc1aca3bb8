"""No new module-level mutable state in conformance/ (issue 12, item 2).

Definition (precise, what this lint enforces): a *module-level state* is a name bound at the top level of a
module under ``conformance/`` (or a class attribute of a top-level class) that some code in ``conformance/``
mutates after import: named in a ``global`` statement, the target of ``NAME[...] = / del NAME[...]``, of
``NAME += ...`` / ``Cls.attr += ...`` outside the module top level, or the receiver of a mutating method
(``append extend insert remove pop clear update add discard setdefault``), directly or as ``module.NAME``.
Constants — UPPER_CASE tables built once at import and only read (tuples, frozensets, strings, dicts never
written), typed ``Final`` — are not state. Registries filled at import time by decorators count as state.

``KNOWN`` is the debt listed in issue 12 (to move onto the run's state object); the test fails on any name
not in it, and on a ``KNOWN`` entry that is gone (so the list only shrinks)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "conformance"
MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "update", "add", "discard",
                      "setdefault"})
KNOWN = frozenset({  # issue 12 item 2: to move onto session.RunState
    ("checks/__init__.py", "OBSERVERS"), ("checks/__init__.py", "REGISTRY"),
    ("checks/parameters.py", "COMPARISONS"), ("mock/dispatch.py", "ENDPOINTS"), ("redact.py", "_SECRETS"),
})


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


def module_state() -> set[tuple[str, str]]:
    trees = {p.relative_to(ROOT).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
             for p in sorted(ROOT.rglob("*.py"))}
    mutated = set().union(*(_mutated(t) for t in trees.values()))
    found: set[tuple[str, str]] = set()
    for rel, tree in trees.items():
        module = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        short = module.rsplit(".", 1)[-1]
        for name in _top_level_names(tree):
            if {name, f"{short}.{name}", f"{module}.{name}"} & mutated:
                found.add((rel, name))
    return found


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
