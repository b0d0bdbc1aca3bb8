"""Each documented failure message gets its documented handling: bounded retries, recorded; unknown outcomes
are reconciled by clientOrderId and never resubmitted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from conformance.data import catalogue
from conformance.data.exceptions import TargetUnavailable
from conformance.harness import retry

from .conftest import FakeClock, answer

Scripted = Callable[..., tuple[object, list[httpx.Request]]]
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.002",
         "price": "1000", "newClientOrderId": "fcunit-1"}


def message(rule_id: str) -> str:
    return catalogue.default()[rule_id].messages[0]


def fault(rule_id: str, status: int = 503, code: int = -1001) -> httpx.Response:
    return answer(status, {"code": code, "msg": message(rule_id)})


def script(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """Answer with each response in turn, repeating the last; a fresh copy each time (httpx reads it once)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        r = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(r.status_code, headers=r.headers, stream=httpx.ByteStream(r.read()))

    return handler


def test_service_unavailable_is_retried_with_200_400_800_ms_backoff(scripted: Scripted, clock: FakeClock) -> None:
    client, seen = scripted(script(*[fault("errors.503-service-unavailable")] * 2, answer(200, {"serverTime": 1})))
    ex = client.call("GET", "/fapi/v1/time")  # type: ignore[attr-defined]
    assert ex.response.status == 200 and len(seen) == 3
    assert clock.slept == [0.2, 0.4]
    assert [r.outcome for r in client.retries] == ["retried", "retried"]  # type: ignore[attr-defined]


def test_service_unavailable_gives_up_after_four_tries_as_unavailable(scripted: Scripted, clock: FakeClock) -> None:
    client, seen = scripted(script(fault("errors.503-service-unavailable")))
    with pytest.raises(TargetUnavailable, match="after 4 tries"):
        client.call("GET", "/fapi/v1/time")  # type: ignore[attr-defined]
    assert len(seen) == 4 and clock.slept == [0.2, 0.4, 0.8]
    assert client.retries[-1].outcome == "gave up"  # type: ignore[attr-defined]


def test_internal_error_may_be_retried_at_once(scripted: Scripted, clock: FakeClock) -> None:
    client, seen = scripted(script(fault("errors.503-internal-error"), answer(200, {})))
    client.call("GET", "/fapi/v1/time")  # type: ignore[attr-defined]
    assert len(seen) == 2 and clock.slept == [0.0]


def test_throttled_backs_off_and_lowers_concurrency(scripted: Scripted, clock: FakeClock) -> None:
    client, seen = scripted(script(fault("errors.503-throttled", code=-1008), answer(200, {"orderId": 1})))
    gov = client.governor  # type: ignore[attr-defined]
    before, orders_before = gov.max_in_flight, gov.max_throttled_in_flight
    client.call("POST", "/fapi/v1/order", ORDER)  # type: ignore[attr-defined]
    assert len(seen) == 2 and clock.slept == [0.5]
    assert (gov.max_in_flight, gov.max_throttled_in_flight) == (before // 2, orders_before // 2)


def test_each_retry_is_signed_again_with_a_fresh_timestamp(scripted: Scripted, clock: FakeClock) -> None:
    client, seen = scripted(script(fault("errors.503-service-unavailable"), answer(200, {})))
    stamps = iter(range(1_700_000_000_000, 1_700_000_001_000, 250))
    client.local_time_ms = lambda: next(stamps)  # type: ignore[attr-defined]
    client.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": 1})  # type: ignore[attr-defined]
    queries = [dict(parse_qsl(urlsplit(str(r.url)).query)) for r in seen]
    assert [q["timestamp"] for q in queries] == ["1700000000000", "1700000000250"]
    assert queries[0]["signature"] != queries[1]["signature"]


def test_unknown_error_is_retried_later_for_a_read(scripted: Scripted, clock: FakeClock) -> None:
    client, seen = scripted(script(fault("errors.unknown-error-retry", status=500, code=-1000), answer(200, {})))
    client.call("GET", "/fapi/v1/time")  # type: ignore[attr-defined]
    assert len(seen) == 2 and clock.slept == [1.0]


def test_unknown_error_on_an_order_is_looked_up_before_any_resubmission(scripted: Scripted) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return fault("errors.unknown-error-retry", status=500, code=-1000)
        return answer(200, {"orderId": 7, "status": "NEW", "clientOrderId": "fcunit-1"})

    client, seen = scripted(handler)
    with pytest.raises(TargetUnavailable):
        client.call("POST", "/fapi/v1/order", ORDER)  # type: ignore[attr-defined]
    assert [r.method for r in seen] == ["POST", "GET"]  # it was there: never sent twice


def test_unknown_status_503_is_reconciled_by_client_order_id_and_never_resubmitted(scripted: Scripted,
                                                                                  clock: FakeClock) -> None:
    lookups = iter([answer(400, {"code": -2013, "msg": "Order does not exist."}),
                    answer(200, {"orderId": 42, "status": "NEW", "clientOrderId": "fcunit-1"})])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return fault("errors.503-unknown-status", code=-1006)
        return next(lookups)

    client, seen = scripted(handler)
    with pytest.raises(TargetUnavailable, match=r"outcome unknown.*found NEW orderId 42 after 2 lookup"):
        client.call("POST", "/fapi/v1/order", ORDER)  # type: ignore[attr-defined]
    assert [r.method for r in seen] == ["POST", "GET", "GET"]
    assert "origClientOrderId=fcunit-1" in str(seen[1].url)
    finding = client.unknown_outcomes[0]  # type: ignore[attr-defined]
    assert (finding.found, finding.order_id) == (True, 42)


def test_unknown_status_lookup_is_bounded_and_reports_not_found(scripted: Scripted, clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return fault("errors.503-unknown-status", code=-1006)
        return answer(400, {"code": -2013, "msg": "Order does not exist."})  # built afresh on every call

    client, seen = scripted(handler)
    with pytest.raises(TargetUnavailable, match="not found"):
        client.call("POST", "/fapi/v1/order", ORDER)  # type: ignore[attr-defined]
    assert [r.method for r in seen].count("POST") == 1 and len(seen) == 1 + 5
    assert clock.slept == [0.2] * 4


def test_a_fault_test_sees_the_raw_answer_without_retry(scripted: Scripted) -> None:
    client, seen = scripted(script(fault("errors.503-service-unavailable")))
    ex = client.call("GET", "/fapi/v1/time", allow_faults=True)  # type: ignore[attr-defined]
    assert ex.response.status == 503 and len(seen) == 1 and client.retries == []  # type: ignore[attr-defined]


def test_every_retry_is_in_the_run_journal(scripted: Scripted) -> None:
    client, _ = scripted(script(fault("errors.503-internal-error"), answer(200, {})))
    client.call("GET", "/fapi/v1/time")  # type: ignore[attr-defined]
    journal = client.journal  # type: ignore[attr-defined]
    assert journal.retries == client.retries != []  # type: ignore[attr-defined]
    assert "internal-error" in journal.retries[-1].line()


def test_both_documented_forms_of_the_throttle_message_are_recognised() -> None:
    assert len(catalogue.default()["errors.503-throttled"].messages) == 2
    assert {p.kind for p in retry.POLICIES} == {"service-unavailable", "internal-error", "throttled",
                                                 "unknown-error"}


def test_order_placement_takes_one_of_the_order_slots(scripted: Scripted, clock: FakeClock) -> None:
    """-1008's concurrency limit covers order placement (`x-throttled` in the spec), not the other requests."""
    client, _ = scripted(script(answer(200, {"orderId": 1}), answer(200, {})))
    gov = client.governor  # type: ignore[attr-defined]
    kinds: list[bool] = []
    original = gov.slot

    def slot(*, throttled: bool = False) -> Any:
        kinds.append(throttled)
        return original(throttled=throttled)

    gov.slot = slot
    client.call("POST", "/fapi/v1/order", ORDER)  # type: ignore[attr-defined]
    client.call("GET", "/fapi/v1/time")  # type: ignore[attr-defined]
    assert kinds == [True, False]
