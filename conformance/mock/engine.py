"""The in-memory trading engine: books orders against the mock's book, fills, cancels, and keeps the ledger."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .book import ZERO, Fill, Income, Ledger, Order
from .errors import ApiError
from .market import Market
from .orders import NEEDS_PRICE, OrderRequest
from .symbols import SYMBOLS, Symbol

MAKER_RATE, TAKER_RATE = Decimal("0.0002"), Decimal("0.0005")
MODIFIABLE = ("LIMIT", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET")


class Engine:
    """One account (the mock's API key) on the three symbols, in one-way cross-margin mode."""

    def __init__(self, market: Market, ledger: Ledger) -> None:
        self.market, self.ledger = market, ledger
        # Told of every order change, fill and balance change: the /ws private channels (set by MockState).
        self.emit: Callable[[str, dict[str, Any]], None] = lambda kind, data: None

    def _order_event(self, order: Order) -> None:
        self.emit("order", order.view())

    # -- lookups ----------------------------------------------------------------------------------------------
    def find(self, symbol: str, order_id: str | None, client_id: str | None) -> Order | None:
        """By orderId (digits; a UUID matches nothing here) or, failing that, the latest order with that client id."""
        if order_id is not None:
            order = self.ledger.orders.get(int(order_id)) if order_id.isdigit() and len(order_id) < 19 else None
            return order if order and order.symbol == symbol else None
        matches = [o for o in self.ledger.orders.values() if o.symbol == symbol and o.client_id == client_id]
        return matches[-1] if matches else None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self.ledger.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)]

    def unrealized(self, symbol: str, now_ms: int) -> Decimal:
        pos = self.ledger.positions[symbol]
        return pos.amount * (self.market.mark(SYMBOLS[symbol], now_ms) - pos.entry) if pos.amount else ZERO

    def initial_margin(self, now_ms: int) -> tuple[Decimal, Decimal]:
        """(margin held by positions, margin held by open orders that could open exposure)."""
        led = self.ledger
        positions = sum((abs(p.amount) * self.market.mark(SYMBOLS[s], now_ms) / led.leverage[s]
                         for s, p in led.positions.items()), ZERO)
        orders = sum((o.orig_qty * (o.price or o.stop_price) / led.leverage[o.symbol]
                      for o in self.open_orders() if not o.reduce_only and not o.close_position), ZERO)
        return positions, orders

    def available(self, now_ms: int) -> Decimal:
        positions, orders = self.initial_margin(now_ms)
        upnl = sum((self.unrealized(s, now_ms) for s in SYMBOLS), ZERO)
        return self.ledger.wallet + upnl - positions - orders

    # -- placing ----------------------------------------------------------------------------------------------
    def _client_id(self, req: OrderRequest, order_id: int) -> str:
        if req.client_id:
            return req.client_id
        return "mock" + hashlib.sha1(f"{order_id}".encode()).hexdigest()[:18]

    def admit(self, req: OrderRequest, now_ms: int) -> Decimal:
        """Account-dependent checks; returns the quantity to book (reduce-only orders are clamped)."""
        pos = self.ledger.positions[req.sym.name].amount
        reducing = (req.side == "SELL" and pos > 0) or (req.side == "BUY" and pos < 0)
        qty = req.qty
        if req.reduce_only or (req.close_position and req.type == "MARKET"):
            if not reducing:
                raise ApiError("reduce_only_reject")
            qty = abs(pos) if req.close_position else min(qty, abs(pos))
        if req.client_id and any(o.client_id == req.client_id for o in self.open_orders()):
            raise ApiError("duplicate_client_id")
        if req.time_in_force == "GTX" and req.type == "LIMIT" and self._crosses(req.sym, req.side, req.price, now_ms):
            raise ApiError("post_only_reject")
        if not (req.reduce_only or req.close_position):
            basis = req.price or req.stop_price or self.market.mark(req.sym, now_ms)
            if qty * basis / self.ledger.leverage[req.sym.name] > self.available(now_ms):
                raise ApiError("margin_insufficient")
        return qty

    def _crosses(self, sym: Symbol, side: str, price: Decimal, now_ms: int) -> bool:
        bid, ask = self.market.book_top(sym, now_ms)
        return price >= ask if side == "BUY" else price <= bid

    def place(self, req: OrderRequest, now_ms: int) -> Order:
        qty = self.admit(req, now_ms)
        led = self.ledger
        order = Order(led.next_order_id, "", req.sym.name, req.side, req.type, req.orig_type, req.time_in_force,
                      qty, req.price, req.stop_price, req.activate_price, req.price_rate, req.reduce_only,
                      req.close_position, req.working_type, req.price_protect, time=now_ms, update_time=now_ms)
        order.client_id = self._client_id(req, order.order_id)
        led.next_order_id += 1
        led.orders[order.order_id] = order
        led.created += 1
        self.execute(order, now_ms)
        self._order_event(order)
        return order

    def execute(self, order: Order, now_ms: int) -> None:
        """MARKET fills at the mark price; a crossing LIMIT fills at the touch; IOC/FOK that do not cross expire."""
        sym = SYMBOLS[order.symbol]
        if order.type == "MARKET":
            self.fill(order, self.market.mark(sym, now_ms), now_ms, maker=False)
        elif order.type == "LIMIT":
            if self._crosses(sym, order.side, order.price, now_ms):
                bid, ask = self.market.book_top(sym, now_ms)
                self.fill(order, ask if order.side == "BUY" else bid, now_ms, maker=False)
            elif order.time_in_force in ("IOC", "FOK"):
                order.status = "EXPIRED"

    def fill(self, order: Order, price: Decimal, now_ms: int, maker: bool) -> None:
        led, qty = self.ledger, order.orig_qty
        pnl = led.positions[order.symbol].apply(order.side, qty, price, now_ms)
        commission = (price * qty * (MAKER_RATE if maker else TAKER_RATE)).quantize(Decimal("0.00000001"))
        fill = Fill(led.next_trade_id, order.order_id, order.symbol, order.side, price, qty, commission, pnl, maker,
                    now_ms)
        led.next_trade_id += 1
        led.fills.append(fill)
        order.executed_qty, order.cum_quote, order.status, order.update_time = qty, price * qty, "FILLED", now_ms
        led.wallet += pnl - commission
        led.update_time = now_ms
        if pnl:
            self.book_income(order.symbol, "REALIZED_PNL", pnl, now_ms, str(fill.trade_id))
        self.book_income(order.symbol, "COMMISSION", -commission, now_ms, str(fill.trade_id))
        position = led.positions[order.symbol]
        self.emit("position", {"symbol": order.symbol, "position_amt": str(position.amount),
                               "entry_price": str(position.entry), "update_time": now_ms})
        self.emit("balance", {"asset": "USDT", "wallet_balance": str(led.wallet), "update_time": now_ms})

    def book_income(self, symbol: str, kind: str, amount: Decimal, now_ms: int, trade_id: str = "") -> None:
        led = self.ledger
        led.income.append(Income(led.next_tran_id, symbol, kind, amount, now_ms, "", trade_id))
        led.next_tran_id += 1

    # -- changing ---------------------------------------------------------------------------------------------
    def cancel(self, order: Order, now_ms: int) -> Order:
        if not order.is_open:
            raise ApiError("unknown_order")
        order.status, order.update_time = "CANCELED", now_ms
        self._order_event(order)
        return order

    def modify(self, order: Order, side: str | None, qty: Decimal | None, price: Decimal | None,
               stop: Decimal | None, now_ms: int) -> Order:
        """Same orderId, new terms, fresh updateTime (ZTDX: cancel and resubmit under the same id)."""
        if not order.is_open:
            raise ApiError("unknown_order")
        if order.type not in MODIFIABLE:
            raise ApiError("invalid_type")
        sym = SYMBOLS[order.symbol]
        new_side = side or order.side
        new_price = price if price is not None and order.type in NEEDS_PRICE else order.price
        if order.type == "LIMIT" and order.time_in_force == "GTX" and self._crosses(sym, new_side, new_price, now_ms):
            raise ApiError("post_only_reject")
        order.side, order.price = new_side, new_price
        order.orig_qty = qty if qty is not None else order.orig_qty
        order.stop_price = stop if stop is not None and order.type != "LIMIT" else order.stop_price
        order.update_time = now_ms
        self.execute(order, now_ms)
        self._order_event(order)
        return order
