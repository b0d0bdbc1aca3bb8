"""What the processes of one `pytest -n N` run share, in a private folder of the run: the budget, a lock, a board.

- `SharedGovernor`: the governor's windows, slack and Retry-After block live in one file-locked ledger, so the
  workers together stay inside the run's share, and a 429/418 seen by one of them stops all of them.
- `RunLock`: a reader/writer lock (fcntl.flock): every test holds it shared, a test that changes the target for
  everyone (faults, limits, throttle mode) holds it alone; a turnstile keeps the writer from starving.
- `Board`: each worker posts the tests it finished and the answers its passive tests judge (2XX bodies, classified
  statuses), so a passive test waits for the whole run and judges what every worker saw, as in a serial run.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from conformance.data.exchange import Exchange
from conformance.harness import har
from conformance.harness.governor import Governor

LEDGER = "governor.json"
# One listenKey per account: a test's POST, PUT and DELETE act on the key every other test and the order stream use
# (a DELETE closes it for all), so a test that sends one holds this resource until it ends.
CLAIMED_PATHS = {"/fapi/v1/listenKey": "listenkey.lock"}
BARRIER_TIMEOUT = 1800.0  # a worker that died never posts its tests: the passive tests then judge what was posted
BARRIER_POLL = 0.2


@contextmanager
def _flocked(path: Path, mode: int) -> Iterator[IO[str]]:
    with path.open("a+", encoding="utf-8") as fh:
        fcntl.flock(fh, mode)
        try:
            yield fh
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class SharedGovernor(Governor):
    """A Governor whose windows are the run's, not this process's: loaded from the ledger under an exclusive
    file lock at every look, written back before the lock is let go. The counters (stats) stay per process and
    are added up by the controller (Governor.absorb); the peaks are measured on the shared window."""

    def __init__(self, folder: Path, share: float = 0.5, **kwargs: Any) -> None:
        super().__init__(share, **kwargs)
        self.ledger, self.folder = folder / LEDGER, folder
        self._claims: dict[str, IO[str]] = {}

    def claim(self, path: str) -> None:
        """Only the tests' own thread claims: a claim lasts until its test ends (`release_claims`), and a test that
        waits for one holds the run lock shared, so a background thread must not hold one between tests."""
        name = CLAIMED_PATHS.get(path)
        if name is None or name in self._claims or threading.current_thread() is not threading.main_thread():
            return
        fh = (self.folder / name).open("a+", encoding="utf-8")
        fcntl.flock(fh, fcntl.LOCK_EX)
        self._claims[name] = fh

    def release_claims(self) -> None:
        for fh in self._claims.values():
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()
        self._claims.clear()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock, _flocked(self.ledger, fcntl.LOCK_EX) as fh:
            fh.seek(0)
            text = fh.read()
            if text:
                data = json.loads(text)
                self._set_windows(((float(t), int(w)) for t, w in data["weights"]),
                                  ((float(t), int(n)) for t, n in data["orders"]))
                self.blocked_until, self.block_reason = float(data["blocked_until"]), str(data["block_reason"])
                self.slack = max(self.slack, float(data["slack"]))
            yield
            self._expire(self.clock())
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps({"weights": list(self._weights), "orders": list(self._orders),
                                 "blocked_until": self.blocked_until, "block_reason": self.block_reason,
                                 "slack": self.slack}))
            fh.flush()


class RunLock:
    """Shared for ordinary tests, exclusive for the ones that change the target's state for everyone."""

    def __init__(self, folder: Path) -> None:
        self.path, self.turnstile = folder / "run.lock", folder / "turnstile.lock"

    @contextmanager
    def held(self, exclusive: bool) -> Iterator[None]:
        if exclusive:  # holding the turnstile stops new readers while the current ones finish
            with _flocked(self.turnstile, fcntl.LOCK_EX), _flocked(self.path, fcntl.LOCK_EX):
                yield
            return
        with _flocked(self.turnstile, fcntl.LOCK_EX) as gate:
            fh = self.path.open("a+", encoding="utf-8")
            fcntl.flock(fh, fcntl.LOCK_SH)
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


class Board:
    """Per-worker append-only files: `<worker>.done` (finished node IDs) and `<worker>.<kind>.jsonl` (HAR entries
    of exchanges). A worker reads only the others' files; nothing is rewritten, so appends need no lock."""

    def __init__(self, folder: Path, worker: str) -> None:
        self.folder, self.worker = folder, worker

    def _append(self, name: str, lines: list[str]) -> None:
        if lines:
            with (self.folder / f"{self.worker}.{name}").open("a", encoding="utf-8") as fh:
                fh.write("".join(f"{line}\n" for line in lines))
                fh.flush()
                os.fsync(fh.fileno())

    def _others(self, name: str) -> Iterator[str]:
        for path in sorted(self.folder.glob(f"*.{name}")):
            if path.name != f"{self.worker}.{name}":
                yield from path.read_text(encoding="utf-8").splitlines()

    def post_done(self, nodeid: str) -> None:
        self._append("done", [nodeid])

    def post_exchanges(self, kind: str, exchanges: list[Exchange]) -> None:
        self._append(f"{kind}.jsonl", [json.dumps(har.entry(ex, test="", signature="", api_key="",
                                                            started=time.time())) for ex in exchanges])

    def others_exchanges(self, kind: str) -> list[Exchange]:
        return [har.exchange(json.loads(line)) for line in self._others(f"{kind}.jsonl") if line]

    def wait_for(self, nodeids: set[str], mine: set[str], timeout: float = BARRIER_TIMEOUT) -> set[str]:
        """Wait until every test in `nodeids` was finished by some worker; returns the ones that never were."""
        deadline = time.monotonic() + timeout
        while True:
            left = nodeids - mine - set(self._others("done"))
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(BARRIER_POLL)
