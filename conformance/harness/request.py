"""A request as the client will send it, before signing: its parameters, where they sit, and what it weighs."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from conformance.data.contract import Operation

Params = Mapping[str, Any] | Sequence[tuple[str, Any]]


def pairs(params: Params | None) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else (params or [])
    return [(str(k), _text(v)) for k, v in items if v is not None]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _plain(pairs: Sequence[tuple[str, str]]) -> bool:
    """Every name once, every value printable ASCII: parameters any target reads as sent."""
    names = [k for k, _ in pairs]
    return len(names) == len(set(names)) and all(v.isascii() and v.isprintable() for _, v in pairs)


def _content_params(content: bytes | None) -> dict[str, str]:
    """The parameters a raw body carries, read as a form or a JSON object ({} when it is neither)."""
    if not content:
        return {}
    try:
        text = content.decode()
    except UnicodeDecodeError:
        return {}
    if text.lstrip().startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in obj.items()} if isinstance(obj, dict) else {}
    return dict(parse_qsl(text, keep_blank_values=True))


@dataclass(frozen=True)
class Prepared:
    """A request before signing: signed again on every try, so a retry never reuses a stale timestamp."""

    method: str
    path: str
    operation: Operation | None
    query: list[tuple[str, str]]
    body: list[tuple[str, str]]
    signed: bool
    headers: dict[str, str | None]
    content: bytes | None
    content_type: str | None

    def params(self) -> dict[str, str]:
        return dict(self.body) | dict(self.query)

    def weight(self) -> int:
        """What the target will count for this request. Where parameters sit is itself under test (a GET with its
        parameters in the body, a hand-encoded payload): a target that reads the query only weighs a GET without
        its body's `symbol` or `limit` (40 for openOrders instead of 1), one that merges them weighs the merged
        set, and one that cannot read them (a repeated name, a value that is not plain text: generated negative
        cases) weighs it as if none were sent; the budget pays the largest."""
        op = self.operation
        if op is None:
            return 1
        body = dict(self.body) | _content_params(self.content)
        weights = [op.weight(body | dict(self.query)), op.weight(dict(self.query))]
        if not (_plain(self.query) and _plain(self.body)) or (self.content and not _content_params(self.content)):
            weights.append(op.weight({}))
        return max(weights)

    @property
    def creates_orders(self) -> bool:
        """An order-placing operation (x-order-count in the spec): counted, never resubmitted blind."""
        return self.operation is not None and self.operation.counts_orders
