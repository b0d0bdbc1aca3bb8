"""Mock throughput: a bounded keep-alive load on a cheap endpoint, from a raw asyncio HTTP/1.1 client."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

from bench_common import control, mock_process

# A raw client: httpx costs more CPU per request than the server, and would measure itself, not the mock.
PATH = "/fapi/v1/ping"


async def _connection(host: str, port: int, stop: dict[str, Any], counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    try:
        while stop["left"] > 0 and time.perf_counter() < stop["deadline"]:
            stop["left"] -= 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            counts[head[9:10] == b"2"] += 1  # index 1: 2XX answers, index 0: anything else
    finally:
        writer.close()


async def _load(url: str, connections: int, total: int, seconds: float) -> dict[str, Any]:
    parts = urlsplit(url)
    stop = {"left": total, "deadline": time.perf_counter() + seconds}
    counts = [0, 0]
    start = time.perf_counter()
    await asyncio.gather(*(_connection(parts.hostname or "127.0.0.1", parts.port or 80, stop, counts)
                           for _ in range(connections)))
    elapsed = time.perf_counter() - start
    done = counts[0] + counts[1]
    return {"requests": done, "non_2xx": counts[0], "seconds": round(elapsed, 3),
            "rps": round(done / elapsed, 1) if elapsed else 0.0}


def mock_throughput(*, connections: int = 16, total: int = 20_000, seconds: float = 10.0) -> dict[str, Any]:
    """Requests per second the mock answers on loopback; bounded by `total` requests and `seconds`."""
    with mock_process() as url:
        # The documented 2,400 weight/min would turn the load into 429s: measure serving, not refusing.
        control(url, "limits", {"weight_per_minute": 10**9})
        asyncio.run(_load(url, 4, 200, 5.0))  # warm-up: imports, first-request paths
        result = asyncio.run(_load(url, connections, total, seconds))
    return {"endpoint": f"GET {PATH}", "connections": connections, **result}
