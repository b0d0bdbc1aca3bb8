"""Check registry: small pure functions of one `Exchange`, registered under a catalogue rule ID."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from conformance import catalogue
from conformance.exchange import Exchange

CheckFn = Callable[[Exchange], None]
Applies = Callable[[Exchange], bool]
# Told of every judgement (`run` here, `compare` in checks.parameters): the rule IDs asked for, the exchange(s)
# judged and the violations found. The HAR recorder listens, so that a recording can be re-judged offline.
Observer = Callable[[list[str], tuple[Exchange, ...], list["RuleViolation"]], None]
OBSERVERS: list[Observer] = []


class RuleViolation(AssertionError):
    """The target broke a rule: carries the rule ID, every acceptable outcome, and what happened instead."""

    def __init__(self, rule_id: str, expected: Sequence[str] | str, actual: str, *, detail: str = "") -> None:
        self.rule_id = rule_id
        self.expected = [expected] if isinstance(expected, str) else list(expected)
        self.actual = actual
        self.detail = detail
        super().__init__(self.render())

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
            self.func(exchange)


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
    registry = load_all()
    wanted = registry.keys() if rule_ids is None else rule_ids
    return [c for rid in wanted for c in registry.get(rid, [])]


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
