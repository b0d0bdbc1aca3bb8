"""The control API under /__mock__/: health, reset, faults, throttle, latency, limits and state (never signed)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .faults import FAULT_KINDS
from .limits import LIMIT_FIELDS
from .state import Latency, MockState
from .ws import WS_FAULT_KINDS

VERSION = "0.1.0"
CAPABILITIES = ["faults", "throttle", "latency", "limits", "trading", "ws", "ws-faults"]


class ControlError(Exception):
    """A malformed control call: answered 400 {"error": ...} (the control API is not the fapi)."""


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ControlError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data


def _number(data: dict[str, Any], name: str, default: float, minimum: float = 0) -> float:
    value = data.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ControlError(f"{name} must be a number >= {minimum}")
    return float(value)


def routes(state: MockState) -> list[Route]:
    """Bound to one MockState; every handler answers JSON."""

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                return JSONResponse(await handler(request))
            except ControlError as err:
                return JSONResponse({"error": str(err)}, status_code=400)
        return endpoint

    async def health(request: Request) -> Any:
        return {"status": "ok", "service": "ztdx-fapi-mock", "version": VERSION, "capabilities": CAPABILITIES}

    async def reset(request: Request) -> Any:
        state.reset()
        return {"status": "ok"}

    async def add_fault(request: Request) -> Any:
        data = await _body(request)
        kind = data.get("kind")
        if kind not in FAULT_KINDS:
            raise ControlError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        method, path = data.get("method"), data.get("path")
        if not (method is None or isinstance(method, str)) or not (path is None or isinstance(path, str)):
            raise ControlError("method and path must be strings or null")
        count = int(_number(data, "count", 1, minimum=1))
        fault = state.faults.add(kind, method, path, count, bool(data.get("executed", True)))
        return {"id": fault.id, "kind": fault.kind, "remaining": fault.remaining}

    async def list_faults(request: Request) -> Any:
        return {"faults": state.faults.describe()}

    async def clear_faults(request: Request) -> Any:
        state.faults.clear()
        return {"faults": []}

    async def throttle(request: Request) -> Any:
        if request.method == "POST":
            enabled = (await _body(request)).get("enabled", True)
            if not isinstance(enabled, bool):
                raise ControlError("enabled must be true or false")
            state.throttle = enabled
        return {"throttle": state.throttle}

    async def latency(request: Request) -> Any:
        if request.method == "POST":
            data = await _body(request)
            state.latency = Latency(_number(data, "ms", 0), _number(data, "jitter_ms", 0))
        return {"ms": state.latency.ms, "jitter_ms": state.latency.jitter_ms}

    async def limits(request: Request) -> Any:
        if request.method == "POST":
            data = await _body(request)
            unknown = set(data) - set(LIMIT_FIELDS)
            if unknown:
                raise ControlError(f"unknown limit(s): {', '.join(sorted(unknown))}")
            state.limiter.configure({k: int(_number(data, k, 0, minimum=1)) for k in data})
        return state.limiter.settings.as_dict()

    async def snapshot(request: Request) -> Any:
        return state.snapshot()

    async def ws_fault(request: Request) -> Any:
        data = await _body(request)
        kind = data.get("kind")
        if kind not in WS_FAULT_KINDS:
            raise ControlError(f"kind must be one of {', '.join(WS_FAULT_KINDS)}")
        count = int(_number(data, "count", 1, minimum=1))
        fault = state.ws_faults.add(kind, count, _number(data, "ms", 1000))
        return {"kind": fault.kind, "remaining": fault.remaining, "ms": fault.ms}

    return [
        Route("/health", guarded(health), methods=["GET"]),
        Route("/reset", guarded(reset), methods=["POST"]),
        Route("/faults", guarded(add_fault), methods=["POST"]),
        Route("/faults", guarded(list_faults), methods=["GET"]),
        Route("/faults", guarded(clear_faults), methods=["DELETE"]),
        Route("/throttle", guarded(throttle), methods=["GET", "POST"]),
        Route("/latency", guarded(latency), methods=["GET", "POST"]),
        Route("/limits", guarded(limits), methods=["GET", "POST"]),
        Route("/state", guarded(snapshot), methods=["GET"]),
        Route("/ws-faults", guarded(ws_fault), methods=["POST"]),
    ]
