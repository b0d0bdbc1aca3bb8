"""Checks of the HTTP return codes: what a status means, judged per scenario and on every error answer seen."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from conformance.checks import RuleViolation, check, run
from conformance.checks.errors import describe
from conformance.exchange import Exchange

INVALID_REQUEST = "http.4xx-invalid-request"
RATE_LIMIT = "http.429-rate-limit"
BAN = "http.418-ban"
# Statuses whose meaning general-info fixes; the passive classifier judges every answer carrying one.
CLASSIFIED = frozenset({403, 408, 418, 429})


@dataclass(frozen=True)
class Scenario:
    """What the target was made to do, the rule that says how it answers, and the accepted status range."""

    rule_id: str
    low: int
    high: int
    described: str
    retry_after: bool = False

    def accepts(self, status: int) -> bool:
        return self.low <= status <= self.high


SCENARIOS = {
    "invalid-request": Scenario(INVALID_REQUEST, 400, 499, "HTTP 4XX"),
    "waf": Scenario("http.403-waf", 403, 403, "HTTP 403"),
    "timeout": Scenario("http.408-timeout", 408, 408, "HTTP 408"),
    "rate-limited": Scenario(RATE_LIMIT, 429, 429, "HTTP 429 with Retry-After", retry_after=True),
    "banned": Scenario(BAN, 418, 418, "HTTP 418 with Retry-After", retry_after=True),
    "server-error": Scenario("http.5xx-server-error", 500, 599, "HTTP 5XX"),
}


def retry_after_problem(ex: Exchange) -> str | None:
    """Binance's convention (fapi-contract §3): whole seconds to wait, on every 429 and 418."""
    value = ex.response.headers.get("retry-after")
    if value is None:
        return "no Retry-After header"
    if not value.strip().isdigit():
        return f"Retry-After {value!r} is not a number of seconds"
    return None


def judge(scenario: str, ex: Exchange) -> None:
    """Scenario check: the answer's status is the one the scenario's rule documents (and Retry-After with it)."""
    s = SCENARIOS[scenario]
    if not s.accepts(ex.response.status):
        raise RuleViolation(s.rule_id, f"{s.described} ({scenario})", describe(ex))
    problem = retry_after_problem(ex) if s.retry_after else None
    if problem:
        raise RuleViolation(s.rule_id, f"{s.described} ({scenario})", f"{describe(ex)}: {problem}")


def _status(code: int) -> Callable[[Exchange], bool]:
    def applies(ex: Exchange) -> bool:
        return ex.response.status == code

    return applies


@check(RATE_LIMIT, applies=_status(429))
def rate_limit_says_when(ex: Exchange) -> None:
    problem = retry_after_problem(ex)
    if problem:
        raise RuleViolation(RATE_LIMIT, "HTTP 429 with Retry-After (seconds)", f"{describe(ex)}: {problem}")


@check(BAN, applies=_status(418))
def ban_says_when(ex: Exchange) -> None:
    problem = retry_after_problem(ex)
    if problem:
        raise RuleViolation(BAN, "HTTP 418 with Retry-After (seconds)", f"{describe(ex)}: {problem}")


def classified(ex: Exchange) -> bool:
    """An answer whose status general-info gives a meaning to: 403, 408, 418, 429 or any 5XX."""
    return ex.response.status in CLASSIFIED or ex.response.status >= 500


def classify(ex: Exchange) -> list[RuleViolation]:
    """Every http.* and errors.* check that applies to one observed answer."""
    from conformance.checks import REGISTRY

    rule_ids = [r for r in REGISTRY if r.startswith(("http.", "errors."))]
    return run(ex, rule_ids)


class Observed:
    """Answers with a classified status seen by a client it listens to (bounded: the latest `limit`)."""

    def __init__(self, limit: int = 500) -> None:
        self.exchanges: deque[Exchange] = deque(maxlen=limit)

    def __call__(self, ex: Exchange) -> None:
        if classified(ex):
            self.exchanges.append(ex)


OBSERVED = Observed()  # one per process: the conformance modules attach it to the session client
