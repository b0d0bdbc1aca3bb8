"""Orders that cannot fill and clean up after themselves: tiny size, far price, run-unique client IDs."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from conformance.client import Client

ORDER_PATH = "/fapi/v1/order"


def _filter(symbol_info: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((f for f in symbol_info.get("filters", []) if f.get("filterType") == kind), {})


def _quantize(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding=rounding) * step


@dataclass
class OrderFactory:
    """Builds safe LIMIT order parameters from exchangeInfo filters and remembers what it placed."""

    client: Client
    prefix: str = field(default_factory=lambda: f"fc{secrets.token_hex(4)}")
    placed: dict[str, str] = field(default_factory=dict)  # clientOrderId -> symbol
    _info: dict[str, dict[str, Any]] = field(default_factory=dict)
    _counter: itertools.count = field(default_factory=itertools.count)

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        if not self._info:
            body = self.client.call("GET", "/fapi/v1/exchangeInfo").response.json()
            self._info = {s["symbol"]: s for s in body.get("symbols", [])}
        return self._info[symbol]

    def mark_price(self, symbol: str) -> Decimal:
        body = self.client.call("GET", "/fapi/v1/premiumIndex", {"symbol": symbol}).response.json()
        return Decimal(str(body["markPrice"]))

    def next_client_id(self) -> str:
        return f"{self.prefix}-{next(self._counter)}"

    def resting_limit(self, symbol: str = "BTCUSDT", side: str = "BUY", **extra: Any) -> dict[str, Any]:
        """Parameters of a GTC LIMIT order far from the mark price, just above the minimum notional."""
        info = self.symbol_info(symbol)
        tick = Decimal(str(_filter(info, "PRICE_FILTER").get("tickSize", "0.1")))
        step = Decimal(str(_filter(info, "LOT_SIZE").get("stepSize", "0.001")))
        min_notional = Decimal(str(_filter(info, "MIN_NOTIONAL").get("notional", "10")))
        mark = self.mark_price(symbol)
        factor = Decimal("0.5") if side == "BUY" else Decimal("1.5")
        price = max(_quantize(mark * factor, tick, ROUND_DOWN), tick)
        qty = max(_quantize(min_notional * Decimal("1.2") / price, step, ROUND_UP), step)
        params = {"symbol": symbol, "side": side, "type": "LIMIT", "timeInForce": "GTC",
                  "quantity": format(qty.normalize(), "f"), "price": format(price.normalize(), "f"),
                  "newClientOrderId": self.next_client_id()}
        params.update(extra)
        return params

    def remember(self, params: dict[str, Any]) -> None:
        if params.get("newClientOrderId"):
            self.placed[str(params["newClientOrderId"])] = str(params.get("symbol", ""))

    def cancel_all(self) -> list[str]:
        """Cancel every order this run placed that is still open; returns the IDs that stayed open."""
        left = []
        for client_id, symbol in list(self.placed.items()):
            ex = self.client.call("DELETE", ORDER_PATH, {"symbol": symbol, "origClientOrderId": client_id},
                                  allow_faults=True, allow_limits=True)
            if ex.response.status == 200 or _code(ex) in (-2011, -2013):
                self.placed.pop(client_id, None)
            else:
                left.append(client_id)
        return left


def _code(ex: Any) -> int | None:
    body = ex.response.json() if ex.response.is_json else None
    return body.get("code") if isinstance(body, dict) else None
