"""schemathesis hook for the `st run` side of the bench: the suite's own checks as one registered check.

`conformance.schemathesis_checks.fapi_conformance` is the intended hook, but under `st run` it fails on every
response (an httpx.Response rebuilt without `elapsed`; see /work/notes/issues-found.md). This check runs the
same rule set on a correctly rebuilt Exchange, so both runners judge every exchange with the same checks.
"""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import schemathesis

import conformance.st_hooks  # noqa: F401  (registers the target's symbols and ordered windows for st run)
from conformance import checks, contract
from conformance.exchange import Exchange
from conformance.schemathesis_checks import GENERAL_RULES


@schemathesis.check
def fapi_conformance_bench(ctx: Any, response: Any, case: Any) -> bool | None:
    spec = contract.default()
    req = response.request
    body = req.body.encode() if isinstance(req.body, str) else (req.body or b"")
    headers = {k.lower(): v[0] if isinstance(v, list) else v for k, v in response.headers.items()}
    request = httpx.Request(req.method, req.url, headers=dict(req.headers), content=body)
    resp = httpx.Response(response.status_code, headers=headers, content=response.content, request=request)
    resp.elapsed = datetime.timedelta(seconds=response.elapsed)
    exchange = Exchange.from_httpx(resp, spec.find(case.method, case.path))
    if exchange.operation is None:
        return True
    checks.verify(exchange, [*GENERAL_RULES, f"schema.{exchange.operation_id}"])
    return None
