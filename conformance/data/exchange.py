"""One recorded request/response pair (`Exchange`): the only input a check ever sees."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    import httpx

    from conformance.data.contract import Operation

_NO_JSON = object()


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    @property
    def form(self) -> list[tuple[str, str]]:
        """Form-body parameters (empty when the body is not form-encoded)."""
        ctype = self.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            return []
        return parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def params(self) -> dict[str, str]:
        """Effective parameters as the contract defines them: the query value wins over the body."""
        merged = dict(self.form) if self.method != "GET" else {}
        merged.update(dict(self.query))
        return merged


@dataclass(frozen=True)
class ApiError:
    """The `{code, msg}` of an answer's JSON object body: each None when absent or not of its documented type."""

    code: int | None
    msg: str | None


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed_ms: float = 0.0

    @cached_property
    def _parsed(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return _NO_JSON

    @property
    def is_json(self) -> bool:
        return self._parsed is not _NO_JSON

    def json(self) -> Any:
        """The parsed body; raises ValueError when it is not JSON."""
        if self._parsed is _NO_JSON:
            raise ValueError("response body is not JSON")
        return self._parsed

    @property
    def error(self) -> ApiError | None:
        """The one parser of `{code, msg}`: None unless the body is a JSON object; a boolean is not a code."""
        body = self._parsed
        if not isinstance(body, dict):
            return None
        code, msg = body.get("code"), body.get("msg")
        return ApiError(code if isinstance(code, int) and not isinstance(code, bool) else None,
                        msg if isinstance(msg, str) else None)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class Exchange:
    """A request, its response, and the contract operation it belongs to (if known)."""

    request: Request
    response: Response
    operation: Operation | None = None

    @property
    def operation_id(self) -> str:
        return self.operation.id if self.operation else ""

    @classmethod
    def from_httpx(cls, response: httpx.Response, operation: Operation | None = None) -> Exchange:
        req = response.request
        request = Request(
            method=req.method,
            url=str(req.url),
            headers={k.lower(): v for k, v in req.headers.items()},
            body=req.content if hasattr(req, "_content") else b"",
        )
        elapsed = response.elapsed.total_seconds() * 1000 if response.is_closed else 0.0
        resp = Response(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=response.content,
            elapsed_ms=elapsed,
        )
        return cls(request, resp, operation)
