"""Signed requests: API key, signature over raw or URL-decoded payloads, query/body placement, time window."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest

from .conftest import KEY, Api, error, sign, stamp

BATCH = [{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
          "price": "30000"}]


def test_a_correctly_signed_query_is_accepted(api: Api) -> None:
    assert api.call("GET", "/fapi/v2/balance").status_code == 200


def test_a_wrong_signature_is_401_minus_1022(api: Api) -> None:
    query = f"timestamp={stamp()}"
    response = api.http.get(f"/fapi/v2/balance?{query}&signature={sign(query + 'x')}")
    assert error(response) == (401, -1022, "Signature for this request is not valid.")


def test_the_signature_may_cover_the_raw_json_while_the_wire_carries_it_percent_encoded(api: Api) -> None:
    raw = f"batchOrders={json.dumps(BATCH, separators=(',', ':'))}&timestamp={stamp()}"
    wire = f"batchOrders={quote(json.dumps(BATCH, separators=(',', ':')), safe='')}&timestamp={raw.split('=')[-1]}"
    response = api.http.post(f"/fapi/v1/batchOrders?{wire}&signature={sign(raw)}")
    assert response.status_code == 200 and response.json()[0]["status"] == "NEW"


def test_the_signature_may_cover_the_encoded_payload_as_sent(api: Api) -> None:
    payload = urlencode({"batchOrders": json.dumps(BATCH), "timestamp": stamp()})
    response = api.http.post(f"/fapi/v1/batchOrders?{payload}&signature={sign(payload)}")
    assert response.status_code == 200 and response.json()[0]["status"] == "NEW"


def test_query_and_body_are_signed_as_one_payload_in_that_order(api: Api) -> None:
    query, body = "symbol=BTCUSDT&side=BUY&type=LIMIT", f"timeInForce=GTC&quantity=0.01&price=30000&timestamp={stamp()}"
    response = api.http.post(f"/fapi/v1/order?{query}", content=f"{body}&signature={sign(query + body)}",
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text


def test_a_json_body_is_signed_as_query_plus_the_raw_json(api: Api) -> None:
    query, body = f"timestamp={stamp()}", '{"symbol":"BTCUSDT","leverage":20}'
    response = api.http.post(f"/fapi/v1/leverage?{query}&signature={sign(query + body)}", content=body,
                             headers={"content-type": "application/json"})
    assert response.json() == {"leverage": 20, "maxNotionalValue": "10000000", "symbol": "BTCUSDT"}


@pytest.mark.parametrize(("header", "expected"), [
    (None, (401, -2014, "API-key format invalid.")),
    ("bad key with spaces", (401, -2014, "API-key format invalid.")),
    ("ztdx-unknown-key-999", (401, -2015, "Invalid API-key, IP, or permissions for action.")),
])
def test_a_missing_malformed_or_unknown_key_is_refused(api: Api, header: str | None, expected: tuple) -> None:
    query = f"timestamp={stamp()}"
    headers = {"X-MBX-APIKEY": header} if header else {}
    api.http.headers.pop("X-MBX-APIKEY")
    try:
        assert error(api.http.get(f"/fapi/v2/balance?{query}&signature={sign(query)}", headers=headers)) == expected
    finally:
        api.http.headers["X-MBX-APIKEY"] = KEY


@pytest.mark.parametrize("missing", ["timestamp", "signature"])
def test_missing_timestamp_or_signature_is_minus_1102(api: Api, missing: str) -> None:
    query = "symbol=BTCUSDT" + ("" if missing == "timestamp" else f"&timestamp={stamp()}")
    url = f"/fapi/v1/positionRisk?{query}" + ("" if missing == "signature" else f"&signature={sign(query)}")
    assert error(api.http.get(url)) == (400, -1102, f"Mandatory parameter '{missing}' was not sent, was "
                                                    "empty/null, or malformed.")


@pytest.mark.parametrize(("offset", "recv_window", "ok"), [
    (-4000, None, True), (-6000, None, False), (-6000, 10000, True), (-59000, 60000, True), (500, None, True),
    (2500, None, False),
])
def test_the_timestamp_must_lie_within_recv_window_behind_and_1000ms_ahead(api: Api, offset: int,
                                                                           recv_window: int | None, ok: bool) -> None:
    params = {"timestamp": stamp() + offset, **({"recvWindow": recv_window} if recv_window else {})}
    response = api.call("GET", "/fapi/v2/balance", params)
    if ok:
        assert response.status_code == 200, response.text
    else:
        status, code, msg = error(response)
        assert (status, code) == (400, -1021) and msg.startswith("Timestamp for this request")


@pytest.mark.parametrize("recv_window", ["60001", "0", "abc", "-5"])
def test_recv_window_above_60000_or_not_a_number_is_minus_1130(api: Api, recv_window: str) -> None:
    response = api.call("GET", "/fapi/v2/balance", {"recvWindow": recv_window})
    assert error(response) == (400, -1130, "Data sent for parameter 'recvWindow' is not valid.")


def test_public_endpoints_need_no_key(api: Api) -> None:
    api.http.headers.pop("X-MBX-APIKEY")
    try:
        assert api.http.get("/fapi/v1/exchangeInfo").status_code == 200
    finally:
        api.http.headers["X-MBX-APIKEY"] = KEY
