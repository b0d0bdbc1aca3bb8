"""What makes a generated positive request valid on this target: its symbols, ordered windows, bounds, real orders."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from conformance.data.contract import Contract, Operation
from conformance.data.exceptions import TargetUnavailable
from conformance.harness.client import Client

# A request schema marked with this extension takes its values from the target (fixtures/openapi.yaml).
VALUES_FROM = "x-values-from"
SYMBOLS_SOURCE = "exchangeInfo.symbols[].symbol"
ORDERS_SOURCE = "run.orders[]."
WINDOW = ("startTime", "endTime")
# Symbols a run generates for: the target's first ones. A real exchange lists hundreds; every listed value is a
# coverage case and a symbol the module's cleanup cancels on, so the footprint stays that of the bundled mock.
MAX_SYMBOLS = 3


@dataclass(frozen=True)
class Symbols:
    """The symbols the target lists in exchangeInfo (with each one's integer fields), or why they are unknown."""

    names: tuple[str, ...]
    reason: str = ""
    fields: dict[str, dict[str, int]] = field(default_factory=dict)  # symbol -> e.g. {"maxLeverage": 100}


def listed_symbols(body: Any) -> tuple[str, ...]:
    """`symbols[].symbol` of an exchangeInfo body, trading ones only where a status is given (in the target's order)."""
    items = body.get("symbols") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return ()
    named = [s for s in items if isinstance(s, dict) and isinstance(s.get("symbol"), str) and s["symbol"]]
    trading = [s["symbol"] for s in named if s.get("status", "TRADING") == "TRADING"]
    return tuple(dict.fromkeys(trading or [s["symbol"] for s in named]))


def spec_symbols(spec: Contract) -> tuple[str, ...]:
    """The symbols the spec's own examples use (what unconstrained examples send)."""
    schema = spec.document.get("components", {}).get("parameters", {}).get("symbol", {}).get("schema", {})
    return tuple(str(s) for s in schema.get("examples", []))


def symbol_fields(body: Any) -> dict[str, dict[str, int]]:
    """symbol -> its integer fields (maxLeverage, precisions) in an exchangeInfo body."""
    items = body.get("symbols") if isinstance(body, dict) else None
    out: dict[str, dict[str, int]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("symbol"), str):
            out[item["symbol"]] = {k: v for k, v in item.items() if isinstance(v, int) and not isinstance(v, bool)}
    return out


def read_symbols(client: Client) -> Symbols:
    """The target's symbols from GET /fapi/v1/exchangeInfo; an unusable answer gives no symbols and the reason."""
    try:
        exchange = client.call("GET", "/fapi/v1/exchangeInfo")
    except TargetUnavailable as exc:
        return Symbols((), f"exchangeInfo unavailable: {exc.reason}")
    body = exchange.response.json() if exchange.response.is_json else None
    names = listed_symbols(body)[:MAX_SYMBOLS] if exchange.response.status == 200 else ()
    if names:
        return Symbols(names, fields=symbol_fields(body))
    return Symbols((), f"exchangeInfo lists no symbol (HTTP {exchange.response.status}: "
                       f"{exchange.response.text[:120]!r})")


def constrain(document: dict[str, Any], symbols: tuple[str, ...]) -> dict[str, Any]:
    """A copy of the spec whose marked request schemas enumerate the target's symbols (unchanged without symbols)."""
    if not symbols:
        return document
    out = copy.deepcopy(document)
    stack: list[Any] = [out]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get(VALUES_FROM) == SYMBOLS_SOURCE:
                node["enum"] = list(symbols)
                node["examples"] = list(symbols[:3])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def takes_target_values(op: Operation) -> bool:
    """Whether a request of `op` carries a symbol marked `x-values-from: exchangeInfo...`, through every $ref."""
    stack: list[Any] = list(op.raw.get("parameters", []))
    seen: set[int] = set()
    while stack:
        node = op.spec.deref(stack.pop())
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if node.get(VALUES_FROM) == SYMBOLS_SOURCE:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None  # the coverage phase sends strings


def ordered_window(values: dict[str, Any], max_ms: int | None = None) -> bool:
    """Repair a startTime/endTime pair in place: start <= end, and no wider than the operation's documented window.

    JSON Schema cannot relate two parameters, so the spec lets a positive case send start > end, which the contract
    answers with -1023; the repaired case asks the same question the right way round (the later bound kept when
    the window is too wide). True when something changed; each value keeps its type (int or digit string).
    """
    start, end = (_as_int(values.get(name)) for name in WINDOW)
    if start is None or end is None:
        return False
    first, last = min(start, end), max(start, end)
    if max_ms is not None and last - first > max_ms:
        first = last - max_ms
    if (first, last) == (start, end):
        return False
    kind = type(values["startTime"])
    values["startTime"], values["endTime"] = kind(first), type(values["endTime"])(last)
    return True


def bounded_by_symbol(values: dict[str, Any], op: Operation, symbols: Symbols) -> bool:
    """Hold each `x-maximum-from: exchangeInfo.symbols[].<field>` parameter to the request symbol's own field.

    The bound differs per symbol (leverage within [1, maxLeverage], else -4028), which a schema cannot say; the value
    keeps its type. True when something changed.
    """
    changed = False
    for param in op.parameters():
        source, name = str(param.get("x-maximum-from", "")), str(param.get("name"))
        bound = symbols.fields.get(str(values.get("symbol")), {}).get(source.rpartition(".")[2])
        value = _as_int(values.get(name)) if source.startswith("exchangeInfo.symbols[].") else None
        if bound is not None and value is not None and value > bound:
            values[name] = type(values[name])(bound)
            changed = True
    return changed


def accepted_value(values: dict[str, Any], op: Operation) -> bool:
    """Replace a value of an `x-refused-values` parameter with the first value of its enum the target accepts.

    The contract documents such a value and says the target refuses it (ZTDX: `marginType=ISOLATED` -> -4046, cross
    margin only), so the spec keeps it in the enum (the contract's list) but a positive case sending it could not
    reach 2XX. True when something changed.
    """
    changed = False
    for param in op.parameters():
        refused, name = param.get("x-refused-values") or [], str(param.get("name"))
        if name not in values or values[name] not in refused:
            continue
        enum = (param.get("schema") or {}).get("enum") or []
        accepted = next((v for v in enum if v not in refused), None)
        if accepted is not None:
            values[name] = accepted
            changed = True
    return changed


@dataclass(frozen=True)
class Seeded:
    """A resting order placed for positive cases to name: its symbol and its fields (orderId, clientOrderId)."""

    symbol: str
    fields: dict[str, Any]


def _order_params(op: Operation) -> dict[str, str]:
    """name -> order field of the parameters marked `x-values-from: run.orders[].<field>`."""
    return {str(p["name"]): str(p["x-values-from"]).rpartition(".")[2] for p in op.parameters()
            if str(p.get("x-values-from", "")).startswith(ORDERS_SOURCE)}


def names_orders(op: Operation) -> bool:
    """Whether positive cases of `op` may name a placed order: it names one order and only reads or cancels it.

    Never for an operation that changes an order (PUT modifyOrder): a changed resting order could fill.
    """
    return op.method in ("GET", "DELETE") and any(p in _order_params(op) for p in op.raw.get("x-one-of-params", []))


def with_order(values: dict[str, Any], op: Operation, order: Seeded) -> bool:
    """Make the order parameters the case sends name `order` (its symbol too): a real order instead of a guess.

    A case that sends none of `x-one-of-params` breaks the contract's "one of them is required"; it gets the first.
    Only the part of the request that carries the symbol (the query, or a form body) is changed.
    """
    if "symbol" not in values:
        return False
    marked = _order_params(op)
    sent = {name: f for name, f in marked.items() if name in values}
    first = next((p for p in op.raw.get("x-one-of-params", []) if p in marked), None)
    if not sent and first is not None:
        sent = {first: marked[first]}
    sent = {name: f for name, f in sent.items() if f in order.fields}
    for name, field_name in sent.items():
        values[name] = order.fields[field_name]
    if sent:
        values["symbol"] = order.symbol
    return bool(sent)


def repair(case: Any, op: Operation, symbols: Symbols | None = None, order: Seeded | None = None) -> Any:
    """The positive case with its time window ordered, its per-symbol bounds kept, no value the contract says is
    refused and, given one, a real order."""
    max_ms = op.raw.get("x-max-window-ms")
    for values in (case.query, case.body):
        if isinstance(values, dict):
            ordered_window(values, max_ms if isinstance(max_ms, int) else None)
            if order is not None and names_orders(op):
                with_order(values, op, order)
            accepted_value(values, op)
            if symbols is not None:
                bounded_by_symbol(values, op, symbols)
    return case
