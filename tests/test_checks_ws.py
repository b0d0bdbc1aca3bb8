"""The WebSocket checks on hand-made transcripts: each fails the conversation that breaks its rule and passes one
that keeps it (extra fields, reordered keys, frames it does not know)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from conformance.checks import RuleViolation
from conformance.checks import ws as checks
from conformance.checks import ws_payloads as payloads
from conformance.data import wscontract
from conformance.data.wsframes import RECEIVED, SENT, Frame, Transcript

API = wscontract.default()
NOW = int(time.time() * 1000)
TICKER = {"last_price": "1.5", "mark_price": "1.5", "index_price": "1.4", "price_change_24h": "-0.1",
          "price_change_percent_24h": "-2.5", "volume_24h": "10", "open_interest_long": "3",
          "open_interest_short": "2", "funding_rate_1h": "+0.0050%"}


def conversation(*frames: tuple[str, float, Any]) -> Transcript:
    t = Transcript("ws://127.0.0.1:1/ws")
    for direction, at, data in frames:
        t.frames.append(Frame(direction, at, data if isinstance(data, str | bytes) else json.dumps(data)))
    return t


def book(bids: list[str], asks: list[str], ts: int = NOW) -> dict[str, Any]:
    return {"type": "orderbook", "channel": "orderbook:BTCUSDT",
            "data": {"bids": [{"price": p, "size": "1"} for p in bids],
                     "asks": [{"price": p, "size": "1"} for p in asks], "timestamp": ts}}


def fails(rule_id: str, call: Any, *args: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        call(*args)
    assert caught.value.rule_id == rule_id and caught.value.exchange is not None
    assert caught.value.exchange.request.method == "WS"
    return caught.value


def test_json_text_frames() -> None:
    checks.json_text_frames(conversation((RECEIVED, 0, {"type": "pong", "extra": 1})))
    fails("ws.json-text-frames", checks.json_text_frames, conversation((RECEIVED, 0, '{"type": "po')))
    fails("ws.json-text-frames", checks.json_text_frames, conversation((RECEIVED, 0, b"\x00binary")))
    fails("ws.json-text-frames", checks.json_text_frames, conversation((RECEIVED, 0, "[1, 2]")))


@pytest.mark.parametrize(("kind", "ack", "rule"), [("subscribe", "subscribed", "ws.subscribe-ack"),
                                                    ("unsubscribe", "unsubscribed", "ws.unsubscribe-ack")])
def test_acknowledged(kind: str, ack: str, rule: str) -> None:
    good = conversation((SENT, 0, {"type": kind, "channel": "ticker:BTCUSDT"}),
                        (RECEIVED, 0.1, {"channel": "ticker:BTCUSDT", "type": ack, "id": 7}))
    checks.acknowledged(good, good.frames[0], ack, rule)
    other = conversation((SENT, 0, {"type": kind, "channel": "ticker:BTCUSDT"}),
                         (RECEIVED, 0.1, {"type": ack, "channel": "ticker:ETHUSDT"}))
    fails(rule, checks.acknowledged, other, other.frames[0], ack, rule)


def test_ping_pong_and_protocol_pong() -> None:
    good = conversation((SENT, 0, {"type": "ping"}), (RECEIVED, 0.1, {"type": "pong", "timestamp": NOW}))
    checks.pong_answered(good, good.frames[0])
    silent = conversation((SENT, 0, {"type": "ping"}), (RECEIVED, 0.1, {"type": "ticker", "data": TICKER}))
    fails("ws.ping-pong", checks.pong_answered, silent, silent.frames[0])
    good.protocol_pong = True
    checks.protocol_pong(good)
    good.protocol_pong = False
    fails("ws.protocol-pong", checks.protocol_pong, good)


def test_ticker_payload_and_many_subscriptions() -> None:
    ticker = {"type": "ticker", "channel": "ticker:BTCUSDT", "data": {**TICKER, "unknown_extra": [1]}}
    good = conversation((RECEIVED, 0, ticker), (RECEIVED, 0.1, book(["2", "1"], ["3", "4"])))
    payloads.payload_matches(good, API, "ticker", "ws.ticker-payload")
    checks.many_subscriptions(good, ["ticker:BTCUSDT", "orderbook:BTCUSDT"])
    unwrapped = conversation((RECEIVED, 0, {"type": "ticker", **TICKER}))  # a server that does not wrap in data
    payloads.payload_matches(unwrapped, API, "ticker", "ws.ticker-payload")
    missing = {**ticker, "data": {k: v for k, v in TICKER.items() if k != "mark_price"}}
    fails("ws.ticker-payload", payloads.payload_matches, conversation((RECEIVED, 0, missing)), API, "ticker",
          "ws.ticker-payload")
    number = {**ticker, "data": {**TICKER, "last_price": 1.5}}
    fails("ws.ticker-payload", payloads.payload_matches, conversation((RECEIVED, 0, number)), API, "ticker",
          "ws.ticker-payload")
    fails("ws.many-subscriptions", checks.many_subscriptions, conversation((RECEIVED, 0, ticker)),
          ["ticker:BTCUSDT", "orderbook:BTCUSDT"])


@pytest.mark.parametrize(("bids", "asks", "why"), [
    (["1", "2"], ["3", "4"], "bids"), (["2", "1"], ["4", "3"], "asks"), (["3", "1"], ["2", "4"], "crossed"),
    ([str(100 - i) for i in range(21)], ["101"], "maxItems"),
])
def test_orderbook_levels_fail(bids: list[str], asks: list[str], why: str) -> None:
    violation = fails("ws.orderbook-levels", payloads.orderbook_levels, conversation((RECEIVED, 0, book(bids, asks))),
                      API)
    assert why.split()[0] in violation.actual or why == "maxItems", violation.actual


def test_orderbook_levels_pass_and_leave_time_units_alone() -> None:
    payloads.orderbook_levels(conversation((RECEIVED, 0, book(["2", "1"], ["3", "4"], ts=NOW // 1000))), API)
    fails("ws.millisecond-timestamps", payloads.millisecond_timestamps,
          conversation((RECEIVED, 0, book(["2"], ["3"], ts=NOW // 1000))))
    payloads.millisecond_timestamps(conversation((RECEIVED, 0, book(["2"], ["3"]))))


def test_ascending_time_order() -> None:
    snap = {"type": "kline_snapshot", "channel": "kline:BTCUSDT:1m",
            "data": [{"open_time": NOW - 120_000}, {"open_time": NOW - 60_000}]}
    payloads.ascending_time_order(conversation((RECEIVED, 0, snap)))
    fails("ws.ascending-time-order", payloads.ascending_time_order,
          conversation((RECEIVED, 0, {**snap, "data": snap["data"][::-1]})))
    rows = {"id": "1", "status": 200, "result": [[NOW - 60_000, "1"], [NOW - 120_000, "1"]], "rateLimits": []}
    fails("ws.ascending-time-order", payloads.ascending_time_order, conversation((RECEIVED, 0, rows)))


def test_cadence() -> None:
    fast = conversation(*[(RECEIVED, i * 0.2, {"type": "ticker", "channel": "ticker:X", "data": TICKER})
                          for i in range(5)])
    payloads.cadence(fast, "ticker:X", "ticker", API)
    slow = conversation(*[(RECEIVED, i * 3.5, {"type": "ticker", "channel": "ticker:X", "data": TICKER})
                          for i in range(5)])
    fails("ws.cadence", payloads.cadence, slow, "ticker:X", "ticker", API)


def test_auth_and_private_channels() -> None:
    ok = conversation((SENT, 0, {"type": "auth", "listenKey": "k"}), (RECEIVED, 0.1,
                      {"success": True, "type": "auth_result"}))
    checks.auth_succeeded(ok, ok.frames[0])
    refused = conversation((SENT, 0, {"type": "auth", "listenKey": "k"}),
                           (RECEIVED, 0.1, {"type": "auth_result", "success": False}))
    fails("ws.listenkey-auth", checks.auth_succeeded, refused, refused.frames[0])
    kept = conversation((SENT, 0, {"type": "subscribe", "channel": "orders"}),
                        (RECEIVED, 0.1, {"type": "error", "channel": "orders", "msg": "auth first"}))
    checks.private_refused_before_auth(kept, API.private_channels)
    for answer in ({"type": "subscribed", "channel": "orders"}, {"type": "order", "data": {"orderId": 1}}):
        fails("ws.private-after-auth", checks.private_refused_before_auth,
              conversation((SENT, 0, {"type": "subscribe", "channel": "orders"}), (RECEIVED, 0.1, answer)),
              API.private_channels)


def test_order_event() -> None:
    seen = conversation((RECEIVED, 0, {"type": "order", "channel": "orders", "data": {"orderId": 12, "x": None}}))
    checks.order_event(seen, ["cid-1", "12"])
    fails("ws.order-event", checks.order_event, seen, ["cid-2", "13"])


def test_api_response_and_result_shape() -> None:
    request = (SENT, 0, {"id": "a", "method": "ticker.price", "params": {}})
    limits = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400, "count": 1}]
    good = conversation(request, (RECEIVED, 0.1, {"rateLimits": limits, "result": {"symbol": "X", "price": "1",
                                                   "time": NOW, "extra": 1}, "status": 200, "id": "a"}))
    answer = checks.api_response(good, good.frames[0])
    checks.api_result_shape(good, answer, {"price": "2", "symbol": "Y", "time": NOW}, "ticker.price", "/p")
    fails("ws.api-result-shape", checks.api_result_shape, good, answer,
          {"price": "2", "symbol": "Y", "time": NOW, "missing": "z"}, "ticker.price", "/p")
    fails("ws.api-result-shape", checks.api_result_shape, good, answer, {"price": 2, "symbol": "Y", "time": NOW},
          "ticker.price", "/p")
    for broken in ({"id": "b", "status": 200, "result": {}, "rateLimits": limits},
                   {"id": "a", "status": 200, "result": {}},
                   {"id": "a", "status": "200", "result": {}, "rateLimits": limits},
                   {"id": "a", "status": 200, "result": {}, "rateLimits": [{"count": 1}]}):
        bad = conversation(request, (RECEIVED, 0.1, broken))
        fails("ws.api-response-frame", checks.api_response, bad, bad.frames[0])


def test_accepts_connections() -> None:
    t = Transcript("wss://api-sepolia.ztdx.io/ws")
    checks.accepts_connections(t, None)
    fails("ws.testnet-url", checks.accepts_connections, t, "HTTP 404")
