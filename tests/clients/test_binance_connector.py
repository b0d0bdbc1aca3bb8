"""binance-futures-connector `UMFutures`, pointed at the mock by `base_url` only, trades and reads like on Binance fapi.

On the wire (binance-futures-connector 4.x, `binance.api.API`):
- every request, POST/PUT/DELETE included, carries all parameters in the query string and an empty body; the session
  still sends `Content-Type: application/json;charset=utf-8` (with no body) and `X-MBX-APIKEY` on every call;
- signed calls: `urlencode(params, doseq=True)` with `%40` turned back into `@`, in call order, then `timestamp`, then
  `signature` (hex HMAC over exactly the text before `&signature`); no `recvWindow` unless the caller passes one;
- POST /fapi/v1/batchOrders: `batchOrders` is `urlencode` of the Python *repr* of the list with `%27` swapped for
  `%22`, i.e. JSON with a space after every `:` and `,` (spaces sent as `+`), signed over that encoded text;
- DELETE /fapi/v1/batchOrders: `orderIdList` is `json.dumps` without spaces, percent-encoded (`%5B...%5D`).
`get_position_risk` calls GET /fapi/v3/positionRisk, which ZTDX does not list (it documents v1), so position
information goes through the connector's own public `sign_request` for GET /fapi/v1/positionRisk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .support import API_KEY, API_SECRET, SYMBOL, SYMBOLS, RestingOrder, now_ms, order_status, resting_buy
from .wire import WireRecorder

um_futures = pytest.importorskip("binance.um_futures")

pytestmark = pytest.mark.clients


@pytest.fixture
def client(wire: WireRecorder) -> Any:
    return um_futures.UMFutures(key=API_KEY, secret=API_SECRET, base_url=wire.url, timeout=10)


def _resting_order(client: Any) -> RestingOrder:
    info = next(s for s in client.exchange_info()["symbols"] if s["symbol"] == SYMBOL)
    return resting_buy(info, client.depth(SYMBOL, limit=5)["bids"][0][0])


def test_time_returns_the_mock_clock(client: Any) -> None:
    before = now_ms()
    assert before - 1000 <= client.time()["serverTime"] <= now_ms() + 1000


def test_exchange_info_lists_the_perpetuals(client: Any) -> None:
    symbols = client.exchange_info()["symbols"]
    assert {s["symbol"] for s in symbols} == SYMBOLS
    assert {(s["contractType"], s["status"]) for s in symbols} == {("PERPETUAL", "TRADING")}


def test_klines_are_ascending_candles(client: Any) -> None:
    candles = client.klines(SYMBOL, "1m", limit=5)
    assert len(candles) == 5
    open_times = [c[0] for c in candles]
    assert open_times == sorted(open_times) and len(set(open_times)) == 5
    assert all(float(c[3]) <= float(c[2]) for c in candles)


def test_depth_has_bids_below_asks(client: Any) -> None:
    book = client.depth(SYMBOL, limit=5)
    assert float(book["bids"][0][0]) < float(book["asks"][0][0])


def test_limit_order_is_placed_queried_listed_and_cancelled(client: Any, wire: WireRecorder,
                                                            mock_state: Callable[[], Any]) -> None:
    order = _resting_order(client)
    placed = client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                              quantity=order.quantity, price=order.price)
    assert placed["status"] == "NEW"
    sent = wire.sent("POST", "/fapi/v1/order")[-1]
    assert sent.body == b"" and sent.content_type == "application/json;charset=utf-8"
    assert [n for n, _ in sent.query_params()][-2:] == ["timestamp", "signature"]
    order_id = placed["orderId"]
    assert client.query_order(SYMBOL, orderId=order_id)["status"] == "NEW"
    assert client.get_open_orders(SYMBOL, orderId=order_id)["orderId"] == order_id
    assert order_id in [o["orderId"] for o in client.get_orders(symbol=SYMBOL)]
    assert client.cancel_order(SYMBOL, orderId=order_id)["status"] == "CANCELED"
    assert client.get_orders(symbol=SYMBOL) == []
    assert order_status(mock_state(), order_id) == "CANCELED"


def test_position_risk_v1_is_read_with_the_connector_signing(client: Any) -> None:
    positions = client.sign_request("GET", "/fapi/v1/positionRisk", {"symbol": SYMBOL})
    assert [(p["symbol"], p["positionSide"]) for p in positions] == [(SYMBOL, "BOTH")]
    assert float(positions[0]["positionAmt"]) == 0


def test_new_batch_order_places_two_then_cancel_batch_order_removes_them(
        client: Any, wire: WireRecorder, mock_state: Callable[[], Any]) -> None:
    order = _resting_order(client)
    item = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": order.quantity}
    placed = client.new_batch_order([{**item, "price": order.price}, {**item, "price": order.price}])
    assert [o.get("status") for o in placed] == ["NEW", "NEW"], placed
    assert "%22%3A+%22" in wire.sent("POST", "/fapi/v1/batchOrders")[-1].query  # '": "' - the repr-style JSON
    ids = [o["orderId"] for o in placed]
    cancelled = client.cancel_batch_order(SYMBOL, orderIdList=ids, origClientOrderIdList=None)
    assert [(o["orderId"], o["status"]) for o in cancelled] == [(i, "CANCELED") for i in ids]
    assert [order_status(mock_state(), i) for i in ids] == ["CANCELED", "CANCELED"]
