"""The conformance plugins are plugins (issue 12, item 1): conftest.py holds no logic, only the `pytest_plugins` list,
and every plugin in it comes after the plugins it imports (so pytest imports each plugin module itself, and no
"already imported" assertion-rewrite warning is raised)."""
from __future__ import annotations

import ast
from pathlib import Path

CONFTEST = Path(__file__).resolve().parent.parent / "conformance" / "conftest.py"


def _plugins() -> list[str]:
    tree = ast.parse(CONFTEST.read_text(encoding="utf-8"))
    assign = next(n for n in tree.body if isinstance(n, ast.Assign))
    return [ast.literal_eval(e) for e in assign.value.elts]  # type: ignore[attr-defined]


def _imports(module: str) -> set[str]:
    path = CONFTEST.parent.parent.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def test_conftest_holds_only_the_plugin_list() -> None:
    tree = ast.parse(CONFTEST.read_text(encoding="utf-8"))
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    assert len(body) == 1 and isinstance(body[0], ast.Assign), "conftest.py: only the docstring and pytest_plugins"
    assert [t.id for t in body[0].targets if isinstance(t, ast.Name)] == ["pytest_plugins"]


def test_every_plugin_comes_after_the_plugins_it_imports() -> None:
    plugins = _plugins()
    late = [(p, q) for i, p in enumerate(plugins) for q in plugins[i + 1:] if q in _imports(p)]
    assert late == [], f"(plugin, a plugin it imports that is listed after it): {late}"
