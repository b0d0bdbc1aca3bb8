"""Fixtures for the real-client tests: a loopback mock per session, a wire recorder before it, a network guard."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .support import API_KEY, API_SECRET, LOOPBACK, control
from .wire import WireRecorder


def _host_of(address: Any) -> str | None:
    return address[0] if isinstance(address, tuple) and address else None


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test at the first attempt to resolve or reach any host but 127.0.0.1 (a client default URL leaking)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(host: Any) -> None:
        if host is not None and host not in (LOOPBACK, LOOPBACK.encode()):
            raise AssertionError(f"network guard: a client tried to reach {host!r}; only {LOOPBACK} is allowed")

    def connect(sock: socket.socket, address: Any) -> None:
        check(_host_of(address))
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(_host_of(address))
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        check(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="session")
def mock_url() -> Iterator[str]:
    """The bundled reference mock on a free loopback port, with the test credentials."""
    mock = pytest.importorskip("conformance.mock", reason="the reference mock is not there yet")
    with pytest.MonkeyPatch.context() as env:
        # requests and urllib honour proxy variables; a proxy would see (and could forward) loopback traffic
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            env.delenv(name, raising=False)
        env.setenv("NO_PROXY", "127.0.0.1,localhost")
        env.setenv("no_proxy", "127.0.0.1,localhost")
        with mock.MockServer(host=LOOPBACK, port=0, api_key=API_KEY, api_secret=API_SECRET) as server:
            yield server.url


@pytest.fixture(scope="session")
def _recorder(mock_url: str) -> Iterator[WireRecorder]:
    recorder = WireRecorder(mock_url).start()
    yield recorder
    recorder.stop()


@pytest.fixture
def wire(_recorder: WireRecorder, mock_url: str) -> WireRecorder:
    """The recorder every client is pointed at, emptied and with the mock reset to its seeded start."""
    control(mock_url, "POST", "/__mock__/reset")
    _recorder.clear()
    return _recorder


@pytest.fixture
def mock_state(mock_url: str) -> Callable[[], Any]:
    """A callable returning the mock's /__mock__/state, to check what the clients' calls really did."""
    return lambda: control(mock_url, "GET", "/__mock__/state")
