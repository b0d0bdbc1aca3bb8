"""WebSocket variants: the suite's test_ws module against a mock whose /ws breaks one rule fails that rule and only
ws rules it implies; conforming variations fail nothing; the testnet profile keeps inside the connection budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import SuiteRun
from mutants.ws import WS_VARIANTS, ws_variant_server

from conformance.data import catalogue, wscontract

BREAKING = {
    "ws-non-json-frame": "ws.json-text-frames",
    "ws-seconds-timestamps": "ws.millisecond-timestamps",
    "ws-descending-snapshot": "ws.ascending-time-order",
    "ws-no-subscribe-ack": "ws.subscribe-ack",
    "ws-private-before-auth": "ws.private-after-auth",
    "ws-no-pong": "ws.ping-pong",
    "ws-crossed-book": "ws.orderbook-levels",
    "ws-slow-cadence": "ws.cadence",
    "ws-api-result-missing-key": "ws.api-result-shape",
}
CONFORMING = ("ws-extra-fields", "ws-reordered-keys", "ws-faster-cadence")
SLICE = ["-k", "test_ws", "--conformance-strict"]  # every ws rule but one is SHOULD: strict makes them fail


def _run(name: str, run_suite: Callable[..., SuiteRun], *extra: str) -> SuiteRun:
    with ws_variant_server(name) as server:
        return run_suite([f"--conformance-target={server.url}", *SLICE, *extra])


def _ws_failures(result: SuiteRun) -> list[str]:
    return [rid for rid in result.with_verdict("failed", "error") if rid.startswith("ws.")]


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(BREAKING))
def test_websocket_variant_fails_the_rule_it_breaks(variant: str, run_suite: Callable[..., SuiteRun]) -> None:
    rule_id = BREAKING[variant]
    result = _run(variant, run_suite)
    assert result.verdicts().get(rule_id) == "failed", f"{variant}: [{rule_id}]\n{result.explain()}"
    # one cause, one verdict: no other ws rule fails for it
    assert _ws_failures(result) == [rule_id], f"{variant}: {_ws_failures(result)}\n{result.explain()}"
    assert result.code == 1, result.explain()


@pytest.mark.slow
@pytest.mark.parametrize("variant", CONFORMING)
def test_conforming_websocket_variation_fails_nothing(variant: str, run_suite: Callable[..., SuiteRun]) -> None:
    result = _run(variant, run_suite)
    assert result.with_verdict("failed", "error") == [], result.explain()
    passed = [rid for rid in result.with_verdict("passed") if rid.startswith("ws.")]
    assert len(passed) >= 15, f"{variant}: only {passed} passed\n{result.explain()}"


def test_every_websocket_variant_has_an_expectation() -> None:
    assert set(WS_VARIANTS) == set(BREAKING) | set(CONFORMING)
    assert all(catalogue.default()[rid] for rid in BREAKING.values())


@pytest.mark.slow
def test_testnet_profile_opens_at_most_the_budgeted_connections(run_suite: Callable[..., SuiteRun]) -> None:
    """The testnet profile against a mock at the documented cadence: the mock counts what the suite opened."""
    limits = wscontract.default().suite_limits
    server: Any = ws_variant_server("ws-reordered-keys")  # a conforming /ws at a 10x cadence
    with server:
        result = run_suite([f"--conformance-target={server.url}", "--conformance-profile=testnet", "-k", "test_ws"])
        seen = httpx.get(f"{server.url}/__mock__/state").json()["ws"]
    assert result.with_verdict("failed", "error") == [], result.explain()
    assert 0 < seen["opened"] <= limits["connections-per-run"], seen
    assert seen["peak"] <= limits["concurrent-connections"], seen
    assert result.rules["target"]["ws_connections"]["opened"] == seen["opened"], result.rules["target"]
