"""The three perpetual symbols the mock serves, their filters, and the exchangeInfo document built from them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

SENTINEL_MAX = "1000000000"  # ZTDX: maxPrice/maxQty are a sentinel; the real cap is max_order_size_usd
ORDER_TYPES = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]
TIME_IN_FORCE = ["GTC", "IOC", "FOK", "GTX"]
ONBOARD_DATE = 1569398400000
DELIVERY_DATE = 4133404800000  # Binance's "perpetual" delivery date


@dataclass(frozen=True)
class Symbol:
    name: str
    base: str
    base_price: Decimal
    tick: Decimal
    step: Decimal
    max_leverage: int
    min_notional: Decimal = Decimal("10")
    max_notional: Decimal = Decimal("5000000")  # max_order_size_usd: enforced as -1013 MAX_NOTIONAL
    max_position_usd: Decimal = Decimal("10000000")  # max_position_size_usd, shown as maxNotionalValue

    @property
    def price_precision(self) -> int:
        return -self.tick.as_tuple().exponent  # type: ignore[operator]

    @property
    def qty_precision(self) -> int:
        return -self.step.as_tuple().exponent  # type: ignore[operator]

    def price(self, value: Decimal | float) -> str:
        """A price rounded to the tick, as the decimal string the API returns."""
        return str(Decimal(str(value)).quantize(self.tick, rounding=ROUND_HALF_UP))

    def qty(self, value: Decimal | float) -> str:
        return str(Decimal(str(value)).quantize(self.step, rounding=ROUND_DOWN))

    def floor_qty(self, value: Decimal) -> Decimal:
        return (value / self.step).to_integral_value(rounding=ROUND_DOWN) * self.step


SYMBOLS: dict[str, Symbol] = {s.name: s for s in (
    Symbol("BTCUSDT", "BTC", Decimal("65000"), Decimal("0.1"), Decimal("0.001"), 100),
    Symbol("ETHUSDT", "ETH", Decimal("3200"), Decimal("0.01"), Decimal("0.001"), 100),
    Symbol("SOLUSDT", "SOL", Decimal("150"), Decimal("0.001"), Decimal("0.01"), 50),
)}


def filters(sym: Symbol) -> list[dict[str, Any]]:
    """Exactly the four ZTDX filters, in the documented order."""
    lot = {"stepSize": str(sym.step), "maxQty": SENTINEL_MAX, "minQty": str(sym.step)}
    return [
        {"filterType": "PRICE_FILTER", "minPrice": str(sym.tick), "maxPrice": SENTINEL_MAX, "tickSize": str(sym.tick)},
        {"filterType": "LOT_SIZE", **lot},
        {"filterType": "MARKET_LOT_SIZE", **lot},
        {"filterType": "MIN_NOTIONAL", "notional": str(sym.min_notional)},
    ]


def symbol_info(sym: Symbol) -> dict[str, Any]:
    return {
        "symbol": sym.name, "pair": sym.name, "contractType": "PERPETUAL", "deliveryDate": DELIVERY_DATE,
        "onboardDate": ONBOARD_DATE, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": sym.base, "quoteAsset": "USDT", "marginAsset": "USDT",
        "pricePrecision": sym.price_precision, "quantityPrecision": sym.qty_precision, "baseAssetPrecision": 8,
        "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [], "settlePlan": 0,
        "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
        "maxLeverage": sym.max_leverage, "filters": filters(sym), "orderTypes": ORDER_TYPES,
        "timeInForce": TIME_IN_FORCE,
    }


def exchange_info(now_ms: int) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [symbol_info(s) for s in SYMBOLS.values()],
    }
