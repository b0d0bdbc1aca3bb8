"""IP weight and order-count limits over sliding windows, the 429 cool-down and the 418 ban."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass

from .errors import ApiError

LIMIT_FIELDS = ("weight_per_minute", "orders_per_10s", "orders_per_minute", "ban_seconds", "window_seconds")


@dataclass
class LimitSettings:
    weight_per_minute: int = 2400
    orders_per_10s: int = 300
    orders_per_minute: int = 1200
    ban_seconds: int = 120
    window_seconds: int = 60

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class RateLimiter:
    """Sliding windows in seconds; `window_seconds` stands for the minute, and the 10 s order window is 1/6 of it."""

    def __init__(self) -> None:
        self.settings = LimitSettings()
        self.reset()

    def reset(self, settings: bool = True) -> None:
        if settings:
            self.settings = LimitSettings()
        self.weights: deque[tuple[float, int]] = deque()
        self.orders: deque[tuple[float, int]] = deque()
        self.cooldown_until = 0.0
        self.banned_until = 0.0

    def configure(self, values: dict[str, int]) -> None:
        for name, value in values.items():
            setattr(self.settings, name, value)

    @property
    def window(self) -> float:
        return float(self.settings.window_seconds)

    def _expire(self, now: float) -> None:
        for queue in (self.weights, self.orders):
            while queue and now - queue[0][0] >= self.window:
                queue.popleft()

    def used_weight(self, now: float) -> int:
        self._expire(now)
        return sum(w for _, w in self.weights)

    def order_counts(self, now: float) -> tuple[int, int]:
        """(orders in the 10 s window, orders in the minute window)."""
        self._expire(now)
        short = self.window / 6
        return sum(n for t, n in self.orders if now - t < short), sum(n for _, n in self.orders)

    def banned_until_ms(self, now: float) -> int | None:
        if self.banned_until and now >= self.banned_until:
            self.banned_until = 0.0
            self.cooldown_until = 0.0
        return int(self.banned_until * 1000) if self.banned_until else None

    def gate(self, now: float) -> None:
        """Before anything else: a banned IP, or one that keeps sending during the 429 cool-down, gets 418."""
        if self.banned_until_ms(now) is None and now < self.cooldown_until:
            self.banned_until = now + self.settings.ban_seconds
        if self.banned_until:
            raise ApiError("banned", until=int(self.banned_until * 1000))

    def _free_at(self, now: float, weight: int) -> float:
        """When enough of the window has expired for `weight` to fit under the limit."""
        used = self.used_weight(now)
        for stamp, spent in self.weights:
            used -= spent
            if used + weight <= self.settings.weight_per_minute:
                return stamp + self.window
        return now + self.window

    def charge(self, now: float, weight: int, orders: int) -> None:
        """Count the request, or refuse it with 429 (weight: -1003 and a cool-down; orders: -1015)."""
        limit = self.settings.weight_per_minute
        if self.used_weight(now) + weight > limit:
            self.cooldown_until = max(self._free_at(now, weight), now + 1.0)
            raise ApiError("too_many_requests", limit=limit)
        if orders:
            short, long_ = self.order_counts(now)
            if short + orders > self.settings.orders_per_10s:
                raise ApiError("too_many_orders", limit=self.settings.orders_per_10s,
                               interval=f"{self.window / 6:g} seconds")
            if long_ + orders > self.settings.orders_per_minute:
                raise ApiError("too_many_orders", limit=self.settings.orders_per_minute,
                               interval=f"{self.window:g} seconds")
            self.orders.append((now, orders))
        if weight:
            self.weights.append((now, weight))

    def retry_after(self, now: float, status: int) -> int:
        """Whole seconds until the cool-down (429) or the ban (418) is over; always at least 1."""
        until = self.banned_until if status == 418 else self.cooldown_until
        if status == 429 and until <= now:  # order-count 429: wait for the oldest order to leave the window
            until = (self.orders[0][0] + self.window) if self.orders else now + 1
        return max(1, math.ceil(until - now))

    def headers(self, now: float, orders: bool) -> dict[str, str]:
        out = {"X-MBX-USED-WEIGHT-1M": str(self.used_weight(now))}
        if orders:
            short, long_ = self.order_counts(now)
            out["X-MBX-ORDER-COUNT-10S"], out["X-MBX-ORDER-COUNT-1M"] = str(short), str(long_)
        return out
