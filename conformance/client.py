"""The signed httpx client: builds requests as the contract allows, records every exchange."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from conformance import contract as contract_mod
from conformance.errors import TargetUnavailable
from conformance.exchange import Exchange
from conformance.governor import Governor
from conformance.redact import register_secret
from conformance.targets import Target

Params = Mapping[str, Any] | Sequence[tuple[str, Any]]
FORM = "application/x-www-form-urlencoded"
# Documented 503 texts that mean "the service is unavailable", not "the contract is broken".
UNAVAILABLE_MESSAGES = (
    "Service Unavailable.",
    "Internal error; unable to process your request. Please try again.",
    "Request throttled by system-level protection.",
)


def _pairs(params: Params | None) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else (params or [])
    return [(str(k), _text(v)) for k, v in items if v is not None]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class Client:
    """One client per target; `call()` returns an `Exchange` and never hides a response."""

    def __init__(self, target: Target, *, contract: contract_mod.Contract | None = None,
                 governor: Governor | None = None, timeout: float = 10.0) -> None:
        self.target = target
        self.contract = contract or contract_mod.default()
        self.governor = governor or Governor()
        self.http = httpx.Client(base_url=target.base_url, timeout=timeout,
                                 headers={"User-Agent": "fapi-conformance/0.1"})
        self.listeners: list[Callable[[Exchange], None]] = []
        if target.credentials:
            register_secret(target.credentials.api_key, target.credentials.api_secret)

    def close(self) -> None:
        self.http.close()

    def server_time(self) -> int:
        return int(time.time() * 1000)

    def call(self, method: str, path: str, params: Params | None = None, *, form: Params | None = None,
             signed: bool | None = None, headers: Mapping[str, str] | None = None, content: bytes | None = None,
             content_type: str | None = None, allow_limits: bool = False, allow_faults: bool = False,
             ) -> Exchange:
        """Send `params` in the query and `form` in the body; sign over exactly what is sent."""
        method = method.upper()
        operation = self.contract.find(method, path)
        query, body = _pairs(params), _pairs(form)
        signed = operation.signed if signed is None and operation else bool(signed)
        hdrs = dict(headers or {})
        if signed:
            query, hdrs = self._sign(query, body, hdrs)
        raw_body = content if content is not None else (urlencode(body).encode() if body else b"")
        if raw_body and "content-type" not in {k.lower() for k in hdrs}:
            hdrs["Content-Type"] = content_type or FORM
        merged = dict(body) | dict(query)
        weight = operation.weight(merged) if operation else 1
        self.governor.acquire(weight, orders=1 if operation and operation.counts_orders else 0)
        url = path + ("?" + urlencode(query) if query else "")
        try:
            response = self.http.request(method, url, content=raw_body or None, headers=hdrs)
        except httpx.TimeoutException as exc:
            raise TargetUnavailable(f"timeout: {method} {path} ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise TargetUnavailable(f"unreachable: {self.target.base_url} ({type(exc).__name__}: {exc})") from None
        exchange = Exchange.from_httpx(response, operation)
        self.governor.observe(exchange)
        for listener in self.listeners:
            listener(exchange)
        self._raise_if_unavailable(exchange, allow_limits=allow_limits, allow_faults=allow_faults)
        return exchange

    def _sign(self, query: list[tuple[str, str]], body: list[tuple[str, str]],
              hdrs: dict[str, str]) -> tuple[list[tuple[str, str]], dict[str, str]]:
        creds = self.target.credentials
        names = {k for k, _ in query} | {k for k, _ in body}
        if "timestamp" not in names:
            query = [*query, ("timestamp", str(self.server_time()))]
        if creds and "signature" not in names:
            payload = urlencode(query) + urlencode(body)
            query = [*query, ("signature", sign(creds.api_secret, payload))]
        if creds and not any(k.lower() == "x-mbx-apikey" for k in hdrs):
            hdrs["X-MBX-APIKEY"] = creds.api_key
        return query, hdrs

    def _raise_if_unavailable(self, ex: Exchange, *, allow_limits: bool, allow_faults: bool) -> None:
        status = ex.response.status
        if status in (418, 429) and not allow_limits:
            retry = ex.response.headers.get("retry-after")
            raise TargetUnavailable(f"rate-limited: HTTP {status} on {ex.request.method} {ex.request.path}"
                                    f" (Retry-After {retry or '-'})",
                                    retry_after=float(retry) if retry and retry.isdigit() else None)
        if allow_faults:
            return
        msg = ""
        if ex.response.is_json and isinstance(ex.response.json(), dict):
            msg = str(ex.response.json().get("msg", ""))
        if status == 408 or (status == 503 and msg.startswith(UNAVAILABLE_MESSAGES)):
            raise TargetUnavailable(f"unavailable: HTTP {status} {msg!r} on {ex.request.method} {ex.request.path}")
