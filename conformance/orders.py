"""Orders that cannot fill and clean up after themselves: tiny size, far price, run-unique client IDs."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from conformance.client import Client
from conformance.contract import Contract
from conformance.errors import TargetUnavailable
from conformance.governor import Governor
from conformance.targets import Target

ORDER_PATH = "/fapi/v1/order"
OPEN_ORDERS_PATH = "/fapi/v1/openOrders"
POSITION_PATH = "/fapi/v1/positionRisk"
# One prefix per process: every order this run creates starts with it, so the end-of-run sweep finds
# even orders a test built by hand (`RUN_PREFIX + "-..."`) or whose answer was lost.
RUN_PREFIX = f"fc{secrets.token_hex(4)}"
FACTORIES: list[OrderFactory] = []  # every factory of this process, for the end-of-run cleanup
CLEANUP_MAX_WAIT = 130.0  # a Retry-After this short is worth waiting out to leave nothing open
GONE_CODES = (-2011, -2013)  # unknown order / order does not exist: nothing left to cancel


def _filter(symbol_info: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((f for f in symbol_info.get("filters", []) if f.get("filterType") == kind), {})


def _quantize(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding=rounding) * step


@dataclass
class OrderFactory:
    """Builds safe LIMIT order parameters from exchangeInfo filters and remembers what it placed."""

    client: Client
    prefix: str = RUN_PREFIX
    placed: dict[str, str] = field(default_factory=dict)  # clientOrderId -> symbol
    baselines: dict[str, Decimal] = field(default_factory=dict)  # position before the run's first order
    _info: dict[str, dict[str, Any]] = field(default_factory=dict)
    _counter: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        FACTORIES.append(self)

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
        self.baseline(symbol)
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

    def position(self, symbol: str) -> Decimal:
        """Net position amount on `symbol` (one-way mode; hedge-mode legs are summed)."""
        ex = self.client.call("GET", POSITION_PATH, {"symbol": symbol})
        rows = ex.response.json() if ex.response.status == 200 and ex.response.is_json else []
        rows = rows if isinstance(rows, list) else []
        return sum((Decimal(str(r.get("positionAmt", "0"))) for r in rows if r.get("symbol") == symbol),
                   Decimal(0))

    def baseline(self, symbol: str) -> Decimal:
        """The position before this run traded `symbol`, so the cleanup closes only what the run opened."""
        if symbol not in self.baselines:
            self.baselines[symbol] = self.position(symbol)
        return self.baselines[symbol]

    def cancel_all(self) -> list[str]:
        """Cancel every order this run placed that is still open; returns the IDs that stayed open."""
        left = []
        for client_id, symbol in list(self.placed.items()):
            try:
                ex = self.client.call("DELETE", ORDER_PATH, {"symbol": symbol, "origClientOrderId": client_id},
                                      allow_faults=True, allow_limits=True)
            except TargetUnavailable:
                left.append(client_id)
                continue
            if ex.response.status == 200 or _code(ex) in GONE_CODES:
                self.placed.pop(client_id, None)
            else:
                left.append(client_id)
        return left

    def close_positions(self) -> list[str]:
        """Close what the run opened on each symbol it traded with a reduce-only MARKET order."""
        closed = []
        for symbol, before in self.baselines.items():
            delta = self.position(symbol) - before
            if delta == 0:
                continue
            params = {"symbol": symbol, "side": "SELL" if delta > 0 else "BUY", "type": "MARKET",
                      "quantity": format(abs(delta).normalize(), "f"), "reduceOnly": "true",
                      "newClientOrderId": self.next_client_id()}
            ex = self.client.call("POST", ORDER_PATH, params, allow_limits=True)
            closed.append(f"{symbol} {params['side']} {params['quantity']} reduceOnly → HTTP {ex.response.status}")
        return closed


def _code(ex: Any) -> int | None:
    body = ex.response.json() if ex.response.is_json else None
    return body.get("code") if isinstance(body, dict) else None


def run_open_orders(client: Client, prefix: str = RUN_PREFIX) -> list[tuple[str, str]]:
    """(symbol, clientOrderId) of every open order on the account whose clientOrderId carries `prefix`."""
    ex = client.call("GET", OPEN_ORDERS_PATH, allow_limits=True)  # no symbol: weight 40, once per run
    if ex.response.status != 200 or not isinstance(ex.response.json(), list):
        raise TargetUnavailable(f"open orders could not be listed (HTTP {ex.response.status})")
    return [(str(o.get("symbol")), str(o.get("clientOrderId"))) for o in ex.response.json()
            if str(o.get("clientOrderId", "")).startswith(prefix)]


def cleanup_run(target: Target, contract: Contract, governor: Governor) -> dict[str, Any]:
    """Cancel the run's orders, close what it opened, then check that nothing with the run prefix is open."""
    result: dict[str, Any] = {"run_prefix": RUN_PREFIX, "cancelled": 0, "positions_closed": [],
                              "open_orders_left": None}
    if not governor.wait_until_unblocked(CLEANUP_MAX_WAIT):
        result["error"] = f"target still blocked ({governor.block_reason})"
        return result
    client = Client(target, contract=contract, governor=governor)  # the tests' client may be closed by now
    try:
        for factory in FACTORIES:
            factory.client = client
            result["cancelled"] += len(factory.placed) - len(factory.cancel_all())
        for factory in FACTORIES:
            result["positions_closed"] += factory.close_positions()
        for symbol, client_id in run_open_orders(client):
            client.call("DELETE", ORDER_PATH, {"symbol": symbol, "origClientOrderId": client_id},
                        allow_faults=True, allow_limits=True)
            result["cancelled"] += 1
        left = run_open_orders(client)
        result["open_orders_left"], result["left"] = len(left), [cid for _, cid in left]
    except TargetUnavailable as exc:
        result["error"] = exc.reason
    finally:
        client.close()
    return result


def cleanup_line(cleanup: dict[str, Any]) -> str:
    """The run summary's one line about what the run left behind."""
    if not cleanup:
        return "open orders: not checked (no test ran)"
    if "skipped" in cleanup:
        return f"open orders: not checked — {cleanup['skipped']}"
    prefix = cleanup.get("run_prefix", RUN_PREFIX)
    if cleanup.get("error"):
        return f"open orders left: unknown — cleanup incomplete: {cleanup['error']} (run prefix {prefix})"
    closed = "; ".join(cleanup.get("positions_closed") or []) or "none"
    return (f"open orders left: {cleanup['open_orders_left']} (run prefix {prefix}; cancelled "
            f"{cleanup['cancelled']}; positions closed: {closed})")
