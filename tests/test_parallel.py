"""`pytest conformance -n 2` (pytest-xdist): the serial run's verdicts, one set of reports, exclusive tests alone."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import SuiteRun, closed_port, run_suite_in

from conformance.harness import har, workers
from conformance.plugins import parallel

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("parallel-run")]


@pytest.fixture(scope="session")
def parallel_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """The whole suite against the bundled mock with two workers, once for this module's tests. Session scope: a
    worker tears a module fixture down whenever its next item is another module's, and then builds it again."""
    return run_suite_in(tmp_path_factory.mktemp("parallel-run"), ["-n", "2"])


def _testcases(junit: Path) -> list[str]:
    return sorted(f"{c.get('classname')}::{c.get('name')}" for c in ET.parse(junit).iter("testcase"))


def _log(run: SuiteRun) -> dict[str, Any]:
    return har.load(run.junit.parent / har.HAR_NAME)


def test_two_workers_give_every_rule_the_serial_verdict(parallel_run: SuiteRun, full_mock_run: SuiteRun) -> None:
    assert parallel_run.code == full_mock_run.code, parallel_run.explain()
    assert len(parallel_run.verdicts()) == len(full_mock_run.verdicts()) > 0
    assert parallel_run.verdicts() == full_mock_run.verdicts()


def test_two_workers_write_one_junit_and_one_recording_of_every_test(parallel_run: SuiteRun,
                                                                      full_mock_run: SuiteRun) -> None:
    assert _testcases(parallel_run.junit) == _testcases(full_mock_run.junit)
    tests = sorted(t["nodeid"] for t in _log(parallel_run)["_tests"])
    assert tests == sorted(t["nodeid"] for t in _log(full_mock_run)["_tests"])
    assert len(tests) == len(set(tests))  # each test recorded once, by the worker that ran it
    # each exchange once: a passive test's copies of the other workers' answers point at the sender's entry
    keys = [parallel._key(entry) for entry in _log(parallel_run)["entries"]]
    assert len(keys) == len(set(keys)) > 0


def test_two_workers_report_one_budget_and_one_cleanup(parallel_run: SuiteRun, full_mock_run: SuiteRun) -> None:
    safety = json.loads((parallel_run.junit.parent / "safety.json").read_text(encoding="utf-8"))
    serial = json.loads((full_mock_run.junit.parent / "safety.json").read_text(encoding="utf-8"))
    assert safety["status"] == "ok" and safety["tests_run"] == serial["tests_run"]
    gov = safety["governor"]
    # the controller's own checks plus both workers' requests: more than either worker could send alone
    assert gov["requests"] >= serial["governor"]["requests"] * 0.9 and gov["http_429"] == gov["http_418"] == 0
    assert gov["peak_weight_1m"] <= gov["weight_budget_1m"]
    assert safety["cleanup"]["open_orders_left"] == 0 and len(safety["cleanup"]["run_prefix"].split(",")) == 2


def test_two_workers_share_one_allure_results_folder(parallel_run: SuiteRun, full_mock_run: SuiteRun) -> None:
    def results(run: SuiteRun) -> list[str]:
        folder = run.junit.parent / "allure-results"
        return sorted(json.loads(p.read_text(encoding="utf-8"))["fullName"] for p in folder.glob("*-result.json"))

    assert results(parallel_run) == results(full_mock_run)


def _spans(log: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Each test's first request start to its last answer, in UNIX ms."""
    spans: dict[str, tuple[int, int]] = {}
    for entry in log["entries"]:
        start = har.started_ms(entry)
        end = start + int(entry.get("time") or 0)
        first, last = spans.get(entry["_test"], (start, end))
        spans[entry["_test"]] = (min(first, start), max(last, end))
    return spans


def test_no_request_of_another_test_is_sent_while_an_exclusive_test_runs(parallel_run: SuiteRun) -> None:
    log = _log(parallel_run)
    exclusive = {t["nodeid"] for t in log["_tests"] if workers.EXCLUSIVE_FIXTURES & set(t["fixtures"])}
    spans = _spans(log)
    assert len(exclusive & set(spans)) >= 10  # faults, limits and throttle mode: the run has many
    overlaps = [(nodeid, entry["_test"], entry["request"]["url"]) for nodeid in exclusive & set(spans)
                for entry in log["entries"] if entry["_test"] not in (nodeid, "")
                and spans[nodeid][0] < har.started_ms(entry) < spans[nodeid][1]]
    assert overlaps == []


def test_an_unreachable_target_on_two_workers_is_one_line_and_exit_75(tmp_path: Path) -> None:
    run = run_suite_in(tmp_path, ["-n", "2", f"--conformance-target=http://127.0.0.1:{closed_port()}"])
    lines = [ln for ln in (run.stdout + run.stderr).splitlines() if ln.startswith("fapi-conformance:")]
    assert run.code == 75, run.explain()
    assert len(lines) == 1 and "target unavailable" in lines[0], lines  # the controller's, not one per worker
    assert run.rules["target"]["status"] == "target unavailable"
