"""Signed requests on the wire: signature, API-key header, timestamp window, recvWindow, encoded payloads, listenKey."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from urllib.parse import unquote, urlencode

import pytest

from conformance import checks
from conformance.checks import auth
from conformance.checks import errors as err
from conformance.checks.parameters import verify_pair
from conformance.data.exceptions import HarnessError
from conformance.data.exchange import Exchange
from conformance.harness import readers
from conformance.harness.client import FORM, Client
from conformance.harness.orders import OrderFactory
from conformance.harness.request import sign

pytestmark = pytest.mark.capability("signed")
Pairs = Sequence[tuple[str, str]]
MODE = ("GET", "/fapi/v1/positionSide/dual")  # signed, weight 1, no parameters, no side effects
MARGIN = ("GET", "/fapi/v1/marginType")


@pytest.fixture(scope="module")
def server_now(client: Client) -> Callable[[], int]:
    """The server's clock in ms (local clock plus the offset seen on GET /fapi/v1/time)."""
    before = time.time() * 1000
    server_time = readers.server_time(client.call("GET", "/fapi/v1/time"))
    offset = int(server_time - (before + time.time() * 1000) / 2)
    return lambda: int(time.time() * 1000) + offset


def send(client: Client, method: str, path: str, params: Pairs, *, key: str | None = "",
         ts: Callable[[], int] | None = None, signature: str | None = "",
         sign_over: Callable[[str], str] = lambda p: p) -> Exchange:
    """Sign by hand: `key`/`signature` "" = the correct ones, None = leave out; `sign_over` transforms the payload.

    `ts` gives the timestamp once the run's budget allows the request (a pacing wait after the timestamp was fixed
    would make it stale, and earn a -1021 the target did not deserve)."""
    creds = client.target.credentials
    if creds is None:
        raise HarnessError("signed tests need credentials")
    client.pace_now(method, path, params)
    pairs = [*params, *([("timestamp", str(ts()))] if ts is not None else [])]
    if signature == "":
        signature = sign(creds.api_secret, sign_over(urlencode(pairs)))
    pairs += [("signature", signature)] if signature is not None else []
    headers = {} if key is None else {"X-MBX-APIKEY": key or creds.api_key}
    return client.call(method, path, pairs, signed=False, headers=headers)


def accepted(exchange: Exchange) -> Exchange:
    return readers.accepted(exchange, "a correctly signed reference request", rule_id="auth.signature-required")


@pytest.mark.rule("auth.signature-required")
def test_correctly_signed_request_is_accepted(client: Client, server_now: Callable[[], int]) -> None:
    auth.correctly_signed_is_accepted(send(client, *MODE, [], ts=server_now))


def _flip(signature: str) -> str:
    return signature[:-1] + ("0" if signature[-1] != "0" else "1")


@pytest.mark.rule("auth.signature-required", "errors.documented-code")
@pytest.mark.parametrize("variant", ["altered", "over-other-params", "missing", "not-hex", "empty"])
def test_wrong_or_missing_signature_is_rejected(variant: str, client: Client, server_now: Callable[[], int]) -> None:
    client.pace_now(*MARGIN, count=2)  # both requests paid for first: no wait between them ages the timestamp
    reference = accepted(send(client, *MARGIN, [("symbol", "BTCUSDT")], ts=server_now))
    good = dict(reference.request.query)["signature"]
    if variant in ("altered", "over-other-params"):
        params = [("symbol", "BTCUSDT" if variant == "altered" else "ETHUSDT")]
        ts = int(dict(reference.request.query)["timestamp"])  # the reference's payload, with a wrong signature
        bad = send(client, *MARGIN, params, ts=lambda: ts, signature=_flip(good) if variant == "altered" else good)
        verify_pair(reference, bad, ["auth.signature-required"])
        err.documented_code("bad-signature", bad)
        return
    signature = {"missing": None, "not-hex": "z" * 64, "empty": " "}[variant]
    checks.verify(send(client, *MARGIN, [("symbol", "BTCUSDT")], ts=server_now, signature=signature),
                  ["auth.signature-required"])


@pytest.mark.rule("auth.api-key-header", "errors.documented-code")
@pytest.mark.parametrize("key", ["missing", "unknown", "malformed"])
def test_missing_or_foreign_api_key_is_rejected(key: str, client: Client, server_now: Callable[[], int]) -> None:
    reference = accepted(send(client, *MODE, [], ts=server_now))
    value = {"missing": None, "unknown": "ztdx-unknown-key-0000000000", "malformed": "no such key!?"}
    variant = send(client, *MODE, [], ts=server_now, key=value[key])
    if key == "missing":
        checks.verify(variant, ["auth.api-key-header"])
    verify_pair(reference, variant, ["auth.api-key-header"])
    err.documented_code("bad-api-key", variant)


@pytest.mark.rule("auth.timestamp-required")
def test_request_without_timestamp_is_rejected(client: Client) -> None:
    checks.verify(send(client, *MODE, []), ["auth.timestamp-required"])


# (name, offset from the server's time in ms, recvWindow or None, rule judged)
WINDOW_CASES = [
    ("4s-old-default-window", -4_000, None, "auth.recvwindow-default"),
    ("6s-old-default-window", -6_000, None, "auth.recvwindow-default"),
    ("6s-old-recvwindow-10000", -6_000, 10_000, "auth.timestamp-window"),
    ("recvwindow-plus-1s-old", -11_000, 10_000, "auth.timestamp-window"),
    ("5s-ahead", 5_000, None, "auth.timestamp-window"),
    ("5s-ahead-recvwindow-60000", 5_000, 60_000, "auth.timestamp-window"),
    ("30s-old-recvwindow-60000", -30_000, 60_000, "auth.recvwindow-max"),
    ("61s-old-recvwindow-60000", -61_000, 60_000, "auth.timestamp-window"),
]


def _outside(offset: int, window: int | None) -> bool:
    return offset > 1_000 or offset < -(window or 5_000)


@pytest.mark.parametrize(("offset", "window", "rule_id"),
                         [pytest.param(o, w, r, id=n, marks=pytest.mark.rule(r, *["errors.documented-code"] *
                                                                                 _outside(o, w)))
                          for n, o, w, r in WINDOW_CASES])
def test_timestamp_is_judged_against_the_recv_window(offset: int, window: int | None, rule_id: str, client: Client,
                                                     server_now: Callable[[], int]) -> None:
    reference = accepted(send(client, *MODE, [], ts=server_now))
    params = [("recvWindow", str(window))] if window is not None else []
    variant = send(client, *MODE, params, ts=lambda: server_now() + offset)
    verify_pair(reference, variant, [rule_id])
    if _outside(offset, window):
        err.documented_code("timestamp-outside-window", variant)


@pytest.mark.rule("auth.recvwindow-max")
@pytest.mark.parametrize("window", ["60001", "120000"])
def test_recv_window_above_60000_is_rejected(window: str, client: Client, server_now: Callable[[], int]) -> None:
    checks.verify(send(client, *MODE, [("recvWindow", window)], ts=server_now), ["auth.recvwindow-max"])


@pytest.mark.rule("auth.recvwindow-max")
def test_recv_window_of_60000_is_accepted(client: Client, server_now: Callable[[], int]) -> None:
    exchange = send(client, *MODE, [("recvWindow", "60000")], ts=server_now)
    checks.verify(exchange, ["auth.recvwindow-max"])
    verify_pair(accepted(send(client, *MODE, [], ts=server_now)), exchange, ["auth.recvwindow-max"])


LISTEN_KEY = "/fapi/v1/listenKey"


@pytest.mark.rule("auth.listenkey-signed")
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_listen_key_requests_without_signature_are_rejected(method: str, client: Client) -> None:
    accepted(client.call("POST", LISTEN_KEY))  # PUT needs an active key; HMAC signing must work for all three
    try:
        accepted(client.call(method, LISTEN_KEY))
        key = client.target.credentials.api_key if client.target.credentials else ""
        unsigned = client.call(method, LISTEN_KEY, signed=False, headers={"X-MBX-APIKEY": key})
        checks.verify(unsigned, ["auth.listenkey-signed"])
    finally:
        client.call("DELETE", LISTEN_KEY)


def _batch(orders: OrderFactory) -> list[tuple[str, str]]:
    items = [orders.resting_limit("BTCUSDT"), orders.resting_limit("BTCUSDT")]
    for item in items:
        orders.remember(item)
    return [("batchOrders", json.dumps(items, separators=(",", ":")))]


def _raw_body(client: Client, method: str, path: str, params: Pairs, ts: Callable[[], int]) -> Exchange:
    """Parameters as raw, unencoded text in a form body; signed over exactly that text (the Binance totalParams)."""
    creds = client.target.credentials
    assert creds is not None
    body = "&".join(f"{k}={v}" for k, v in params)
    client.pace_now(method, path, params)
    query = [("timestamp", str(ts()))]
    signature = sign(creds.api_secret, urlencode(query) + body)
    return client.call(method, path, [*query, ("signature", signature)], signed=False, content=body.encode(),
                       content_type=FORM, headers={"X-MBX-APIKEY": creds.api_key})


def _placed_ids(client: Client, orders: OrderFactory, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        params = orders.resting_limit("BTCUSDT")
        orders.remember(params)
        ids.append(readers.order_id(client.call("POST", "/fapi/v1/order", params)))
    return ids


@pytest.mark.rule("auth.encoded-payload")
@pytest.mark.capability("trading")
@pytest.mark.parametrize("encoding", ["signed-over-decoded", "raw-json-body"])
@pytest.mark.parametrize("operation", ["newBatchOrders", "cancelBatchOrders"])
def test_signature_over_raw_or_decoded_payload_is_accepted(operation: str, encoding: str, client: Client,
                                                           orders: OrderFactory,
                                                           server_now: Callable[[], int]) -> None:
    method = "POST" if operation == "newBatchOrders" else "DELETE"

    def params() -> list[tuple[str, str]]:
        if operation == "newBatchOrders":
            return _batch(orders)
        ids = _placed_ids(client, orders, 2)
        return [("symbol", "BTCUSDT"), ("orderIdList", json.dumps(ids, separators=(",", ":")))]

    try:
        reference = accepted(send(client, method, "/fapi/v1/batchOrders", params(), ts=server_now))
        if encoding == "signed-over-decoded":
            variant = send(client, method, "/fapi/v1/batchOrders", params(), ts=server_now, sign_over=unquote)
        else:
            variant = _raw_body(client, method, "/fapi/v1/batchOrders", params(), server_now)
        verify_pair(reference, variant, ["auth.encoded-payload"])
    finally:
        orders.cancel_all()
