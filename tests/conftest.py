"""Shared self-test fixtures: a session reference mock and `run_suite`, the conformance suite in a subprocess."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITE_TIMEOUT = 900.0


@dataclass(frozen=True)
class SuiteRun:
    """One `pytest conformance` run: exit status, rules.json, JUnit path and the captured output."""

    code: int
    rules: dict[str, Any]
    junit: Path
    stdout: str
    stderr: str

    def __iter__(self) -> Iterator[Any]:  # `code, rules, junit = run_suite(...)`
        return iter((self.code, self.rules, self.junit))

    def verdicts(self) -> dict[str, str]:
        return {r["id"]: r["verdict"] for r in self.rules.get("rules", [])}

    def with_verdict(self, *verdicts: str) -> list[str]:
        return sorted(rid for rid, v in self.verdicts().items() if v in verdicts)

    def explain(self) -> str:
        """What a failed self-test should show: the tail of the output and the rules that did not pass."""
        bad = [f"{r['id']}: {r['verdict']} {r.get('reasons', '')}" for r in self.rules.get("rules", [])
               if r["verdict"] in ("failed", "error")]
        return "\n".join([f"exit {self.code}", *bad, self.stdout[-3000:], self.stderr[-2000:]])


def run_suite_in(reports: Path, args: list[str], env: dict[str, str] | None = None,
                 timeout: float = SUITE_TIMEOUT) -> SuiteRun:
    """`python -m pytest conformance <args>` from the repository root, reports in `reports`."""
    reports.mkdir(parents=True, exist_ok=True)
    junit = reports / "junit.xml"
    command = [sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider",
               f"--conformance-reports={reports}", f"--junitxml={junit}", *args]
    # Bytecode writing on: with PYTHONDONTWRITEBYTECODE=1 every run re-rewrote ~340 plugin modules (~1.5 s).
    full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "", **(env or {})}
    done = subprocess.run(command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    path = reports / "rules.json"
    rules = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return SuiteRun(done.returncode, rules, junit, done.stdout, done.stderr)


@pytest.fixture
def run_suite(tmp_path: Path) -> Callable[..., SuiteRun]:
    """Run the conformance suite in a subprocess; each call gets its own reports folder."""
    count = iter(range(1_000))

    def run(args: list[str], env: dict[str, str] | None = None, timeout: float = SUITE_TIMEOUT) -> SuiteRun:
        return run_suite_in(tmp_path / f"run{next(count)}", args, env, timeout)

    return run


def _mock_server_class() -> Any:
    mock = pytest.importorskip("conformance.mock", reason="the reference mock (conformance/mock) is not built yet")
    return mock.MockServer


@pytest.fixture(scope="session")
def mock_server() -> Iterator[Any]:
    """The reference mock on a free loopback port, for the whole self-test session (reset it before use)."""
    with _mock_server_class()(host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def fresh_mock() -> Iterator[Any]:
    """A reference mock of its own, for a test that leaves state or limits behind."""
    with _mock_server_class()(host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture(scope="session")
def full_mock_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """The whole suite against the bundled mock, once per session (the self-proof and the lint read it).

    Under pytest-xdist every worker has its own session: the first worker to ask runs the suite under a file lock in
    the run's shared temporary folder and leaves the result there; the others wait for it and read it."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return run_suite_in(tmp_path_factory.mktemp("full-mock-run"), [])
    shared = tmp_path_factory.getbasetemp().parent / "full-mock-run"
    shared.mkdir(exist_ok=True)
    saved = shared / "run.json"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
        if saved.is_file():
            data = json.loads(saved.read_text(encoding="utf-8"))
            return SuiteRun(data["code"], data["rules"], Path(data["junit"]), data["stdout"], data["stderr"])
        run = run_suite_in(shared / "reports", [])
        saved.write_text(json.dumps({"code": run.code, "rules": run.rules, "junit": str(run.junit),
                                     "stdout": run.stdout, "stderr": run.stderr}), encoding="utf-8")
        return run


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest self-tests first, so that under pytest-xdist none is left running alone at the end: the fresh clone
    (the README's two commands from nothing, the longest by far), then the other `slow` ones, then the rest. The
    order within each rank is kept, and the modules whose module fixtures run the suite keep their tests together."""
    def rank(item: pytest.Item) -> int:
        if item.path.name == "test_fresh_machine.py":
            return 0
        return 1 if item.get_closest_marker("slow") else 2

    items.sort(key=rank)
