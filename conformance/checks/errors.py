"""Checks of the error rules: the {code, msg} body, the documented 503 messages, and where -1008 may appear."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from conformance import FIXTURES
from conformance.checks import RuleViolation, check, judged, scenario
from conformance.data import catalogue, contract
from conformance.data.exceptions import HarnessError, read_yaml
from conformance.data.exchange import Exchange

BODY_SHAPE = "errors.body-shape"
UNKNOWN_ERROR = "errors.unknown-error-retry"
DOCUMENTED_503 = "errors.503-documented-message"
THROTTLED = "errors.503-throttled"
EXEMPTION = "errors.503-throttle-exemption"
# The 503 scenarios of general-info; each rule's `messages` holds its exact literals.
RULES_503 = ("errors.503-unknown-status", "errors.503-service-unavailable", "errors.503-internal-error", THROTTLED)
THROTTLE_CODE = -1008
CANCEL_PATHS = frozenset({"/fapi/v1/order", "/fapi/v1/batchOrders", "/fapi/v1/allOpenOrders"})
SHAPE = 'a JSON object {"code": <integer>, "msg": <string>}'


# The spec carries both lists (fixtures/openapi.yaml, with the doc's words): the endpoints -1008 applies to, and
# those the reduce-only exemption covers (order/test is throttled but not covered). Read on first use, after the
# plugin has validated the spec.
@cache
def throttled_endpoints() -> frozenset[tuple[str, str]]:
    return contract.default().endpoints("x-throttled")


@cache
def exemptable_endpoints() -> frozenset[tuple[str, str]]:
    return contract.default().endpoints("x-throttle-exempt")


def messages(rule_id: str) -> tuple[str, ...]:
    """The contract literals of a rule: they live in the catalogue only."""
    return catalogue.default()[rule_id].messages


def message_of(ex: Exchange) -> str | None:
    error = ex.response.error
    return error.msg if error else None


def code_of(ex: Exchange) -> int | None:
    error = ex.response.error
    return error.code if error else None


def describe(ex: Exchange) -> str:
    return f"HTTP {ex.response.status} {ex.response.text[:200]!r} on {ex.request.method} {ex.request.path}"


def shape_problem(ex: Exchange) -> str | None:
    """Why the body is not the documented error shape, or None when it is."""
    if not ex.response.is_json:
        return "the body is not JSON"
    body = ex.response.json()
    if not isinstance(body, dict):
        return f"the body is a JSON {type(body).__name__}, not an object"
    problems = []
    code = body.get("code")
    if "code" not in body:
        problems.append("no 'code'")
    elif isinstance(code, bool) or not isinstance(code, int):
        problems.append(f"'code' is {json.dumps(code)} (not an integer)")
    if "msg" not in body:
        problems.append("no 'msg'" + (" (found 'message')" if "message" in body else ""))
    elif not isinstance(body["msg"], str):
        problems.append(f"'msg' is {json.dumps(body['msg'])} (not a string)")
    return "; ".join(problems) or None


def _is_error(ex: Exchange) -> bool:
    return ex.response.status >= 400  # a 200 {"code": 200, "msg": "success"} is a success body, not an error


@check(BODY_SHAPE, applies=_is_error)
def error_body_shape(ex: Exchange) -> None:
    problem = shape_problem(ex)
    if problem:
        raise RuleViolation(BODY_SHAPE, SHAPE, f"{describe(ex)}: {problem}")


@check(DOCUMENTED_503, applies=lambda ex: ex.response.status == 503)
def documented_503_message(ex: Exchange) -> None:
    accepted = [m for rule_id in RULES_503 for m in messages(rule_id)]
    if message_of(ex) not in accepted:
        raise RuleViolation(DOCUMENTED_503, [f"msg {m!r}" for m in accepted], describe(ex))


def _carries(rule_id: str) -> Callable[[Exchange], bool]:
    def applies(ex: Exchange) -> bool:
        return message_of(ex) in messages(rule_id)

    return applies


def _answered_with_503(ex: Exchange) -> None:
    rule_id = next(r for r in RULES_503[:3] if message_of(ex) in messages(r))
    if ex.response.status != 503:
        raise RuleViolation(rule_id, f"HTTP 503 with msg {message_of(ex)!r}", describe(ex))


for _rule_id in RULES_503[:3]:
    check(_rule_id, applies=_carries(_rule_id))(_answered_with_503)


@check(UNKNOWN_ERROR, applies=_carries(UNKNOWN_ERROR))
def unknown_error_is_server_side(ex: Exchange) -> None:
    """The message asks for a later retry, which only makes sense for a 5XX (a 4XX is the caller's fault)."""
    if not 500 <= ex.response.status <= 599:
        raise RuleViolation(UNKNOWN_ERROR, f"HTTP 5XX with msg {messages(UNKNOWN_ERROR)[0]!r}", describe(ex))


def _throttle_answer(ex: Exchange) -> bool:
    return code_of(ex) == THROTTLE_CODE or message_of(ex) in messages(THROTTLED)


def _throttle_not_exempt(ex: Exchange) -> bool:
    """-1008 to an exempt request (a cancel, a reduce-only order) is errors.503-throttle-exemption's to judge."""
    return _throttle_answer(ex) and exempt_request(ex) is None


@check(THROTTLED, applies=_throttle_not_exempt)
def throttled_only_on_order_endpoints(ex: Exchange) -> None:
    expected = [f"HTTP 503, code {THROTTLE_CODE}, msg {m!r}, on " +
                " | ".join(f"{m_} {p}" for m_, p in sorted(throttled_endpoints())) for m in messages(THROTTLED)]
    endpoint = (ex.request.method, ex.request.path)
    if (ex.response.status != 503 or code_of(ex) != THROTTLE_CODE or message_of(ex) not in messages(THROTTLED)
            or endpoint not in throttled_endpoints()):
        raise RuleViolation(THROTTLED, expected, f"code {code_of(ex)}: {describe(ex)}")


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def exempt_order(params: dict[str, Any]) -> bool:
    """closePosition = true, or positionSide = BOTH (the default) with reduceOnly = true, or LONG+SELL, or SHORT+BUY."""
    side = str(params.get("side", "")).upper()
    position_side = str(params.get("positionSide") or "BOTH").upper()
    if _true(params.get("closePosition")) or (position_side == "BOTH" and _true(params.get("reduceOnly"))):
        return True
    return (position_side, side) in (("LONG", "SELL"), ("SHORT", "BUY"))


def exempt_request(ex: Exchange) -> str | None:
    """Why the request is exempt from -1008 (a cancel, or an order meeting the criteria), or None."""
    method, path = ex.request.method, ex.request.path
    if method == "DELETE" and path in CANCEL_PATHS:
        return "a cancel request"
    if (method, path) not in exemptable_endpoints():
        return None
    params = ex.request.params()
    if path == "/fapi/v1/batchOrders":
        try:
            items = json.loads(params.get("batchOrders", ""))
        except ValueError:
            return None
        ok = isinstance(items, list) and bool(items) and all(isinstance(i, dict) and exempt_order(i) for i in items)
        return "a batch whose every order is reduce-only/close-position" if ok else None
    return "a reduce-only/close-position order" if exempt_order(params) else None


@check(EXEMPTION, applies=lambda ex: exempt_request(ex) is not None)
def exempt_request_not_throttled(ex: Exchange) -> None:
    if code_of(ex) == THROTTLE_CODE or message_of(ex) in messages(THROTTLED):
        raise RuleViolation(EXEMPTION, f"any answer but -1008 to {exempt_request(ex)}", describe(ex))


@scenario(*RULES_503, UNKNOWN_ERROR)
def documented_answer(rule_id: str, ex: Exchange) -> None:
    """Scenario check: the target was made to fail as `rule_id` documents — the status and exactly its message."""
    server_side = rule_id == UNKNOWN_ERROR  # "Request occur unknown error." names no status: any 5XX
    status = "HTTP 5XX" if server_side else "HTTP 503"
    code = f" and code {THROTTLE_CODE}" if rule_id == THROTTLED else ""
    judged(rule_id, ex)
    expected = [f"{status} with msg {m!r}{code}" for m in messages(rule_id)]
    status_ok = 500 <= ex.response.status <= 599 if server_side else ex.response.status == 503
    code_ok = rule_id != THROTTLED or code_of(ex) == THROTTLE_CODE
    if not status_ok or message_of(ex) not in messages(rule_id) or not code_ok:
        raise RuleViolation(rule_id, expected, f"code {code_of(ex)}: {describe(ex)}", exchange=ex)


DOCUMENTED_CODE = "errors.documented-code"
CODES_PATH = FIXTURES / "error-codes.yaml"


@cache
def codes() -> dict[str, dict[str, Any]]:
    """The cause -> documented code table: data, written once (fixtures/error-codes.yaml)."""
    data = read_yaml(CODES_PATH, "error-code table")
    causes = data.get("causes") if isinstance(data, dict) else None
    if not isinstance(causes, dict) or not all(isinstance(v, dict) and v.get("codes") for v in causes.values()):
        raise HarnessError(f"{CODES_PATH.name} must map each cause to {{codes: [...], name: ...}}")
    return causes


def _has_code(ex: Exchange) -> bool:
    return ex.response.status >= 400 and code_of(ex) is not None


@check(DOCUMENTED_CODE, applies=_has_code)
def error_code_is_negative(ex: Exchange) -> None:
    code = code_of(ex)
    if code is not None and code >= 0:
        raise RuleViolation(DOCUMENTED_CODE, ["a negative integer error code"], f"code {code}: {describe(ex)}")


@scenario(DOCUMENTED_CODE)
def documented_code(cause: str, ex: Exchange) -> None:
    """Scenario check: the error the suite provoked for `cause` answers the code the table documents for it."""
    entry = codes().get(cause)
    if entry is None:
        raise HarnessError(f"unknown error cause {cause!r}: add it to {CODES_PATH.name}")
    judged(DOCUMENTED_CODE, ex)
    wanted = [int(c) for c in entry["codes"]]
    if code_of(ex) not in wanted:
        listed = " or ".join(str(c) for c in wanted)
        raise RuleViolation(DOCUMENTED_CODE, [f"code {listed} ({entry.get('name', '')}) for {cause}"],
                            f"code {code_of(ex)}: {describe(ex)}", exchange=ex)


@scenario(UNKNOWN_ERROR)
def succeeds_when_retried(ex: Exchange, how: str) -> None:
    """Scenario check: after "Request occur unknown error." the same request succeeds when retried later."""
    judged(UNKNOWN_ERROR, ex)
    if ex.response.status != 200:
        raise RuleViolation(UNKNOWN_ERROR, f"HTTP 200 {how}", describe(ex), exchange=ex)


@scenario("errors.503-unknown-status")
def unknown_outcome_confirmed(executed: bool, found: bool | None, finding: str, answer: Exchange) -> None:
    """Scenario check: after an unknown-status 503 the order exists exactly when the target says it executed."""
    judged("errors.503-unknown-status", answer)
    if found is not executed:
        raise RuleViolation("errors.503-unknown-status", "found" if executed else "not found (-2013)",
                            f"after a 503 the target says it {'did' if executed else 'did not'} execute: {finding}",
                            exchange=answer)


@scenario(THROTTLED)
def not_throttled(ex: Exchange) -> None:
    """Scenario check: in throttle mode, an endpoint the doc does not list for -1008 answers anything but -1008."""
    judged(THROTTLED, ex)
    if _throttle_answer(ex) and (ex.request.method, ex.request.path) not in throttled_endpoints():
        raise RuleViolation(THROTTLED, [f"any answer but -1008 on {ex.request.method} {ex.request.path}, which is "
                                        "not an order endpoint"], f"code {code_of(ex)}: {describe(ex)}", exchange=ex)
