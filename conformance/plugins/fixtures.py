"""Pytest fixtures of the conformance modules: target, signed client, mock control, Allure labelling."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.data.catalogue import Catalogue
from conformance.data.contract import Contract
from conformance.data.exchange import Exchange
from conformance.harness import orderstream
from conformance.harness.client import Client
from conformance.harness.generation_helper import Helper, wanted
from conformance.harness.governor import Governor
from conformance.harness.mock_control import MockControl
from conformance.harness.orders import OrderFactory
from conformance.harness.session import RunState
from conformance.harness.targets import TRADING, Target
from conformance.plugins.core import STATE

# The exchanges a test sent, for its report (attached by conformance.plugins.reporting during the call).
EXCHANGES = pytest.StashKey[list[Exchange]]()
_SEVERITY = {"MUST": "critical", "SHOULD": "normal"}
GENERATION_HELPER = pytest.StashKey[Helper]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the case generation helper (conformance/harness/generation_helper.py) as soon as the run knows it has a
    test that asks for it: the process imports what it needs while the session's fixtures start the target."""
    config = session.config
    # What the run has built by now (modules, the spec, schemathesis' schemas, the items) lives until it ends: frozen,
    # the cyclic collector no longer walks it at each full collection (a schema-module run spent 0.27 s in 7 of them,
    # pytest's own at unconfigure included), and a forked helper shares its pages instead of copying them.
    gc.freeze()
    if config.option.collectonly or hasattr(config, "workerinput") or not wanted():
        return
    if any("generation_helper" in getattr(item, "fixturenames", ()) for item in session.items):
        helper = Helper()
        config.stash[GENERATION_HELPER] = helper
        config.add_cleanup(helper.close)


@pytest.fixture(scope="session")
def run_state(request: pytest.FixtureRequest) -> RunState:
    return request.config.stash[STATE]


@pytest.fixture(scope="session")
def target(run_state: RunState) -> Target:
    assert run_state.target is not None
    return run_state.target


@pytest.fixture(scope="session")
def catalogue(run_state: RunState) -> Catalogue:
    return run_state.catalogue


@pytest.fixture(scope="session")
def contract(run_state: RunState) -> Contract:
    return run_state.contract


@pytest.fixture(scope="session")
def governor(run_state: RunState) -> Governor:
    """One budget for the whole run: a share of the documented per-minute limits (--conformance-budget)."""
    if run_state.governor is None:  # made by RunState.start(), which pays the reachability and credential checks
        run_state.governor = Governor(share=run_state.budget or 0.5)
    return run_state.governor


@pytest.fixture(scope="session")
def client(run_state: RunState, target: Target, contract: Contract, governor: Governor) -> Iterator[Client]:
    """The session's signed client; every exchange it makes is attached to the running test."""
    c = Client(target, contract=contract, governor=governor, journal=run_state.journal)
    c.listeners.append(run_state.observe)
    opened: list[orderstream.OrderStream] = []
    if target.has(TRADING) and run_state.ws_budget is not None and run_state.asyncapi is not None:
        # unknown outcomes are confirmed by the order channel first ("via WebSocket reports or orderId queries"),
        # listened to from before the run's first order on
        ws_url, budget, channel = run_state.ws_url, run_state.ws_budget, run_state.asyncapi.private_channels[0]

        def open_stream() -> orderstream.OrderStream | None:
            stream, run_state.order_stream = orderstream.start(c, ws_url, budget, channel)
            opened.extend([stream] if stream is not None else [])
            return stream

        c.order_stream_opener = open_stream
        run_state.order_stream = "not listened to: the run sent no order"
    yield c
    for stream in opened:
        stream.close()
    c.close()


def recorded(request: pytest.FixtureRequest, client: Client) -> Client:
    """Every exchange `client` makes is recorded for the running test's report, like the session client's."""
    seen = request.node.stash.get(EXCHANGES, None)
    if seen is not None:
        client.listeners.append(seen.append)
    client.listeners.append(request.config.stash[STATE].observe)
    return client


@pytest.fixture(scope="module")
def classified_answers(client: Client, run_state: RunState) -> Iterator[None]:
    """The 403/408/418/429/5XX answers the session client sees while one module runs, kept on RunState.classified.
    Used by the http and errors modules only: others inject faults that break those rules on purpose (a one-shot
    -1008 on a market endpoint, say), which must not read as the target's failure."""
    client.listeners.append(run_state.classified)
    yield
    client.listeners.remove(run_state.classified)


@pytest.fixture
def isolated_client(request: pytest.FixtureRequest, target: Target, contract: Contract,
                    run_state: RunState) -> Iterator[Client]:
    """A client with its own governor, for tests that drive the target into its limits on purpose; its orders,
    retries and reconciliations are the run's (`journal=`)."""
    c = recorded(request, Client(target, contract=contract, governor=Governor(share=1_000.0),
                                 journal=run_state.journal))
    yield c
    c.close()


@pytest.fixture
def mock_control(target: Target) -> Iterator[MockControl]:
    """The /__mock__/ control API; everything it changed is reset after the test."""
    control = MockControl(target.base_url)
    control.reset()
    yield control
    control.reset()
    control.close()


def _allure() -> Any:
    try:
        import allure
    except ImportError:  # Allure output is optional: the suite runs without allure-pytest
        return None
    return allure


@pytest.fixture(autouse=True)
def _conformance_labels(request: pytest.FixtureRequest, catalogue: Catalogue, target: Target,
                        client: Client) -> Iterator[None]:
    """Label the test in Allure (rule, area, title, severity, doc link) and record its exchanges, which
    `conformance.plugins.reporting` attaches to the test body (the quote becomes the description there too)."""
    allure = _allure()
    rule_ids = [rid for mark in request.node.iter_markers("rule") for rid in mark.args]
    if allure is not None:
        for rule_id in rule_ids:
            rule = catalogue[rule_id]
            allure.dynamic.label("rule", rule.id)
            allure.dynamic.feature(rule.area)
            allure.dynamic.story(rule.title)
            allure.dynamic.severity(_SEVERITY[rule.level])
            allure.dynamic.link(rule.link, name=f"{rule.id}: {rule.section}")
        if rule_ids:
            allure.dynamic.parameter("rule", rule_ids[0])
        allure.dynamic.parameter("target", target.name)
    seen: list[Exchange] = []
    request.node.stash[EXCHANGES] = seen
    client.listeners.append(seen.append)
    yield
    client.listeners.remove(seen.append)


@pytest.fixture(scope="session")
def generation_helper(request: pytest.FixtureRequest) -> Helper | None:
    """The run's case generation process, or None: generate in this one."""
    return request.config.stash.get(GENERATION_HELPER, None)


@pytest.fixture(scope="session")
def orders(client: Client) -> Iterator[OrderFactory]:
    """Safe order parameters for this run; whatever is still open at the end is cancelled."""
    factory = OrderFactory(client)
    yield factory
    factory.cancel_all()
