"""The fast (jsonschema-rs) and detailed (jsonschema) validators behind every schema check give the same verdicts."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.checks.general import java_validator
from conformance.data import contract
from conformance.data.javatypes import is_decimal

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "recorded"
SPEC = contract.default()


def _recorded() -> list[Any]:
    if not (SHARED / "manifest.json").exists():
        return []
    cases = []
    for entry in json.loads((SHARED / "manifest.json").read_text()):
        if not entry.get("path"):
            continue
        op = SPEC.find(entry["method"], entry["path"].replace("/fapi/v2/positionRisk", "/fapi/v1/positionRisk"))
        if op is not None:
            body = json.loads((SHARED / entry["file"]).read_text())
            cases.append(pytest.param(op.id, body, id=Path(entry["file"]).stem))
    return cases


def _variants(body: Any) -> list[Any]:
    """The body, and broken copies of it: first key dropped, first string turned into a number, a list emptied."""
    out = [body]
    target = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else body
    if isinstance(target, dict) and target:
        dropped = copy.deepcopy(body)
        (dropped[0] if dropped is not body and isinstance(dropped, list) else dropped).pop(next(iter(target)))
        out.append(dropped)
        for key, value in target.items():
            if isinstance(value, str):
                numbered = copy.deepcopy(body)
                (numbered[0] if isinstance(numbered, list) else numbered)[key] = 12.5
                out.append(numbered)
                break
    out += [[], {}, "text", None, [[1, 2]]]
    return out


@pytest.mark.skipif(not _recorded(), reason="../shared/recorded is not beside the repository")
@pytest.mark.parametrize(("op_id", "body"), _recorded())
def test_both_validators_agree_on_recorded_bodies_and_broken_copies(op_id: str, body: Any) -> None:
    validator = SPEC.operations[op_id].success_validator
    assert validator is not None and validator.fast is not None
    for variant in _variants(body):
        fast = validator.fast.is_valid(variant)
        detailed = next(validator.detailed.iter_errors(variant), None) is None
        assert fast == detailed, f"{op_id}: jsonschema-rs says {fast}, jsonschema says {detailed} for {variant!r:.200}"


def test_both_validators_agree_on_error_bodies() -> None:
    validator = SPEC.error_validator
    for body, valid in [({"code": -1121, "msg": "Invalid symbol."}, True), ({"code": "-1121", "msg": "x"}, False),
                        ({"code": -1121}, False), ({"message": "x", "code": 1}, False), ([], False)]:
        assert validator.fast.is_valid(body) is valid
        assert (next(validator.detailed.iter_errors(body), None) is None) is valid


def _first_leaf_replaced(body: Any, kind: type, new: Any) -> Any:
    """A copy of `body` whose first leaf of exactly type `kind` (depth first) is `new`; None if it has none."""
    copied = copy.deepcopy(body)
    stack: list[Any] = [copied]
    while stack:
        node = stack.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else []
        for key in keys:
            if type(node[key]) is kind:
                node[key] = new
                return copied
        stack.extend(node[key] for key in reversed(keys))
    return None


def _java_variants(body: Any) -> list[Any]:
    """The body, and copies with one Java-wrong leaf: an integral float, longs past int64, a bool, non-DECIMALs."""
    swaps = [(int, 1.0), (int, 2**63), (int, -(2**63) - 1), (int, True), (int, "1"), (str, "NaN"), (str, "1,5"),
             (str, " 1"), (str, 12.5), (bool, "true")]
    broken = [_first_leaf_replaced(body, kind, new) for kind, new in swaps]
    return [*_variants(body), *(b for b in broken if b is not None)]


@pytest.mark.skipif(not _recorded(), reason="../shared/recorded is not beside the repository")
@pytest.mark.parametrize(("op_id", "body"), _recorded())
def test_both_java_type_validators_agree_on_recorded_bodies_and_wrongly_typed_copies(op_id: str, body: Any) -> None:
    validator = java_validator(SPEC.operations[op_id], success=True)
    assert validator is not None and validator.fast is not None
    verdicts = set()
    for variant in _java_variants(body):
        fast = validator.fast.is_valid(variant)
        detailed = next(validator.detailed.iter_errors(variant), None) is None
        assert fast == detailed, f"{op_id}: jsonschema-rs says {fast}, jsonschema says {detailed} for {variant!r:.200}"
        verdicts.add(fast)
    assert verdicts == {True, False}, f"{op_id}: every variant got the same verdict {verdicts}"


@pytest.mark.parametrize(("value", "valid"), [(0, True), (-(2**31), True), (2**31 - 1, True), (2**31, False),
                                              (-(2**31) - 1, False), (1.0, False), (False, False), ("1", False)])
def test_both_java_type_validators_agree_on_int32_edges(value: Any, valid: bool) -> None:
    validator = java_validator(SPEC.operations["changeLeverage"], success=True)
    assert validator is not None and validator.fast is not None
    body = {"leverage": value, "maxNotionalValue": "1000000", "symbol": "BTCUSDT"}
    assert validator.fast.is_valid(body) is valid
    assert (next(validator.detailed.iter_errors(body), None) is None) is valid


@pytest.mark.parametrize("value", ["1000000", "-1.5", "+2", "1e5", "2.5E-3", ".5", "5.", "0", "1,5", " 1", "1 ", "NaN",
                                   "Infinity", "1e", "", "--1", "١٢٣", "1.5\n"])
def test_the_fast_decimal_pattern_is_never_laxer_than_the_decimal_grammar(value: str) -> None:
    """jsonschema-rs matches DECIMAL strings with a pattern (no Python call per value); where it says valid, so does
    the grammar, and the combined verdict is always the grammar's."""
    validator = java_validator(SPEC.operations["changeLeverage"], success=True)
    assert validator is not None and validator.fast is not None
    body = {"leverage": 20, "maxNotionalValue": value, "symbol": "BTCUSDT"}
    detailed = next(validator.detailed.iter_errors(body), None) is None
    assert detailed is is_decimal(value)
    assert not validator.fast.is_valid(body) or detailed
    assert validator.is_valid(body) is detailed
