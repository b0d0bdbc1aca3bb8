"""The ZTDX WebSocket (fixtures/asyncapi.yaml): public streams, the private stream after a listenKey auth, and the
WebSocket-API methods. A few connections, each conversation recorded once and judged by one test per rule; every
wait is bounded, and a silent stream is "not tested: no … event within N s", never a hang."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance.checks import ws
from conformance.checks import ws_payloads as payloads
from conformance.data.contract import Contract
from conformance.data.exceptions import NotTested
from conformance.data.wscontract import AsyncApi
from conformance.data.wsframes import RECEIVED, Frame, Transcript, mentions
from conformance.harness import readers
from conformance.harness.client import Client
from conformance.harness.governor import Governor
from conformance.harness.orders import OrderFactory
from conformance.harness.orderstream import listen_key
from conformance.harness.session import RunState
from conformance.harness.targets import TESTNET_WS_URL, Target
from conformance.harness.wsclient import WsSession

SYMBOL = "BTCUSDT"
TICKER, ORDERBOOK, KLINE = f"ticker:{SYMBOL}", f"orderbook:{SYMBOL}", f"kline:{SYMBOL}:1m"
PUBLIC = {TICKER: "ticker", ORDERBOOK: "orderbook", KLINE: "kline"}
CADENCED = [pytest.param(TICKER, "ticker", id="ticker"), pytest.param(ORDERBOOK, "orderbook", id="orderbook")]
EVENTS_FOR_CADENCE = 4
ANSWER_WAIT = 5.0  # seconds for an ack, a pong, an auth_result, an API response or an order event
PRIVATE_WAIT = 3.0  # seconds a refused private subscription is watched
API_CALLS: dict[str, tuple[dict[str, Any], str]] = {  # method -> (params, the REST equivalent)
    "depth": ({"symbol": SYMBOL, "limit": 5}, "/fapi/v1/depth"),
    "ticker.24hr": ({"symbol": SYMBOL}, "/fapi/v1/ticker/24hr"),
    "klines": ({"symbol": SYMBOL, "interval": "1m", "limit": 5}, "/fapi/v1/klines"),
    "ticker.price": ({"symbol": SYMBOL}, "/fapi/v1/ticker/price"),
    "ticker.book": ({"symbol": SYMBOL}, "/fapi/v1/ticker/bookTicker"),
}


@pytest.fixture(scope="module")
def asyncapi(run_state: RunState) -> AsyncApi:
    assert run_state.asyncapi is not None
    return run_state.asyncapi


@pytest.fixture(scope="module")
def open_ws(run_state: RunState, target: Target) -> Callable[[], WsSession]:
    """A new session on the run's WebSocket URL. Where the URL is documented (the testnet), no answer there is
    ws.testnet-url's failure; elsewhere it is "not tested: no WebSocket at …"."""
    assert run_state.ws_budget is not None
    rule = "ws.testnet-url" if run_state.ws_url == TESTNET_WS_URL else None
    budget = run_state.ws_budget
    return lambda: WsSession(run_state.ws_url, budget, rule_id=rule).open()


def _enough(t: Transcript) -> bool:
    return (all(len(t.events(kind, channel)) >= EVENTS_FOR_CADENCE for channel, kind in PUBLIC.items()
                if kind != "kline")
            and bool(t.events("kline_snapshot")) and any(f.type == "pong" for f in t.received))


@pytest.fixture(scope="module")
def public_stream(open_ws: Callable[[], WsSession], asyncapi: AsyncApi) -> Transcript:
    """One connection: subscribe to ticker, orderbook and kline, ping, collect, unsubscribe ticker, protocol Ping."""
    slowest = max(asyncapi.cadence_ms(kind) or 0 for kind in PUBLIC.values())
    window = slowest / 1000 * EVENTS_FOR_CADENCE * (1 + asyncapi.cadence_tolerance) + 2
    session = open_ws()
    try:
        for channel in PUBLIC:
            session.send({"type": "subscribe", "channel": channel})
        session.send({"type": "ping"})
        session.collect(window, _enough)
        session.send({"type": "unsubscribe", "channel": TICKER})
        session.wait_for(lambda f: f.type == "unsubscribed", ANSWER_WAIT)
        session.protocol_ping(ANSWER_WAIT)
    finally:
        session.close()
    return session.transcript


def _readable(transcript: Transcript) -> None:
    """Frames came but none could be read: every other rule is not tested, judged by ws.json-text-frames."""
    received = transcript.received
    if received and not any(f.is_json for f in received):
        raise NotTested(f"precondition: none of the {len(received)} frames received is JSON",
                        rule_id="ws.json-text-frames")


def _events(transcript: Transcript, kind: str, channel: str | None = None, *, at_least: int = 1) -> list[Frame]:
    _readable(transcript)
    events = transcript.events(kind, channel)
    if len(events) < at_least:
        last = transcript.frames[-1].at if transcript.frames else 0.0
        subscribed = any(f.type == "subscribed" for f in transcript.received)
        raise NotTested(f"{len(events)} {kind} event(s) within {last:.1f} s (needs {at_least}); received "
                        f"{transcript.summary()}", rule_id=None if subscribed else "ws.subscribe-ack")
    return events


def _sent(transcript: Transcript, kind: str, channel: str | None = None) -> Frame:
    frame = ws.sent(transcript, kind, channel)
    if frame is None:
        raise NotTested(f"precondition: no {kind} was sent (the connection ended first: {transcript.closed})")
    return frame


@pytest.mark.rule("ws.testnet-url")
def test_the_testnet_accepts_websocket_connections_at_its_documented_url(run_state: RunState) -> None:
    if run_state.ws_url != TESTNET_WS_URL:
        raise NotTested(f"judged on the testnet's documented URL only (this run's is {run_state.ws_url})")
    assert run_state.ws_budget is not None
    session = WsSession(run_state.ws_url, run_state.ws_budget)
    try:
        session.open()
        refusal = None
    except NotTested as exc:  # the handshake was refused or timed out: here that is the rule's failure
        refusal = exc.reason
    finally:
        session.close()
    ws.accepts_connections(session.transcript, refusal)


@pytest.mark.rule("ws.json-text-frames")
def test_every_frame_the_server_sends_is_json_text(public_stream: Transcript) -> None:
    if not public_stream.received:
        raise NotTested(f"nothing to judge: no frame received; {public_stream.summary()}")
    ws.json_text_frames(public_stream)


@pytest.mark.rule("ws.subscribe-ack")
@pytest.mark.parametrize("channel", list(PUBLIC), ids=list(PUBLIC.values()))
def test_subscribe_is_acknowledged_with_subscribed(public_stream: Transcript, channel: str) -> None:
    _readable(public_stream)
    ws.acknowledged(public_stream, _sent(public_stream, "subscribe", channel), "subscribed", "ws.subscribe-ack")


@pytest.mark.rule("ws.unsubscribe-ack")
def test_unsubscribe_is_acknowledged_with_unsubscribed(public_stream: Transcript) -> None:
    _readable(public_stream)
    ws.acknowledged(public_stream, _sent(public_stream, "unsubscribe", TICKER), "unsubscribed", "ws.unsubscribe-ack")


@pytest.mark.rule("ws.ping-pong")
def test_ping_message_is_answered_with_pong(public_stream: Transcript) -> None:
    _readable(public_stream)
    ws.pong_answered(public_stream, _sent(public_stream, "ping"))


@pytest.mark.rule("ws.protocol-pong")
def test_protocol_ping_frame_is_answered_with_pong_frame(public_stream: Transcript) -> None:
    if public_stream.protocol_pong is None:
        raise NotTested("precondition: no Ping frame was sent")
    ws.protocol_pong(public_stream)


@pytest.mark.rule("ws.many-subscriptions")
def test_one_connection_carries_events_of_several_subscriptions(public_stream: Transcript) -> None:
    _events(public_stream, "ticker", TICKER)  # the subscriptions work one by one, or there is nothing to judge
    ws.many_subscriptions(public_stream, [TICKER, ORDERBOOK])


@pytest.mark.rule("ws.ticker-payload")
def test_ticker_events_carry_the_documented_fields(public_stream: Transcript, asyncapi: AsyncApi) -> None:
    _events(public_stream, "ticker", TICKER)
    payloads.payload_matches(public_stream, asyncapi, "ticker", "ws.ticker-payload")


@pytest.mark.rule("ws.orderbook-levels")
def test_orderbook_events_carry_sorted_uncrossed_levels(public_stream: Transcript, asyncapi: AsyncApi) -> None:
    _events(public_stream, "orderbook", ORDERBOOK)
    payloads.orderbook_levels(public_stream, asyncapi)


@pytest.mark.rule("ws.millisecond-timestamps")
def test_times_in_stream_events_are_milliseconds(public_stream: Transcript) -> None:
    _events(public_stream, "orderbook", ORDERBOOK)
    payloads.millisecond_timestamps(public_stream)


@pytest.mark.rule("ws.ascending-time-order")
def test_kline_snapshot_is_earliest_first(public_stream: Transcript) -> None:
    snapshot = _events(public_stream, "kline_snapshot", KLINE)
    if not any(isinstance(f.payload, list) and len(f.payload) > 1 for f in snapshot):
        raise NotTested("nothing to judge: the kline snapshot holds fewer than two candles")
    payloads.ascending_time_order(public_stream)


@pytest.mark.rule("ws.cadence")
@pytest.mark.parametrize(("channel", "kind"), CADENCED)
def test_public_channel_publishes_at_its_documented_cadence(public_stream: Transcript, asyncapi: AsyncApi,
                                                            channel: str, kind: str) -> None:
    _events(public_stream, kind, channel, at_least=EVENTS_FOR_CADENCE)
    payloads.cadence(public_stream, channel, kind, asyncapi, EVENTS_FOR_CADENCE)


# -- the private stream -------------------------------------------------------------------------------------------
@pytest.mark.rule("ws.private-after-auth")
def test_private_channel_is_refused_before_auth(open_ws: Callable[[], WsSession], asyncapi: AsyncApi) -> None:
    channel = asyncapi.private_channels[0]
    with open_ws() as session:
        session.send({"type": "subscribe", "channel": channel})
        session.wait_for(lambda f: f.channel == channel or f.type == "error", PRIVATE_WAIT)
        session.collect(0.5)  # a private event right behind the answer counts too
    _readable(session.transcript)
    ws.private_refused_before_auth(session.transcript, asyncapi.private_channels)


@pytest.mark.rule("ws.listenkey-auth")
@pytest.mark.capability("signed")
def test_auth_with_a_listenkey_is_answered_with_success(open_ws: Callable[[], WsSession], client: Client) -> None:
    key = listen_key(client)
    with open_ws() as session:
        auth, _ = session.authenticate(key, ANSWER_WAIT)
    _readable(session.transcript)
    ws.auth_succeeded(session.transcript, auth)


@pytest.mark.rule("ws.order-event")
@pytest.mark.capability("trading")
def test_an_order_placed_over_rest_is_reported_on_the_order_channel(open_ws: Callable[[], WsSession],
                                                                    client: Client, orders: OrderFactory,
                                                                    asyncapi: AsyncApi) -> None:
    key, channel = listen_key(client), asyncapi.private_channels[0]
    with open_ws() as session:
        _, answer = session.authenticate(key, ANSWER_WAIT)
        if answer is None or answer.obj.get("success") is not True:
            raise NotTested("precondition: the listenKey auth did not succeed", rule_id="ws.listenkey-auth")
        session.send({"type": "subscribe", "channel": channel})
        if session.wait_for(lambda f: f.type in ("subscribed", "error"), ANSWER_WAIT) is None:
            raise NotTested(f"precondition: no answer to subscribe {channel}", rule_id="ws.subscribe-ack")
        params = orders.resting_limit(SYMBOL)
        orders.remember(params)
        try:
            placed = readers.accepted(client.call("POST", "/fapi/v1/order", params), "a resting order is needed")
            ids = [params["newClientOrderId"], *_order_id(placed.response)]
            session.wait_for(lambda f: f.type == "order" and mentions(f.payload, set(map(str, ids))),
                             ANSWER_WAIT)
        finally:
            orders.cancel_all()
    ws.order_event(session.transcript, ids)


def _order_id(response: Any) -> list[str]:
    body = response.json() if response.is_json else {}
    return [str(body["orderId"])] if isinstance(body, dict) and "orderId" in body else []


# -- the WebSocket-API -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api_calls(open_ws: Callable[[], WsSession], governor: Governor,
              contract: Contract) -> Iterator[tuple[Transcript, dict[str, Frame]]]:
    """One connection, one request per method; the answers are waited for together. Each method costs the weight of
    its REST equivalent, paid from the run's budget before it is sent; the answers' `rateLimits` counts reconcile it."""
    with open_ws() as session:
        requests = {}
        for method, (params, path) in API_CALLS.items():
            op = contract.find("GET", path)
            governor.acquire(op.weight(params) if op else 1)
            requests[method] = session.send({"id": str(uuid.uuid4()), "method": method, "params": params})
        ids = {f.obj["id"] for f in requests.values()}
        session.collect(ANSWER_WAIT, lambda t: ids <= {f.obj.get("id") for f in t.received})
    for count in _weight_counts(session.transcript):
        governor.note_server_weight(count)
    yield session.transcript, requests


def _weight_counts(transcript: Transcript) -> Iterator[int]:
    """The REQUEST_WEIGHT counts the answers report (whatever their shape: only integers are taken)."""
    for frame in transcript.received:
        limits = frame.obj.get("rateLimits")
        for entry in limits if isinstance(limits, list) else []:
            count = entry.get("count") if isinstance(entry, dict) else None
            if isinstance(count, int) and not isinstance(count, bool) and entry.get("rateLimitType") == \
                    "REQUEST_WEIGHT":
                yield count


def _answered(api_calls: tuple[Transcript, dict[str, Frame]], method: str) -> tuple[Transcript, Frame]:
    transcript, requests = api_calls
    _readable(transcript)
    if not any("id" in f.obj for f in transcript.received):
        raise NotTested(f"no answer to a WebSocket-API call within {ANSWER_WAIT:.0f} s at {transcript.url} (the URL "
                        "for these calls is not documented)")
    return transcript, requests[method]


@pytest.mark.rule("ws.api-response-frame")
@pytest.mark.parametrize("method", list(API_CALLS))
def test_websocket_api_call_is_answered_with_id_status_result_and_rate_limits(
        api_calls: tuple[Transcript, dict[str, Frame]], method: str) -> None:
    transcript, request = _answered(api_calls, method)
    ws.api_response(transcript, request)


@pytest.mark.rule("ws.api-result-shape")
@pytest.mark.parametrize("method", list(API_CALLS))
def test_websocket_api_result_has_the_shape_of_the_rest_answer(api_calls: tuple[Transcript, dict[str, Frame]],
                                                              method: str, client: Client) -> None:
    transcript, request = _answered(api_calls, method)
    answer = next((f for f in transcript.received if f.obj.get("id") == request.obj["id"]), None)
    if answer is None or "result" not in answer.obj:
        raise NotTested(f"precondition: no result for {method}", rule_id="ws.api-response-frame")
    params, path = API_CALLS[method]
    rest = client.call("GET", path, params)
    if rest.response.status != 200 or not rest.response.is_json:
        raise NotTested(f"precondition: GET {path} answered HTTP {rest.response.status}",
                        rule_id="general.endpoint-implemented")
    ws.api_result_shape(transcript, answer, rest.response.json(), method, path)


def _array_result(api_calls: tuple[Transcript, dict[str, Frame]]) -> Transcript:
    transcript, _ = _answered(api_calls, "klines")
    if not any(f.direction == RECEIVED and isinstance(f.obj.get("result"), list) for f in transcript.frames):
        raise NotTested("precondition: no array result (klines) came back", rule_id="ws.api-response-frame")
    return transcript


@pytest.mark.rule("ws.millisecond-timestamps")
def test_times_in_websocket_api_results_are_milliseconds(api_calls: tuple[Transcript, dict[str, Frame]]) -> None:
    payloads.millisecond_timestamps(_array_result(api_calls))


@pytest.mark.rule("ws.ascending-time-order")
def test_websocket_api_klines_are_earliest_first(api_calls: tuple[Transcript, dict[str, Frame]]) -> None:
    payloads.ascending_time_order(_array_result(api_calls))
