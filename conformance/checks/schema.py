"""Per-operation response schema checks (`schema.<operationId>`): 2XX bodies against the operation's schema.

Error bodies are judged by errors.body-shape (the spec's Error schema says the same: integer code, string msg), so one
malformed error is one failure, and a schema rule is judged only where a 2XX body was seen."""

from __future__ import annotations

from collections.abc import Callable

from jsonschema.exceptions import best_match

from conformance.checks import RuleViolation, check
from conformance.data import contract
from conformance.data.exchange import Exchange


def _validator_for(ex: Exchange) -> tuple[contract.Validator | None, str]:
    op = ex.operation
    assert op is not None
    if 200 <= ex.response.status < 300:
        return op.success_validator, f"the {op.id} {ex.response.status} response schema"
    if ex.response.status >= 400:
        return op.spec.error_validator, "the Error schema {code: integer, msg: string}"
    return None, ""


def response_schema(ex: Exchange) -> None:
    """The body validates against the operation's success schema (2XX) or the Error schema (4XX/5XX)."""
    validator, described = _validator_for(ex)
    if validator is None:
        return
    errors = list(validator.iter_errors(ex.response.json()))
    if not errors:
        return
    first = best_match(errors)
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    raise RuleViolation(f"schema.{ex.operation_id}", [f"a body valid against {described} (fixtures/openapi.yaml)"],
                        f"HTTP {ex.response.status}, at {first.json_path}: {first.message[:300]}{more}")


def _applies_to(operation_id: str) -> Callable[[Exchange], bool]:
    def applies(ex: Exchange) -> bool:
        return ex.operation_id == operation_id and 200 <= ex.response.status < 300 and ex.response.is_json

    return applies


# One rule per operation of the spec: an operation without its `schema.<operationId>` rule fails at import.
# A missing spec registers nothing here; the contract loader reports it to whoever needs the spec.
for _operation_id in contract.default().operations if contract.SPEC_PATH.exists() else ():
    check(f"schema.{_operation_id}", applies=_applies_to(_operation_id))(response_schema)
