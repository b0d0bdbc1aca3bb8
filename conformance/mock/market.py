"""Deterministic market data: every value is a pure function of (seed, symbol, kind, time), so windows overlap."""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from typing import Any

from .symbols import SYMBOLS, Symbol

SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000
FUNDING_PERIOD = 8 * HOUR
TRADE_SPACING = SECOND  # one public trade per second: trade id = time // 1000
SPREAD_TICKS = 5


def unit(seed: int, *key: Any) -> float:
    """A uniform number in [0, 1) that depends only on the seed and the key."""
    digest = hashlib.blake2b(repr((seed, *key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class Market:
    """Prices follow a smooth seeded curve; candles, trades, books and funding are derived from it."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def raw_price(self, sym: Symbol, t_ms: int) -> float:
        s = self.seed
        phase1, phase2 = unit(s, sym.name, "p1") * 2 * math.pi, unit(s, sym.name, "p2") * 2 * math.pi
        wave = 0.06 * math.sin(2 * math.pi * t_ms / (9 * DAY) + phase1)
        wave += 0.015 * math.sin(2 * math.pi * t_ms / (7 * HOUR) + phase2)
        minute, frac = divmod(t_ms, MINUTE)
        noise0, noise1 = unit(s, sym.name, "n", minute), unit(s, sym.name, "n", minute + 1)
        wave += 0.002 * (noise0 + (noise1 - noise0) * frac / MINUTE - 0.5)
        return float(sym.base_price) * math.exp(wave)

    def price(self, sym: Symbol, t_ms: int) -> Decimal:
        return Decimal(sym.price(self.raw_price(sym, t_ms)))

    def mark(self, sym: Symbol, now_ms: int) -> Decimal:
        """The mark price moves once a second, so a request sees a stable price."""
        return self.price(sym, now_ms - now_ms % SECOND)

    def index_price(self, sym: Symbol, now_ms: int) -> str:
        drift = 0.0002 * (unit(self.seed, sym.name, "idx", now_ms // SECOND) - 0.5)
        return sym.price(float(self.mark(sym, now_ms)) * (1 + drift))

    def book_top(self, sym: Symbol, now_ms: int) -> tuple[Decimal, Decimal]:
        mark = self.mark(sym, now_ms)
        return mark - sym.tick * SPREAD_TICKS, mark + sym.tick * SPREAD_TICKS

    # -- candles ----------------------------------------------------------------------------------------------
    def candle(self, sym: Symbol, interval: str, open_ms: int, close_ms: int) -> list[Any]:
        s = self.seed
        open_p, close_p = self.raw_price(sym, open_ms), self.raw_price(sym, close_ms + 1)
        span = (close_ms + 1 - open_ms) / DAY
        wick = 0.001 + 0.01 * math.sqrt(span) * unit(s, sym.name, interval, open_ms, "w")
        high = max(open_p, close_p) * (1 + wick * unit(s, sym.name, interval, open_ms, "h"))
        low = min(open_p, close_p) * (1 - wick * unit(s, sym.name, interval, open_ms, "l"))
        usd = 5e7 * span * (0.5 + unit(s, sym.name, interval, open_ms, "v"))
        volume = Decimal(sym.qty(max(usd / open_p, float(sym.step))))
        taker = Decimal(sym.qty(volume * Decimal(str(0.3 + 0.4 * unit(s, sym.name, interval, open_ms, "t")))))
        mid = Decimal(str((open_p + close_p) / 2))
        trades = 1 + int(2000 * span * 24 * unit(s, sym.name, interval, open_ms, "c"))
        return [open_ms, sym.price(open_p), sym.price(high), sym.price(low), sym.price(close_p), str(volume),
                close_ms, f"{volume * mid:.4f}", trades, str(taker), f"{taker * mid:.4f}", "0"]

    # -- trades -----------------------------------------------------------------------------------------------
    def trade(self, sym: Symbol, trade_id: int) -> dict[str, Any]:
        t_ms = trade_id * TRADE_SPACING + int(unit(self.seed, sym.name, "tt", trade_id) * 900)
        price = self.price(sym, t_ms)
        qty = Decimal(sym.qty(max(float(sym.step), 2000 / float(price) * unit(self.seed, sym.name, "tq", trade_id))))
        if qty <= 0:
            qty = sym.step
        return {"id": trade_id, "price": str(price), "qty": str(qty), "quoteQty": f"{price * qty:.8f}",
                "time": t_ms, "isBuyerMaker": unit(self.seed, sym.name, "tm", trade_id) < 0.5}

    def agg_trade(self, sym: Symbol, agg_id: int) -> dict[str, Any]:
        t = self.trade(sym, agg_id)
        return {"a": agg_id, "p": t["price"], "q": t["qty"], "f": agg_id, "l": agg_id, "T": t["time"],
                "m": t["isBuyerMaker"]}

    def last_trade_id(self, now_ms: int) -> int:
        return now_ms // TRADE_SPACING - 1  # the trade of the current second is not complete yet

    # -- order book, funding, open interest -------------------------------------------------------------------
    def depth(self, sym: Symbol, now_ms: int, limit: int) -> dict[str, Any]:
        bid, ask = self.book_top(sym, now_ms)
        second = now_ms // SECOND

        def level(price: Decimal, side: str, i: int) -> list[str]:
            qty = sym.qty(float(sym.step) * (1 + 400 * unit(self.seed, sym.name, side, second, i)))
            return [str(price), qty]

        bids = [level(bid - sym.tick * i, "b", i) for i in range(limit) if bid - sym.tick * i > 0]
        asks = [level(ask + sym.tick * i, "a", i) for i in range(limit)]
        return {"lastUpdateId": now_ms * 10 + int(unit(self.seed, sym.name, second) * 10), "E": now_ms,
                "T": max(0, now_ms - 3), "bids": bids, "asks": asks}

    def funding_time(self, sym: Symbol, period_start: int) -> int:
        # A per-symbol millisecond offset (as on the live service) keeps a merged history strictly ascending.
        return period_start + list(SYMBOLS).index(sym.name)

    def funding_rate(self, sym: Symbol, period_start: int) -> str:
        rate = 0.0001 + (unit(self.seed, sym.name, "f", period_start) - 0.4) * 0.0002
        return f"{rate:.8f}"

    def open_interest(self, sym: Symbol, now_ms: int) -> str:
        notional = 400_000_000 * (0.8 + 0.4 * unit(self.seed, sym.name, "oi", now_ms // MINUTE))
        return sym.qty(notional / float(self.mark(sym, now_ms)))
