"""Public market-data endpoints: ping, time, exchangeInfo, depth, trades, klines, funding, tickers."""

from __future__ import annotations

from typing import Any

from .errors import ApiError
from .market import FUNDING_PERIOD, HOUR
from .routing import Ctx, Endpoint, by_symbol, depth_weight, klines_weight
from .symbols import ONBOARD_DATE, SYMBOLS, Symbol, exchange_info
from .windows import INTERVALS, kline_opens, next_open, time_range

DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


def _each(ctx: Ctx, one: Any) -> Any:
    """An object when `symbol` is sent, otherwise the array over all symbols (premiumIndex and tickers)."""
    sym = ctx.symbol(required=False)
    return one(sym) if sym else [one(s) for s in SYMBOLS.values()]


def ping(ctx: Ctx) -> Any:
    return {}


def server_time(ctx: Ctx) -> Any:
    return {"serverTime": ctx.now_ms}


def info(ctx: Ctx) -> Any:
    return exchange_info(ctx.now_ms)


def depth(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    limit = ctx.params.integer("limit")
    if limit is not None and limit not in DEPTH_LIMITS:
        raise ApiError("invalid_param", name="limit")
    return ctx.state.market.depth(sym, ctx.now_ms, limit or 500)


def trades(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    limit = ctx.limit(500, 1000)
    last = ctx.state.market.last_trade_id(ctx.now_ms)
    return [ctx.state.market.trade(sym, i) for i in range(last - limit + 1, last + 1)]


def agg_trades(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    limit = ctx.limit(500, 1000)
    start, end = time_range(ctx.params)
    from_id = ctx.params.integer("fromId", lo=0)
    market, last = ctx.state.market, ctx.state.market.last_trade_id(ctx.now_ms)
    if from_id is not None:
        first = from_id
    elif start is not None:
        first = start // 1000
    else:
        first = (min(end, ctx.now_ms) // 1000 if end is not None else last + 1) - limit
    first = max(first, ONBOARD_DATE // 1000)  # no trades before the listing
    rows = [market.agg_trade(sym, i) for i in range(first, min(first + limit, last + 1))]
    return [r for r in rows if (start is None or r["T"] >= start) and (end is None or r["T"] <= end)]


def klines(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    interval = ctx.params.text("interval", required=True)
    if interval not in INTERVALS:
        raise ApiError("bad_interval")
    limit = ctx.limit(500, 1500)
    start, end = time_range(ctx.params)
    opens = kline_opens(interval, start, end, limit, ctx.now_ms, ONBOARD_DATE)
    return [ctx.state.market.candle(sym, interval, t, next_open(interval, t) - 1) for t in opens]


def premium_index(ctx: Ctx) -> Any:
    market, now = ctx.state.market, ctx.now_ms
    period = now - now % FUNDING_PERIOD

    def one(sym: Symbol) -> dict[str, Any]:
        mark = market.mark(sym, now)
        index = market.index_price(sym, now)
        return {"symbol": sym.name, "markPrice": str(mark), "indexPrice": index, "estimatedSettlePrice": index,
                "lastFundingRate": market.funding_rate(sym, period), "interestRate": "0.00010000",
                "nextFundingTime": period + FUNDING_PERIOD, "time": now}

    return _each(ctx, one)


def funding_rate(ctx: Ctx) -> Any:
    sym = ctx.symbol(required=False)
    limit = ctx.limit(100, 1000)
    start, end = time_range(ctx.params)
    market, chosen = ctx.state.market, [sym] if sym else list(SYMBOLS.values())
    stop = min(end, ctx.now_ms) if end is not None else ctx.now_ms
    span = (limit // len(chosen) + 2) * FUNDING_PERIOD
    first = start - start % FUNDING_PERIOD if start is not None else stop - stop % FUNDING_PERIOD - span
    first = max(first, ONBOARD_DATE - ONBOARD_DATE % FUNDING_PERIOD + FUNDING_PERIOD)  # none before the listing
    periods = range(first, min(stop, first + span) + 1, FUNDING_PERIOD)
    rows: list[dict[str, Any]] = [
        {"symbol": s.name, "fundingRate": market.funding_rate(s, p), "fundingTime": market.funding_time(s, p)}
        for p in periods for s in chosen]
    rows = [r for r in rows if (start is None or r["fundingTime"] >= start) and r["fundingTime"] <= stop]
    return rows[:limit] if start is not None else rows[-limit:]


def open_interest(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    return {"symbol": sym.name, "openInterest": ctx.state.market.open_interest(sym, ctx.now_ms), "time": ctx.now_ms}


def ticker_24hr(ctx: Ctx) -> Any:
    market, now = ctx.state.market, ctx.now_ms

    def one(sym: Symbol) -> dict[str, Any]:
        hours = [market.candle(sym, "1h", now - 24 * HOUR + h * HOUR, now - 23 * HOUR + h * HOUR - 1)
                 for h in range(24)]
        open_p, last = market.price(sym, now - 24 * HOUR), market.mark(sym, now)
        first_id, last_id = (now - 24 * HOUR) // 1000, market.last_trade_id(now)
        volume = sum(float(k[5]) for k in hours)
        quote = sum(float(k[7]) for k in hours)
        return {"symbol": sym.name, "priceChange": sym.price(last - open_p),
                "priceChangePercent": f"{(last - open_p) / open_p * 100:.3f}",
                "weightedAvgPrice": sym.price(quote / volume), "lastPrice": str(last),
                "lastQty": market.trade(sym, last_id)["qty"], "openPrice": str(open_p),
                "highPrice": max((k[2] for k in hours), key=float), "lowPrice": min((k[3] for k in hours), key=float),
                "volume": sym.qty(volume), "quoteVolume": f"{quote:.2f}", "openTime": now - 24 * HOUR,
                "closeTime": now, "firstId": first_id, "lastId": last_id, "count": last_id - first_id + 1}

    return _each(ctx, one)


def ticker_price(ctx: Ctx) -> Any:
    return _each(ctx, lambda s: {"symbol": s.name, "price": str(ctx.state.market.mark(s, ctx.now_ms)),
                                 "time": ctx.now_ms})


def book_ticker(ctx: Ctx) -> Any:
    def one(sym: Symbol) -> dict[str, Any]:
        book = ctx.state.market.depth(sym, ctx.now_ms, 1)
        return {"symbol": sym.name, "bidPrice": book["bids"][0][0], "bidQty": book["bids"][0][1],
                "askPrice": book["asks"][0][0], "askQty": book["asks"][0][1], "time": ctx.now_ms,
                "lastUpdateId": book["lastUpdateId"]}

    return _each(ctx, one)


ROUTES = [
    Endpoint("GET", "/fapi/v1/ping", ping),
    Endpoint("GET", "/fapi/v1/time", server_time),
    Endpoint("GET", "/fapi/v1/exchangeInfo", info),
    Endpoint("GET", "/fapi/v1/depth", depth, depth_weight),
    Endpoint("GET", "/fapi/v1/trades", trades, 5),
    Endpoint("GET", "/fapi/v1/aggTrades", agg_trades, 20),
    Endpoint("GET", "/fapi/v1/klines", klines, klines_weight),
    Endpoint("GET", "/fapi/v1/premiumIndex", premium_index, by_symbol(1, 10)),
    Endpoint("GET", "/fapi/v1/fundingRate", funding_rate, 1),
    Endpoint("GET", "/fapi/v1/openInterest", open_interest, 1),
    Endpoint("GET", "/fapi/v1/ticker/24hr", ticker_24hr, by_symbol(1, 40)),
    Endpoint("GET", "/fapi/v1/ticker/price", ticker_price, by_symbol(1, 2)),
    Endpoint("GET", "/fapi/v1/ticker/bookTicker", book_ticker, by_symbol(2, 5)),
]
