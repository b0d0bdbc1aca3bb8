"""schemathesis hook for the `st run` side of the bench: the suite's own checks as one registered check.

It runs what the packaged hook `conformance.harness.schemathesis_checks.fapi_conformance` runs (the same Exchange,
built by `from_schemathesis`, and the same rules); it keeps its own name so that the bench's `st run` command line
names it beside schemathesis' six checks (bench_schema.CHECKS) and the pytest side runs no such extra check.
"""

from __future__ import annotations

from typing import Any

import schemathesis

import conformance.tools.st_hooks  # noqa: F401  (registers the target's symbols and ordered windows for st run)
from conformance import checks
from conformance.data import contract
from conformance.harness.schemathesis_checks import GENERAL_RULES, from_schemathesis


@schemathesis.check
def fapi_conformance_bench(ctx: Any, response: Any, case: Any) -> bool | None:
    exchange = from_schemathesis(response, case, contract.default())
    if exchange.operation is None:
        return True
    checks.verify(exchange, [*GENERAL_RULES, f"schema.{exchange.operation_id}"])
    return None
