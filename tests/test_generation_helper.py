"""Case generation in a helper process (conformance/harness/generation_helper.py): the cases the run's own process
would generate, in the same order, bound to the run's operations; a helper that fails only means generating here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.data import contract
from conformance.harness import case_cache, generation_helper
from conformance.harness import schemathesis_checks as adapter
from tests.test_case_cache import _content

ROOT = Path(__file__).resolve().parent.parent
SYMBOLS = ("BTCUSDT", "ETHUSDT")
# The first three share a path: only the first of them generated in a run gets its unexpected-method cases.
ITEMS = [("cancelOrder", "coverage", "negative"), ("newOrder", "coverage", "negative"),
         ("queryOrder", "coverage", "negative"), ("klines", "fuzzing", "positive"), ("depth", "examples", "positive")]


def _args(op_id: str) -> tuple[str, str, str]:
    spec = contract.default()
    op = spec.operations[op_id]
    return str(spec.path), op.method, op.path


def _here() -> list[list[Any]]:
    adapter.load_schema.cache_clear()
    return [adapter.generate_cases(*_args(op_id), phase=phase, mode=mode, examples=5, seed=3, symbols=SYMBOLS)
            for op_id, phase, mode in ITEMS]


def _seen(mode: str) -> set[tuple[str, str]]:
    return set(adapter._seen(adapter.load_schema(str(contract.default().path), 3, mode, 5, SYMBOLS)))


@pytest.fixture
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(case_cache.CACHE_VAR, "off")


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_the_helper_generates_what_the_run_would_in_the_same_order(no_cache: None, method: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [[_content(c) for c in cases] for cases in _here()]
    seen_here = _seen("negative")
    assert any(c[0] == "TRACE" for c in expected[0]) and not any(c[0] == "TRACE" for c in expected[1])
    monkeypatch.setattr(generation_helper, "_start_method", lambda: method)
    adapter.load_schema.cache_clear()
    helper = generation_helper.Helper()
    try:
        futures = [helper.submit(*_args(op_id), phase=phase, mode=mode, examples=5, seed=3, symbols=SYMBOLS)
                   for op_id, phase, mode in ITEMS]
        blobs = [helper.result(future) for future in futures]
    finally:
        helper.close()
    assert not helper.broken and all(blob is not None for blob in blobs)
    adopted = [adapter.adopt(blob, *_args(op_id), mode=mode, examples=5, seed=3, symbols=SYMBOLS)
               for blob, (op_id, _, mode) in zip(blobs, ITEMS, strict=True) if blob is not None]
    assert [[_content(c) for c in cases] for cases in adopted] == expected
    assert _seen("negative") == seen_here  # the run's record grew as if it had generated them itself
    spec = contract.default()
    for cases, (op_id, _, mode) in zip(adopted, ITEMS, strict=True):
        op = spec.operations[op_id]
        schema = adapter.load_schema(str(spec.path), 3, mode, 5, SYMBOLS)
        current = next(r.ok() for r in schema.get_all_operations() if r.ok().label == f"{op.method} {op.path}")
        assert all(c.operation is current for c in cases)  # bound to this process's operation


def test_a_helper_that_died_means_generating_here_from_then_on(no_cache: None) -> None:
    helper = generation_helper.Helper()
    try:
        first = helper.submit(*_args("klines"), phase="fuzzing", mode="positive", examples=5, seed=3,
                              symbols=SYMBOLS)
        assert helper.result(first) is not None
        pool = helper._pool
        assert pool is not None
        for process in list(pool._processes.values()):  # the helper process is killed (OOM, a signal)
            process.kill()
            process.join()
        second = helper.submit(*_args("depth"), phase="fuzzing", mode="positive", examples=5, seed=3,
                               symbols=SYMBOLS)
        assert helper.result(second) is None and helper.broken
        assert helper.submit(*_args("depth"), phase="fuzzing", mode="positive", examples=5, seed=3,
                             symbols=SYMBOLS) is None
    finally:
        helper.close()


def test_an_error_of_generation_is_left_to_the_run_s_own_generation(no_cache: None) -> None:
    helper = generation_helper.Helper()
    try:
        bad = helper.submit(str(contract.default().path), "GET", "/fapi/v1/no-such-path", phase="fuzzing",
                            mode="positive", examples=5, seed=3, symbols=SYMBOLS)
        assert helper.result(bad) is None
        assert "LookupError: GET /fapi/v1/no-such-path is not an operation" in helper.broken
    finally:
        helper.close()
    # raised again where the run generates, in the test that owns the item
    with pytest.raises(LookupError, match="no-such-path"):
        adapter.generate_cases(str(contract.default().path), "GET", "/fapi/v1/no-such-path", phase="fuzzing",
                               mode="positive", examples=5, seed=3, symbols=SYMBOLS)


def test_a_helper_stopped_without_waiting_takes_no_more_items_and_ends(no_cache: None) -> None:
    """The run stops it so when the case cache holds its cases: it has been asked for every item already."""
    import multiprocessing

    helper = generation_helper.Helper()
    spec = str(contract.default().path)
    asked = [helper.submit(spec, "GET", "/fapi/v1/aggTrades", phase=phase, mode="negative", examples=5, seed=3,
                           symbols=SYMBOLS) for phase in ("coverage", "fuzzing")]
    assert all(asked)
    helper.close(wait=False)
    assert helper.submit(spec, "GET", "/fapi/v1/depth", phase="fuzzing", mode="positive", examples=5, seed=3,
                         symbols=SYMBOLS) is None
    deadline = time.monotonic() + 120
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()  # it ended after the item it was on


def test_a_helper_only_where_there_is_a_second_core() -> None:
    assert not generation_helper.wanted(1) and generation_helper.wanted(2)


KILLED_RUN = """
import sys, time
from conformance.harness import generation_helper
helper = generation_helper.Helper()
pool = helper._pool
pool.submit(int).result()  # the helper process is up
print(next(iter(pool._processes)), flush=True)
time.sleep(60)  # killed meanwhile: no clean-up runs
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="Linux: reparenting is how the helper sees its run go")
def test_a_killed_run_leaves_no_helper_behind_holding_its_output() -> None:
    run = subprocess.Popen([sys.executable, "-c", KILLED_RUN], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert run.stdout is not None
    helper_pid = int(run.stdout.readline())
    assert _alive(helper_pid)
    run.kill()  # SIGKILL: the run cannot shut its helper down
    run.wait(timeout=10)
    deadline = time.monotonic() + 10 * generation_helper.PARENT_POLL
    while _alive(helper_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(helper_pid), "the helper outlived its run"
    assert run.stdout.read() == ""  # and the run's output reached its end: nothing holds it open


def test_ctrl_c_is_the_run_s_to_handle_not_the_helper_s(no_cache: None) -> None:
    helper = generation_helper.Helper()
    try:
        pool = helper._pool
        assert pool is not None
        assert pool.submit(int).result() == 0
        (pid,) = list(pool._processes)
        os.kill(pid, signal.SIGINT)  # as a terminal's Ctrl-C reaches the whole process group
        time.sleep(0.2)
        future = helper.submit(*_args("time"), phase="fuzzing", mode="positive", examples=5, seed=3, symbols=SYMBOLS)
        assert helper.result(future) is not None and not helper.broken  # the helper is still there
    finally:
        helper.close()
