"""`create_app`: the Starlette application — the control API under /__mock__/ and every other path to the fapi."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from .control import routes as control_routes
from .dispatch import Dispatcher
from .errors import error_body
from .state import Latency, MockState, credentials
from .ws import endpoint as ws_endpoint

log = logging.getLogger("ztdx-fapi-mock")


class _Fapi:
    """The fapi as a plain ASGI app: every method (TRACE too) reaches the dispatcher, which answers 405 with Allow."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.dispatcher(Request(scope, receive))
        await response(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own 404/405 (control API only) in the same JSON shape as the fapi's."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    name = {404: "path_not_found", 405: "method_not_allowed"}.get(status)
    if name is None:
        return JSONResponse({"code": -1000, "msg": str(getattr(exc, "detail", "error"))}, status_code=status)
    code, body = error_body(name)
    headers = exc.headers if isinstance(exc, HTTPException) else None  # Starlette's Allow on a 405 (RFC 9110)
    return JSONResponse(body, status_code=code, headers=headers)


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("mock bug outside the fapi pipeline", exc_info=exc)
    status, body = error_body("bug", detail=f"{type(exc).__name__}: {exc}"[:200])
    return JSONResponse(body, status_code=status)


def create_app(seed: int = 42, api_key: str | None = None, api_secret: str | None = None, *,
               latency_ms: float = 0.0, jitter_ms: float = 0.0, limits: dict[str, int] | None = None,
               ws_cadence_scale: float = 1.0) -> Starlette:
    """A fresh mock with its own state; `api_key`/`api_secret` None → env ZTDX_API_KEY/ZTDX_API_SECRET → defaults.

    `limits` overrides the documented rate limits for the mock's whole life (reset returns to it), e.g.
    `{"weight_per_minute": 24000}`; `POST /__mock__/limits` overrides them until the next reset.
    `ws_cadence_scale` multiplies the documented intervals of the /ws public channels (below 1: faster)."""
    key, secret = credentials(api_key, api_secret)
    state = MockState(seed, key, secret, Latency(latency_ms, jitter_ms), dict(limits or {}))
    state.reset()  # picks up the initial latency
    dispatcher = Dispatcher(state)

    app = Starlette(
        routes=[Mount("/__mock__", routes=control_routes(state)),
                WebSocketRoute("/ws", ws_endpoint(state, dispatcher, ws_cadence_scale)),
                Route("/{path:path}", _Fapi(dispatcher))],  # an ASGI app: no method list, so none is refused here
        exception_handlers={HTTPException: _http_error, Exception: _bug},
    )
    app.state.mock = state
    return app
