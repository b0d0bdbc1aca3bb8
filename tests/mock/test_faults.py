"""Injected faults and the -1008 throttle mode, against a real loopback server (conformance/mock/README.md)."""

from __future__ import annotations

import json

import pytest

from .conftest import Api, error

# The fault table of conformance/mock/README.md, written out independently of the mock's own error table.
FAULTS = {
    "waf": (403, -1000, "Request blocked by WAF (Web Application Firewall) restriction."),
    "timeout": (408, -1007, "Timeout waiting for response from backend server. Send status unknown; "
                            "execution status unknown."),
    "unknown-error": (500, -1000, "Request occur unknown error."),
    "unknown-status": (503, -1006, "Unknown error, please check your request or try again later."),
    "service-unavailable": (503, -1001, "Service Unavailable."),
    "internal-error": (503, -1001, "Internal error; unable to process your request. Please try again."),
    "throttled": (503, -1008, "Request throttled by system-level protection. Reduce-only/close-position orders are "
                              "exempt. Please try again."),
}
THROTTLED = FAULTS["throttled"]


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_each_fault_kind_answers_its_documented_status_code_and_message(api: Api, kind: str) -> None:
    answer = api.control("faults", {"kind": kind, "method": "GET", "path": "/fapi/v1/time", "count": 1})
    assert answer["kind"] == kind and answer["remaining"] == 1 and answer["id"]
    faulted = api.get("/fapi/v1/time")
    assert error(faulted) == FAULTS[kind]
    assert "x-mbx-used-weight-1m" in faulted.headers
    assert api.get("/fapi/v1/time").status_code == 200  # count 1: the next request is normal again


def test_a_fault_answers_count_requests_and_only_matching_ones(api: Api) -> None:
    api.control("faults", {"kind": "waf", "method": "GET", "path": "/fapi/v1/ping", "count": 2})
    assert api.get("/fapi/v1/time").status_code == 200
    assert api.control("faults")["faults"][0]["remaining"] == 2
    assert [api.get("/fapi/v1/ping").status_code for _ in range(3)] == [403, 403, 200]
    assert api.control("state")["faults_pending"] == 0


def test_a_fault_with_null_method_and_path_hits_any_fapi_request_but_not_the_control_api(api: Api) -> None:
    api.control("faults", {"kind": "timeout", "method": None, "path": None, "count": 1})
    assert api.http.get("/__mock__/health").status_code == 200
    assert error(api.call("GET", "/fapi/v2/balance"))[0] == 408


@pytest.mark.parametrize("executed", [True, False])
def test_unknown_status_creates_the_order_only_when_executed(api: Api, executed: bool) -> None:
    api.control("faults", {"kind": "unknown-status", "method": "POST", "path": "/fapi/v1/order", "count": 1,
                           "executed": executed})
    assert error(api.order(newClientOrderId="lost-answer")) == FAULTS["unknown-status"]
    state = api.control("state")
    mine = [o for o in state["orders"] if o["clientOrderId"] == "lost-answer"]
    assert len(mine) == state["orders_created"] == (1 if executed else 0)
    query = api.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "origClientOrderId": "lost-answer"})
    assert query.status_code == (200 if executed else 400)


def test_a_resubmission_after_unknown_status_makes_a_duplicate(api: Api) -> None:
    api.control("faults", {"kind": "unknown-status", "method": "POST", "path": "/fapi/v1/order"})
    assert api.order().status_code == 503
    assert api.order().status_code == 200
    assert api.control("state")["orders_created"] == 2


def test_service_unavailable_is_not_counted_toward_the_weight(api: Api) -> None:
    api.control("faults", {"kind": "service-unavailable", "method": "GET", "path": "/fapi/v1/trades"})
    faulted = api.get("/fapi/v1/trades", symbol="BTCUSDT")
    assert faulted.status_code == 503 and faulted.headers["x-mbx-used-weight-1m"] == "0"
    assert api.get("/fapi/v1/trades", symbol="BTCUSDT").headers["x-mbx-used-weight-1m"] == "5"


def test_faults_are_listed_and_cleared_by_reset(api: Api) -> None:
    api.control("faults", {"kind": "waf"})
    assert [f["kind"] for f in api.control("faults")["faults"]] == ["waf"]
    api.control("reset", {})
    assert api.control("faults")["faults"] == [] and api.get("/fapi/v1/ping").status_code == 200


def test_a_bad_fault_request_is_refused_by_the_control_api(api: Api) -> None:
    response = api.http.post("/__mock__/faults", json={"kind": "meteor"})
    assert response.status_code == 400 and "kind" in response.json()["error"]


PLAIN = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
         "price": "30000"}


@pytest.mark.parametrize("path", ["/fapi/v1/order", "/fapi/v1/order/test"])
def test_throttle_mode_answers_minus_1008_to_a_plain_order(api: Api, path: str) -> None:
    api.control("throttle", {"enabled": True})
    assert error(api.call("POST", path, PLAIN)) == THROTTLED
    api.control("throttle", {"enabled": False})
    assert api.call("POST", path, PLAIN).status_code == 200


def test_throttle_mode_answers_minus_1008_to_a_plain_batch(api: Api) -> None:
    api.control("throttle", {"enabled": True})
    batch = json.dumps([PLAIN, {**PLAIN, "reduceOnly": "true"}])
    assert error(api.call("POST", "/fapi/v1/batchOrders", {"batchOrders": batch})) == THROTTLED
    assert api.control("state")["orders_created"] == 0


def _open_long(api: Api) -> None:
    assert api.order(type="MARKET", quantity="0.010", price=None, timeInForce=None).status_code == 200


EXEMPT = {
    "closePosition": {"side": "SELL", "type": "STOP_MARKET", "stopPrice": "1000", "closePosition": "true"},
    "reduceOnly-BOTH": {"side": "SELL", "type": "MARKET", "quantity": "0.010", "reduceOnly": "true",
                        "positionSide": "BOTH"},
    "reduceOnly-absent-side": {"side": "SELL", "type": "MARKET", "quantity": "0.010", "reduceOnly": "true"},
    "LONG+SELL": {"side": "SELL", "type": "MARKET", "quantity": "0.010", "positionSide": "LONG"},
    "SHORT+BUY": {"side": "BUY", "type": "MARKET", "quantity": "0.010", "positionSide": "SHORT"},
}


@pytest.mark.parametrize("case", sorted(EXEMPT))
def test_exempt_orders_pass_throttle_mode_to_their_business_answer(api: Api, case: str) -> None:
    api.control("reset", {})
    _open_long(api)
    api.control("throttle", {"enabled": True})
    response = api.call("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", **EXEMPT[case]})
    if "positionSide" in EXEMPT[case] and EXEMPT[case]["positionSide"] != "BOTH":
        assert error(response)[1] == -4061  # one-way mode: the ordinary answer, but never -1008
    else:
        assert response.status_code == 200, response.text


def test_a_batch_is_exempt_only_when_every_item_is(api: Api) -> None:
    _open_long(api)
    api.control("throttle", {"enabled": True})
    item = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.005", "reduceOnly": "true"}
    response = api.call("POST", "/fapi/v1/batchOrders", {"batchOrders": json.dumps([item, item])})
    assert response.status_code == 200 and [o["status"] for o in response.json()] == ["FILLED", "FILLED"]


def test_order_test_is_never_exempt(api: Api) -> None:
    _open_long(api)
    api.control("throttle", {"enabled": True})
    params = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.010", "reduceOnly": "true"}
    assert error(api.call("POST", "/fapi/v1/order/test", params)) == THROTTLED


def test_cancels_and_reads_are_never_throttled(api: Api) -> None:
    placed = api.order().json()
    api.control("throttle", {"enabled": True})
    assert api.call("GET", "/fapi/v1/openOrders").status_code == 200
    cancel = api.call("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]})
    assert cancel.status_code == 200 and cancel.json()["status"] == "CANCELED"
    assert api.call("DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"}).status_code == 200
    assert api.control("state")["throttle"] is True


def test_the_one_shot_throttled_fault_ignores_the_exemptions(api: Api) -> None:
    _open_long(api)
    api.control("faults", {"kind": "throttled", "method": "POST", "path": "/fapi/v1/order"})
    params = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.010", "reduceOnly": "true"}
    assert error(api.call("POST", "/fapi/v1/order", params)) == THROTTLED
