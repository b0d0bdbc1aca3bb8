"""WebSocket figures: the events per second the mock's /ws sustains on loopback (beside the rate offered), and the
suite's cost per checked frame (every public-stream check over one recorded transcript, in process)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from bench_common import mock_process
from websockets.sync.client import connect

from conformance.checks import ws as checks
from conformance.checks import ws_payloads as payloads
from conformance.data import wscontract
from conformance.harness.wsclient import WsBudget, WsSession

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
SCALE = 0.01  # the mock's cadences a hundred times faster: orderbook every 5 ms, ticker every 20 ms


def _channels() -> list[str]:
    return [f"{kind}:{s}" for s in SYMBOLS for kind in ("orderbook", "ticker")]


def _offered_per_connection() -> float:
    api = wscontract.default()
    per_symbol = sum(1000 / ((api.cadence_ms(kind) or 1) * SCALE) for kind in ("orderbook", "ticker"))
    return per_symbol * len(SYMBOLS)


def events_per_second(url: str, connections: int, seconds: float) -> dict[str, Any]:
    counts = [0] * connections

    def listen(i: int) -> None:
        with connect(url, open_timeout=5, ping_interval=None, proxy=None) as conn:
            for channel in _channels():
                conn.send(json.dumps({"type": "subscribe", "channel": channel}))
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                try:
                    frame = conn.recv(timeout=left)
                except TimeoutError:
                    break
                counts[i] += '"data"' in frame

    threads = [threading.Thread(target=listen, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 15)
    received = sum(counts)
    return {"connections": connections, "seconds": seconds, "events": received,
            "events_per_second": round(received / seconds), "offered_per_second":
            round(_offered_per_connection() * connections)}


def cost_per_frame(url: str, seconds: float, repeats: int = 20) -> dict[str, Any]:
    api = wscontract.default()
    with WsSession(url, WsBudget(1, 1, 1000.0)) as session:
        for channel in _channels():
            session.send({"type": "subscribe", "channel": channel})
        session.collect(seconds)
    transcript = session.transcript
    frames = len(transcript.received)
    started = time.perf_counter()
    for _ in range(repeats):
        checks.json_text_frames(transcript)
        payloads.payload_matches(transcript, api, "ticker", "ws.ticker-payload")
        payloads.orderbook_levels(transcript, api)
        payloads.millisecond_timestamps(transcript)
        payloads.ascending_time_order(transcript)
        for channel in _channels():
            payloads.cadence(transcript, channel, channel.split(":")[0], api)
    spent = (time.perf_counter() - started) / repeats
    return {"frames": frames, "checks_seconds": round(spent, 4), "us_per_frame": round(spent / max(frames, 1) * 1e6, 1)}


def measure(seconds: float) -> dict[str, Any]:
    with mock_process(extra=["--ws-cadence-scale", str(SCALE)]) as base:
        url = base.replace("http://", "ws://") + "/ws"
        return {"throughput": events_per_second(url, connections=4, seconds=seconds),
                "cost": cost_per_frame(url, seconds=min(seconds, 2.0))}
