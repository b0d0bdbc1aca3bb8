"""HTTP return codes: invalid requests get 4XX, injected faults get 403/408/5XX, 429 then 418 then recovery."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from conformance import FIXTURES, checks
from conformance.checks import errors as err
from conformance.checks import http
from conformance.data.contract import Contract
from conformance.data.exceptions import HarnessError, NotTested, read_yaml
from conformance.data.exchange import Exchange
from conformance.harness.client import Client
from conformance.harness.governor import Governor
from conformance.harness.mock_control import MockControl
from conformance.harness.session import RunState
from conformance.harness.targets import Target
from conformance.plugins.fixtures import recorded

INVALID = FIXTURES / "cases" / "http" / "live" / "invalid-requests.yaml"
PROBE = ("GET", "/fapi/v1/time")  # weight 1, changes nothing: the request every fault and limit test repeats
# Injected fault kind -> the scenario (and so the rule) that says which status answers it.
FAULTS = {"waf": "waf", "timeout": "timeout", "unknown-error": "server-error", "unknown-status": "server-error",
          "service-unavailable": "server-error", "internal-error": "server-error"}
# The one-shot "throttled" fault is left out: -1008 on this probe would break errors.503-throttled by design;
# test_errors drives -1008 on the order endpoints instead.
# Tiny limits so the mock reaches 429 within a few requests and lifts the ban within seconds.
# The weight window is long: a 429 near the end of a short (epoch-aligned) window would end its cool-down before the
# next request, which then is rightly served instead of banned. The ban is short, so that waiting it out is cheap.
TINY_LIMITS = {"weight_per_minute": 3, "window_seconds": 30, "ban_seconds": 1}
LIFTED_LIMITS = {"weight_per_minute": 100_000}  # after the 418: only the ban still stands between us and a 200
MAX_PROBES = 20


def _invalid_requests() -> list[Any]:
    data = read_yaml(INVALID, "invalid-request cases")
    params = []
    for case in data["requests"]:
        marks = [pytest.mark.capability(case["capability"])] if case.get("capability") else []
        params.append(pytest.param(case, id=case["name"], marks=marks))
    return params


pytestmark = pytest.mark.usefixtures("classified_answers")  # what the client sees, for the passive test below


@pytest.mark.rule("http.4xx-invalid-request", "errors.body-shape", "errors.documented-code")
@pytest.mark.parametrize("case", _invalid_requests())
def test_invalid_request_is_answered_with_4xx_and_error_body(case: dict[str, Any], client: Client) -> None:
    exchange = client.call(case["method"], case["path"], case.get("params"), form=case.get("form"),
                           signed=case.get("signed"))
    http.judge("invalid-request", exchange)
    checks.verify(exchange, ["errors.body-shape", "errors.documented-code"])
    if case.get("cause"):
        err.documented_code(case["cause"], exchange)


@pytest.mark.rule("http.403-waf", "http.408-timeout", "http.5xx-server-error", "errors.body-shape")
@pytest.mark.capability("faults")
@pytest.mark.parametrize("kind", list(FAULTS))
def test_injected_fault_is_answered_with_its_documented_status(kind: str, client: Client,
                                                              mock_control: MockControl) -> None:
    mock_control.fault(kind, method=PROBE[0], path=PROBE[1])
    exchange = client.call(*PROBE, allow_faults=True)
    http.judge(FAULTS[kind], exchange)
    checks.verify(exchange, ["errors.body-shape"])


class _Persistent(Governor):
    """A governor that counts but never stops sending: continuing after a 429 is what this test is about."""

    def observe(self, exchange: Exchange, admitted_at: float | None = None) -> None:
        self.throttled += exchange.response.status == 429
        self.banned += exchange.response.status == 418


@pytest.fixture
def persistent_client(request: pytest.FixtureRequest, target: Target, contract: Contract,
                      run_state: RunState) -> Iterator[Client]:
    c = recorded(request, Client(target, contract=contract, governor=_Persistent(share=1_000.0),
                                 journal=run_state.journal))
    c.listeners.append(run_state.classified)
    yield c
    c.close()


def _until_refused(client: Client, *, precondition: bool = False) -> Exchange:
    """Requests over a tiny limit until one is refused. None refused fails http.429-rate-limit; where the refusal is
    only the test's precondition (the 418 tests), they are not tested, judged by http.429-rate-limit."""
    seen = []
    for _ in range(MAX_PROBES):
        seen.append(client.call(*PROBE, allow_limits=True, allow_faults=True))
        if seen[-1].response.status != 200:
            return seen[-1]
    if precondition:
        raise NotTested(f"precondition: {MAX_PROBES} requests over a limit of {TINY_LIMITS['weight_per_minute']} "
                        "were all served, so nothing was banned", rule_id="http.429-rate-limit")
    http.first_refusal_is_429(seen, TINY_LIMITS["weight_per_minute"])  # raises: the limit was never enforced
    raise HarnessError("first_refusal_is_429 accepted a sequence without refusal")


@pytest.mark.rule("http.429-rate-limit", "errors.body-shape")
@pytest.mark.capability("faults", "provoke-limits")
def test_exceeding_the_weight_limit_is_answered_with_429(persistent_client: Client,
                                                         mock_control: MockControl) -> None:
    mock_control.limits(**TINY_LIMITS)
    exchange = _until_refused(persistent_client)
    http.judge("rate-limited", exchange)
    checks.verify(exchange, ["errors.body-shape"])


@pytest.mark.rule("http.418-ban", "errors.body-shape")
@pytest.mark.capability("faults", "provoke-limits")
def test_continuing_after_429_is_answered_with_418(persistent_client: Client, mock_control: MockControl) -> None:
    mock_control.limits(**TINY_LIMITS)
    first = _until_refused(persistent_client, precondition=True)
    if first.response.status != 429:
        raise NotTested(f"precondition: the limit was answered with HTTP {first.response.status}, not 429",
                        rule_id="http.429-rate-limit")
    exchange = persistent_client.call(*PROBE, allow_limits=True, allow_faults=True)
    http.judge("banned", exchange)
    checks.verify(exchange, ["errors.body-shape"])


@pytest.mark.rule("http.418-ban")
@pytest.mark.capability("faults", "provoke-limits")
def test_ban_is_lifted_once_its_retry_after_has_passed(persistent_client: Client, mock_control: MockControl) -> None:
    mock_control.limits(**TINY_LIMITS)
    _until_refused(persistent_client, precondition=True)
    banned = persistent_client.call(*PROBE, allow_limits=True, allow_faults=True)
    http.judge("banned", banned)
    mock_control.limits(**LIFTED_LIMITS)  # the weight window need not end: the ban is what this test lifts
    # Without Retry-After (only the SHOULD rule limits.retry-after asks for it) the ban the control API set is waited.
    retry = banned.response.headers.get("retry-after", "").strip()
    time.sleep((int(retry) if retry.isdigit() else TINY_LIMITS["ban_seconds"]) + 0.5)
    http.ban_lifted(persistent_client.call(*PROBE, allow_limits=True, allow_faults=True))


@pytest.mark.rule("errors.body-shape")
@pytest.mark.passive
def test_every_classified_answer_seen_in_the_run_keeps_its_meaning(run_state: RunState) -> None:
    """Passive: each 403/408/418/429/5XX seen while the http and errors modules ran, judged by every check."""
    seen = list(run_state.classified.exchanges)
    if not seen:
        raise NotTested("nothing to judge: no 403, 408, 418, 429 or 5XX answer was seen in this run")
    violations = [v for ex in seen for v in http.violations_of_classified(ex)]
    if violations:
        first = violations[0]
        more = "; ".join(f"[{v.rule_id}] {v.actual}" for v in violations[1:6])
        raise checks.RuleViolation(first.rule_id, first.expected, first.actual,
                                   detail=f"{len(seen)} answers classified" + (f"; also: {more}" if more else ""))
