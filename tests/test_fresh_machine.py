"""A new user's first hour: clone into an empty folder and run the README's two commands with nothing else."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = ("conformance", "testnet", "selftest", "clients", "report", "mock", "lint", "bench", "replay", "drift")
pytestmark = pytest.mark.slow


def _system_python() -> str:
    """The interpreter this venv was made from: a new user has a bare Python, not our session venv."""
    base = Path(sys.base_prefix) / "bin"
    for name in (f"python{sys.version_info.major}.{sys.version_info.minor}", "python3"):
        if (base / name).exists():
            return str(base / name)
    return sys.executable


def _clean_env(tmp: Path) -> dict[str, str]:
    """No venv, no nox, no credentials and no suite settings leak in from this run."""
    venv_bins = {str(Path(p) / "bin") for p in (os.environ.get("VIRTUAL_ENV"), sys.prefix) if p}
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p not in venv_bins]
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "ZTDX_API_KEY", "ZTDX_API_SECRET", "PYTEST_ADDOPTS")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("NOX_", "FAPI_"))}
    path.insert(0, str(Path(_system_python()).parent))
    return env | {"PATH": os.pathsep.join(path), "HOME": env.get("HOME", str(tmp))}


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    (cwd.parent / f"{'_'.join(a.strip('-') for a in args[2:4]) or 'suite'}.log").write_text(
        result.stdout + result.stderr, encoding="utf-8")
    return result


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr)[-4000:]


def _clone(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=300)
    return clone


def test_fresh_clone_runs_the_suite_and_builds_the_report(tmp_path: Path) -> None:
    clone = _clone(tmp_path)
    env, python = _clean_env(tmp_path), _system_python()

    first = _run([python, "noxfile.py"], clone, env, timeout=2400)
    assert first.returncode == 0, _tail(first)
    rules = json.loads((clone / "reports" / "rules.json").read_text(encoding="utf-8"))
    assert rules["rules"] and rules["target"]["name"] == "mock"
    single = clone / "reports" / "allure-report" / "awesome-single-file" / "index.html"
    assert single.stat().st_size > 100_000
    assert (clone / "reports" / "allure-report" / "awesome" / "index.html").exists()
    assert (clone / "reports" / "history" / "history.jsonl").exists()
    assert json.loads((clone / "reports" / "exchanges.har").read_text(encoding="utf-8"))["log"]["entries"]

    listing = _run([python, "noxfile.py", "-l"], clone, env, timeout=300)
    for name in SESSIONS:
        assert f"* {name} -> " in listing.stdout or f"- {name} -> " in listing.stdout, listing.stdout

    refused = _run([python, "noxfile.py", "-s", "testnet"], clone, env, timeout=300)
    assert refused.returncode != 0
    assert "testnet refused: set ZTDX_API_KEY and ZTDX_API_SECRET" in refused.stdout + refused.stderr


def test_fresh_clone_runs_the_selftests(tmp_path: Path) -> None:
    """The second README command in a clone of its own, from nothing (not after the first command), so that under
    xdist the two fresh clones run side by side.

    What only a fresh clone can show is that the command sets everything up itself (nox, the session venv with the
    dev extras, Allure from npm, Chromium) and that every self-test module is collected there; the tests themselves
    run in the outer self-test run of the same commit, on the same pinned dependencies. So the clone collects them
    all and runs the ones that need what only the command installs: the report's (Allure 3 and Chromium), with the
    import layers and the spec as a smoke. Running all of them again (as before 2026-12-02) cost CI ~4 minutes for
    no new evidence."""
    clone = _clone(tmp_path)
    env, python = _clean_env(tmp_path), _system_python()
    chosen = "test_report or test_import_graph or test_spec"
    second = _run([python, "noxfile.py", "-s", "selftest", "--", "-m", "not slow", "-k", chosen], clone, env,
                  timeout=3600)
    assert second.returncode == 0, _tail(second)
    junit = clone / "reports" / "selftest-junit.xml"
    cases = [c for c in _testcases(junit) if not c["skipped"]]
    assert cases and all(c["passed"] for c in cases), cases
    assert {c["module"] for c in cases} >= {"tests.test_report", "tests.test_import_graph", "tests.test_spec"}
    collected = _collected(clone, env)
    assert {Path(p).name for p in collected} >= {p.name for p in (ROOT / "tests").rglob("test_*.py")
                                                  if "clients" not in p.parts}, collected


def _testcases(junit: Path) -> list[dict[str, object]]:
    import xml.etree.ElementTree as ET

    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        out.append({"module": case.get("classname", ""), "name": case.get("name"),
                    "skipped": "skipped" in kinds, "passed": not kinds & {"failure", "error"}})
    return out


def _collected(clone: Path, env: dict[str, str]) -> set[str]:
    """The self-test files the clone's selftest venv collects (the outer run's tests, in the fresh venv)."""
    python = clone / ".nox" / "selftest" / "bin" / "python"
    listing = _run([str(python), "-m", "pytest", "tests", "--ignore=tests/clients", "--collect-only", "-q",
                    "-p", "no:cacheprovider"], clone, env, timeout=600)
    assert listing.returncode == 0, _tail(listing)
    return {line.split("::")[0] for line in listing.stdout.splitlines() if "::" in line}
