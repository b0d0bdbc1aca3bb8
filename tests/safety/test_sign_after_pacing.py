"""A request is signed after the governor's pacing wait, so a long wait never pushes its timestamp out of the
recvWindow (with the old order, `--conformance-budget` small enough earned false -1021 MUST failures)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from conformance.governor import Governor

from .conftest import FakeClock, answer


def test_the_timestamp_is_taken_after_the_pacing_wait(scripted: Callable[..., tuple], clock: FakeClock) -> None:
    governor = Governor(share=0.001, clock=clock, sleep=clock.sleep)  # a budget of 2 weight per minute
    client, seen = scripted(lambda request: answer(200, {"dualSidePosition": False}), governor)
    client.server_time = lambda: int(clock.now * 1000)  # the fake clock is the machine's clock here
    client.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "1"})
    client.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "2"})
    client.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "3"})  # waits for the window to roll
    assert clock.slept and sum(clock.slept) > 5.0, "the third request should have been paced"
    sent_at = [int(parse_qs(urlsplit(str(r.url)).query)["timestamp"][0]) for r in seen]
    # Signed when it left: its timestamp is the (fake) time after the wait, not the time it was asked for.
    assert sent_at[-1] >= int(clock.now * 1000) - 1 and sent_at[-1] - sent_at[0] > 5000


def test_the_client_never_follows_a_redirect() -> None:
    from conformance.client import Client
    from conformance.targets import SIGNED, Credentials, Target

    target = Target("unit", "http://127.0.0.1:9", "unknown", frozenset({SIGNED}), Credentials("k" * 16, "s" * 16))
    client = Client(target)
    try:
        assert client.http.follow_redirects is False
        assert isinstance(client.http, httpx.Client)
    finally:
        client.close()
