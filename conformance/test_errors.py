"""Error answers: the {code, msg} body, each 503 message exactly, -1008 only where documented, retry-later."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from conformance import checks
from conformance.checks import errors as err
from conformance.checks import http
from conformance.data.exceptions import HarnessError, NotTested, TargetUnavailable
from conformance.data.exchange import Exchange
from conformance.harness import reconcile
from conformance.harness.client import Client
from conformance.harness.mock_control import MockControl
from conformance.harness.orders import OrderFactory

PROBE = ("GET", "/fapi/v1/time")
ORDER, BATCH, TEST_ORDER = "/fapi/v1/order", "/fapi/v1/batchOrders", "/fapi/v1/order/test"
LISTEN_KEY = "/fapi/v1/listenKey"
FAULT_RULES = {"unknown-status": "errors.503-unknown-status", "service-unavailable": "errors.503-service-unavailable",
               "internal-error": "errors.503-internal-error"}
SYMBOL = "BTCUSDT"


pytestmark = pytest.mark.usefixtures("classified_answers")  # what the client sees, for test_http's passive test


@pytest.fixture
def tidy(orders: OrderFactory) -> Iterator[OrderFactory]:
    """The order factory; whatever a test placed is cancelled afterwards, even when it failed."""
    yield orders
    orders.cancel_all()


@pytest.mark.rule("errors.body-shape")
@pytest.mark.capability("faults")
@pytest.mark.parametrize("kind", ["waf", "timeout", "unknown-error", *FAULT_RULES])
def test_fault_answer_carries_integer_code_and_string_msg(kind: str, client: Client, mock_control: MockControl) -> None:
    mock_control.fault(kind, method=PROBE[0], path=PROBE[1])
    checks.verify(client.call(*PROBE, allow_faults=True), ["errors.body-shape"])


@pytest.mark.rule("errors.body-shape")
@pytest.mark.parametrize("path", ["/fapi/v1/noSuchEndpoint", "/fapi/v2/noSuchEndpoint", "/fapi/v1/time/extra"])
def test_unknown_route_answer_carries_integer_code_and_string_msg(path: str, client: Client) -> None:
    exchange = client.call("GET", path, signed=False)
    http.judge("invalid-request", exchange)
    checks.verify(exchange, ["errors.body-shape"])


@pytest.mark.capability("faults")
@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.rule(r, "errors.503-documented-message"))
                                  for k, r in FAULT_RULES.items()])
def test_503_answer_carries_exactly_its_documented_message(kind: str, client: Client,
                                                           mock_control: MockControl) -> None:
    mock_control.fault(kind, method=PROBE[0], path=PROBE[1])
    exchange = client.call(*PROBE, allow_faults=True)
    err.documented_answer(FAULT_RULES[kind], exchange)
    checks.verify(exchange, ["errors.503-documented-message", "errors.body-shape"])


@pytest.mark.rule("errors.503-throttled", "errors.503-documented-message")
@pytest.mark.capability("faults", "trading")
@pytest.mark.parametrize("path", [ORDER, BATCH, TEST_ORDER])
def test_throttle_mode_answers_plain_order_with_1008(path: str, client: Client, tidy: OrderFactory,
                                                     mock_control: MockControl) -> None:
    mock_control.throttle(True)
    exchange = _plain_order(client, tidy, path)
    err.documented_answer("errors.503-throttled", exchange)
    checks.verify(exchange, ["errors.503-throttled", "errors.503-documented-message", "errors.body-shape"])


def _plain_order(client: Client, orders: OrderFactory, path: str, **extra: Any) -> Exchange:
    """An opening order (or a batch of two) on `path`, remembered for the cleanup in case it is accepted."""
    items = [orders.resting_limit(SYMBOL, **extra) for _ in range(2 if path == BATCH else 1)]
    for item in items:
        orders.remember(item)
    params = {"batchOrders": json.dumps(items)} if path == BATCH else items[0]
    return client.call("POST", path, params, allow_faults=True)


NOT_THROTTLED: dict[str, tuple[str, str, dict[str, Any], str | None]] = {
    "time": ("GET", "/fapi/v1/time", {}, None),
    "depth": ("GET", "/fapi/v1/depth", {"symbol": SYMBOL, "limit": 5}, None),
    "open-orders": ("GET", "/fapi/v1/openOrders", {"symbol": SYMBOL}, "signed"),
    "query-order": ("GET", ORDER, {"symbol": SYMBOL, "origClientOrderId": "fc-none"}, "signed"),
    "leverage": ("POST", "/fapi/v1/leverage", {"symbol": SYMBOL, "leverage": 20}, "trading"),
    "listen-key": ("POST", "/fapi/v1/listenKey", {}, "signed"),
}


@pytest.mark.rule("errors.503-throttled")
@pytest.mark.capability("faults")
@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.capability(c)] if c else [])
                                  for n, (_, _, _, c) in NOT_THROTTLED.items()])
def test_throttle_mode_leaves_other_endpoints_alone(name: str, client: Client, mock_control: MockControl) -> None:
    method, path, params, _ = NOT_THROTTLED[name]
    mock_control.throttle(True)
    exchange = client.call(method, path, params, allow_faults=True)
    err.not_throttled(exchange)
    checks.verify(exchange, ["errors.503-throttled"])


# Exemption criteria, each alone: closePosition = true, BOTH (explicit or by default) + reduceOnly = true,
# LONG + SELL, SHORT + BUY, and a batch whose every order is exempt. ZTDX has no hedge mode (fapi-contract §4:
# dualSidePosition=true is refused), so the LONG/SHORT orders may be refused (-4061) — but never with -1008.
EXEMPT = {
    "close-position": (ORDER, {"side": "SELL", "type": "STOP_MARKET", "closePosition": "true"}),
    "reduce-only-both": (ORDER, {"side": "SELL", "positionSide": "BOTH", "reduceOnly": "true"}),
    "reduce-only-default-side": (ORDER, {"side": "SELL", "reduceOnly": "true"}),
    "long-sell": (ORDER, {"side": "SELL", "positionSide": "LONG"}),
    "short-buy": (ORDER, {"side": "BUY", "positionSide": "SHORT"}),
    "batch-all-reduce-only": (BATCH, {"side": "SELL", "reduceOnly": "true"}),
}


def _exempt_params(orders: OrderFactory, extra: dict[str, Any]) -> dict[str, Any]:
    stop = extra.get("type") == "STOP_MARKET"
    # A stop-sell far below the mark (the BUY side's far price) cannot trigger; closePosition takes no quantity.
    params = orders.resting_limit(SYMBOL, side="BUY" if stop else extra["side"]) | extra
    if stop:
        params["stopPrice"] = params.pop("price")
        for name in ("quantity", "timeInForce"):
            params.pop(name)
    orders.remember(params)
    return params


@pytest.mark.rule("errors.503-throttle-exemption")
@pytest.mark.capability("faults", "trading")
@pytest.mark.parametrize("name", list(EXEMPT))
def test_throttle_mode_never_answers_exempt_order_with_1008(name: str, client: Client, tidy: OrderFactory,
                                                            mock_control: MockControl) -> None:
    path, extra = EXEMPT[name]
    items = [_exempt_params(tidy, extra) for _ in range(2 if path == BATCH else 1)]
    mock_control.throttle(True)
    params = {"batchOrders": json.dumps(items)} if path == BATCH else items[0]
    exchange = client.call("POST", path, params, allow_faults=True)
    if err.exempt_request(exchange) is None:
        raise HarnessError(f"{name}: the request sent does not meet the exemption criteria")
    checks.verify(exchange, ["errors.503-throttle-exemption"])


CANCELS = ("cancel-order", "cancel-batch", "cancel-all-open-orders")


@pytest.mark.rule("errors.503-throttle-exemption")
@pytest.mark.capability("faults", "trading")
@pytest.mark.parametrize("name", CANCELS)
def test_throttle_mode_never_answers_cancel_with_1008(name: str, client: Client, tidy: OrderFactory,
                                                      mock_control: MockControl) -> None:
    params = tidy.resting_limit(SYMBOL)
    tidy.remember(params)
    client.call("POST", ORDER, params)
    mock_control.throttle(True)
    cid = params["newClientOrderId"]
    calls = {"cancel-order": (ORDER, {"symbol": SYMBOL, "origClientOrderId": cid}),
             "cancel-batch": (BATCH, {"symbol": SYMBOL, "origClientOrderIdList": json.dumps([cid])}),
             "cancel-all-open-orders": ("/fapi/v1/allOpenOrders", {"symbol": SYMBOL})}
    path, cancel = calls[name]
    checks.verify(client.call("DELETE", path, cancel, allow_faults=True), ["errors.503-throttle-exemption"])


@pytest.mark.rule("errors.503-unknown-status")
@pytest.mark.capability("faults", "trading")
@pytest.mark.parametrize("executed", [True, False], ids=["executed", "not-executed"])
def test_unknown_status_order_is_confirmed_by_client_order_id_and_never_resubmitted(
        executed: bool, client: Client, tidy: OrderFactory, mock_control: MockControl) -> None:
    params = tidy.resting_limit(SYMBOL)
    tidy.remember(params)
    mock_control.fault("unknown-status", method="POST", path=ORDER, executed=executed)
    seen: list[Exchange] = []
    client.listeners.append(seen.append)
    reported = False
    try:
        client.call("POST", ORDER, params)  # the suite's own path: reconcile, never resubmit
    except TargetUnavailable:
        reported = True
    finally:
        client.listeners.remove(seen.append)
    err.documented_answer("errors.503-unknown-status", seen[0])  # the target's answer first, then the suite's part
    if not reported:
        raise HarnessError("the unknown-status 503 was not reported as an unknown outcome")
    _confirmed(client, params, executed, mock_control, seen[0])


def _confirmed(client: Client, params: dict[str, Any], executed: bool, mock_control: MockControl,
               answer: Exchange) -> None:
    cid = params["newClientOrderId"]
    finding = reconcile.order_by_client_id(client.call, SYMBOL, cid,
                                           delay=reconcile.LOOKUP_DELAY * client.target.wait_scale)
    err.unknown_outcome_confirmed(executed, finding.found, finding.line(), answer)
    created = [o for o in mock_control.state().get("orders", []) if o.get("clientOrderId") == cid]
    if len(created) != int(executed):
        raise HarnessError(f"order {cid} exists {len(created)} times: the suite resubmitted an unknown outcome")


@pytest.mark.rule("errors.unknown-error-retry")
@pytest.mark.capability("faults")
def test_unknown_error_answer_succeeds_when_retried_later(client: Client, mock_control: MockControl) -> None:
    mock_control.fault("unknown-error", method=PROBE[0], path=PROBE[1])
    first = client.call(*PROBE, allow_faults=True)
    err.documented_answer("errors.unknown-error-retry", first)
    err.succeeds_when_retried(client.call(*PROBE, allow_faults=True), "when the request is retried")


@pytest.mark.rule("errors.unknown-error-retry")
@pytest.mark.capability("faults")
def test_client_retries_unknown_error_and_gets_the_answer(client: Client, mock_control: MockControl) -> None:
    mock_control.fault("unknown-error", method="GET", path="/fapi/v1/depth")
    err.succeeds_when_retried(client.call("GET", "/fapi/v1/depth", {"symbol": SYMBOL, "limit": 5}),
                              "after the client's retry")
    if not any(r.kind == "unknown-error" and r.outcome == "retried" for r in client.retries):
        raise NotTested("precondition: the injected unknown-error fault was never answered, so nothing was retried")


@pytest.mark.rule("errors.documented-code")
@pytest.mark.capability("signed")
def test_keepalive_without_an_open_listen_key_answers_its_documented_code(client: Client) -> None:
    client.call("DELETE", LISTEN_KEY)  # whatever it answers, no listenKey is open afterwards
    err.documented_code("unknown-listen-key", client.call("PUT", LISTEN_KEY))
