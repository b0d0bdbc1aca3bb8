"""Self-tests of the general-info checks: recorded payloads and the valid/invalid cases of fixtures/cases/general."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import FIXTURES, checks
from conformance.checks import RuleViolation
from conformance.data import contract
from conformance.data.exchange import Exchange, Request, Response

CASES = FIXTURES / "cases"
RECORDED = Path(__file__).resolve().parents[1].parent / "shared" / "recorded"
GENERAL_RULES = ("general.json-responses", "general.ascending-time-order", "general.millisecond-timestamps",
                 "general.java-types")


def load_cases(area: str) -> list[Any]:
    """Every case of fixtures/cases/<area>/*.yaml as a pytest param with the ID '<file stem>/<case name>'."""
    params = []
    for path in sorted((CASES / area).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            merged = {"rule": data.get("rule"), "operation": data.get("operation"), **case}
            params.append(pytest.param(merged, id=f"{path.stem}/{case['name']}"))
    return params


def exchange_for(case: dict[str, Any]) -> Exchange:
    op = contract.default().operations[case["operation"]]
    resp = case["response"]
    body = resp["raw"].encode() if "raw" in resp else json.dumps(resp["json"]).encode()
    ctype = resp.get("content_type", "application/json")
    headers = {"content-type": ctype} if ctype else {}
    request = Request(op.method, f"http://127.0.0.1:1{op.path}", {})
    return Exchange(request, Response(int(resp["status"]), headers, body), op)


def recorded_exchanges(reliable_types: bool) -> list[Any]:
    """Recorded real bodies of operations in our spec, as 200 exchanges (ccxt's stringified ones only when asked)."""
    manifest = RECORDED / "manifest.json"
    if not manifest.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"recorded payloads absent ({RECORDED})"))]
    spec = contract.default()
    params = []
    for entry in json.loads(manifest.read_text()):
        op = spec.find(entry["method"] or "", entry["path"] or "")
        if op is None or (reliable_types and not entry["types_reliable"]):
            continue
        body = (RECORDED / entry["file"]).read_bytes()
        request = Request(op.method, f"http://127.0.0.1:1{op.path}", {})
        ex = Exchange(request, Response(200, {"content-type": "application/json"}, body), op)
        params.append(pytest.param(ex, id=Path(entry["file"]).stem))
    return params


@pytest.mark.parametrize("case", load_cases("general"))
def test_general_check_accepts_valid_and_rejects_invalid_case(case: dict[str, Any]) -> None:
    violations = checks.run(exchange_for(case), [case["rule"]])
    if case["valid"]:
        assert violations == [], f"a valid case was rejected: {violations[0] if violations else ''}"
    else:
        assert [v.rule_id for v in violations] == [case["rule"]], "an invalid case was accepted"
        assert violations[0].actual and violations[0].expected


@pytest.mark.parametrize("exchange", recorded_exchanges(reliable_types=True))
def test_recorded_response_passes_every_general_check(exchange: Exchange) -> None:
    violations = checks.run(exchange, GENERAL_RULES)
    assert violations == [], "\n".join(str(v) for v in violations)


@pytest.mark.parametrize("exchange", recorded_exchanges(reliable_types=False))
def test_recorded_response_is_json_and_time_ordered(exchange: Exchange) -> None:
    violations = checks.run(exchange, ["general.json-responses", "general.ascending-time-order"])
    assert violations == [], "\n".join(str(v) for v in violations)


def test_violation_names_first_out_of_order_pair() -> None:
    case = next(p.values[0] for p in load_cases("general") if p.id == "ascending-time-order/one-element-out-of-place")
    with pytest.raises(RuleViolation) as info:
        checks.verify(exchange_for(case), ["general.ascending-time-order"])
    assert "$[1].time = 1700000300000" in info.value.actual and "$[2].time = 1700000200000" in info.value.actual


def test_java_types_ignore_fields_the_schema_does_not_type() -> None:
    op = contract.default().operations["time"]
    body = json.dumps({"serverTime": 1700000000000, "undocumented": [1.5, "x", None]}).encode()
    ex = Exchange(Request("GET", "http://127.0.0.1:1/fapi/v1/time"),
                  Response(200, {"content-type": "application/json"}, body), op)
    assert checks.run(ex, ["general.java-types"]) == []


def _problems(op_id: str, body: Any) -> list[tuple[str, str]]:
    from conformance.checks.general import java_type_problems

    op = contract.default().operations[op_id]
    ex = Exchange(Request(op.method, f"http://127.0.0.1:1{op.path}"),
                  Response(200, {"content-type": "application/json"}, json.dumps(body).encode()), op)
    return list(java_type_problems(ex))


def test_java_types_name_every_wrong_leaf_of_a_large_array_by_its_path() -> None:
    row = [1700000000000, "1.0", "2.0", "0.5", "1.5", "10.0", 1700000059999, "15.0", 12, "5.0", "7.5", "0"]
    rows = [list(row) for _ in range(500)]
    rows[7][3], rows[9][8], rows[499][0] = 1.5, "x", "1700000000000"
    found = _problems("klines", rows)
    assert [path for path, _ in found] == ["$[7][3]", "$[9][8]", "$[499][0]"]
    assert "DECIMAL" in found[0][1] and "integer" in found[1][1] and "integer" in found[2][1]
    assert _problems("klines", [row] * 500) == []


def test_java_types_accept_a_value_one_branch_of_a_union_accepts_and_report_the_closest_branch_otherwise() -> None:
    item = {"symbol": "BTCUSDT", "markPrice": "1.0", "indexPrice": "1.0", "lastFundingRate": "0.0001",
            "nextFundingTime": 1700000000000, "time": 1700000000000}
    assert _problems("premiumIndex", item) == [] and _problems("premiumIndex", [item, item]) == []
    wrong = [item, {**item, "time": "now"}]
    assert _problems("premiumIndex", wrong) == [("$[1].time", "'now' (str) where the schema says integer (int64)")]
