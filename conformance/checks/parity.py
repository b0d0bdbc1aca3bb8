"""Whether each documented endpoint is served: general.endpoint-implemented, and general.testnet-parity on the testnet.

One missing operation is one failure, of exactly one rule: ZTDX-documented operations are judged by
`general.endpoint-implemented` (MUST) — on the testnet by `general.testnet-parity`, which says the same of it —
and operations only Binance documents by `general.binance-endpoint-implemented` (SHOULD).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from conformance.checks import RuleViolation, check
from conformance.data.contract import Operation
from conformance.data.exchange import Exchange

ENDPOINT_IMPLEMENTED = "general.endpoint-implemented"
TESTNET_PARITY = "general.testnet-parity"
BINANCE_ENDPOINT_IMPLEMENTED = "general.binance-endpoint-implemented"
TESTNET_HOSTS = frozenset({"api-sepolia.ztdx.io"})
# ZTDX batch-orders page: POST /fapi/v1/batchOrders exists on the testnet only; production answers 405.
PRODUCTION_ONLY_405 = {("api.ztdx.io", "newBatchOrders")}


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".")


def implemented_rule(operation: Operation, url: str) -> str:
    """The one rule that judges whether `operation` is served at `url`."""
    if operation.source != "ztdx":
        return BINANCE_ENDPOINT_IMPLEMENTED
    return TESTNET_PARITY if _host(url) in TESTNET_HOSTS else ENDPOINT_IMPLEMENTED


def _judged_by(rule_id: str) -> Callable[[Exchange], bool]:
    def applies(ex: Exchange) -> bool:
        return ex.operation is not None and implemented_rule(ex.operation, ex.request.url) == rule_id

    return applies


def _served(rule_id: str) -> Callable[[Exchange], None]:
    def endpoint_is_served(ex: Exchange) -> None:
        status = ex.response.status
        if status == 405 and (_host(ex.request.url), ex.operation_id) in PRODUCTION_ONLY_405:
            return
        if status in (404, 405):
            raise RuleViolation(rule_id, [f"{ex.request.method} {ex.request.path} is routed: any status but 404/405"],
                                f"HTTP {status}: {ex.response.text[:160]!r}")

    return endpoint_is_served


for _rule_id in (ENDPOINT_IMPLEMENTED, TESTNET_PARITY, BINANCE_ENDPOINT_IMPLEMENTED):
    check(_rule_id, applies=_judged_by(_rule_id))(_served(_rule_id))
