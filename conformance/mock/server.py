"""`MockServer`: the mock under uvicorn in a background thread on a (free) loopback port."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from .app import create_app

START_TIMEOUT = 15.0


class MockServer:
    """Context manager; `start()` returns only once the port accepts connections; `.url` is the base URL."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **create_app_kwargs: Any) -> None:
        self.host, self.port = host, port
        self.app = create_app(**create_app_kwargs)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> Any:
        """The in-process MockState (tests may inspect it directly instead of GET /__mock__/state)."""
        return self.app.state.mock

    def start(self) -> MockServer:
        if self._thread is not None:
            return self
        # Binding here (not in uvicorn) makes port=0 resolve before start() returns, with no race on the number.
        # IPPROTO_TCP, not 0: asyncio disables Nagle (TCP_NODELAY) only on sockets whose proto says TCP, and a
        # response written in two parts (headers, body) would otherwise wait ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._socket = sock
        # No keepalive pings of its own (ws_ping_interval): websockets draws their payload from the global `random`,
        # and in a suite's process that is a draw inside whatever Hypothesis strategy runs at that moment
        # (HypothesisDeprecationWarning: "Do not use the `random` module inside strategies"). The ZTDX protocol
        # has its own ping frames; a client's RFC 6455 Ping is still answered.
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False,
                                timeout_keep_alive=30, ws_ping_interval=None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"ztdx-mock-{self.port}", daemon=True)
        self._thread.start()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._server is not None and self._server.started:
                return
            if self._thread is not None and not self._thread.is_alive():
                break
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"the mock did not start on {self.url}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
