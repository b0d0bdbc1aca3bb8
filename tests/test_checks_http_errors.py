"""Self-tests of the http.* and errors.* checks on the valid/invalid cases of fixtures/cases/{http,errors}."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from conformance import FIXTURES, checks
from conformance.checks import RuleViolation, http
from conformance.checks import errors as err
from conformance.data import catalogue
from conformance.data.exchange import ApiError, Exchange, Request, Response

CASES = FIXTURES / "cases"
PLACEHOLDER = re.compile(r"^\$\{(?P<rule>[a-z0-9.-]+)(?:#(?P<index>\d+))?\}$")


def _literal(value: Any) -> Any:
    """"${rule-id}" / "${rule-id#1}" → that catalogue message: the contract literals are never copied here."""
    if isinstance(value, str) and (m := PLACEHOLDER.match(value)):
        return catalogue.default()[m["rule"]].messages[int(m["index"] or 0)]
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    return [_literal(v) for v in value] if isinstance(value, list) else value


def exchange_of(case: dict[str, Any]) -> Exchange:
    req, resp = case.get("request") or {}, case["response"]
    query = urlencode(req.get("query") or {})
    form = urlencode(req.get("form") or {}).encode()
    headers = {"content-type": "application/x-www-form-urlencoded"} if form else {}
    url = f"http://127.0.0.1:1{req.get('path', '/fapi/v1/time')}" + (f"?{query}" if query else "")
    request = Request(req.get("method", "GET"), url, headers, form)
    body = resp["raw"].encode() if "raw" in resp else json.dumps(_literal(resp["json"])).encode()
    out_headers = {"content-type": resp.get("content_type", "application/json"),
                   **{k.lower(): str(v) for k, v in (resp.get("headers") or {}).items()}}
    return Exchange(request, Response(int(resp["status"]), out_headers, body))


def _judge(case: dict[str, Any]) -> tuple[str, Callable[[Exchange], list[RuleViolation]]]:
    """The rule a case is about and how to judge it: a registered check, a scenario, or a documented answer."""
    if case.get("scenario"):
        scenario = http.SCENARIOS[case["scenario"]]
        return scenario.rule_id, lambda ex: _raised(lambda: http.judge(case["scenario"], ex))
    if case.get("cause"):
        return err.DOCUMENTED_CODE, lambda ex: _raised(lambda: err.documented_code(case["cause"], ex))
    if case.get("documented"):
        return case["documented"], lambda ex: _raised(lambda: err.documented_answer(case["documented"], ex))
    return case["rule"], lambda ex: checks.run(ex, [case["rule"]])


def _raised(call: Callable[[], None]) -> list[RuleViolation]:
    try:
        call()
    except RuleViolation as violation:
        return [violation]
    return []


def load(area: str) -> list[Any]:
    params = []
    for path in sorted((CASES / area).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            params.append(pytest.param({"rule": data.get("rule"), **case}, id=f"{path.stem}/{case['name']}"))
    return params


@pytest.mark.parametrize("case", load("http") + load("errors"))
def test_check_accepts_valid_and_rejects_invalid_case(case: dict[str, Any]) -> None:
    rule_id, judge = _judge(case)
    violations = judge(exchange_of(case))
    if case["valid"]:
        assert violations == [], f"a valid case was rejected: {violations[0] if violations else ''}"
    else:
        assert [v.rule_id for v in violations] == [rule_id], f"an invalid case was accepted: {violations}"
        assert violations[0].actual and violations[0].expected


def test_every_http_and_errors_rule_has_cases() -> None:
    covered = {_judge(p.values[0])[0] for p in load("http") + load("errors")}
    wanted = {r for r in catalogue.default() if r.startswith(("http.", "errors."))}
    assert wanted - covered == set()


def test_violation_lists_every_accepted_throttle_message() -> None:
    ex = exchange_of({"request": {"method": "GET", "path": "/fapi/v1/depth"},
                      "response": {"status": 503, "json": {"code": -1008, "msg": "${errors.503-throttled}"}}})
    [violation] = checks.run(ex, ["errors.503-throttled"])
    assert len(violation.expected) == len(catalogue.default()["errors.503-throttled"].messages) == 2
    assert "GET /fapi/v1/depth" in violation.actual


def test_body_shape_violation_names_the_renamed_field() -> None:
    ex = exchange_of({"response": {"status": 400, "json": {"code": -1, "message": "x"}}})
    with pytest.raises(RuleViolation) as info:
        checks.verify(ex, ["errors.body-shape"])
    assert "found 'message'" in info.value.actual
    assert info.value.render().startswith("[errors.body-shape] Error responses carry an integer code and a string msg")


def test_classifier_judges_only_statuses_with_a_documented_meaning() -> None:
    from conformance.harness.session import Observed

    observed = Observed()
    for status in (200, 400, 403, 404, 408, 418, 429, 500, 503):
        observed(exchange_of({"response": {"status": status, "json": {"code": -1, "msg": "x"}}}))
    assert [ex.response.status for ex in observed.exchanges] == [403, 408, 418, 429, 500, 503]


def test_classifier_finds_every_broken_rule_of_one_answer() -> None:
    ex = exchange_of({"request": {"method": "GET", "path": "/fapi/v1/time"},
                      "response": {"status": 503, "json": {"code": -1008, "message": "${errors.503-throttled}"}}})
    found = {v.rule_id for v in http.violations_of_classified(ex)}
    assert found == {"errors.body-shape", "errors.503-documented-message", "errors.503-throttled"}


def test_error_accessor_reads_code_and_msg_only_of_their_documented_types() -> None:
    def error(body: bytes) -> Any:
        return Response(400, {}, body).error

    assert error(b'{"code": -1102, "msg": "x"}') == ApiError(-1102, "x")
    assert error(b'{"code": true, "msg": 5}') == ApiError(None, None)  # a boolean is not a code
    assert error(b'{"message": "x"}') == ApiError(None, None)
    assert error(b"[1]") is None and error(b"<html>") is None
