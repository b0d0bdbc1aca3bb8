"""The trading engine through the API: order rules, fills, modify, batches, cancels, history and positions."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from .conftest import Api, error


def _mark(api: Api, symbol: str = "BTCUSDT") -> Decimal:
    return Decimal(api.get("/fapi/v1/premiumIndex", symbol=symbol).json()["markPrice"])


def _position(api: Api, symbol: str = "BTCUSDT") -> Decimal:
    return Decimal(api.call("GET", "/fapi/v1/positionRisk", {"symbol": symbol}).json()[0]["positionAmt"])


def test_a_resting_limit_order_can_be_queried_listed_and_cancelled(api: Api) -> None:
    placed = api.order(newClientOrderId="rest-1").json()
    assert placed["status"] == "NEW" and placed["clientOrderId"] == "rest-1" and placed["origQty"] == "0.010"
    by_id = api.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}).json()
    by_client = api.call("GET", "/fapi/v1/openOrder", {"symbol": "BTCUSDT", "origClientOrderId": "rest-1"}).json()
    assert by_id == by_client == placed
    assert [o["orderId"] for o in api.call("GET", "/fapi/v1/openOrders").json()] == [placed["orderId"]]
    cancelled = api.call("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "origClientOrderId": "rest-1"}).json()
    assert cancelled["status"] == "CANCELED"
    again = api.call("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]})
    assert error(again) == (400, -2011, "Unknown order sent.")
    missing = api.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": 1})
    assert error(missing) == (400, -2013, "Order does not exist.")


def test_a_market_order_fills_at_the_mark_and_moves_the_position(api: Api) -> None:
    filled = api.order(type="MARKET", price=None, timeInForce=None, quantity="0.0109").json()
    assert filled["status"] == "FILLED" and filled["executedQty"] == "0.010"  # floored to the step size
    assert Decimal(filled["avgPrice"]) == _mark(api)
    assert _position(api) == Decimal("0.010")
    trades = api.call("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"}).json()
    assert trades[-1]["orderId"] == filled["orderId"]
    assert [t["time"] for t in trades] == sorted(t["time"] for t in trades)


def test_a_crossing_limit_fills_and_a_crossing_post_only_is_rejected(api: Api) -> None:
    above = str(_mark(api) * 2)
    above = above[: above.index(".") + 2] if "." in above else above
    assert api.order(price=above).json()["status"] == "FILLED"
    status, code, _ = error(api.order(price=above, timeInForce="GTX"))
    assert (status, code) == (400, -2010)
    assert api.order(price="30000", timeInForce="IOC").json()["status"] == "EXPIRED"


@pytest.mark.parametrize(("params", "expected"), [
    ({"quantity": "0.0001"}, (-1013, "Filter failure: LOT_SIZE.")),
    ({"quantity": "0.001", "price": "1000"}, (-1013, "Filter failure: MIN_NOTIONAL.")),
    ({"quantity": "100", "price": "60000"}, (-1013, "Filter failure: MAX_NOTIONAL.")),
    ({"price": "30000.05"}, (-4014, "Price not increased by tick size.")),
    ({"positionSide": "LONG"}, (-4061, "Order's position side does not match user's setting.")),
    ({"newClientOrderId": "has space"}, (-4015, "Client order id is not valid.")),
    ({"newClientOrderId": "x" * 37}, (-4015, "Client order id is not valid.")),
    ({"side": "UP"}, (-1117, "Invalid side.")),
    ({"type": "ICEBERG"}, (-1116, "Invalid orderType.")),
    ({"timeInForce": "DAY"}, (-1115, "Invalid timeInForce.")),
    ({"symbol": "DOGEUSDT"}, (-1121, "Invalid symbol.")),
    ({"reduceOnly": "maybe"}, (-1130, "Data sent for parameter 'reduceOnly' is not valid.")),
    ({"reduceOnly": "true"}, (-2022, "ReduceOnly Order is rejected.")),
    ({"type": "STOP", "stopPrice": "1000"}, (-2021, "Order would immediately trigger.")),
    ({"type": "STOP_MARKET"}, (-1102, "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.")),
])
def test_order_rules_answer_their_documented_codes(api: Api, params: dict, expected: tuple) -> None:
    status, code, msg = error(api.order(**params))
    assert (status, code, msg) == (400, *expected)
    test = api.call("POST", "/fapi/v1/order/test", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                    "timeInForce": "GTC", "quantity": "0.010", "price": "30000",
                                                    **params})
    assert error(test)[1] == expected[0]
    assert api.control("state")["orders_created"] == 0


def test_order_test_validates_and_creates_nothing(api: Api) -> None:
    response = api.call("POST", "/fapi/v1/order/test", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                        "timeInForce": "GTC", "quantity": "0.010", "price": "30000"})
    assert response.json() == {} and api.control("state")["orders_created"] == 0


def test_type_aliases_and_bool_reduce_only(api: Api) -> None:
    stop = api.order(type="STOP_LIMIT", side="SELL", stopPrice="1000", price="1000").json()
    assert stop["type"] == "STOP" and stop["status"] == "NEW"
    api.order(type="MARKET", price=None, timeInForce=None)
    closing = api.body("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET",
                                                   "quantity": "1", "reduceOnly": "true"})
    assert closing.json()["executedQty"] == "0.010"  # clamped to the position
    assert _position(api) == 0


def test_reduce_only_skips_min_notional(api: Api) -> None:
    api.order(type="MARKET", price=None, timeInForce=None, quantity="0.010")
    small = api.order(type="MARKET", price=None, timeInForce=None, side="SELL", quantity="0.001", reduceOnly="true")
    assert small.status_code == 200 and _position(api) == Decimal("0.009")


def test_close_position_closes_everything(api: Api) -> None:
    api.order(type="MARKET", price=None, timeInForce=None, quantity="0.020")
    closed = api.order(type="MARKET", price=None, timeInForce=None, quantity=None, side="SELL", closePosition="true")
    assert closed.json()["executedQty"] == "0.020" and _position(api) == 0
    stop = api.order(type="STOP_MARKET", price=None, timeInForce=None, quantity=None, side="SELL",
                     stopPrice="1000", closePosition="true")
    assert stop.json()["closePosition"] is True and stop.json()["status"] == "NEW"


def test_modify_keeps_the_order_id_and_refreshes_update_time(api: Api) -> None:
    placed = api.order(newClientOrderId="mod-1").json()
    modified = api.call("PUT", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"],
                                                  "price": "30100", "quantity": "0.02"}).json()
    assert modified["orderId"] == placed["orderId"] and modified["price"] == "30100.0"
    assert modified["origQty"] == "0.020" and modified["updateTime"] >= placed["updateTime"]
    nothing = api.call("PUT", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]})
    assert error(nothing)[1] == -1102
    market = api.order(type="MARKET", price=None, timeInForce=None).json()
    filled = api.call("PUT", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": market["orderId"], "price": "1"})
    assert error(filled)[1] == -2011


def test_a_batch_answers_in_request_order_mixing_orders_and_errors(api: Api) -> None:
    good = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
            "price": "30000"}
    batch = [good, {**good, "quantity": "0.0001"}, {**good, "reduceOnly": True, "quantity": 0.01}]
    answer = api.call("POST", "/fapi/v1/batchOrders", {"batchOrders": json.dumps(batch)}).json()
    assert answer[0]["status"] == "NEW"
    assert answer[1] == {"code": -1013, "msg": "Filter failure: LOT_SIZE."}
    assert answer[2] == {"code": -2022, "msg": "ReduceOnly Order is rejected."}
    six = api.call("POST", "/fapi/v1/batchOrders", {"batchOrders": json.dumps([good] * 6)})
    assert error(six)[1] == -1130


def test_batch_cancel_returns_terminal_orders_with_their_status(api: Api) -> None:
    rest = api.order().json()
    filled = api.order(type="MARKET", price=None, timeInForce=None).json()
    ids = json.dumps([rest["orderId"], filled["orderId"], 42])
    answer = api.call("DELETE", "/fapi/v1/batchOrders", {"symbol": "BTCUSDT", "orderIdList": ids}).json()
    assert [a.get("status") for a in answer[:2]] == ["CANCELED", "FILLED"]
    assert answer[2] == {"code": -2011, "msg": "Unknown order sent."}
    too_many = api.call("DELETE", "/fapi/v1/batchOrders", {"symbol": "BTCUSDT", "orderIdList": json.dumps([1] * 11)})
    assert error(too_many)[1] == -1130


def test_batch_cancel_accepts_the_lowercase_list_names(api: Api) -> None:
    # Binance fapi answers ccxt's `orderidlist` / `origclientorderidlist` (ccxt/ccxt#22890).
    first, second = api.order().json(), api.order().json()
    by_id = api.call("DELETE", "/fapi/v1/batchOrders",
                     {"symbol": "BTCUSDT", "orderidlist": json.dumps([first["orderId"]])}).json()
    by_client = api.call("DELETE", "/fapi/v1/batchOrders",
                         {"symbol": "BTCUSDT", "origclientorderidlist": json.dumps([second["clientOrderId"]])}).json()
    assert [by_id[0]["status"], by_client[0]["status"]] == ["CANCELED", "CANCELED"]


def test_cancel_all_open_orders(api: Api) -> None:
    api.order(), api.order()
    answer = api.call("DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"}).json()
    assert answer == {"code": 200, "msg": "The operation of cancel all open order is done."}
    assert api.control("state")["open_orders"] == 0


def test_history_endpoints_start_non_empty_and_ascending(api: Api) -> None:
    for path, params, field in (("/fapi/v1/income", {}, "time"), ("/fapi/v1/allOrders", {"symbol": "BTCUSDT"}, "time"),
                                ("/fapi/v1/userTrades", {"symbol": "BTCUSDT"}, "time")):
        rows = api.call("GET", path, params).json()
        assert rows and [r[field] for r in rows] == sorted(r[field] for r in rows), path
    income = api.call("GET", "/fapi/v1/income", {"incomeType": "TRANSFER"}).json()
    assert [i["incomeType"] for i in income] == ["TRANSFER"] and isinstance(income[0]["tranId"], str)


@pytest.mark.parametrize(("leverage", "ok"), [("20", True), ("1", True), ("100", True), ("0", False),
                                               ("101", False), ("abc", False), ("2.5", False)])
def test_leverage_is_an_integer_from_1_to_max(api: Api, leverage: str, ok: bool) -> None:
    response = api.call("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": leverage})
    if ok:
        assert response.json() == {"leverage": int(leverage), "maxNotionalValue": "10000000", "symbol": "BTCUSDT"}
    else:
        assert error(response) == (400, -4028, f"Leverage {leverage} is not valid. Max: 100.")


def test_position_mode_and_margin_type_are_one_way_cross_only(api: Api) -> None:
    assert api.call("GET", "/fapi/v1/positionSide/dual").json() == {"dualSidePosition": False}
    assert api.call("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "false"}).json() == \
        {"code": 200, "msg": "success"}
    assert error(api.call("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "true"}))[1] == -4059
    for value in ("CROSSED", "cross", "Crossed"):
        assert api.call("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": value}).json() == \
            {"code": 200, "msg": "success"}
    assert error(api.call("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"}))[1] == -4046
    assert error(api.call("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "X"})) == \
        (400, -1128, "Invalid marginType 'X'. Expected CROSSED or ISOLATED.")
    assert api.call("GET", "/fapi/v1/marginType").json() == {"marginType": "CROSSED"}


def test_listen_key_lifecycle(api: Api) -> None:
    assert error(api.call("PUT", "/fapi/v1/listenKey")) == (400, -1125, "This listenKey does not exist.")
    key = api.call("POST", "/fapi/v1/listenKey").json()["listenKey"]
    assert len(key) == 64 and key.isalnum()
    assert api.call("POST", "/fapi/v1/listenKey").json()["listenKey"] == key
    assert api.call("PUT", "/fapi/v1/listenKey").json() == {"listenKey": key}
    assert api.call("DELETE", "/fapi/v1/listenKey").json() == {}
    assert api.call("DELETE", "/fapi/v1/listenKey").json() == {}
    assert error(api.call("PUT", "/fapi/v1/listenKey"))[1] == -1125


def test_position_risk_has_the_ztdx_field_set(api: Api) -> None:
    rows = api.call("GET", "/fapi/v1/positionRisk").json()
    assert [r["symbol"] for r in rows] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert all(r["marginType"] == "cross" and r["isAutoAddMargin"] == "false" and r["leverage"] == "20"
               and r["positionSide"] == "BOTH" for r in rows)


def test_reset_restores_the_seeded_account(api: Api) -> None:
    before = api.call("GET", "/fapi/v2/balance").json()
    api.order(type="MARKET", price=None, timeInForce=None)
    assert api.call("GET", "/fapi/v2/balance").json() != before
    api.control("reset", {})
    assert api.call("GET", "/fapi/v2/balance").json() == before
    assert api.control("state")["orders_created"] == 0


@pytest.mark.parametrize("path", ["/fapi/v1/allOrders", "/fapi/v1/userTrades", "/fapi/v1/order"])
def test_a_uuid_order_id_is_valid_input_that_matches_nothing(api: Api, path: str) -> None:
    response = api.call("GET", path, {"symbol": "BTCUSDT", "orderId": "3fa42833-9508-4061-8d80-b68563dcd521"})
    if path == "/fapi/v1/order":
        assert error(response)[1] == -2013
    else:
        assert response.status_code == 200 and response.json() == []
