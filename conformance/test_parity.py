"""Testnet parity: every documented endpoint of the spec is served by the target (unsigned probes, no orders)."""

from __future__ import annotations

import pytest

from conformance import checks, contract
from conformance.client import Client

# Order and account-setting endpoints are probed on trading targets only: on production, not even an unsigned
# request goes to them.
OPERATIONS = [pytest.param(op.id, id=op.id, marks=[pytest.mark.capability("trading")] if op.trading else [])
              for op in sorted(contract.default().operations.values(), key=lambda o: o.id)]


@pytest.mark.rule("general.testnet-parity")
@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_documented_endpoint_is_served(client: Client, operation_id: str) -> None:
    # An unsigned request without parameters cannot change state: it is refused (4XX) or answered, never routed away.
    op = contract.default().operations[operation_id]
    exchange = client.call(op.method, op.path, signed=False, headers={"X-MBX-APIKEY": None})
    checks.verify(exchange, ["general.testnet-parity"])
