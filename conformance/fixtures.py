"""Pytest fixtures of the conformance modules: target, signed client, mock control, Allure labelling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance import redact
from conformance.catalogue import Catalogue
from conformance.client import Client
from conformance.contract import Contract
from conformance.control import MockControl
from conformance.exchange import Exchange
from conformance.governor import Governor
from conformance.orders import OrderFactory
from conformance.plugin import STATE
from conformance.session import RunState
from conformance.targets import Target

MAX_ATTACHMENTS = 12
_SEVERITY = {"MUST": "critical", "SHOULD": "normal"}


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
    return Governor(share=run_state.budget or 0.5)


@pytest.fixture(scope="session")
def client(target: Target, contract: Contract, governor: Governor) -> Iterator[Client]:
    """The session's signed client; every exchange it makes is attached to the running test."""
    c = Client(target, contract=contract, governor=governor)
    yield c
    c.close()


@pytest.fixture
def isolated_client(target: Target, contract: Contract) -> Iterator[Client]:
    """A client with its own governor, for tests that drive the target into its limits on purpose."""
    c = Client(target, contract=contract, governor=Governor(share=1_000.0))
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
    """Label the test in Allure (rule, area, title, severity, doc link, quote) and attach its exchanges."""
    allure = _allure()
    rule_ids = [rid for mark in request.node.iter_markers("rule") for rid in mark.args]
    seen: list[Exchange] = []
    if allure is not None:
        for rule_id in rule_ids:
            rule = catalogue[rule_id]
            allure.dynamic.label("rule", rule.id)
            allure.dynamic.feature(rule.area)
            allure.dynamic.story(rule.title)
            allure.dynamic.severity(_SEVERITY[rule.level])
            allure.dynamic.link(rule.link, name=f"{rule.id}: {rule.section}")
        if rule_ids:
            rule = catalogue[rule_ids[0]]
            allure.dynamic.description(f"**[{rule.id}]** ({rule.level}) {rule.title}\n\n> {rule.quote}")
            allure.dynamic.parameter("rule", rule.id)
        allure.dynamic.parameter("target", target.name)
    client.listeners.append(seen.append)
    yield
    client.listeners.remove(seen.append)
    if allure is not None:
        for index, ex in enumerate(seen[-MAX_ATTACHMENTS:]):
            name = f"{index + 1}. {ex.request.method} {ex.request.path} → {ex.response.status}"
            allure.attach(redact.request_text(ex), name=f"{name} request", attachment_type=allure.attachment_type.TEXT)
            allure.attach(redact.response_text(ex), name=f"{name} response",
                          attachment_type=allure.attachment_type.TEXT)
            allure.attach(redact.curl(ex), name=f"{name} curl", attachment_type=allure.attachment_type.TEXT)


@pytest.fixture(scope="session")
def orders(client: Client) -> Iterator[OrderFactory]:
    """Safe order parameters for this run; whatever is still open at the end is cancelled."""
    factory = OrderFactory(client)
    yield factory
    factory.cancel_all()
