"""general.testnet-parity: every documented endpoint is served (its route exists) on the target."""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.checks import RuleViolation, check
from conformance.exchange import Exchange

# ZTDX batch-orders page: POST /fapi/v1/batchOrders exists on the testnet only; production answers 405.
PRODUCTION_ONLY_405 = {("api.ztdx.io", "newBatchOrders")}


def _documented(exchange: Exchange) -> bool:
    return exchange.operation is not None


@check("general.testnet-parity", applies=_documented)
def endpoint_is_served(exchange: Exchange) -> None:
    status = exchange.response.status
    host = urlsplit(exchange.request.url).hostname or ""
    if status == 405 and (host, exchange.operation_id) in PRODUCTION_ONLY_405:
        return
    if status in (404, 405):
        raise RuleViolation("general.testnet-parity",
                            [f"{exchange.request.method} {exchange.request.path} is routed: any status but 404/405"],
                            f"HTTP {status}: {exchange.response.text[:160]!r}")
