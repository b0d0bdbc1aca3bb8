"""Check registry: small pure functions of one `Exchange`, registered under a catalogue rule ID."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from conformance.data import catalogue
from conformance.data.exceptions import HarnessError
from conformance.data.exchange import Exchange

CheckFn = Callable[[Exchange], None]
Applies = Callable[[Exchange], bool]
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
# Told of every judgement (`run` here, `compare` in checks.parameters): the rule IDs asked for, the exchange(s)
# judged and the violations found. The HAR recorder listens (`observing`, for one test at a time), so that a
# recording can be re-judged offline.
Observer = Callable[[list[str], tuple[Exchange, ...], list["RuleViolation"]], None]
_OBSERVER: ContextVar[Observer | None] = ContextVar("fapi_conformance_observer", default=None)


class Registry(Mapping[str, list[T]], Generic[T]):
    """Rule ID -> the functions registered under it. Filled by decorators while the check modules are imported,
    frozen by `load_all` once every one of them is: after that a registration is the suite's bug, not a change."""

    def __init__(self, kind: str, entries: Mapping[str, list[T]] | None = None, *, frozen: bool = False) -> None:
        self.kind = kind
        self._entries = {rid: list(fns) for rid, fns in (entries or {}).items()}
        self._frozen = frozen

    def register(self, rule_id: str, func: T) -> None:
        if self._frozen:
            raise HarnessError(f"{self.kind} registry is frozen: {rule_id} registered after every check was loaded")
        self._entries.setdefault(rule_id, []).append(func)

    def freeze(self) -> None:
        self._frozen = True

    def with_entries(self, rule_id: str, funcs: list[T]) -> Registry[T]:
        """A frozen copy in which `rule_id` has `funcs` (for a self-test that swaps one check)."""
        return Registry(self.kind, {**self._entries, rule_id: funcs}, frozen=True)

    def __getitem__(self, rule_id: str) -> list[T]:
        return list(self._entries[rule_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


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


REGISTRY: Registry[Check] = Registry("check")


def _always(_: Exchange) -> bool:
    return True


def check(rule_id: str, *, applies: Applies = _always) -> Callable[[CheckFn], CheckFn]:
    """Register `func` as a check of `rule_id`; an unknown rule ID fails at import."""
    catalogue.default()[rule_id]  # raises CatalogueError for an unknown ID

    def register(func: CheckFn) -> CheckFn:
        REGISTRY.register(rule_id, Check(rule_id, func, applies))
        return func

    return register


# Scenario and sequence checks: functions of the answers a test drove the target to (a fault, a run over a limit, a
# retry), which no single recorded answer can show. Registered so that a rule ID leads to every check of it.
SCENARIOS: Registry[Callable[..., None]] = Registry("scenario")


def scenario(*rule_ids: str) -> Callable[[F], F]:
    """Register `func` as a scenario or sequence check of `rule_ids`; an unknown ID fails at import."""
    for rule_id in rule_ids:
        catalogue.default()[rule_id]

    def register(func: F) -> F:
        for rule_id in rule_ids:
            SCENARIOS.register(rule_id, func)
        return func

    return register


@functools.cache
def load_all() -> Registry[Check]:
    """Import every check module so that the registries are complete, then freeze them (once: frozen, they stay)."""
    import importlib
    import pkgutil

    modules = [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]
    for value in [v for module in modules for v in vars(module).values()] + [REGISTRY, SCENARIOS]:
        if isinstance(value, Registry):
            value.freeze()
    return REGISTRY


def checks_for(rule_ids: Iterable[str] | None = None) -> list[Check]:
    """The registered checks of `rule_ids`; a rule with no single-answer check is the suite's bug, not zero checks."""
    registry = load_all()
    wanted = list(registry.keys() if rule_ids is None else rule_ids)
    missing = [rid for rid in wanted if not registry.get(rid)]
    if missing:
        raise HarnessError(f"no check is registered for {', '.join(missing)}: register one or fix the rule ID")
    return [c for rid in wanted for c in registry[rid]]


@contextmanager
def observing(observer: Observer) -> Iterator[None]:
    """Tell `observer` of every judgement made while the block runs (one test's protocol)."""
    token = _OBSERVER.set(observer)
    try:
        yield
    finally:
        _OBSERVER.reset(token)


def notify(rule_ids: list[str], exchanges: tuple[Exchange, ...], violations: list[RuleViolation]) -> None:
    observer = _OBSERVER.get()
    if observer is not None:
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
