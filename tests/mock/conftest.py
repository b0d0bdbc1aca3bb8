"""Fixtures of the mock's own tests: one loopback MockServer per module, reset before every test, signed clients."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from conformance.mock import MockServer

KEY, SECRET = "ztdx-test-key-0123456789", "ztdx-test-secret-0123456789"


def sign(payload: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def stamp() -> int:
    return int(time.time() * 1000)


class Api:
    """A thin signed client: `call` puts everything in the query (like ZTDX's curl examples) unless told otherwise."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"X-MBX-APIKEY": KEY}, timeout=10)

    def query(self, params: dict[str, Any], signed: bool = True) -> str:
        params = {**params, "timestamp": stamp()} if signed and "timestamp" not in params else dict(params)
        text = urlencode(params)
        return f"{text}&signature={sign(text)}" if signed else text

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, signed: bool = True,
             **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{path}?{self.query(params or {}, signed)}", **kwargs)

    def body(self, method: str, path: str, params: dict[str, Any]) -> httpx.Response:
        """Everything signed in an application/x-www-form-urlencoded body (ccxt's way)."""
        return self.http.request(method, path, content=self.query(params),
                                 headers={"content-type": "application/x-www-form-urlencoded"})

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(f"/__mock__/{path}", json=body or {}) if body is not None else \
            self.http.get(f"/__mock__/{path}")
        assert response.status_code == 200, response.text
        return response.json()

    def order(self, **params: Any) -> httpx.Response:
        base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
                "price": "30000"}
        merged = {k: v for k, v in {**base, **params}.items() if v is not None}  # None drops a default
        return self.call("POST", "/fapi/v1/order", merged)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as mock:
        yield mock


@pytest.fixture
def api(server: MockServer) -> Iterator[Api]:
    client = Api(server.url)
    client.control("reset", {})
    # Counters live in fixed windows aligned to the epoch; an hour-long window keeps exact header counts from
    # straddling a boundary mid-test (tests of the windows themselves set their own).
    client.control("limits", {"window_seconds": 3600})
    yield client
    client.http.close()


def error(response: httpx.Response) -> tuple[int, int, str]:
    """(status, code, msg) of an error answer, after checking it is JSON."""
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    return response.status_code, body["code"], body["msg"]
