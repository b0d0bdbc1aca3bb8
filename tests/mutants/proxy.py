"""A loopback ASGI reverse proxy in front of the reference mock that applies one named mutation to the traffic."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from conformance.mock.server import tcp_socket

HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "content-encoding"})


@dataclass
class Outgoing:
    """The request as the proxy will forward it; a mutation may rewrite any part."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def is_fapi(self) -> bool:
        return self.path.startswith("/fapi/")


@dataclass
class Answer:
    """The response as the proxy will return it; a mutation may rewrite any part."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


RequestHook = Callable[[Outgoing, "MutantProxy"], Awaitable[Answer | None]]
ResponseHook = Callable[[Outgoing, Answer], Answer]


@dataclass(frozen=True)
class Mutation:
    """One named change of the mock's behaviour: rewrite the request, answer in its place, or rewrite the answer."""

    name: str
    request: RequestHook | None = None
    response: ResponseHook | None = None


class MutantProxy:
    """ASGI app: forwards everything (the /__mock__/ control API included) to `upstream`, through `mutation`."""

    def __init__(self, upstream: str, mutation: Mutation) -> None:
        self.upstream, self.mutation = upstream, mutation
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:  # created inside uvicorn's event loop, on first use
            self._http = httpx.AsyncClient(base_url=self.upstream, timeout=30.0)
        return self._http

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        out = Outgoing(request.method, request.url.path, scope.get("query_string", b"").decode("latin-1"),
                       {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS},
                       await request.body())
        answer = await self.mutation.request(out, self) if self.mutation.request else None
        if answer is None:
            answer = await self.forward(out)
            if self.mutation.response and out.is_fapi:
                answer = self.mutation.response(out, answer)
        await Response(answer.body, status_code=answer.status, headers=answer.headers)(scope, receive, send)

    async def forward(self, out: Outgoing) -> Answer:
        url = out.path + (f"?{out.query}" if out.query else "")
        r = await self.http.request(out.method, url, headers=out.headers, content=out.body or None)
        headers = {k: v for k, v in r.headers.items() if k.lower() not in HOP_HEADERS}
        return Answer(r.status_code, headers, r.content)


class ProxyServer:
    """The proxy under uvicorn in a background thread on a free loopback port (like the mock's MockServer)."""

    def __init__(self, upstream: str, mutation: Mutation) -> None:
        self.app = MutantProxy(upstream, mutation)
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ProxyServer:
        sock = tcp_socket("127.0.0.1", 0)  # the mock's: Nagle off (with its own socket, ~40 ms an answer)
        self.port, self._socket = sock.getsockname()[1], sock
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the mutant proxy did not start on {self.url}")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
