"""New-order validation: types, aliases, filters (LOT_SIZE, MIN/MAX_NOTIONAL), triggers and reduce-only rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .book import ZERO
from .errors import ApiError
from .params import Params
from .symbols import SYMBOLS, Symbol

TYPES = ("LIMIT", "MARKET", "STOP", "TAKE_PROFIT", "STOP_MARKET", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
ALIASES = {"STOP_LIMIT": "STOP", "TAKE_PROFIT_LIMIT": "TAKE_PROFIT"}
NEEDS_PRICE = ("LIMIT", "STOP", "TAKE_PROFIT")
NEEDS_STOP = ("STOP", "TAKE_PROFIT", "STOP_MARKET", "TAKE_PROFIT_MARKET")
CLOSE_POSITION_TYPES = ("MARKET", "STOP_MARKET", "TAKE_PROFIT_MARKET")
CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
TIFS = ("GTC", "IOC", "FOK", "GTX")


@dataclass
class OrderRequest:
    """A validated order, before the engine books it."""

    sym: Symbol
    side: str
    type: str
    orig_type: str
    time_in_force: str
    qty: Decimal
    price: Decimal
    stop_price: Decimal
    reduce_only: bool
    close_position: bool
    client_id: str | None
    activate_price: Decimal | None = None
    price_rate: Decimal | None = None
    working_type: str = "CONTRACT_PRICE"
    price_protect: bool = False


def check_tick(sym: Symbol, name: str, value: Decimal | None, required: bool) -> Decimal:
    if value is None:
        if required:
            raise ApiError("mandatory", name=name)
        return ZERO
    if value <= 0:
        raise ApiError("invalid_param", name=name)
    if value % sym.tick:
        raise ApiError("tick_size")
    return value


def check_lot(sym: Symbol, qty: Decimal) -> Decimal:
    """Floored to the step size (ZTDX); what is left must lie within [minQty, maxQty]."""
    floored = sym.floor_qty(qty)
    if floored < sym.step or floored > Decimal("1000000000"):
        raise ApiError("filter_failure", filter="LOT_SIZE")
    return floored


def check_notional(sym: Symbol, qty: Decimal, basis: Decimal, exempt: bool) -> None:
    notional = qty * basis
    if notional < sym.min_notional and not exempt:
        raise ApiError("filter_failure", filter="MIN_NOTIONAL")
    if notional > sym.max_notional:
        raise ApiError("filter_failure", filter="MAX_NOTIONAL")


def check_trigger(side: str, type_: str, stop: Decimal, mark: Decimal) -> None:
    """A STOP buys above / sells below the mark; a TAKE_PROFIT the other way round. Already met → -2021."""
    if type_ not in NEEDS_STOP:
        return
    rising = (side == "BUY") == type_.startswith("STOP")
    if (rising and stop <= mark) or (not rising and stop >= mark):
        raise ApiError("would_trigger")


def _client_id(p: Params) -> str | None:
    value = p.text("newClientOrderId")
    if value is not None and not CLIENT_ID_RE.match(value):
        raise ApiError("bad_client_id")
    return value


def _type(p: Params) -> tuple[str, str]:
    raw = p.text("type", required=True) or ""
    type_ = ALIASES.get(raw, raw)
    if type_ not in TYPES:
        raise ApiError("invalid_type")
    return type_, raw


def _trailing(p: Params, sym: Symbol) -> tuple[Decimal | None, Decimal | None]:
    rate = p.decimal("callbackRate", required=True)
    if rate is None or not Decimal("0.1") <= rate <= Decimal("10"):
        raise ApiError("invalid_param", name="callbackRate")
    activate = p.decimal("activationPrice")
    return (check_tick(sym, "activationPrice", activate, False) if activate is not None else None), rate


def parse_order(p: Params, mark: Decimal) -> OrderRequest:
    """Everything about the order that does not depend on the account (that part is the engine's)."""
    name = p.text("symbol", required=True)
    if name not in SYMBOLS:
        raise ApiError("bad_symbol")
    sym = SYMBOLS[name]
    side = p.enum("side", ("BUY", "SELL"), "invalid_side", required=True) or ""
    type_, raw_type = _type(p)
    position_side = p.enum("positionSide", ("BOTH", "LONG", "SHORT"), default="BOTH")
    if position_side != "BOTH":
        raise ApiError("position_side")
    tif = p.enum("timeInForce", TIFS, "invalid_tif", default="GTC") or "GTC"
    reduce_only, close_position = p.flag("reduceOnly"), p.flag("closePosition")
    if close_position and type_ not in CLOSE_POSITION_TYPES:
        raise ApiError("not_required", name="closePosition")
    client_id = _client_id(p)
    qty_raw = p.decimal("quantity", required=not close_position)
    price = check_tick(sym, "price", p.decimal("price"), type_ in NEEDS_PRICE) if type_ in NEEDS_PRICE else ZERO
    stop = check_tick(sym, "stopPrice", p.decimal("stopPrice"), type_ in NEEDS_STOP) if type_ in NEEDS_STOP else ZERO
    activate, rate = _trailing(p, sym) if type_ == "TRAILING_STOP_MARKET" else (None, None)
    qty = ZERO if close_position else check_lot(sym, qty_raw or ZERO)
    basis = price if type_ in NEEDS_PRICE else stop if type_ in NEEDS_STOP else (activate or mark)
    if not close_position:
        check_notional(sym, qty, basis, exempt=reduce_only)
    check_trigger(side, type_, stop, mark)
    tif = tif if type_ in NEEDS_PRICE else "GTC"
    working = p.enum("workingType", ("MARK_PRICE", "CONTRACT_PRICE"), default="CONTRACT_PRICE") or "CONTRACT_PRICE"
    return OrderRequest(sym, side, type_, ALIASES.get(raw_type, raw_type), tif, qty, price, stop, reduce_only,
                        close_position, client_id, activate, rate, working, p.flag("priceProtect"))
