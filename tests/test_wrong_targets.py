"""The whole suite against targets that are wrong everywhere: it ends, one cause is one verdict, outputs parse.

Each target is the reference mock behind the mutant proxy (tests/mutants/targets.py), run through the *whole* suite
(not a -k slice), so the end-of-run paths — cleanup, writers, redaction — run against it too.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import SuiteRun
from mutants.proxy import ProxyServer
from mutants.targets import PARTIAL_PATHS, TARGETS

from conformance.checks import parity
from conformance.data import contract

# An external mock keeps the documented limits unless told otherwise: these runs raise them (as the bundled mock
# does), so that pacing does not dominate; the budget follows.
FAST = ["--conformance-examples=2", "--conformance-budget=5"]
WHOLE_SUITE = ("partial-five-endpoints", "garbage-everywhere", "throttled-cancels", "503-everywhere")
TIMEOUT = 240.0


@pytest.fixture
def scaled_mock() -> Iterator[Any]:
    from conformance.mock import MockServer, scaled_limits

    with MockServer(host="127.0.0.1", port=0, limits=scaled_limits(10)) as server:
        yield server


def _run(name: str, mock: Any, run_suite: Callable[..., SuiteRun], *extra: str) -> SuiteRun:
    with ProxyServer(mock.url, TARGETS[name]) as proxy:
        return run_suite([f"--conformance-target={proxy.url}", *FAST, *extra], timeout=TIMEOUT)


def _outputs_parse(result: SuiteRun) -> ET.Element:
    """junit.xml is well-formed after redaction, rules.json and safety.json are JSON, and Allure results exist."""
    root = ET.parse(result.junit).getroot()
    reports = result.junit.parent
    json.loads((reports / "safety.json").read_text(encoding="utf-8"))
    har = reports / "exchanges.har"
    if har.exists():  # written whenever a test sent something (conformance/plugins/recording.py)
        entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
        assert all("request" in e and "response" in e for e in entries)
    assert result.rules.get("rules"), "rules.json has no rules"
    assert "Traceback" not in result.stdout + result.stderr, result.explain()
    assert "INTERNALERROR" not in result.stdout, result.explain()
    return root


def _failed_tests(root: ET.Element) -> list[str]:
    return sorted(f"{case.get('classname')}::{case.get('name')}" for case in root.iter("testcase")
                  if case.find("failure") is not None or case.find("error") is not None)


@pytest.mark.slow
def test_partial_target_fails_once_per_missing_operation_and_nothing_else(
        scaled_mock: Any, run_suite: Callable[..., SuiteRun]) -> None:
    result = _run("partial-five-endpoints", scaled_mock, run_suite)
    root = _outputs_parse(result)
    spec = contract.default()
    # Unsigned probes reach every operation but the trading ones (no credentials: an unknown target).
    missing = sorted(op.id for op in spec.operations.values() if op.path not in PARTIAL_PATHS and not op.trading)
    ztdx = [op_id for op_id in missing if spec.operations[op_id].source == "ztdx"]
    failed = _failed_tests(root)
    assert failed == sorted(f"conformance.test_parity::test_documented_endpoint_is_served[{op}]" for op in ztdx), \
        result.explain()
    assert result.with_verdict("failed") == [parity.ENDPOINT_IMPLEMENTED], result.explain()
    assert result.with_verdict("error") == [], result.explain()
    entry = next(r for r in result.rules["rules"] if r["id"] == parity.ENDPOINT_IMPLEMENTED)
    assert {f["request"].split(" → ")[0] for f in entry["failures"]} == \
        {f"{spec.operations[op].method} {spec.operations[op].path}" for op in ztdx}
    assert all(f["expected"] and f["actual"] and f["curl"].startswith("curl ") for f in entry["failures"])
    binance = next(r for r in result.rules["rules"] if r["id"] == parity.BINANCE_ENDPOINT_IMPLEMENTED)
    assert binance["verdict"] == "xfailed" and binance["distinct_failures"] == len(missing) - len(ztdx)
    depth = next(r for r in result.rules["rules"] if r["id"] == "schema.depth")
    assert depth["verdict"] == "not-tested" and "operation not implemented" in depth["reason"], depth
    summary = [line for line in result.stdout.splitlines() if line.startswith("FAILED general.endpoint-implemented")]
    assert len(summary) == 1 and "Expected" in summary[0] and "Actual" in summary[0], result.stdout[-3000:]
    assert result.code == 1, result.explain()


@pytest.mark.slow
def test_garbage_target_ends_with_a_verdict_per_test_and_parseable_outputs(
        scaled_mock: Any, run_suite: Callable[..., SuiteRun]) -> None:
    result = _run("garbage-everywhere", scaled_mock, run_suite)
    root = _outputs_parse(result)
    cases = list(root.iter("testcase"))
    assert len(cases) > 400, f"only {len(cases)} test cases in junit.xml\n{result.explain()}"
    assert result.with_verdict("failed"), result.explain()
    assert "general.json-responses" in result.with_verdict("failed")
    harness = [r["id"] for r in result.rules["rules"] if any("harness error" in x for x in r.get("reasons", []))]
    assert harness == [], f"harness errors on a garbage target: {harness}\n{result.explain()}"
    safety = json.loads((result.junit.parent / "safety.json").read_text(encoding="utf-8"))
    assert "error" in safety["cleanup"] or safety["cleanup"].get("open_orders_left") is not None, safety["cleanup"]
    assert result.code == 1, result.explain()


@pytest.mark.slow
def test_target_that_throttles_every_cancel_finishes_and_reports_what_it_left(
        scaled_mock: Any, run_suite: Callable[..., SuiteRun]) -> None:
    result = _run("throttled-cancels", scaled_mock, run_suite)
    _outputs_parse(result)
    assert "errors.503-throttle-exemption" in result.with_verdict("failed"), result.explain()
    safety = json.loads((result.junit.parent / "safety.json").read_text(encoding="utf-8"))
    cleanup = safety["cleanup"]
    assert cleanup.get("not_cancelled"), cleanup
    line = next(x for x in result.stdout.splitlines() if x.startswith("open orders left"))
    assert "could not cancel" in line, line
    assert result.with_verdict("error") == [], result.explain()


@pytest.mark.slow
def test_target_that_answers_503_to_everything_but_its_clock_is_unavailable_not_broken(
        scaled_mock: Any, run_suite: Callable[..., SuiteRun]) -> None:
    result = _run("503-everywhere", scaled_mock, run_suite)
    _outputs_parse(result)
    assert result.code == 75, result.explain()
    assert result.with_verdict("failed", "error") == [], result.explain()
    safety = json.loads((result.junit.parent / "safety.json").read_text(encoding="utf-8"))
    assert safety["status"] == result.rules["target"]["status"] == "target unavailable", (safety, result.rules)


def test_every_whole_target_variant_is_run() -> None:
    assert set(WHOLE_SUITE) <= set(TARGETS)
