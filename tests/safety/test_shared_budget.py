"""`-n N`: the workers' governors share one window and one Retry-After block, a reader/writer lock keeps an
exclusive test alone, and the merged figures are the run's (conformance/harness/sharing.py, Governor.absorb)."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from conformance.data.exceptions import TargetUnavailable
from conformance.harness.governor import Governor
from conformance.harness.sharing import Board, RunLock, SharedGovernor

from .conftest import FakeClock
from .test_governor import exchange


def shared(folder: Path, clock: FakeClock, **kwargs: object) -> SharedGovernor:
    return SharedGovernor(folder, clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


def test_two_workers_together_stay_inside_one_budget(tmp_path: Path, clock: FakeClock) -> None:
    one, two = shared(tmp_path, clock, share=0.01), shared(tmp_path, clock, share=0.01)  # 24 weight a minute
    for _ in range(12):
        one.acquire(1)
        two.acquire(1)
    assert clock.slept == [] and one.used_weight() == two.used_weight() == 24
    two.acquire(1)  # the 25th unit of the minute waits, although this governor alone sent only 12
    assert clock.slept and two.waits == 1 and two.peak_weight <= 24


def test_each_worker_alone_would_have_sent_twice_the_budget(tmp_path: Path, clock: FakeClock) -> None:
    """The counter-case: governors that do not share the ledger each allow the whole budget."""
    one, two = Governor(share=0.01, clock=clock, sleep=clock.sleep), shared(tmp_path, clock, share=0.01)
    for _ in range(24):
        one.acquire(1)
        two.acquire(1)
    assert clock.slept == []


def test_a_429_seen_by_one_worker_stops_the_other(tmp_path: Path, clock: FakeClock) -> None:
    one, two = shared(tmp_path, clock), shared(tmp_path, clock)
    one.observe(exchange(429, retry_after="30"))
    with pytest.raises(TargetUnavailable, match="rate-limited"):
        two.acquire(1)
    assert two.rate_limited
    clock.now += 32
    two.acquire(1)


def test_the_run_figures_add_the_workers_counts_and_keep_the_largest_peak(tmp_path: Path, clock: FakeClock) -> None:
    controller, worker = shared(tmp_path, clock), shared(tmp_path, clock)
    controller.acquire(1)
    for _ in range(5):
        worker.acquire(2)
    controller.absorb(worker.stats())
    stats = controller.stats()
    assert (stats["requests"], stats["total_weight"], stats["peak_weight_1m"]) == (6, 11, 11)


def _hold(path: str, exclusive: bool, seconds: float, log: str) -> None:
    with RunLock(Path(path)).held(exclusive):
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"start {exclusive} {time.monotonic()}\n")
        time.sleep(seconds)
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"end {exclusive} {time.monotonic()}\n")


def test_an_exclusive_holder_never_overlaps_a_shared_one_across_processes(tmp_path: Path) -> None:
    log = tmp_path / "log"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hold, args=(str(tmp_path), exclusive, 0.3, str(log)))
             for exclusive in (False, False, True, False)]
    for proc in procs:
        proc.start()
        time.sleep(0.05)
    for proc in procs:
        proc.join(30)
    events = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(events) == 8
    spans: dict[str, list[tuple[float, float]]] = {"True": [], "False": []}
    opened: dict[str, list[float]] = {"True": [], "False": []}
    for kind, exclusive, when in sorted(events, key=lambda e: float(e[2])):
        if kind == "start":
            opened[exclusive].append(float(when))
        else:
            spans[exclusive].append((opened[exclusive].pop(0), float(when)))
    (ex_start, ex_end), = spans["True"]
    assert all(end <= ex_start or start >= ex_end for start, end in spans["False"]), (spans, ex_start, ex_end)
    assert any(a[0] < b[1] and b[0] < a[1] for a in spans["False"] for b in spans["False"] if a != b)  # shared


def test_a_worker_waits_on_the_board_for_the_tests_of_the_others(tmp_path: Path) -> None:
    gw0, gw1 = Board(tmp_path, "gw0"), Board(tmp_path, "gw1")
    gw1.post_done("t::a")
    assert gw0.wait_for({"t::a", "t::b"}, mine=set(), timeout=0.3) == {"t::b"}
    gw1.post_done("t::b")
    assert gw0.wait_for({"t::a", "t::b", "t::c"}, mine={"t::c"}, timeout=5) == set()


def _claim(folder: str, path: str, seconds: float, log: str) -> None:
    gov = SharedGovernor(Path(folder))
    gov.claim(path)
    start = time.monotonic()
    time.sleep(seconds)
    end = time.monotonic()  # before the release: the other process may start the moment it is let go
    gov.release_claims()
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"{start} {end}\n")


def _claimed_spans(tmp_path: Path, path: str) -> list[tuple[float, float]]:
    log = tmp_path / f"log-{path.rsplit('/', 1)[1]}"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_claim, args=(str(tmp_path), path, 0.4, str(log))) for _ in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    spans = [tuple(float(x) for x in line.split()) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(spans) == 2
    return sorted(spans)  # type: ignore[arg-type]


def test_two_tests_that_use_the_listen_key_take_turns(tmp_path: Path) -> None:
    first, second = _claimed_spans(tmp_path, "/fapi/v1/listenKey")
    assert first[1] <= second[0]


def test_other_paths_are_not_claimed(tmp_path: Path) -> None:
    first, second = _claimed_spans(tmp_path, "/fapi/v1/time")
    assert second[0] < first[1]  # both held it at once
