"""Outcomes by cause: what a test's checks judged decides its verdict, and every check raises only its own rule."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance import checks
from conformance.checks import RuleViolation, parameters
from conformance.data import catalogue, contract
from conformance.data.exceptions import HarnessError, NotTested, OperationNotImplemented, TargetUnavailable
from conformance.data.exchange import Exchange, Request, Response
from conformance.harness import outcomes, redact

CAT = catalogue.default()
MSG_503 = CAT["errors.503-service-unavailable"].messages[0]
MSG_1008 = CAT["errors.503-throttled"].messages[0]
BODIES: list[tuple[str, bytes]] = [
    ("application/json", b"{}"), ("application/json", b"[]"), ("application/json", b""),
    ("text/html", b"<html>x</html>"), ("application/json", b'{"code": "x", "msg": 1}'),
    ("application/json", b'{"code": 5, "msg": "positive"}'), ("application/json", b'{"code": -1121}'),
    ("application/json", json.dumps({"code": -1001, "msg": MSG_503}).encode()),
    ("application/json", json.dumps({"code": -1008, "msg": MSG_1008}).encode()),
    ("application/json", b'[{"time": 2}, {"time": 1}]'), ("application/json", b'{"serverTime": "soon"}'),
]
STATUSES = (200, 400, 404, 405, 418, 429, 500, 503)


def _corpus() -> list[Exchange]:
    """Answers of every kind, right and wrong, to requests on every operation (signed and not, key or none)."""
    found = []
    for op in contract.default().operations.values():
        for (ctype, body), status in itertools.product(BODIES, STATUSES):
            query = "?symbol=BTCUSDT&reduceOnly=true&side=SELL&timestamp=1&recvWindow=70000&signature=zz"
            headers = {"x-mbx-apikey": "k"} if status % 2 else {}
            request = Request(op.method, f"http://127.0.0.1:1{op.path}{query if status != 400 else ''}", headers)
            found.append(Exchange(request, Response(status, {"content-type": ctype}, body), op))
    return found


def test_every_check_raises_only_the_rule_it_is_registered_under() -> None:
    corpus = _corpus()
    for rule_id, registered in checks.load_all().items():
        for chk, ex in itertools.product(registered, corpus):
            try:
                chk(ex)
            except RuleViolation as violation:
                assert violation.rule_id == rule_id, f"{chk.name} registered under {rule_id} raised {violation}"
    for rule_id, comparisons in parameters.COMPARISONS.items():
        for func, (ref, var) in itertools.product(comparisons, itertools.pairwise(corpus[:400])):
            try:
                func(rule_id, ref, var)
            except RuleViolation as violation:
                assert violation.rule_id == rule_id, f"{func.__name__} compared under {rule_id} raised {violation}"
            except (HarnessError, NotTested):
                pass  # a pair that is not of the comparison's kind


def _decide(exc: BaseException | None, marked: list[str], judgement: checks.Judgement | None = None,
            strict: bool = False) -> outcomes.Decision:
    return outcomes.decide(exc, marked, CAT, strict=strict, deviations={}, judgement=judgement)


def test_a_passing_test_credits_only_the_rules_its_checks_judged() -> None:
    with checks.judging() as judgement:
        checks.judged("general.json-responses")
    decision = _decide(None, ["general.json-responses", "general.java-types"], judgement)
    assert decision.kind == outcomes.PASSED
    assert decision.rules["general.json-responses"].kind == outcomes.PASSED
    assert decision.rules["general.java-types"].kind == outcomes.NOT_TESTED
    assert decision.rules["general.java-types"].incidental


def test_a_test_whose_rules_no_check_judged_is_not_tested() -> None:
    with checks.judging() as judgement:
        pass
    decision = _decide(None, ["general.ascending-time-order"], judgement)
    assert decision.kind == outcomes.NOT_TESTED and decision.pytest_outcome == "skipped"
    assert decision.reason.startswith("not tested:")


def test_an_empty_or_one_element_array_is_not_judged_for_order() -> None:
    op = contract.default().operations["trades"]
    for body in (b"[]", b'[{"id": 1, "price": "1", "qty": "1", "quoteQty": "1", "time": 1700000000000}]'):
        ex = Exchange(Request("GET", "http://127.0.0.1:1/fapi/v1/trades"),
                      Response(200, {"content-type": "application/json"}, body), op)
        with checks.judging() as judgement:
            checks.verify(ex, ["general.ascending-time-order"])
        assert "general.ascending-time-order" not in judgement.judged


def test_a_precondition_is_not_tested_naming_the_rule_that_judges_it() -> None:
    exc = OperationNotImplemented("operation not implemented: GET /fapi/v1/trades answered HTTP 404",
                                  rule_id="general.binance-endpoint-implemented")
    decision = _decide(exc, ["general.millisecond-timestamps"])
    assert decision.kind == outcomes.NOT_TESTED
    assert "judged by general.binance-endpoint-implemented" in decision.reason


def test_a_should_failure_does_not_hide_a_must_failure_of_the_same_test() -> None:
    with checks.judging() as judgement:
        RuleViolation("errors.documented-code", "code -1121", "code -1")
        must = RuleViolation("errors.body-shape", "{code, msg}", "no msg")
    decision = _decide(must, ["errors.body-shape", "errors.documented-code"], judgement)
    assert decision.kind == outcomes.FAILED and decision.rule_id == "errors.body-shape"
    assert decision.rules["errors.documented-code"].kind == outcomes.NON_STRICT


@pytest.mark.parametrize(("exc", "kind"), [(TargetUnavailable("rate-limited: 429"), outcomes.UNAVAILABLE),
                                           (HarnessError("bug"), outcomes.ERROR),
                                           (NotTested("nothing to vary"), outcomes.NOT_TESTED),
                                           (KeyError("x"), outcomes.ERROR)])
def test_exceptions_map_to_their_outcome(exc: BaseException, kind: str) -> None:
    assert _decide(exc, ["general.json-responses"]).kind == kind


def test_an_unregistered_rule_or_an_unknown_selector_is_a_harness_error() -> None:
    ex = Exchange(Request("GET", "http://127.0.0.1:1/fapi/v1/time"), Response(200, {}, b"{}"))
    with pytest.raises(HarnessError):
        checks.verify(ex, ["parameters.any-order"])  # judged by comparison only: no single-answer check
    from conformance.checks.general import _picker

    with pytest.raises(HarnessError):
        _picker("$.time")


def test_scrubbed_junit_stays_well_formed(tmp_path: Path) -> None:
    redact.register_secret("ztdx-scrub-test-secret-000")
    path = tmp_path / "junit.xml"
    path.write_text('<testsuite><testcase name="a"><failure message="key ztdx-scrub-test-secret-000">'
                    'signature=abcdef0123 x-mbx-apikey: ztdx-scrub-test-secret-000</failure></testcase></testsuite>',
                    encoding="utf-8")
    assert redact.scrub_file(path)
    text = path.read_text(encoding="utf-8")
    assert "ztdx-scrub-test-secret-000" not in text and "abcdef0123" not in text
    root = ET.fromstring(text)
    assert "<redacted>" in (root.find("testcase/failure").get("message") or "")  # type: ignore[union-attr]
