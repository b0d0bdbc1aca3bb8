"""After an unknown-outcome 503 the order is looked up by clientOrderId (bounded polling) — never resubmitted."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from conformance.data.exceptions import TargetUnavailable

if TYPE_CHECKING:
    from conformance.data.exchange import Exchange

QUERY_PATH = "/fapi/v1/order"
LOOKUP_DELAY = 0.2  # seconds between two lookups of an order whose outcome is unknown (remote exchange)
NOT_FOUND_CODES = (-2013,)  # "Order does not exist." — may still turn up while the core catches up


@dataclass(frozen=True)
class Finding:
    """What the lookup found: `found` (True/False/None = could not tell), the order's status and ID, tries used."""

    symbol: str
    client_order_id: str
    found: bool | None
    status: str = ""
    order_id: int | None = None
    attempts: int = 0
    detail: str = ""

    def line(self) -> str:
        if self.found and self.attempts == 0:  # confirmed by a WebSocket report: no query was needed
            return (f"{self.symbol} {self.client_order_id}: {self.status} orderId {self.order_id}, {self.detail}; "
                    "not resubmitted")
        if self.found:
            what = f"found {self.status} orderId {self.order_id}"
        elif self.found is False:
            what = "not found (the request was not executed)"
        else:
            what = f"undetermined ({self.detail})"
        return f"{self.symbol} {self.client_order_id}: {what} after {self.attempts} lookup(s); not resubmitted"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _body(ex: Exchange) -> Any:
    return ex.response.json() if ex.response.is_json else None


def order_by_client_id(call: Callable[..., Exchange], symbol: str, client_order_id: str, attempts: int = 5,
                       delay: float = LOOKUP_DELAY, *, sleep: Callable[[float], None] = time.sleep) -> Finding:
    """Poll GET /fapi/v1/order by origClientOrderId up to `attempts` times; report what it shows.

    `call` is the lookup (a client's `call`), injected so that this module does not depend on the client.
    """
    detail = "no answer"
    for attempt in range(1, attempts + 1):
        try:
            ex = call("GET", QUERY_PATH, {"symbol": symbol, "origClientOrderId": client_order_id},
                      allow_faults=True)
        except TargetUnavailable as exc:
            detail = exc.reason
        else:
            body = _body(ex)
            if ex.response.status == 200 and isinstance(body, dict):
                return Finding(symbol, client_order_id, True, str(body.get("status", "")), body.get("orderId"),
                               attempt)
            code = ex.response.error.code if ex.response.error else None
            detail = f"HTTP {ex.response.status} code {code}"
            if code in NOT_FOUND_CODES and attempt == attempts:
                return Finding(symbol, client_order_id, False, attempts=attempt, detail=detail)
        if attempt < attempts:
            sleep(delay)
    return Finding(symbol, client_order_id, None, attempts=attempts, detail=detail)


def from_order_event(symbol: str, client_order_id: str, event: dict[str, Any]) -> Finding:
    """An order event that names the order confirms it was executed (its payload is not documented: REST's
    orderId/status, or Binance's stream letters i/X, are read when present)."""
    status = event.get("status", event.get("X", ""))
    order_id = event.get("orderId", event.get("i"))
    return Finding(symbol, client_order_id, True, str(status), order_id if isinstance(order_id, int) else None, 0,
                   "confirmed by an order event on the WebSocket")


def client_ids(method: str, path: str, params: dict[str, str]) -> list[tuple[str, str]]:
    """(symbol, clientOrderId) pairs a request would create: one for newOrder, one per item for batchOrders."""
    if method != "POST":
        return []
    if path == "/fapi/v1/order" and params.get("newClientOrderId"):
        return [(params.get("symbol", ""), params["newClientOrderId"])]
    if path == "/fapi/v1/batchOrders":
        try:
            items = json.loads(params.get("batchOrders", "[]"))
        except ValueError:
            return []
        return [(str(i.get("symbol", "")), str(i["newClientOrderId"])) for i in items
                if isinstance(i, dict) and i.get("newClientOrderId")]
    return []
