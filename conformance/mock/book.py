"""Account records: orders, fills, positions and income lines, with their API views."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .symbols import SYMBOLS

ZERO = Decimal(0)
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")
TRIGGER_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")


def dec(value: Decimal, places: int = 8) -> str:
    """A decimal string with a fixed number of places (the live API pads decimals the same way)."""
    return f"{value:.{places}f}"


@dataclass
class Order:
    order_id: int
    client_id: str
    symbol: str
    side: str
    type: str
    orig_type: str
    time_in_force: str
    orig_qty: Decimal
    price: Decimal = ZERO
    stop_price: Decimal = ZERO
    activate_price: Decimal | None = None
    price_rate: Decimal | None = None
    reduce_only: bool = False
    close_position: bool = False
    working_type: str = "CONTRACT_PRICE"
    price_protect: bool = False
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    time: int = 0
    update_time: int = 0
    seeded: bool = False  # part of the seeded history, not created through the API

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def view(self) -> dict[str, Any]:
        sym = SYMBOLS[self.symbol]
        avg = self.cum_quote / self.executed_qty if self.executed_qty else ZERO
        out: dict[str, Any] = {
            "orderId": self.order_id, "symbol": self.symbol, "status": self.status, "clientOrderId": self.client_id,
            "price": sym.price(self.price), "avgPrice": sym.price(avg), "origQty": sym.qty(self.orig_qty),
            "executedQty": sym.qty(self.executed_qty), "cumQty": sym.qty(self.executed_qty),
            "cumQuote": dec(self.cum_quote, 5), "timeInForce": self.time_in_force, "type": self.type,
            "reduceOnly": self.reduce_only, "closePosition": self.close_position, "side": self.side,
            "positionSide": "BOTH", "stopPrice": sym.price(self.stop_price), "workingType": self.working_type,
            "priceProtect": self.price_protect, "origType": self.orig_type, "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE", "goodTillDate": 0, "time": self.time, "updateTime": self.update_time,
        }
        if self.type == "TRAILING_STOP_MARKET":
            out["activatePrice"] = sym.price(self.activate_price or ZERO)
            out["priceRate"] = str(self.price_rate or ZERO)
        return out

    def brief(self) -> dict[str, Any]:
        return {"orderId": self.order_id, "clientOrderId": self.client_id, "symbol": self.symbol,
                "status": self.status}


@dataclass
class Fill:
    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    realized_pnl: Decimal
    maker: bool
    time: int

    def view(self) -> dict[str, Any]:
        sym = SYMBOLS[self.symbol]
        return {"buyer": self.side == "BUY", "commission": dec(self.commission), "commissionAsset": "USDT",
                "id": self.trade_id, "maker": self.maker, "orderId": self.order_id, "price": sym.price(self.price),
                "qty": sym.qty(self.qty), "quoteQty": dec(self.price * self.qty, 5),
                "realizedPnl": dec(self.realized_pnl), "side": self.side, "positionSide": "BOTH",
                "symbol": self.symbol, "time": self.time, "marginAsset": "USDT"}


@dataclass
class Income:
    tran_id: int
    symbol: str
    income_type: str
    amount: Decimal
    time: int
    info: str = ""
    trade_id: str = ""

    def view(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "incomeType": self.income_type, "income": dec(self.amount), "asset": "USDT",
                "info": self.info, "time": self.time, "tranId": str(self.tran_id), "tradeId": self.trade_id}


@dataclass
class Position:
    symbol: str
    amount: Decimal = ZERO  # signed: one-way mode, positive long
    entry: Decimal = ZERO
    update_time: int = 0

    def apply(self, side: str, qty: Decimal, price: Decimal, now_ms: int) -> Decimal:
        """Book a fill; returns the realized PnL of the part that reduced the position."""
        signed = qty if side == "BUY" else -qty
        pnl = ZERO
        if self.amount and (self.amount > 0) != (signed > 0):
            closing = min(abs(signed), abs(self.amount))
            pnl = closing * (price - self.entry) * (1 if self.amount > 0 else -1)
            left = self.amount + signed
            self.entry = ZERO if left == 0 else (self.entry if (left > 0) == (self.amount > 0) else price)
            self.amount = left
        else:
            total = abs(self.amount) + qty
            self.entry = (abs(self.amount) * self.entry + qty * price) / total
            self.amount += signed
        self.update_time = now_ms
        return pnl


@dataclass
class Ledger:
    """Everything the account owns; rebuilt from the seed on reset."""

    wallet: Decimal = ZERO
    orders: dict[int, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    income: list[Income] = field(default_factory=list)
    positions: dict[str, Position] = field(default_factory=lambda: {s: Position(s) for s in SYMBOLS})
    leverage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SYMBOLS, 20))
    listen_key: str | None = None
    listen_key_expiry: int = 0
    next_order_id: int = 1_000_001
    next_trade_id: int = 5_000_001
    next_tran_id: int = 9_000_000_001
    created: int = 0  # orders created through the API since start/reset
    update_time: int = 0
