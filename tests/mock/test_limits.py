"""Rate limits (weights, order counts, 429 → 418 → ban expiry) and injected latency, on a real loopback server."""

from __future__ import annotations

import time

from .conftest import Api, error


def _window_start(seconds: float) -> None:
    """Wait for the start of a fresh fixed window, so a short burst cannot straddle a boundary."""
    time.sleep(seconds - time.time() % seconds + 0.02)


def test_every_fapi_answer_carries_the_used_weight_and_orders_the_order_counts(api: Api) -> None:
    assert api.get("/fapi/v1/time").headers["x-mbx-used-weight-1m"] == "1"
    assert api.get("/fapi/v1/depth", symbol="BTCUSDT", limit=1000).headers["x-mbx-used-weight-1m"] == "21"
    assert api.get("/fapi/v1/klines", symbol="BTCUSDT", interval="1m").headers["x-mbx-used-weight-1m"] == "26"
    assert api.get("/fapi/v1/ticker/24hr").headers["x-mbx-used-weight-1m"] == "66"
    placed = api.order()
    assert placed.headers["x-mbx-used-weight-1m"] == "66"  # new orders weigh 0 on the IP limit
    assert placed.headers["x-mbx-order-count-10s"] == "1" and placed.headers["x-mbx-order-count-1m"] == "1"
    assert "x-mbx-order-count-1m" not in api.get("/fapi/v1/time").headers
    assert api.get("/fapi/v1/nope").headers["x-mbx-used-weight-1m"] == "68"  # 66 + time + this 404


def test_over_the_weight_limit_429_then_418_then_the_ban_expires(api: Api) -> None:
    api.control("limits", {"weight_per_minute": 3, "window_seconds": 2, "ban_seconds": 1})
    _window_start(2)
    assert [api.get("/fapi/v1/time").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get("/fapi/v1/time")
    status, code, msg = error(limited)
    assert (status, code) == (429, -1003) and msg.startswith("Too many requests; current limit is 3 requests")
    assert 1 <= int(limited.headers["retry-after"]) <= 2
    banned = api.get("/fapi/v1/ping")
    status, code, msg = error(banned)
    until = api.control("state")["banned_until_ms"]
    assert (status, code) == (418, -1003) and msg.startswith(f"Way too many requests; IP banned until {until}.")
    assert banned.headers["retry-after"] == "1"
    assert api.http.get("/__mock__/health").status_code == 200  # the control API is never limited
    time.sleep(2.1)  # past the ban and into a new weight window
    assert api.get("/fapi/v1/time").status_code == 200
    assert api.control("state")["banned_until_ms"] is None


def test_waiting_out_the_429_cool_down_avoids_the_ban(api: Api) -> None:
    api.control("limits", {"weight_per_minute": 2, "window_seconds": 1, "ban_seconds": 60})
    _window_start(1)
    api.get("/fapi/v1/time"), api.get("/fapi/v1/time")
    limited = api.get("/fapi/v1/time")
    assert limited.status_code == 429
    time.sleep(int(limited.headers["retry-after"]) + 0.1)
    assert api.get("/fapi/v1/time").status_code == 200
    assert api.control("state")["banned_until_ms"] is None


def test_too_many_orders_answers_429_minus_1015(api: Api) -> None:
    api.control("limits", {"orders_per_10s": 2})
    assert [api.order().status_code for _ in range(2)] == [200, 200]
    limited = api.order()
    status, code, msg = error(limited)
    assert (status, code) == (429, -1015) and msg.startswith("Too many new orders; current limit is 2 orders")
    assert int(limited.headers["retry-after"]) >= 1
    assert api.control("state")["orders_created"] == 2


def test_reset_clears_limits_counters_and_bans(api: Api) -> None:
    api.control("limits", {"weight_per_minute": 1, "ban_seconds": 600})
    api.get("/fapi/v1/time"), api.get("/fapi/v1/time"), api.get("/fapi/v1/time")
    assert api.get("/fapi/v1/time").status_code == 418
    api.control("reset", {})
    state = api.control("state")
    assert state["banned_until_ms"] is None and state["used_weight_1m"] == 0 and state["requests"] == 0
    assert state["limits"]["weight_per_minute"] == 2400
    assert api.get("/fapi/v1/time").status_code == 200


def test_unknown_limit_names_are_refused(api: Api) -> None:
    assert api.http.post("/__mock__/limits", json={"weight_per_hour": 5}).status_code == 400


def test_latency_delays_fapi_answers_but_not_the_control_api(api: Api) -> None:
    assert api.control("latency", {"ms": 150, "jitter_ms": 50}) == {"ms": 150, "jitter_ms": 50}
    start = time.monotonic()
    api.get("/fapi/v1/time")
    assert 0.09 <= time.monotonic() - start < 1.0
    start = time.monotonic()
    api.control("state")
    assert time.monotonic() - start < 0.09
    api.control("latency", {"ms": 0, "jitter_ms": 0})
    start = time.monotonic()
    api.get("/fapi/v1/time")
    assert time.monotonic() - start < 0.09


def test_a_scaled_baseline_is_what_reset_returns_to() -> None:
    from conformance.mock import MockServer, scaled_limits

    with MockServer(limits=scaled_limits(10)) as server:
        api = Api(server.url)
        api.control("limits", {"weight_per_minute": 3})
        assert api.control("state")["limits"]["weight_per_minute"] == 3
        api.control("reset", {})
        assert api.control("state")["limits"]["weight_per_minute"] == 24000
        assert api.control("state")["limits"]["orders_per_minute"] == 12000
