"""Helpers for the self-tests that run against a real mock: a recording loopback proxy and a suite runner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from conformance.data import contract

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
PLUGINS = ["-p", "conformance.plugins.core", "-p", "conformance.plugins.fixtures", "-p", "conformance.plugins.safety"]
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}
HEX64 = re.compile(r"[0-9a-f]{64}")


def require_suite() -> None:
    """These self-tests run the suite itself, which needs the contract spec."""
    if not contract.SPEC_PATH.is_file():
        pytest.skip(f"{contract.SPEC_PATH.name} is not there yet: the suite cannot start")


def mock_server(**kwargs: Any) -> Any:
    """A MockServer on a free loopback port (the self-test is skipped while the mock package is absent)."""
    require_suite()
    mock = pytest.importorskip("conformance.mock", reason="the reference mock (conformance/mock) is not built yet")
    if not hasattr(mock, "MockServer"):
        pytest.skip("the reference mock (conformance/mock) has no MockServer yet")
    return mock.MockServer(host="127.0.0.1", port=0, **kwargs)


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]


@dataclass
class Proxy:
    """Forwards to `upstream`; hides the mock control API unless `transparent`. Records every request."""

    upstream: str
    transparent: bool = False
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the self-test output quiet
                pass

            def _any(self) -> None:
                proxy.forward(self)

            def __getattr__(self, name: str) -> Any:  # every method, even QUERY from schemathesis' coverage phase
                if name.startswith("do_"):
                    return self._any
                raise AttributeError(name)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http = httpx.Client(base_url=self.upstream, timeout=30.0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        parts = urlsplit(handler.path)
        params = dict(parse_qsl(body.decode("utf-8", "replace"))) | dict(parse_qsl(parts.query))
        self.seen.append(Seen(handler.command, parts.path, params))
        if parts.path.startswith("/__mock__") and not self.transparent:
            status, headers, content = 404, {"content-type": "application/json"}, b'{"code":-1000,"msg":"no"}'
        else:
            headers_in = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_HEADERS}
            r = self.http.request(handler.command, handler.path, content=body or None, headers=headers_in)
            status, headers, content = r.status_code, dict(r.headers), r.content
        handler.send_response(status)
        for name, value in headers.items():
            if name.lower() not in HOP_HEADERS | {"content-encoding", "date", "server"}:
                handler.send_header(name, value)
        handler.send_header("content-length", str(len(content)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(content)

    def signatures(self) -> set[str]:
        """HMAC-SHA256 signatures sent (64 hex digits); fuzzed values such as ' ' carry nothing of the secret."""
        return {s.params["signature"] for s in self.seen if HEX64.fullmatch(s.params.get("signature", ""))}

    def close(self) -> None:
        self.server.shutdown()
        self.http.close()


def suite_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]


def run(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run pytest in a subprocess from the repository root; output is captured as text."""
    # Bytecode writing on: with PYTHONDONTWRITEBYTECODE=1 every run re-rewrote ~340 plugin modules (~1.5 s).
    full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "", **(env or {})}
    return subprocess.run(suite_command(*args), cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def scenario(name: str) -> list[str]:
    """A scenario module run with the conformance plugins (it lives outside conformance/ on purpose)."""
    return [*PLUGINS, str(SCENARIOS / name)]


def control(base_url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    url = f"{base_url}/__mock__/{path}"
    response = httpx.post(url, json=body or {}) if body is not None or path == "reset" else httpx.get(url)
    response.raise_for_status()
    return response.json()
