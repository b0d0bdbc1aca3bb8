"""`/ws`: the ZTDX WebSocket (fapi-contract §5.B and §6) on the mock's own port and event loop.

Public channels come from the market simulation (`ticker:SYM` every 2 s, `orderbook:SYM` every 500 ms, `kline:SYM:I`
a snapshot then the current candle each second), private ones (`orders`, `positions`, `balances`, after a listenKey
`auth`) from the trading engine, and the WebSocket-API methods (`{id, method, params}`) from the REST endpoints
themselves, so that a result is the REST answer. Frames are `type`-tagged JSON; an event carries its `channel` and its
payload under `data` (the wrapper is an assumption: the doc gives the payload fields only). Stream faults come from
the control API (`POST /__mock__/ws-faults`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from .market import HOUR, MINUTE
from .symbols import SYMBOLS

TICKER_MS, ORDERBOOK_MS, KLINE_MS = 2000, 500, 1000  # documented cadences (kline: not documented, 1 s here)
BOOK_LEVELS = 20
SNAPSHOT_CANDLES = 10
INTERVAL_MS = {"1m": MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE, "1h": HOUR}
PRIVATE = {"orders": "order", "order": "order", "positions": "position", "position": "position",
           "balances": "balance", "balance": "balance"}
API_METHODS = {"depth": "/fapi/v1/depth", "ticker.24hr": "/fapi/v1/ticker/24hr", "klines": "/fapi/v1/klines",
               "ticker.price": "/fapi/v1/ticker/price", "ticker.book": "/fapi/v1/ticker/bookTicker"}
WS_FAULT_KINDS = ("drop", "delay", "malformed", "no-pong", "seconds")
TIME_KEYS = frozenset({"timestamp", "time", "E", "T", "open_time", "close_time", "updateTime", "update_time"})

Rest = Callable[[Request], Awaitable[Response]]


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class WsFault:
    kind: str
    remaining: int
    ms: float = 0.0


@dataclass
class WsFaults:
    """Pending stream faults: each applies to the next `count` matching frames, on any connection."""

    pending: list[WsFault] = field(default_factory=list)

    def add(self, kind: str, count: int, ms: float) -> WsFault:
        fault = WsFault(kind, count, ms)
        self.pending.append(fault)
        return fault

    def take(self, kind: str) -> WsFault | None:
        for fault in self.pending:
            if fault.kind == kind and fault.remaining > 0:
                fault.remaining -= 1
                return fault
        return None

    def clear(self) -> None:
        self.pending.clear()


class StreamHub:
    """The open connections, so that the trading engine's events reach the authenticated ones."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self.opened = 0
        self.peak = 0

    def join(self, conn: Connection) -> None:
        self.connections.add(conn)
        self.opened += 1
        self.peak = max(self.peak, len(self.connections))

    def leave(self, conn: Connection) -> None:
        self.connections.discard(conn)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Called by the engine (in the event loop: REST handlers run there): queue the event for each subscriber."""
        for conn in list(self.connections):
            conn.private_event(kind, data)

    def describe(self) -> dict[str, int]:
        return {"open": len(self.connections), "opened": self.opened, "peak": self.peak}


def in_seconds(value: Any) -> Any:
    """An event whose times are in seconds (the `seconds` fault; the self-tests' seconds variant too)."""
    if isinstance(value, dict):
        return {k: (v // 1000 if k in TIME_KEYS and isinstance(v, int) else in_seconds(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [in_seconds(v) for v in value]
    return value


class Connection:
    """One client: its subscriptions (a publisher task per public channel), its auth, its outgoing frames."""

    def __init__(self, state: Any, socket: WebSocket, rest: Rest, cadence_scale: float) -> None:
        self.state, self.socket, self.rest, self.scale = state, socket, rest, cadence_scale
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.private: set[str] = set()
        self.authed = False
        self.lock = asyncio.Lock()
        self.closed = asyncio.Event()

    # -- sending ----------------------------------------------------------------------------------------------
    async def send(self, frame: dict[str, Any], *, event: bool = False) -> None:
        faults: WsFaults = self.state.ws_faults
        if event and faults.take("drop"):
            await self.close(1011)
            return
        delay = faults.take("delay")
        if delay:
            await asyncio.sleep(delay.ms / 1000)
        if event and faults.take("seconds"):
            frame = in_seconds(frame)
        text = json.dumps(frame, separators=(",", ":"))
        if event and faults.take("malformed"):
            text = text[: len(text) // 2]  # a frame cut in half: not JSON
        async with self.lock:
            if self.closed.is_set():
                return
            try:
                await self.socket.send_text(text)
            except Exception:  # the client went away mid-send
                self.closed.set()

    async def close(self, code: int = 1000) -> None:
        if not self.closed.is_set():
            self.closed.set()
            with contextlib.suppress(Exception):
                await self.socket.close(code)

    def private_event(self, kind: str, data: dict[str, Any]) -> None:
        channel = next((c for c in self.private if PRIVATE[c] == kind), None)
        if channel is not None and not self.closed.is_set():
            frame = {"type": kind, "channel": channel, "data": {**data, "timestamp": now_ms()}}
            asyncio.get_running_loop().create_task(self.send(frame, event=True))

    # -- public channels --------------------------------------------------------------------------------------
    def _ticker(self, sym: Any) -> dict[str, Any]:
        market, t = self.state.market, now_ms()
        last, day_ago = market.price(sym, t), market.price(sym, t - 24 * HOUR)
        change = last - day_ago
        rate = float(market.funding_rate(sym, t - t % (8 * HOUR))) / 8 * 100
        oi = float(market.open_interest(sym, t))
        return {"symbol": sym.name, "last_price": str(last), "mark_price": str(market.mark(sym, t)),
                "index_price": market.index_price(sym, t), "price_change_24h": str(change),
                "price_change_percent_24h": f"{float(change / day_ago * 100):.2f}",
                "volume_24h": sym.qty(oi * 3.1), "open_interest_long": sym.qty(oi * 0.52),
                "open_interest_short": sym.qty(oi * 0.48), "funding_rate_1h": f"{rate:+.4f}%", "timestamp": t}

    def _orderbook(self, sym: Any) -> dict[str, Any]:
        t = now_ms()
        depth = self.state.market.depth(sym, t, BOOK_LEVELS)
        return {"symbol": sym.name, "bids": [{"price": p, "size": q} for p, q in depth["bids"]],
                "asks": [{"price": p, "size": q} for p, q in depth["asks"]], "timestamp": t}

    def _candle(self, sym: Any, interval: str, open_ms: int) -> dict[str, Any]:
        step = INTERVAL_MS[interval]
        row = self.state.market.candle(sym, interval, open_ms, open_ms + step - 1)
        return {"symbol": sym.name, "interval": interval, "open_time": row[0], "open": row[1], "high": row[2],
                "low": row[3], "close": row[4], "volume": row[5], "close_time": row[6]}

    async def _publish(self, channel: str, every_ms: float, build: Callable[[], dict[str, Any]], kind: str) -> None:
        try:
            while not self.closed.is_set():
                await asyncio.sleep(every_ms * self.scale / 1000)
                await self.send({"type": kind, "channel": channel, "data": build()}, event=True)
        except asyncio.CancelledError:
            pass

    async def _kline(self, channel: str, sym: Any, interval: str) -> None:
        step = INTERVAL_MS[interval]
        current = now_ms() - now_ms() % step
        history = [self._candle(sym, interval, current - step * i) for i in range(SNAPSHOT_CANDLES, 0, -1)]
        await self.send({"type": "kline_snapshot", "channel": channel, "data": history}, event=True)

        def build() -> dict[str, Any]:
            t = now_ms()
            return {**self._candle(sym, interval, t - t % step), "timestamp": t}

        await self._publish(channel, KLINE_MS, build, "kline")

    def _public(self, channel: str) -> Awaitable[None] | None:
        """The publisher of a public channel, or None when the channel is not one."""
        parts = channel.split(":")
        sym = SYMBOLS.get(parts[1]) if len(parts) >= 2 else None
        if sym is None:
            return None
        if parts[0] == "ticker" and len(parts) == 2:
            return self._publish(channel, TICKER_MS, lambda: self._ticker(sym), "ticker")
        if parts[0] == "orderbook" and len(parts) == 2:
            return self._publish(channel, ORDERBOOK_MS, lambda: self._orderbook(sym), "orderbook")
        if parts[0] == "kline" and len(parts) == 3 and parts[2] in INTERVAL_MS:
            return self._kline(channel, sym, parts[2])
        return None

    # -- client messages --------------------------------------------------------------------------------------
    async def error(self, msg: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": 400, "msg": msg, **extra})

    async def subscribe(self, channel: Any) -> None:
        if not isinstance(channel, str):
            await self.error("channel must be a string")
            return
        if channel in PRIVATE:
            if not self.authed:
                await self.error("authenticate first: send auth with a listenKey", channel=channel)
                return
            self.private.add(channel)
        elif channel not in self.tasks:
            publisher = self._public(channel)
            if publisher is None:
                await self.error(f"unknown channel {channel}", channel=channel)
                return
            self.tasks[channel] = asyncio.get_running_loop().create_task(publisher)  # type: ignore[arg-type]
        await self.send({"type": "subscribed", "channel": channel})

    async def unsubscribe(self, channel: Any) -> None:
        task = self.tasks.pop(channel, None) if isinstance(channel, str) else None
        if task is not None:
            task.cancel()
        if isinstance(channel, str):
            self.private.discard(channel)
        await self.send({"type": "unsubscribed", "channel": channel})

    async def auth(self, listen_key: Any) -> None:
        led = self.state.ledger
        ok = isinstance(listen_key, str) and listen_key == led.listen_key and led.listen_key_expiry > now_ms()
        self.authed = self.authed or ok
        await self.send({"type": "auth_result", "success": ok,
                         **({} if ok else {"msg": "This listenKey does not exist."})})

    async def api_call(self, frame: dict[str, Any]) -> None:
        """A WebSocket-API method: the REST endpoint answers it (same data, same weight)."""
        path = API_METHODS.get(str(frame.get("method")))
        raw = frame.get("params")
        params: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if path is None:
            await self.send({"id": frame.get("id"), "status": 400,
                             "error": {"code": -1100, "msg": f"Unknown method {frame.get('method')}"}})
            return
        query = urlencode({k: v for k, v in params.items() if v is not None})
        scope: dict[str, Any] = {
            "type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
            "query_string": query.encode(), "headers": [], "client": self.socket.client,
            "server": ("127.0.0.1", 0), "scheme": "http", "http_version": "1.1"}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        response = await self.rest(Request(scope, receive))
        body = json.loads(bytes(response.body))
        used = int(response.headers.get("x-mbx-used-weight-1m", "0") or 0)
        limit = self.state.limiter.settings.as_dict().get("weight_per_minute", 2400)
        reply: dict[str, Any] = {"id": frame.get("id"), "status": response.status_code}
        reply["result" if response.status_code == 200 else "error"] = body
        reply["rateLimits"] = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                                "limit": limit, "count": used}]
        await self.send(reply)

    async def handle(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            await self.error("the frame is not JSON")
            return
        if not isinstance(frame, dict):
            await self.error("the frame must be a JSON object")
            return
        kind = frame.get("type")
        if kind is None and "method" in frame:
            await self.api_call(frame)
        elif kind == "subscribe":
            await self.subscribe(frame.get("channel"))
        elif kind == "unsubscribe":
            await self.unsubscribe(frame.get("channel"))
        elif kind == "ping":
            if not self.state.ws_faults.take("no-pong"):
                await self.send({"type": "pong", "timestamp": now_ms()})
        elif kind == "auth":
            await self.auth(frame.get("listenKey"))
        else:
            await self.error(f"unknown type {kind}")

    async def run(self) -> None:
        hub: StreamHub = self.state.streams
        await self.socket.accept()
        hub.join(self)
        try:
            while not self.closed.is_set():
                message = await self.socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = message["bytes"].decode("utf-8", "replace")
                await self.handle(text or "")
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self.closed.set()
            hub.leave(self)
            for task in self.tasks.values():
                task.cancel()


def endpoint(state: Any, rest: Rest, cadence_scale: float) -> Callable[[WebSocket], Awaitable[None]]:
    async def serve(socket: WebSocket) -> None:
        await Connection(state, socket, rest, cadence_scale).run()
    return serve
