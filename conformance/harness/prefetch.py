"""Exchanges sent ahead of their tests: a module's independent items overlap their latency, and are judged in order.

A remote target's round trip (the testnet's is ~150 ms from most places) is most of a nightly's wall time when each
test sends its few requests and waits. A module whose items do not depend on each other (read-only operations, no
state of their own) hands its per-item work to a Prefetcher: when the test of item k runs, items k+1 … k+N that are
eligible are started too, in worker threads, inside the same governor (budget, in-flight slots). Nothing else
changes: each test still judges its own exchanges, in its own test; the exchanges of work done ahead are kept back
from the client's listeners (recorder, the test's exchanges, the run's observed answers) until their test runs and
takes them (`Client.holding` / `Client.release`), so HAR entries, Allure attachments and the passive tests see what a
serial run shows. An item that is not eligible runs in its test alone, and no work ahead crosses it: the items
after it start only once it is done. What the work raised is raised in the test that owns it.

While work runs ahead, `ast.parse` takes a lock: CPython 3.11 keeps the AST constructor's recursion depth in state
shared by all threads, and two threads parsing at once fail with "SystemError: AST constructor recursion depth
mismatch" (gh-106905). pytest parses with it whenever a plugin's module is first imported (assertion rewriting) and
when it formats a failure, and a worker's first request may import such a module while the test's thread imports
another (a fresh clone's first run did: its coverage phase and a worker both imported schemathesis modules).

Each item's work is in two parts: `prepare(key)` runs in the test's own thread (case generation: CPU only, and
Hypothesis parses source with `ast`, which CPython 3.11 does not allow in two threads at once — gh-106905: pytest's
own failure report parses source in the main thread), then `send(prepared)` runs ahead in a worker thread.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from conformance.data.exchange import Exchange
from conformance.harness.client import Client

K = TypeVar("K", bound=Hashable)


@dataclass
class Outcome:
    """What one item's work returned or raised, and the exchanges it sent (not yet told to the listeners)."""

    value: Any = None
    error: Exception | None = None
    held: list[Exchange] = field(default_factory=list)


def held_call(client: Client, work: Callable[[], Any]) -> Outcome:
    """Run `work` with this thread's exchanges kept back; what it raised is kept, not raised."""
    held: list[Exchange] = []
    try:
        with client.holding(held):
            return Outcome(work(), held=held)
    except Exception as exc:  # raised again in the test that owns the work
        return Outcome(error=exc, held=held)


def gather(client: Client, pool: ThreadPoolExecutor, works: Sequence[Callable[[], Any]]) -> Outcome:
    """Run `works` concurrently (each thread holding its exchanges); the values in order, the held exchanges in the
    works' order, and the first error raised (after every work has ended: none is left on the wire)."""
    outcomes = [future.result() for future in [pool.submit(held_call, client, work) for work in works]]
    held = [ex for outcome in outcomes for ex in outcome.held]
    errors = [o.error for o in outcomes if o.error is not None]
    return Outcome([o.value for o in outcomes], errors[0] if errors else None, held)


_AST_LOCK = threading.RLock()  # one ast.parse at a time while a Prefetcher is open (see the module's doc)


@contextlib.contextmanager
def one_ast_parse_at_a_time() -> Iterator[None]:
    """`ast.parse` behind a lock for as long as the block runs (the function is looked up at each call)."""
    original = ast.parse
    if getattr(original, "locked_by_conformance", False):  # already (a nested Prefetcher)
        yield
        return

    def parse(*args: Any, **kwargs: Any) -> Any:
        with _AST_LOCK:
            return original(*args, **kwargs)

    parse.locked_by_conformance = True  # type: ignore[attr-defined]
    ast.parse = parse
    try:
        yield
    finally:
        ast.parse = original


class Prefetcher(Generic[K]):
    """Runs `send(prepare(key))` for the keys in the order their tests ask for them, up to `ahead` eligible keys at
    once (`prepare` in the caller's thread, `send` in a worker). A key whose `pending(key)` future (its cases, being
    generated in another process) is not done yet is not prepared ahead, for that would make its test wait before
    judging what it already has: while a test waits for its own key's answers, each key behind it is started as soon
    as its future is done."""

    def __init__(self, client: Client, order: Sequence[K], prepare: Callable[[K], Any], send: Callable[[Any], Any],
                 eligible: Callable[[K], bool], ahead: int,
                 pending: Callable[[K], Future[Any] | None] | None = None) -> None:
        self.client, self.order, self.eligible = client, list(order), eligible
        self.pending = pending or (lambda key: None)  # what prepare(key) would wait for; None: nothing
        self.prepare, self.send = prepare, send
        self.ahead = max(1, ahead)
        self._pool = ThreadPoolExecutor(max_workers=self.ahead, thread_name_prefix="conformance-ahead")
        self._started: dict[K, Future[Outcome]] = {}
        self._taken: set[K] = set()
        self._guard = contextlib.ExitStack()
        self._guard.enter_context(one_ast_parse_at_a_time())

    def take(self, key: K) -> Any:
        """Key's value (its exchanges told to the listeners first, in this test); what its work raised is raised."""
        if self.eligible(key):
            self._start_from(key)
            future = self._started.pop(key)
            self._taken.add(key)
            while not future.done() and (blocker := self._blocker(key)) is not None:
                wait([future, blocker], return_when=FIRST_COMPLETED)
                self._start_from(key)  # the keys behind it that became ready meanwhile
            outcome = future.result()
        else:
            outcome = held_call(self.client, lambda: self.send(self.prepare(key)))  # alone, in its test
        self._taken.add(key)
        self.client.release(outcome.held)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def _window(self, key: K) -> list[K]:
        following = self.order[self.order.index(key):] if key in self.order else [key]
        return following[:self.ahead]

    def _ready(self, key: K) -> bool:
        waited = self.pending(key)
        return waited is None or waited.done()

    def _start_from(self, key: K) -> None:
        """Start key and the eligible keys right behind it (none beyond one that is not eligible or not ready)."""
        for nxt in self._window(key):
            if not self.eligible(nxt) or (nxt != key and not self._ready(nxt)):
                break  # started once it is ready (while a test waits, or at its own take)
            if nxt not in self._started and nxt not in self._taken:
                self._started[nxt] = self._submit(nxt)

    def _blocker(self, key: K) -> Future[Any] | None:
        """The pending future of the first key behind `key` that is not started for want of it, if any."""
        for nxt in self._window(key)[1:]:
            if not self.eligible(nxt):
                return None
            if nxt not in self._started and nxt not in self._taken:
                waited = self.pending(nxt)
                return waited if waited is not None and not waited.done() else None
        return None

    def _submit(self, key: K) -> Future[Outcome]:
        prepared = held_call(self.client, functools.partial(self.prepare, key))  # here, in the test's thread
        if prepared.error is not None:
            done: Future[Outcome] = Future()
            done.set_result(prepared)
            return done
        return self._pool.submit(self._send, prepared)

    def _send(self, prepared: Outcome) -> Outcome:
        sent = held_call(self.client, functools.partial(self.send, prepared.value))
        sent.held[:0] = prepared.held  # prepare is not meant to send; if it did, its exchanges come first
        return sent

    def close(self) -> None:
        """End of the module (or of the run, interrupted): nothing not yet started is sent; what was sent and not
        taken by a test (a later test deselected at run time, -x, Ctrl-C) is still told, so every exchange of the
        run is recorded."""
        for future in self._started.values():
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for future in self._started.values():
            if not future.cancelled():
                self.client.release(future.result().held)
        self._started.clear()
        self._guard.close()
