"""Against the real mock: no duplicate order after an unknown-status 503, and zero open orders after a run
interrupted with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from conformance.data import contract
from conformance.data.exceptions import TargetUnavailable
from conformance.harness import targets
from conformance.harness.client import Client
from conformance.harness.orders import OrderFactory

from .live import ROOT, control, mock_server, scenario, suite_command


@pytest.mark.parametrize("executed", [True, False], ids=["executed", "not-executed"])
def test_no_duplicate_order_after_an_unknown_status_503(executed: bool) -> None:
    with mock_server() as mock:
        client = Client(targets.resolve(mock.url), contract=contract.default())
        factory = OrderFactory(client)
        params = factory.resting_limit("BTCUSDT")
        control(mock.url, "faults", {"kind": "unknown-status", "method": "POST", "path": "/fapi/v1/order",
                                     "count": 1, "executed": executed})
        with pytest.raises(TargetUnavailable, match="outcome unknown") as info:
            client.call("POST", "/fapi/v1/order", params)
        state = control(mock.url, "state")
        factory.remember(params)
        factory.cancel_all()
        client.close()
    mine = [o for o in state["orders"] if o["clientOrderId"] == params["newClientOrderId"]]
    assert len(mine) == (1 if executed else 0) and state["orders_created"] == len(mine)
    finding = client.unknown_outcomes[-1]
    assert finding.found is executed and "not resubmitted" in info.value.reason
    assert [r.outcome.startswith("reconciled") for r in client.retries] == [True]


def _position(client: Client, symbol: str) -> Decimal:
    rows = client.call("GET", "/fapi/v1/positionRisk", {"symbol": symbol}).response.json()
    return sum((Decimal(r["positionAmt"]) for r in rows), Decimal(0))


def test_an_interrupted_run_leaves_no_open_orders(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    with mock_server() as mock:
        command = suite_command(*scenario("scenario_interrupt.py"), f"--conformance-target={mock.url}",
                                f"--conformance-reports={tmp_path}")
        proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "SAFETY_READY": str(ready)},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        opened = control(mock.url, "state")["open_orders"]
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
        state = control(mock.url, "state")
        client = Client(targets.resolve(mock.url), contract=contract.default())
        position = _position(client, "SOLUSDT")
        client.close()
    assert ready.exists(), output[-3000:]
    assert opened == 4 and proc.returncode == 2, output[-3000:]
    assert state["open_orders"] == 0 and position == 0, output[-3000:]
    assert "open orders left: 0" in output and "positions closed: SOLUSDT SELL" in output, output[-3000:]


@pytest.mark.parametrize("executed", [True, False], ids=["executed", "not-executed"])
def test_an_unknown_outcome_is_confirmed_by_the_order_channel_first(executed: bool) -> None:
    """With the run's order-channel listener, an executed order is confirmed by its event (no orderId query); an
    order that was not executed has no event, and the orderId query still decides."""
    from conformance.harness import orderstream
    from conformance.harness.wsclient import WsBudget

    with mock_server() as mock:
        client = Client(targets.resolve(mock.url), contract=contract.default())
        stream, status = orderstream.start(client, mock.url.replace("http", "ws") + "/ws", WsBudget(2, 8, 5.0),
                                           "orders")
        assert stream is not None, status
        client.order_stream = stream
        factory = OrderFactory(client)
        params = factory.resting_limit("BTCUSDT")
        control(mock.url, "faults", {"kind": "unknown-status", "method": "POST", "path": "/fapi/v1/order",
                                     "count": 1, "executed": executed})
        sent: list[str] = []
        client.listeners.append(lambda ex: sent.append(f"{ex.request.method} {ex.request.path}"))
        with pytest.raises(TargetUnavailable, match="outcome unknown"):
            client.call("POST", "/fapi/v1/order", params)
        lookups = sent.count("GET /fapi/v1/order")
        factory.remember(params)
        factory.cancel_all()
        stream.close()
        client.close()
    finding = client.unknown_outcomes[-1]
    assert finding.found is executed, finding
    if executed:
        assert finding.attempts == 0 and "order event" in finding.detail and lookups == 0, (finding, sent)
    else:
        assert finding.attempts > 0 and lookups == finding.attempts, (finding, sent)
