"""Check registry: small pure functions of one `Exchange`, registered under a catalogue rule ID."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from conformance import catalogue
from conformance.errors import HarnessError
from conformance.exchange import Exchange

CheckFn = Callable[[Exchange], None]
Applies = Callable[[Exchange], bool]
# Told of every judgement (`run` here, `compare` in checks.parameters): the rule IDs asked for, the exchange(s)
# judged and the violations found. The HAR recorder listens, so that a recording can be re-judged offline.
Observer = Callable[[list[str], tuple[Exchange, ...], list["RuleViolation"]], None]
OBSERVERS: list[Observer] = []


class RuleViolation(AssertionError):
    """The target broke a rule: carries the rule ID, every acceptable outcome, and what happened instead."""

    def __init__(self, rule_id: str, expected: Sequence[str] | str, actual: str, *, detail: str = "",
                 exchange: Exchange | None = None) -> None:
        self.rule_id = rule_id
        self.expected = [expected] if isinstance(expected, str) else list(expected)
        self.actual = actual
        self.detail = detail
        self.exchange = exchange  # the answer that broke the rule, for the failure's request line and curl
        super().__init__(self.render())
        current = _CURRENT.get()
        if current is not None:
            current.failure(self)

    def render(self) -> str:
        try:
            title = catalogue.default()[self.rule_id].title
        except Exception:  # the message must render even when the catalogue is broken
            title = ""
        expected = " | ".join(self.expected)
        lines = [f"[{self.rule_id}] {title}".rstrip(), f"Expected: {expected}", f"Actual:   {self.actual}"]
        if self.detail:
            lines.append(self.detail)
        return "\n".join(lines)


@dataclass
class Judgement:
    """What the checks of one test judged: the rules a check applied to, the first violation of each, the answers."""

    judged: set[str] = field(default_factory=set)
    failed: dict[str, RuleViolation] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)

    def saw(self, rule_id: str, exchange: Exchange | None = None) -> None:
        self.judged.add(rule_id)
        if exchange is not None and not any(e is exchange for e in self.exchanges):
            self.exchanges.append(exchange)

    def failure(self, violation: RuleViolation) -> None:
        self.saw(violation.rule_id, violation.exchange)
        known = self.failed.get(violation.rule_id)
        if known is None or known.actual == violation.actual:  # the same failure told again with more detail
            self.failed[violation.rule_id] = violation


_CURRENT: ContextVar[Judgement | None] = ContextVar("fapi_conformance_judgement", default=None)


@contextmanager
def judging() -> Iterator[Judgement]:
    """Collect what the checks judge while the block runs (one test's call phase)."""
    judgement = Judgement()
    token = _CURRENT.set(judgement)
    try:
        yield judgement
    finally:
        _CURRENT.reset(token)


def judged(rule_id: str, *exchanges: Exchange) -> None:
    """Say that `rule_id` was judged (by a scenario or sequence check) on `exchanges`: tests credit only such rules."""
    current = _CURRENT.get()
    if current is not None:
        current.saw(rule_id)
        for exchange in exchanges:
            current.saw(rule_id, exchange)


def attach(violation: RuleViolation, exchange: Exchange) -> RuleViolation:
    """Name the answer that broke the rule, when the check did not."""
    if violation.exchange is None:
        violation.exchange = exchange
        current = _CURRENT.get()
        if current is not None:
            current.saw(violation.rule_id, exchange)
    return violation


@dataclass(frozen=True)
class Check:
    rule_id: str
    func: CheckFn
    applies: Applies

    @property
    def name(self) -> str:
        return self.func.__name__

    def __call__(self, exchange: Exchange) -> None:
        if self.applies(exchange):
            judged(self.rule_id, exchange)
            try:
                self.func(exchange)
            except RuleViolation as violation:
                raise attach(violation, exchange) from None


REGISTRY: dict[str, list[Check]] = {}


def _always(_: Exchange) -> bool:
    return True


def check(rule_id: str, *, applies: Applies = _always) -> Callable[[CheckFn], CheckFn]:
    """Register `func` as a check of `rule_id`; an unknown rule ID fails at import."""
    catalogue.default()[rule_id]  # raises CatalogueError for an unknown ID

    def register(func: CheckFn) -> CheckFn:
        REGISTRY.setdefault(rule_id, []).append(Check(rule_id, func, applies))
        return func

    return register


def load_all() -> dict[str, list[Check]]:
    """Import every check module so that the registry is complete."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return REGISTRY


def checks_for(rule_ids: Iterable[str] | None = None) -> list[Check]:
    """The registered checks of `rule_ids`; a rule with no single-answer check is the suite's bug, not zero checks."""
    registry = load_all()
    wanted = list(registry.keys() if rule_ids is None else rule_ids)
    missing = [rid for rid in wanted if not registry.get(rid)]
    if missing:
        raise HarnessError(f"no check is registered for {', '.join(missing)}: register one or fix the rule ID")
    return [c for rid in wanted for c in registry[rid]]


def notify(rule_ids: list[str], exchanges: tuple[Exchange, ...], violations: list[RuleViolation]) -> None:
    for observer in list(OBSERVERS):
        observer(rule_ids, exchanges, violations)


def run(exchange: Exchange, rule_ids: Iterable[str] | None = None) -> list[RuleViolation]:
    """Run the (applicable) checks of `rule_ids` (default: all) and return every violation found."""
    wanted = list(load_all() if rule_ids is None else rule_ids)
    violations: list[RuleViolation] = []
    for chk in checks_for(wanted):
        try:
            chk(exchange)
        except RuleViolation as violation:
            violations.append(violation)
    notify(wanted, (exchange,), violations)
    return violations


def verify(exchange: Exchange, rule_ids: Iterable[str] | None = None) -> None:
    """Run checks and raise the first violation (the others are appended to its detail)."""
    violations = run(exchange, rule_ids)
    if violations:
        first = violations[0]
        if len(violations) > 1:
            others = "; ".join(f"[{v.rule_id}] {v.actual}" for v in violations[1:])
            first = RuleViolation(first.rule_id, first.expected, first.actual,
                                  detail=(first.detail + "\n" if first.detail else "") + f"Also: {others}")
        raise first
