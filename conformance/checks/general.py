"""Checks of the general-info format rules: JSON everywhere, ascending time order, millisecond times, Java types."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from conformance.checks import RuleViolation, check
from conformance.data.exceptions import HarnessError
from conformance.data.exchange import Exchange

JSON_TYPE = re.compile(r"^application/json\s*(;.*)?$", re.IGNORECASE)
MS_FLOOR = 1_420_070_400_000  # 2015-01-01T00:00:00Z: older than any fapi data
FUTURE_SLACK_MS = 400 * 86_400_000  # nextFundingTime, closeTime and deliveryDate lie ahead of now
ALWAYS_TIME_FIELDS = ("serverTime", "E", "T")
INDEXED = re.compile(r"^\$\[\*\](?:\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)|\[(?P<index>\d+)\])$")
JAVA_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# Java's BigDecimal(String) grammar: no whitespace, no NaN/Infinity, an optional exponent.
BIG_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _json_body(ex: Exchange) -> bool:
    return ex.response.is_json


def _succeeded(ex: Exchange) -> bool:
    return ex.operation is not None and 200 <= ex.response.status < 300 and ex.response.is_json


@check("general.json-responses")
def json_responses(ex: Exchange) -> None:
    ctype = ex.response.content_type
    if not JSON_TYPE.match(ctype.strip()):
        raise RuleViolation("general.json-responses", ["Content-Type: application/json (a charset parameter allowed)"],
                            f"Content-Type: {ctype or '(none)'} on HTTP {ex.response.status}")
    if not ex.response.is_json:
        raise RuleViolation("general.json-responses", ["a body that parses as JSON"],
                            f"HTTP {ex.response.status} body is not JSON: {ex.response.text[:120]!r}")


def _picker(selector: str) -> Callable[[Any], Any]:
    """A function picking `.name` or `[index]` out of one array element (None when the element has no such part)."""
    match = INDEXED.match(selector)
    if match is None:
        raise HarnessError(f"unknown time selector {selector!r} in the spec: use $[*].name or $[*][index]")
    name = match["name"]
    if name is not None:
        return lambda element: element.get(name) if isinstance(element, dict) else None
    index = int(match["index"])
    return lambda element: element[index] if isinstance(element, list) and len(element) > index else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _timed_elements(ex: Exchange) -> list[tuple[int, int | float]]:
    """(index, time) of every array element whose time the operation's selector picks; empty for other shapes."""
    selector = ex.operation.time_ordered if ex.operation else None
    body = ex.response.json() if selector else None
    if not isinstance(body, list):
        return []  # the shape is the schema check's business
    pick = _picker(str(selector))
    keyed = [(i, pick(e)) for i, e in enumerate(body)]
    return [(i, v) for i, v in keyed if isinstance(v, int | float) and not isinstance(v, bool)]


def _orderable(ex: Exchange) -> bool:
    """Two timed elements at least: an empty or one-element array shows no order, so it is not judged."""
    return _succeeded(ex) and len(_timed_elements(ex)) >= 2


@check("general.ascending-time-order", applies=_orderable)
def ascending_time_order(ex: Exchange) -> None:
    selector = str(ex.operation.time_ordered if ex.operation else "")
    keyed = _timed_elements(ex)
    part = selector.removeprefix("$[*]")
    for (i, earlier), (j, later) in itertools.pairwise(keyed):
        if later < earlier:
            raise RuleViolation("general.ascending-time-order",
                                [f"elements non-decreasing by {selector} (earliest first)"],
                                f"$[{i}]{part} = {earlier} comes before $[{j}]{part} = {later}")


def _named_values(value: Any, names: frozenset[str], path: str = "$") -> Iterator[tuple[str, Any]]:
    """Every value stored under one of `names`, at any depth (paths are built only where they are needed)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in names:
                yield f"{path}.{key}", item
            if isinstance(item, dict | list):
                yield from _named_values(item, names, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict | list):
                yield from _named_values(item, names, f"{path}[{i}]")


def _time_values(ex: Exchange) -> Iterator[tuple[str, Any]]:
    body = ex.response.json()
    fields = ex.operation.time_fields if ex.operation else ()
    names = frozenset(f for f in (*fields, *ALWAYS_TIME_FIELDS) if not f.startswith("$"))
    yield from _named_values(body, names)
    for selector in (f for f in fields if f.startswith("$")):
        if isinstance(body, list):
            pick, part = _picker(selector), selector.removeprefix("$[*]")
            for i, element in enumerate(body):
                yield f"$[{i}]{part}", pick(element)


def _ms_number(value: Any) -> int | float | None:
    """The number a time value carries, whatever its JSON type: the type is general.java-types' business."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return float(value) if "." in value else int(value)
    return None


def _ms_problem(value: Any, now_ms: int) -> str | None:
    value = _ms_number(value)
    if value is None:
        return None
    if value == 0:
        return None  # 0 is Binance's "never set" (e.g. updateTime of an untouched position): unit-neutral
    if value < MS_FLOOR:
        return f"{value} is before 2015-01-01 in ms (seconds?)"
    if value > now_ms + FUTURE_SLACK_MS:
        return f"{value} is after now + 400 days in ms (microseconds?)"
    return None


def _has_times(ex: Exchange) -> bool:
    return ex.response.is_json and any(_ms_number(value) is not None for _, value in _time_values(ex))


@check("general.millisecond-timestamps", applies=_has_times)
def millisecond_timestamps(ex: Exchange) -> None:
    now_ms = int(time.time() * 1000)
    for path, value in _time_values(ex):
        problem = _ms_problem(value, now_ms)
        if problem:
            raise RuleViolation("general.millisecond-timestamps",
                                ["an integer of UNIX milliseconds between 2015-01-01 and now + 400 days",
                                 "0 (never set)"], f"{path}: {problem}")


def _schema_type(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _leaf_problem(schema: dict[str, Any], value: Any) -> str | None:
    """What is wrong with `value` as a Java value of this typed schema, or None."""
    kinds, fmt = _schema_type(schema), schema.get("format")
    if value is None:
        return None if "null" in kinds or not kinds else f"null where the schema says {'/'.join(kinds)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{value!r} is not one of {schema['enum']}"
    if "integer" in kinds and _is_int(value):
        low, high = JAVA_RANGES.get(fmt or "int64", JAVA_RANGES["int64"])
        return None if low <= value <= high else f"{value} is outside the Java {fmt or 'long'} range"
    if "number" in kinds and isinstance(value, int | float) and not isinstance(value, bool):
        return None
    if "string" in kinds and isinstance(value, str):
        if fmt == "decimal" and not BIG_DECIMAL.match(value):
            return f"{value!r} does not parse as a DECIMAL"
        return None
    if "boolean" in kinds and isinstance(value, bool):
        return None
    if ("array" in kinds and isinstance(value, list)) or ("object" in kinds and isinstance(value, dict)):
        return None
    if not kinds:
        return None  # an untyped schema judges nothing
    shown = f"DECIMAL string ({fmt})" if fmt == "decimal" else "/".join(kinds) + (f" ({fmt})" if fmt else "")
    return f"{value!r} ({type(value).__name__}) where the schema says {shown}"


class TypeWalker:
    """Walks a JSON value along its schema and yields (path, problem) for every typed field that is wrong.

    Problems are collected into a list by plain recursion (no generator per value) and a child's path is formatted
    only when it is reported or descended into: a 500-row klines body has 6,000 leaves.
    """

    def __init__(self, deref: Any) -> None:
        self.deref = deref

    def walk(self, schema: Any, value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        self._walk(schema, value, path, found)
        return iter(found)

    def _walk(self, schema: Any, value: Any, path: str, found: list[tuple[str, str]]) -> None:
        schema = self.deref(schema)
        if not isinstance(schema, dict):
            return
        for sub in schema.get("allOf", ()):
            self._walk(sub, value, path, found)
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches:
            self._union(branches, value, path, found)
            return
        problem = _leaf_problem(schema, value)
        if problem:
            found.append((path, problem))
            return
        if isinstance(value, dict):
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                sub = props.get(key, extra if isinstance(extra, dict) else None)
                if sub is not None:
                    self._child(sub, item, path, f".{key}", found)
        elif isinstance(value, list):
            prefix = schema.get("prefixItems", ())
            items = schema.get("items")
            for i, item in enumerate(value):
                sub = prefix[i] if i < len(prefix) else items
                if isinstance(sub, dict):
                    self._child(sub, item, path, f"[{i}]", found)

    def _child(self, schema: dict[str, Any], value: Any, parent: str, step: str, found: list[tuple[str, str]]) -> None:
        sub = self.deref(schema)
        if isinstance(value, dict | list) or not isinstance(sub, dict) or not _plain(sub):
            self._walk(sub, value, parent + step, found)
            return
        problem = _leaf_problem(sub, value)  # a scalar under a plain schema: the whole walk, without a frame
        if problem:
            found.append((parent + step, problem))

    def _union(self, branches: list[Any], value: Any, path: str, found: list[tuple[str, str]]) -> None:
        results: list[list[tuple[str, str]]] = []
        for branch in branches:
            results.append([])
            self._walk(branch, value, path, results[-1])
            if not results[-1]:
                return  # one branch accepts the value
        # Fewest problems; on a tie, a branch whose own type fits the value (its problems lie deeper) is closer.
        fewest: list[tuple[str, str]] = min(results, key=lambda r: (len(r), any(p == path for p, _ in r)))
        found.extend(fewest)


def _plain(schema: dict[str, Any]) -> bool:
    return "allOf" not in schema and "oneOf" not in schema and "anyOf" not in schema


def java_type_problems(ex: Exchange) -> Iterator[tuple[str, str]]:
    op = ex.operation
    assert op is not None
    status = ex.response.status
    if 200 <= status < 300:
        schema = op.raw.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        schema = schema.get("schema")
    else:
        schema = op.spec.document.get("components", {}).get("schemas", {}).get("Error")
    if schema is not None:
        yield from TypeWalker(op.spec.deref).walk(schema, ex.response.json())


@check("general.java-types", applies=lambda ex: ex.operation is not None and ex.response.is_json)
def java_types(ex: Exchange) -> None:
    for path, problem in java_type_problems(ex):
        raise RuleViolation("general.java-types",
                            ["INT/LONG as JSON integers within the Java int/long range",
                             "DECIMAL as a JSON string that parses as a BigDecimal",
                             "ENUM as one of the documented values", "BOOL as a JSON boolean"],
                            f"{path}: {problem}")
