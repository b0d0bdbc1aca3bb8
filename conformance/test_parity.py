"""Every documented endpoint is served by the target (unsigned probes, no orders): one verdict per operation."""

from __future__ import annotations

import pytest

from conformance import checks
from conformance.checks import parity
from conformance.data import contract
from conformance.harness.client import Client


def _marks(op: contract.Operation) -> list[pytest.MarkDecorator]:
    # Whichever of these rules covers the operation on this target is the one a check judges (checks/parity.py).
    rules = ((parity.BINANCE_ENDPOINT_IMPLEMENTED,) if op.source != "ztdx"
             else (parity.ENDPOINT_IMPLEMENTED, parity.TESTNET_PARITY))
    # Order and account-setting endpoints are probed on trading targets only: on production, not even an unsigned
    # request goes to them.
    return [pytest.mark.rule(*rules), *([pytest.mark.capability("trading")] if op.trading else [])]


OPERATIONS = [pytest.param(op.id, id=op.id, marks=_marks(op))
              for op in sorted(contract.default().operations.values(), key=lambda o: o.id)]


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_documented_endpoint_is_served(client: Client, operation_id: str) -> None:
    # An unsigned request without parameters cannot change state: it is refused (4XX) or answered, never routed away.
    op = contract.default().operations[operation_id]
    exchange = client.call(op.method, op.path, signed=False, headers={"X-MBX-APIKEY": None}, allow_missing=True)
    checks.verify(exchange, [parity.implemented_rule(op, exchange.request.url)])
