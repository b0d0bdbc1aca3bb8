"""The fapi request pipeline: latency, ban gate, parameters, faults, throttle, rate limits, auth, handler."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .auth import authenticate
from .errors import ApiError, error_body
from .faults import UNCOUNTED_KINDS, Fault, throttled
from .params import MAX_BODY_BYTES, Params, build_params
from .routes_account import ROUTES as ACCOUNT_ROUTES
from .routes_market import ROUTES as MARKET_ROUTES
from .routes_trade import ORDER_COUNTS
from .routes_trade import ROUTES as TRADE_ROUTES
from .routing import Ctx, Endpoint
from .state import MockState

log = logging.getLogger("ztdx-fapi-mock")


def _endpoints() -> Mapping[str, Mapping[str, Endpoint]]:
    """path -> method -> endpoint, read-only: the routes are fixed when the module is imported."""
    table: dict[str, dict[str, Endpoint]] = {}
    for ep in (*MARKET_ROUTES, *TRADE_ROUTES, *ACCOUNT_ROUTES):
        table.setdefault(ep.path, {})[ep.method] = ep
    return MappingProxyType({path: MappingProxyType(methods) for path, methods in table.items()})


ENDPOINTS = _endpoints()


async def read_body(request: Request) -> bytes:
    """The whole body, refused with 413 once it passes MAX_BODY_BYTES (checked while streaming, not after)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError("body_too_large", limit=MAX_BODY_BYTES)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError("body_too_large", limit=MAX_BODY_BYTES)
        chunks.append(chunk)
    return b"".join(chunks)


class Dispatcher:
    """One instance per app; every fapi request goes through `__call__`."""

    def __init__(self, state: MockState) -> None:
        self.state = state
        self.rng = random.Random(state.seed)

    async def delay(self) -> None:
        lat = self.state.latency
        ms = lat.ms + (self.rng.uniform(-lat.jitter_ms, lat.jitter_ms) if lat.jitter_ms else 0.0)
        if ms > 0:
            await asyncio.sleep(ms / 1000)

    def render(self, status: int, body: Any, now: float, ep: Endpoint | None) -> Response:
        headers = self.state.limiter.headers(now, bool(ep and ep.orders))
        if status in (418, 429):
            headers["Retry-After"] = str(self.state.limiter.retry_after(now, status))
        return JSONResponse(body, status_code=status, headers=headers)

    def fail(self, err: ApiError, now: float, ep: Endpoint | None) -> Response:
        return self.render(err.status, err.body(), now, ep)

    def fault_answer(self, fault: Fault, now: float, ep: Endpoint) -> Response:
        status, body = error_body(fault.kind)
        return self.render(status, body, now, ep)

    async def __call__(self, request: Request) -> Response:
        state, method, path = self.state, request.method, request.url.path
        state.requests += 1
        await self.delay()
        now = time.time()
        methods = ENDPOINTS.get(path)
        ep = methods.get(method) if methods else None
        try:
            state.limiter.gate(now)
            if ep is None:
                state.limiter.charge(now, 1, 0)
                raise ApiError("method_not_allowed" if methods else "path_not_found")
        except ApiError as err:
            response = self.fail(err, now, ep)
            if methods and err.kind == "method_not_allowed":
                response.headers["Allow"] = ", ".join(sorted(methods))  # RFC 9110: a 405 lists what the path takes
            return response
        return await self.endpoint(request, ep, now)

    async def parse(self, request: Request, method: str) -> tuple[Params | None, ApiError | None]:
        try:
            body = b"" if method == "GET" else await read_body(request)
            raw_query = request.scope.get("query_string", b"")
            return build_params(method, raw_query, body, request.headers.get("content-type", "")), None
        except ApiError as err:
            return None, err

    async def endpoint(self, request: Request, ep: Endpoint, now: float) -> Response:
        state = self.state
        params, parse_error = await self.parse(request, ep.method)
        fault = state.faults.take(ep.method, ep.path)
        if fault and fault.kind in UNCOUNTED_KINDS:
            return self.fault_answer(fault, now, ep)
        if not fault and state.throttle and throttled(ep.method, ep.path, params.values if params else {}):
            status, body = error_body("throttled")
            return self.render(status, body, now, ep)
        try:
            orders = ORDER_COUNTS.get((ep.method, ep.path), lambda p: 1)(params or Params()) if ep.orders else 0
            state.limiter.charge(now, ep.weight_of(params), orders)
        except ApiError as err:
            return self.fail(err, now, ep)
        if fault and not (fault.kind == "unknown-status" and fault.executed):
            return self.fault_answer(fault, now, ep)
        status, body = self.run(request, ep, params, parse_error, int(now * 1000))
        if fault:  # unknown-status after execution: the work is done, only the answer is lost
            return self.fault_answer(fault, now, ep)
        return self.render(status, body, now, ep)

    def run(self, request: Request, ep: Endpoint, params: Params | None, parse_error: ApiError | None,
            now_ms: int) -> tuple[int, Any]:
        state = self.state
        try:
            if parse_error is not None or params is None:
                raise parse_error or ApiError("malformed_body")
            if ep.signed:
                authenticate(params, request.headers.get("x-mbx-apikey"), state.api_key, state.api_secret, now_ms)
            return 200, ep.handler(Ctx(params, now_ms, state))
        except ApiError as err:
            return err.status, err.body()
        except Exception as exc:  # a mock bug: visible as such (500, "Internal mock error"), never a contract code
            log.exception("mock bug on %s %s", ep.method, ep.path)
            return error_body("bug", detail=f"{type(exc).__name__}: {exc}"[:200])
