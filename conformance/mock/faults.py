"""Injected faults (one-shot answers per method+path) and the -1008 throttle mode with its exemptions."""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote

FAULT_KINDS = ("waf", "timeout", "unknown-error", "unknown-status", "service-unavailable", "internal-error",
               "throttled")
# Answered without charging weight or order counts: variant B "Does not count toward the rate limit", and the
# -1008 throttle, which Binance does not count either (ZTDX does not say).
UNCOUNTED_KINDS = ("service-unavailable", "throttled")
THROTTLED_PATHS = {("POST", "/fapi/v1/order"), ("POST", "/fapi/v1/batchOrders"), ("POST", "/fapi/v1/order/test")}
EXEMPTABLE_PATHS = {("POST", "/fapi/v1/order"), ("POST", "/fapi/v1/batchOrders")}


@dataclass
class Fault:
    id: str
    kind: str
    method: str | None
    path: str | None
    remaining: int
    executed: bool

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or self.path == path)


class FaultStore:
    """Pending faults, consumed first-registered first; each answers `remaining` more matching requests."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.pending: list[Fault] = []

    def add(self, kind: str, method: str | None, path: str | None, count: int, executed: bool) -> Fault:
        fault = Fault(f"f{next(self._ids)}", kind, method.upper() if method else None, path, count, executed)
        self.pending.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.pending:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.pending.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.pending.clear()

    def describe(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.pending]


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def exempt_order(values: dict[str, Any]) -> bool:
    """The reduce-only/close-position criteria of general-info, section C."""
    side = str(values.get("side", "")).upper()
    position_side = str(values.get("positionSide") or "BOTH").upper()
    if _true(values.get("closePosition")):
        return True
    if position_side == "BOTH" and _true(values.get("reduceOnly")):
        return True
    return (position_side, side) in (("LONG", "SELL"), ("SHORT", "BUY"))


def exempt_batch(raw: str | None) -> bool:
    """A batch is exempt only when every item is; an unreadable batch is not."""
    raw = raw or ""
    try:
        items = json.loads(unquote(raw) if raw.startswith("%") else raw)
    except ValueError:
        return False
    return isinstance(items, list) and bool(items) and all(isinstance(i, dict) and exempt_order(i) for i in items)


def throttled(method: str, path: str, values: dict[str, str]) -> bool:
    """True when throttle mode must answer this request -1008."""
    if (method, path) not in THROTTLED_PATHS:
        return False
    if (method, path) not in EXEMPTABLE_PATHS:
        return True  # order/test is never exempt: the exemption names only order and batchOrders
    if path == "/fapi/v1/batchOrders":
        return not exempt_batch(values.get("batchOrders"))
    return not exempt_order(values)
