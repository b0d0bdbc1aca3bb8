"""Where parameters go: query, form body, both, any order; the query wins a clash; GET reads the query only."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from conformance import checks
from conformance.checks.parameters import verify_pair
from conformance.data import contract
from conformance.data.exceptions import HarnessError, NotTested
from conformance.data.exchange import Exchange
from conformance.harness import readers
from conformance.harness.client import Client
from conformance.harness.orders import OrderFactory, filter_value
from conformance.harness.request import sign

Pairs = list[tuple[str, str]]
SHUFFLES = 3
LISTEN_KEY = "/fapi/v1/listenKey"


@dataclass(frozen=True)
class Flow:
    """A safe call: `params()` gives fresh parameters for one call (placing what the call needs first)."""

    method: str
    path: str
    params: Callable[[], Pairs]


def _pairs(params: dict[str, Any]) -> Pairs:
    return [(k, str(v)) for k, v in params.items()]


def _placed(client: Client, orders: OrderFactory, symbol: str = "BTCUSDT", **extra: Any) -> dict[str, Any]:
    params = orders.resting_limit(symbol, **extra)
    orders.remember(params)
    answer = client.call("POST", "/fapi/v1/order", params)
    return params | {"orderId": readers.order_id(answer, "a resting order to work on is needed")}


def flows(client: Client, orders: OrderFactory) -> dict[str, Flow]:
    def new_order() -> Pairs:
        params = orders.resting_limit("BTCUSDT")
        orders.remember(params)
        return _pairs(params)

    def cancel(**extra: Any) -> Pairs:
        placed = _placed(client, orders)
        return _pairs({"symbol": "BTCUSDT", "origClientOrderId": placed["newClientOrderId"]} | extra)

    def modify() -> Pairs:
        placed = _placed(client, orders)
        return _pairs({"symbol": "BTCUSDT", "origClientOrderId": placed["newClientOrderId"], "side": "BUY",
                       "quantity": placed["quantity"], "price": placed["price"]})

    def batch() -> Pairs:
        items = [orders.resting_limit("BTCUSDT"), orders.resting_limit("BTCUSDT")]
        for item in items:
            orders.remember(item)
        return [("batchOrders", json.dumps(items, separators=(",", ":")))]

    def batch_cancel() -> Pairs:
        ids = [_placed(client, orders)["orderId"] for _ in range(2)]
        return [("symbol", "BTCUSDT"), ("orderIdList", json.dumps(ids, separators=(",", ":")))]

    def cancel_all() -> Pairs:
        _placed(client, orders, "SOLUSDT")
        return [("symbol", "SOLUSDT")]

    def keepalive() -> Pairs:
        client.call("POST", LISTEN_KEY)
        return []

    return {
        "newOrder": Flow("POST", "/fapi/v1/order", new_order),
        "modifyOrder": Flow("PUT", "/fapi/v1/order", modify),
        "cancelOrder": Flow("DELETE", "/fapi/v1/order", cancel),
        "changeLeverage": Flow("POST", "/fapi/v1/leverage", lambda: [("symbol", "BTCUSDT"), ("leverage", "20")]),
        "changeMarginType": Flow("POST", "/fapi/v1/marginType",
                                 lambda: [("symbol", "BTCUSDT"), ("marginType", "CROSSED")]),
        "changePositionMode": Flow("POST", "/fapi/v1/positionSide/dual", lambda: [("dualSidePosition", "false")]),
        "startUserDataStream": Flow("POST", LISTEN_KEY, lambda: []),
        "keepaliveUserDataStream": Flow("PUT", LISTEN_KEY, keepalive),
        "newBatchOrders": Flow("POST", "/fapi/v1/batchOrders", batch),
        "cancelBatchOrders": Flow("DELETE", "/fapi/v1/batchOrders", batch_cancel),
        "cancelAllOpenOrders": Flow("DELETE", "/fapi/v1/allOpenOrders", cancel_all),
    }


FLOW_IDS = ["newOrder", "modifyOrder", "cancelOrder", "changeLeverage", "changeMarginType", "changePositionMode",
            "startUserDataStream", "keepaliveUserDataStream", "newBatchOrders", "cancelBatchOrders",
            "cancelAllOpenOrders"]
FLOW_PARAMS = [pytest.param(op, id=op, marks=pytest.mark.capability(
    "trading" if contract.default().operations[op].trading else "signed")) for op in FLOW_IDS]


@pytest.fixture
def flow_of(client: Client, orders: OrderFactory) -> Iterator[Callable[[str], Flow]]:
    """The flows of this test; whatever they opened is cancelled and the listenKey closed afterwards."""
    table = flows(client, orders)
    yield table.__getitem__
    orders.cancel_all()
    client.call("DELETE", LISTEN_KEY)


def in_body(client: Client, flow: Flow, params: Pairs) -> Exchange:
    """Every parameter, timestamp and signature included, in the form body; the query string is empty."""
    creds = client.target.credentials
    if creds is None:
        raise HarnessError("signed calls need credentials")
    client.pace_now(flow.method, flow.path, params)  # any pacing wait before the timestamp is fixed, not after
    body = [*params, ("timestamp", str(client.local_time_ms()))]
    body.append(("signature", sign(creds.api_secret, urlencode(body))))
    return client.call(flow.method, flow.path, None, form=body, signed=False,
                       headers={"X-MBX-APIKEY": creds.api_key})


def reference(client: Client, flow: Flow) -> Exchange:
    return readers.accepted(client.call(flow.method, flow.path, flow.params()),
                            "the same request with every parameter in the query string is the reference")


@pytest.mark.rule("parameters.form-body")
@pytest.mark.parametrize("op", FLOW_PARAMS)
def test_parameters_in_the_form_body_are_accepted(op: str, client: Client, flow_of: Callable[[str], Flow]) -> None:
    flow = flow_of(op)
    ref = reference(client, flow)
    variant = in_body(client, flow, flow.params())
    checks.verify(variant, ["parameters.form-body"])
    verify_pair(ref, variant, ["parameters.form-body"])


@pytest.mark.rule("parameters.mixed-query-and-body")
@pytest.mark.parametrize("op", FLOW_PARAMS)
def test_parameters_split_across_query_and_body_are_accepted(op: str, client: Client,
                                                             flow_of: Callable[[str], Flow]) -> None:
    flow = flow_of(op)
    ref = reference(client, flow)
    params = flow.params()
    half = (len(params) + 1) // 2
    client.pace_now(flow.method, flow.path, params)  # any pacing wait before the timestamp is fixed, not after
    # Without business parameters the split is the signing pair itself: timestamp in the body, signature in the query.
    query, form = (params[:half], params[half:]) if params else ([], [("timestamp", str(client.local_time_ms()))])
    variant = client.call(flow.method, flow.path, query, form=form)
    checks.verify(variant, ["parameters.mixed-query-and-body"])
    verify_pair(ref, variant, ["parameters.mixed-query-and-body"])


@pytest.mark.rule("parameters.any-order")
@pytest.mark.parametrize("op", FLOW_PARAMS)
def test_parameters_in_any_order_are_accepted(op: str, client: Client, flow_of: Callable[[str], Flow],
                                              request: pytest.FixtureRequest) -> None:
    flow = flow_of(op)
    ref = reference(client, flow)
    rng = random.Random(f"{request.config.getoption('conformance_seed')}-{op}")
    varied = 0
    for _ in range(SHUFFLES):
        client.pace_now(flow.method, flow.path, flow_params := flow.params())  # any wait before the timestamp
        params = [*flow_params, ("timestamp", str(client.local_time_ms()))]
        rng.shuffle(params)  # the client signs exactly this order; the signature stays last
        if [k for k, _ in params] == [k for k, _ in ref.request.query if k != "signature"]:
            continue  # the reference's own order: nothing varied
        varied += 1
        verify_pair(ref, client.call(flow.method, flow.path, params), ["parameters.any-order"])
    if not varied:
        raise NotTested(f"nothing to vary: {op} was sent with {len(params)} parameter(s), in the reference's order")


def _scaled(price: str, factor: str, tick: str = "0.1") -> str:
    return format(((Decimal(price) * Decimal(factor)) / Decimal(tick)).to_integral_value(ROUND_DOWN)
                  * Decimal(tick), "f")


def clash_cases(client: Client, orders: OrderFactory) -> dict[str, tuple[str, str, Pairs, Pairs]]:
    """(method, path, query, body): the body repeats a name with a value whose effect would show."""
    order = orders.resting_limit("BTCUSDT", side="SELL")
    orders.remember(order)
    tick = str(filter_value(orders.symbol_info("BTCUSDT"), "PRICE_FILTER", "tickSize", "0.1"))
    return {
        "changeLeverage-leverage": ("POST", "/fapi/v1/leverage", [("symbol", "BTCUSDT"), ("leverage", "5")],
                                    [("leverage", "7")]),
        "changeMarginType-marginType": ("POST", "/fapi/v1/marginType",
                                        [("symbol", "BTCUSDT"), ("marginType", "CROSSED")],
                                        [("marginType", "ISOLATED")]),
        "changePositionMode-dualSidePosition": ("POST", "/fapi/v1/positionSide/dual",
                                                [("dualSidePosition", "false")], [("dualSidePosition", "true")]),
        "newOrder-price": ("POST", "/fapi/v1/order", _pairs(order), [("price", _scaled(order["price"], "1.1", tick))]),
        "newOrder-symbol": ("POST", "/fapi/v1/order", _pairs(order), [("symbol", "ETHUSDT")]),
        "newOrder-quantity": ("POST", "/fapi/v1/order", _pairs(order),
                              [("quantity", format(Decimal(order["quantity"]) * 2, "f"))]),
    }


CLASHES = ["changeLeverage-leverage", "changeMarginType-marginType", "changePositionMode-dualSidePosition",
           "newOrder-price", "newOrder-symbol", "newOrder-quantity"]


def _fresh_order(pairs: Pairs, orders: OrderFactory) -> Pairs:
    """The same order under a new client ID, so that the reference and the variant are two orders."""
    params = dict(pairs) | {"newClientOrderId": orders.next_client_id()}
    orders.remember(params)
    return _pairs(params)


@pytest.mark.rule("parameters.query-over-body")
@pytest.mark.capability("trading")
@pytest.mark.parametrize("case", CLASHES)
def test_query_value_wins_over_the_body(case: str, client: Client, orders: OrderFactory) -> None:
    try:
        method, path, query, body = clash_cases(client, orders)[case]
        fresh = _fresh_order if path == "/fapi/v1/order" else (lambda p, _: p)
        ref = readers.accepted(client.call(method, path, fresh(query, orders)),
                               "the query-only request is the reference")
        variant = client.call(method, path, fresh(query, orders), form=body)
        checks.verify(variant, ["parameters.query-over-body"])
        verify_pair(ref, variant, ["parameters.query-over-body"])
    finally:
        orders.cancel_all()


@pytest.mark.rule("parameters.query-over-body")
@pytest.mark.capability("trading")
def test_query_order_id_wins_over_the_body_when_cancelling(client: Client, orders: OrderFactory) -> None:
    try:
        kept, cancelled = _placed(client, orders), _placed(client, orders)
        variant = client.call("DELETE", "/fapi/v1/order",
                              [("symbol", "BTCUSDT"), ("origClientOrderId", cancelled["newClientOrderId"])],
                              form=[("origClientOrderId", kept["newClientOrderId"])])
        checks.verify(variant, ["parameters.query-over-body"])
    finally:
        orders.cancel_all()


GET_CASES = {
    "depth-symbol-only-in-body": ("/fapi/v1/depth", [("limit", "5")], [("symbol", "BTCUSDT")]),
    "klines-required-only-in-body": ("/fapi/v1/klines", [], [("symbol", "BTCUSDT"), ("interval", "1m")]),
    "tickerPrice-symbol-in-both": ("/fapi/v1/ticker/price", [("symbol", "ETHUSDT")], [("symbol", "BTCUSDT")]),
    "premiumIndex-symbol-in-both": ("/fapi/v1/premiumIndex", [("symbol", "ETHUSDT")], [("symbol", "BTCUSDT")]),
}


@pytest.mark.rule("parameters.get-query-only")
@pytest.mark.parametrize("case", list(GET_CASES))
def test_get_takes_parameters_from_the_query_only(case: str, client: Client) -> None:
    path, query, body = GET_CASES[case]
    checks.verify(client.call("GET", path, query, form=body, signed=False), ["parameters.get-query-only"])
