"""Retry policy per documented message (general-info 503 A/B/C): bounded, recorded, never for unknown outcomes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from conformance.data import catalogue

if TYPE_CHECKING:
    from conformance.data.exchange import Exchange

UNKNOWN_STATUS = "unknown-status"  # A: outcome unknown — reconcile, never resubmit


@dataclass(frozen=True)
class Policy:
    """How one documented answer is retried: the rule that documents it and the waits between tries."""

    kind: str
    rule_id: str
    delays: tuple[float, ...]
    reduce_concurrency: bool = False

    @property
    def tries(self) -> int:
        return len(self.delays) + 1


# The handling each message documents: B "200ms → 400ms → 800ms, max 3–5 retries"; the internal error
# "You may choose to retry immediately"; C "Retry with backoff and reduce concurrency"; "retry the request later".
POLICIES = (
    Policy("service-unavailable", "errors.503-service-unavailable", (0.2, 0.4, 0.8)),
    Policy("internal-error", "errors.503-internal-error", (0.0, 0.0)),
    Policy("throttled", "errors.503-throttled", (0.5, 1.0, 2.0), reduce_concurrency=True),
    Policy("unknown-error", "errors.unknown-error-retry", (1.0, 2.0)),
)
UNKNOWN_STATUS_RULE = "errors.503-unknown-status"


@dataclass(frozen=True)
class RetryRecord:
    """One retry the client made (or declined), for the run summary and safety.json."""

    method: str
    path: str
    kind: str
    status: int
    attempt: int
    delay: float
    outcome: str  # "retried", "gave up", "reconciled: …"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return (f"{self.method} {self.path}: HTTP {self.status} {self.kind} (try {self.attempt}) → {self.outcome}"
                + (f" after {self.delay:.1f}s" if self.outcome == "retried" else ""))




@cache
def _messages() -> dict[str, tuple[str, ...]]:
    """The literals are contract, so they come from the catalogue, not from this file."""
    rules = catalogue.default()
    found = {p.kind: rules[p.rule_id].messages for p in POLICIES}
    found[UNKNOWN_STATUS] = rules[UNKNOWN_STATUS_RULE].messages
    return found


def message_of(exchange: Exchange) -> str:
    error = exchange.response.error
    return error.msg or "" if error else ""


def code_of(exchange: Exchange) -> int | None:
    error = exchange.response.error
    return error.code if error else None


def failure_kind(exchange: Exchange) -> str | None:
    """The documented kind of a failed answer (a POLICIES kind or UNKNOWN_STATUS), or None."""
    status = exchange.response.status
    if status < 500:
        return None
    msg = message_of(exchange)
    for kind, literals in _messages().items():
        if msg in literals:
            return kind
    if status == 503 and code_of(exchange) == -1008:
        return "throttled"  # the message wording differs between the doc's two lists; the code does not
    return None


def policy_for(kind: str | None) -> Policy | None:
    return next((p for p in POLICIES if p.kind == kind), None)
