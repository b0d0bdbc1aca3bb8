"""What the contract fixes in an answer, compared between two answers: status, code, fields, types, time units, order.

Values are never compared (prices, quantities, ids and times move); only their shape is. An answer's shape is the
set of JSON paths (`$.rateLimits[].interval`, array elements folded into `[]`) with the JSON types seen there.
Paths under an array are compared only when the array is non-empty in both answers: an empty list of trades says
nothing about a trade's fields.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from conformance.checks.general import ALWAYS_TIME_FIELDS, _picker
from conformance.data.exchange import Exchange

STATUS, CODE, FIELDS, TYPES, TIME_UNIT, ORDERING = "status", "code", "fields", "types", "time-unit", "ordering"


@dataclass(frozen=True)
class Difference:
    operation: str
    aspect: str
    path: str
    recorded: str
    mock: str

    def as_dict(self) -> dict[str, str]:
        return {"operation": self.operation, "aspect": self.aspect, "path": self.path, "recorded": self.recorded,
                "mock": self.mock}


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"  # 1 and 1.5 are one JSON type: integer-ness is a value, and values move
    return {dict: "object", list: "array", str: "string", type(None): "null"}[type(value)]


def shape(body: Any, path: str = "$", out: dict[str, set[str]] | None = None,
          filled: set[str] | None = None) -> tuple[dict[str, set[str]], set[str]]:
    """Types by path, and the array paths that had elements."""
    out = {} if out is None else out
    filled = set() if filled is None else filled
    out.setdefault(path, set()).add(json_type(body))
    if isinstance(body, dict):
        for key, value in body.items():
            shape(value, f"{path}.{key}", out, filled)
    elif isinstance(body, list) and body:
        filled.add(path)
        for value in body:
            shape(value, f"{path}[]", out, filled)
    return out, filled


def _arrays_above(path: str) -> Iterator[str]:
    for i in range(len(path)):
        if path.startswith("[]", i):
            yield path[:i]


def _comparable(path: str, filled_a: set[str], filled_b: set[str]) -> bool:
    return all(a in filled_a and a in filled_b for a in _arrays_above(path))


def _error_code(ex: Exchange) -> str:
    code = ex.response.error.code if ex.response.error else None
    return str(code) if code is not None and code < 0 else "-"


def _outcome(ex: Exchange) -> str:
    code = _error_code(ex)
    return f"{ex.response.status}" + (f" {code}" if code != "-" else "")


def _unit(value: Any) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None  # 0 is "never set"; strings and nulls are the types aspect's business
    digits = len(str(value))
    return "s" if digits <= 10 else "ms" if digits <= 13 else "us"


def time_units(ex: Exchange, body: Any) -> dict[str, set[str]]:
    names = {f for f in (*(ex.operation.time_fields if ex.operation else ()), *ALWAYS_TIME_FIELDS)
             if not f.startswith("$")}
    found: dict[str, set[str]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                unit = _unit(item) if key in names else None
                if unit:
                    found.setdefault(f"{path}.{key}", set()).add(unit)
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{path}[]")

    walk(body, "$")
    for selector in (f for f in (ex.operation.time_fields if ex.operation else ()) if f.startswith("$")):
        if isinstance(body, list):
            units = {_unit(_picker(selector)(e)) for e in body} - {None}
            if units:
                found.setdefault(selector.replace("[*]", "[]"), set()).update(u for u in units if u)
    return found


def ordering(ex: Exchange, body: Any) -> str | None:
    """'ascending', 'descending' or None (fewer than two distinct times) for a time-ordered list."""
    selector = ex.operation.time_ordered if ex.operation else None
    if not selector or not isinstance(body, list):
        return None
    pick = _picker(selector)
    values = [v for v in (pick(e) for e in body) if isinstance(v, int | float) and not isinstance(v, bool)]
    steps = {(b > a) - (b < a) for a, b in itertools.pairwise(values)} - {0}
    return None if not steps else "ascending" if steps == {1} else "descending" if steps == {-1} else "unordered"


def differences(op: str, recorded: Exchange, mock: Exchange) -> list[Difference]:
    """Every contract-fixed difference between the recorded answer and the mock's answer to the same request."""
    found = []
    if recorded.response.status != mock.response.status:
        return [Difference(op, STATUS, "", _outcome(recorded), _outcome(mock))]
    if _error_code(recorded) != _error_code(mock):
        return [Difference(op, CODE, "$.code", _error_code(recorded), _error_code(mock))]
    if not (recorded.response.is_json and mock.response.is_json):
        if recorded.response.is_json != mock.response.is_json:
            found.append(Difference(op, TYPES, "$", "json" if recorded.response.is_json else "not json",
                                    "json" if mock.response.is_json else "not json"))
        return found
    a_body, b_body = recorded.response.json(), mock.response.json()
    (a, a_filled), (b, b_filled) = shape(a_body), shape(b_body)
    gone: list[str] = []  # a missing object is one difference, not one per field under it
    for path in sorted(a.keys() | b.keys()):
        if not _comparable(path, a_filled, b_filled) or any(path.startswith(g) for g in gone):
            continue
        if path not in a or path not in b:
            gone += [f"{path}.", f"{path}[]"]
        if path not in b:
            found.append(Difference(op, FIELDS, path, "present", "missing"))
        elif path not in a:
            found.append(Difference(op, FIELDS, path, "missing", "present"))
        elif a[path] != b[path]:
            found.append(Difference(op, TYPES, path, "|".join(sorted(a[path])), "|".join(sorted(b[path]))))
    units_a, units_b = time_units(recorded, a_body), time_units(mock, b_body)
    for path in sorted(units_a.keys() & units_b.keys()):
        if units_a[path] != units_b[path]:
            found.append(Difference(op, TIME_UNIT, path, "|".join(sorted(units_a[path])),
                                    "|".join(sorted(units_b[path]))))
    order_a, order_b = ordering(recorded, a_body), ordering(mock, b_body)
    if order_a and order_b and order_a != order_b:
        found.append(Difference(op, ORDERING, "$", order_a, order_b))
    return found
