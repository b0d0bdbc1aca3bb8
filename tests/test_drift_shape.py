"""Drift's comparison on hand-made answers: what the contract fixes differs, values and empty lists do not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.data import contract
from conformance.data.exchange import Exchange, Request, Response
from conformance.tools.drift_shape import differences


def _answer(path: str, body: Any, status: int = 200) -> Exchange:
    op = contract.default().find("GET", path)
    return Exchange(Request("GET", f"http://127.0.0.1{path}"), Response(status, {}, json.dumps(body).encode()), op)


def _diff(path: str, recorded: Any, mock: Any, status: tuple[int, int] = (200, 200)) -> set[tuple[str, str, str]]:
    return {(d.aspect, d.path, f"{d.recorded}>{d.mock}")
            for d in differences("op", _answer(path, recorded, status[0]), _answer(path, mock, status[1]))}


def test_values_that_move_are_no_difference() -> None:
    assert _diff("/fapi/v1/ticker/price", {"symbol": "BTCUSDT", "price": "1.5", "time": 1796194036630},
                 {"symbol": "ETHUSDT", "price": "2.25", "time": 1796194099999}) == set()


def test_a_field_that_is_missing_or_added_is_named_once() -> None:
    assert _diff("/fapi/v1/openInterest", {"symbol": "BTCUSDT", "openInterest": "1"},
                 {"openInterest": "1", "extra": {"a": 1}}) == {("fields", "$.symbol", "present>missing"),
                                                               ("fields", "$.extra", "missing>present")}


def test_a_json_type_change_is_named_but_integer_and_decimal_are_one_type() -> None:
    assert _diff("/fapi/v1/time", {"serverTime": 1796194036630, "x": 1}, {"serverTime": "1796194036630", "x": 1.5}) \
        == {("types", "$.serverTime", "number>string")}


def test_a_time_in_seconds_is_a_time_unit_difference() -> None:
    assert _diff("/fapi/v1/time", {"serverTime": 1796194036}, {"serverTime": 1796194036630}) == {
        ("time-unit", "$.serverTime", "s>ms")}


def test_reversed_order_of_a_time_ordered_list_is_named() -> None:
    rows = [[1796194036000 + i * 60000, "1", "1", "1", "1", "1", 1796194036000 + i * 60000 + 59999, "1", 1, "1", "1",
             "0"] for i in range(3)]
    assert _diff("/fapi/v1/klines", rows, rows[::-1]) == {("ordering", "$", "ascending>descending")}


def test_an_empty_list_says_nothing_about_its_elements() -> None:
    assert _diff("/fapi/v1/trades", [], [{"id": 1, "price": "1", "time": 1796194036630}]) == set()


@pytest.mark.parametrize(("recorded", "mock", "expected"), [
    ((400, {"code": -1102, "msg": "a"}), (200, {}), {("status", "", "400 -1102>200")}),
    ((400, {"code": -1102, "msg": "a"}), (400, {"code": -1121, "msg": "b"}), {("code", "$.code", "-1102>-1121")}),
    ((400, {"code": -1102, "msg": "a"}), (400, {"code": -1102, "msg": "other words"}), set()),
])
def test_status_and_error_code_are_compared_but_not_the_message(recorded: tuple[int, Any], mock: tuple[int, Any],
                                                                 expected: set[tuple[str, str, str]]) -> None:
    assert _diff("/fapi/v1/depth", recorded[1], mock[1], (recorded[0], mock[0])) == expected
