"""Shared pieces of the safety self-tests: a fake clock, a small contract, and clients on scripted transports."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.data.contract import Contract
from conformance.harness.client import Client
from conformance.harness.governor import Governor
from conformance.harness.targets import SIGNED, TRADING, Credentials, Target

KEY, SECRET = "unit-key-5a5a5a5a5a", "unit-secret-a5a5a5a5a5"


def _op(op_id: str, weight: Any = 1, signed: bool = False, orders: bool = False) -> dict[str, Any]:
    raw: dict[str, Any] = {"operationId": op_id, "x-weight": weight, "responses": {}}
    if signed:
        raw["x-security"] = "SIGNED"
    if orders:  # the order-placing operations here are those -1008 covers too
        raw["x-order-count"] = raw["x-throttled"] = True
    return raw


# Just the operations these tests touch, with the weights the real spec gives them.
SPEC = {"openapi": "3.1.0", "paths": {
    "/fapi/v1/time": {"get": _op("time")},
    "/fapi/v1/order": {"get": _op("queryOrder", signed=True), "post": _op("newOrder", 0, True, True),
                       "delete": _op("cancelOrder", signed=True)},
    "/fapi/v1/batchOrders": {"post": _op("newBatchOrders", 5, True, True)},
    "/fapi/v1/openOrders": {"get": _op("openOrders", {"with_symbol": 1, "without_symbol": 40}, True)},
    "/fapi/v1/positionRisk": {"get": _op("positionRisk", 5, True)},
    "/fapi/v1/depth": {"get": _op("depth", {"default_limit": 500, "table": [
        {"limit": [5, 10, 20, 50], "weight": 2}, {"limit": [100], "weight": 5}, {"limit": [500], "weight": 10}]})},
}}


class FakeClock:
    """monotonic() and sleep() that move only when told: pacing is measured, not waited for."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    # A stream (not `content=`) so that httpx reads it like a real answer and records `elapsed`.
    return httpx.Response(status, stream=httpx.ByteStream(json.dumps(body).encode()),
                          headers={"content-type": "application/json", **(headers or {})})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def unit_contract() -> Contract:
    return Contract(SPEC, Path("unit-spec.yaml"))


@pytest.fixture
def scripted(unit_contract: Contract, clock: FakeClock) -> Iterator[Callable[..., tuple[Client, list[httpx.Request]]]]:
    """Build a client whose every request goes to `handler(request) -> httpx.Response`; requests are kept."""
    made: list[Client] = []

    def build(handler: Callable[[httpx.Request], httpx.Response], governor: Governor | None = None,
              ) -> tuple[Client, list[httpx.Request]]:
        seen: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        target = Target("unit", "http://127.0.0.1:9", "mock", frozenset({SIGNED, TRADING}),
                        Credentials(KEY, SECRET))
        gov = governor or Governor(clock=clock, sleep=clock.sleep)
        client = Client(target, contract=unit_contract, governor=gov, sleep=clock.sleep)
        client.http = httpx.Client(base_url=target.base_url, transport=httpx.MockTransport(record))
        made.append(client)
        return client, seen

    yield build
    for client in made:
        client.close()
