"""What fixtures read from the target, validated: an unusable value leaves the tests that need it "not tested",
naming the rule that judges the bad value itself (that rule's own test fails it, once).

Reads are tolerant where the value is unambiguous (a clock or an orderId as a digit string, a price as a JSON
number): the wrong JSON type is general.java-types' failure, and the tests that only need the value still run."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from conformance.data.exceptions import NotTested
from conformance.data.exchange import Exchange


def _where(ex: Exchange) -> str:
    return f"{ex.request.method} {ex.request.path}"


def body(ex: Exchange, kind: type, what: str) -> Any:
    """The JSON body of a successful answer, of the JSON type `kind` (dict or list)."""
    schema_rule = f"schema.{ex.operation_id}" if ex.operation_id else None
    if not 200 <= ex.response.status < 300:
        raise NotTested(f"precondition: {what} — {_where(ex)} answered HTTP {ex.response.status} "
                        f"{ex.response.text[:120]!r}", rule_id=schema_rule)
    if not ex.response.is_json:
        raise NotTested(f"precondition: {what} — {_where(ex)} answered a body that is not JSON "
                        f"{ex.response.text[:80]!r}", rule_id="general.json-responses")
    value = ex.response.json()
    if not isinstance(value, kind):
        raise NotTested(f"precondition: {what} — {_where(ex)} answered a JSON {type(value).__name__}, not "
                        f"{'an object' if kind is dict else 'an array'}", rule_id=schema_rule)
    return value


def field(ex: Exchange, obj: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    """`obj[name]`, present and of the JSON type `kind` (a wrong type is general.java-types' to judge)."""
    if name not in obj:
        raise NotTested(f"precondition: {what} — {_where(ex)} has no {name!r}",
                        rule_id=f"schema.{ex.operation_id}" if ex.operation_id else None)
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise NotTested(f"precondition: {what} — {_where(ex)} {name} is {value!r} ({type(value).__name__})",
                        rule_id="general.java-types")
    return value


def integer(ex: Exchange, obj: dict[str, Any], name: str, what: str) -> int:
    """An integer field; a digit string is read as the integer it spells."""
    value = field(ex, obj, name, (int, str), what)
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise NotTested(f"precondition: {what} — {_where(ex)} {name} is {value!r}, not an integer",
                            rule_id="general.java-types")
        return int(value)
    return int(value)


def server_time(ex: Exchange) -> int:
    """serverTime of GET /fapi/v1/time, an integer of milliseconds."""
    what = "the server's clock is needed to sign with a valid timestamp"
    value = integer(ex, body(ex, dict, what), "serverTime", what)
    if value < 1_000_000_000_000:
        raise NotTested(f"precondition: {what} — serverTime {value} is not in milliseconds",
                        rule_id="general.millisecond-timestamps")
    return int(value)


def decimal(ex: Exchange, obj: dict[str, Any], name: str, what: str) -> Decimal:
    """A DECIMAL field (a JSON string — or, read tolerantly, a number — that parses as a positive number)."""
    text = str(field(ex, obj, name, (str, int, float), what))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise NotTested(f"precondition: {what} — {_where(ex)} {name} {text!r} is not a decimal",
                        rule_id="general.java-types") from None
    if not value.is_finite() or value <= 0:
        raise NotTested(f"precondition: {what} — {_where(ex)} {name} is {text!r}", rule_id="general.java-types")
    return value


def symbols(ex: Exchange) -> dict[str, dict[str, Any]]:
    """exchangeInfo's symbols by name; entries without a string `symbol` are left out."""
    what = "exchangeInfo's symbols and filters are needed to build valid orders"
    listed = field(ex, body(ex, dict, what), "symbols", list, what)
    return {s["symbol"]: s for s in listed if isinstance(s, dict) and isinstance(s.get("symbol"), str)}


def symbol_info(ex: Exchange, found: dict[str, dict[str, Any]], symbol: str) -> dict[str, Any]:
    if symbol not in found:
        raise NotTested(f"precondition: exchangeInfo does not list {symbol}, which the order tests trade",
                        rule_id=f"schema.{ex.operation_id}" if ex.operation_id else None)
    return found[symbol]


def accepted(ex: Exchange, what: str, rule_id: str | None = None) -> Exchange:
    """A reference or set-up request the test relies on, accepted (2XX); a refusal leaves the test not tested."""
    if not 200 <= ex.response.status < 300:
        raise NotTested(f"precondition: {what} — {_where(ex)} was refused: HTTP {ex.response.status} "
                        f"{ex.response.text[:160]!r}",
                        rule_id=rule_id or (f"schema.{ex.operation_id}" if ex.operation_id else None))
    return ex


def order_id(ex: Exchange, what: str = "a resting order is needed") -> int:
    """The orderId of an accepted order."""
    accepted(ex, what)
    return integer(ex, body(ex, dict, what), "orderId", what)


def listen_key(ex: Exchange, what: str = "a listenKey is needed for the private stream") -> str:
    """The listenKey of POST /fapi/v1/listenKey."""
    key: str = field(ex, body(ex, dict, what), "listenKey", str, what)
    return key
