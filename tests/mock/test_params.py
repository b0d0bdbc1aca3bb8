"""Parameter placement and robustness: precedence, GET bodies, duplicates, bad values and bodies → 4XX JSON."""

from __future__ import annotations

import pytest

from .conftest import Api, error, sign, stamp

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_the_query_value_wins_over_the_body_value(api: Api) -> None:
    body = f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=30000&timestamp={stamp()}"
    query = "price=31000"
    response = api.http.post(f"/fapi/v1/order?{query}&signature={sign(query + body)}", content=body, headers=FORM)
    assert response.status_code == 200 and response.json()["price"] == "31000.0"


def test_params_split_between_query_and_body_in_any_order(api: Api) -> None:
    query = f"timestamp={stamp()}&price=30000&symbol=BTCUSDT"
    body = "quantity=0.01&timeInForce=GTC&type=LIMIT&side=BUY"
    response = api.http.post(f"/fapi/v1/order?{query}", content=f"{body}&signature={sign(query + body)}",
                             headers=FORM)
    assert response.status_code == 200, response.text


def test_a_get_reads_the_query_only_and_ignores_its_body(api: Api) -> None:
    response = api.http.request("GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5", content="limit=abc&symbol=XX",
                                headers=FORM)
    assert response.status_code == 200 and len(response.json()["bids"]) == 5
    missing = api.http.request("GET", "/fapi/v1/depth", content="symbol=BTCUSDT", headers=FORM)
    assert error(missing)[1] == -1102


def test_a_name_repeated_in_the_same_place_is_minus_1101(api: Api) -> None:
    response = api.http.get("/fapi/v1/depth?symbol=BTCUSDT&symbol=ETHUSDT")
    assert error(response) == (400, -1101, "Duplicate values for a parameter detected.")


def test_unknown_params_are_ignored(api: Api) -> None:
    assert api.get("/fapi/v1/depth", symbol="BTCUSDT", limit=5, colour="blue").status_code == 200
    assert api.call("GET", "/fapi/v2/balance", {"whatever": "1"}).status_code == 200


@pytest.mark.parametrize(("query", "code"), [
    ("symbol=BTCUSDT&limit=abc", -1100),
    ("symbol=BTCUSDT&limit=7", -1130),
    ("symbol=BTCUSDT&limit=99999999999999999999", -1130),
    ("symbol=BTCUSDT&limit=1e3", -1100),
    ("symbol=NOPE", -1121),
    ("symbol=", -1102),
    ("symbol=%FF%FE", -1100),
    ("symbol=BTC%00USDT", -1100),
])
def test_malformed_values_get_documented_4xx_codes(api: Api, query: str, code: int) -> None:
    status, got, _ = error(api.http.get(f"/fapi/v1/depth?{query}"))
    assert (status, got) == (400, code)


@pytest.mark.parametrize(("params", "code"), [
    ({"interval": "2m"}, -1120),
    ({"interval": "1m", "limit": "1501"}, -1130),
    ({"interval": "1m", "startTime": "20", "endTime": "10"}, -1023),
    ({"interval": "1m", "startTime": "-5"}, -1130),
    ({"interval": "1m", "startTime": "12.5"}, -1100),
])
def test_bad_kline_windows_are_refused(api: Api, params: dict, code: int) -> None:
    assert error(api.get("/fapi/v1/klines", symbol="BTCUSDT", **params))[1] == code


@pytest.mark.parametrize(("quantity", "code"), [
    ("abc", -1100), ("1,5", -1100), ("-1", -1100), ("1e5", -1100), ("0.0000000000000000000001", -1100),
    ("99999999999999999999", -1013), ("", -1102),
])
def test_malformed_or_huge_quantities_are_refused(api: Api, quantity: str, code: int) -> None:
    assert error(api.order(quantity=quantity))[1] == code


def test_a_body_that_is_not_utf8_is_minus_1100(api: Api) -> None:
    query = f"timestamp={stamp()}"
    response = api.http.post(f"/fapi/v1/order?{query}&signature={sign(query)}", content=b"symbol=\xff\xfe",
                             headers=FORM)
    assert error(response)[:2] == (400, -1100)


@pytest.mark.parametrize("ctype", ["text/plain", "multipart/form-data; boundary=x", "application/xml"])
def test_a_body_of_an_unsupported_content_type_is_415(api: Api, ctype: str) -> None:
    response = api.http.post("/fapi/v1/order", content="symbol=BTCUSDT", headers={"content-type": ctype})
    assert error(response)[:2] == (415, -1000)


def test_a_body_without_content_type_is_read_as_a_form(api: Api) -> None:
    body = api.query({"symbol": "BTCUSDT", "leverage": "5"})
    assert api.http.post("/fapi/v1/leverage", content=body).json()["leverage"] == 5


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"a": 1, "a": 2}'])
def test_a_malformed_json_body_is_a_4xx(api: Api, body: bytes) -> None:
    response = api.http.post("/fapi/v1/leverage", content=body, headers={"content-type": "application/json"})
    status, code, _ = error(response)
    assert status == 400 and code in (-1102, -1101)


def test_an_oversized_body_is_413(api: Api) -> None:
    response = api.http.post("/fapi/v1/order", content=b"a=" + b"x" * 70_000, headers=FORM)
    assert error(response)[:2] == (413, -1000)


def test_unknown_paths_and_methods_answer_json(api: Api) -> None:
    assert error(api.http.get("/fapi/v1/nothing")) == (404, -1000, "Path not found.")
    assert error(api.http.get("/")) == (404, -1000, "Path not found.")
    assert error(api.http.patch("/fapi/v1/order")) == (405, -1000, "Method not allowed.")
    assert error(api.http.post("/fapi/v1/time")) == (405, -1000, "Method not allowed.")
    assert error(api.http.get("/__mock__/nothing"))[0] == 404


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PATCH", "/fapi/v1/order", "DELETE, GET, POST, PUT"), ("TRACE", "/fapi/v1/time", "GET"),
    ("POST", "/fapi/v1/time", "GET"), ("FOO", "/fapi/v1/listenKey", "DELETE, POST, PUT"),
    ("DELETE", "/__mock__/state", "GET, HEAD")])
def test_a_405_names_the_methods_the_path_takes(api: Api, method: str, path: str, allow: str) -> None:
    response = api.http.request(method, path)
    assert response.status_code == 405 and response.json()["code"] == -1000
    assert sorted(response.headers["allow"].split(", ")) == allow.split(", ")  # RFC 9110 §15.5.6


def test_an_empty_optional_integer_or_a_malformed_order_id_is_refused(api: Api) -> None:
    assert error(api.get("/fapi/v1/trades", symbol="BTCUSDT", limit=""))[:2] == (400, -1100)
    assert error(api.call("GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT", "orderId": "."}))[:2] == (400, -1100)
    uuid = "3fa42833-9508-4061-8d80-b68563dcd521"  # the real ZTDX open-orders response's orderId (§5.C)
    assert api.call("GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT", "orderId": uuid}).status_code == 200


def test_a_flood_of_garbage_never_yields_a_5xx(api: Api) -> None:
    garbage = ["%", "%%%", "a=%zz", "=&=&", "symbol=" + "A" * 5000, "limit=" + "9" * 400, "&&&&", "symbol=%E2%82"]
    for query in garbage:
        for path in ("/fapi/v1/depth", "/fapi/v1/order", "/fapi/v1/klines"):
            response = api.http.get(f"{path}?{query}")
            assert 400 <= response.status_code < 500, (path, query, response.text)
            assert response.headers["content-type"].startswith("application/json")
    assert api.get("/fapi/v1/ping").status_code == 200
