"""Rate-limit governor: paces requests inside a weight/order budget and stops after a 429 until Retry-After."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from conformance.data.exceptions import TargetUnavailable

if TYPE_CHECKING:
    from conformance.data.exchange import Exchange

# Documented in exchangeInfo.rateLimits (fapi-contract §3.1); the 10 s order limit is Binance's convention.
DOCUMENTED_WEIGHT_PER_MINUTE = 2400
DOCUMENTED_ORDERS_PER_MINUTE = 1200
DOCUMENTED_ORDERS_PER_10S = 300
# Retry-After is whole seconds; sending a moment too early after a 429 is exactly what earns a 418.
RETRY_AFTER_MARGIN = 1.0
DEFAULT_RETRY_AFTER = 60.0
# After this many transport failures in a row the target is treated as down for CIRCUIT_SECONDS.
CIRCUIT_FAILURES = 3
CIRCUIT_SECONDS = 30.0


def _header_int(exchange: Exchange, name: str) -> int | None:
    value = exchange.response.headers.get(name, "").strip()
    return int(value) if value.isdigit() else None


# Requests on the wire at once. ZTDX documents one concurrency limit, -1008 ("the node has exceeded the maximum
# concurrency limit"), and only on order placement (POST /fapi/v1/order, /fapi/v1/batchOrders, /fapi/v1/order/test:
# `x-throttled` in the spec); those keep 4 at once. Every other request is limited by weight, which the budget paces,
# and up to 8 are in flight: with a remote target's round trip (~150 ms) that is what the run's wall time is made of.
# A -1008 halves both (Client, retry policy "throttled").
MAX_IN_FLIGHT = 8
MAX_THROTTLED_IN_FLIGHT = 4


class Governor:
    """Keeps a run within `share` of the documented per-minute limits by pacing, never by failing."""

    def __init__(self, share: float = 0.5, *, weight_limit: int = DOCUMENTED_WEIGHT_PER_MINUTE,
                 order_limit: int = DOCUMENTED_ORDERS_PER_MINUTE, order_limit_10s: int = DOCUMENTED_ORDERS_PER_10S,
                 window: float = 60.0, max_in_flight: int = MAX_IN_FLIGHT,
                 max_throttled_in_flight: int = MAX_THROTTLED_IN_FLIGHT, clock=time.monotonic,
                 sleep=time.sleep) -> None:
        self.share = share
        self.weight_budget = max(1, int(weight_limit * share))
        self.order_budget = max(1, int(order_limit * share))
        self.order_budget_10s = max(1, int(order_limit_10s * share))
        self.window = window
        # The server counts a request when it arrives, somewhere between our admission and its answer: an entry
        # expires `slack` (the longest admission-to-answer time seen: signing, a free slot, the round trip) after
        # the window, so no server minute can hold more than the budget when those times vary.
        self.slack = 0.0
        self.short_window = window / 6  # the 10 s order window scales with the minute (tests shrink both)
        self.clock, self.sleep = clock, sleep
        self._weights: deque[tuple[float, int]] = deque()
        self._weight_sum = 0  # of _weights: read at every admission, so kept, not summed (a run holds thousands)
        self._orders: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()
        self._slots = threading.Condition()
        self.max_in_flight, self._in_flight = max_in_flight, 0
        self.max_throttled_in_flight, self._throttled_in_flight = min(max_throttled_in_flight, max_in_flight), 0
        self.blocked_until = 0.0
        self.block_reason = ""
        self._failures = 0
        self._gave_up = 0
        self.sent = self.total_weight = self.throttled = self.banned = self.waits = 0
        self.waited_seconds = 0.0
        self.peak_weight = self.peak_orders = self.peak_server_weight = 0
        self.reconciled = 0

    # -- accounting -------------------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The windows and the block, held while they are read or changed; a shared budget
        (conformance.harness.sharing) loads them from the run's ledger here and writes them back."""
        with self._lock:
            yield

    def _expire(self, now: float) -> None:
        span = self.window + self.slack
        while self._weights and now - self._weights[0][0] >= span:
            self._weight_sum -= self._weights.popleft()[1]
        while self._orders and now - self._orders[0][0] >= span:
            self._orders.popleft()

    def _used(self, now: float) -> int:
        self._expire(now)
        return self._weight_sum

    def _orders_used(self, now: float, span: float) -> int:
        self._expire(now)
        return sum(n for t, n in self._orders if now - t < span)

    def _set_windows(self, weights: Iterable[tuple[float, int]], orders: Iterable[tuple[float, int]]) -> None:
        """Replace both windows (conformance.harness.sharing loads them from the run's ledger)."""
        self._weights, self._orders = deque(weights), deque(orders)
        self._weight_sum = sum(w for _, w in self._weights)

    def used_weight(self) -> int:
        """Weight spent in the current window, local and server figures reconciled."""
        with self._locked():
            return self._used(self.clock())

    def _delay(self, now: float, weight: int, orders: int) -> float:
        """Seconds to wait before this request fits every budget (0 when it fits now)."""
        waits = [0.0]
        if self._weights and self._used(now) + weight > self.weight_budget:
            waits.append(self._weights[0][0] + self.window + self.slack - now)
        if orders and self._orders and self._orders_used(now, self.window + self.slack) + orders > self.order_budget:
            waits.append(self._orders[0][0] + self.window + self.slack - now)
        recent = [t for t, _ in self._orders if now - t < self.short_window]
        if orders and recent and self._orders_used(now, self.short_window) + orders > self.order_budget_10s:
            waits.append(recent[0] + self.short_window - now)
        return max(waits)

    def acquire(self, weight: int, orders: int = 0) -> None:
        """Wait until sending this request keeps the window inside the budget; raise while blocked."""
        while True:
            with self._locked():
                now = self.clock()
                if now < self.blocked_until:
                    raise TargetUnavailable(f"{self.block_reason} ({self.blocked_until - now:.0f}s left)",
                                            retry_after=self.blocked_until - now)
                delay = self._delay(now, weight, orders)
                if delay <= 0:
                    self._record(now, weight, orders)
                    return
            self.waits += 1
            self.waited_seconds += delay
            self.sleep(delay)

    def _record(self, now: float, weight: int, orders: int) -> None:
        self._weights.append((now, weight))
        self._weight_sum += weight
        if orders:
            self._orders.append((now, orders))
        self.sent += 1
        self.total_weight += weight
        self.peak_weight = max(self.peak_weight, self._used(now))
        self.peak_orders = max(self.peak_orders, self._orders_used(now, self.window))

    # -- feedback from the target -----------------------------------------------------------------------------
    def observe(self, exchange: Exchange, admitted_at: float | None = None) -> None:
        """Reconcile with the used-weight/order-count headers; honour Retry-After on 429/418. `admitted_at` (the
        clock when the request was admitted) widens the slack by the time it took to arrive and come back."""
        self._failures = 0
        with self._locked():
            now = self.clock()
            took = now - admitted_at if admitted_at is not None else exchange.response.elapsed_ms / 1000
            self.slack = max(self.slack, took)
            self._reconcile(now, exchange)
        status = exchange.response.status
        if status in (418, 429):
            self.throttled += status == 429
            self.banned += status == 418
            retry = exchange.response.headers.get("retry-after", "")
            seconds = float(retry) if retry.replace(".", "", 1).isdigit() else DEFAULT_RETRY_AFTER
            reason = f"rate-limited: HTTP {status}, waiting for Retry-After {retry or '-'}s"
            self.block(seconds + RETRY_AFTER_MARGIN, reason)

    def _reconcile(self, now: float, exchange: Exchange) -> None:
        # The server's figure also counts traffic we never saw (other clients on this IP): take the larger one.
        server = _header_int(exchange, "x-mbx-used-weight-1m")
        if server is not None:
            self._server_weight(now, server)
        for name, span in (("x-mbx-order-count-1m", self.window), ("x-mbx-order-count-10s", self.short_window)):
            count = _header_int(exchange, name)
            local = self._orders_used(now, span)
            if count is not None and count > local:
                self._orders.append((now, count - local))
                self.reconciled += 1

    def _server_weight(self, now: float, server: int) -> None:
        self.peak_server_weight = max(self.peak_server_weight, server)
        local = self._used(now)
        if server > local:
            self._weights.append((now, server - local))
            self._weight_sum += server - local
            self.reconciled += 1
            self.peak_weight = max(self.peak_weight, server)

    def note_server_weight(self, used: int) -> None:
        """The target's used weight reported outside an HTTP header (a WebSocket-API answer's `rateLimits`)."""
        with self._locked():
            self._server_weight(self.clock(), used)

    def block(self, seconds: float, reason: str) -> None:
        """Send nothing more to this target for `seconds`; callers get TargetUnavailable meanwhile."""
        with self._locked():
            until = self.clock() + seconds
            if until > self.blocked_until:
                self.blocked_until, self.block_reason = until, reason

    def note_transport_failure(self, reason: str) -> None:
        """Count a failed connection; after a few in a row the target is treated as down for a while."""
        self._failures += 1
        if self._failures >= CIRCUIT_FAILURES:
            self.block(CIRCUIT_SECONDS, f"unreachable: {self._failures} transport failures in a row ({reason})")

    def note_gave_up(self, reason: str) -> None:
        """A documented failure still failing after its retries; a few in a row: the target is down for a while."""
        self._gave_up += 1
        if self._gave_up >= CIRCUIT_FAILURES:
            self.block(CIRCUIT_SECONDS, f"unavailable: {self._gave_up} requests in a row failed after their retries "
                                        f"({reason})")

    def note_answered(self) -> None:
        self._gave_up = 0

    @property
    def rate_limited(self) -> bool:
        """Blocked by the target's own 429/418 (honour it), not by the suite's circuit breaker (a guess)."""
        with self._locked():
            return self.blocked_until > self.clock() and self.block_reason.startswith("rate-limited")

    def clear_circuit(self) -> None:
        """Lift a circuit-breaker block (never a 429/418 one): the cleanup tries the target once more."""
        with self._locked():
            if not self.block_reason.startswith("rate-limited"):
                self.blocked_until, self._failures, self._gave_up = 0.0, 0, 0

    def wait_until_unblocked(self, max_wait: float) -> bool:
        """Wait out a block if it ends within `max_wait` seconds (used by the end-of-run cleanup)."""
        with self._locked():
            left = self.blocked_until - self.clock()
        if left > max_wait:
            return False
        if left > 0:
            self.sleep(left)
        return True

    # -- concurrency (lowered after -1008) --------------------------------------------------------------------
    @contextmanager
    def slot(self, *, throttled: bool = False) -> Iterator[None]:
        """Hold one of `max_in_flight` request slots while a request is on the wire; a request to an endpoint the
        -1008 concurrency limit covers (`throttled`) also holds one of `max_throttled_in_flight`."""
        def free() -> bool:
            return self._in_flight < self.max_in_flight and (
                not throttled or self._throttled_in_flight < self.max_throttled_in_flight)

        with self._slots:
            self._slots.wait_for(free)
            self._in_flight += 1
            self._throttled_in_flight += throttled
        try:
            yield
        finally:
            with self._slots:
                self._in_flight -= 1
                self._throttled_in_flight -= throttled
                self._slots.notify_all()

    def reduce_concurrency(self) -> int:
        """Halve the number of requests in flight, of both kinds (never below one), as -1008 asks."""
        with self._slots:
            self.max_in_flight = max(1, self.max_in_flight // 2)
            self.max_throttled_in_flight = max(1, min(self.max_in_flight, self.max_throttled_in_flight // 2))
            return self.max_in_flight

    def claim(self, path: str) -> None:
        """Before a request to `path`: a shared budget (conformance.harness.sharing) makes the test that sends it the
        only one of the run using a resource every client of the account shares (the listenKey); alone, nothing to
        do."""

    def release_claims(self) -> None:
        """At the end of a test: let go of what `claim` took."""

    def absorb(self, stats: dict[str, Any]) -> None:
        """Add another process's figures of the same budget (a pytest-xdist worker's `stats()`) to this one's: counts
        add up; peaks were measured on the shared window, so the run's peak is the largest."""
        self.sent += int(stats.get("requests", 0))
        self.total_weight += int(stats.get("total_weight", 0))
        self.throttled += int(stats.get("http_429", 0))
        self.banned += int(stats.get("http_418", 0))
        self.waits += int(stats.get("paced_waits", 0))
        self.waited_seconds += float(stats.get("paced_seconds", 0.0))
        self.reconciled += int(stats.get("reconciled", 0))
        self.peak_weight = max(self.peak_weight, int(stats.get("peak_weight_1m", 0)))
        self.peak_server_weight = max(self.peak_server_weight, int(stats.get("peak_server_weight_1m", 0)))
        self.peak_orders = max(self.peak_orders, int(stats.get("peak_orders_1m", 0)))
        self.max_in_flight = min(self.max_in_flight, int(stats.get("max_in_flight", self.max_in_flight)))
        self.max_throttled_in_flight = min(self.max_throttled_in_flight,
                                           int(stats.get("max_throttled_in_flight", self.max_throttled_in_flight)))

    def stats(self) -> dict[str, Any]:
        return {"share": self.share, "weight_budget_1m": self.weight_budget, "order_budget_1m": self.order_budget,
                "order_budget_10s": self.order_budget_10s, "requests": self.sent, "total_weight": self.total_weight,
                "peak_weight_1m": self.peak_weight, "peak_server_weight_1m": self.peak_server_weight,
                "peak_orders_1m": self.peak_orders, "paced_waits": self.waits,
                "paced_seconds": round(self.waited_seconds, 3), "http_429": self.throttled, "http_418": self.banned,
                "reconciled": self.reconciled, "max_in_flight": self.max_in_flight,
                "max_throttled_in_flight": self.max_throttled_in_flight}
