"""Everything one mock instance remembers: market, account, limits, faults, throttle, latency and counters."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from .faults import FaultStore
from .limits import RateLimiter
from .market import HOUR, Market
from .seed import seeded_ledger
from .ws import StreamHub, WsFaults

DEFAULT_API_KEY = "ztdx-test-key-0123456789"
DEFAULT_API_SECRET = "ztdx-test-secret-0123456789"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Latency:
    ms: float = 0.0
    jitter_ms: float = 0.0


@dataclass
class MockState:
    seed: int = 42
    api_key: str = DEFAULT_API_KEY
    api_secret: str = DEFAULT_API_SECRET
    initial_latency: Latency = field(default_factory=Latency)
    initial_limits: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.market = Market(self.seed)
        self.anchor_ms = now_ms() - now_ms() % HOUR  # the seeded history hangs off the hour the mock started
        self.limiter = RateLimiter(self.initial_limits)
        self.faults = FaultStore()
        self.streams = StreamHub()  # the /ws connections: they outlive a reset, as a client's socket would
        self.ws_faults = WsFaults()
        self.reset()

    def reset(self) -> None:
        """Back to the seeded start: faults, throttle, latency, limits, counters, bans and the account."""
        self.ledger, self.engine = seeded_ledger(self.market, self.anchor_ms)
        self.engine.emit = self.streams.publish
        self.ws_faults.clear()
        self.limiter.reset()
        self.faults.clear()
        self.throttle = False
        self.latency = Latency(self.initial_latency.ms, self.initial_latency.jitter_ms)
        self.requests = 0

    def snapshot(self) -> dict[str, Any]:
        """GET /__mock__/state."""
        now = time.time()
        led = self.ledger
        return {
            "requests": self.requests,
            "used_weight_1m": self.limiter.used_weight(now),
            "weight_charged": self.limiter.charged,
            "orders_created": led.created,
            "orders": [o.brief() for o in led.orders.values()],
            "open_orders": len(self.engine.open_orders()),
            "positions": {s: {"positionAmt": str(p.amount), "entryPrice": str(p.entry)}
                          for s, p in led.positions.items()},
            "banned_until_ms": self.limiter.banned_until_ms(now),
            "faults_pending": sum(f.remaining for f in self.faults.pending),
            "throttle": self.throttle,
            "limits": self.limiter.settings.as_dict(),
            "latency": {"ms": self.latency.ms, "jitter_ms": self.latency.jitter_ms},
            "ws": {**self.streams.describe(), "faults_pending": sum(f.remaining for f in self.ws_faults.pending)},
        }


def credentials(api_key: str | None, api_secret: str | None) -> tuple[str, str]:
    """Explicit arguments, then ZTDX_API_KEY / ZTDX_API_SECRET, then the documented test defaults."""
    key = api_key or os.environ.get("ZTDX_API_KEY") or DEFAULT_API_KEY
    secret = api_secret or os.environ.get("ZTDX_API_SECRET") or DEFAULT_API_SECRET
    return key, secret
