"""Signed account endpoints: leverage, positions, position mode, margin type, fees, income, listenKey, balances."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from .book import ZERO, dec
from .errors import ApiError
from .market import HOUR
from .routing import Ctx, Endpoint
from .symbols import SYMBOLS, Symbol
from .windows import select, time_range

SUCCESS = {"code": 200, "msg": "success"}
INCOME_TYPES = ("TRANSFER", "WELCOME_BONUS", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION", "INSURANCE_CLEAR",
                "REFERRAL_KICKBACK", "COMMISSION_REBATE", "API_REBATE", "CONTEST_REWARD", "CROSS_COLLATERAL_TRANSFER",
                "OPTIONS_PREMIUM_FEE", "OPTIONS_SETTLE_PROFIT", "INTERNAL_TRANSFER", "AUTO_EXCHANGE",
                "DELIVERED_SETTELMENT", "COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW", "POSITION_LIMIT_INCREASE_FEE")
LISTEN_KEY_TTL_MS = HOUR


def change_leverage(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    raw = ctx.params.text("leverage", required=True) or ""
    if not raw.isdigit() or not 1 <= int(raw) <= sym.max_leverage:
        raise ApiError("bad_leverage", n=raw, max=sym.max_leverage)
    ctx.state.ledger.leverage[sym.name] = int(raw)
    return {"leverage": int(raw), "maxNotionalValue": str(sym.max_position_usd), "symbol": sym.name}


def _position(ctx: Ctx, sym: Symbol) -> dict[str, Any]:
    pos, lev = ctx.state.ledger.positions[sym.name], ctx.state.ledger.leverage[sym.name]
    mark = ctx.state.market.mark(sym, ctx.now_ms)
    upnl = ctx.state.engine.unrealized(sym.name, ctx.now_ms)
    liq = pos.entry * (1 - Decimal(1) / lev) if pos.amount > 0 else pos.entry * (1 + Decimal(1) / lev) \
        if pos.amount < 0 else ZERO
    return {"symbol": sym.name, "positionAmt": sym.qty(pos.amount), "entryPrice": sym.price(pos.entry),
            "breakEvenPrice": sym.price(pos.entry), "markPrice": str(mark), "unRealizedProfit": dec(upnl),
            "liquidationPrice": sym.price(liq), "leverage": str(lev), "maxNotionalValue": str(sym.max_position_usd),
            "marginType": "cross", "isolatedMargin": dec(ZERO), "isAutoAddMargin": "false", "positionSide": "BOTH",
            "notional": dec(pos.amount * mark), "isolatedWallet": "0", "updateTime": pos.update_time}


def position_risk(ctx: Ctx) -> Any:
    sym = ctx.symbol(required=False)
    return [_position(ctx, s) for s in ([sym] if sym else SYMBOLS.values())]


def get_position_mode(ctx: Ctx) -> Any:
    return {"dualSidePosition": False}


def change_position_mode(ctx: Ctx) -> Any:
    ctx.params.text("dualSidePosition", required=True)
    if ctx.params.flag("dualSidePosition"):  # hedge mode is not supported: only false is accepted
        raise ApiError("no_dual_side")
    return SUCCESS


def get_margin_type(ctx: Ctx) -> Any:
    sym = ctx.symbol(required=False)
    return {"symbol": sym.name, "marginType": "CROSSED"} if sym else {"marginType": "CROSSED"}


def change_margin_type(ctx: Ctx) -> Any:
    ctx.req_symbol()
    value = ctx.params.text("marginType", required=True) or ""
    if value.upper() in ("CROSSED", "CROSS"):
        return SUCCESS
    if value.upper() == "ISOLATED":
        raise ApiError("isolated_margin")
    raise ApiError("bad_margin_type", value=value)


def commission_rate(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    return {"symbol": sym.name, "makerCommissionRate": "0.000200", "takerCommissionRate": "0.000500"}


def income(ctx: Ctx) -> Any:
    sym = ctx.symbol(required=False)
    kind = ctx.params.enum("incomeType", INCOME_TYPES)
    limit = ctx.limit(100, 1000)
    start, end = time_range(ctx.params)
    rows = [i for i in ctx.state.ledger.income
            if (sym is None or i.symbol == sym.name) and (kind is None or i.income_type == kind)]
    return [i.view() for i in select(rows, lambda i: i.time, start, end, limit)]


def _live_key(ctx: Ctx) -> str | None:
    led = ctx.state.ledger
    return led.listen_key if led.listen_key and led.listen_key_expiry > ctx.now_ms else None


def start_stream(ctx: Ctx) -> Any:
    """One active key per user: a repeated POST returns the same key and refreshes it."""
    led = ctx.state.ledger
    if _live_key(ctx) is None:
        seed = f"{ctx.state.seed}:{ctx.now_ms}:{len(led.orders)}".encode()
        led.listen_key = hashlib.sha256(seed).hexdigest()[:32] + hashlib.sha256(seed[::-1]).hexdigest()[:32]
    led.listen_key_expiry = ctx.now_ms + LISTEN_KEY_TTL_MS
    return {"listenKey": led.listen_key}


def keepalive_stream(ctx: Ctx) -> Any:
    if _live_key(ctx) is None:
        raise ApiError("listen_key_missing")
    ctx.state.ledger.listen_key_expiry = ctx.now_ms + LISTEN_KEY_TTL_MS
    return {"listenKey": ctx.state.ledger.listen_key}


def close_stream(ctx: Ctx) -> Any:
    ctx.state.ledger.listen_key, ctx.state.ledger.listen_key_expiry = None, 0
    return {}


def _wallet(ctx: Ctx) -> dict[str, str]:
    engine, now = ctx.state.engine, ctx.now_ms
    positions, orders = engine.initial_margin(now)
    upnl = sum((engine.unrealized(s, now) for s in SYMBOLS), ZERO)
    wallet = ctx.state.ledger.wallet
    available = max(engine.available(now), ZERO)
    return {"walletBalance": dec(wallet), "unrealizedProfit": dec(upnl), "marginBalance": dec(wallet + upnl),
            "maintMargin": dec(positions / 40), "initialMargin": dec(positions + orders),
            "positionInitialMargin": dec(positions), "openOrderInitialMargin": dec(orders),
            "crossWalletBalance": dec(wallet), "crossUnPnl": dec(upnl), "availableBalance": dec(available),
            "maxWithdrawAmount": dec(available)}


def balance(ctx: Ctx) -> Any:
    w = _wallet(ctx)
    return [{"accountAlias": "SgsR", "asset": "USDT", "balance": w["walletBalance"],
             "crossWalletBalance": w["crossWalletBalance"], "crossUnPnl": w["crossUnPnl"],
             "availableBalance": w["availableBalance"], "maxWithdrawAmount": w["maxWithdrawAmount"],
             "marginAvailable": True, "updateTime": ctx.state.ledger.update_time}]


def _account_position(ctx: Ctx, sym: Symbol) -> dict[str, Any]:
    p = _position(ctx, sym)
    margin = abs(Decimal(p["notional"])) / int(p["leverage"])
    return {"symbol": sym.name, "initialMargin": dec(margin), "maintMargin": dec(margin / 40),
            "unrealizedProfit": p["unRealizedProfit"], "positionInitialMargin": dec(margin),
            "openOrderInitialMargin": "0", "leverage": p["leverage"], "isolated": False,
            "entryPrice": p["entryPrice"], "breakEvenPrice": p["breakEvenPrice"],
            "maxNotional": p["maxNotionalValue"], "bidNotional": "0", "askNotional": "0", "positionSide": "BOTH",
            "positionAmt": p["positionAmt"], "updateTime": p["updateTime"]}


def account(ctx: Ctx) -> Any:
    w = _wallet(ctx)
    asset = {"asset": "USDT", **w, "marginAvailable": True, "updateTime": ctx.state.ledger.update_time}
    totals = {"total" + k[0].upper() + k[1:]: w[k] for k in (
        "initialMargin", "maintMargin", "walletBalance", "unrealizedProfit", "marginBalance", "positionInitialMargin",
        "openOrderInitialMargin", "crossWalletBalance", "crossUnPnl")}
    return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True,
            "updateTime": ctx.state.ledger.update_time, "multiAssetsMargin": False, "tradeGroupId": -1, **totals,
            "availableBalance": w["availableBalance"], "maxWithdrawAmount": w["maxWithdrawAmount"],
            "assets": [asset], "positions": [_account_position(ctx, s) for s in SYMBOLS.values()]}


ROUTES = [
    Endpoint("POST", "/fapi/v1/leverage", change_leverage, 1, signed=True),
    Endpoint("GET", "/fapi/v1/positionRisk", position_risk, 5, signed=True),
    Endpoint("GET", "/fapi/v1/positionSide/dual", get_position_mode, 1, signed=True),
    Endpoint("POST", "/fapi/v1/positionSide/dual", change_position_mode, 1, signed=True),
    Endpoint("GET", "/fapi/v1/marginType", get_margin_type, 1, signed=True),
    Endpoint("POST", "/fapi/v1/marginType", change_margin_type, 1, signed=True),
    Endpoint("GET", "/fapi/v1/commissionRate", commission_rate, 20, signed=True),
    Endpoint("GET", "/fapi/v1/income", income, 30, signed=True),
    Endpoint("POST", "/fapi/v1/listenKey", start_stream, 1, signed=True),
    Endpoint("PUT", "/fapi/v1/listenKey", keepalive_stream, 1, signed=True),
    Endpoint("DELETE", "/fapi/v1/listenKey", close_stream, 1, signed=True),
    Endpoint("GET", "/fapi/v2/balance", balance, 5, signed=True),
    Endpoint("GET", "/fapi/v2/account", account, 5, signed=True),
]
