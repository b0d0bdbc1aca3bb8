"""Generated requests (schemathesis: examples, coverage, fuzzing; positive and negative) against the spec."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from conformance import checks
from conformance.data import contract
from conformance.data.exchange import Exchange
from conformance.harness import generation, prefetch
from conformance.harness import schemathesis_checks as adapter
from conformance.harness.acceptance import Acceptance
from conformance.harness.client import Client
from conformance.harness.generation_helper import Helper
from conformance.harness.governor import Governor
from conformance.harness.orders import ORDER_PATH, OrderFactory
from conformance.harness.session import RunState

# Share of the run's weight budget this module may spend; every case item gets an equal slice of it.
MODULE_SHARE = 0.5
SEEDED_SYMBOLS = 3  # resting orders placed per positive item of an operation that reads or cancels orders
# Operations whose valid request the suite builds itself, a resting LIMIT order far from the market: generated order
# parameters rarely fit a symbol's filters, so each positive item also sends this one and judges its 2XX body.
REFERENCE_PATHS = {"newOrder": ORDER_PATH, "testOrder": f"{ORDER_PATH}/test"}
NEGATIVE_RULES = adapter.NEGATIVE_RULES


def _marks(op: contract.Operation) -> list[Any]:
    if op.trading:
        return [pytest.mark.capability("trading")]
    return [pytest.mark.capability("signed")] if op.signed else []


def _items() -> list[Any]:
    items = []
    for op in sorted(contract.default().operations.values(), key=lambda o: o.id):
        for phase in adapter.PHASES:
            for mode in adapter.MODES:
                if phase == "examples" and mode == "negative":
                    continue  # spec examples are valid requests: there is no negative examples phase
                rules = (*NEGATIVE_RULES, f"schema.{op.id}") if mode == "negative" else (f"schema.{op.id}",)
                marks = [pytest.mark.rule(*rules, *adapter.GENERAL_RULES), *_marks(op)]
                params = pytest.param(op.id, phase, mode, id=f"{op.id}-{phase}-{mode}", marks=marks)
                items.append(params)
    return items


ITEMS = _items()


@pytest.fixture(scope="module")
def symbols(client: Client) -> generation.Symbols:
    """The target's own symbols (exchangeInfo), enumerated in the spec's symbol parameters for this module."""
    return generation.read_symbols(client)


@pytest.fixture(scope="module")
def acceptance(run_state: RunState) -> Iterator[Acceptance]:
    """The share of positive cases answered 2XX per operation, written to <reports>/positive-acceptance.json (under
    `-n N` by the controller, which adds up every worker's tally: each saw part of the module)."""
    tally = Acceptance()
    yield tally
    if run_state.worker:
        run_state.tallies.append(tally.export())
    elif tally.sent:
        tally.write(run_state.reports / "positive-acceptance.json")


@pytest.fixture(scope="module", autouse=True)
def _no_orders_left(client: Client, symbols: generation.Symbols) -> Iterator[None]:
    """Generated order requests must not outlive the module: cancel every open order per symbol after it."""
    yield
    if client.target.has("trading"):
        for symbol in symbols.names or generation.spec_symbols(client.contract):  # unknown: the spec's examples
            client.call("DELETE", "/fapi/v1/allOpenOrders", {"symbol": symbol}, allow_faults=True, allow_limits=True)


def _weight(op: contract.Operation, case: Any) -> int:
    try:
        return op.weight(case.query if isinstance(case.query, dict) else {})
    except (TypeError, ValueError):  # a mutated `limit`: count the operation's heaviest weight
        return op.weight({"limit": 10**9})


def _sample(cases: list[Any], op: contract.Operation, budget: int, seed: int) -> list[Any]:
    """A seeded sample of the cases that fits the item's weight budget (always at least one case)."""
    order = list(cases)
    random.Random(seed).shuffle(order)
    chosen: list[Any] = []
    spent = 0
    for case in order:
        weight = _weight(op, case) or 1  # weight-0 order requests still spend the order budget
        if chosen and spent + weight > budget:
            continue
        chosen.append(case)
        spent += weight
    return chosen


def _seed(orders: OrderFactory, symbols: generation.Symbols, op: contract.Operation) -> list[generation.Seeded]:
    """One resting order (far from the market, run-prefixed) per target symbol, for positive cases to name.

    Only on a trading target, for an operation that reads or cancels orders: its cases then query a real order
    and see a real 200 body, instead of guessing an orderId that names nothing (-2013).
    """
    if not (orders.client.target.has("trading") and generation.names_orders(op)):
        return []
    seeds = []
    for symbol in symbols.names[:SEEDED_SYMBOLS]:
        params = orders.resting_limit(symbol)
        exchange = orders.client.call("POST", ORDER_PATH, params)
        orders.remember(params)
        body = exchange.response.json() if exchange.response.is_json else None
        if exchange.response.status == 200 and isinstance(body, dict) and "orderId" in body:
            client_id = body.get("clientOrderId", params["newClientOrderId"])
            seeds.append(generation.Seeded(symbol, {"orderId": body["orderId"], "clientOrderId": client_id}))
    return seeds


def _prepare(client: Client, spec: contract.Contract, op: contract.Operation) -> None:
    """Create the state `op` needs (`x-after`, e.g. an active listenKey) before its positive cases are sent."""
    before = spec.operations.get(str(op.raw.get("x-after", "")))
    if before is not None:
        client.call(before.method, before.path)


def _ready(cases: list[Any], op: contract.Operation, spec: contract.Contract, orders: OrderFactory,
           symbols: generation.Symbols) -> list[Any]:
    """Positive cases made valid on this target: the state they need, real orders named, windows and bounds kept."""
    _prepare(orders.client, spec, op)
    seeds = _seed(orders, symbols, op)
    return [generation.repair(c, op, symbols, seeds[i % len(seeds)] if seeds else None) for i, c in enumerate(cases)]


def _reference(orders: OrderFactory, symbols: generation.Symbols, op: contract.Operation) -> list[Exchange]:
    """The item's reference order (a trading target, an operation in REFERENCE_PATHS): sent, remembered, returned."""
    if op.id not in REFERENCE_PATHS or not orders.client.target.has("trading") or not symbols.names:
        return []
    params = orders.resting_limit(symbols.names[0])
    exchange = orders.client.call("POST", REFERENCE_PATHS[op.id], params)
    orders.remember(params)
    return [exchange]


def _allure() -> Any:
    try:
        import allure
    except ImportError:  # Allure output is optional
        return None
    return allure


def _label(op_id: str, phase: str, mode: str) -> None:
    if allure := _allure():
        allure.dynamic.parameter("operation", op_id)
        allure.dynamic.parameter("phase", phase)
        allure.dynamic.parameter("mode", mode)


def _tally(acceptance: Acceptance, symbols: generation.Symbols, op: contract.Operation,
           exchanges: list[Exchange]) -> bool:
    """Count the item's positive answers (the 2XX share also goes to Allure, outside the history ID: it is a figure).

    Returns whether `positive_data_acceptance` may judge them: not when the operation takes a symbol and the
    target's symbols are unknown, for a refusal may then be the suite's guess, not the target's fault.
    """
    share = acceptance.add(op.id, exchanges)
    if allure := _allure():
        allure.dynamic.parameter("positive answered 2XX", f"{share:.0%} of {len(exchanges)}", excluded=True)
    judged = bool(symbols.names) or not generation.takes_target_values(op)
    if not judged:
        acceptance.unjudged[op.id] = symbols.reason
    return judged


@dataclass(frozen=True)
class Sent:
    """One item's sampled cases and the answers to them, in the cases' seeded order."""

    chosen: list[Any]
    exchanges: list[Exchange]


def _independent(op: contract.Operation) -> bool:
    """An item whose work may be done ahead of its test: it reads, and needs no state of its own (no order to name,
    no `x-after` operation before it), so neither its answers nor the others' depend on when it is sent."""
    return op.method == "GET" and not generation.names_orders(op) and not op.raw.get("x-after")


def _skipped(item: pytest.Item) -> bool:
    return any(item.iter_markers("skip")) or any(item.iter_markers("skipif"))


@pytest.fixture(scope="module")
def ahead(request: pytest.FixtureRequest, client: Client, contract: contract.Contract, governor: Governor,
          symbols: generation.Symbols, orders: OrderFactory,
          generation_helper: Helper | None) -> Iterator[prefetch.Prefetcher[tuple[str, str, str]]]:
    """The module's items in the order they run; independent ones are sent a few items ahead (conformance/harness/
    prefetch.py), within the governor's in-flight slots. Under pytest-xdist each worker runs some items only, so
    nothing is sent ahead there. Their cases are generated by the helper process, when the run has one
    (conformance/harness/generation_helper.py), every item asked for now, in the order the items run."""
    seed = request.config.getoption("conformance_seed")
    examples = request.config.getoption("conformance_examples")
    mine = [i for i in request.session.items if isinstance(i, pytest.Function) and i.module is request.module
            and i.originalname == test_generated_requests_get_documented_answers.__name__]
    order = [(str(i.callspec.params["op_id"]), str(i.callspec.params["phase"]), str(i.callspec.params["mode"]))
             for i in mine]
    runnable = {key for key, item in zip(order, mine, strict=True) if not _skipped(item)}

    def eligible(key: tuple[str, str, str]) -> bool:
        return key in runnable and _independent(contract.operations[key[0]])

    helper = generation_helper
    first = next((key for key in order if key in runnable), None)
    # Asked first, so the helper starts on the first item at once: whether the case cache holds it is known only
    # once this process has built the item's schemathesis schema (~0.1 s, needed to bind the cases anyway).
    generated = {key: _ask(helper, key, spec=contract, symbols=symbols, seed=seed, examples=examples)
                 for key in order if key in runnable} if helper is not None else {}
    if helper is not None and (first is None or _cached(first, spec=contract, symbols=symbols, seed=seed,
                                                        examples=examples)):
        helper.close(wait=False)  # the case cache holds the run's cases (a second run): reading them here costs less
        helper, generated = None, {}

    def prepare(key: tuple[str, str, str]) -> Planned:
        blob = helper.result(generated.pop(key, None)) if helper is not None else None
        return _plan(key, spec=contract, governor=governor, symbols=symbols, seed=seed, examples=examples, blob=blob)

    # One pool of senders for the module, as many as the governor's in-flight slots: a pool per item started up to
    # four threads for each of the module's items (each start a switch to the new thread), and items sent ahead
    # queue behind the earlier ones' requests instead of racing them for the slots.
    senders = ThreadPoolExecutor(max_workers=max(1, governor.max_in_flight), thread_name_prefix="conformance-send")

    def send(planned: Planned) -> Sent | None:
        return _send_item(planned, client=client, spec=contract, symbols=symbols, orders=orders, pool=senders)

    depth = 1 if hasattr(request.config, "workerinput") else governor.max_in_flight
    fetcher = prefetch.Prefetcher(client, order, prepare, send, eligible, depth, generated.get)
    try:
        yield fetcher
    finally:
        fetcher.close()
        senders.shutdown(wait=True)


@dataclass(frozen=True)
class Planned:
    """One item's cases sampled to its budget (no case: schemathesis generates none for it)."""

    op: contract.Operation
    negative: bool
    chosen: list[Any]


def _cached(key: tuple[str, str, str], *, spec: contract.Contract, symbols: generation.Symbols, seed: int,
            examples: int) -> bool:
    op_id, phase, mode = key
    op = spec.operations[op_id]
    return adapter.cached(str(spec.path), op.method, op.path, phase=phase, mode=mode, examples=examples, seed=seed,
                          symbols=symbols.names)


def _ask(helper: Helper, key: tuple[str, str, str], *, spec: contract.Contract, symbols: generation.Symbols,
         seed: int, examples: int) -> Future[bytes] | None:
    op_id, phase, mode = key
    op = spec.operations[op_id]
    return helper.submit(str(spec.path), op.method, op.path, phase=phase, mode=mode, examples=examples, seed=seed,
                         symbols=symbols.names)


def _plan(key: tuple[str, str, str], *, spec: contract.Contract, governor: Governor, symbols: generation.Symbols,
          seed: int, examples: int, blob: bytes | None = None) -> Planned:
    """The item's cases (generated here, or by the helper process: `blob`) sampled to its weight budget."""
    op_id, phase, mode = key
    op = spec.operations[op_id]
    if blob is not None:
        cases = adapter.adopt(blob, str(spec.path), op.method, op.path, mode=mode, examples=examples, seed=seed,
                              symbols=symbols.names)
    else:
        cases = adapter.generate_cases(str(spec.path), op.method, op.path, phase=phase, mode=mode,
                                       examples=examples, seed=seed, symbols=symbols.names)
    budget = max(1, int(governor.weight_budget * MODULE_SHARE) // len(ITEMS))
    return Planned(op, mode == "negative", _sample(cases, op, budget, seed) if cases else [])


def _send_item(planned: Planned, *, client: Client, spec: contract.Contract, symbols: generation.Symbols,
               orders: OrderFactory, pool: ThreadPoolExecutor) -> Sent | None:
    """Make positive cases valid here and send them concurrently on the module's senders, within the governor's
    in-flight slots (latency overlaps); None when there is no case."""
    if not planned.chosen:
        return None
    negative = planned.negative
    chosen = planned.chosen if negative else _ready(planned.chosen, planned.op, spec, orders, symbols)
    sent = prefetch.gather(client, pool, [functools.partial(adapter.send, client, c, negative=negative)
                                          for c in chosen])
    client.release(sent.held)  # to the work's own hold (sent ahead) or the listeners (sent in its test)
    if sent.error is not None:
        raise sent.error
    return Sent(chosen, sent.value)


@pytest.mark.parametrize(("op_id", "phase", "mode"), ITEMS)
def test_generated_requests_get_documented_answers(op_id: str, phase: str, mode: str, contract: contract.Contract,
                                                   symbols: generation.Symbols, acceptance: Acceptance,
                                                   orders: OrderFactory,
                                                   ahead: prefetch.Prefetcher[tuple[str, str, str]]) -> None:
    _label(op_id, phase, mode)
    op = contract.operations[op_id]
    sent = ahead.take((op_id, phase, mode))
    if sent is None:
        pytest.skip(f"schemathesis generates no {mode} case for {op_id} in the {phase} phase")
    negative = mode == "negative"
    judged = negative or _tally(acceptance, symbols, op, sent.exchanges)
    for case, exchange in zip(sent.chosen, sent.exchanges, strict=True):  # judged in their seeded order
        adapter.judge(case, exchange, negative=negative, acceptance=judged)
    for exchange in [] if negative else _reference(orders, symbols, op):  # not a generated case: not in the tally
        checks.verify(exchange, [*adapter.GENERAL_RULES, f"schema.{op.id}"])
