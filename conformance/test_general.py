"""General-info format rules on live answers: JSON everywhere, ascending time order, millisecond times, Java types."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from conformance import checks
from conformance.data import contract
from conformance.data.exceptions import HarnessError, NotTested
from conformance.data.exchange import Exchange
from conformance.harness.client import Client
from conformance.harness.orders import OrderFactory

SYMBOL = "BTCUSDT"
# Values for the spec's required parameters, by name; small limits keep the module's weight modest.
DATA: dict[str, Any] = {"symbol": SYMBOL, "interval": "1m", "leverage": 20, "dualSidePosition": "false",
                        "marginType": "CROSSED"}
EXTRA: dict[str, dict[str, Any]] = {"depth": {"limit": 5}, "trades": {"limit": 20}, "aggTrades": {"limit": 20},
                                    "klines": {"limit": 20}, "fundingRate": {"limit": 20}, "income": {"limit": 20},
                                    "allOrders": {"limit": 20}, "userTrades": {"limit": 20},
                                    "openOrders": {"symbol": SYMBOL}, "premiumIndex": {"symbol": SYMBOL},
                                    "ticker24hr": {"symbol": SYMBOL}, "tickerPrice": {"symbol": SYMBOL},
                                    "bookTicker": {"symbol": SYMBOL}, "positionRisk": {"symbol": SYMBOL},
                                    "getMarginType": {"symbol": SYMBOL}}
SETTINGS = {"changeLeverage", "changePositionMode", "changeMarginType", "startUserDataStream",
            "keepaliveUserDataStream", "closeUserDataStream"}
ORDER_FLOWS = {"newOrder", "cancelOrder", "modifyOrder", "openOrder", "queryOrder", "newBatchOrders",
               "cancelBatchOrders", "testOrder", "cancelAllOpenOrders"}
FAULT_KINDS = ("waf", "timeout", "unknown-error", "unknown-status", "service-unavailable", "internal-error",
               "throttled")

FAULT_CALLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "throttled": ("POST", "/fapi/v1/order/test",
                  {"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.01"}),
}


def _capabilities(op: contract.Operation) -> list[Any]:
    if op.trading or op.id in ORDER_FLOWS:  # querying one order needs one placed: a trading target
        return [pytest.mark.capability("trading")]
    return [pytest.mark.capability("signed")] if op.signed else []


OPERATIONS = [pytest.param(op.id, id=op.id, marks=_capabilities(op))
              for op in sorted(contract.default().operations.values(), key=lambda o: o.id)]


def example_params(op: contract.Operation) -> dict[str, Any]:
    """Required parameters from the spec, valued from DATA, plus the operation's small extras."""
    params: dict[str, Any] = {}
    for p in op.parameters():
        name = p.get("name", "")
        if p.get("in") == "query" and p.get("required") and name not in ("timestamp", "signature"):
            if name not in DATA:
                raise HarnessError(f"no example value for required parameter {name!r} of {op.id}")
            params[name] = DATA[name]
    return params | EXTRA.get(op.id, {})


def _placed(client: Client, orders: OrderFactory) -> tuple[Exchange, dict[str, Any]]:
    params = orders.resting_limit(SYMBOL)
    orders.remember(params)
    return client.call("POST", "/fapi/v1/order", params), params


def _order_flow(op_id: str, client: Client, orders: OrderFactory) -> Exchange:
    """Open what the operation needs, call it, and leave nothing open that the flow opened."""
    if op_id == "testOrder":
        return client.call("POST", "/fapi/v1/order/test", orders.resting_limit(SYMBOL))
    if op_id == "newBatchOrders":
        return _batch_flow(client, orders)
    placed, params = _placed(client, orders)
    ref = {"symbol": SYMBOL, "origClientOrderId": params["newClientOrderId"]}
    calls: dict[str, Callable[[], Exchange]] = {
        "newOrder": lambda: placed,
        "openOrder": lambda: client.call("GET", "/fapi/v1/openOrder", ref),
        "queryOrder": lambda: client.call("GET", "/fapi/v1/order", ref),
        "modifyOrder": lambda: client.call("PUT", "/fapi/v1/order", ref | {"price": params["price"],
                                                                           "quantity": params["quantity"]}),
        "cancelOrder": lambda: client.call("DELETE", "/fapi/v1/order", ref),
        "cancelBatchOrders": lambda: client.call("DELETE", "/fapi/v1/batchOrders", {
            "symbol": SYMBOL, "origClientOrderIdList": json.dumps([params["newClientOrderId"]])}),
        "cancelAllOpenOrders": lambda: client.call("DELETE", "/fapi/v1/allOpenOrders", {"symbol": SYMBOL}),
    }
    try:
        return calls[op_id]()
    finally:
        orders.cancel_all()


def _batch_flow(client: Client, orders: OrderFactory) -> Exchange:
    items = [orders.resting_limit(SYMBOL), orders.resting_limit(SYMBOL)]
    for item in items:
        orders.remember(item)
    try:
        return client.call("POST", "/fapi/v1/batchOrders", {"batchOrders": json.dumps(items)})
    finally:
        orders.cancel_all()


def _settings_call(op: contract.Operation, client: Client) -> Exchange:
    if op.id == "keepaliveUserDataStream":
        client.call("POST", "/fapi/v1/listenKey")  # keepalive needs an active key
    return client.call(op.method, op.path, example_params(op))


@pytest.fixture(scope="module")
def answers(client: Client, orders: OrderFactory) -> Callable[[str], Exchange]:
    """One successful-path call per operation, shared by the three checks that judge it."""
    cache: dict[str, Exchange] = {}
    spec = client.contract

    def answer(op_id: str) -> Exchange:
        if op_id not in cache:
            op = spec.operations[op_id]
            if op_id in ORDER_FLOWS:
                cache[op_id] = _order_flow(op_id, client, orders)
            elif op_id in SETTINGS:
                cache[op_id] = _settings_call(op, client)
            else:
                cache[op_id] = client.call(op.method, op.path, example_params(op))
        return cache[op_id]

    return answer


@pytest.mark.rule("general.json-responses")
@pytest.mark.parametrize("op_id", OPERATIONS)
def test_operation_answers_in_json(op_id: str, answers: Callable[[str], Exchange]) -> None:
    checks.verify(answers(op_id), ["general.json-responses"])


def _succeeded(exchange: Exchange) -> Exchange:
    """The success body is what these rules judge: a refused example call leaves them not tested, and the refusal of
    a valid request is its operation's schema rule's to judge (schema.<operationId>)."""
    if not 200 <= exchange.response.status < 300:
        raise NotTested(f"precondition: the example call {exchange.request.method} {exchange.request.path} was "
                        f"refused: HTTP {exchange.response.status} {exchange.response.text[:160]!r}",
                        rule_id=f"schema.{exchange.operation_id}" if exchange.operation_id else None)
    return exchange


TIMED_OPERATIONS = [p for p in OPERATIONS if contract.default().operations[str(p.values[0])].time_fields]


@pytest.mark.rule("general.millisecond-timestamps")
@pytest.mark.parametrize("op_id", TIMED_OPERATIONS)
def test_operation_times_are_integer_milliseconds(op_id: str, answers: Callable[[str], Exchange]) -> None:
    checks.verify(_succeeded(answers(op_id)), ["general.millisecond-timestamps"])


@pytest.mark.rule("general.java-types")
@pytest.mark.parametrize("op_id", OPERATIONS)
def test_operation_values_follow_java_types(op_id: str, answers: Callable[[str], Exchange]) -> None:
    checks.verify(_succeeded(answers(op_id)), ["general.java-types"])


ERROR_CALLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "bad-symbol": ("GET", "/fapi/v1/depth", {"symbol": "NOSUCHSYMBOL", "limit": 5}),
    "missing-parameter": ("GET", "/fapi/v1/depth", {"limit": 5}),
    "unknown-route": ("GET", "/fapi/v1/noSuchEndpoint", {}),
    "wrong-method": ("PATCH", "/fapi/v1/time", {}),
    "malformed-limit": ("GET", "/fapi/v1/klines", {"symbol": SYMBOL, "interval": "1m", "limit": "ten"}),
}


@pytest.mark.rule("general.json-responses")
@pytest.mark.parametrize("name", list(ERROR_CALLS))
def test_error_answer_is_json(name: str, client: Client) -> None:
    method, path, params = ERROR_CALLS[name]
    exchange = client.call(method, path, params, signed=False)
    checks.verify(exchange, ["general.json-responses"])


@pytest.mark.rule("general.json-responses")
@pytest.mark.capability("faults")
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_fault_answer_is_json(kind: str, client: Client, mock_control: Any) -> None:
    # -1008 belongs to the order endpoints only (errors.503-throttled): inject it where the doc says it happens.
    method, path, params = FAULT_CALLS.get(kind, ("GET", "/fapi/v1/time", {}))
    mock_control.fault(kind, method=method, path=path)
    exchange = client.call(method, path, params, allow_faults=True)
    checks.verify(exchange, ["general.json-responses"])


def _window(hours: float) -> dict[str, int]:
    now = int(time.time() * 1000)
    return {"startTime": now - int(hours * 3_600_000), "endTime": now}


WINDOWS = [
    ("klines-1m", "klines", {"symbol": SYMBOL, "interval": "1m", "limit": 30}),
    ("klines-5m-window", "klines", {"symbol": SYMBOL, "interval": "5m", "limit": 30, **_window(2)}),
    ("klines-1h", "klines", {"symbol": SYMBOL, "interval": "1h", "limit": 30}),
    ("klines-1d", "klines", {"symbol": SYMBOL, "interval": "1d", "limit": 10}),
    ("trades", "trades", {"symbol": SYMBOL, "limit": 30}),
    ("aggTrades-window", "aggTrades", {"symbol": SYMBOL, "limit": 30, **_window(1)}),
    ("fundingRate", "fundingRate", {"symbol": SYMBOL, "limit": 30}),
    ("fundingRate-window", "fundingRate", {"symbol": SYMBOL, "limit": 30, **_window(72)}),
    ("income", "income", {"limit": 30}),
    ("allOrders", "allOrders", {"symbol": SYMBOL, "limit": 30}),
    ("userTrades-window", "userTrades", {"symbol": SYMBOL, "limit": 30, **_window(72)}),
]
WINDOW_PARAMS = [pytest.param(op_id, params, id=name, marks=_capabilities(contract.default().operations[op_id]))
                 for name, op_id, params in WINDOWS]


@pytest.mark.rule("general.ascending-time-order")
@pytest.mark.parametrize(("op_id", "params"), WINDOW_PARAMS)
def test_timed_array_is_earliest_first(op_id: str, params: dict[str, Any], client: Client) -> None:
    op = client.contract.operations[op_id]
    exchange = _succeeded(client.call(op.method, op.path, params))
    checks.verify(exchange, ["general.ascending-time-order"])


@pytest.mark.rule("general.ascending-time-order")
@pytest.mark.capability("trading")
def test_open_orders_are_earliest_first(client: Client, orders: OrderFactory) -> None:
    try:
        for _ in range(3):
            _placed(client, orders)
        checks.verify(client.call("GET", "/fapi/v1/openOrders", {"symbol": SYMBOL}),
                      ["general.ascending-time-order"])
    finally:
        orders.cancel_all()
