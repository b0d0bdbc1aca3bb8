"""Whole-target variants: wrong everywhere (garbage, throttled cancels, a partial server) or conforming in odd ways."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

from .proxy import Answer, MutantProxy, Mutation, Outgoing

# The five operations a small third-party Binance-perpetual mock serves; everything else is a 404, as on such servers.
PARTIAL_PATHS = {"/fapi/v1/ping": "GET", "/fapi/v1/time": "GET", "/fapi/v1/exchangeInfo": "GET",
                 "/fapi/v1/klines": "GET", "/fapi/v1/ticker/price": "GET"}
CANCELS = {("DELETE", "/fapi/v1/order"), ("DELETE", "/fapi/v1/batchOrders"), ("DELETE", "/fapi/v1/allOpenOrders")}
THROTTLED_MSG = ("Request throttled by system-level protection. Reduce-only/close-position orders are exempt. "
                 "Please try again.")
GARBAGE = (
    (200, "text/html; charset=utf-8", b"<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>"),
    (200, "application/json", b""),
    (200, "application/json", b'{"serverTime": 17'),
    (502, "text/html", b"<html><body>upstream error</body></html>"),
    (200, "text/plain", b"OK"),
)
MS_FLOOR, MS_CEILING = 1_420_070_400_000, int(time.time() * 1000) + 400 * 86_400_000


def _json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, {"content-type": "application/json", **(headers or {})}, json.dumps(body).encode())


async def _partial(out: Outgoing, proxy: MutantProxy) -> Answer | None:
    """Only the five paths exist; the control API does not (a third-party server has none)."""
    method = PARTIAL_PATHS.get(out.path)
    if method is None:
        return _json_answer(404, {"code": -1000, "msg": "Not Found"})
    if out.method != method:
        return _json_answer(405, {"code": -1000, "msg": "Method Not Allowed"}, {"allow": method})
    return None


def _garbage(out: Outgoing, answer: Answer) -> Answer:
    """Every fapi answer is replaced by one of a few kinds of garbage, chosen by the request line."""
    status, ctype, body = GARBAGE[sum(f"{out.method} {out.path}".encode()) % len(GARBAGE)]
    return Answer(status, {"content-type": ctype}, body)


async def _throttled_cancels(out: Outgoing, proxy: MutantProxy) -> Answer | None:
    if (out.method, out.path) in CANCELS:
        return _json_answer(503, {"code": -1008, "msg": THROTTLED_MSG})
    return None


def _rewrite_json(out: Outgoing, answer: Answer, change: Any) -> Answer:
    try:
        body = json.loads(answer.body)
    except ValueError:
        return answer
    return Answer(answer.status, answer.headers, json.dumps(change(body), separators=(",", ":")).encode())


def _server_time_string(out: Outgoing, answer: Answer) -> Answer:
    def change(body: Any) -> Any:
        if out.path == "/fapi/v1/time" and isinstance(body, dict) and "serverTime" in body:
            return {**body, "serverTime": str(body["serverTime"])}
        return body

    return _rewrite_json(out, answer, change)


def _errors_as_200(out: Outgoing, answer: Answer) -> Answer:
    """Breaks http.4xx-invalid-request: every refusal of a bad request comes back as HTTP 200, body unchanged."""
    return Answer(200, answer.headers, answer.body) if 400 <= answer.status < 500 else answer


def _without_order_symbol(out: Outgoing, answer: Answer) -> Answer:
    """Breaks schema.newOrder and the other order answers: order objects lose `symbol` (the spec requires it)."""
    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict) and "orderId" in value and "clientOrderId" in value:
            return {k: v for k, v in value.items() if k != "symbol"}
        return value

    return _rewrite_json(out, answer, strip) if answer.status == 200 else answer


def _unavailable(out: Outgoing, answer: Answer) -> Answer:
    """A target that is down behind a live front: every fapi answer but the clock is the documented 503."""
    if out.path == "/fapi/v1/time":
        return answer
    return Answer(503, {"content-type": "application/json"},
                  json.dumps({"code": -1001, "msg": "Service Unavailable."}).encode())


def _wrong_types_read(out: Outgoing, answer: Answer) -> Answer:
    """Wrong JSON types in fields the fixtures read, still unambiguous (filters and mark price as numbers, orderId as
    a digit string): the run reads them tolerantly; only general.java-types / schema.* (not in its slice) may fail."""
    def change(body: Any) -> Any:
        if out.path == "/fapi/v1/exchangeInfo" and isinstance(body, dict):
            for symbol in body.get("symbols", []):
                symbol["filters"] = [{k: (float(v) if k in ("tickSize", "stepSize", "notional") else v)
                                      for k, v in f.items()} for f in symbol.get("filters", [])]
        if out.path == "/fapi/v1/premiumIndex" and isinstance(body, dict) and "markPrice" in body:
            body["markPrice"] = float(body["markPrice"])
        if out.path == "/fapi/v1/order" and isinstance(body, dict) and "orderId" in body:
            body["orderId"] = str(body["orderId"])
        return body

    return _rewrite_json(out, answer, change)


def _unusable_mark_price(out: Outgoing, answer: Answer) -> Answer:
    """A mark price nothing can read ("n/a"): the order tests cannot build a safe price, so they are not tested."""
    def change(body: Any) -> Any:
        if out.path == "/fapi/v1/premiumIndex" and isinstance(body, dict) and "markPrice" in body:
            return {**body, "markPrice": "n/a"}
        return body

    return _rewrite_json(out, answer, change)


def _gzip(out: Outgoing, answer: Answer) -> Answer:
    """Conforming: every body gzip-compressed with Content-Encoding, as CDNs do."""
    if not answer.body:
        return answer
    return Answer(answer.status, {**answer.headers, "content-encoding": "gzip"}, gzip.compress(answer.body))


def _no_retry_after(out: Outgoing, answer: Answer) -> Answer:
    """Conforming with the MUST rules: 429/418 without Retry-After (only the SHOULD rule limits.retry-after asks)."""
    return Answer(answer.status, {k: v for k, v in answer.headers.items() if k.lower() != "retry-after"}, answer.body)


def _whole_seconds(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _whole_seconds(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_seconds(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and MS_FLOOR <= value <= MS_CEILING:
        return value // 1000 * 1000
    return value


def _rounded_times(out: Outgoing, answer: Answer) -> Answer:
    """Conforming: every time is a whole second, still written in milliseconds."""
    return _rewrite_json(out, answer, _whole_seconds)


TARGETS = {m.name: m for m in (
    Mutation("partial-five-endpoints", request=_partial),
    Mutation("garbage-everywhere", response=_garbage),
    Mutation("throttled-cancels", request=_throttled_cancels),
    Mutation("503-everywhere", response=_unavailable),
    Mutation("wrong-types-read", response=_wrong_types_read),
    Mutation("unusable-mark-price", response=_unusable_mark_price),
    Mutation("server-time-string", response=_server_time_string),
    Mutation("errors-as-200", response=_errors_as_200),
    Mutation("order-without-symbol", response=_without_order_symbol),
    Mutation("gzip-bodies", response=_gzip),
    Mutation("no-retry-after", response=_no_retry_after),
    Mutation("whole-second-times", response=_rounded_times),
)}
