"""Checks of the general-info format rules: JSON everywhere, ascending time order, millisecond times, Java types."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from conformance.checks import RuleViolation, check
from conformance.data import javatypes
from conformance.data.contract import Contract, Operation, Validator
from conformance.data.exceptions import HarnessError
from conformance.data.exchange import Exchange

JSON_TYPE = re.compile(r"^application/json\s*(;.*)?$", re.IGNORECASE)
MS_FLOOR = 1_420_070_400_000  # 2015-01-01T00:00:00Z: older than any fapi data
FUTURE_SLACK_MS = 400 * 86_400_000  # nextFundingTime, closeTime and deliveryDate lie ahead of now
ALWAYS_TIME_FIELDS = ("serverTime", "E", "T")
INDEXED = re.compile(r"^\$\[\*\](?:\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)|\[(?P<index>\d+)\])$")


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


@cache
def _java_types(spec: Contract) -> javatypes.JavaTypes:
    return javatypes.JavaTypes(spec.document)


@cache
def java_validator(op: Operation, success: bool) -> Validator | None:
    """The Java-type validator of the operation's 200 schema (success) or of the spec's Error schema."""
    if success:
        content = op.raw.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        schema = content.get("schema")
    else:
        schema = op.spec.document.get("components", {}).get("schemas", {}).get("Error")
    return None if schema is None else _java_types(op.spec).validator(schema)


def java_type_problems(ex: Exchange) -> list[tuple[str, str]]:
    """(path, what is wrong) of every value of the body that breaks the Java type its schema gives it."""
    assert ex.operation is not None
    validator = java_validator(ex.operation, 200 <= ex.response.status < 300)
    return [] if validator is None else javatypes.problems(validator, ex.response.json())


@check("general.java-types", applies=lambda ex: ex.operation is not None and ex.response.is_json)
def java_types(ex: Exchange) -> None:
    found = java_type_problems(ex)
    if found:
        (path, problem), more = found[0], f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        raise RuleViolation("general.java-types",
                            ["INT/LONG as JSON integers within the Java int/long range",
                             "DECIMAL as a JSON string that parses as a BigDecimal",
                             "ENUM as one of the documented values", "BOOL as a JSON boolean"],
                            f"{path}: {problem}{more}")
