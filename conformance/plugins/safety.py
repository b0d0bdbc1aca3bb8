"""Hooks that keep a live run safe: cleanup even after Ctrl-C, no secrets in outputs, 'target unavailable' exit."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance.harness import atomic, orders, outcomes, redact, targets, workers
from conformance.harness.governor import Governor
from conformance.harness.journal import Journal
from conformance.harness.session import EXIT_TARGET_UNAVAILABLE, RunState
from conformance.plugins.core import DECISION, STATE

SUMMARY_LINES = 10
# A test's unavailability that speaks for the whole target rather than for one request.
TARGET_WIDE = ("rate-limited", "unreachable")


@dataclass
class RunSafety:
    """What the safety hooks learn during a run; written to <reports>/safety.json at the end."""

    governor: Governor | None = None
    journal: Journal = field(default_factory=Journal)  # the run's (RunState.journal)
    ran: set[str] = field(default_factory=set)
    unavailable: dict[str, str] = field(default_factory=dict)  # nodeid -> reason
    cleanup: dict[str, Any] = field(default_factory=dict)
    cleanups: list[dict[str, Any]] = field(default_factory=list)  # `-n N`: each worker's cleanup (plugins.parallel)
    workers: dict[str, Any] = field(default_factory=dict)  # `-n N`: each worker's own governor figures
    status: str = "ok"
    status_line: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "status_line": self.status_line, "run_prefix": orders.RUN_PREFIX,
                "tests_run": len(self.ran), "tests_unavailable": len(self.unavailable),
                "governor": self.governor.stats() if self.governor else None, "cleanup": self.cleanup,
                **({"governor_by_worker": self.workers} if self.workers else {}),
                "retries": [r.as_dict() for r in self.journal.retries],
                "unknown_outcomes": [f.as_dict() for f in self.journal.unknown_outcomes]}


SAFETY = pytest.StashKey[RunSafety]()


class _RedactingFilter(logging.Filter):
    """Log records pass through redaction: httpx logs full URLs, signatures included, at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact.redact(record.getMessage()), ()
        return True


@pytest.hookimpl(specname="pytest_configure", trylast=True)
def pytest_conformance_safety_configure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    config.stash[SAFETY] = RunSafety(journal=state.journal) if state is not None else RunSafety()
    for name in ("", "httpx", "httpcore", "conformance"):
        logging.getLogger(name).addFilter(_RedactingFilter())


def _redact_report(report: pytest.TestReport) -> None:
    if report.longrepr is not None:
        if isinstance(report.longrepr, tuple):
            path, line, msg = report.longrepr
            report.longrepr = (path, line, redact.redact(msg))
        else:
            text = str(report.longrepr)
            if redact.redact(text) != text:
                report.longrepr = redact.redact(text)
    report.sections = [(title, redact.redact(body)) for title, body in report.sections]


@pytest.hookimpl(specname="pytest_runtest_makereport", wrapper=True, tryfirst=True)
def pytest_conformance_safety_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    _redact_report(report)
    safety = item.config.stash.get(SAFETY, None)
    if safety is not None:
        state = item.config.stash.get(STATE, None)
        if safety.governor is None and state is not None:  # the session's budget, for the summary and the cleanup
            safety.governor = state.governor
        decision = item.stash.get(DECISION, None)
        if call.when == "call" or decision is not None:
            safety.ran.add(item.nodeid)
        if decision is not None and decision.kind == outcomes.UNAVAILABLE:
            safety.unavailable.setdefault(item.nodeid, decision.reason.removeprefix("unavailable: "))
    return report


@pytest.hookimpl(specname="pytest_report_header")
def pytest_conformance_safety_report_header(config: pytest.Config) -> list[str]:
    state = config.stash.get(STATE, None)
    line = targets.guard_line(state.target) if state is not None and state.target is not None else None
    return [line] if line else []


@contextmanager
def _sigint_deferred() -> Iterator[list[int]]:
    """A second Ctrl-C must not abandon the cleanup halfway; it is noted and honoured afterwards."""
    hits: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield hits
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: hits.append(signum))
    try:
        yield hits
    finally:
        signal.signal(signal.SIGINT, previous)


def _status(exitstatus: int, safety: RunSafety) -> tuple[str, str]:
    """'target unavailable' only when no rule failed: a contract failure is never hidden behind it."""
    if exitstatus == 5:  # pytest.ExitCode.NO_TESTS_COLLECTED
        return "nothing selected", "nothing selected: no test matched the selection (-k, -m or paths)"
    if exitstatus == 4:  # a usage error found at collection (unknown rule ID or capability)
        return "configuration error", "configuration error: see the ERROR line; no rule was judged"
    if exitstatus != 0:
        return ("interrupted" if exitstatus == 2 else "failed"), ""
    reasons = list(safety.unavailable.values())
    wide = [r for r in reasons if any(word in r for word in TARGET_WIDE)]
    gov = safety.governor
    limited = gov is not None and (gov.throttled or gov.banned)
    if wide or limited or (safety.ran and len(reasons) * 2 >= len(safety.ran)):
        first = (wide or reasons or [gov.block_reason if gov else "rate-limited"])[0]
        return "target unavailable", (f"target unavailable: {first} — {len(reasons)} of {len(safety.ran)} tests "
                                      "could not be judged; no contract verdict")
    return "ok", ""


@pytest.hookimpl(specname="pytest_sessionfinish", tryfirst=True)
def pytest_conformance_safety_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Runs before the bundled mock stops: clean up, decide the run status, write safety.json."""
    safety, state = session.config.stash.get(SAFETY, None), session.config.stash.get(STATE, None)
    if safety is None or state is None or state.target is None:
        return
    traded = state.journal.orders_sent > 0 or any(f.baselines or f.placed for f in state.journal.factories)
    if state.shared is not None and not state.worker:  # `-n N`: each worker cancelled what it opened
        safety.cleanup = workers.merged_cleanup(safety.cleanups)
    elif traded and state.target.has(targets.TRADING):
        _calm_mock(state)
        with _sigint_deferred() as hits:
            safety.cleanup = orders.cleanup_run(state.target, state.contract, state.journal,
                                                safety.governor or Governor(share=state.budget or 0.5))

        if hits:
            safety.cleanup["interrupts_deferred"] = len(hits)
    elif safety.ran and not state.target.has(targets.TRADING):
        safety.cleanup = {"skipped": f"target without the trading capability ({state.target.kind})"}
    elif safety.ran:
        safety.cleanup = {"skipped": "the run placed no order"}
    if state.unavailable:  # found at start: nothing ran; rules.json says the same (plugin.pytest_sessionfinish)
        safety.status, safety.status_line = "target unavailable", state.unavailable
    else:
        safety.status, safety.status_line = _status(int(session.exitstatus), safety)
    if safety.status != "ok":
        state.run_status, state.run_status_line = safety.status, safety.status_line
    if safety.status == "target unavailable" and not state.unavailable and not state.worker:  # else the plugin says it
        sys.stderr.write(f"fapi-conformance: {safety.status_line}\n")
        session.exitstatus = EXIT_TARGET_UNAVAILABLE
    if not state.worker:  # a worker's figures reach the controller, which writes the run's safety.json
        _write(state, safety)


def _calm_mock(state: RunState) -> None:
    """An interrupted test of a faults-capable target may leave tiny limits, a fault or throttle mode behind (its
    fixture's reset runs later): the cleanup needs the limits the run started with."""
    if state.mock_limits is None or state.target is None:
        return
    from conformance.harness.mock_control import MockControl

    control = MockControl(state.target.base_url)
    try:
        control.calm(state.mock_limits)
    except Exception:
        pass
    finally:
        control.close()


def _write(state: RunState, safety: RunSafety) -> None:
    text = json.dumps(safety.as_dict(), indent=2, default=str)
    atomic.write_text(state.reports / "safety.json", redact.redact(text) + "\n")


@pytest.hookimpl(specname="pytest_sessionfinish", wrapper=True, tryfirst=True)
def pytest_conformance_safety_scrub(session: pytest.Session) -> Iterator[None]:
    """Last pass over every file the run wrote (rules.json, JUnit, Allure results) for secrets: the outermost
    sessionfinish wrapper, so it runs after every writer (the plain hooks, then the other wrappers).

    Ctrl-C is held back from the first writer to the end of the scrub: the tests are over, and an interrupt there
    left half-written outputs (and a traceback); it is told in one line once the outputs are complete."""
    with _sigint_deferred() as hits:
        result = yield
        _scrub(session)
    if hits:
        sys.stderr.write("fapi-conformance: Ctrl-C came while the run wrote its outputs; they were completed first\n")
    return result


def _scrub(session: pytest.Session) -> None:
    config, state = session.config, session.config.stash.get(STATE, None)
    if state is not None and state.worker:  # the controller scrubs once every worker has written its last file
        return
    roots = [Path(p) for p in (getattr(config.option, "xmlpath", None),
                               getattr(config.option, "allure_report_dir", None)) if p]
    if state is not None:
        roots += [state.reports / "rules.json", state.reports / "safety.json"]
    for root in roots:
        files = [root] if root.is_file() else (sorted(root.rglob("*")) if root.is_dir() else [])
        for path in files:
            if path.is_file():
                redact.scrub_file(path)


@pytest.hookimpl(specname="pytest_terminal_summary")
def pytest_conformance_safety_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    safety = config.stash.get(SAFETY, None)
    if safety is None or not (safety.ran or safety.cleanup):
        return
    tr = terminalreporter
    tr.section("conformance safety")
    for line in summary_lines(safety):
        tr.write_line(redact.redact(line))
    state = config.stash.get(STATE, None)
    if safety.governor is not None and safety.governor.waits and state is not None and state.target is not None \
            and state.target.kind == "mock" and state.target_option != "mock":
        tr.write_line(f"paced: this mock keeps the documented limits and the run may use {state.budget} of them; start "
                      "it with --limits-scale 10 and pass --conformance-budget=5 to run unpaced (README: the mock)")


def summary_lines(safety: RunSafety) -> list[str]:
    lines = [orders.cleanup_line(safety.cleanup)]
    if safety.governor is not None:
        s = safety.governor.stats()
        lines.append(f"governor: {s['requests']} requests, weight {s['total_weight']}; peak weight "
                     f"{s['peak_weight_1m']}/{s['weight_budget_1m']} per minute "
                     f"(server said {s['peak_server_weight_1m']}), peak orders {s['peak_orders_1m']}/"
                     f"{s['order_budget_1m']}; paced {s['paced_waits']} times ({s['paced_seconds']} s); "
                     f"HTTP 429: {s['http_429']}, 418: {s['http_418']}")
    journal = safety.journal
    lines.append(f"retries: {len(journal.retries)}")
    lines += [f"  {r.line()}" for r in journal.retries[:SUMMARY_LINES]]
    lines += [f"unknown outcome reconciled: {f.line()}" for f in journal.unknown_outcomes[:SUMMARY_LINES]]
    if safety.status_line:
        lines.append(safety.status_line)
    return lines
