"""Orders that cannot fill and clean up after themselves: tiny size, far price, run-unique client IDs."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation
from typing import Any

from conformance.data.contract import Contract
from conformance.data.exceptions import NotTested, TargetUnavailable
from conformance.data.exchange import Exchange
from conformance.harness import readers
from conformance.harness.client import Client
from conformance.harness.governor import Governor
from conformance.harness.journal import Journal
from conformance.harness.targets import Target

ORDER_PATH = "/fapi/v1/order"
OPEN_ORDERS_PATH = "/fapi/v1/openOrders"
POSITION_PATH = "/fapi/v1/positionRisk"
# One prefix per process: every order this run creates starts with it, so the end-of-run sweep finds
# even orders a test built by hand (`RUN_PREFIX + "-..."`) or whose answer was lost.
RUN_PREFIX = f"fc{secrets.token_hex(4)}"
CLEANUP_BUDGET = 120.0  # seconds the end-of-run cleanup may take in all, Retry-After waits included
CLEANUP_TRIES = 3  # sends of one cleanup request refused by a 429/418
LINE_IDS = 5  # client order IDs named in the summary line (safety.json has them all)
GONE_CODES = (-2011, -2013)  # unknown order / order does not exist: nothing left to cancel


def filter_value(symbol_info: dict[str, Any], kind: str, name: str, default: str) -> Decimal:
    """One exchangeInfo filter value (the documented default where the filter is absent); garbage is not tested."""
    filters = symbol_info.get("filters")
    found = next((f for f in filters if isinstance(f, dict) and f.get("filterType") == kind), {}) \
        if isinstance(filters, list) else {}
    text = str(found.get(name, default))
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        raise NotTested(f"precondition: exchangeInfo {symbol_info.get('symbol')} {kind}.{name} is {text!r}, not a "
                        "positive decimal", rule_id="schema.exchangeInfo")
    return value


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
    _info_answer: Exchange | None = None
    refused: dict[str, str] = field(default_factory=dict)  # clientOrderId -> why its cancel failed
    _counter: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.client.journal.factories.append(self)  # the run's journal: the end-of-run cleanup finds it there

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        """exchangeInfo's entry for `symbol`, read once; an unusable answer leaves the order tests not tested."""
        if self._info_answer is None:
            self._info_answer = self.client.call("GET", "/fapi/v1/exchangeInfo")
        self._info = self._info or readers.symbols(self._info_answer)  # an unusable answer says why every time
        return readers.symbol_info(self._info_answer, self._info, symbol)

    def mark_price(self, symbol: str) -> Decimal:
        ex = self.client.call("GET", "/fapi/v1/premiumIndex", {"symbol": symbol})
        what = "the mark price places orders far from the market"
        return readers.decimal(ex, readers.body(ex, dict, what), "markPrice", what)

    def next_client_id(self) -> str:
        return f"{self.prefix}-{next(self._counter)}"

    def resting_limit(self, symbol: str = "BTCUSDT", side: str = "BUY", **extra: Any) -> dict[str, Any]:
        """Parameters of a GTC LIMIT order far from the mark price, just above the minimum notional."""
        info = self.symbol_info(symbol)
        self.baseline(symbol)
        tick = filter_value(info, "PRICE_FILTER", "tickSize", "0.1")
        step = filter_value(info, "LOT_SIZE", "stepSize", "0.001")
        min_notional = filter_value(info, "MIN_NOTIONAL", "notional", "10")
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
        """Net position amount on `symbol` (one-way mode; hedge-mode legs are summed; unreadable rows count 0)."""
        ex = self.client.call("GET", POSITION_PATH, {"symbol": symbol})
        rows = ex.response.json() if ex.response.status == 200 and ex.response.is_json else []
        return sum((_amount(r.get("positionAmt")) for r in (rows if isinstance(rows, list) else [])
                    if isinstance(r, dict) and r.get("symbol") == symbol), Decimal(0))

    def baseline(self, symbol: str) -> Decimal:
        """The position before this run traded `symbol`, so the cleanup closes only what the run opened."""
        if symbol not in self.baselines:
            self.baselines[symbol] = self.position(symbol)
        return self.baselines[symbol]

    def cancel_all(self, *, again: bool = False) -> list[str]:
        """Cancel every order this run placed that is still open; returns the IDs that stayed open.

        An order whose cancel was refused once is left to the end-of-run cleanup (`again=True`), so a target that
        refuses every cancel costs one request per order, not one per order and test."""
        left = []
        for client_id, symbol in list(self.placed.items()):
            if client_id in self.refused and not again:
                left.append(client_id)
                continue
            try:
                ex = self.client.call("DELETE", ORDER_PATH, {"symbol": symbol, "origClientOrderId": client_id},
                                      allow_faults=True, allow_limits=True, allow_missing=True)
            except TargetUnavailable as exc:
                self.refused[client_id] = exc.reason
                left.append(client_id)
                continue
            if ex.response.status == 200 or _code(ex) in GONE_CODES:
                self.placed.pop(client_id, None)
                self.refused.pop(client_id, None)
            else:
                self.refused[client_id] = f"HTTP {ex.response.status} code {_code(ex)}"
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
    error = ex.response.error
    return error.code if error else None


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def run_open_orders(client: Client, prefix: str = RUN_PREFIX) -> list[tuple[str, str]]:
    """(symbol, clientOrderId) of every open order on the account whose clientOrderId carries `prefix`."""
    ex = client.call("GET", OPEN_ORDERS_PATH, allow_limits=True, allow_missing=True)  # no symbol: weight 40
    body = ex.response.json() if ex.response.is_json else None
    if ex.response.status != 200 or not isinstance(body, list):
        shown = "a list" if isinstance(body, list) else "not a JSON list"
        raise TargetUnavailable(f"open orders could not be listed (HTTP {ex.response.status}, {shown})")
    return [(str(o.get("symbol")), str(o.get("clientOrderId"))) for o in body
            if isinstance(o, dict) and str(o.get("clientOrderId", "")).startswith(prefix)]


@dataclass
class _Budget:
    """The cleanup's time budget: waits for Retry-After and every request come out of it."""

    governor: Governor
    seconds: float
    start: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.start)

    def send(self, send: Any) -> Any:
        """`send()` once the target is not blocked; a short block is waited out, a 429/418 answer retried."""
        for _ in range(CLEANUP_TRIES):
            if self.left() <= 0 or not self.governor.wait_until_unblocked(self.left()):
                raise TargetUnavailable(f"cleanup budget of {self.seconds:.0f} s spent"
                                        + (f" ({self.governor.block_reason})" if self.governor.block_reason else ""))
            try:
                answer = send()
            except TargetUnavailable as exc:
                if not self.governor.rate_limited:
                    raise  # down, or refusing: one try is the answer
                reason = exc.reason  # blocked by a 429/418 meanwhile: wait it out on the next try
                continue
            if getattr(getattr(answer, "response", None), "status", 200) not in (418, 429):
                return answer
            reason = f"HTTP {answer.response.status}"
        raise TargetUnavailable(f"still refused after {CLEANUP_TRIES} tries ({reason})")


def cleanup_run(target: Target, contract: Contract, journal: Journal, governor: Governor,
                budget_seconds: float = CLEANUP_BUDGET) -> dict[str, Any]:
    """Cancel the run's orders, close what it opened, then check that nothing with the run prefix is open.

    Bounded by `budget_seconds` whatever the target answers; the result says exactly what could not be cancelled."""
    result: dict[str, Any] = {"run_prefix": RUN_PREFIX, "cancelled": 0, "positions_closed": [],
                              "open_orders_left": None, "not_cancelled": {}}
    budget = _Budget(governor, budget_seconds)
    governor.clear_circuit()  # the run's own guess that the target is down; a Retry-After still holds
    client = Client(target, contract=contract, governor=governor, journal=journal)  # the tests' may be closed
    try:
        for factory in list(journal.factories):
            factory.client = client
            before = len(factory.placed)
            left = budget.send(lambda f=factory: f.cancel_all(again=True))
            result["cancelled"] += before - len(left)
            result["not_cancelled"] |= {cid: factory.refused.get(cid, "not cancelled") for cid in left}
        for factory in list(journal.factories):
            result["positions_closed"] += budget.send(factory.close_positions)
        for symbol, client_id in budget.send(lambda: run_open_orders(client)):
            ex = budget.send(lambda s=symbol, c=client_id: client.call(
                "DELETE", ORDER_PATH, {"symbol": s, "origClientOrderId": c}, allow_faults=True, allow_limits=True,
                allow_missing=True))
            if ex.response.status == 200 or _code(ex) in GONE_CODES:
                result["cancelled"] += 1
                result["not_cancelled"].pop(client_id, None)
            else:
                result["not_cancelled"][client_id] = f"HTTP {ex.response.status} code {_code(ex)}"
        left = budget.send(lambda: run_open_orders(client))
        result["open_orders_left"], result["left"] = len(left), [cid for _, cid in left]
        # Orders cancelled after all (by DELETE allOpenOrders, say) are not left: name only what is still open.
        result["not_cancelled"] = {cid: why for cid, why in result["not_cancelled"].items() if cid in result["left"]}
    except TargetUnavailable as exc:
        result["error"] = exc.reason
    except Exception as exc:  # the cleanup ends in a report whatever the target answered (garbage, wrong types)
        result["error"] = f"{type(exc).__name__}: {exc}"
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
    refused = cleanup.get("not_cancelled") or {}
    named = "; ".join(f"{cid} ({why})" for cid, why in list(refused.items())[:LINE_IDS])
    more = f" and {len(refused) - LINE_IDS} more" if len(refused) > LINE_IDS else ""
    not_cancelled = f"; could not cancel {len(refused)}: {named}{more}" if refused else ""
    if cleanup.get("error"):
        return (f"open orders left: unknown — cleanup incomplete: {cleanup['error']} (run prefix {prefix}; "
                f"cancelled {cleanup.get('cancelled', 0)}{not_cancelled})")
    closed = "; ".join(cleanup.get("positions_closed") or []) or "none"
    left = f": {', '.join(cleanup.get('left', [])[:LINE_IDS])}" if cleanup.get("open_orders_left") else ""
    return (f"open orders left: {cleanup['open_orders_left']}{left} (run prefix {prefix}; cancelled "
            f"{cleanup['cancelled']}; positions closed: {closed}{not_cancelled})")
