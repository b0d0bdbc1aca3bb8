"""Hooks for `st run`: the target's symbols in the spec and ordered time windows, as the schema module does.

Use: `SCHEMATHESIS_HOOKS=conformance.tools.st_hooks FAPI_CONFORMANCE_URL=http://127.0.0.1:8765 st run
fixtures/openapi.yaml --url http://127.0.0.1:8765` (`FAPI_CONFORMANCE_SYMBOLS=BTCUSDT,ETHUSDT` instead of the URL
names them directly). Without either, the spec's symbol parameters stay any non-empty string.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx
import schemathesis

from conformance.data import contract
from conformance.harness import generation

TIMEOUT_S = 10.0


def _symbols() -> tuple[str, ...]:
    named = os.environ.get("FAPI_CONFORMANCE_SYMBOLS", "")
    if named:
        return tuple(s.strip() for s in named.split(",") if s.strip())
    url = os.environ.get("FAPI_CONFORMANCE_URL", "")
    if not url:
        return ()
    try:
        body = httpx.get(url.rstrip("/") + "/fapi/v1/exchangeInfo", timeout=TIMEOUT_S).json()
    except (httpx.HTTPError, ValueError) as exc:
        print(f"conformance.tools.st_hooks: exchangeInfo unusable ({exc}); symbols left unconstrained", file=sys.stderr)
        return ()
    return generation.listed_symbols(body)[:generation.MAX_SYMBOLS]


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    raw_schema.update(generation.constrain(raw_schema, _symbols()))


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    op = contract.default().find(case.method, case.path)
    if op is not None and case.meta is not None and case.meta.generation.mode.is_positive:
        generation.repair(case, op)
