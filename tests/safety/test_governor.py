"""The governor keeps a run inside its budget by pacing, reconciles with the server's counters, and never sends
during a Retry-After."""

from __future__ import annotations

import pytest

from conformance.data.exceptions import TargetUnavailable
from conformance.data.exchange import Exchange, Request, Response
from conformance.harness.governor import CIRCUIT_FAILURES, RETRY_AFTER_MARGIN, Governor

from .conftest import FakeClock


def exchange(status: int = 200, **headers: str) -> Exchange:
    return Exchange(Request("GET", "http://127.0.0.1:9/fapi/v1/time"),
                    Response(status, {k.replace("_", "-").lower(): v for k, v in headers.items()}, b"{}"))


def governor(clock: FakeClock, **kwargs: object) -> Governor:
    return Governor(clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


def test_default_budget_is_half_the_documented_weight_and_order_limits(clock: FakeClock) -> None:
    gov = governor(clock)
    assert (gov.weight_budget, gov.order_budget, gov.order_budget_10s) == (1200, 600, 150)


def test_requests_inside_the_budget_are_sent_without_waiting(clock: FakeClock) -> None:
    gov = governor(clock)
    for _ in range(1200):
        gov.acquire(1)
    assert clock.slept == [] and gov.peak_weight == 1200


def test_a_request_over_the_budget_waits_for_the_window_instead_of_failing(clock: FakeClock) -> None:
    gov = governor(clock, share=0.01)  # 24 weight per minute
    start = clock.now
    for _ in range(30):
        gov.acquire(1)
    assert clock.now - start == pytest.approx(60.0)
    assert gov.peak_weight <= gov.weight_budget == 24
    assert gov.waits >= 1 and gov.stats()["paced_seconds"] == pytest.approx(60.0)


def test_the_peak_never_exceeds_the_budget_with_mixed_weights(clock: FakeClock) -> None:
    gov = governor(clock, share=0.05)  # 120 per minute
    for weight in [1, 5, 40, 10, 20, 1, 40, 5] * 10:
        gov.acquire(weight)
        clock.now += 0.3
    assert gov.peak_weight <= 120


def test_the_used_weight_kept_is_the_window_s_sum_through_expiry_and_reconciling(clock: FakeClock) -> None:
    """The used weight is kept as entries come and go (it is read at every admission), never summed afresh."""
    gov = governor(clock, share=0.05)  # 120 per minute
    for step, weight in enumerate([1, 5, 40, 10, 20, 1, 40, 5] * 12):
        gov.acquire(weight)
        if step % 7 == 0:
            gov.observe(exchange(x_mbx_used_weight_1m=str(gov.used_weight() + 3)))  # traffic we never saw
        clock.now += 2.5
        assert gov.used_weight() == sum(w for t, w in gov._weights if clock.now - t < gov.window + gov.slack)
    gov._set_windows([(clock.now, 7), (clock.now, 9)], [])  # as a shared budget loads the run's ledger
    assert gov.used_weight() == 16


def test_the_server_used_weight_header_is_taken_when_it_is_higher(clock: FakeClock) -> None:
    gov = governor(clock, share=0.01)  # 24
    gov.acquire(1)
    gov.observe(exchange(x_mbx_used_weight_1m="20"))  # others on this IP spent 19 we never saw
    assert gov.used_weight() == 20
    for _ in range(4):
        gov.acquire(1)
    assert clock.slept == []
    gov.acquire(1)  # the 25th unit of the window must wait
    assert clock.slept and gov.reconciled == 1


def test_a_used_weight_reported_outside_a_header_is_reconciled_the_same_way(clock: FakeClock) -> None:
    gov = governor(clock, share=0.01)  # 24
    gov.acquire(1)
    gov.note_server_weight(20)  # a WebSocket-API answer's rateLimits count
    assert gov.used_weight() == 20 and gov.reconciled == 1 and gov.peak_server_weight == 20
    gov.note_server_weight(5)  # lower: our own count stands
    assert gov.used_weight() == 20 and gov.reconciled == 1


def test_a_lower_server_figure_never_lowers_the_local_count(clock: FakeClock) -> None:
    gov = governor(clock)
    for _ in range(10):
        gov.acquire(1)
    gov.observe(exchange(x_mbx_used_weight_1m="3"))
    assert gov.used_weight() == 10


def test_order_count_headers_pace_new_orders(clock: FakeClock) -> None:
    gov = governor(clock, share=0.01)  # 12 orders per minute, 3 per 10 s
    gov.acquire(0, orders=1)
    gov.observe(exchange(x_mbx_order_count_1m="12", x_mbx_order_count_10s="1"))
    gov.acquire(0, orders=1)
    assert clock.slept and clock.slept[0] == pytest.approx(60.0)


def test_the_ten_second_order_budget_is_kept(clock: FakeClock) -> None:
    gov = governor(clock, share=0.01)  # 3 orders per 10 s
    for _ in range(4):
        gov.acquire(0, orders=1)
    assert clock.slept == [pytest.approx(10.0)]


@pytest.mark.parametrize("status", [429, 418])
def test_nothing_is_sent_until_retry_after_has_passed(clock: FakeClock, status: int) -> None:
    gov = governor(clock)
    gov.acquire(1)
    gov.observe(exchange(status, retry_after="7"))
    with pytest.raises(TargetUnavailable, match="rate-limited") as info:
        gov.acquire(1)
    assert info.value.retry_after == pytest.approx(7 + RETRY_AFTER_MARGIN)
    clock.now += 7.0  # exactly Retry-After: a 418 is earned by sending at the boundary, so still blocked
    with pytest.raises(TargetUnavailable):
        gov.acquire(1)
    clock.now += RETRY_AFTER_MARGIN
    gov.acquire(1)
    assert gov.sent == 2 and (gov.throttled, gov.banned) == ((1, 0) if status == 429 else (0, 1))


def test_a_429_without_retry_after_blocks_for_a_minute(clock: FakeClock) -> None:
    gov = governor(clock)
    gov.observe(exchange(429))
    clock.now += 59.0
    with pytest.raises(TargetUnavailable):
        gov.acquire(1)


def test_repeated_transport_failures_open_the_circuit(clock: FakeClock) -> None:
    gov = governor(clock)
    for _ in range(CIRCUIT_FAILURES - 1):
        gov.note_transport_failure("ConnectError")
    gov.acquire(1)
    gov.note_transport_failure("ConnectError")
    with pytest.raises(TargetUnavailable, match="unreachable"):
        gov.acquire(1)


def test_concurrency_is_halved_down_to_one(clock: FakeClock) -> None:
    gov = governor(clock, max_in_flight=4)
    assert [gov.reduce_concurrency() for _ in range(3)] == [2, 1, 1]
    with gov.slot():
        assert gov._in_flight == 1


def test_order_placement_shares_fewer_slots_than_other_requests(clock: FakeClock) -> None:
    """-1008 limits concurrency on order placement only (`x-throttled`): 4 of those at once, 8 requests in all."""
    import contextlib
    import threading

    gov = governor(clock)
    assert (gov.max_in_flight, gov.max_throttled_in_flight) == (8, 4)
    with contextlib.ExitStack() as held:
        for _ in range(4):
            held.enter_context(gov.slot(throttled=True))
        fifth = threading.Thread(target=lambda: held.enter_context(gov.slot(throttled=True)), daemon=True)
        fifth.start()
        fifth.join(0.2)
        assert fifth.is_alive()  # a fifth order waits for a free order slot...
        for _ in range(3):
            held.enter_context(gov.slot())  # ...while other requests still go, up to 8 in all
        assert gov._in_flight == 7 and gov._throttled_in_flight == 4
    fifth.join(2)
    assert not fifth.is_alive()  # admitted once the orders' slots were let go


def test_a_throttled_answer_halves_both_kinds_of_slot(clock: FakeClock) -> None:
    gov = governor(clock)
    assert [gov.reduce_concurrency() for _ in range(4)] == [4, 2, 1, 1]
    assert gov.max_throttled_in_flight == 1


def test_waiting_out_a_block_is_bounded(clock: FakeClock) -> None:
    gov = governor(clock)
    gov.observe(exchange(429, retry_after="300"))
    assert gov.wait_until_unblocked(130) is False and clock.slept == []
    clock.now += 250
    assert gov.wait_until_unblocked(130) is True
    gov.acquire(1)


def test_a_window_entry_outlives_the_window_by_the_longest_round_trip(clock: FakeClock) -> None:
    """The server counts a request when it arrives, up to a round trip after admission: with round trips of up to
    2 s, a request over the budget waits 62 s, so an early slow request and a late fast one cannot share a server
    minute beyond the budget."""
    gov = governor(clock, share=0.01)  # 24 weight per minute
    slow = Exchange(Request("GET", "http://127.0.0.1:9/fapi/v1/time"), Response(200, {}, b"{}", elapsed_ms=2000.0))
    start = clock.now
    for _ in range(24):
        gov.acquire(1)
    gov.observe(slow)
    gov.acquire(1)
    assert clock.now - start == pytest.approx(62.0)
    assert gov.slack == pytest.approx(2.0)
