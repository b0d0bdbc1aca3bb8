"""The network guard of the client tests refuses every host but 127.0.0.1, so a leaked default URL fails loudly."""

from __future__ import annotations

import socket

import pytest

pytestmark = pytest.mark.clients


def test_guard_refuses_to_resolve_a_public_host_name() -> None:
    with pytest.raises(AssertionError, match="network guard"):
        socket.getaddrinfo("fapi.binance.com", 443)


def test_guard_refuses_to_connect_to_a_public_address() -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): even if the guard failed, nothing real would be reached
    with pytest.raises(AssertionError, match="network guard"), socket.socket() as sock:
        sock.connect(("192.0.2.1", 80))


def test_guard_lets_loopback_through(mock_url: str) -> None:
    port = int(mock_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
