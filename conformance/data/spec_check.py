"""The spec checked before anything uses it: OpenAPI 3.1 (openapi-spec-validator), `$ref`s that resolve, unique
`operationId`s — each problem one located line `FILE:LINE:COL: what is wrong — what to do`."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance.data import inputs
from conformance.data.exceptions import ConfigError

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_UNEXPECTED = re.compile(r"\('(.+?)' (?:was|were) unexpected\)")


def _refs(node: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield (*where, "$ref"), ref
        for key, value in node.items():
            yield from _refs(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, (*where, index))


def _resolves(document: Mapping[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False  # the spec is one file: every reference points inside it
    target: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            return False
    return True


def _fail(path: Path, text: str, where: Any, what: str, todo: str) -> ConfigError:
    return ConfigError(inputs.located(path, *inputs.position(text, list(where)), what, todo))


def check_refs(path: Path, text: str, document: Mapping[str, Any]) -> None:
    for where, ref in _refs(document):
        if not _resolves(document, ref):
            raise _fail(path, text, where, f"$ref {ref!r} points to nothing",
                        "define it (e.g. under components/schemas) or fix the reference")


def check_operation_ids(path: Path, text: str, document: Mapping[str, Any]) -> None:
    seen: dict[str, str] = {}
    for op_path, item in (document.get("paths") or {}).items():
        for method in METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if not isinstance(operation, dict):
                continue
            where = ("paths", op_path, method)
            op_id = operation.get("operationId")
            if not isinstance(op_id, str) or not op_id:
                raise _fail(path, text, where, f"{method.upper()} {op_path} has no operationId",
                            "add a unique operationId (rules schema.<operationId> depend on it)")
            if op_id in seen:
                raise _fail(path, text, (*where, "operationId"),
                            f"duplicate operationId {op_id!r} (also {seen[op_id]})",
                            "give each operation its own operationId")
            seen[op_id] = f"{method.upper()} {op_path}"


def _stamp(text: str) -> Path | None:
    """Where a successful validation of exactly this text (by this validator version) is remembered: the
    validator takes ~0.7 s per process (import + run), and every pytest process loads the spec."""
    try:
        version = metadata.version("openapi-spec-validator")
    except metadata.PackageNotFoundError:
        return None
    digest = hashlib.sha256(f"{version}\n{text}".encode()).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fapi-conformance"
    return cache / f"openapi-valid-{digest[:32]}"


def _remember(stamp: Path | None) -> None:
    if stamp is not None:
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
        except OSError:
            pass  # no writable cache: validate again next time


def _at(node: Any, path: list[Any]) -> Any:
    for step in path:
        found = (isinstance(node, dict) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node))
        if not found:
            raise LookupError(step)
        node = node[step]
    return node


def _anchor(document: Any, path: list[Any], instance: Any) -> list[Any]:
    """The path from the document root: the validator checks each schema on its own, so a schema error's path is
    relative to that schema; the first node below which that path holds the offending value is where it is."""
    try:
        if _at(document, path) == instance:
            return path
    except LookupError:
        pass
    stack: list[tuple[list[Any], Any]] = [([], document)]
    while stack:
        prefix, node = stack.pop(0)
        try:
            if path and _at(node, path) == instance:
                return prefix + path
        except LookupError:
            pass
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        stack[:0] = [([*prefix, key], value) for key, value in items]
    return path


def check_openapi(path: Path, text: str, document: Mapping[str, Any]) -> None:
    stamp = _stamp(text)
    if stamp is not None and stamp.exists():
        return
    from openapi_spec_validator import OpenAPIV31SpecValidator  # imported only when the validation runs

    try:
        error = next(iter(OpenAPIV31SpecValidator(document).iter_errors()), None)
    except Exception as exc:  # the validator itself gave up on the document: still one line, never a traceback
        raise _fail(path, text, (), f"not a valid OpenAPI 3.1 document ({type(exc).__name__}: {exc})"[:300],
                    "fix the spec (openapi-spec-validator)") from None
    if error is None:
        _remember(stamp)
        return
    where = _anchor(document, list(getattr(error, "absolute_path", []) or []), getattr(error, "instance", None))
    message = str(getattr(error, "message", error)).splitlines()[0]
    unknown = _UNEXPECTED.search(message)
    if unknown:
        where.append(unknown.group(1))
        what, todo = f"unknown key {unknown.group(1)!r}", "remove it, or prefix an extension with x-"
    else:
        what, todo = message[:200], "fix it to match OpenAPI 3.1 (openapi-spec-validator)"
    name = " › ".join(str(p) for p in where) or "the document"
    raise _fail(path, text, where, f"{name}: {what}" if where and not unknown else what, todo)


def check(path: Path, text: str, document: Any) -> None:
    """Every check, cheapest first; raises the first problem as a located ConfigError."""
    if not isinstance(document, dict) or "paths" not in document:
        raise ConfigError(inputs.located(path, 1, 1, "not an OpenAPI document (no 'paths')",
                                         "restore fixtures/openapi.yaml (git checkout)"))
    check_refs(path, text, document)
    check_operation_ids(path, text, document)
    check_openapi(path, text, document)


def check_rule_operations(rules: Any, spec: Any) -> None:
    """A rule naming an operation (`operation:` in the catalogue) names one of the spec: else it would stay
    "not tested" without a word."""
    for index, rule in enumerate(rules.values()):
        if rule.operation and rule.operation not in spec.operations:
            raise inputs.fail_at(rules.path, ["rules", index, "operation"],
                                 f"rule {rule.id} names operation {rule.operation!r}, which {spec.path.name} lacks",
                                 "fix the operationId, or the spec")
