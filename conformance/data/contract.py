"""The machine-readable contract: `fixtures/openapi.yaml` read into `Operation` records with validators."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs  # a dependency of schemathesis
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance import FIXTURES
from conformance.data import inputs, spec_check
from conformance.data.exceptions import ConfigError

SPEC_PATH = FIXTURES / "openapi.yaml"
SPEC_URI = "urn:fapi-conformance:openapi"
METHODS = ("get", "post", "put", "delete")


class Validator:
    """jsonschema's detailed errors, behind a fast Rust pre-check (jsonschema-rs, shipped with schemathesis).

    A body the fast validator accepts is valid (pure-Python validation of a 500-row klines body took ~100 ms); any
    other is validated again by `jsonschema`, whose errors are the report. Both read the spec as JSON Schema
    2020-12 without format assertions; tests/test_validators_agree.py holds them to the same verdicts."""

    def __init__(self, detailed: Draft202012Validator, fast: Any = None) -> None:
        self.detailed, self.fast = detailed, fast

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        if self.fast is not None and self.fast.is_valid(instance):
            return iter(())
        return self.detailed.iter_errors(instance)

    def is_valid(self, instance: Any) -> bool:
        return next(self.iter_errors(instance), None) is None


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True, eq=False)
class Operation:
    """One endpoint of the contract, with its weight and time metadata."""

    id: str
    method: str
    path: str
    raw: Mapping[str, Any] = field(repr=False)
    spec: Contract = field(repr=False)

    @property
    def signed(self) -> bool:
        return self.raw.get("x-security") == "SIGNED" or bool(self.raw.get("security"))

    @property
    def source(self) -> str:
        return str(self.raw.get("x-source", "ztdx"))

    @property
    def time_fields(self) -> tuple[str, ...]:
        return tuple(self.raw.get("x-time-fields", ()))

    @property
    def time_ordered(self) -> str | None:
        return self.raw.get("x-time-ordered")

    @property
    def trading(self) -> bool:
        """Places, changes or cancels orders or account settings: sent to trading targets only, even unsigned."""
        return bool(self.raw.get("x-trading"))

    @property
    def counts_orders(self) -> bool:
        return bool(self.raw.get("x-order-count"))

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def weight(self, params: Mapping[str, Any] | None = None) -> int:
        """Request weight for these parameters (variable weights by limit or by symbol)."""
        return request_weight(self.raw.get("x-weight", 1), params or {})

    def parameters(self) -> list[dict[str, Any]]:
        return [self.spec.deref(p) for p in self.raw.get("parameters", [])]

    @cached_property
    def success_validator(self) -> Validator | None:
        responses = self.raw.get("responses", {})
        for status in ("200", 200):
            if status in responses:
                ptr = _pointer("paths", self.path, self.method.lower(), "responses", str(status),
                               "content", "application/json", "schema")
                return self.spec.validator(ptr)
        return None


def request_weight(spec: Any, params: Mapping[str, Any]) -> int:
    if isinstance(spec, int):
        return spec
    if not isinstance(spec, dict):
        return 1
    if "with_symbol" in spec:
        return int(spec["with_symbol"] if params.get("symbol") else spec["without_symbol"])
    try:
        limit = int(params.get("limit") or spec.get("default_limit") or 500)
    except (TypeError, ValueError):  # a malformed limit may still be charged: assume the heaviest weight
        return max((int(r["weight"]) for r in spec.get("table", [])), default=1)
    for row in spec.get("table", []):
        if "limit" in row and limit in row["limit"]:
            return int(row["weight"])
        if "range" in row and _in_range(limit, row["range"]):
            return int(row["weight"])
    return max((int(r["weight"]) for r in spec.get("table", [])), default=1)


def _in_range(value: int, text: str) -> bool:
    if text.startswith(">"):
        return value > int(text[1:])
    low, high = text[1:-1].split(",")
    lower_ok = value >= int(low) if text[0] == "[" else value > int(low)
    upper_ok = value <= int(high) if text[-1] == "]" else value < int(high)
    return lower_ok and upper_ok


class Contract:
    """The whole spec: operations by ID and by (method, path), plus a $ref-aware validator factory."""

    def __init__(self, document: Mapping[str, Any], path: Path) -> None:
        self.document = document
        self.path = path
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource(SPEC_URI, resource)
        self.operations: dict[str, Operation] = {}
        for op_path, item in (document.get("paths") or {}).items():
            for method in METHODS:
                if method in item:
                    raw = item[method]
                    op = Operation(raw["operationId"], method.upper(), op_path, raw, self)
                    self.operations[op.id] = op
        self._by_key = {op.key: op for op in self.operations.values()}
        self._resolved: dict[str, Any] = {}  # $ref -> its target in the (never modified) document

    def endpoints(self, extension: str) -> frozenset[tuple[str, str]]:
        """(method, path) of every operation the spec marks with `extension` (x-throttled, x-throttle-exempt)."""
        return frozenset((op.method, op.path) for op in self.operations.values() if op.raw.get(extension))

    def find(self, method: str, path: str) -> Operation | None:
        return self._by_key.get(f"{method.upper()} {path}")

    def validator(self, pointer: str) -> Validator:
        detailed = Draft202012Validator({"$ref": f"{SPEC_URI}#/{pointer}"}, registry=self.registry)
        return Validator(detailed, self._fast_validator(pointer))

    def _fast_validator(self, pointer: str) -> Any:
        return jsonschema_rs.Draft202012Validator({"$ref": f"{SPEC_URI}#/{pointer}"}, registry=self._fast_registry,
                                                  validate_formats=False)

    @cached_property
    def _fast_registry(self) -> Any:
        """The document as one jsonschema-rs resource, converted once: a validator with the whole document as its
        root converted all of it again for each pointer (~8 ms each in a run, 13 in the schema module's)."""
        return jsonschema_rs.Registry([(SPEC_URI, dict(self.document))], draft=jsonschema_rs.Draft202012)

    def deref(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            target = self._resolved.get(ref)
            if target is None:
                target = self.document
                for part in ref.lstrip("#/").split("/"):
                    target = target[part.replace("~1", "/").replace("~0", "~")]
                self._resolved[ref] = target
            node = target
        return node

    @cached_property
    def error_validator(self) -> Validator:
        return self.validator("components/schemas/Error")


def load(path: Path = SPEC_PATH) -> Contract:
    """Read and check the spec (OpenAPI 3.1, $refs, unique operationIds): every problem is one located line."""
    document, text = inputs.parse(path, "contract spec")
    spec_check.check(path, text, document)
    try:
        return Contract(document, path)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{inputs.shown(path)}: malformed operation ({exc}) — every operation needs an operationId"
                          ) from None


@cache
def default() -> Contract:
    return load(SPEC_PATH)
