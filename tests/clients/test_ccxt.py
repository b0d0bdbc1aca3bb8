"""ccxt `binanceusdm`, pointed at the mock through its `urls['api']` only, trades and reads like on Binance fapi.

On the wire (ccxt 4.5, `binance.sign`):
- public calls: GET with the params urlencoded into the query, no API key header;
- signed GET/DELETE: the query is `timestamp=<ms>&<params in call order>&recvWindow=10000&signature=<hex>`
  (urlencoded; `recvWindow` is ccxt's default option), with header `X-MBX-APIKEY`;
- signed POST/PUT: nothing in the query; the same string as the form body, `Content-Type:
  application/x-www-form-urlencoded`, `signature` last; a new order always carries a generated `newClientOrderId`
  (`x-...` broker prefix) and `timeInForce=GTC` for LIMIT;
- POST /fapi/v1/batchOrders: `batchOrders=<compact JSON>` in the form body **raw, not percent-encoded** (`rawencode`),
  signed over that raw text;
- DELETE /fapi/v1/batchOrders: `orderidlist=%5B<id>%2C<id>%5D` appended after the other params, just before the
  signature (lowercase name; Binance fapi answers 200 to it, ccxt/ccxt#22890), signed over the percent-encoded text.
`load_markets` calls only GET /fapi/v1/exchangeInfo once `fetchCurrencies` (a sapi call) is switched off. The unified
`fetch_positions` needs GET /fapi/v1/leverageBracket and /fapi/v3/account (not ZTDX endpoints), so position
information goes through ccxt's implicit method for the documented GET /fapi/v1/positionRisk and the parser
`fetch_positions_risk` applies to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from .support import API_KEY, API_SECRET, SYMBOL, SYMBOLS, now_ms, order_status, resting_buy
from .wire import WireRecorder

ccxt = pytest.importorskip("ccxt")

pytestmark = pytest.mark.clients
UNIFIED = "BTC/USDT:USDT"


@pytest.fixture
def exchange(wire: WireRecorder) -> Any:
    """A stock binanceusdm whose every API base URL names the mock instead of a binance.com host."""
    ex = ccxt.binanceusdm({
        "apiKey": API_KEY,
        "secret": API_SECRET,
        "enableRateLimit": False,
        # documented options: no sapi currency list, linear markets only, no clock adjustment call
        "options": {"fetchCurrencies": False, "fetchMargins": False, "fetchMarkets": {"types": ["linear"]},
                    "adjustForTimeDifference": False},
    })
    ex.urls["api"] = {name: re.sub(r"^https://[^/]+", wire.url, url) for name, url in ex.urls["api"].items()}
    return ex


def _resting_order(ex: Any) -> tuple[float, float]:
    ex.load_markets()
    book = ex.fetch_order_book(UNIFIED, limit=5)
    order = resting_buy(ex.market(UNIFIED)["info"], str(book["bids"][0][0]))
    return float(order.quantity), float(order.price)


def test_fetch_time_returns_the_mock_clock(exchange: Any) -> None:
    before = now_ms()
    server_time = exchange.fetch_time()
    assert before - 1000 <= server_time <= now_ms() + 1000


def test_load_markets_reads_only_fapi_exchange_info(exchange: Any, wire: WireRecorder) -> None:
    markets = exchange.load_markets()
    swaps = {m["id"] for m in markets.values() if m["swap"] and m["linear"]}
    assert swaps == SYMBOLS
    market = markets[UNIFIED]
    assert (market["precision"]["price"], market["limits"]["cost"]["min"]) == (0.1, 10)
    assert [(r.method, r.path) for r in wire.requests] == [("GET", "/fapi/v1/exchangeInfo")]


def test_fetch_ohlcv_returns_ascending_candles(exchange: Any) -> None:
    candles = exchange.fetch_ohlcv(UNIFIED, "1m", limit=5)
    assert len(candles) == 5
    times = [c[0] for c in candles]
    assert times == sorted(times) and len(set(times)) == 5
    assert all(c[3] <= min(c[1], c[4]) <= max(c[1], c[4]) <= c[2] for c in candles)


def test_fetch_order_book_has_bids_below_asks(exchange: Any) -> None:
    book = exchange.fetch_order_book(UNIFIED, limit=5)
    assert book["bids"] and book["asks"]
    assert book["bids"][0][0] < book["asks"][0][0]


def test_limit_order_is_placed_queried_listed_and_cancelled(exchange: Any, wire: WireRecorder,
                                                            mock_state: Callable[[], Any]) -> None:
    amount, price = _resting_order(exchange)
    placed = exchange.create_order(UNIFIED, "limit", "buy", amount, price)
    assert placed["status"] == "open"
    sent = wire.sent("POST", "/fapi/v1/order")[-1]
    assert sent.query == "" and sent.content_type == "application/x-www-form-urlencoded"
    fields = dict(sent.body_params())
    assert list(fields)[-1] == "signature" and fields["newClientOrderId"].startswith("x-")
    assert (fields["timeInForce"], fields["recvWindow"]) == ("GTC", "10000")
    assert exchange.fetch_order(placed["id"], UNIFIED)["status"] == "open"
    assert placed["id"] in [o["id"] for o in exchange.fetch_open_orders(UNIFIED)]
    cancelled = exchange.cancel_order(placed["id"], UNIFIED)
    assert cancelled["status"] == "canceled"
    assert exchange.fetch_open_orders(UNIFIED) == []
    assert order_status(mock_state(), placed["id"]) == "CANCELED"


def test_position_risk_is_read_and_parsed(exchange: Any) -> None:
    exchange.load_markets()
    raw = exchange.fapiPrivateGetPositionRisk({"symbol": SYMBOL})
    assert [p["symbol"] for p in raw] == [SYMBOL]
    position = exchange.parse_position_risk(raw[0], exchange.market(UNIFIED))
    assert position["symbol"] == UNIFIED
    assert position["contracts"] == 0
    assert position["marginMode"] == "cross"


def _place_two(ex: Any) -> list[dict[str, Any]]:
    amount, price = _resting_order(ex)
    return ex.create_orders([
        {"symbol": UNIFIED, "type": "limit", "side": "buy", "amount": amount, "price": price},
        {"symbol": UNIFIED, "type": "limit", "side": "buy", "amount": amount, "price": price * 0.9},
    ])


def test_create_orders_places_a_batch_of_two(exchange: Any, wire: WireRecorder,
                                             mock_state: Callable[[], Any]) -> None:
    placed = _place_two(exchange)
    assert [o["status"] for o in placed] == ["open", "open"]
    fields = wire.sent("POST", "/fapi/v1/batchOrders")[-1].body.decode().split("&")
    batch = next(f for f in fields if f.startswith("batchOrders="))
    assert batch.startswith('batchOrders=[{"') and "%" not in batch
    assert [order_status(mock_state(), o["id"]) for o in placed] == ["NEW", "NEW"]


def test_cancel_orders_cancels_a_batch_by_id_list(exchange: Any, wire: WireRecorder,
                                                  mock_state: Callable[[], Any]) -> None:
    ids = [o["id"] for o in _place_two(exchange)]
    cancelled = exchange.cancel_orders(ids, UNIFIED)
    assert "orderidlist=%5B" in wire.sent("DELETE", "/fapi/v1/batchOrders")[-1].query
    assert sorted(o["id"] for o in cancelled) == sorted(ids)
    assert all(o["status"] == "canceled" for o in cancelled)
    assert [order_status(mock_state(), i) for i in ids] == ["CANCELED", "CANCELED"]
