"""The bad-input matrix: each wrong option, input file or set-up, through `pytest conformance` and through the nox
session a user would run, gives its documented exit status, exactly one error line naming the option or the file
and the fix, no traceback, and no rules.json that claims a verdict.

Every case runs in a copy of the project (conformance/, fixtures/, noxfile.py, pyproject.toml), so a case may break
a fixture and nothing it writes lands in this clone's reports/. nox runs the copy's noxfile with this clone's
session venvs (`--envdir`), which already match pyproject.toml, so no case installs anything."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# One worker at a time uses this clone's .nox folder (the nox_ready fixture may install into it): see noxfile.py.
pytestmark = pytest.mark.xdist_group("nox-envdir")
BOOTSTRAP_PYTHON = ROOT / ".nox" / "_bootstrap" / "bin" / "python"
LOCATED = re.compile(r"^ERROR: \S+\.yaml:\d+:\d+: .+ — .+$")  # FILE:LINE:COL: what is wrong — what to do
CASE_TIMEOUT = 300.0  # the first nox case may have to create this clone's conformance venv


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _edit(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(copy: Path) -> None:
        path = copy / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{relative} no longer contains {old!r}: update the case"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return apply


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...] = ()
    status: int = 4
    names: tuple[str, ...] = ()  # every fragment the one error line must contain (option or file, and the fix)
    located: bool = False  # the line has the FILE:LINE:COL: form
    edit: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    session: str = "conformance"
    isolated: bool = False  # run with no network but loopback (unshare -rn): a regression could not reach the host


CASES = {
    "budget-negative": Case(("--conformance-budget=-1",), names=("--conformance-budget", "> 0")),
    "budget-not-a-number": Case(("--conformance-budget=abc",), names=("--conformance-budget", "a number")),
    "examples-zero": Case(("--conformance-examples=0",), names=("--conformance-examples", ">= 1")),
    "seed-negative": Case(("--conformance-seed=-5",), names=("--conformance-seed", ">= 0")),
    "profile-unknown": Case(("--conformance-profile=nightly",), names=("--conformance-profile", "full, testnet")),
    "target-unknown-scheme": Case(("--conformance-target=ftp://127.0.0.1",), names=("--conformance-target",)),
    "deviations-missing-file": Case(("--conformance-deviations=/nonexistent.yaml",),
                                    names=("--conformance-deviations", "no such file")),
    "reports-is-a-file": Case(("--conformance-reports=pyproject.toml",), names=("--conformance-reports", "folder")),
    "ws-url-not-websocket": Case(("--conformance-ws-url=http://127.0.0.1:1/ws",),
                                 names=("--conformance-ws-url", "ws:// or wss://")),
    "asyncapi-cadence-not-a-number": Case(names=("asyncapi.yaml", "x-cadence-tolerance"), located=True,
                                          edit=_edit("fixtures/asyncapi.yaml", "x-cadence-tolerance: 0.5",
                                                     "x-cadence-tolerance: half")),
    "spec-duplicate-operation-id": Case(names=("openapi.yaml", "duplicate operationId 'exchangeInfo'"), located=True,
                                        edit=_edit("fixtures/openapi.yaml", "operationId: depth",
                                                   "operationId: exchangeInfo")),
    "spec-unknown-top-level-key": Case(names=("openapi.yaml", "unknown key 'bogus'"), located=True,
                                       edit=_edit("fixtures/openapi.yaml", "\npaths:", "\nbogus: 1\npaths:")),
    "spec-dangling-ref": Case(names=("openapi.yaml", "NoSuchSchema", "points to nothing"), located=True,
                              edit=_edit("fixtures/openapi.yaml", "#/components/schemas/Depth'",
                                         "#/components/schemas/NoSuchSchema'")),
    "spec-schema-type-unknown": Case(names=("openapi.yaml", "'strin'"), located=True,
                                     edit=_edit("fixtures/openapi.yaml", "schema:\n        type: string",
                                                "schema:\n        type: strin")),
    "spec-yaml-syntax": Case(names=("openapi.yaml", "invalid YAML"), located=True,
                             edit=_edit("fixtures/openapi.yaml", "operationId: depth", "operationId: [depth")),
    "catalogue-yaml-syntax": Case(names=("rules.yaml", "invalid YAML"), located=True,
                                  edit=_edit("fixtures/rules.yaml", "title: Every endpoint answers in JSON",
                                             "title: [Every endpoint answers in JSON")),
    "catalogue-bad-level": Case(names=("rules.yaml", "'MAY'", "MUST, SHOULD"), located=True,
                                edit=_edit("fixtures/rules.yaml", "level: MUST", "level: MAY")),
    "catalogue-unknown-key": Case(names=("rules.yaml", "unknown key 'severity'"), located=True,
                                  edit=_edit("fixtures/rules.yaml", "    level: MUST\n",
                                             "    level: MUST\n    severity: high\n")),
    "catalogue-unknown-operation": Case(names=("rules.yaml", "'depthX'", "openapi.yaml lacks"), located=True,
                                        edit=_edit("fixtures/rules.yaml", "    operation: depth\n",
                                                   "    operation: depthX\n")),
    "case-file-not-boolean": Case(names=("api-key-header.yaml", "valid"), located=True,
                                  edit=_edit("fixtures/cases/auth/api-key-header.yaml", "valid: true", "valid: yes!")),
    "deviations-unknown-rule": Case(names=("mock.yaml", "unknown rule ID 'no.such-rule'"), located=True,
                                    edit=_edit("fixtures/deviations/mock.yaml", "deviations: []",
                                               "deviations:\n  - {rule: no.such-rule, reason: r, link: https://x, "
                                               "review: 2027-01-31}")),
    "other-target-deviations-no-such-date": Case(names=("testnet.yaml", "day is out of range"), located=True,
                                                 edit=_edit("fixtures/deviations/testnet.yaml", "deviations: []",
                                                            "deviations:\n  - {rule: errors.body-shape, reason: r, "
                                                            "link: https://x, review: 2027-02-30}")),
    "test-marks-unknown-rule": Case(names=("test_parity.py", "unknown rule ID 'general.no-such-rule'"),
                                    edit=_edit("conformance/test_parity.py", "parity.TESTNET_PARITY)",
                                               '"general.no-such-rule")')),
    "keys-in-clear-to-a-remote-host": Case(("--conformance-target=http://192.0.2.1:8765",), isolated=True,
                                           names=("in clear text", "--conformance-allow-insecure-http"),
                                           env={"ZTDX_API_KEY": "clear-key-0123456789",
                                                "ZTDX_API_SECRET": "clear-secret-0123456789"}),
    "credentials-half-set": Case(names=("ZTDX_API_SECRET",), env={"ZTDX_API_KEY": "half-set-key-0123"}),
    "testnet-without-keys": Case(session="testnet", names=("ZTDX_API_KEY", "ZTDX_API_SECRET")),
    "target-unreachable": Case(status=75, names=("target unavailable", "unreachable")),
    "nothing-selected": Case(("-k", "no_test_has_this_name"), status=5),
}


@pytest.fixture(scope="module")
def nox_ready(tmp_path_factory: pytest.TempPathFactory) -> None:
    """This clone's nox bootstrap and conformance venv exist, set up from this clone (a copy's nox must find the venv
    ready: installing from the copy would point the clone's venv at a temporary folder)."""
    if not BOOTSTRAP_PYTHON.exists():
        subprocess.run([sys.executable, str(ROOT / "noxfile.py"), "-l"], cwd=ROOT, check=True, capture_output=True,
                       timeout=CASE_TIMEOUT)
    if not (ROOT / ".nox" / "conformance" / ".fapi-conformance-installed").exists():
        reports = tmp_path_factory.mktemp("setup-reports")  # the refusal below writes there, not in reports/
        done = subprocess.run([str(BOOTSTRAP_PYTHON), str(ROOT / "noxfile.py"), "-s", "conformance", "--",
                               "--conformance-budget=-1", f"--conformance-reports={reports}"], cwd=ROOT,
                              capture_output=True, text=True, timeout=CASE_TIMEOUT, check=False)
        assert done.returncode == 4, done.stdout[-3000:] + done.stderr[-2000:]


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "clone"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("conformance", "fixtures"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    for name in ("noxfile.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, copy / name)
    return copy


def _command(runner: str, case: Case, copy: Path) -> list[str]:
    args = list(case.args)
    if case.status == 75:
        args.append(f"--conformance-target=http://127.0.0.1:{_closed_port()}")
    if runner == "pytest":
        target = ["--conformance-target=testnet"] if case.session == "testnet" else []
        return [sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider", *target, *args]
    sessions = ["-s", "testnet", "report"] if case.session == "testnet" else []  # default: conformance, report
    return [str(BOOTSTRAP_PYTHON), str(copy / "noxfile.py"), "--envdir", str(ROOT / ".nox"), *sessions,
            *(["--", *args] if args else [])]


def _environment(case: Case) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDX_", "FAPI_", "NOX_", "PYTEST_"))}
    return env | case.env


def _isolation_works() -> bool:
    return bool(shutil.which("unshare")) and subprocess.run(["unshare", "-rn", "true"], capture_output=True,
                                                            check=False).returncode == 0


def _error_lines(output: str, status: int) -> list[str]:
    """pytest's one usage-error line, the suite's one 'target unavailable' line, or the testnet session's refusal."""
    prefixes = ("fapi-conformance: ",) if status == 75 else ("ERROR: ", "nox > Session testnet aborted: ")
    return [line for line in output.splitlines() if line.startswith(prefixes)]


@pytest.mark.parametrize("runner", ["pytest", "nox"])
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_clear_line_and_the_documented_status(name: str, runner: str, tmp_path: Path,
                                                               nox_ready: None) -> None:
    case, copy = CASES[name], _copy(tmp_path)
    if case.edit is not None:
        case.edit(copy)
    command = _command(runner, case, copy)
    if case.isolated:
        if not _isolation_works():
            pytest.skip("unshare -rn is not available: this case would need a network guard")
        command = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]
    done = subprocess.run(command, cwd=copy, env=_environment(case), capture_output=True,
                          text=True, timeout=CASE_TIMEOUT, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == case.status, output[-3000:]
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    if case.status != 5:
        lines = _error_lines(output, case.status)
        assert len(lines) == 1, output[-3000:]
        assert all(fragment in lines[0] for fragment in case.names), lines[0]
        assert case.status == 75 or " — " in lines[0], f"the line does not say what to do: {lines[0]}"
        assert not case.located or LOCATED.match(lines[0]), f"not FILE:LINE:COL: {lines[0]}"
    reports = copy / "reports"
    if (reports / "rules.json").exists():
        rules = json.loads((reports / "rules.json").read_text(encoding="utf-8"))
        verdicts = {r["verdict"] for r in rules["rules"]}
        assert verdicts <= {"not-tested"}, f"rules.json claims verdicts: {verdicts}"
        safety = json.loads((reports / "safety.json").read_text(encoding="utf-8"))
        assert safety["status"] == rules["target"]["status"], "safety.json and rules.json disagree on the status"
