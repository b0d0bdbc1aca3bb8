"""Signed order endpoints: new/test/query/cancel/modify, batches, open orders, order and trade history."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .book import Order
from .errors import ApiError
from .orders import NEEDS_PRICE, NEEDS_STOP, check_lot, check_notional, check_tick, check_trigger, parse_order
from .params import INT_LEGAL, UUID_RE, Params, item_params
from .routing import Ctx, Endpoint, batch_order_count, by_symbol
from .symbols import SYMBOLS
from .windows import select, time_range

CANCEL_ALL_DONE = {"code": 200, "msg": "The operation of cancel all open order is done."}


def _place(ctx: Ctx, p: Params) -> Order:
    name = p.values.get("symbol", "")
    mark = ctx.state.market.mark(SYMBOLS[name], ctx.now_ms) if name in SYMBOLS else Decimal(0)
    req = parse_order(p, mark)  # an unknown symbol is rejected before the mark is used
    return ctx.state.engine.place(req, ctx.now_ms)


def new_order(ctx: Ctx) -> Any:
    return _place(ctx, ctx.params).view()


def test_order(ctx: Ctx) -> Any:
    """Validates like newOrder, account checks included, and creates nothing."""
    sym = ctx.req_symbol()
    req = parse_order(ctx.params, ctx.state.market.mark(sym, ctx.now_ms))
    ctx.state.engine.admit(req, ctx.now_ms)
    return {}


def _lookup(ctx: Ctx) -> tuple[str, Order | None]:
    sym = ctx.req_symbol()
    order_id, client_id = ctx.params.text("orderId"), ctx.params.text("origClientOrderId")
    if order_id is None and client_id is None:
        raise ApiError("either_param", a="orderId", b="origClientOrderId")
    return sym.name, ctx.state.engine.find(sym.name, order_id, client_id)


def query_order(ctx: Ctx) -> Any:
    _, order = _lookup(ctx)
    if order is None:
        raise ApiError("no_such_order")
    return order.view()


def open_order(ctx: Ctx) -> Any:
    _, order = _lookup(ctx)
    if order is None or not order.is_open:
        raise ApiError("no_such_order")
    return order.view()


def cancel_order(ctx: Ctx) -> Any:
    _, order = _lookup(ctx)
    if order is None:
        raise ApiError("unknown_order")
    return ctx.state.engine.cancel(order, ctx.now_ms).view()


def modify_order(ctx: Ctx) -> Any:
    p = ctx.params
    _, order = _lookup(ctx)
    if order is None:
        raise ApiError("unknown_order")
    if not any(p.has(n) for n in ("quantity", "price", "stopPrice")):
        raise ApiError("modify_nothing")
    sym = SYMBOLS[order.symbol]
    side = p.enum("side", ("BUY", "SELL"), "invalid_side")
    qty = p.decimal("quantity")
    qty = check_lot(sym, qty) if qty is not None else None
    price = p.decimal("price")
    price = check_tick(sym, "price", price, False) if price is not None and order.type in NEEDS_PRICE else None
    stop = p.decimal("stopPrice")
    stop = check_tick(sym, "stopPrice", stop, False) if stop is not None and order.type in NEEDS_STOP else None
    if order.is_open:
        basis = price or order.price if order.type in NEEDS_PRICE else stop or order.stop_price
        check_notional(sym, qty or order.orig_qty, basis, exempt=order.reduce_only or order.close_position)
        if stop is not None:
            check_trigger(side or order.side, order.type, stop, ctx.state.market.mark(sym, ctx.now_ms))
    return ctx.state.engine.modify(order, side, qty, price, stop, ctx.now_ms).view()


def batch_orders(ctx: Ctx) -> Any:
    """Each item is placed on its own; the answer mixes order objects and {code, msg} in request order."""
    items = ctx.params.json_list("batchOrders", max_items=5, required=True) or []
    out: list[Any] = []
    for item in items:
        try:
            out.append(_place(ctx, item_params(item)).view())
        except ApiError as err:
            out.append(err.body())
    return out


def _id_list(p: Params, name: str) -> list[str] | None:
    # Binance fapi also takes the all-lowercase spelling (ccxt sends `orderidlist`): accept both.
    values = p.json_list(name, max_items=10)
    if values is None:
        values = p.json_list(name.lower(), max_items=10)
    if values is None:
        return None
    if not all(isinstance(v, int | str) and not isinstance(v, bool) for v in values):
        raise ApiError("invalid_param", name=name)
    return [str(v) for v in values]


def cancel_batch(ctx: Ctx) -> Any:
    """Open orders are cancelled; already-terminal ones come back with their status (ZTDX); unknown ids as -2011."""
    sym = ctx.req_symbol()
    ids, client_ids = _id_list(ctx.params, "orderIdList"), _id_list(ctx.params, "origClientOrderIdList")
    if ids is None and client_ids is None:
        raise ApiError("either_param", a="orderIdList", b="origClientOrderIdList")
    engine = ctx.state.engine
    found = [engine.find(sym.name, i, None) for i in ids or []]
    found += [engine.find(sym.name, None, c) for c in client_ids or []]
    out: list[Any] = []
    for order in found:
        if order is None:
            out.append(ApiError("unknown_order").body())
        else:
            out.append((engine.cancel(order, ctx.now_ms) if order.is_open else order).view())
    return out


def cancel_all(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    for order in ctx.state.engine.open_orders(sym.name):
        ctx.state.engine.cancel(order, ctx.now_ms)
    return CANCEL_ALL_DONE


def open_orders(ctx: Ctx) -> Any:
    sym = ctx.symbol(required=False)
    orders = ctx.state.engine.open_orders(sym.name if sym else None)
    return [o.view() for o in sorted(orders, key=lambda o: (o.time, o.order_id))]


def _order_id(p: Params) -> int | None:
    """orderId is LONG or a UUID string (fapi-contract §5.C): a UUID is valid input that matches no order here."""
    text = p.text("orderId")
    if text is None:
        return None
    if not (text.isdigit() or UUID_RE.match(text)):
        raise ApiError("illegal_chars_param", name="orderId", legal=f"{INT_LEGAL} or a UUID")
    return int(text) if text.isdigit() else 2**63


def all_orders(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    limit = ctx.limit(500, 1000)
    start, end = time_range(ctx.params)
    from_id = _order_id(ctx.params)
    rows = sorted((o for o in ctx.state.ledger.orders.values() if o.symbol == sym.name
                   and (from_id is None or o.order_id >= from_id)), key=lambda o: (o.time, o.order_id))
    if from_id is not None and start is None:
        return [o.view() for o in select(rows, lambda o: o.time, 0, end, limit)]
    return [o.view() for o in select(rows, lambda o: o.time, start, end, limit)]


def user_trades(ctx: Ctx) -> Any:
    sym = ctx.req_symbol()
    limit = ctx.limit(500, 1000)
    start, end = time_range(ctx.params)
    order_id, from_id = _order_id(ctx.params), ctx.params.integer("fromId", lo=0)
    rows = [f for f in ctx.state.ledger.fills if f.symbol == sym.name and (order_id is None or f.order_id == order_id)
            and (from_id is None or f.trade_id >= from_id)]
    first = 0 if from_id is not None and start is None else start
    return [f.view() for f in select(rows, lambda f: f.time, first, end, limit)]


ROUTES = [
    Endpoint("POST", "/fapi/v1/order", new_order, 0, signed=True, orders=True),
    Endpoint("POST", "/fapi/v1/order/test", test_order, 0, signed=True),
    Endpoint("GET", "/fapi/v1/order", query_order, 1, signed=True),
    Endpoint("DELETE", "/fapi/v1/order", cancel_order, 1, signed=True),
    Endpoint("PUT", "/fapi/v1/order", modify_order, 1, signed=True),
    Endpoint("GET", "/fapi/v1/openOrder", open_order, 1, signed=True),
    Endpoint("GET", "/fapi/v1/openOrders", open_orders, by_symbol(1, 40), signed=True),
    Endpoint("POST", "/fapi/v1/batchOrders", batch_orders, 5, signed=True, orders=True),
    Endpoint("DELETE", "/fapi/v1/batchOrders", cancel_batch, 1, signed=True),
    Endpoint("DELETE", "/fapi/v1/allOpenOrders", cancel_all, 1, signed=True),
    Endpoint("GET", "/fapi/v1/allOrders", all_orders, 5, signed=True),
    Endpoint("GET", "/fapi/v1/userTrades", user_trades, 5, signed=True),
]
ORDER_COUNTS = {("POST", "/fapi/v1/batchOrders"): batch_order_count}
