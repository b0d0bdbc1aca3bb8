"""The endpoint table's building blocks: one Endpoint per (method, path), its weight rule, and the handler context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .params import Params
from .symbols import SYMBOLS, Symbol

if TYPE_CHECKING:
    from .state import MockState


@dataclass
class Ctx:
    """What a handler sees: the parameters, the server time of this request, and the mock's state."""

    params: Params
    now_ms: int
    state: MockState

    def symbol(self, required: bool = True) -> Symbol | None:
        if not required and self.params.values.get("symbol", None) == "":
            # Binance checks a sent symbol against its pattern: an empty one is not "no symbol"
            raise ApiError("illegal_chars_param", name="symbol", legal="^[A-Z0-9-_.]{1,20}$")
        name = self.params.text("symbol", required)
        if name is None:
            return None
        if name not in SYMBOLS:
            raise ApiError("bad_symbol")
        return SYMBOLS[name]

    def req_symbol(self) -> Symbol:
        sym = self.symbol(True)
        assert sym is not None  # symbol(True) raises instead of returning None
        return sym

    def limit(self, default: int, maximum: int) -> int:
        value = self.params.integer("limit", lo=1, hi=maximum)
        return default if value is None else value


Handler = Callable[[Ctx], Any]
Weight = int | Callable[[Params], int]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    weight: Weight = 1
    signed: bool = False
    orders: bool = False  # counts toward the ORDERS limits and carries the order-count headers

    def weight_of(self, params: Params | None) -> int:
        if isinstance(self.weight, int):
            return self.weight
        try:
            return self.weight(params or Params())
        except ApiError:  # an unparsable parameter is answered later; charge the endpoint's default
            return self.weight(Params())


def by_symbol(with_symbol: int, without_symbol: int) -> Callable[[Params], int]:
    return lambda p: with_symbol if p.has("symbol") else without_symbol


def depth_weight(params: Params) -> int:
    limit = params.integer("limit") or 500
    return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20


def klines_weight(params: Params) -> int:
    limit = params.integer("limit") or 500
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


def batch_order_count(params: Params) -> int:
    """Each order of a batch counts toward the ORDERS limits (at least one for the request itself)."""
    try:
        items = params.json_list("batchOrders", max_items=10**6)
    except ApiError:
        return 1
    return max(1, len(items or []))
