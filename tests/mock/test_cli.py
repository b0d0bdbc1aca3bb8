"""`python -m conformance.mock` starts a standalone server that answers on the port it was given."""

from __future__ import annotations

import os
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


def test_mock_process_serves_from_a_child_and_stop_ends_it() -> None:
    from conformance.mock import MockProcess

    with MockProcess(limits_scale=10) as mock:
        pid = mock._proc.pid if mock._proc else None
        assert pid is not None and pid != os.getpid()
        assert httpx.get(f"{mock.url}/fapi/v1/time", timeout=5).status_code == 200
        limits = httpx.get(f"{mock.url}/__mock__/limits", timeout=5).json()
        assert limits["weight_per_minute"] == 24000, limits  # 10 x the documented 2400
    with pytest.raises(httpx.ConnectError):  # the child is gone and so is the port
        httpx.get(f"{mock.url}/fapi/v1/time", timeout=2)


def test_a_mock_process_that_cannot_start_says_why() -> None:
    from conformance.mock import MockProcess

    with pytest.raises(RuntimeError, match=r"did not start on http://127\.0\.0\.1:\d+: .*--ws-cadence-scale.*range"):
        MockProcess(ws_cadence_scale=0.001).start()


def test_a_mock_process_ends_when_the_process_that_started_it_dies() -> None:
    script = ("import os; from conformance.mock import MockProcess; m = MockProcess().start();"
              " print(m._proc.pid, flush=True); os._exit(0)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child), "the mock outlived the process that started it"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
