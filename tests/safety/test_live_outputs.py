"""Against the real mock: no secret in any output, trading refused on a host not known to be a mock or testnet,
and a target that cannot be used is one clear 'target unavailable' line with exit status 75."""

from __future__ import annotations

import json
import re
import secrets
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.mock import scaled_limits

from .live import Proxy, control, mock_server, require_suite, run

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.slow
def test_no_secret_appears_in_any_output(tmp_path: Path) -> None:
    key, secret = f"SAFETYKEY{secrets.token_hex(12)}", f"SAFETYSECRET{secrets.token_hex(16)}"
    # The mock's limits raised tenfold and the budget with them (as the bundled mock runs): at the documented limits
    # ~100 s of the run were the governor pacing, which says nothing about where secrets go. Two generated cases per
    # operation, phase and mode: every output writer still sees signed requests of every operation, failures too.
    with mock_server(api_key=key, api_secret=secret, limits=scaled_limits(10)) as mock:
        proxy = Proxy(mock.url, transparent=True)  # records the signatures actually sent
        result = run(["conformance", f"--conformance-target={proxy.url}", f"--conformance-reports={tmp_path}",
                      "--conformance-budget=5", "--conformance-examples=2",
                      f"--alluredir={tmp_path / 'allure'}", f"--junitxml={tmp_path / 'junit.xml'}", "-rA",
                      "--log-level=DEBUG"], env={"ZTDX_API_KEY": key, "ZTDX_API_SECRET": secret}, timeout=1500)
        proxy.close()
    sent = proxy.signatures()
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr
    assert len(sent) > 10 and (tmp_path / "allure").is_dir() and (tmp_path / "junit.xml").is_file()
    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    outputs |= {str(p): p.read_text("utf-8", "replace") for p in _files(tmp_path)}
    leaks = [(name, what) for name, text in outputs.items()
             for what in (key, secret, *sent) if what in text]
    assert leaks == []
    stray_hex = {m for text in outputs.values() for m in HEX64.findall(text)} & sent
    assert stray_hex == set()


@pytest.mark.slow
def test_an_unknown_host_runs_read_only_checks_but_refuses_trading(tmp_path: Path) -> None:
    with mock_server() as mock:
        proxy = Proxy(mock.url)  # answers fapi, but not /__mock__/health: not known to be a mock
        # Two generated cases per item: what is sent to an unknown host does not depend on how many are generated.
        result = run(["conformance", f"--conformance-target={proxy.url}", f"--conformance-reports={tmp_path}",
                      "--conformance-examples=2", "-rs"], timeout=1500)
        proxy.close()
        state = control(mock.url, "state")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr  # the proxy is faithful: the mock conforms
    assert "trading tests refused" in result.stdout
    assert "capability missing: trading" in result.stdout and " passed" in result.stdout.splitlines()[-1]
    assert not [s for s in proxy.seen if s.method in ("POST", "PUT", "DELETE") and "order" in s.path.lower()]
    assert state["orders_created"] == 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("fapi-conformance:")]
    assert len(lines) == 1, result.stdout[-2000:] + result.stderr
    assert "Traceback" not in result.stdout + result.stderr and " failed" not in result.stdout
    return lines[0]


def test_an_unreachable_target_is_one_line_and_exit_75(tmp_path: Path) -> None:
    require_suite()
    result = run(["conformance", f"--conformance-target=http://127.0.0.1:{_closed_port()}",
                  f"--conformance-reports={tmp_path}"], timeout=120)
    assert result.returncode == 75
    assert "target unavailable" in _one_line(result) and "unreachable" in _one_line(result)


def test_a_tls_failure_is_one_line_and_exit_75(tmp_path: Path) -> None:
    with mock_server() as mock:  # plain HTTP spoken to with https: the handshake fails
        result = run(["conformance", f"--conformance-target={mock.url.replace('http://', 'https://')}",
                      f"--conformance-reports={tmp_path}"], timeout=120)
    assert result.returncode == 75 and "target unavailable" in _one_line(result)


def test_rejected_credentials_are_one_line_naming_the_variables(tmp_path: Path) -> None:
    wrong = {"ZTDX_API_KEY": "not-the-mock-key-123456", "ZTDX_API_SECRET": "not-the-mock-secret-123456"}
    with mock_server() as mock:
        result = run(["conformance", f"--conformance-target={mock.url}", f"--conformance-reports={tmp_path}"],
                     env=wrong, timeout=120)
    line = _one_line(result)
    assert result.returncode == 75 and "ZTDX_API_KEY" in line and "ZTDX_API_SECRET" in line
    assert wrong["ZTDX_API_KEY"] not in result.stdout + result.stderr


CTRL_C_AMONG_THE_WRITERS = '''
import os, signal

def pytest_sessionfinish(session):  # a plain sessionfinish hook: among the writers (JUnit, rules.json, Allure, HAR)
    os.kill(os.getpid(), signal.SIGINT)
'''


def test_ctrl_c_while_the_outputs_are_written_completes_them_first(tmp_path: Path) -> None:
    (tmp_path / "ctrl_c_plugin.py").write_text(CTRL_C_AMONG_THE_WRITERS, encoding="utf-8")
    result = run(["conformance/test_general.py", "-k", "time", "-p", "ctrl_c_plugin",
                  f"--conformance-reports={tmp_path / 'r'}", f"--alluredir={tmp_path / 'allure'}",
                  f"--junitxml={tmp_path / 'junit.xml'}"], env={"PYTHONPATH": str(tmp_path)}, timeout=300)
    assert "Traceback" not in result.stdout + result.stderr and "KeyboardInterrupt" not in result.stdout
    assert "Ctrl-C came while the run wrote its outputs; they were completed first" in result.stderr
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]  # the tests were over: their verdict
    rules = json.loads((tmp_path / "r" / "rules.json").read_text(encoding="utf-8"))
    assert rules["rules"] and list(ET.parse(tmp_path / "junit.xml").getroot().iter("testcase"))
    har = json.loads((tmp_path / "r" / "exchanges.har").read_text(encoding="utf-8"))
    assert har["log"]["entries"] and any((tmp_path / "allure").glob("*-result.json"))
