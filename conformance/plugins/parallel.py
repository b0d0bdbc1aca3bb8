"""Hooks of `pytest conformance -n N` (pytest-xdist): the target handed to the workers, the run's lock and board
around every test, and each worker's verdicts, cleanup, budget figures and recording brought back to the controller.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.harness import workers
from conformance.harness.session import ANSWERS_KEPT, RunState
from conformance.harness.sharing import Board, RunLock
from conformance.plugins.core import STATE
from conformance.plugins.recording import RECORDER
from conformance.plugins.safety import SAFETY

DONE = pytest.StashKey[set[str]]()  # the tests this worker finished
GATHERED = pytest.StashKey[bool]()  # the others' answers were added to this worker's (before its first passive test)
HAR_INDEX = pytest.StashKey[dict[tuple[str, ...], int]]()  # the controller's merged entries by request


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """After the controller's sessionstart (xdist makes its workers in a trylast one): the target is resolved."""
    state = node.config.stash.get(STATE, None)
    if state is not None and state.shared is not None:
        node.workerinput[workers.KEY] = state.handover()


def _board(config: pytest.Config, state: RunState) -> Board:
    assert state.shared is not None
    return Board(state.shared, state.worker)


def _post(config: pytest.Config, state: RunState, nodeid: str) -> None:
    board = _board(config, state)
    if state.outbox:
        board.post_exchanges("answers", state.outbox)
        state.outbox.clear()
    if state.classified.outbox:
        board.post_exchanges("classified", state.classified.outbox)
        state.classified.outbox.clear()
    board.post_done(nodeid)
    config.stash.setdefault(DONE, set()).add(nodeid)


def _gather(session: pytest.Session, state: RunState) -> None:
    """Before the first passive test: wait for every other test of the run, wherever it ran, then add what the
    other workers saw to this worker's answers, so the passive tests judge the whole run as in a serial one."""
    config = session.config
    if config.stash.get(GATHERED, False):
        return
    config.stash[GATHERED] = True
    board = _board(config, state)
    others = {item.nodeid for item in session.items if item.get_closest_marker("passive") is None}
    left = board.wait_for(others, config.stash.get(DONE, set()))
    if left:  # a worker died or hangs: judge what was posted, and say so
        warnings.warn(pytest.PytestWarning(f"fapi-conformance -n: {len(left)} tests never finished on any worker "
                                           f"(e.g. {sorted(left)[0]}); the passive tests judge what the others saw"),
                      stacklevel=1)
    for ex in board.others_exchanges("answers"):
        if ex.operation is not None:
            state.answers.setdefault(ex.operation_id, deque(maxlen=ANSWERS_KEPT)).append(ex)
    state.classified.exchanges.extend(board.others_exchanges("classified"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def,unused-ignore]
    """A worker's test holds the run's lock (alone when it changes the target for everyone), then posts what it
    saw and that it is done; a passive test first waits for every other test of the run."""
    state = item.config.stash.get(STATE, None)
    if state is None or not state.worker or state.shared is None:
        return (yield)
    gov = state.governor
    if item.get_closest_marker("passive") is not None:
        _gather(item.session, state)
        try:
            return (yield)
        finally:
            if gov is not None:
                gov.release_claims()
    with RunLock(state.shared).held(workers.is_exclusive(item)):
        try:
            result = yield
        finally:
            if gov is not None:
                gov.release_claims()  # before the run lock: a claim is only ever held under it
    _post(item.config, state, item.nodeid)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Iterator[None]:
    """A worker's end of run (its cleanup of the orders it opened) holds the lock shared: no exclusive test of
    another worker is disturbed by it."""
    state = session.config.stash.get(STATE, None)
    if state is None or not state.worker or state.shared is None:
        return (yield)
    with RunLock(state.shared).held(False):
        try:
            return (yield)
        finally:
            if state.governor is not None:
                state.governor.release_claims()


@pytest.hookimpl(specname="pytest_sessionfinish")
def pytest_conformance_parallel_export(session: pytest.Session) -> None:
    """After the worker's cleanup (a tryfirst hook): everything the controller reports, as plain data."""
    config = session.config
    state, safety = config.stash.get(STATE, None), config.stash.get(SAFETY, None)
    if state is None or not state.worker or safety is None or state.results is None:
        return
    gov = safety.governor or state.governor
    out: dict[str, Any] = {
        "results": state.results.export(), "ran": sorted(safety.ran), "unavailable": dict(safety.unavailable),
        "cleanup": safety.cleanup, "governor": gov.stats() if gov else None,
        "retries": [[r.as_dict(), r.line()] for r in state.journal.retries],
        "unknown_outcomes": [[f.as_dict(), f.line()] for f in state.journal.unknown_outcomes],
        "tallies": state.tallies, "order_stream": state.order_stream}
    recorder = config.stash.get(RECORDER, None)
    if recorder is not None:
        recorder.flush("")  # what the session's own fixtures sent after the worker's last test
        out["har"] = {"entries": recorder.entries, "tests": recorder.tests,
                      "passive": [i.nodeid for i in session.items if i.get_closest_marker("passive") is not None]}
    config.workeroutput[workers.KEY] = out  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    """In the controller, as each worker ends: its verdicts, figures and recording join the run's."""
    out = getattr(node, "workeroutput", {}).get(workers.KEY)
    state, safety = node.config.stash.get(STATE, None), node.config.stash.get(SAFETY, None)
    if not out or state is None or safety is None or state.results is None:
        return
    state.results.absorb(out["results"])
    safety.ran |= set(out["ran"])
    safety.unavailable |= out["unavailable"]
    safety.cleanups.append(out["cleanup"])
    if out["governor"] and state.governor is not None:
        safety.workers[str(getattr(node, "gateway", None) and node.gateway.id)] = out["governor"]
        state.governor.absorb(out["governor"])
        safety.governor = state.governor
    state.journal.retries.extend(workers.Record(d, line) for d, line in out["retries"])
    state.journal.unknown_outcomes.extend(workers.Record(d, line) for d, line in out["unknown_outcomes"])
    state.tallies += out["tallies"]
    state.order_stream = state.order_stream or out["order_stream"]
    recorder = node.config.stash.get(RECORDER, None)
    if recorder is not None and out.get("har"):
        _absorb_har(recorder, out["har"], node.config.stash.setdefault(HAR_INDEX, {}))


def _key(entry: dict[str, Any]) -> tuple[str, ...]:
    """One exchange: the same public URL is sent many times, but not with the same answer to the microsecond."""
    req, resp = entry["request"], entry["response"]
    return (req["method"], req["url"], str(req.get("postData", {}).get("text", "")), str(resp["status"]),
            str(entry.get("time")), str(resp.get("content", {}).get("text", "")))


def _absorb_har(recorder: Any, har: dict[str, Any], index: dict[tuple[str, ...], int]) -> None:
    """A worker's entries follow the ones already merged, and its tests' references move with them. A passive test
    judged the other workers' answers too, so its worker recorded copies of them: a copy becomes a reference to the
    entry of the worker that sent the request (whichever worker's output came first)."""
    passive, refs = set(har.get("passive", [])), []
    for entry in har["entries"]:
        key, copy = _key(entry), entry.get("_test") in passive
        known = index.get(key)
        if known is None:
            index[key] = len(recorder.entries)
            recorder.entries.append(entry)
        elif not copy and recorder.entries[known].get("_test") in passive:
            recorder.entries[known] = entry  # the copy came first: the sender's entry takes its place
        refs.append(index[key])
    for test in har["tests"]:
        test["entries"] = sorted({refs[ref] for ref in test["entries"]})
        for judgement in test.get("judgements", []):
            judgement["entries"] = [refs[ref] for ref in judgement["entries"]]
        recorder.tests.append(test)


@pytest.hookimpl(specname="pytest_sessionfinish", trylast=True)
def pytest_conformance_parallel_acceptance(session: pytest.Session) -> None:
    """The controller writes positive-acceptance.json from every worker's tally of the schema module."""
    state = session.config.stash.get(STATE, None)
    if state is None or state.worker or not state.tallies:
        return
    from conformance.harness.acceptance import Acceptance

    merged = Acceptance()
    for part in state.tallies:
        merged.absorb(part)
    if merged.sent:
        merged.write(state.reports / "positive-acceptance.json")
