"""Outcomes are decided here, and only here: failed, error, unavailable, deviation, non-strict, passed."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.catalogue import Catalogue
from conformance.checks import RuleViolation
from conformance.deviations import Deviation
from conformance.errors import ConfigError, TargetUnavailable

PASSED, FAILED, ERROR, UNAVAILABLE, DEVIATION, NON_STRICT = (
    "passed", "failed", "error", "unavailable", "deviation", "non-strict")


@dataclass(frozen=True)
class Decision:
    """What a test's result means for the contract: `kind`, the rule it concerns, and a one-line reason."""

    kind: str
    rule_id: str | None
    reason: str = ""

    @property
    def pytest_outcome(self) -> str:
        return {PASSED: "passed", FAILED: "failed", ERROR: "failed", UNAVAILABLE: "skipped",
                DEVIATION: "skipped", NON_STRICT: "skipped"}[self.kind]

    @property
    def is_xfail(self) -> bool:
        return self.kind in (DEVIATION, NON_STRICT)


def decide(exc: BaseException | None, marked: list[str], catalogue: Catalogue, *, strict: bool,
           deviations: dict[str, Deviation]) -> Decision:
    """Map a test's exception (or none) to a Decision."""
    primary = marked[0] if marked else None
    if exc is None:
        stale = [r for r in marked if r in deviations]
        if stale:
            return Decision(FAILED, stale[0], f"[{stale[0]}] listed as a known deviation but now passes: "
                                              "remove it from the deviations file")
        return Decision(PASSED, primary)
    if isinstance(exc, TargetUnavailable):
        return Decision(UNAVAILABLE, primary, f"unavailable: {exc.reason}")
    if isinstance(exc, RuleViolation):
        return _violation(exc, catalogue, strict=strict, deviations=deviations)
    if isinstance(exc, AssertionError):
        rule = primary or "unattributed"
        return Decision(FAILED, primary, f"[{rule}] {exc}")
    if isinstance(exc, ConfigError):
        return Decision(ERROR, primary, f"[configuration error] {exc}")
    return Decision(ERROR, primary, f"[harness error] {type(exc).__name__}: {exc}")


def _violation(exc: RuleViolation, catalogue: Catalogue, *, strict: bool,
               deviations: dict[str, Deviation]) -> Decision:
    rule = catalogue[exc.rule_id]
    if rule.id in deviations:
        dev = deviations[rule.id]
        return Decision(DEVIATION, rule.id, f"known deviation: {dev.reason} ({dev.link}, review {dev.review})")
    if rule.level == "SHOULD" and not strict:
        return Decision(NON_STRICT, rule.id, f"non-strict: SHOULD rule {rule.id} failed: {exc.actual}")
    return Decision(FAILED, rule.id, str(exc))
