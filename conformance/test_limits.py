"""Rate-limit surface: used-weight and order-count headers, weight accounting, and 429/418 with Retry-After."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from conformance import checks
from conformance.checks import errors as err
from conformance.checks.http import ban_follows, first_refusal_is_429
from conformance.checks.limits import grows_in_some_pair, weight_growth
from conformance.checks.parameters import verify_pair
from conformance.data.exceptions import TargetUnavailable
from conformance.data.exchange import Exchange
from conformance.harness import readers
from conformance.harness.client import Client
from conformance.harness.governor import Governor
from conformance.harness.mock_control import MockControl
from conformance.harness.orders import OrderFactory

SIGNED = pytest.mark.capability("signed")
# (id, method, path, params, marks): cheap calls whose answers must carry the used-weight header.
HEADER_CALLS = [
    ("time", "GET", "/fapi/v1/time", {}, []),
    ("depth", "GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": 5}, []),
    ("exchangeInfo", "GET", "/fapi/v1/exchangeInfo", {}, []),
    ("bad-symbol-error", "GET", "/fapi/v1/depth", {"symbol": "NOSUCHSYMBOL", "limit": 5}, []),
    ("positionRisk", "GET", "/fapi/v1/positionRisk", {"symbol": "BTCUSDT"}, [SIGNED]),
    ("getPositionMode", "GET", "/fapi/v1/positionSide/dual", {}, [SIGNED]),
]
# (id, method, path, params): two consecutive calls; the header must grow by the second call's documented weight.
WEIGHED_CALLS = [
    ("time-weight-1", "GET", "/fapi/v1/time", {}),
    ("depth-limit-100-weight-5", "GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": 100}),
    ("depth-limit-500-weight-10", "GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": 500}),
    ("ticker24hr-all-weight-40", "GET", "/fapi/v1/ticker/24hr", {}),
    ("klines-limit-500-weight-5", "GET", "/fapi/v1/klines", {"symbol": "BTCUSDT", "interval": "1m", "limit": 500}),
]
SHARED_TRIES = 3
PAIR_TRIES = 3
MINUTE_MARGIN = 1.0  # seconds kept clear of a minute boundary
TINY_WEIGHT_LIMIT = 5


@pytest.mark.rule("limits.used-weight-header")
@pytest.mark.parametrize(("method", "path", "params"),
                         [pytest.param(m, p, q, id=i, marks=k) for i, m, p, q, k in HEADER_CALLS])
def test_answer_carries_the_used_weight_header(method: str, path: str, params: dict[str, Any],
                                               client: Client) -> None:
    checks.verify(client.call(method, path, params), ["limits.used-weight-header"])


@pytest.mark.rule("limits.order-count-header")
@pytest.mark.capability("trading")
@pytest.mark.parametrize("operation", ["newOrder", "newBatchOrders"])
def test_accepted_order_carries_the_order_count_headers(operation: str, client: Client,
                                                        orders: OrderFactory) -> None:
    items = [orders.resting_limit("BTCUSDT") for _ in range(1 if operation == "newOrder" else 2)]
    for item in items:
        orders.remember(item)
    try:
        if operation == "newOrder":
            answer = client.call("POST", "/fapi/v1/order", items[0])
        else:
            answer = client.call("POST", "/fapi/v1/batchOrders", {"batchOrders": json.dumps(items)})
        checks.verify(readers.accepted(answer, "an accepted order shows the order counts"),
                      ["limits.order-count-header"])
    finally:
        orders.cancel_all()


def _pair(client: Client, method: str, path: str, params: dict[str, Any]) -> tuple[Exchange, Exchange]:
    """Two back-to-back calls inside one clock minute. The used-weight counter restarts every minute, so a pair that
    a pacing wait (a small --conformance-budget) or chance spreads over a minute boundary is sent again, not judged;
    the margin allows for a clock that differs from the target's by up to a second."""
    for _ in range(PAIR_TRIES):
        into = time.time() % 60
        if into < MINUTE_MARGIN or into > 60 - MINUTE_MARGIN:
            time.sleep((MINUTE_MARGIN - into) % 60)  # start just after the boundary instead of across it
        started = time.time()
        pair = client.call(method, path, params), client.call(method, path, params)
        ended = time.time()
        if started // 60 == ended // 60 and ended % 60 <= 60 - MINUTE_MARGIN:
            return pair
    raise TargetUnavailable(f"could not send two {path} requests within one minute window in {PAIR_TRIES} tries")


@pytest.mark.rule("limits.weight-accounting")
@pytest.mark.capability("faults")
@pytest.mark.parametrize(("method", "path", "params"),
                         [pytest.param(m, p, q, id=i) for i, m, p, q in WEIGHED_CALLS])
def test_used_weight_grows_by_the_documented_weight(method: str, path: str, params: dict[str, Any], client: Client,
                                                   mock_control: MockControl) -> None:
    """Exact on a target whose counter nothing else spends (the control API resets it first)."""
    before, after = _pair(client, method, path, params)
    verify_pair(before, after, ["limits.weight-accounting"])


@pytest.mark.rule("limits.weight-accounting")
@pytest.mark.capability("trading", "faults")
def test_new_order_weighs_nothing(client: Client, orders: OrderFactory, mock_control: MockControl) -> None:
    """ZTDX: POST /fapi/v1/order has weight 0 against the IP limit."""
    try:
        params = orders.resting_limit("BTCUSDT")  # its look-ups are weighed before the reference answer
        orders.remember(params)
        before = client.call("GET", "/fapi/v1/time")
        placed = client.call("POST", "/fapi/v1/order", params)
        verify_pair(before, placed, ["limits.weight-accounting"])
    finally:
        orders.cancel_all()


@pytest.mark.rule("limits.weight-accounting")
@pytest.mark.exclusive  # under -n N the other workers' requests are traffic on the same counter: alone, as serially
def test_used_weight_grows_by_the_documented_weight_on_a_shared_counter(client: Client) -> None:
    """Where other traffic shares the counter, one of a few back-to-back pairs must still show the exact growth."""
    pairs = []
    for _ in range(SHARED_TRIES):
        pairs.append(_pair(client, "GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": 100}))
        growth, weight = weight_growth(*pairs[-1])
        if growth == weight:
            break
    grows_in_some_pair(pairs)


@pytest.mark.rule("http.429-rate-limit", "http.418-ban", "limits.retry-after", "errors.documented-code")
@pytest.mark.capability("provoke-limits", "faults")
def test_over_the_weight_limit_429_then_418_with_retry_after(isolated_client: Client,
                                                             mock_control: MockControl) -> None:
    """A tiny weight limit is crossed on purpose by a client with its own governor; the fixture resets it after."""
    mock_control.limits(weight_per_minute=TINY_WEIGHT_LIMIT, ban_seconds=2)
    answers: list[Exchange] = []
    while len(answers) <= TINY_WEIGHT_LIMIT + 1 and (not answers or answers[-1].response.status != 429):
        answers.append(isolated_client.call("GET", "/fapi/v1/time", allow_limits=True))
    continued: list[Exchange] = []
    while len(continued) < 3 and (not continued or continued[-1].response.status != 418):
        isolated_client.governor = Governor(share=1_000.0)  # a client that ignores the 429, as the rule describes
        continued.append(isolated_client.call("GET", "/fapi/v1/time", allow_limits=True))
    first_refusal_is_429(answers, TINY_WEIGHT_LIMIT)  # the MUST rules first: a SHOULD failure must not hide them
    ban_follows(continued)
    for refusal in (answers[-1], continued[-1]):
        checks.verify(refusal, ["limits.retry-after"])
        err.documented_code("rate-limit", refusal)
