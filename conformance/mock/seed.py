"""The account's seeded start: a USDT deposit and a little history, so history endpoints are never empty."""

from __future__ import annotations

from decimal import Decimal

from .book import Ledger
from .engine import Engine
from .market import HOUR, MINUTE, Market
from .orders import OrderRequest
from .symbols import SYMBOLS

START_BALANCE = Decimal("100000")


def _request(symbol: str, side: str, type_: str, qty: str, price: str = "0", client_id: str = "") -> OrderRequest:
    return OrderRequest(SYMBOLS[symbol], side, type_, type_, "GTC", Decimal(qty), Decimal(price), Decimal(0),
                        False, False, client_id)


def seeded_ledger(market: Market, anchor_ms: int) -> tuple[Ledger, Engine]:
    """History two days before `anchor_ms` (the hour the mock started): deposit, a round trip, a funding fee, and
    a cancelled order. The position ends flat, so the suite starts from a clean book."""
    ledger = Ledger(wallet=START_BALANCE, update_time=anchor_ms)
    engine = Engine(market, ledger)
    t0 = anchor_ms - 48 * HOUR
    engine.book_income("", "TRANSFER", START_BALANCE, t0)
    engine.place(_request("BTCUSDT", "BUY", "MARKET", "0.010", client_id="seed-open-btc"), t0 + 5 * MINUTE)
    funding = -(Decimal("0.010") * market.mark(SYMBOLS["BTCUSDT"], t0 + 8 * HOUR) * Decimal("0.0001"))
    engine.book_income("BTCUSDT", "FUNDING_FEE", funding.quantize(Decimal("0.00000001")), t0 + 8 * HOUR)
    ledger.wallet += funding.quantize(Decimal("0.00000001"))
    engine.place(_request("BTCUSDT", "SELL", "MARKET", "0.010", client_id="seed-close-btc"), t0 + 9 * HOUR)
    eth = SYMBOLS["ETHUSDT"]
    far = eth.price(market.mark(eth, t0 + 10 * HOUR) / 2)
    rested = engine.place(_request("ETHUSDT", "BUY", "LIMIT", "0.010", far, "seed-rest-eth"), t0 + 10 * HOUR)
    engine.cancel(rested, t0 + 11 * HOUR)
    for order in ledger.orders.values():
        order.seeded = True
    ledger.created = 0
    return ledger, engine
