"""Outcomes are decided here, and only here: failed, error, unavailable, not tested, deviation, non-strict, passed.

A test's exception (or none) and what its checks judged (`checks.Judgement`) become one `Decision`: the test's own
outcome for pytest, JUnit and Allure, and one `RuleOutcome` per rule it concerns for rules.json. A passing test
credits only the rules a check actually judged; a test whose rules no check could judge is "not tested".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.checks import Judgement, RuleViolation
from conformance.data.catalogue import Catalogue
from conformance.data.deviations import Deviation
from conformance.data.exceptions import ConfigError, NotTested, TargetUnavailable

PASSED, FAILED, ERROR, UNAVAILABLE, DEVIATION, NON_STRICT, NOT_TESTED = (
    "passed", "failed", "error", "unavailable", "deviation", "non-strict", "not-tested")
_PYTEST = {PASSED: "passed", FAILED: "failed", ERROR: "failed", UNAVAILABLE: "skipped", DEVIATION: "skipped",
           NON_STRICT: "skipped", NOT_TESTED: "skipped"}
# A test's own outcome is its worst rule outcome; a rule it did not exercise does not make a passing test a skip.
_WORST = (FAILED, ERROR, DEVIATION, NON_STRICT, UNAVAILABLE, PASSED, NOT_TESTED)


@dataclass(frozen=True)
class RuleOutcome:
    """What one test says about one rule: its kind, a one-line reason, and the violation behind a failure."""

    kind: str
    reason: str = ""
    violation: RuleViolation | None = None
    incidental: bool = False  # not tested by a test that judged its other rules: no verdict of its own


@dataclass(frozen=True)
class Decision:
    """What a test's result means for the contract: `kind`, the rule it concerns, a reason, and per-rule outcomes."""

    kind: str
    rule_id: str | None
    reason: str = ""
    violation: RuleViolation | None = None
    rules: dict[str, RuleOutcome] = field(default_factory=dict)

    @property
    def pytest_outcome(self) -> str:
        return _PYTEST[self.kind]

    @property
    def is_xfail(self) -> bool:
        return self.kind in (DEVIATION, NON_STRICT)

    @property
    def is_skip(self) -> bool:
        return self.kind in (UNAVAILABLE, NOT_TESTED)


def _violation(exc: RuleViolation, catalogue: Catalogue, *, strict: bool,
               deviations: dict[str, Deviation]) -> RuleOutcome:
    rule = catalogue[exc.rule_id]
    if rule.id in deviations:
        dev = deviations[rule.id]
        return RuleOutcome(DEVIATION, f"known deviation: {dev.reason} ({dev.link}, review {dev.review})", exc)
    if rule.level == "SHOULD" and not strict:
        return RuleOutcome(NON_STRICT, f"non-strict: SHOULD rule {rule.id} failed: {exc.actual}", exc)
    return RuleOutcome(FAILED, str(exc), exc)


def _exception(exc: BaseException, primary: str | None) -> RuleOutcome:
    """The outcome of an exception that is not a rule violation."""
    if isinstance(exc, TargetUnavailable):
        return RuleOutcome(UNAVAILABLE, f"unavailable: {exc.reason.removeprefix('unavailable: ')}")
    if isinstance(exc, NotTested):
        return RuleOutcome(NOT_TESTED, exc.line())
    if isinstance(exc, AssertionError):  # a bare assert in a test: the test's first rule failed
        return RuleOutcome(FAILED, f"[{primary or 'unattributed'}] {exc}")
    if isinstance(exc, ConfigError):
        return RuleOutcome(ERROR, f"[configuration error] {exc}")
    return RuleOutcome(ERROR, f"[harness error] {type(exc).__name__}: {exc}")


def _unjudged(rule_ids: list[str]) -> RuleOutcome:
    return RuleOutcome(NOT_TESTED, f"not tested: no check of {', '.join(rule_ids)} applied to what the target "
                                   "answered (nothing to judge)")


def decide(exc: BaseException | None, marked: list[str], catalogue: Catalogue, *, strict: bool,
           deviations: dict[str, Deviation], judgement: Judgement | None = None) -> Decision:
    """Map a test's exception (or none) and its judgement to a Decision."""
    judgement = judgement or Judgement()
    failed = dict(judgement.failed)
    if isinstance(exc, RuleViolation):
        failed = {exc.rule_id: exc, **{k: v for k, v in failed.items() if k != exc.rule_id}}
    rules = {rid: _violation(v, catalogue, strict=strict, deviations=deviations) for rid, v in failed.items()}
    other = _exception(exc, marked[0] if marked else None) if exc and not isinstance(exc, RuleViolation) else None
    if other is not None and other.kind == FAILED and marked and marked[0] not in rules:
        rules[marked[0]] = other
    for rid in marked:
        if rid in rules:
            continue
        if other is not None:
            rules[rid] = other
        elif rid in judgement.judged and rid in deviations:
            rules[rid] = RuleOutcome(FAILED, f"[{rid}] listed as a known deviation but now passes: remove it from "
                                             "the deviations file")
        elif rid in judgement.judged:
            rules[rid] = RuleOutcome(PASSED)
    unjudged = [rid for rid in marked if rid not in rules]
    if unjudged:
        if all(rules.get(rid, RuleOutcome(NOT_TESTED)).kind == NOT_TESTED for rid in marked):
            for rid in unjudged:
                rules[rid] = _unjudged(unjudged)
        else:  # the test judged its other rules: these simply were not exercised by it
            for rid in unjudged:
                rules[rid] = RuleOutcome(NOT_TESTED, f"not tested: {rid} was not judged by this test", incidental=True)
    return _test_decision(rules, failed, other, marked)


def _test_decision(rules: dict[str, RuleOutcome], failed: dict[str, RuleViolation], other: RuleOutcome | None,
                   marked: list[str]) -> Decision:
    """The test's own outcome: its worst rule outcome (a failure before a deviation before a skip)."""
    if not rules:
        if other is not None:
            return Decision(other.kind, None, other.reason, None, rules)
        return Decision(PASSED, None)
    # Worst kind first; among equals, the raised violation, then the test's own rules in marker order.
    order = list(dict.fromkeys([*failed, *marked, *rules]))
    worst = min(order, key=lambda rid: (_WORST.index(rules[rid].kind), order.index(rid)))
    outcome = rules[worst]
    return Decision(outcome.kind, worst, outcome.reason, outcome.violation, rules)
