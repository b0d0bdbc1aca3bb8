"""Against the real mock: the governor's budget holds without a 429, a throttling target is backed off from
without ever earning a 418, and the nightly testnet profile (with testnet-like latency) stays inside its budget."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.data import contract
from conformance.harness import targets
from conformance.harness.client import Client
from conformance.harness.governor import Governor

from .live import control, mock_server, run, scenario


def _client(url: str, governor: Governor) -> Client:
    target = targets.resolve(url)
    return Client(target, contract=contract.default(), governor=governor)


def test_a_budget_limited_run_paces_instead_of_reaching_429() -> None:
    with mock_server() as mock:
        control(mock.url, "limits", {"weight_per_minute": 20, "window_seconds": 2})
        gov = Governor(share=0.5, weight_limit=20, window=2.0)  # 10 per 2 s: the same proportions, faster
        client = _client(mock.url, gov)
        start = time.monotonic()
        statuses = [client.call("GET", "/fapi/v1/time").response.status for _ in range(25)]
        client.close()
    assert statuses == [200] * 25
    assert gov.throttled == 0 and gov.peak_weight <= gov.weight_budget == 10
    assert time.monotonic() - start >= 3.5 and gov.waits >= 2  # it paced: 25 units at 10 per 2 s


def test_weight_spent_by_others_on_the_same_ip_is_counted() -> None:
    with mock_server() as mock:
        # a 5 s window: on a loaded machine the other process's 12 requests must still be in it when ours start
        control(mock.url, "limits", {"weight_per_minute": 20, "window_seconds": 5})
        for _ in range(12):  # another process on this IP, invisible to the governor except through the header
            httpx.get(f"{mock.url}/fapi/v1/time")
        gov = Governor(share=1.0, weight_limit=20, window=5.0)
        client = _client(mock.url, gov)
        statuses = [client.call("GET", "/fapi/v1/time").response.status for _ in range(15)]
        client.close()
    assert statuses == [200] * 15 and gov.throttled == 0
    assert gov.reconciled >= 1 and gov.peak_server_weight >= 12


def test_a_throttling_target_is_backed_off_from_without_a_418(tmp_path: Path) -> None:
    with mock_server() as mock:
        control(mock.url, "limits", {"weight_per_minute": 40, "ban_seconds": 300})
        result = run([*scenario("scenario_traffic.py"), f"--conformance-target={mock.url}",
                      f"--conformance-reports={tmp_path}", f"--junitxml={tmp_path / 'junit.xml'}"], timeout=300)
        state = control(mock.url, "state")
    safety = json.loads((tmp_path / "safety.json").read_text())
    assert result.returncode == 75, result.stdout[-3000:] + result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("fapi-conformance:")]
    assert len(lines) == 1 and "target unavailable: rate-limited" in lines[0]
    assert safety["governor"]["http_429"] >= 1 and safety["governor"]["http_418"] == 0
    assert state["banned_until_ms"] is None  # nothing was sent during the cool-down
    assert "failed" not in result.stdout.splitlines()[-1] and "skipped" in result.stdout.splitlines()[-1]


def _testnet_profile_holds_the_budget(tmp_path: Path, *extra: str, latency_ms: int = 150) -> dict[str, Any]:
    with mock_server() as mock:
        if latency_ms:
            control(mock.url, "latency", {"ms": latency_ms, "jitter_ms": 50})
        result = run(["conformance", f"--conformance-target={mock.url}", "--conformance-profile=testnet",
                      f"--conformance-reports={tmp_path}", "-q", *extra], timeout=1500)
        state = control(mock.url, "state")
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr  # completed, target available
    gov = json.loads((tmp_path / "safety.json").read_text())["governor"]
    assert gov["http_429"] == 0 and gov["http_418"] == 0 and gov["requests"] > 0
    assert gov["peak_weight_1m"] <= 1200 and gov["peak_server_weight_1m"] <= 1200
    assert state["used_weight_1m"] <= 1200 and state["banned_until_ms"] is None
    # Every unit of weight the target counted was paid from the run's budget first (the WebSocket-API calls once
    # went round it: the mock counted 11 more than the governor allowed in a minute).
    assert state["weight_charged"] <= gov["total_weight"], (state["weight_charged"], gov["total_weight"])
    assert "rate-limited" not in result.stdout
    return gov


@pytest.mark.slow
def test_the_testnet_profile_at_full_speed_is_paced_inside_its_budget_without_429(tmp_path: Path) -> None:
    """One process with nothing slowing it down: the budget binds (the run waits for it) and still holds. With the
    testnet's ~150 ms a request this serial run took ~190 s of CI and stayed far below the budget (weight ~700 a
    minute of 1200): it proved less about the budget than this one; the latency is kept in the -n 4 run below."""
    gov = _testnet_profile_holds_the_budget(tmp_path, latency_ms=0)
    assert gov["paced_waits"] > 0 and gov["peak_weight_1m"] >= 0.9 * 1200, gov  # the budget bound


@pytest.mark.slow
def test_the_testnet_profile_on_four_workers_shares_one_budget_without_429(tmp_path: Path) -> None:
    """`-n 4` (issue 15 item 4): four workers, one ledger, still at most the testnet profile's 50 % share (1200 of the
    testnet's 2400 a minute) and no 429. (A `-n 2` twin of this test proved a subset of it: two workers paying from
    the same ledger; it cost CI ~160 s of one worker, mostly paced waits, and was dropped on 2026-12-03.)"""
    gov = _testnet_profile_holds_the_budget(tmp_path, "-n", "4")
    assert gov["weight_budget_1m"] == 1200 and gov["share"] == 0.5
    by_worker = json.loads((tmp_path / "safety.json").read_text())["governor_by_worker"]
    assert sorted(by_worker) == ["gw0", "gw1", "gw2", "gw3"]  # four workers paid from it
    assert all(w["requests"] > 0 and w["peak_weight_1m"] <= 1200 for w in by_worker.values()), by_worker
