"""Self-tests of the schema.<operationId> checks and the schemathesis adapter, on recorded and fixture payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conformance import FIXTURES, catalogue, checks, contract
from conformance import schemathesis_checks as adapter
from conformance.exchange import Exchange, Request, Response

RECORDED = Path(__file__).resolve().parents[1].parent / "shared" / "recorded"
# Binance serves the one-way position shape under v2; ZTDX documents the same fields under v1 (fapi-contract A14).
PATH_ALIASES = {"/fapi/v2/positionRisk": "/fapi/v1/positionRisk"}


def _cases() -> list[Any]:
    params = []
    for path in sorted((FIXTURES / "cases" / "schema").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            params.append(pytest.param(case, id=f"{path.stem}/{case['name']}"))
    return params


def _exchange(op: contract.Operation, status: int, body: bytes) -> Exchange:
    request = Request(op.method, f"http://127.0.0.1:1{op.path}")
    return Exchange(request, Response(status, {"content-type": "application/json"}, body), op)


def _recorded() -> list[Any]:
    manifest = RECORDED / "manifest.json"
    if not manifest.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"recorded payloads absent ({RECORDED})"))]
    spec, params = contract.default(), []
    for entry in json.loads(manifest.read_text()):
        path = PATH_ALIASES.get(entry["path"] or "", entry["path"] or "")
        op = spec.find(entry["method"] or "", path)
        if op is not None and entry["types_reliable"]:
            params.append(pytest.param(_exchange(op, 200, (RECORDED / entry["file"]).read_bytes()),
                                       id=Path(entry["file"]).stem))
    return params


@pytest.mark.parametrize("case", _cases())
def test_schema_check_accepts_valid_and_rejects_invalid_case(case: dict[str, Any]) -> None:
    op = contract.default().operations[case["operation"]]
    resp = case["response"]
    ex = _exchange(op, int(resp["status"]), json.dumps(resp["json"]).encode())
    violations = checks.run(ex, [f"schema.{op.id}"])
    if case["valid"]:
        assert violations == [], f"a valid case was rejected: {violations[0] if violations else ''}"
    else:
        assert [v.rule_id for v in violations] == [f"schema.{op.id}"], "an invalid case was accepted"
        assert violations[0].actual.startswith(f"HTTP {resp['status']}, at $")


@pytest.mark.parametrize("exchange", _recorded())
def test_recorded_response_matches_its_operation_schema(exchange: Exchange) -> None:
    violations = checks.run(exchange, [f"schema.{exchange.operation_id}"])
    assert violations == [], str(violations[0]) if violations else ""


def test_recorded_error_body_matches_error_schema() -> None:
    path = RECORDED / "responses"
    found = sorted(path.rglob("error_-1021_recvwindow.json")) if path.exists() else []
    if not found:
        pytest.skip(f"recorded payloads absent ({RECORDED})")
    ex = _exchange(contract.default().operations["newOrder"], 400, found[0].read_bytes())
    assert checks.run(ex, ["errors.body-shape", "general.java-types", "general.json-responses"]) == []


def test_every_operation_has_its_schema_rule_and_check() -> None:
    rules = catalogue.default()
    registry = checks.load_all()
    for op in contract.default().operations.values():
        rule = rules[f"schema.{op.id}"]
        assert rule.operation == op.id and rule.source == "fapi-contract"
        assert rule.level == ("MUST" if op.source == "ztdx" else "SHOULD"), f"{rule.id}: level follows x-source"
        assert registry.get(rule.id), f"{rule.id} has no registered check"


def test_adapter_rebuilds_the_exchange_as_httpx_response() -> None:
    op = contract.default().operations["time"]
    ex = _exchange(op, 200, b'{"serverTime": 1700000000000}')
    response = adapter.to_httpx(ex)
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200 and response.json() == {"serverTime": 1700000000000}
    assert response.request.url.path == "/fapi/v1/time"


@pytest.mark.parametrize("mode", adapter.MODES)
def test_adapter_generates_seeded_cases(mode: str) -> None:
    spec = contract.default()
    op = spec.operations["depth"]
    runs = [adapter.generate_cases(str(spec.path), op.method, op.path, phase="fuzzing", mode=mode, examples=3,
                                   seed=7) for _ in range(2)]
    assert runs[0] and [c.query for c in runs[0]] == [c.query for c in runs[1]]
    assert adapter.generate_cases(str(spec.path), op.method, op.path, phase="coverage", mode=mode, examples=3,
                                  seed=7)


def test_adapter_attributes_schemathesis_failures_to_catalogue_rules() -> None:
    spec = contract.default()
    op = spec.operations["time"]
    case = adapter.generate_cases(str(spec.path), op.method, op.path, phase="fuzzing", mode="positive",
                                  examples=1, seed=7)[0]
    bad = _exchange(op, 200, b'{"serverTime": "soon"}')
    html = Exchange(bad.request, Response(500, {"content-type": "text/html"}, b"<html></html>"), op)
    assert {v.rule_id for v in adapter.builtin_violations(case, bad, negative=False)} == {"schema.time"}
    assert "http.4xx-invalid-request" in {v.rule_id for v in adapter.builtin_violations(case, html, negative=False)}
    with pytest.raises(checks.RuleViolation):
        adapter.judge(case, bad, negative=False)
