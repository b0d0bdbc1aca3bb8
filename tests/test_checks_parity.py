"""The endpoint checks: a routed answer passes, a 404/405 for a documented endpoint fails, under exactly one rule."""

from __future__ import annotations

import pytest

from conformance import checks
from conformance.checks import RuleViolation
from conformance.data import contract
from conformance.data.exchange import Exchange, Request, Response

RULE = ["general.testnet-parity", "general.endpoint-implemented", "general.binance-endpoint-implemented"]
TESTNET = "api-sepolia.ztdx.io"


def _exchange(op_id: str, status: int, host: str = "127.0.0.1:8765") -> Exchange:
    op = contract.default().operations[op_id]
    body = b'{"code":-1102,"msg":"Mandatory parameter missing."}' if status >= 400 else b"{}"
    return Exchange(Request(op.method, f"http://{host}{op.path}"), Response(status, {}, body), op)


@pytest.mark.parametrize("status", [200, 400, 401])
def test_a_routed_answer_passes(status: int) -> None:
    checks.verify(_exchange("klines", status), RULE)


@pytest.mark.parametrize("status", [404, 405])
@pytest.mark.parametrize(("op_id", "host", "rule_id"), [
    ("depth", "127.0.0.1:8765", "general.endpoint-implemented"),
    ("depth", TESTNET, "general.testnet-parity"),
    ("klines", "127.0.0.1:8765", "general.binance-endpoint-implemented"),
    ("klines", TESTNET, "general.binance-endpoint-implemented"),
])
def test_an_unrouted_documented_endpoint_fails_exactly_one_rule(status: int, op_id: str, host: str,
                                                                rule_id: str) -> None:
    violations = checks.run(_exchange(op_id, status, host), RULE)
    assert [v.rule_id for v in violations] == [rule_id]


def test_production_batch_orders_405_is_documented() -> None:
    checks.verify(_exchange("newBatchOrders", 405, host="api.ztdx.io"), RULE)
    with pytest.raises(RuleViolation):
        checks.verify(_exchange("newBatchOrders", 405), RULE)
