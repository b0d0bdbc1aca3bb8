"""The pieces behind the bad-input matrix: the repository's own inputs pass their schemas, keys never travel in
clear or to another host, the mock CLI behaves like a server, and a set-up session starts without the network."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from conformance import FIXTURES
from conformance.data import catalogue, contract, deviations, inputs
from conformance.data.exceptions import ConfigError
from conformance.harness.client import Client
from conformance.harness.targets import SIGNED, Credentials, Target
from conformance.plugins import options

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP_PYTHON = ROOT / ".nox" / "_bootstrap" / "bin" / "python"
WAIT = 30.0  # upper bound for a process to come up or go away (never a measured time)


def test_the_repository_inputs_pass_their_schemas() -> None:
    assert inputs.check_cases() >= 30
    assert len(catalogue.load()) >= 70 and len(contract.load().operations) >= 30
    for path in sorted((FIXTURES / "deviations").glob("*.yaml")):
        deviations.load(path, catalogue.default(), required=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://[::1]:1", "http://localhost:1", "https://x.example"])
def test_keys_may_go_to_loopback_or_over_https(url: str) -> None:
    options.refuse_keys_in_clear(url, True, allowed=False)


@pytest.mark.parametrize("url", ["http://192.0.2.1:8765", "http://api.example.com", "http://10.0.0.1"])
def test_keys_are_refused_over_plain_http_to_another_host(url: str) -> None:
    with pytest.raises(ConfigError, match="--conformance-allow-insecure-http"):
        options.refuse_keys_in_clear(url, True, allowed=False)
    options.refuse_keys_in_clear(url, True, allowed=True)  # the flag lifts it
    options.refuse_keys_in_clear(url, False, allowed=False)  # no keys, nothing to leak


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with `self.server.answer` (status, Location) and keeps the request headers."""

    def do_GET(self) -> None:
        self.server.seen.append(dict(self.headers))  # type: ignore[attr-defined]
        status, location = self.server.answer  # type: ignore[attr-defined]
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def _server(answer: tuple[int, str]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen, server.answer = [], answer  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_api_key_header_never_follows_a_redirect_to_another_host() -> None:
    other = _server((200, ""))
    first = _server((307, f"http://127.0.0.1:{other.server_address[1]}/fapi/v1/positionSide/dual"))  # another origin
    target = Target("unit", f"http://127.0.0.1:{first.server_address[1]}", "unknown", frozenset({SIGNED}),
                    Credentials("redirect-key-0123456789", "redirect-secret-0123456789"))
    client = Client(target)
    try:
        exchange = client.call("GET", "/fapi/v1/positionSide/dual", allow_faults=True)
    finally:
        client.close()
        first.shutdown()
        other.shutdown()
    assert exchange.response.status == 307  # reported as the answer it is, not followed
    assert [h.get("X-MBX-APIKEY") for h in first.seen] == ["redirect-key-0123456789"]
    assert other.seen == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/fapi/v1/ping", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_the_mock_prints_one_line_when_it_listens_and_refuses_a_bad_number_in_one_line() -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "conformance.mock", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.strip() == f"listening on http://127.0.0.1:{port} — Ctrl-C to stop"
        assert _answers(port)  # the line comes once the socket accepts connections
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)
    bad = subprocess.run([sys.executable, "-m", "conformance.mock", "--latency-ms", "-5"], cwd=ROOT,
                         capture_output=True, text=True, timeout=WAIT)
    assert bad.returncode == 2 and "--latency-ms" in bad.stderr and ">= 0" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_the_mock_stops_when_its_parent_is_killed() -> None:
    port = _free_port()
    launcher = ("import subprocess, sys; subprocess.Popen([sys.executable, '-m', 'conformance.mock', '--port', "
                f"'{port}', '--exit-with-parent']).wait()")
    parent = subprocess.Popen([sys.executable, "-c", launcher], cwd=ROOT)
    try:
        _until(lambda: _answers(port), "the mock did not start")
        parent.kill()  # SIGKILL: the parent cannot pass anything on; the mock must notice by itself
        parent.wait(timeout=WAIT)
        _until(lambda: not _answers(port), "the mock kept serving after its parent died")
    finally:
        parent.kill()


@pytest.fixture
def nox_python() -> Iterator[str]:
    if not BOOTSTRAP_PYTHON.exists():
        pytest.skip(f"no nox bootstrap at {BOOTSTRAP_PYTHON} (made by the first `python3 noxfile.py`)")
    yield str(BOOTSTRAP_PYTHON)


@pytest.mark.xdist_group("nox-envdir")  # this clone's .nox folder, one worker at a time
def test_sigterm_to_the_nox_mock_session_stops_the_mock(nox_python: str) -> None:
    port = _free_port()
    nox = subprocess.Popen([nox_python, str(ROOT / "noxfile.py"), "-s", "mock", "--", "--port", str(port)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _until(lambda: _answers(port), "the mock session did not start")
        nox.send_signal(signal.SIGTERM)
        nox.wait(timeout=WAIT)
        _until(lambda: not _answers(port), "the mock kept serving after SIGTERM to nox")
    finally:
        nox.kill()


def _offline_works() -> bool:
    unshare = shutil.which("unshare")
    return bool(unshare) and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0


@pytest.mark.xdist_group("nox-envdir")  # this clone's .nox folder, one worker at a time
def test_a_set_up_session_runs_without_the_network(nox_python: str, tmp_path: Path) -> None:
    """In a network namespace with only loopback, the conformance session reuses its venv and runs."""
    if not _offline_works():
        pytest.skip("unshare -rn is not available here: the offline run cannot be shown on this machine")
    if not (ROOT / ".nox" / "conformance" / ".fapi-conformance-installed").exists():
        pytest.skip("the conformance session was never set up in this clone (python3 noxfile.py)")
    reports = tmp_path / "reports"
    script = (f"ip link set lo up && exec {nox_python} {ROOT / 'noxfile.py'} -s conformance -- "
              f"--conformance-reports={reports} --alluredir={tmp_path / 'allure'} --junitxml={tmp_path / 'j.xml'} "
              "-k test_operation_answers_in_json")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDX_", "FAPI_"))}
    done = subprocess.run(["unshare", "-rn", "sh", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "pip install" not in done.stdout, "the session installed again although pyproject.toml did not change"
    verdicts = {r["verdict"] for r in json.loads((reports / "rules.json").read_text(encoding="utf-8"))["rules"]}
    assert "passed" in verdicts
