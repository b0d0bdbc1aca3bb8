"""The named mutations: each breaks (or, for the conforming ones, merely varies) one documented behaviour."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from conformance.data import catalogue
from conformance.harness.targets import MOCK_DEFAULT_SECRET

from .proxy import Answer, MutantProxy, Mutation, Outgoing

HTML = b"<html><body><h1>OK</h1></body></html>"
NON_JSON_PATHS = ("/fapi/v1/time", "/fapi/v1/ticker/price")
TIME_ORDERED_PATHS = ("/fapi/v1/klines", "/fapi/v1/trades", "/fapi/v1/aggTrades", "/fapi/v1/fundingRate",
                      "/fapi/v1/income", "/fapi/v1/allOrders", "/fapi/v1/userTrades", "/fapi/v1/openOrders")
EXTRA_FIELD = "zzUndocumentedField"


def _json(answer: Answer) -> Any:
    try:
        return json.loads(answer.body)
    except ValueError:
        return None


def _with(answer: Answer, body: Any) -> Answer:
    return Answer(answer.status, answer.headers, json.dumps(body, separators=(",", ":")).encode())


def _on_json(change: Callable[[Outgoing, Answer, Any], Any]) -> Callable[[Outgoing, Answer], Answer]:
    """A response hook that rewrites the parsed body (non-JSON answers pass untouched)."""

    def hook(out: Outgoing, answer: Answer) -> Answer:
        body = _json(answer)
        if body is None:
            return answer
        changed = change(out, answer, body)
        return answer if changed is body else _with(answer, changed)

    return hook


def _deep(value: Any, on_dict: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    if isinstance(value, dict):
        return on_dict({k: _deep(v, on_dict) for k, v in value.items()})
    return [_deep(v, on_dict) for v in value] if isinstance(value, list) else value


def _non_json(out: Outgoing, answer: Answer) -> Answer:
    if out.path not in NON_JSON_PATHS:
        return answer
    return Answer(answer.status, {**answer.headers, "content-type": "text/html; charset=utf-8"}, HTML)


def _reversed(out: Outgoing, answer: Answer, body: Any) -> Any:
    return body[::-1] if out.path in TIME_ORDERED_PATHS and isinstance(body, list) and len(body) > 1 else body


def _seconds(out: Outgoing, answer: Answer, body: Any) -> Any:
    if out.path == "/fapi/v1/time" and isinstance(body, dict) and isinstance(body.get("serverTime"), int):
        return {**body, "serverTime": body["serverTime"] // 1000}
    return body


def _msg_renamed(out: Outgoing, answer: Answer, body: Any) -> Any:
    if answer.status >= 400 and isinstance(body, dict) and "msg" in body:
        return {("message" if k == "msg" else k): v for k, v in body.items()}
    return body


def _drifted(out: Outgoing, answer: Answer, body: Any) -> Any:
    """One word of every 503 message changed ("Service Unavailable." → "Services Unavailable.")."""
    if answer.status == 503 and isinstance(body, dict) and isinstance(body.get("msg"), str):
        first, _, rest = body["msg"].partition(" ")
        return {**body, "msg": f"{first}s {rest}".rstrip()}
    return body


def _missing_field(out: Outgoing, answer: Answer, body: Any) -> Any:
    drop = {"/fapi/v1/openInterest": "symbol", "/fapi/v1/time": "serverTime"}.get(out.path)
    if drop is None or answer.status != 200:
        return body
    return _deep(body, lambda d: {k: v for k, v in d.items() if k != drop})


def _without_weight_header(out: Outgoing, answer: Answer) -> Answer:
    return Answer(answer.status, {k: v for k, v in answer.headers.items()
                                  if k.lower() != "x-mbx-used-weight-1m"}, answer.body)


def _pairs(raw: str) -> list[str]:
    return [p for p in raw.split("&") if p]


def _secret() -> str:
    return os.environ.get("ZTDX_API_SECRET") or MOCK_DEFAULT_SECRET


def _resign(out: Outgoing) -> None:
    """Replace the request's signature with a valid one over what is actually forwarded."""
    query = [p for p in _pairs(out.query) if not p.startswith("signature=")]
    body = "&".join(p for p in _pairs(out.body.decode("latin-1")) if not p.startswith("signature="))
    signature = hmac.new(_secret().encode(), ("&".join(query) + body).encode(), hashlib.sha256).hexdigest()
    out.query = "&".join([*query, f"signature={signature}"])
    out.body = body.encode("latin-1")


def _signed(out: Outgoing) -> bool:
    return "signature=" in out.query or b"signature=" in out.body


async def _body_wins(out: Outgoing, proxy: MutantProxy) -> Answer | None:
    """Where a name is in both the query and the form body, the body's value is the one forwarded."""
    if out.method == "GET" or "x-www-form-urlencoded" not in out.headers.get("content-type", ""):
        return None
    in_body = {k for k, _ in parse_qsl(out.body.decode("latin-1"))} - {"signature"}
    kept = [p for p in _pairs(out.query) if p.split("=", 1)[0] not in in_body]
    if len(kept) != len(_pairs(out.query)):
        out.query = "&".join(kept)
        if _signed(out):
            _resign(out)
    return None


async def _signature_ignored(out: Outgoing, proxy: MutantProxy) -> Answer | None:
    if out.is_fapi and _signed(out):
        _resign(out)
    return None


async def _throttles_reduce_only(out: Outgoing, proxy: MutantProxy) -> Answer | None:
    if (out.method, out.path) != ("POST", "/fapi/v1/order"):
        return None
    params = dict(parse_qsl(out.body.decode("latin-1"))) | dict(parse_qsl(out.query))
    if params.get("reduceOnly", "").lower() != "true":
        return None
    if not (await proxy.http.get("/__mock__/throttle")).json().get("throttle"):
        return None
    msg = catalogue.default()["errors.503-throttled"].messages[0]
    return Answer(503, {"content-type": "application/json"}, json.dumps({"code": -1008, "msg": msg}).encode())


def _reordered(out: Outgoing, answer: Answer, body: Any) -> Any:
    return _deep(body, lambda d: dict(reversed(list(d.items()))))


def _extra_fields(out: Outgoing, answer: Answer, body: Any) -> Any:
    return _deep(body, lambda d: {**d, EXTRA_FIELD: "a conforming addition"})


MUTATIONS = {m.name: m for m in (
    Mutation("non-json-body", response=_non_json),
    Mutation("reversed-time-order", response=_on_json(_reversed)),
    Mutation("timestamps-in-seconds", response=_on_json(_seconds)),
    Mutation("msg-renamed-message", response=_on_json(_msg_renamed)),
    Mutation("body-wins-over-query", request=_body_wins),
    Mutation("503-text-drift", response=_on_json(_drifted)),
    Mutation("1008-on-reduce-only", request=_throttles_reduce_only),
    Mutation("required-field-missing", response=_on_json(_missing_field)),
    Mutation("wrong-signature-accepted", request=_signature_ignored),
    Mutation("no-used-weight-header", response=_without_weight_header),
    Mutation("keys-reordered", response=_on_json(_reordered)),
    Mutation("extra-unknown-fields", response=_on_json(_extra_fields)),
)}
