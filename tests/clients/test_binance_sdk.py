"""The official `binance-sdk-derivatives-trading-usds-futures` REST client, pointed at the mock by `base_path` only.

On the wire (SDK 18.x over binance-common 4.x, `binance_common.utils.send_request`):
- every request, POST/PUT/DELETE included, carries all parameters in the query string and no body (the generated
  methods pass an empty body), with `Accept: application/json`, `X-MBX-APIKEY`, `Accept-Encoding: gzip, deflate, br`
  and no Content-Type;
- parameter names are camelCased, values stringified (`str(float)`, booleans lowercase), in the method's declared
  order, None values dropped, then `timestamp`, then `signature` = hex HMAC over the urlencoded text before it;
- POST /fapi/v1/batchOrders: `batchOrders` is compact JSON (`separators=(",", ":")`), percent-encoded; each item
  also carries the model defaults `reduceOnly=FALSE` (uppercase) and `newOrderRespType=ACK`;
- DELETE /fapi/v1/batchOrders: `orderIdList` as compact JSON, percent-encoded.
Response bodies are parsed into Binance's pydantic models (every field optional, extras kept); when a value has the
wrong type the SDK logs a warning and relaxes or falls back to raw JSON, so these tests fail on such a warning.
Position information: the SDK only has v2/v3 positionRisk (ZTDX documents v1), and its generic `send_signed_request`
raises TypeError in this release, so the v1 path goes through `binance_common.utils.send_request`, the function all
generated methods sign and send with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .support import API_KEY, API_SECRET, SYMBOL, SYMBOLS, RestingOrder, now_ms, order_status, resting_buy
from .wire import WireRecorder

sdk = pytest.importorskip("binance_sdk_derivatives_trading_usds_futures")
import requests  # noqa: E402 - only after the skip above
from binance_common.configuration import ConfigurationRestAPI  # noqa: E402
from binance_common.utils import send_request  # noqa: E402
from binance_sdk_derivatives_trading_usds_futures.rest_api.models import (  # noqa: E402
    PlaceMultipleOrdersBatchOrdersParameterInner as BatchItem,
)

pytestmark = pytest.mark.clients


@pytest.fixture
def rest(wire: WireRecorder) -> Any:
    # retries=0: a 5XX must surface, not be retried behind the test's back
    config = ConfigurationRestAPI(api_key=API_KEY, api_secret=API_SECRET, base_path=wire.url, retries=0, timeout=10000)
    return sdk.DerivativesTradingUsdsFutures(config_rest_api=config).rest_api


@pytest.fixture(autouse=True)
def strict_models(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail when the SDK had to relax or drop a response model: the mock's body did not fit Binance's shape."""
    with caplog.at_level(logging.WARNING):
        yield
    misfits = [r.getMessage() for r in caplog.records if "response did not match" in r.getMessage()
               or "Failed to parse" in r.getMessage()]
    assert not misfits, misfits


def _resting_order(rest: Any) -> RestingOrder:
    info = next(s for s in rest.exchange_information().data().symbols if s.symbol == SYMBOL)
    book = rest.order_book(SYMBOL, limit=5).data()
    return resting_buy(info.model_dump(by_alias=True), book.bids[0][0])


def test_check_server_time_returns_the_mock_clock(rest: Any) -> None:
    before = now_ms()
    assert before - 1000 <= rest.check_server_time().data().server_time <= now_ms() + 1000


def test_exchange_information_lists_the_perpetuals(rest: Any) -> None:
    symbols = rest.exchange_information().data().symbols
    assert {s.symbol for s in symbols} == SYMBOLS
    assert {(s.contract_type, s.status) for s in symbols} == {("PERPETUAL", "TRADING")}


def test_kline_candlestick_data_is_ascending(rest: Any) -> None:
    candles = rest.kline_candlestick_data(SYMBOL, "1m", limit=5).data()  # a list of lists stays raw JSON
    assert len(candles) == 5
    open_times = [int(c[0]) for c in candles]
    assert open_times == sorted(open_times) and len(set(open_times)) == 5


def test_order_book_has_bids_below_asks(rest: Any) -> None:
    book = rest.order_book(SYMBOL, limit=5).data()
    assert float(book.bids[0][0]) < float(book.asks[0][0])


def test_limit_order_is_placed_queried_listed_and_cancelled(rest: Any, wire: WireRecorder,
                                                            mock_state: Callable[[], Any]) -> None:
    order = _resting_order(rest)
    placed = rest.new_order(SYMBOL, "BUY", "LIMIT", time_in_force="GTC", quantity=float(order.quantity),
                            price=float(order.price)).data()
    assert placed.status == "NEW"
    sent = wire.sent("POST", "/fapi/v1/order")[-1]
    assert sent.body == b"" and "content-type" not in sent.headers
    assert rest.query_order(SYMBOL, order_id=placed.order_id).data().status == "NEW"
    assert placed.order_id in [o.order_id for o in rest.current_all_open_orders(symbol=SYMBOL).data()]
    assert rest.cancel_order(SYMBOL, order_id=placed.order_id).data().status == "CANCELED"
    assert rest.current_all_open_orders(symbol=SYMBOL).data() == []
    assert order_status(mock_state(), placed.order_id) == "CANCELED"


def test_position_risk_v1_is_read_with_the_sdk_signing(rest: Any) -> None:
    # rest.send_signed_request is broken in this SDK release (`send_request[T]` on a plain function: TypeError), so
    # the path goes through the very function every generated method calls
    response: Any = send_request(requests.Session(), rest.configuration, "GET", "/fapi/v1/positionRisk",
                                 payload={"symbol": SYMBOL}, is_signed=True)
    positions = response.data()
    assert [(p["symbol"], p["positionSide"]) for p in positions] == [(SYMBOL, "BOTH")]
    assert float(positions[0]["positionAmt"]) == 0


def test_place_multiple_orders_places_two_then_cancel_multiple_orders_removes_them(
        rest: Any, wire: WireRecorder, mock_state: Callable[[], Any]) -> None:
    order = _resting_order(rest)
    item = BatchItem(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity=float(order.quantity),
                     price=float(order.price))
    placed = rest.place_multiple_orders([item, item]).data()
    assert [(o.status, o.code) for o in placed] == [("NEW", None), ("NEW", None)]
    assert "%22reduceOnly%22%3A%22FALSE%22" in wire.sent("POST", "/fapi/v1/batchOrders")[-1].query
    ids = [o.order_id for o in placed]
    cancelled = rest.cancel_multiple_orders(SYMBOL, order_id_list=ids).data()
    assert [(o.order_id, o.status) for o in cancelled] == [(i, "CANCELED") for i in ids]
    assert [order_status(mock_state(), i) for i in ids] == ["CANCELED", "CANCELED"]
