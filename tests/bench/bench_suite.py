"""Whole runs: the full conformance run against the bundled mock, and the testnet profile's weight against a mock."""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from bench_common import PYTHON, control, failed_lines, median, mock_process, timed

DOCUMENTED_WEIGHT_PER_MINUTE = 2400  # exchangeInfo.rateLimits REQUEST_WEIGHT (fapi-contract §3.1)
POLL_SECONDS = 0.25
ROUND_TRIPS = 500  # sequential keep-alive requests for the loopback round trip (bounded)
EMPTY_TEST = "def test_nothing():\n    pass\n"
CASE_CACHE_VAR = "FAPI_CONFORMANCE_CASE_CACHE"  # conformance/harness/case_cache.py


def _pytest(*args: str, reports: Path) -> list[str]:
    return [PYTHON, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider", "--no-header",
            f"--conformance-reports={reports}", *args]


def full_run(repeats: int, examples: int | None = None) -> dict[str, Any]:
    """Median wall time of `pytest conformance` with the bundled mock started in-process, as users run it: with the
    generated cases already kept (every run after a user's first), and beside it the first run (an empty case cache,
    every case generated)."""
    extra = (f"--conformance-examples={examples}",) if examples else ()
    runs, stats = [], []
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cases:
        env = {CASE_CACHE_VAR: cases}
        cold = timed(_pytest(*extra, reports=Path(tmp)), env=env)  # generates every case, and keeps them
        for _ in range(repeats):
            runs.append(timed(_pytest(*extra, reports=Path(tmp)), env=env))
            stats.append(_governor(Path(tmp)))
    last = stats[-1] or {}
    seconds = median([r.seconds for r in runs])
    return {"seconds": seconds, "runs": [round(r.seconds, 3) for r in runs], "cold_seconds": round(cold.seconds, 3),
            "exit_codes": [cold.returncode] + [r.returncode for r in runs], "last_line": runs[-1].tail,
            "failures": failed_lines([cold, *runs]),
            "requests": last.get("requests"), "paced_seconds": last.get("paced_seconds"),
            "paced_waits": last.get("paced_waits"), "goal_seconds": 20,
            "physical_limit": physical_limit(int(last.get("requests") or 0), seconds, repeats)}


def loopback_round_trip(count: int = ROUND_TRIPS) -> float:
    """Median seconds of one GET /fapi/v1/ping on one keep-alive httpx connection (the suite's client) to a mock
    process: what a request costs when nothing but the wire and the two ends is measured."""
    with mock_process() as url, httpx.Client(base_url=url, timeout=10.0) as client:
        control(url, "limits", {"weight_per_minute": 10**9})
        for _ in range(20):  # warm-up: the first requests pay for imports and connection set-up
            client.get("/fapi/v1/ping")
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            client.get("/fapi/v1/ping")
            samples.append(time.perf_counter() - start)
    return statistics.median(samples) if samples else float("nan")  # not rounded: a round trip is ~0.5 ms


def bare_pytest_startup(repeats: int) -> float:
    """Median wall time of pytest (with every installed plugin loaded) running one empty test."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "test_nothing.py").write_text(EMPTY_TEST, encoding="utf-8")
        runs = [timed([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", tmp, tmp])
                for _ in range(max(1, repeats))]
    return median([r.seconds for r in runs])


def physical_limit(requests: int, seconds: float, repeats: int) -> dict[str, Any]:
    """The floor of a full run: its requests one after another at the loopback round trip, plus pytest's start-up;
    the full run as a ratio to it (1.0 = nothing but requests and start-up)."""
    rtt, startup = loopback_round_trip(), bare_pytest_startup(repeats)
    limit = requests * rtt + startup
    return {"requests": requests, "round_trip_ms": round(rtt * 1000, 3), "startup_seconds": startup,
            "seconds": round(limit, 3), "ratio": round(seconds / limit, 2) if limit else None}


def _governor(reports: Path) -> dict[str, Any] | None:
    try:
        return json.loads((reports / "safety.json").read_text()).get("governor")
    except (OSError, ValueError):
        return None


class _PeakWatcher(threading.Thread):
    """Polls the mock's own used-weight figure: an account of the run's weight that the governor did not write."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.peak, self.done = url, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(POLL_SECONDS):
            try:
                self.peak = max(self.peak, int(control(self.url, "state")["used_weight_1m"]))
            except OSError:
                continue


def testnet_profile(repeats: int) -> dict[str, Any]:
    """Requests, total weight and peak weight per minute of the testnet profile against a mock (documented limits)."""
    samples = []
    with tempfile.TemporaryDirectory() as tmp, mock_process() as url:
        for _ in range(repeats):
            control(url, "reset", post=True)
            watcher = _PeakWatcher(url)
            watcher.start()
            run = timed(_pytest(f"--conformance-target={url}", "--conformance-profile=testnet", reports=Path(tmp)))
            time.sleep(POLL_SECONDS)
            watcher.done.set()
            watcher.join()
            gov = _governor(Path(tmp)) or {}
            server_requests = int(control(url, "state")["requests"])
            samples.append((run, gov, watcher.peak, server_requests))
    run, gov, _, server_requests = samples[-1]
    peak_local = median([float(g.get("peak_weight_1m", 0)) for _, g, _, _ in samples])
    peak_server = median([float(p) for _, _, p, _ in samples])
    peak_either = max(peak_local, peak_server)
    return {"seconds": median([s[0].seconds for s in samples]), "exit_codes": [s[0].returncode for s in samples],
            "last_line": run.tail, "failures": failed_lines(s[0] for s in samples),
            "requests": gov.get("requests"), "requests_seen_by_mock": server_requests,
            "total_weight": gov.get("total_weight"), "peak_weight_1m_governor": peak_local,
            "peak_weight_1m_mock": peak_server, "documented_limit_1m": DOCUMENTED_WEIGHT_PER_MINUTE,
            "peak_share": round(peak_either / DOCUMENTED_WEIGHT_PER_MINUTE, 3),
            "http_429": sum(int(g.get("http_429", 0)) for _, g, _, _ in samples),
            "http_418": sum(int(g.get("http_418", 0)) for _, g, _, _ in samples), "goal_share": 0.5}


def _verdicts(reports: Path) -> dict[str, str]:
    try:
        return {r["id"]: r["verdict"] for r in json.loads((reports / "rules.json").read_text())["rules"]}
    except (OSError, ValueError, KeyError):
        return {}


def parallel(repeats: int, workers: int = 4) -> dict[str, Any]:
    """The full run serial and with `-n workers` (pytest-xdist), interleaved in one bench run, side by side: wall
    times, the ratio, whether every rule got the same verdict, and the shared budget's figures."""
    serial, spread, same, stats = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp) / "serial", Path(tmp) / "parallel"
        for _ in range(repeats):
            serial.append(timed(_pytest(reports=one)))
            spread.append(timed(_pytest("-n", str(workers), reports=many)))
            same.append(bool(_verdicts(one)) and _verdicts(one) == _verdicts(many))
            stats.append(_governor(many) or {})
    one_s, many_s = median([r.seconds for r in serial]), median([r.seconds for r in spread])
    last = stats[-1]
    return {"workers": workers, "serial_seconds": one_s, "parallel_seconds": many_s,
            "ratio": round(many_s / one_s, 2) if one_s else None, "same_verdicts": all(same),
            "serial_runs": [round(r.seconds, 3) for r in serial],
            "parallel_runs": [round(r.seconds, 3) for r in spread],
            "exit_codes": [r.returncode for r in serial + spread], "failures": failed_lines(serial + spread),
            "requests": last.get("requests"), "peak_weight_1m": last.get("peak_weight_1m"),
            "weight_budget_1m": last.get("weight_budget_1m"), "http_429": last.get("http_429")}
