"""IP weight and order-count limits over fixed windows, the 429 cool-down and the 418 ban."""

from __future__ import annotations

import math
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


def scaled_limits(factor: int) -> dict[str, int]:
    """The documented rate limits times `factor` (the window and the ban stay as they are)."""
    base = LimitSettings()
    return {"weight_per_minute": base.weight_per_minute * factor, "orders_per_10s": base.orders_per_10s * factor,
            "orders_per_minute": base.orders_per_minute * factor}


class Window:
    """A fixed window aligned to the epoch (Binance's used-weight counters reset on the minute boundary)."""

    def __init__(self) -> None:
        self.index, self.count = -1, 0

    def used(self, now: float, span: float) -> int:
        index = int(now // span)
        if index != self.index:
            self.index, self.count = index, 0
        return self.count

    def add(self, now: float, span: float, amount: int) -> None:
        self.used(now, span)
        self.count += amount

    @staticmethod
    def end(now: float, span: float) -> float:
        return (now // span + 1) * span


class RateLimiter:
    """Fixed windows in seconds: `window_seconds` stands for the minute, and the 10 s order window is 1/6 of it."""

    def __init__(self, baseline: dict[str, int] | None = None) -> None:
        self.baseline = dict(baseline or {})  # what reset() returns to (the documented limits by default)
        self.settings = LimitSettings(**self.baseline)
        self.reset()

    def reset(self, settings: bool = True) -> None:
        if settings:
            self.settings = LimitSettings(**self.baseline)
        self.weights, self.orders_short, self.orders_long = Window(), Window(), Window()
        self.cooldown_until = 0.0
        self.banned_until = 0.0
        self.charged = 0  # weight counted since the reset (what a client's own accounting must match)

    def configure(self, values: dict[str, int]) -> None:
        for name, value in values.items():
            setattr(self.settings, name, value)

    @property
    def window(self) -> float:
        return float(self.settings.window_seconds)

    @property
    def short_window(self) -> float:
        return self.window / 6

    def used_weight(self, now: float) -> int:
        return self.weights.used(now, self.window)

    def order_counts(self, now: float) -> tuple[int, int]:
        """(orders in the 10 s window, orders in the minute window)."""
        return self.orders_short.used(now, self.short_window), self.orders_long.used(now, self.window)

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

    def charge(self, now: float, weight: int, orders: int) -> None:
        """Count the request, or refuse it with 429 (weight: -1003 and a cool-down to the window's end; orders:
        -1015, no cool-down: order limits are per account, bans per IP)."""
        limit = self.settings.weight_per_minute
        if self.used_weight(now) + weight > limit:
            self.cooldown_until = Window.end(now, self.window)
            raise ApiError("too_many_requests", limit=limit)
        if orders:
            short, long_ = self.order_counts(now)
            if short + orders > self.settings.orders_per_10s:
                raise ApiError("too_many_orders", limit=self.settings.orders_per_10s,
                               interval=f"{self.short_window:g} seconds")
            if long_ + orders > self.settings.orders_per_minute:
                raise ApiError("too_many_orders", limit=self.settings.orders_per_minute,
                               interval=f"{self.window:g} seconds")
            self.orders_short.add(now, self.short_window, orders)
            self.orders_long.add(now, self.window, orders)
        self.weights.add(now, self.window, weight)
        self.charged += weight

    def retry_after(self, now: float, status: int) -> int:
        """Whole seconds until the ban (418), the cool-down (429 on weight) or the order window (429 -1015) ends."""
        if status == 418:
            until = self.banned_until
        elif self.cooldown_until > now:
            until = self.cooldown_until
        else:
            short, _ = self.order_counts(now)
            span = self.short_window if short >= self.settings.orders_per_10s else self.window
            until = Window.end(now, span)
        return max(1, math.ceil(until - now))

    def headers(self, now: float, orders: bool) -> dict[str, str]:
        out = {"X-MBX-USED-WEIGHT-1M": str(self.used_weight(now))}
        if orders:
            short, long_ = self.order_counts(now)
            out["X-MBX-ORDER-COUNT-10S"], out["X-MBX-ORDER-COUNT-1M"] = str(short), str(long_)
        return out
