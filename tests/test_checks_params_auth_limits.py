"""Self-tests of the parameters, auth and limits checks: valid and invalid cases of fixtures/cases/<area>/*.yaml.

A case with a `reference` runs the comparison checks (reference, exchange); one without runs the single-exchange
checks of its rule. Cases are data: the file stem and case name are the test ID.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from conformance import FIXTURES, checks
from conformance.checks import RuleViolation
from conformance.checks.http import ban_follows, first_refusal_is_429
from conformance.checks.parameters import compare
from conformance.data import contract
from conformance.data.exceptions import HarnessError
from conformance.data.exchange import Exchange, Request, Response

AREAS = ("parameters", "auth", "limits")
KEY = "ztdx-test-key-0123456789"


def load_cases() -> list[Any]:
    params = []
    for area in AREAS:
        for path in sorted((FIXTURES / "cases" / area).glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            for case in data["cases"]:
                merged = {"rule": data["rule"], **case}
                params.append(pytest.param(merged, id=f"{area}/{path.stem}/{case['name']}"))
    return params


def build(spec: dict[str, Any]) -> Exchange:
    """An Exchange from a case's {request: {method, path, query, body, headers}, response: {status, headers, json}}."""
    req, resp = spec["request"], spec["response"]
    headers = {k.lower(): v for k, v in req.get("headers", {"X-MBX-APIKEY": KEY}).items()}
    body = req.get("body", "").encode()
    if body:
        headers.setdefault("content-type", "application/x-www-form-urlencoded")
    query = f"?{req['query']}" if req.get("query") else ""
    request = Request(req["method"], f"http://127.0.0.1:1{req['path']}{query}", headers, body)
    payload = resp.get("raw", "").encode() if "raw" in resp else json.dumps(resp.get("json", {})).encode()
    resp_headers = {"content-type": "application/json"} | {k.lower(): str(v) for k, v in
                                                           resp.get("headers", {}).items()}
    return Exchange(request, Response(int(resp["status"]), resp_headers, payload),
                    contract.default().find(req["method"], req["path"]))


@pytest.mark.parametrize("case", load_cases())
def test_check_accepts_valid_and_rejects_invalid_case(case: dict[str, Any]) -> None:
    exchange = build(case["exchange"])
    if "reference" in case:
        violations = compare(build(case["reference"]), exchange, [case["rule"]])
    else:
        violations = checks.run(exchange, [case["rule"]])
    if case["valid"]:
        assert violations == [], f"a valid case was rejected: {violations[0] if violations else ''}"
    else:
        assert [v.rule_id for v in violations] == [case["rule"]], "an invalid case was accepted"
        assert violations[0].actual and violations[0].expected


def test_every_area_has_valid_and_invalid_cases_for_each_rule() -> None:
    seen: dict[str, set[bool]] = {}
    for param in load_cases():
        case = param.values[0]
        seen.setdefault(case["rule"], set()).add(case["valid"])
    assert all(v == {True, False} for v in seen.values()), {k: v for k, v in seen.items() if v != {True, False}}
    for prefix in AREAS:
        assert any(rule.startswith(prefix + ".") for rule in seen), f"no cases for the {prefix} area"


def _timed(status: int, used: int | None = None, retry: str | None = None) -> Exchange:
    headers = {"x-mbx-used-weight-1m": str(used)} if used is not None else {}
    headers |= {"retry-after": retry} if retry else {}
    return build({"request": {"method": "GET", "path": "/fapi/v1/time", "headers": {}},
                  "response": {"status": status, "headers": headers, "json": {"code": -1003, "msg": "x"}
                               if status >= 400 else {"serverTime": 1700000000000}}})


def test_first_refusal_must_be_429_once_the_limit_is_crossed() -> None:
    first_refusal_is_429([_timed(200), _timed(200), _timed(429)], limit=2)
    with pytest.raises(RuleViolation, match=r"http\.429-rate-limit"):
        first_refusal_is_429([_timed(200), _timed(200), _timed(503)], limit=2)
    with pytest.raises(RuleViolation, match=r"http\.429-rate-limit"):
        first_refusal_is_429([_timed(200), _timed(429)], limit=2)  # refused while still within the limit
    with pytest.raises(HarnessError):
        first_refusal_is_429([_timed(200)], limit=2)


def test_continuing_after_a_429_must_end_in_418() -> None:
    ban_follows([_timed(429), _timed(418)])
    with pytest.raises(RuleViolation, match=r"http\.418-ban"):
        ban_follows([_timed(429), _timed(429), _timed(429)])
    with pytest.raises(RuleViolation, match=r"http\.418-ban"):
        ban_follows([_timed(200)])


def test_inconclusive_timestamp_pair_is_a_harness_error() -> None:
    def signed(ts: int) -> dict[str, Any]:
        return {"request": {"method": "GET", "path": "/fapi/v1/positionSide/dual",
                            "query": f"timestamp={ts}&signature={'a' * 64}"},
                "response": {"status": 200, "json": {"dualSidePosition": False}}}
    with pytest.raises(HarnessError, match="too close"):
        compare(build(signed(1_700_000_010_000)), build(signed(1_700_000_005_000)), ["auth.timestamp-window"])
