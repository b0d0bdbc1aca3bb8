"""The mock's /ws: channels, acks, auth, the engine's private events, the WebSocket-API, and the stream faults."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from conformance.mock import MockServer

from .conftest import Api


@pytest.fixture(scope="module")
def fast() -> Iterator[MockServer]:
    with MockServer(ws_cadence_scale=0.1) as mock:  # ticker every 200 ms, orderbook every 50 ms
        yield mock


@pytest.fixture
def api(fast: MockServer) -> Iterator[Api]:
    client = Api(fast.url)
    client.control("reset", {})
    yield client
    client.http.close()


@pytest.fixture
def ws(fast: MockServer, api: Api) -> Iterator[ClientConnection]:
    with connect(fast.url.replace("http", "ws") + "/ws", open_timeout=5) as conn:
        yield conn


def send(conn: ClientConnection, frame: dict[str, Any]) -> None:
    conn.send(json.dumps(frame))


def until(conn: ClientConnection, wanted: Callable[[Any], bool], seconds: float = 3.0) -> list[Any]:
    """Frames (parsed; raw text when not JSON) up to and including the first one `wanted` accepts."""
    seen: list[Any] = []
    while True:
        raw = conn.recv(timeout=seconds)
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = raw
        seen.append(frame)
        if wanted(frame):
            return seen


def typed(kind: str) -> Callable[[Any], bool]:
    return lambda f: isinstance(f, dict) and f.get("type") == kind


def test_subscribe_unsubscribe_and_ping_are_answered(ws: ClientConnection) -> None:
    send(ws, {"type": "subscribe", "channel": "ticker:BTCUSDT"})
    assert until(ws, typed("subscribed"))[-1] == {"type": "subscribed", "channel": "ticker:BTCUSDT"}
    event = until(ws, typed("ticker"))[-1]
    assert event["channel"] == "ticker:BTCUSDT" and event["data"]["funding_rate_1h"].endswith("%")
    send(ws, {"type": "unsubscribe", "channel": "ticker:BTCUSDT"})
    until(ws, typed("unsubscribed"))
    send(ws, {"type": "ping"})
    until(ws, typed("pong"))


def test_unknown_channel_and_private_channel_before_auth_are_errors(ws: ClientConnection) -> None:
    send(ws, {"type": "subscribe", "channel": "ticker:NOPE"})
    assert until(ws, lambda f: True)[-1]["type"] == "error"
    send(ws, {"type": "subscribe", "channel": "orders"})
    answer = until(ws, lambda f: True)[-1]
    assert answer["type"] == "error" and answer["channel"] == "orders"


def test_orders_placed_over_rest_reach_the_authenticated_order_channel(ws: ClientConnection, api: Api) -> None:
    key = api.call("POST", "/fapi/v1/listenKey").json()["listenKey"]
    send(ws, {"type": "auth", "listenKey": "wrong"})
    assert until(ws, typed("auth_result"))[-1]["success"] is False
    send(ws, {"type": "auth", "listenKey": key})
    assert until(ws, typed("auth_result"))[-1]["success"] is True
    send(ws, {"type": "subscribe", "channel": "orders"})
    until(ws, typed("subscribed"))
    placed = api.order(newClientOrderId="ws-test-1").json()
    event = until(ws, typed("order"))[-1]
    assert event["data"]["orderId"] == placed["orderId"] and event["data"]["status"] == "NEW"
    api.call("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]})
    assert until(ws, typed("order"))[-1]["data"]["status"] == "CANCELED"


def test_websocket_api_answers_from_the_rest_endpoint(ws: ClientConnection, api: Api) -> None:
    send(ws, {"id": "a1", "method": "klines", "params": {"symbol": "BTCUSDT", "interval": "1m", "limit": 3}})
    answer = until(ws, lambda f: f.get("id") == "a1")[-1]
    rest = api.get("/fapi/v1/klines", symbol="BTCUSDT", interval="1m", limit=3).json()
    assert answer["status"] == 200 and len(answer["result"]) == 3 == len(rest)
    assert [row[0] for row in answer["result"]] == [row[0] for row in rest]
    assert answer["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    send(ws, {"id": "a2", "method": "nope", "params": {}})
    assert until(ws, lambda f: f.get("id") == "a2")[-1]["status"] == 400


@pytest.mark.parametrize("kind", ["malformed", "seconds", "no-pong", "drop", "delay"])
def test_stream_faults_from_the_control_api(kind: str, ws: ClientConnection, api: Api) -> None:
    api.control("ws-faults", {"kind": kind, "count": 1, "ms": 300})
    if kind == "no-pong":
        send(ws, {"type": "ping"})
        send(ws, {"type": "ping"})
        seen = until(ws, typed("pong"))
        assert len(seen) == 1, seen  # the first ping went unanswered, the second got its pong
        return
    send(ws, {"type": "subscribe", "channel": "orderbook:BTCUSDT"})
    until(ws, typed("subscribed"))
    if kind == "drop":
        with pytest.raises(Exception, match=r"1011|closed"):
            until(ws, lambda f: False)
        return
    event = until(ws, lambda f: True)[-1]
    if kind == "malformed":
        assert isinstance(event, str)
    elif kind == "seconds":
        assert event["data"]["timestamp"] < 10**11
    else:  # delay: the event still comes, later
        assert event["type"] == "orderbook"
    assert api.control("state")["ws"]["faults_pending"] == 0


def test_a_bad_ws_fault_is_a_400() -> None:
    with MockServer() as mock:
        import httpx
        response = httpx.post(f"{mock.url}/__mock__/ws-faults", json={"kind": "nope"})
        assert response.status_code == 400 and "kind must be one of" in response.json()["error"]
