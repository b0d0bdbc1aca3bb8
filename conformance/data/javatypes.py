"""The Java-type view of the spec: its schemas cut down to types, Java formats and enums, as fast + detailed validators.

`int32`, `int64` and `decimal` are JSON-Schema formats here: python `jsonschema` checks them with a FormatChecker (its
errors are the report), jsonschema-rs gives the fast yes/no verdict. jsonschema-rs calls custom formats on strings only,
so the integer formats reach it as a custom keyword (`x-java-integer`) that the projection writes beside them; the
detailed validator ignores that keyword. tests/test_validators_agree.py holds the two to the same verdicts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, best_match

from conformance.data.contract import Validator

RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# Java's BigDecimal(String) grammar: no whitespace, no NaN/Infinity, an optional exponent.
BIG_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
JAVA_FORMATS = ("int32", "int64", "decimal")
INTEGER_KEYWORD = "x-java-integer"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def in_range(value: Any, fmt: str) -> bool:
    """An int within the Java range of `fmt`; any other value is the type's business."""
    low, high = RANGES[fmt]
    return not _is_int(value) or low <= value <= high


def is_decimal(value: Any) -> bool:
    return not isinstance(value, str) or BIG_DECIMAL.fullmatch(value) is not None


FORMATS = FormatChecker(formats=())
for _fmt in RANGES:
    FORMATS.checks(_fmt)(lambda value, fmt=_fmt: in_range(value, fmt))
FORMATS.checks("decimal")(is_decimal)

# A JSON number with a fraction part, even 1.0, is no Java int or long (JSON Schema would call 1.0 an integer).
_TYPES = Draft202012Validator.TYPE_CHECKER.redefine("integer", lambda _checker, value: _is_int(value))
JavaTypesValidator = validators.extend(Draft202012Validator, type_checker=_TYPES)


class _JavaInteger:
    """jsonschema-rs keyword `x-java-integer: <format>`: a Python int in that Java range (not a float such as 1.0)."""

    def __init__(self, _parent: Mapping[str, Any], fmt: str, _path: Any) -> None:
        self.fmt = fmt

    def validate(self, instance: Any) -> None:
        if isinstance(instance, float) or not in_range(instance, self.fmt):
            raise ValueError(f"{instance!r} is not a Java {self.fmt}")


def _kinds(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def project(node: Any) -> Any:
    """`node` with only what says a Java type: type, Java format, enum, and the subschemas that reach them.

    Required fields, bounds, patterns, consts and if/then are the schema rule's (schema.<operationId>) business, and
    an integer without a format is a long. Unions become anyOf: with their other constraints gone, branches overlap."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: project(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = project(value)
        elif key in ("allOf", "prefixItems"):
            out[key] = [project(sub) for sub in value]
        elif key in ("anyOf", "oneOf"):
            out["anyOf"] = [project(sub) for sub in value]
        elif key in ("type", "enum", "$ref") or (key == "format" and value in JAVA_FORMATS):
            out[key] = value
    if "integer" in _kinds(out):
        out.setdefault("format", "int64")
        out[INTEGER_KEYWORD] = out["format"] if out["format"] in RANGES else "int64"
    return out


# The DECIMAL grammar as a pattern the fast validator matches in Rust (a Python format callback per string was a
# tenth of the schema module's judging). ASCII digits only: where it is stricter than BIG_DECIMAL (other Unicode
# digits) the fast verdict is "invalid", and the detailed validator, which decides then, still accepts the value.
DECIMAL_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def _natively(node: Any) -> Any:
    """A projection for jsonschema-rs: each `format: decimal` as DECIMAL_PATTERN (both apply to strings only)."""
    if isinstance(node, dict):
        out = {key: _natively(value) for key, value in node.items()}
        if out.get("format") == "decimal":
            del out["format"]
            out["pattern"] = DECIMAL_PATTERN
        return out
    if isinstance(node, list):
        return [_natively(item) for item in node]
    return node


class JavaTypes:
    """Java-type validators of one spec document (its components/schemas projected once, for every $ref)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        schemas = document.get("components", {}).get("schemas", {})
        self.components = {"schemas": {name: project(sub) for name, sub in schemas.items()}}
        self.fast_components = _natively(self.components)

    def validator(self, schema: Any) -> Validator:
        root = {**project(schema), "$schema": DRAFT, "components": self.components}
        detailed = JavaTypesValidator(root, format_checker=FORMATS)
        fast_root = {**_natively(project(schema)), "$schema": DRAFT, "components": self.fast_components}
        fast = jsonschema_rs.Draft202012Validator(fast_root, keywords={INTEGER_KEYWORD: _JavaInteger})
        return Validator(detailed, fast)


def _branch(error: ValidationError) -> list[ValidationError]:
    """The errors of the union branch closest to the value (jsonschema's best_match; the first on a tie)."""
    best = best_match([error])
    if best is None or best is error:
        best = error.context[0]
    while best.parent is not error:
        best = best.parent
    return [e for e in error.context if e.relative_schema_path[0] == best.relative_schema_path[0]]


def _flat(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    for error in errors:
        if error.validator == "anyOf" and error.context:
            yield from _flat(_branch(error))
        else:
            yield error


def _described(error: ValidationError) -> str:
    value, kinds, fmt = error.instance, _kinds(error.schema), error.schema.get("format")
    if error.validator == "enum":
        return f"{value!r} is not one of {error.validator_value}"
    if error.validator == "format":
        if fmt == "decimal":
            return f"{value!r} does not parse as a DECIMAL"
        return f"{value} is outside the Java {fmt} range"
    if value is None:
        return f"null where the schema says {'/'.join(kinds)}"
    shown = "DECIMAL string (decimal)" if fmt == "decimal" else "/".join(kinds) + (f" ({fmt})" if fmt else "")
    return f"{value!r} ({type(value).__name__}) where the schema says {shown}"


def problems(validator: Validator, value: Any) -> list[tuple[str, str]]:
    """(path, what is wrong) of every wrongly typed value, one per path, in the validator's order."""
    found: dict[str, str] = {}
    for error in _flat(validator.iter_errors(value)):
        found.setdefault(error.json_path, _described(error))
    return list(found.items())
