"""Checks of the HTTP return codes: what a status means, judged per scenario, on a sequence over a limit (429, then
418) and on every error answer seen: every check of http.429-rate-limit and http.418-ban is here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conformance.checks import RuleViolation, judged, run, scenario
from conformance.checks.errors import describe
from conformance.checks.parameters import summary
from conformance.data.exceptions import HarnessError
from conformance.data.exchange import Exchange

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

    def accepts(self, status: int) -> bool:
        return self.low <= status <= self.high


# Retry-After on 429/418 is Binance's convention, stated only by the SHOULD rule limits.retry-after: the http rules
# judge the status alone.
SCENARIOS = {
    "invalid-request": Scenario(INVALID_REQUEST, 400, 499, "HTTP 4XX"),
    "waf": Scenario("http.403-waf", 403, 403, "HTTP 403"),
    "timeout": Scenario("http.408-timeout", 408, 408, "HTTP 408"),
    "rate-limited": Scenario(RATE_LIMIT, 429, 429, "HTTP 429"),
    "banned": Scenario(BAN, 418, 418, "HTTP 418"),
    "server-error": Scenario("http.5xx-server-error", 500, 599, "HTTP 5XX"),
}


@scenario(*sorted({s.rule_id for s in SCENARIOS.values()}))
def judge(kind: str, ex: Exchange) -> None:
    """Scenario check: the answer's status is the one the scenario's rule documents."""
    s = SCENARIOS[kind]
    judged(s.rule_id, ex)
    if not s.accepts(ex.response.status):
        raise RuleViolation(s.rule_id, f"{s.described} ({kind})", describe(ex), exchange=ex)


def classified(ex: Exchange) -> bool:
    """An answer whose status general-info gives a meaning to: 403, 408, 418, 429 or any 5XX."""
    return ex.response.status in CLASSIFIED or ex.response.status >= 500


def violations_of_classified(ex: Exchange) -> list[RuleViolation]:
    """Every http.* and errors.* check that applies to one observed answer."""
    from conformance.checks import REGISTRY

    rule_ids = [r for r in REGISTRY if r.startswith(("http.", "errors."))]
    return run(ex, rule_ids)


@scenario(BAN)
def ban_lifted(after: Exchange) -> None:
    """Scenario check: once the ban's time has passed, the same request is served again."""
    judged(BAN, after)
    if after.response.status != 200:
        raise RuleViolation(BAN, "HTTP 200 once the 418's Retry-After has passed", describe(after), exchange=after)


@scenario(RATE_LIMIT)
def first_refusal_is_429(answers: Sequence[Exchange], limit: int) -> None:
    """Answers sent after a reset under a weight limit: accepted while within it, then 429 once it is crossed."""
    spent = 0
    judged(RATE_LIMIT, *answers)
    for index, ex in enumerate(answers):
        spent += ex.operation.weight(ex.request.params()) if ex.operation else 1
        if spent <= limit and not 200 <= ex.response.status < 300:
            raise RuleViolation(RATE_LIMIT, [f"2XX: request {index + 1} brings the weight to "
                                                        f"{spent} of {limit}"], summary(ex), exchange=ex)
        if spent > limit:
            if ex.response.status != 429:
                raise RuleViolation(RATE_LIMIT, [f"HTTP 429: request {index + 1} brings the weight "
                                                            f"to {spent}, over the limit {limit}"], summary(ex),
                                    exchange=ex)
            return
    raise HarnessError(f"the answers never crossed the limit {limit} (weight {spent})")


@scenario(BAN)
def ban_follows(answers_after_429: Sequence[Exchange]) -> None:
    """Requests continued after a 429 end in 418; until then they may only be refused (429), never served."""
    judged(BAN, *answers_after_429)
    for ex in answers_after_429:
        if ex.response.status == 418:
            return
        if ex.response.status != 429:
            raise RuleViolation(BAN, ["HTTP 429 or 418 while continuing after a 429"], summary(ex),
                                exchange=ex)
    raise RuleViolation(BAN, [f"HTTP 418 within {len(answers_after_429)} requests continued after a 429"],
                        ", ".join(str(ex.response.status) for ex in answers_after_429) or "no request")
