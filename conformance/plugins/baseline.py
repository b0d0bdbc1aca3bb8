"""Hooks of `--conformance-baseline=FILE`: only failures not in the previous rules.json fail the run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.data.exceptions import ConfigError
from conformance.harness import atomic, baseline, redact
from conformance.plugins.allure3 import BASELINE_MARK, edit_results
from conformance.plugins.core import STATE

BASELINE = pytest.StashKey[dict[str, Any]]()
RESULT = pytest.StashKey[baseline.Comparison]()
ALLURE_TAG = "baseline: "


@pytest.hookimpl(specname="pytest_addoption")
def pytest_conformance_baseline_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("conformance").addoption(
        "--conformance-baseline", default=None, metavar="FILE",
        help="a previous rules.json: only failures not in it fail the run; rules are listed as new failure, "
             "fixed, still failing or passing")


@pytest.hookimpl(specname="pytest_configure")
def pytest_conformance_baseline_configure(config: pytest.Config) -> None:
    path = config.getoption("conformance_baseline", None)
    if path:
        try:
            config.stash[BASELINE] = baseline.load(Path(path))
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None


def _test_key(nodeid: str) -> tuple[str, str]:
    """allure-pytest's (package label, name) of a test: conformance/test_x.py::test_y[p] -> conformance.test_x."""
    path, _, name = nodeid.partition("::")
    return path.removesuffix(".py").replace("/", "."), name.rpartition("::")[2]


def _failed_tests(current: dict[str, Any]) -> dict[tuple[str, str], str]:
    """Each failing test's baseline mark: 'new failure' wins over 'known failure' for a test with both."""
    marks: dict[tuple[str, str], str] = {}
    for entry in current.get("rules", []):
        for failure in entry.get("failures", []):
            for nodeid in failure.get("tests", []):
                if failure.get("baseline") == "new":
                    marks[_test_key(nodeid)] = baseline.NEW
                else:
                    marks.setdefault(_test_key(nodeid), "known failure")
    return marks


def _tag_allure(results_dir: Path, status: dict[str, str], current: dict[str, Any]) -> None:
    """Each Allure result of a rule gets a `tag` label with its baseline status (shown and filterable); a failure
    the baseline had is also marked in its message, which allurerc.mjs's resolution rule accepts as known."""
    failed = _failed_tests(current)

    def tag(result: dict[str, Any]) -> bool:
        labels = result.setdefault("labels", [])
        rules = [lab.get("value") for lab in labels if lab.get("name") == "rule"]
        package = next((lab.get("value") for lab in labels if lab.get("name") == "package"), "")
        mark = failed.get((str(package), str(result.get("name", "")))) if result.get("status") == "failed" else None
        found = mark or next((status[r] for r in rules if r in status), None)
        if not found:
            return False
        labels.append({"name": "tag", "value": ALLURE_TAG + found})
        if mark == "known failure":
            details = result.setdefault("statusDetails", {})
            details["message"] = f"{details.get('message', '')}\n{BASELINE_MARK}"
        return True

    edit_results(results_dir, tag)


@pytest.hookimpl(specname="pytest_sessionfinish", wrapper=True)
def pytest_conformance_baseline_sessionfinish(session: pytest.Session) -> Iterator[None]:
    """After every plain sessionfinish hook: rules.json is written; compare, annotate it, set the exit status."""
    result = yield
    config, state = session.config, session.config.stash.get(STATE, None)
    path = state.reports / "rules.json" if state is not None else None
    if BASELINE not in config.stash or state is None or path is None or not path.is_file() or state.unavailable:
        return result
    if state.worker:  # the controller compares the run's rules.json
        return result
    current = json.loads(path.read_text(encoding="utf-8"))
    file = str(config.getoption("conformance_baseline"))
    comparison = config.stash[RESULT] = baseline.compare(config.stash[BASELINE], current)
    baseline.annotate(current, comparison, file)
    if session.exitstatus == 1 and not baseline.fails_run(current, comparison):
        session.exitstatus = 0  # every failure is one the baseline already had
    allure_dir = getattr(config.option, "allure_report_dir", None)
    if allure_dir and Path(allure_dir).is_dir():
        _tag_allure(Path(allure_dir), comparison.status, current)
    atomic.write_text(path, redact.redact(json.dumps(current, indent=2)) + "\n")
    return result


@pytest.hookimpl(specname="pytest_terminal_summary")
def pytest_conformance_baseline_summary(terminalreporter: Any, config: pytest.Config) -> None:
    comparison = config.stash.get(RESULT, None)
    if comparison is None:
        return
    terminalreporter.section("conformance baseline")
    for line in baseline.summary_lines(comparison, str(config.getoption("conformance_baseline"))):
        terminalreporter.write_line(redact.redact(line))
