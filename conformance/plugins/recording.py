"""HAR recorder plugin: every exchange of the run, its operation and the verdicts it fed, in reports/exchanges.har."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import checks
from conformance.checks import RuleViolation
from conformance.data.exchange import Exchange
from conformance.harness import atomic, har, redact
from conformance.harness.client import Client
from conformance.harness.session import RunState
from conformance.plugins.core import DECISION, STATE
from conformance.plugins.fixtures import EXCHANGES

HAR_NAME = har.HAR_NAME


def _applied(rule_ids: list[str], exchanges: tuple[Exchange, ...]) -> list[str]:
    """The rules a check actually applied to (a comparison always applies): what the test credits as judged."""
    if len(exchanges) != 1:
        return list(rule_ids)
    return [r for r in rule_ids if any(c.applies(exchanges[0]) for c in checks.REGISTRY.get(r, []))]


@dataclass
class Recorder:
    """Collects one test at a time: every exchange its clients sent (setup and teardown too, in the order sent),
    the judgements its checks made, and its decision. An exchange judged again by a later test keeps its entry."""

    api_key: str | None = None
    secret: str | None = None
    current: str | None = None
    pending: list[tuple[list[str], tuple[Exchange, ...], list[RuleViolation]]] = field(default_factory=list)
    decisions: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    tests: list[dict[str, Any]] = field(default_factory=list)
    heard: list[tuple[Exchange, float]] = field(default_factory=list)  # sent since the last test was finished
    index: dict[int, int] = field(default_factory=dict)  # id(exchange) -> entry
    kept: list[Exchange] = field(default_factory=list)  # holds every recorded exchange, so that no id is reused
    clients: set[int] = field(default_factory=set)

    def hear(self, ex: Exchange) -> None:
        self.heard.append((ex, time.time() - ex.response.elapsed_ms / 1000))

    def listen(self, client: Client) -> None:
        """Listen to a client for the rest of the run: an Exchange carries no clock of its own, and a fixture's
        exchanges outside the test body are part of the sequence a drift run sends again."""
        if id(client) not in self.clients:
            client.listeners.append(self.hear)
            self.clients.add(id(client))

    def observe(self, rule_ids: list[str], exchanges: tuple[Exchange, ...], found: list[RuleViolation]) -> None:
        if self.current is not None:
            self.pending.append((rule_ids, exchanges, found))

    def _add(self, ex: Exchange, nodeid: str, started: float | None = None) -> int:
        if id(ex) not in self.index:
            self.index[id(ex)] = len(self.entries)
            self.kept.append(ex)
            self.entries.append(har.entry(ex, test=nodeid, signature=har.signature_state(ex.request, self.secret),
                                          api_key=har.key_state(ex.request, self.api_key),
                                          started=started or time.time()))
        return self.index[id(ex)]

    def flush(self, nodeid: str) -> list[int]:
        refs = [self._add(ex, nodeid, when) for ex, when in self.heard]
        self.heard = []
        return refs

    def finish(self, item: pytest.Item, sent: list[Exchange]) -> None:
        """Turn the test's exchanges and judgements into entries and one `_tests` record."""
        refs = self.flush(item.nodeid) + [self._add(ex, item.nodeid) for ex in sent]
        judgements = []
        for rule_ids, exchanges, found in self.pending:
            judged = [self._add(ex, item.nodeid) for ex in exchanges]
            failed = {v.rule_id for v in found}
            for ref in judged:
                verdicts = self.entries[ref].setdefault("_verdicts", {})
                for rule_id in rule_ids:
                    verdicts[rule_id] = "failed" if rule_id in failed or verdicts.get(rule_id) == "failed" else "passed"
            judgements.append({"rules": rule_ids, "applied": _applied(rule_ids, exchanges), "entries": judged,
                               "violations": [
                {"rule": v.rule_id, "expected": v.expected, "actual": v.actual} for v in found]})
            refs += judged
        decision = item.stash.get(DECISION, None)  # each rule's outcome: the per-rule verdicts a replay reproduces
        outcomes = {rid: "incidental" if o.incidental else o.kind for rid, o in decision.rules.items()} if (
            decision is not None) else {}
        decided: tuple[str, str | None, str] = self.decisions.pop(item.nodeid, ("skipped", None, ""))
        kind, decided_rule, reason = decided
        for ref in set(refs):
            if self.entries[ref]["_test"] == item.nodeid:
                self.entries[ref]["_testVerdict"] = kind
        self.tests.append({
            "nodeid": item.nodeid, "rules": [r for m in item.iter_markers("rule") for r in m.args],
            "capabilities": sorted({c for m in item.iter_markers("capability") for c in m.args}),
            "fixtures": sorted(getattr(item, "fixturenames", [])),
            "verdict": kind, "rule": decided_rule, "reason": reason, "outcomes": outcomes, "entries": sorted(set(refs)),
            "judgements": judgements})
        self.current, self.pending = None, []

    def document(self, state: RunState) -> dict[str, Any]:
        self.flush("")  # what the session's own fixtures sent after the last test
        results = state.results
        rules = {r.id: results.verdict(r.id) for r in state.catalogue.values()} if results else {}
        deviations = {rid: {"reason": d.reason, "link": d.link, "review": d.review.isoformat()}
                      for rid, d in state.deviations.items()}
        run = {"target": state.target_info(), "strict": state.strict, "deviations": deviations,
               "catalogue": state.catalogue.path.name, "spec": state.contract.path.name}
        return har.document(self.entries, run=run, tests=self.tests, rules=rules)


_ENTRIES = "\u0000entries\u0000"  # stands for the entries list while the rest of the document is encoded


def har_text(document: dict[str, Any]) -> str:
    """The HAR document as JSON with one entry a line (greppable, diffable). Not `indent=`: with an indent the json
    module encodes in pure Python, ~0.6 s for a full run's 2,500 entries; without one its C encoder takes ~0.05 s."""
    log = document.get("log", {})
    entries = log.get("entries", [])
    head = json.dumps({**document, "log": {**log, "entries": _ENTRIES}}, ensure_ascii=False)
    lines = ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in entries)
    placeholder = json.dumps(_ENTRIES)
    return head.replace(placeholder, f"[\n{lines}\n]" if entries else "[]", 1)


RECORDER = pytest.StashKey[Recorder]()


@pytest.hookimpl(specname="pytest_addoption")
def pytest_conformance_recording_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("conformance").addoption(
        "--conformance-record", default=None, metavar="FILE",
        help=f"write every exchange as HAR 1.2 to FILE (default: <reports>/{HAR_NAME}; 'none' to switch off)")


@pytest.hookimpl(specname="pytest_configure", trylast=True)
def pytest_conformance_recording_configure(config: pytest.Config) -> None:
    if config.getoption("conformance_record", None) == "none" or config.option.collectonly:
        return
    config.stash[RECORDER] = Recorder()


@pytest.hookimpl(specname="pytest_runtest_protocol", wrapper=True)
def pytest_conformance_recording_protocol(item: pytest.Item) -> Iterator[None]:
    recorder = item.config.stash.get(RECORDER, None)
    if recorder is None:
        return (yield)
    state = item.config.stash.get(STATE, None)
    creds = state.target.credentials if state is not None and state.target is not None else None
    if creds is not None:
        recorder.api_key, recorder.secret = creds.api_key, creds.api_secret
    recorder.current, recorder.pending = item.nodeid, []
    try:
        with checks.observing(recorder.observe):  # the judgements of this test's setup, call and teardown
            return (yield)
    finally:
        sent: list[Exchange] = item.stash.get(EXCHANGES, [])
        recorder.finish(item, list(sent))


@pytest.hookimpl(specname="pytest_fixture_setup", wrapper=True)
def pytest_conformance_recording_setup(fixturedef: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Every Client a fixture makes is listened to from the moment it exists."""
    value = yield
    recorder = request.config.stash.get(RECORDER, None)
    if recorder is not None and isinstance(value, Client):
        recorder.listen(value)
    return value


@pytest.hookimpl(specname="pytest_runtest_makereport", wrapper=True)
def pytest_conformance_recording_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """The test's decision, as conformance.plugins.core's (inner) wrapper put it on the report: `verdict`, `rule`."""
    report: pytest.TestReport = yield
    recorder = item.config.stash.get(RECORDER, None)
    props = dict(report.user_properties)
    if recorder is not None and "verdict" in props:
        reason = str(getattr(report, "wasxfail", "") or "")
        if report.failed and report.longrepr is not None:
            crash = getattr(report.longrepr, "reprcrash", None)
            reason = str(crash.message if crash else report.longrepr)
        rule = props.get("rule")
        recorder.decisions[item.nodeid] = (str(props["verdict"]), str(rule) if rule else None,
                                           (reason.splitlines() or [""])[0])
    return report


@pytest.hookimpl(specname="pytest_sessionfinish", wrapper=True)
def pytest_conformance_recording_sessionfinish(session: pytest.Session) -> Iterator[None]:
    """After every other sessionfinish hook (rules.json is written by then); redacted as the file is written."""
    result = yield
    recorder, state = session.config.stash.get(RECORDER, None), session.config.stash.get(STATE, None)
    if recorder is not None and state is not None and not state.worker and (recorder.tests or state.unavailable):
        option = session.config.getoption("conformance_record", None)
        path = Path(option) if option else state.reports / HAR_NAME
        atomic.write_text(path, redact.redact(har_text(recorder.document(state))) + "\n")
    return result
