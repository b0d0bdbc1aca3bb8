"""Rate-limit governor: paces requests inside a weight/order budget and stops after a 429 until Retry-After."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from conformance.errors import TargetUnavailable

if TYPE_CHECKING:
    from conformance.exchange import Exchange

DOCUMENTED_WEIGHT_PER_MINUTE = 2400
DOCUMENTED_ORDERS_PER_MINUTE = 1200


class Governor:
    """Keeps a run within `share` of the documented per-minute limits by pacing, never by failing."""

    def __init__(self, share: float = 0.5, *, weight_limit: int = DOCUMENTED_WEIGHT_PER_MINUTE,
                 order_limit: int = DOCUMENTED_ORDERS_PER_MINUTE, window: float = 60.0,
                 clock=time.monotonic, sleep=time.sleep) -> None:
        self.weight_budget = max(1, int(weight_limit * share))
        self.order_budget = max(1, int(order_limit * share))
        self.window = window
        self.clock, self.sleep = clock, sleep
        self._weights: deque[tuple[float, int]] = deque()
        self._orders: deque[float] = deque()
        self._lock = threading.Lock()
        self.blocked_until = 0.0
        self.sent = 0
        self.total_weight = 0
        self.throttled = 0

    def _used(self, now: float) -> int:
        while self._weights and now - self._weights[0][0] >= self.window:
            self._weights.popleft()
        while self._orders and now - self._orders[0] >= self.window:
            self._orders.popleft()
        return sum(w for _, w in self._weights)

    def acquire(self, weight: int, orders: int = 0) -> None:
        """Wait until sending this request keeps the window inside the budget."""
        with self._lock:
            now = self.clock()
            if now < self.blocked_until:
                raise TargetUnavailable(f"rate-limited: waiting for Retry-After ({self.blocked_until - now:.0f}s left)")
            while (self._used(now) + weight > self.weight_budget and self._weights) or (
                orders and len(self._orders) + orders > self.order_budget and self._orders
            ):
                starts = [self._weights[0][0]] if self._weights else []
                starts += [self._orders[0]] if self._orders else []
                oldest = min(starts)
                self.sleep(max(0.0, oldest + self.window - now))
                now = self.clock()
            self._weights.append((now, weight))
            self._orders.extend([now] * orders)
            self.sent += 1
            self.total_weight += weight

    def observe(self, exchange: Exchange) -> None:
        """Honour Retry-After on 429/418: nothing more is sent to this target until it has passed."""
        status = exchange.response.status
        if status in (418, 429):
            self.throttled += 1
            retry = exchange.response.headers.get("retry-after", "")
            seconds = float(retry) if retry.replace(".", "", 1).isdigit() else 60.0
            self.blocked_until = max(self.blocked_until, self.clock() + seconds)
