"""A recorded WebSocket conversation (`Transcript` of `Frame`s): the only input a WebSocket check ever sees.

A transcript becomes an `Exchange` (`WS <path> → 101`, the sent frames as the request body, the received ones as the
response body) so that a WebSocket failure is reported, attached and reproduced like a REST one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from conformance.data.exchange import Exchange, Request, Response

SENT, RECEIVED = "sent", "received"
EVENT_TYPES = frozenset({"ticker", "orderbook", "kline", "kline_snapshot", "trade", "order", "position", "balance"})
PRIVATE_EVENT_TYPES = frozenset({"order", "position", "balance"})
_NO_JSON = object()


def mentions(value: Any, wanted: set[str]) -> bool:
    """Whether any value at any depth (not a boolean or null) spells one of `wanted`: an event naming an order."""
    if isinstance(value, dict):
        return any(mentions(v, wanted) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, wanted) for v in value)
    return value is not None and not isinstance(value, bool) and str(value) in wanted


@dataclass(frozen=True)
class Frame:
    """One frame: sent or received, seconds since the connection opened, its data (str for text, bytes for binary)."""

    direction: str
    at: float
    data: str | bytes

    @cached_property
    def _parsed(self) -> Any:
        if not isinstance(self.data, str):
            return _NO_JSON
        try:
            return json.loads(self.data)
        except ValueError:
            return _NO_JSON

    @property
    def is_json(self) -> bool:
        return self._parsed is not _NO_JSON

    @property
    def obj(self) -> dict[str, Any]:
        """The frame as a JSON object ({} when it is not one)."""
        return self._parsed if isinstance(self._parsed, dict) else {}

    @property
    def type(self) -> str:
        value = self.obj.get("type")
        return value if isinstance(value, str) else ""

    @property
    def channel(self) -> str:
        value = self.obj.get("channel")
        return value if isinstance(value, str) else ""

    @property
    def payload(self) -> Any:
        """An event's payload: its `data`, or the frame itself when the server does not wrap (not documented)."""
        obj = self.obj
        return obj["data"] if isinstance(obj.get("data"), dict | list) else obj

    @property
    def is_event(self) -> bool:
        return self.direction == RECEIVED and self.type in EVENT_TYPES

    @property
    def text(self) -> str:
        return self.data if isinstance(self.data, str) else f"<binary frame, {len(self.data)} bytes>"

    def line(self) -> str:
        arrow = "→" if self.direction == SENT else "←"
        return f"+{self.at:.3f}s {arrow} {self.text[:2000]}"


@dataclass
class Transcript:
    """Every frame of one connection, in order, and what else the client saw (protocol pongs, the close)."""

    url: str
    frames: list[Frame] = field(default_factory=list)
    protocol_pong: bool | None = None  # None: no protocol Ping was sent
    closed: str = ""  # why the connection ended early ("" while open or closed by the suite)
    _cached: tuple[tuple[int, str], Exchange] | None = field(default=None, repr=False)

    @property
    def received(self) -> list[Frame]:
        return [f for f in self.frames if f.direction == RECEIVED]

    def events(self, kind: str | None = None, channel: str | None = None) -> list[Frame]:
        return [f for f in self.received if f.is_event and (kind is None or f.type == kind)
                and (channel is None or not f.channel or f.channel == channel)]

    def after(self, frame: Frame) -> Iterator[Frame]:
        index = next(i for i, f in enumerate(self.frames) if f is frame)
        yield from self.frames[index + 1:]

    def summary(self) -> str:
        """What came back, in a few words: for an Actual line."""
        kinds: dict[str, int] = {}
        for f in self.received:
            key = f.type or ("an API response" if "id" in f.obj else ("non-JSON" if not f.is_json else "untyped"))
            kinds[key] = kinds.get(key, 0) + 1
        seen = ", ".join(f"{n} {k}" for k, n in kinds.items()) or "no frame"
        return seen + (f"; the connection ended: {self.closed}" if self.closed else "")

    def exchange(self) -> Exchange:
        """The conversation so far as one Exchange (the same object while nothing new was recorded)."""
        key = (len(self.frames), self.closed)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, self._build())
        return self._cached[1]

    def _build(self) -> Exchange:
        sent = "\n".join(f.line() for f in self.frames if f.direction == SENT)
        got = "\n".join(f.line() for f in self.received[-200:])
        if self.closed:
            got += f"\n(closed: {self.closed})"
        return Exchange(Request("WS", self.url, {}, sent.encode()),
                        Response(101, {"content-type": "text/plain"}, got.encode()))
