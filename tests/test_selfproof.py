"""The suite proves itself: every MUST rule passes against the bundled mock; bad targets end in one clear line."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import SuiteRun, closed_port

from conformance.data import catalogue
from conformance.harness.session import EXIT_TARGET_UNAVAILABLE

# Judged only where the target is the documented testnet host: on the mock, nothing can judge it.
TESTNET_ONLY = ("general.testnet-parity", "ws.testnet-url")


def _must_rules() -> list[str]:
    return [r.id for r in catalogue.default().values() if r.is_must and r.id not in TESTNET_ONLY]


@pytest.mark.slow
def test_every_must_rule_passes_against_the_bundled_mock(full_mock_run: SuiteRun) -> None:
    verdicts = full_mock_run.verdicts()
    not_passed = {rid: verdicts.get(rid, "absent from rules.json") for rid in _must_rules()
                  if verdicts.get(rid) != "passed"}
    assert not_passed == {}, f"MUST rules that did not pass on the mock: {not_passed}\n{full_mock_run.explain()}"
    assert {rid: verdicts.get(rid) for rid in TESTNET_ONLY} == dict.fromkeys(TESTNET_ONLY, "not-tested")


@pytest.mark.slow
def test_nothing_fails_or_errors_against_the_bundled_mock(full_mock_run: SuiteRun) -> None:
    assert full_mock_run.with_verdict("failed", "error") == [], full_mock_run.explain()
    assert full_mock_run.code == 0, full_mock_run.explain()
    assert full_mock_run.rules["target"]["kind"] == "mock"
    # No warning either: one came from the mock's keepalive pings drawing from the global random inside a
    # Hypothesis strategy, now and then, depending on timing.
    summary = [ln for ln in full_mock_run.stdout.splitlines() if " passed" in ln][-1:]
    assert summary and "warning" not in summary[0], full_mock_run.stdout[-3000:]


def _one_clear_line(result: SuiteRun, prefix: str) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, output[-3000:]
    return lines[0]


def test_an_unreachable_target_ends_in_one_line_and_exit_75(run_suite: Callable[..., SuiteRun]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = run_suite([f"--conformance-target={url}"], timeout=120)
    assert result.code == EXIT_TARGET_UNAVAILABLE, result.explain()
    line = _one_clear_line(result, "fapi-conformance:")
    assert "unavailable" in line and url in line
    assert result.rules, "rules.json was not written"
    assert result.with_verdict("failed", "error") == [], "an unreachable target must not read as a contract failure"
    assert result.rules["target"].get("status") in ("unavailable", "target unavailable"), result.rules["target"]


def test_a_nonsense_target_ends_in_one_line_and_a_usage_error(run_suite: Callable[..., SuiteRun]) -> None:
    result = run_suite(["--conformance-target=nonsense"], timeout=120)
    assert result.code not in (0, EXIT_TARGET_UNAVAILABLE), result.explain()
    line = _one_clear_line(result, "ERROR:")
    assert "nonsense" in line and "mock" in line and "testnet" in line
