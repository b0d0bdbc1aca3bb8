"""Scenario of the throttling self-test: steady weighted public traffic that a small-limit mock answers with 429."""

from __future__ import annotations

import pytest

from conformance.harness.client import Client


@pytest.mark.parametrize("n", range(30))
def test_weighted_public_requests(client: Client, n: int) -> None:
    ex = client.call("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": 100})
    assert ex.response.status == 200
