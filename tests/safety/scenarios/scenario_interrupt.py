"""Scenario of the interrupted-run self-test: place orders, open a position, then wait to be interrupted."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conformance.harness.client import Client
from conformance.harness.orders import RUN_PREFIX, OrderFactory


@pytest.mark.capability("trading")
def test_the_run_is_interrupted_with_orders_and_a_position_open(client: Client, orders: OrderFactory) -> None:
    for symbol, side in (("BTCUSDT", "BUY"), ("BTCUSDT", "SELL"), ("ETHUSDT", "BUY")):
        params = orders.resting_limit(symbol, side=side)
        orders.remember(params)
        client.call("POST", "/fapi/v1/order", params)
    stray = orders.resting_limit("ETHUSDT") | {"newClientOrderId": f"{RUN_PREFIX}-stray"}
    client.call("POST", "/fapi/v1/order", stray)  # never remembered: only the run-prefix sweep can find it
    size = orders.resting_limit("SOLUSDT")["quantity"]  # also records the SOLUSDT position before the run
    client.call("POST", "/fapi/v1/order", {"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quantity": size,
                                           "newClientOrderId": orders.next_client_id()})
    Path(os.environ["SAFETY_READY"]).write_text(RUN_PREFIX)
    time.sleep(120)  # the self-test sends SIGINT here
