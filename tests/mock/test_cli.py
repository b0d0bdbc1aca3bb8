"""`python -m conformance.mock` starts a standalone server that answers on the port it was given."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_module_runs_standalone_on_the_given_port() -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "conformance.mock", "--host", "127.0.0.1", "--port", str(port),
                             "--seed", "7"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, answer = time.monotonic() + 20, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/fapi/v1/time", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200, proc.stdout.read() if proc.poll() else "no answer"
        assert isinstance(answer.json()["serverTime"], int)
        assert httpx.get(f"http://127.0.0.1:{port}/__mock__/health").json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_mock_server_picks_a_free_port_and_stops_cleanly() -> None:
    from conformance.mock import MockServer

    server = MockServer()
    server.start()
    url = server.url
    assert server.port != 0 and httpx.get(f"{url}/fapi/v1/ping").json() == {}
    server.stop()
    try:
        httpx.get(f"{url}/fapi/v1/ping", timeout=1)
        raise AssertionError("the server still answers after stop()")
    except httpx.TransportError:
        pass


def test_the_in_process_mock_disables_nagle_on_its_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """A response goes out in two writes (headers, body); with Nagle on, the second waits for the client's delayed
    ACK (~40 ms a request on loopback). Checked on the server's own end of a live connection, on asyncio's own loop
    (uvloop, when installed, hides the problem)."""
    import uvicorn

    from conformance.mock import MockServer

    config_init = uvicorn.Config.__init__

    def asyncio_loop(self: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        config_init(self, *args, **{**kwargs, "loop": "asyncio"})

    monkeypatch.setattr(uvicorn.Config, "__init__", asyncio_loop)

    with MockServer() as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/fapi/v1/ping").status_code == 200
        connections = list(server._server.server_state.connections)  # type: ignore[union-attr]
        assert connections
        for connection in connections:
            sock = connection.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
