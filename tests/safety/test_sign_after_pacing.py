"""A request is signed after the governor's pacing wait, so a long wait never pushes its timestamp out of the
recvWindow (with the old order, `--conformance-budget` small enough earned false -1021 MUST failures)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from conformance.harness.governor import Governor

from .conftest import FakeClock, answer


def test_the_timestamp_is_taken_after_the_pacing_wait(scripted: Callable[..., tuple], clock: FakeClock) -> None:
    governor = Governor(share=0.001, clock=clock, sleep=clock.sleep)  # a budget of 2 weight per minute
    client, seen = scripted(lambda request: answer(200, {"dualSidePosition": False}), governor)
    client.local_time_ms = lambda: int(clock.now * 1000)  # the fake clock is the machine's clock here
    client.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "1"})
    client.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "2"})
    client.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "3"})  # waits for the window to roll
    assert clock.slept and sum(clock.slept) > 5.0, "the third request should have been paced"
    sent_at = [int(parse_qs(urlsplit(str(r.url)).query)["timestamp"][0]) for r in seen]
    # Signed when it left: its timestamp is the (fake) time after the wait, not the time it was asked for.
    assert sent_at[-1] >= int(clock.now * 1000) - 1 and sent_at[-1] - sent_at[0] > 5000


def test_the_client_never_follows_a_redirect() -> None:
    from conformance.harness.client import Client
    from conformance.harness.targets import SIGNED, Credentials, Target

    target = Target("unit", "http://127.0.0.1:9", "unknown", frozenset({SIGNED}), Credentials("k" * 16, "s" * 16))
    client = Client(target)
    try:
        assert client.http.follow_redirects is False
        assert isinstance(client.http, httpx.Client)
    finally:
        client.close()


def test_pace_now_pays_for_the_next_calls_once(scripted: Callable[..., tuple], clock: FakeClock) -> None:
    """A hand-signed request waits in pace_now (before it fixes its timestamp); the call itself then sends at once,
    and the budget counts each request once."""
    governor = Governor(share=0.001, clock=clock, sleep=clock.sleep)  # 2 weight per minute
    client, seen = scripted(lambda request: answer(200, {"dualSidePosition": False}), governor)
    params = {"symbol": "BTCUSDT", "orderId": "1"}
    client.call("GET", "/fapi/v1/order", params)
    client.call("GET", "/fapi/v1/order", params)
    client.pace_now("GET", "/fapi/v1/order", params, count=2)  # the budget is spent: this is where it waits
    waited = len(clock.slept)
    assert waited >= 1
    client.pace_now("GET", "/fapi/v1/order", params)  # already paid for: no second wait, no second charge
    client.call("GET", "/fapi/v1/order", params)
    client.call("GET", "/fapi/v1/order", params)
    assert len(clock.slept) == waited and governor.sent == 4 and len(seen) == 4
    client.call("GET", "/fapi/v1/order", params)  # the credits are used up: paced again
    assert len(clock.slept) > waited and governor.sent == 5


def test_a_request_pays_what_the_target_may_count_wherever_its_parameters_sit(scripted: Callable[..., tuple],
                                                                              clock: FakeClock) -> None:
    """A GET with its `symbol` in the body is weighed as the target that reads the query only weighs it (openOrders
    without a symbol: 40); in the query it weighs 1. A pace_now() credit paid for the query placement is topped up."""
    governor = Governor(share=1.0, clock=clock, sleep=clock.sleep)
    client, _ = scripted(lambda request: answer(200, []), governor)
    client.call("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"})
    assert governor.total_weight == 1
    client.call("GET", "/fapi/v1/openOrders", form={"symbol": "BTCUSDT"})
    assert governor.total_weight == 41
    client.call("GET", "/fapi/v1/openOrders", content=b"symbol=BTCUSDT", content_type="text/plain")
    assert governor.total_weight == 81
    client.pace_now("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"})  # paid 1
    client.call("GET", "/fapi/v1/openOrders", form={"symbol": "BTCUSDT"})  # weighs 40: 39 more
    assert governor.total_weight == 121
    client.call("GET", "/fapi/v1/openOrders", {"symbol": "\u00bf\u00a2\x14"})  # unreadable: weighed without it
    assert governor.total_weight == 161
    client.call("GET", "/fapi/v1/openOrders", [("symbol", "BTCUSDT"), ("symbol", "ETHUSDT")])  # a repeated name
    assert governor.total_weight == 201
