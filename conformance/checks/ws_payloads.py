"""WebSocket checks of what the events carry and when: payloads against `fixtures/asyncapi.yaml` (jsonschema
validates an event's payload against its message), order book levels, millisecond times, ascending order, cadences
(with the document's tolerance). Pure functions of one `Transcript`, as in ws.py."""

from __future__ import annotations

import statistics
import time
from decimal import Decimal, InvalidOperation
from functools import cache
from itertools import pairwise
from typing import Any

import jsonschema_rs  # a dependency of schemathesis, as in contract.py
from jsonschema import Draft202012Validator

from conformance.checks import scenario
from conformance.checks.general import _ms_problem, _named_values
from conformance.checks.ws import _fail, _judge
from conformance.data.wscontract import AsyncApi
from conformance.data.wsframes import Frame, Transcript

TIME_KEYS = frozenset({"timestamp", "time", "E", "T", "open_time", "close_time", "openTime", "closeTime",
                       "updateTime", "update_time", "transactTime", "serverTime"})


def _inline(schema: Any, root: dict[str, Any]) -> Any:
    """The schema with its local $refs replaced by their targets (the document has no recursive schema): resolving
    them once, not per value, makes validation ~50x cheaper."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part]
            return _inline(target, root)
        return {k: _inline(v, root) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v, root) for v in schema]
    return schema


@cache
def _validators(api: AsyncApi, message: str) -> tuple[Any, Draft202012Validator]:
    """jsonschema-rs for the verdict (fast), jsonschema for the message of an invalid payload (precise), as for REST."""
    schema = _inline(api.payload(message), api.document)
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=False), Draft202012Validator(schema)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        return None


# -- payloads -------------------------------------------------------------------------------------------------
@scenario("ws.ticker-payload", "ws.orderbook-levels")
def payload_matches(transcript: Transcript, api: AsyncApi, message: str, rule_id: str) -> None:
    """The payload of every `message` event validates against its schema in the AsyncAPI document."""
    events = transcript.events(message)
    if not events:
        return
    _judge(rule_id, transcript)
    fast, validator = _validators(api, message)
    for frame in events:
        if fast.is_valid(frame.payload):
            continue
        # a time's unit is ws.millisecond-timestamps' to judge: one cause, one verdict
        errors = [e for e in validator.iter_errors(frame.payload)
                  if not (e.absolute_path and e.absolute_path[-1] in TIME_KEYS)]
        error = next(iter(sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])), None)
        if error is not None:
            where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            raise _fail(rule_id, transcript, f"a {message} payload as fixtures/asyncapi.yaml describes it",
                        f"event at +{frame.at:.3f}s: {where}: {error.message[:200]}")


@scenario("ws.orderbook-levels")
def orderbook_levels(transcript: Transcript, api: AsyncApi) -> None:
    """ws.orderbook-levels: the schema (≤ 20 {price, size} levels a side), then bids strictly descending, asks
    strictly ascending, and the best bid below the best ask."""
    payload_matches(transcript, api, "orderbook", "ws.orderbook-levels")
    for frame in transcript.events("orderbook"):
        book = frame.payload
        for side, descending in (("bids", True), ("asks", False)):
            prices = [_decimal(level.get("price")) for level in book.get(side, []) if isinstance(level, dict)]
            for i in range(1, len(prices)):
                a, b = prices[i - 1], prices[i]
                if a is not None and b is not None and (a <= b if descending else a >= b):
                    order = "descending" if descending else "ascending"
                    raise _fail("ws.orderbook-levels", transcript, f"{side} strictly {order} by price (best first)",
                                f"event at +{frame.at:.3f}s: {side}[{i - 1}].price {a} then {side}[{i}].price {b}")
        bids, asks = book.get("bids") or [], book.get("asks") or []
        best_bid = _decimal(bids[0].get("price")) if bids and isinstance(bids[0], dict) else None
        best_ask = _decimal(asks[0].get("price")) if asks and isinstance(asks[0], dict) else None
        if best_bid is not None and best_ask is not None and best_bid >= best_ask:
            raise _fail("ws.orderbook-levels", transcript, "the best bid below the best ask",
                        f"event at +{frame.at:.3f}s: best bid {best_bid} >= best ask {best_ask} (a crossed book)")


# -- times ----------------------------------------------------------------------------------------------------
def _timed_frames(transcript: Transcript) -> list[tuple[Frame, Any]]:
    """Events and WebSocket-API results with the values to search for times in (kline rows: index 0 and 6)."""
    found: list[tuple[Frame, Any]] = []
    for frame in transcript.received:
        if frame.is_event:
            found.append((frame, frame.payload))
        elif "result" in frame.obj:
            result = frame.obj["result"]
            rows = result if isinstance(result, list) else []
            kline_rows = [r for r in rows if isinstance(r, list) and len(r) > 6]
            found.append((frame, [{"openTime": r[0], "closeTime": r[6]} for r in kline_rows] or result))
    return found


@scenario("ws.millisecond-timestamps")
def millisecond_timestamps(transcript: Transcript) -> None:
    """ws.millisecond-timestamps: every time value in events and results is UNIX milliseconds."""
    timed = [(f, p, v) for f, value in _timed_frames(transcript) for p, v in _named_values(value, TIME_KEYS)]
    if not timed:
        return
    _judge("ws.millisecond-timestamps", transcript)
    now_ms = int(time.time() * 1000)
    for frame, path, value in timed:
        problem = _ms_problem(value, now_ms)
        if problem:
            raise _fail("ws.millisecond-timestamps", transcript,
                        ["an integer of UNIX milliseconds between 2015-01-01 and now + 400 days", "0 (never set)"],
                        f"{frame.type or 'result'} at +{frame.at:.3f}s: {path}: {problem}")


def _element_time(element: Any) -> Any:
    if isinstance(element, list) and element:
        return element[0]  # a kline row: [openTime, open, high, low, close, ...]
    if isinstance(element, dict):
        for key in ("open_time", "openTime", "time", "timestamp", "T"):
            if key in element:
                return element[key]
    return None


@scenario("ws.ascending-time-order")
def ascending_time_order(transcript: Transcript) -> None:
    """ws.ascending-time-order: the arrays of snapshots (kline_snapshot) and of array results, earliest first."""
    arrays = [(f, f.payload) for f in transcript.events("kline_snapshot") if isinstance(f.payload, list)]
    arrays += [(f, f.obj["result"]) for f in transcript.received if isinstance(f.obj.get("result"), list)]
    timed = [(f, [t for t in map(_element_time, a) if isinstance(t, int | float)]) for f, a in arrays]
    timed = [(f, t) for f, t in timed if len(t) > 1]
    if not timed:
        return
    _judge("ws.ascending-time-order", transcript)
    for frame, times in timed:
        for i in range(1, len(times)):
            if times[i] < times[i - 1]:
                raise _fail("ws.ascending-time-order", transcript, "elements non-decreasing by time (earliest first)",
                            f"{frame.type or 'result'} at +{frame.at:.3f}s: [{i - 1}] = {times[i - 1]} comes "
                            f"before [{i}] = {times[i]}")


@scenario("ws.cadence")
def cadence(transcript: Transcript, channel: str, message: str, api: AsyncApi, minimum_events: int = 4) -> None:
    """ws.cadence: the median interval between a channel's events is at most its documented cadence, plus the
    tolerance. Fewer than `minimum_events` events judge nothing (the test says "not tested")."""
    documented = api.cadence_ms(message)
    times = [f.at for f in transcript.events(message, channel)]
    if documented is None or len(times) < minimum_events:
        return
    _judge("ws.cadence", transcript)
    median_ms = statistics.median(b - a for a, b in pairwise(times)) * 1000
    allowed = documented * (1 + api.cadence_tolerance)
    if median_ms > allowed:
        raise _fail("ws.cadence", transcript,
                    f"{channel}: a median interval of at most {documented} ms (+{api.cadence_tolerance:.0%})",
                    f"{channel}: median interval {median_ms:.0f} ms over {len(times)} events")
