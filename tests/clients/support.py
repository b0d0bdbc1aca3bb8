"""Shared pieces of the real-client tests: credentials, the mock's control API, and a resting order within filters."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

LOOPBACK = "127.0.0.1"
API_KEY = os.environ.get("ZTDX_API_KEY", "ztdx-test-key-0123456789")
API_SECRET = os.environ.get("ZTDX_API_SECRET", "ztdx-test-secret-0123456789")
SYMBOL = "BTCUSDT"
SYMBOLS = {"BTCUSDT", "ETHUSDT", "SOLUSDT"}


def control(mock_url: str, method: str, path: str) -> Any:
    """Call the mock's control API directly (not through the recorder, so it never shows up as client traffic)."""
    request = urllib.request.Request(mock_url + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class RestingOrder:
    """A BUY LIMIT far below the market: valid for every filter, yet it cannot fill."""

    price: str
    quantity: str


def filter_of(symbol_info: dict[str, Any], filter_type: str) -> dict[str, Any]:
    return next(f for f in symbol_info["filters"] if f["filterType"] == filter_type)


def resting_buy(symbol_info: dict[str, Any], reference_price: str, discount: str = "0.5") -> RestingOrder:
    """Price = discount x market on the tick grid; quantity = the fewest steps above twice the minimum notional."""
    tick = Decimal(filter_of(symbol_info, "PRICE_FILTER")["tickSize"])
    step = Decimal(filter_of(symbol_info, "LOT_SIZE")["stepSize"])
    min_notional = Decimal(filter_of(symbol_info, "MIN_NOTIONAL")["notional"])
    price = (Decimal(reference_price) * Decimal(discount) / tick).to_integral_value(ROUND_DOWN) * tick
    steps = (2 * min_notional / price / step).to_integral_value(ROUND_CEILING)
    return RestingOrder(_plain(price), _plain(steps * step))


def _plain(value: Decimal) -> str:
    """Fixed-point text without exponent or trailing zeros, the form every client passes through unchanged."""
    return format(value.normalize(), "f")


def order_status(state: dict[str, Any], order_id: Any) -> str | None:
    """The mock's own view of one order (ids compared as text: the mock may use integers or UUID strings)."""
    for order in state["orders"]:
        if str(order["orderId"]) == str(order_id):
            return str(order["status"])
    return None
