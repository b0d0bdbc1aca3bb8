"""WebSocket checks: pure functions of one recorded conversation (`Transcript`), each judging one `ws.*` rule: the
connection, the frames, the private channels and the WebSocket-API (what events carry and when: ws_payloads.py).

A check says which rule it judged (`judged`) and raises `RuleViolation` with the transcript as its exchange, so the
report shows the frames."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.checks import RuleViolation, judged, scenario
from conformance.data.wsframes import PRIVATE_EVENT_TYPES, RECEIVED, SENT, Frame, Transcript, mentions


def _fail(rule_id: str, transcript: Transcript, expected: list[str] | str, actual: str) -> RuleViolation:
    return RuleViolation(rule_id, expected, actual, exchange=transcript.exchange())


def _judge(rule_id: str, transcript: Transcript) -> None:
    judged(rule_id, transcript.exchange())


# -- the connection ----------------------------------------------------------------------------------------------
@scenario("ws.testnet-url")
def accepts_connections(transcript: Transcript, refusal: str | None) -> None:
    """ws.testnet-url: the documented URL completed a WebSocket handshake (`refusal` says why not)."""
    _judge("ws.testnet-url", transcript)
    if refusal is not None:
        raise _fail("ws.testnet-url", transcript, f"a WebSocket handshake at {transcript.url} (HTTP 101)", refusal)


# -- frames ---------------------------------------------------------------------------------------------------
@scenario("ws.json-text-frames")
def json_text_frames(transcript: Transcript) -> None:
    """ws.json-text-frames: every received frame is a text frame holding a JSON object."""
    received = transcript.received
    if not received:
        return
    _judge("ws.json-text-frames", transcript)
    for frame in received:
        if not isinstance(frame.data, str) or not frame.is_json or not isinstance(frame._parsed, dict):
            raise _fail("ws.json-text-frames", transcript, "a text frame holding a JSON object",
                        f"frame at +{frame.at:.3f}s: {frame.text[:200]!r}")


@scenario("ws.subscribe-ack", "ws.unsubscribe-ack")
def acknowledged(transcript: Transcript, request: Frame, ack: str, rule_id: str) -> None:
    """ws.subscribe-ack / ws.unsubscribe-ack: `request` (a sent subscribe/unsubscribe) is answered with `ack`
    naming its channel (a frame without a channel field counts: the fields are not documented)."""
    _judge(rule_id, transcript)
    channel = request.channel
    for frame in transcript.after(request):
        if frame.direction == RECEIVED and frame.type == ack and frame.channel in ("", channel):
            return
    raise _fail(rule_id, transcript, f'{{"type": "{ack}", "channel": "{channel}"}}',
                f"no {ack} for {channel}; received {transcript.summary()}")


@scenario("ws.ping-pong")
def pong_answered(transcript: Transcript, ping: Frame) -> None:
    """ws.ping-pong: a sent ping message is followed by a pong message."""
    _judge("ws.ping-pong", transcript)
    if any(f.direction == RECEIVED and f.type == "pong" for f in transcript.after(ping)):
        return
    raise _fail("ws.ping-pong", transcript, '{"type": "pong"}', f"no pong; received {transcript.summary()}")


@scenario("ws.protocol-pong")
def protocol_pong(transcript: Transcript) -> None:
    """ws.protocol-pong: the Ping frame the client sent was answered with a Pong frame."""
    if transcript.protocol_pong is None:
        return
    _judge("ws.protocol-pong", transcript)
    if not transcript.protocol_pong:
        raise _fail("ws.protocol-pong", transcript, "a Pong frame (RFC 6455 5.5.3)",
                    "no Pong frame answered the Ping" + (f"; {transcript.closed}" if transcript.closed else ""))


@scenario("ws.many-subscriptions")
def many_subscriptions(transcript: Transcript, channels: Iterable[str]) -> None:
    """ws.many-subscriptions: events of every subscribed channel arrive on the one connection."""
    _judge("ws.many-subscriptions", transcript)
    missing = [c for c in channels if not any(f.channel == c for f in transcript.events())]
    if missing:
        raise _fail("ws.many-subscriptions", transcript, "events of every channel subscribed on the connection",
                    f"no event of {', '.join(missing)}; received {transcript.summary()}")


# -- private channels -----------------------------------------------------------------------------------------
@scenario("ws.listenkey-auth")
def auth_succeeded(transcript: Transcript, auth: Frame) -> None:
    """ws.listenkey-auth: the auth message with a valid listenKey is answered with auth_result success true."""
    _judge("ws.listenkey-auth", transcript)
    for frame in transcript.after(auth):
        if frame.type == "auth_result":
            if frame.obj.get("success") is True:
                return
            raise _fail("ws.listenkey-auth", transcript, '{"type": "auth_result", "success": true}',
                        f"auth_result: {frame.text[:200]}")
    raise _fail("ws.listenkey-auth", transcript, '{"type": "auth_result", "success": true}',
                f"no auth_result; received {transcript.summary()}")


@scenario("ws.private-after-auth")
def private_refused_before_auth(transcript: Transcript, private_channels: Iterable[str]) -> None:
    """ws.private-after-auth: before a successful auth_result, no private channel is acknowledged and no private
    event arrives."""
    private = set(private_channels)
    _judge("ws.private-after-auth", transcript)
    for frame in transcript.received:
        if frame.type == "auth_result" and frame.obj.get("success") is True:
            return
        if frame.type == "subscribed" and frame.channel in private:
            raise _fail("ws.private-after-auth", transcript,
                        "an error (or nothing) for a private channel before auth_result success",
                        f"subscribed {frame.channel} without auth")
        if frame.type in PRIVATE_EVENT_TYPES:
            raise _fail("ws.private-after-auth", transcript, "no private event before auth_result success",
                        f"{frame.type} event without auth: {frame.text[:200]}")


@scenario("ws.order-event")
def order_event(transcript: Transcript, order_ids: Iterable[str]) -> None:
    """ws.order-event: an order event names the order (its clientOrderId or orderId)."""
    wanted = {str(i) for i in order_ids if i not in (None, "")}
    _judge("ws.order-event", transcript)
    if any(mentions(f.payload, wanted) for f in transcript.events("order")):
        return
    raise _fail("ws.order-event", transcript, f"an order event naming {' or '.join(sorted(wanted))}",
                f"no order event for it; received {transcript.summary()}")


# -- WebSocket-API ----------------------------------------------------------------------------------------------
@scenario("ws.api-response-frame")
def api_response(transcript: Transcript, request: Frame) -> Frame:
    """ws.api-response-frame: the response with the request's id carries a status, a result and rateLimits
    (each with rateLimitType, interval, intervalNum, limit, count). Returns it."""
    _judge("ws.api-response-frame", transcript)
    request_id = request.obj.get("id")
    answer = next((f for f in transcript.after(request) if f.direction == RECEIVED and "id" in f.obj
                   and f.obj.get("id") == request_id), None)
    expected = '{"id": <the request\'s>, "status": 200, "result": ..., "rateLimits": [...]}'
    if answer is None:
        raise _fail("ws.api-response-frame", transcript, expected, f"no frame with id {request_id}")
    obj = answer.obj
    missing = [k for k in ("status", "result", "rateLimits") if k not in obj]
    if missing:
        raise _fail("ws.api-response-frame", transcript, expected, f"the response lacks {', '.join(missing)}: "
                    f"{answer.text[:200]}")
    if not isinstance(obj["status"], int) or isinstance(obj["status"], bool):
        raise _fail("ws.api-response-frame", transcript, "status: an integer", f"status: {obj['status']!r}")
    limits = obj["rateLimits"]
    fields = ("rateLimitType", "interval", "intervalNum", "limit", "count")
    if not isinstance(limits, list) or not all(isinstance(x, dict) and all(k in x for k in fields) for x in limits):
        raise _fail("ws.api-response-frame", transcript,
                    "rateLimits: a list of {rateLimitType, interval, intervalNum, limit, count}",
                    f"rateLimits: {str(limits)[:200]}")
    return answer


def shape(value: Any) -> Any:
    """A JSON value's shape: types and object keys, recursively (a list by its first element)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"


def _difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where the WebSocket result `a` lacks a key of the REST answer `b` or holds another type (extra keys conform,
    as extra fields do in REST answers)."""
    if isinstance(a, dict) and isinstance(b, dict):
        missing = sorted(set(b) - set(a))
        if missing:
            return f"{path}: the WebSocket result lacks {missing}, which the REST answer carries"
        return next((d for k in b if (d := _difference(a[k], b[k], f"{path}.{k}"))), None)
    if isinstance(a, list) and isinstance(b, list):
        return _difference(a[0], b[0], f"{path}[0]") if a and b else None
    return None if a == b else f"{path}: {_kind(a)} in the WebSocket result, {_kind(b)} in the REST answer"


def _kind(shape_: Any) -> str:
    return "an object" if isinstance(shape_, dict) else ("an array" if isinstance(shape_, list) else f"a {shape_}")


@scenario("ws.api-result-shape")
def api_result_shape(transcript: Transcript, answer: Frame, rest_body: Any, method: str, rest_path: str) -> None:
    """ws.api-result-shape: the result has the shape (types, keys) of the REST equivalent's answer: every key of the
    REST answer, at every depth, with the same JSON type."""
    _judge("ws.api-result-shape", transcript)
    difference = _difference(shape(answer.obj.get("result")), shape(rest_body))
    if difference:
        raise _fail("ws.api-result-shape", transcript, f"{method}: the shape of GET {rest_path}'s answer", difference)


def sent(transcript: Transcript, kind: str, channel: str | None = None) -> Frame | None:
    """The first frame the client sent of `kind` (and `channel`)."""
    return next((f for f in transcript.frames if f.direction == SENT and f.type == kind
                 and (channel is None or f.channel == channel)), None)
