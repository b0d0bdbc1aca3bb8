"""`python -m conformance.mock` starts a standalone server that answers on the port it was given."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

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
