"""WebSocket variants of the reference mock: an ASGI wrapper that rewrites the frames the mock's /ws sends.

Each breaking variant breaks one ws.* rule; the conforming ones (extra fields, reordered keys, a faster cadence
than documented) must fail nothing. HTTP passes through untouched."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.mock import MockServer
from conformance.mock.ws import in_seconds

DROP = object()
Change = Callable[[dict[str, Any], dict[str, int]], Any]  # a frame, a per-connection counter -> frame | str | DROP


def _non_json(frame: dict[str, Any], seen: dict[str, int]) -> Any:
    """Every third event is cut in half: not JSON."""
    if frame.get("type") in ("ticker", "orderbook", "kline"):
        seen["events"] = seen.get("events", 0) + 1
        if seen["events"] % 3 == 0:
            return json.dumps(frame)[:40]
    return frame


def _seconds(frame: dict[str, Any], seen: dict[str, int]) -> Any:
    return in_seconds(frame)  # the mock's own `seconds` fault, on every frame


def _descending_snapshot(frame: dict[str, Any], seen: dict[str, int]) -> Any:
    if frame.get("type") == "kline_snapshot" and isinstance(frame.get("data"), list):
        return {**frame, "data": frame["data"][::-1]}
    return frame


def _drop(kind: str) -> Change:
    return lambda frame, seen: DROP if frame.get("type") == kind else frame


def _private_before_auth(frame: dict[str, Any], seen: dict[str, int]) -> Any:
    """The refusal of a private subscription before auth becomes its acknowledgement."""
    if frame.get("type") == "error" and frame.get("channel") in ("orders", "positions", "balances"):
        return {"type": "subscribed", "channel": frame["channel"]}
    return frame


def _crossed_book(frame: dict[str, Any], seen: dict[str, int]) -> Any:
    if frame.get("type") == "orderbook" and isinstance(frame.get("data"), dict):
        data = frame["data"]
        return {**frame, "data": {**data, "bids": data["asks"], "asks": data["bids"]}}
    return frame


def _result_without_a_key(frame: dict[str, Any], seen: dict[str, int]) -> Any:
    """WebSocket-API results lose a key their REST equivalent carries (the first key of an object result)."""
    result = frame.get("result")
    if "id" in frame and isinstance(result, dict) and result:
        return {**frame, "result": dict(list(result.items())[1:])}
    return frame


def _extra_fields(value: Any, seen: dict[str, int] | None = None) -> Any:
    if isinstance(value, dict):
        return {**{k: _extra_fields(v) for k, v in value.items()}, "x_unknown": {"n": 1}}
    if isinstance(value, list):
        return [_extra_fields(v) for v in value]
    return value


def _reordered(value: Any, seen: dict[str, int] | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


# variant -> (change, the mock's cadence scale)
WS_VARIANTS: dict[str, tuple[Change | None, float]] = {
    "ws-non-json-frame": (_non_json, 0.1),
    "ws-seconds-timestamps": (_seconds, 0.1),
    "ws-descending-snapshot": (_descending_snapshot, 0.1),
    "ws-no-subscribe-ack": (_drop("subscribed"), 0.1),
    "ws-private-before-auth": (_private_before_auth, 0.1),
    "ws-no-pong": (_drop("pong"), 0.1),
    "ws-crossed-book": (_crossed_book, 0.1),
    "ws-slow-cadence": (None, 3.0),
    "ws-api-result-missing-key": (_result_without_a_key, 0.1),  # three times slower than documented
    "ws-extra-fields": (_extra_fields, 0.1),
    "ws-reordered-keys": (_reordered, 0.1),
    "ws-faster-cadence": (None, 0.05),
}


class WsMutant:
    """ASGI: the mock, with `change` applied to every text frame its /ws sends."""

    def __init__(self, app: ASGIApp, change: Change | None) -> None:
        self.app, self.change = app, change
        self.state = app.state  # type: ignore[attr-defined]  # MockServer.state reads app.state.mock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or self.change is None:
            await self.app(scope, receive, send)
            return
        seen: dict[str, int] = {}
        change = self.change

        async def rewritten(message: Message) -> None:
            if message["type"] == "websocket.send" and message.get("text") is not None:
                frame = json.loads(message["text"])
                out = change(frame, seen) if isinstance(frame, dict) else frame
                if out is DROP:
                    return
                message = {"type": "websocket.send", "text": out if isinstance(out, str) else json.dumps(out)}
            await send(message)

        await self.app(scope, receive, rewritten)


def ws_variant_server(name: str) -> MockServer:
    """A reference mock (not started) whose /ws behaves as variant `name`."""
    change, scale = WS_VARIANTS[name]
    server = MockServer(host="127.0.0.1", port=0, ws_cadence_scale=scale)
    server.app = WsMutant(server.app, change)  # type: ignore[assignment]
    return server
