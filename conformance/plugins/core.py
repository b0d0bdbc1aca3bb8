"""The pytest plugin: hooks only — options, target start-up, collection rules, outcomes, rules.json."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from conformance import checks
from conformance.data import inputs, spec_check
from conformance.data.exceptions import ConfigError, NotTested, TargetUnavailable
from conformance.harness import outcomes, redact, refusal, selection, targets, workers
from conformance.harness.session import EXIT_TARGET_UNAVAILABLE, RunState
from conformance.plugins import options

STATE = pytest.StashKey[RunState]()
DECISION = pytest.StashKey[outcomes.Decision]()
JUDGEMENT = pytest.StashKey[checks.Judgement]()


@pytest.hookimpl(tryfirst=True)  # makes the "conformance" group the other plugins add options to
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "fapi contract conformance")
    group.addoption("--conformance-target", default="mock",
                    help="mock (default: bundled mock on a free loopback port), testnet, or an http(s) base URL")
    group.addoption("--conformance-strict", action="store_true", help="treat SHOULD rules as MUST")
    group.addoption("--conformance-deviations", default=None,
                    help="known-deviations file (default: fixtures/deviations/<target>.yaml)")
    group.addoption("--conformance-reports", default=None, help="output folder (default: reports/)")
    group.addoption("--conformance-provoke-limits", action="store_true",
                    help="allow deliberate over-limit traffic (429/418) on a non-mock target")
    group.addoption("--conformance-allow-production-trading", action="store_true",
                    help="DANGER: allow trading tests on a production or unknown host (real money)")
    group.addoption("--conformance-budget", default=None,  # parsed by conformance.plugins.options (one-line errors)
                    help="share of the documented per-minute weight and order limits the run may use (default 0.5;"
                         " the bundled mock runs with 10x the documented limits and a budget of 5.0)")
    group.addoption("--conformance-profile", default="full",
                    help="full (default) or testnet: the nightly profile — fewer generated cases, nothing provoked")
    group.addoption("--conformance-seed", default=20261125, help="seed for generated cases")
    group.addoption("--conformance-examples", default=10,
                    help="generated examples per operation in the schema module")
    group.addoption("--conformance-ws-url", default=None, metavar="ws(s)://...",
                    help="the target's WebSocket URL (default: the testnet's documented wss://api-sepolia.ztdx.io/ws, "
                         "the bundled mock's /ws, else ws(s)://<target host>/ws, not tested when nothing answers)")
    group.addoption("--conformance-rule", action="append", default=[], metavar="ID|GLOB",
                    help="run only the tests of these rules (repeatable; e.g. 'auth.*'); the others are 'not tested'")
    group.addoption("--conformance-operation", action="append", default=[], metavar="operationId|GLOB",
                    help="run only the tests of these operations (repeatable; e.g. 'newOrder', '*Order*')")


@pytest.hookimpl(tryfirst=True)  # before junitxml and allure-pytest read their options
def pytest_configure(config: pytest.Config) -> None:
    try:
        options.check(config)  # every option, then every input file, before anything starts or is imported
        inputs.check_cases()
        config.stash[STATE] = state = RunState.from_config(config)
        spec_check.check_rule_operations(state.catalogue, state.contract)
        selection.resolve(config, state)
    except ConfigError as exc:
        if not hasattr(config, "workerinput"):  # a worker's refusal is the controller's, already recorded
            refusal.record(config, str(exc))
        raise pytest.UsageError(str(exc)) from None
    if workers.role(config) == workers.CONTROLLER:
        state.shared = Path(tempfile.mkdtemp(prefix="fapi-conformance-"))
    elif workers.role(config) == workers.WORKER:
        config.option.clean_alluredir = False  # the controller cleaned it; the workers' results share the folder
    # Results land in the reports folder by default: JUnit and Allure results beside rules.json.
    if getattr(config.option, "xmlpath", None) is None:
        config.option.xmlpath = str(state.reports / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and config.option.allure_report_dir is None:
        config.option.allure_report_dir = str(state.reports / "allure-results")
        config.option.clean_alluredir = True


def pytest_sessionstart(session: pytest.Session) -> None:
    state = session.config.stash[STATE]
    if workers.role(session.config) == workers.WORKER:  # the controller started the target and checked it
        state.attach(*workers.handed(session.config))
        return
    try:
        state.start()
    except ConfigError as exc:
        state.stop()
        refusal.record(session.config, str(exc), state.target_info() if state.target else None)
        raise pytest.UsageError(str(exc)) from None
    except TargetUnavailable as exc:
        # No test runs and no rule is judged: collection is emptied, and sessionfinish says so in one line.
        state.stop()
        state.unavailable = f"target unavailable: {exc.reason}"


def _marked_rules(item: pytest.Item) -> list[str]:
    return [rid for mark in item.iter_markers("rule") for rid in mark.args]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[STATE]
    assert state.target is not None
    if state.unavailable:
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
        return
    selection.apply(config, items, state)
    # Passive tests judge what the whole run saw: they run last, in their modules' order.
    items.sort(key=lambda item: item.get_closest_marker("passive") is not None)
    for item in items:
        for rule_id in _marked_rules(item):
            try:
                state.catalogue[rule_id]
            except ConfigError as exc:
                raise pytest.UsageError(f"{item.nodeid}: {exc}") from None
        for mark in item.iter_markers("capability"):
            missing = [c for c in mark.args if not state.target.has(c)]
            unknown = [c for c in mark.args if c not in targets.KNOWN_CAPABILITIES]
            if unknown:
                raise pytest.UsageError(f"{item.nodeid}: unknown capability {unknown[0]!r}")
            if missing:
                item.add_marker(pytest.mark.skip(
                    reason=f"capability missing: {', '.join(missing)} (target {state.target.name})"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def,unused-ignore]
    """What the test's checks judge is collected while it runs: a pass credits only the rules a check judged."""
    with checks.judging() as judgement:
        item.stash[JUDGEMENT] = judgement
        return (yield)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def,unused-ignore]
    report: pytest.TestReport = yield
    state = item.config.stash[STATE]
    marked = _marked_rules(item)
    exc = call.excinfo.value if call.excinfo else None
    if report.skipped and not isinstance(exc, TargetUnavailable | NotTested):
        if call.when == "setup":
            state.results.record(item.nodeid, marked, None)  # type: ignore[union-attr]
        return report
    if call.when != "call" and report.passed:
        return report
    judgement = item.stash.get(JUDGEMENT, None) if call.when == "call" else None
    decision = outcomes.decide(exc, marked, state.catalogue, strict=state.strict, deviations=state.deviations,
                               judgement=judgement)
    if call.when != "call" and decision.kind == outcomes.FAILED:
        decision = outcomes.Decision(outcomes.ERROR, decision.rule_id, f"[harness error] {exc}",
                                     rules={r: outcomes.RuleOutcome(outcomes.ERROR, f"[harness error] {exc}")
                                            for r in marked})
    item.stash[DECISION] = decision
    state.results.record(item.nodeid, marked, decision)  # type: ignore[union-attr]
    _apply(report, decision, item)
    return report


def _apply(report: pytest.TestReport, decision: outcomes.Decision, item: pytest.Item) -> None:
    report.user_properties.append(("verdict", decision.kind))
    if decision.rule_id:
        report.user_properties.append(("rule", decision.rule_id))
    if decision.kind == outcomes.PASSED:
        return
    report.outcome = decision.pytest_outcome  # type: ignore[assignment]
    if decision.is_xfail:
        report.wasxfail = decision.reason
    elif decision.is_skip:
        path, lineno, _ = item.location
        report.longrepr = (str(path), (lineno or 0) + 1, f"Skipped: {decision.reason}")
    else:
        crash = getattr(report.longrepr, "reprcrash", None)
        if crash is not None:
            crash.message = decision.reason  # failure messages start with "[<rule id>]"
        else:
            report.longrepr = decision.reason


@pytest.hookimpl(tryfirst=True)  # the target line, printed after the safety guard's line
def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash.get(STATE, None)
    if state is None or state.target is None:
        return []
    t = state.target
    return [f"conformance target: {t.name} {t.base_url} (kind {t.kind}; capabilities: "
            f"{', '.join(sorted(t.capabilities)) or 'none'}); strict={state.strict}; "
            f"seed={config.getoption('conformance_seed')}"]


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Before pytest's own last line: one line per failed rule, with its first Expected / Actual."""
    state = config.stash.get(STATE, None)
    if state is None or state.results is None or state.unavailable:
        return
    lines = state.results.summary_lines()
    if lines:
        terminalreporter.section("conformance verdicts")
        for line in lines:
            terminalreporter.write_line(redact.redact(line))


def _write_results(state: RunState) -> None:
    if state.results is not None and not state.worker:  # a worker's results reach the controller (parallel.py)
        state.results.write(state.reports / "rules.json", state.target_info())


@pytest.hookimpl(trylast=True)  # after the safety cleanup, which still needs the bundled mock
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None:
        return
    if state.unavailable and not state.worker:  # the controller says it, once
        state.run_status, state.run_status_line = "target unavailable", state.unavailable
        sys.stderr.write(f"fapi-conformance: {state.unavailable}\n")
        session.exitstatus = EXIT_TARGET_UNAVAILABLE
    _write_results(state)
    state.stop()
    if state.shared is not None and not state.worker:
        shutil.rmtree(state.shared, ignore_errors=True)
