"""Scoping a run: --conformance-rule and --conformance-operation keep the tests of the named rules or operations."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

from conformance.data.exceptions import ConfigError

# Test parameters that name the operation a test is about.
OPERATION_PARAMS = ("op_id", "operation_id", "op", "operation")


def _expand(patterns: list[str], known: list[str], what: str, where: str) -> set[str]:
    """Every known name matching a pattern; a pattern matching nothing is a usage error (exit 4)."""
    found: set[str] = set()
    for pattern in patterns:
        matched = {name for name in known if fnmatchcase(name, pattern)}
        if not matched:
            raise ConfigError(f"--conformance-{what}={pattern}: no {what} matches it — see {where} for the IDs")
        found |= matched
    return found


def operations_of(item: pytest.Item, known: set[str], rules: list[str]) -> set[str]:
    """The operations an item names: its parameters' operation IDs and its `schema.<operationId>` rules."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    named = {str(v) for k, v in params.items() if k in OPERATION_PARAMS and str(v) in known}
    return named | {r.split(".", 1)[1] for r in rules if r.startswith("schema.") and r.split(".", 1)[1] in known}


def resolve(config: pytest.Config, state: Any) -> None:
    """Check the patterns before anything runs (a pattern matching nothing is exit 4) and keep what they select."""
    rule_patterns, op_patterns = config.getoption("conformance_rule"), config.getoption("conformance_operation")
    state.selected_rules = _expand(rule_patterns, list(state.catalogue), "rule", state.catalogue.path.name) \
        if rule_patterns else None
    state.selected_operations = _expand(op_patterns, sorted(state.contract.operations), "operation",
                                        state.contract.path.name) if op_patterns else None
    if rule_patterns or op_patterns:
        shown = [f"--conformance-rule={p}" for p in rule_patterns] + \
            [f"--conformance-operation={p}" for p in op_patterns]
        state.results.not_selected = f"not tested (not selected): {' '.join(shown)}"


def apply(config: pytest.Config, items: list[pytest.Item], state: Any) -> None:
    """Deselect what the options leave out; rules.json says which rules were not selected."""
    rules, ops = state.selected_rules, state.selected_operations
    if rules is None and ops is None:
        return
    known_ops = set(state.contract.operations)
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marked = [rid for mark in item.iter_markers("rule") for rid in mark.args]
        keep = (rules is None or bool(rules & set(marked))) and \
            (ops is None or bool(ops & operations_of(item, known_ops, marked)))
        (kept if keep else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept
