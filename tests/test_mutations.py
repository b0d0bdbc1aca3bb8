"""Mutation matrix: the suite against deliberately broken mock behaviours fails the matching rule, and only then.

Each mutant is the reference mock behind a proxy that changes one behaviour (tests/mutants/mutations.py). The
relevant slice of the suite runs against the proxy; rules.json must show the expected rule failed. The conforming
variations (reordered keys, extra fields) must fail nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import SuiteRun
from mutants.mutations import MUTATIONS
from mutants.proxy import ProxyServer
from mutants.targets import TARGETS
from test_wrong_targets import WHOLE_SUITE

from conformance.data import catalogue

# mutant -> (-k slice of the suite, the rule that must fail); a SHOULD rule fails only under --conformance-strict
BREAKING = {
    "non-json-body": ("test_general", "general.json-responses"),
    "reversed-time-order": ("earliest", "general.ascending-time-order"),
    "timestamps-in-seconds": ("test_general and time", "general.millisecond-timestamps"),
    "msg-renamed-message": ("test_errors or test_http", "errors.body-shape"),
    "body-wins-over-query": ("test_parameters", "parameters.query-over-body"),
    "503-text-drift": ("test_errors", "errors.503-service-unavailable"),
    "1008-on-reduce-only": ("test_errors", "errors.503-throttle-exemption"),
    "required-field-missing": ("test_schema and openInterest", "schema.openInterest"),  # a MUST schema rule
    "wrong-signature-accepted": ("test_auth", "auth.signature-required"),
    "no-used-weight-header": ("test_limits", "limits.used-weight-header"),  # SHOULD
    "errors-as-200": ("test_http", "http.4xx-invalid-request"),
    "order-without-symbol": ("test_general or test_observed", "schema.newOrder"),
    "server-time-string": ("test_auth or (test_general and time)", "general.java-types"),
}
CONFORMING = {
    "keys-reordered": "test_general or test_errors or test_http or test_auth or test_parameters",
    "extra-unknown-fields": "test_general or test_errors or test_http or test_auth or test_parameters",
    "gzip-bodies": "test_general or test_errors or test_auth or test_limits",
    "wrong-types-read": "test_parameters or test_auth or test_limits",
    "no-retry-after": "test_http or test_limits",
    "whole-second-times": "test_general or test_auth",
}
# Few generated cases: the mutants need the suite's verdicts, not its breadth.
FAST = ["--conformance-examples=2"]


ALL = {**MUTATIONS, **TARGETS}


def _run(mutant: str, area: str, mock: Any, run_suite: Callable[..., SuiteRun], *extra: str) -> SuiteRun:
    with ProxyServer(mock.url, ALL[mutant]) as proxy:
        return run_suite([f"--conformance-target={proxy.url}", "-k", area, *FAST, *extra])


@pytest.mark.slow
@pytest.mark.parametrize("mutant", list(BREAKING))
def test_mutant_fails_the_rule_it_breaks(mutant: str, fresh_mock: Any, run_suite: Callable[..., SuiteRun]) -> None:
    area, rule_id = BREAKING[mutant]
    strict = () if catalogue.default()[rule_id].is_must else ("--conformance-strict",)
    result = _run(mutant, area, fresh_mock, run_suite, *strict)
    verdict = result.verdicts().get(rule_id)
    assert verdict == "failed", f"{mutant}: [{rule_id}] is {verdict!r}, not 'failed'\n{result.explain()}"
    assert result.code == 1, result.explain()


@pytest.mark.slow
@pytest.mark.parametrize("mutant", list(CONFORMING))
def test_conforming_variation_fails_nothing(mutant: str, fresh_mock: Any, run_suite: Callable[..., SuiteRun]) -> None:
    result = _run(mutant, CONFORMING[mutant], fresh_mock, run_suite)
    assert result.with_verdict("failed", "error") == [], result.explain()
    assert result.with_verdict("passed"), f"{mutant}: nothing was judged\n{result.explain()}"


def test_every_mutation_has_an_expectation() -> None:
    assert set(ALL) == set(BREAKING) | set(CONFORMING) | set(WHOLE_SUITE) | {"unusable-mark-price"}


@pytest.mark.slow
def test_server_time_as_a_string_fails_java_types_once_and_the_signed_tests_still_run(
        fresh_mock: Any, run_suite: Callable[..., SuiteRun]) -> None:
    result = _run("server-time-string", BREAKING["server-time-string"][0], fresh_mock, run_suite)
    assert result.with_verdict("failed") == ["general.java-types"], result.explain()
    assert result.with_verdict("error") == [], result.explain()
    assert "auth.signature-required" in result.with_verdict("passed"), result.explain()


@pytest.mark.slow
def test_unusable_fields_fixtures_read_leave_their_tests_not_tested_naming_the_rule(
        fresh_mock: Any, run_suite: Callable[..., SuiteRun]) -> None:
    result = _run("unusable-mark-price", "test_errors or test_limits", fresh_mock, run_suite)
    assert result.with_verdict("failed", "error") == [], result.explain()
    exemption = next(r for r in result.rules["rules"] if r["id"] == "errors.503-throttle-exemption")
    assert exemption["verdict"] == "not-tested", exemption
    assert "markPrice" in exemption["reason"] and "judged by general.java-types" in exemption["reason"], exemption
