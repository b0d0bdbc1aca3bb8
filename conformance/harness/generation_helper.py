"""Case generation in a helper process, beside the run: Hypothesis' CPU on a second core while the run sends and judges.

Generating is CPU only, and most of the schema module's CPU when no case cache holds its cases; in the run's own
process it cannot overlap with anything (the GIL, and CPython 3.11's `ast` that two threads may not use at once:
conformance/harness/prefetch.py). The helper is one process (forked while the run has one thread, with everything
already imported; spawned otherwise, since a fork copies locks other threads hold) that generates the module's items
one after the other, in the order their tests run, with the same spec, seed, symbols and code as the run would
(`schemathesis_checks.generated_blob`): the same cases, for schemathesis' record of the unexpected-method cases
already generated on a path evolves in the same order. The run binds them to its own operations
(`schemathesis_checks.adopt`).

Started when the run collects a test that asks for it and the machine has more than one core, not in a pytest-xdist
worker (the workers already share the cores). Whatever goes wrong with it (no process can be started, it died, a
result that does not unpickle) only means generating in the run's process again, from that item on: the helper
never decides a verdict, and an error of generation itself is raised again by the run's own generation.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor

PARENT_POLL = 0.5  # seconds between the helper's checks that the run is still there


def _in_helper(parent: int) -> None:
    """The helper's start: Ctrl-C is the run's to handle (it shuts the helper down; a KeyboardInterrupt here would
    only print a traceback or fail a task), and a run that is gone without shutting it down (killed) ends it: a
    left-over helper would hold the run's stdout open, and whoever reads it to the end would wait forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(0)

    threading.Thread(target=watch, name="generation-helper-parent-watch", daemon=True).start()


def _warm() -> None:
    """The helper's first task: import what generating needs while the run starts up."""
    import conformance.harness.schemathesis_checks  # noqa: F401


def _generate(path: str, method: str, op_path: str, phase: str, mode: str, examples: int, seed: int,
              symbols: tuple[str, ...]) -> bytes:
    from conformance.harness import schemathesis_checks

    return schemathesis_checks.generated_blob(path, method, op_path, phase=phase, mode=mode, examples=examples,
                                              seed=seed, symbols=symbols)


def wanted(cores: int | None = None) -> bool:
    """Whether a helper can run beside the run: a second core (of those this process may use)."""
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
    return cores > 1


def _start_method() -> str:
    """"fork" while this process has one thread (the helper starts with everything imported, at once); "spawn"
    otherwise (a fork would copy locks other threads hold)."""
    return "fork" if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods() else "spawn"


class Helper:
    """One generation process; `submit` in the order the items run, `result` in any order."""

    def __init__(self) -> None:
        self.broken = ""  # why the run generates in its own process again, once it does
        self._pool: ProcessPoolExecutor | None = None
        try:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(_start_method()),
                                             initializer=_in_helper, initargs=(os.getpid(),))
            self._pool.submit(_warm)
        except Exception as exc:  # no process to be had here: generate in the run's own
            self._broke(exc)

    def submit(self, path: str, method: str, op_path: str, *, phase: str, mode: str, examples: int, seed: int,
               symbols: tuple[str, ...]) -> Future[bytes] | None:
        if self._pool is None or self.broken:
            return None
        try:
            return self._pool.submit(_generate, path, method, op_path, phase, mode, examples, seed, symbols)
        except Exception as exc:  # BrokenProcessPool, or shut down
            self._broke(exc)
            return None

    def result(self, future: Future[bytes] | None) -> bytes | None:
        """The blob, or None: the caller generates itself (and so does every later item: the helper is stopped, for
        its record of unexpected methods seen may no longer be the caller's)."""
        if future is None or self.broken:
            return None
        try:
            return future.result()
        except Exception as exc:  # generation raised, or the process died: the caller's own generation says which
            self._broke(exc)
            return None

    def _broke(self, exc: BaseException) -> None:
        self.broken = self.broken or f"{type(exc).__name__}: {exc}"[:200]
        self.close()

    def close(self, *, wait: bool = True) -> None:
        """Stop the helper: nothing not yet started is generated; `wait=False` does not wait for the item it is on
        (its result is never read; the process ends after it)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=wait, cancel_futures=True)

