"""The CI workflows and .ci/run: schema-valid, and doing what the README promises (offline checks only)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CI, NIGHTLY = WORKFLOWS / "ci.yml", WORKFLOWS / "nightly.yml"


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    return workflow.get("on") or workflow.get(True) or {}  # YAML 1.1 reads a bare `on` key as True


def _runs(workflow: dict[Any, Any]) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def _uses(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- two-commands -->\s*```(?:sh|bash)?\n(.*?)```", text, re.S)
    assert block, "README.md has no block marked <!-- two-commands -->"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("path", [CI, NIGHTLY], ids=lambda p: p.name)
def test_workflow_validates_against_the_github_workflow_schema(path: Path) -> None:
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is in the dev extra")
    # The vendored schema ships inside check-jsonschema: no download, so this runs offline.
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                             str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is in the dev extra")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-onn: ubuntu-latest\n    steps: 3\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                             str(broken)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0


def test_pull_requests_run_lint_selftest_and_the_suite_against_the_mock_with_a_report_artifact() -> None:
    ci = _load(CI)
    assert "pull_request" in _triggers(ci)
    runs = _runs(ci)
    assert "python3 noxfile.py -s lint" in runs
    assert "bash .ci/run" in runs
    assert "python3 noxfile.py" in runs  # the README's first command: conformance against the mock, then report
    uploads = [s for s in _uses(ci) if s["uses"].startswith("actions/upload-artifact@")]
    assert any("reports/allure-report" in s["with"]["path"] for s in uploads)
    assert not any("testnet" in run or "ZTDX_API" in run for run in runs), "PR CI must never reach the testnet"
    assert "secrets." not in CI.read_text(encoding="utf-8")


def test_nightly_runs_the_testnet_with_secrets_keeps_history_and_uploads_report_and_rules() -> None:
    nightly = _load(NIGHTLY)
    assert "schedule" in _triggers(nightly)
    job = nightly["jobs"]["conformance"]
    # The keys reach the testnet's matrix entry only: another target must never see them.
    for name in ("ZTDX_API_KEY", "ZTDX_API_SECRET"):
        assert job["env"][name] == f"${{{{ matrix.target.kind == 'testnet' && secrets.{name} || '' }}}}"
    assert "python3 noxfile.py -s testnet" in "\n".join(_runs(nightly))
    uses = _uses(nightly)
    caches = [s for s in uses if s["uses"].startswith("actions/cache/")]
    assert {s["uses"].split("@")[0] for s in caches} == {"actions/cache/restore", "actions/cache/save"}
    assert all(s["with"]["path"] == "reports/history" for s in caches)
    uploads = {s["with"]["name"]: s["with"]["path"] for s in uses if s["uses"].startswith("actions/upload-artifact@")}
    assert "reports/rules.json" in uploads["nightly-${{ matrix.target.name }}"]
    assert "reports/allure-results" in uploads["nightly-${{ matrix.target.name }}"]
    assert "reports/allure-report" in uploads["conformance-report-nightly"]
    assert "reports/targets" in uploads["conformance-report-nightly"]  # every target's rules.json side by side


def test_nightly_runs_every_listed_target_as_a_matrix_and_merges_them_into_one_report() -> None:
    nightly = _load(NIGHTLY)
    dispatch = _triggers(nightly)["workflow_dispatch"]
    assert dispatch["inputs"]["targets"]["type"] == "string"
    jobs = nightly["jobs"]
    listing = next(s for s in jobs["targets"]["steps"] if s.get("id") == "list")
    assert listing["run"].startswith("python3 -m conformance.tools.matrix targets .github/nightly-targets.txt")
    assert listing["env"]["EXTRA_TARGETS"] == "${{ inputs.targets }}"  # into the shell through env, never inline
    assert jobs["targets"]["outputs"]["matrix"] == "${{ steps.list.outputs.matrix }}"
    run = jobs["conformance"]
    assert run["needs"] == "targets" and run["strategy"]["fail-fast"] is False
    assert run["strategy"]["matrix"]["target"] == "${{ fromJSON(needs.targets.outputs.matrix) }}"
    assert "${{" not in "".join(s.get("run", "") for s in run["steps"]), "matrix values reach the shell via env only"
    report = jobs["report"]
    assert report["needs"] == "conformance" and report["if"] == "always()"
    runs = [s["run"] for s in report["steps"] if "run" in s]
    assert runs == ["python3 -m conformance.tools.matrix merge artifacts reports", "python3 noxfile.py -s report"]
    download = next(s for s in report["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"] == {"pattern": "nightly-*", "path": "artifacts"}
    from conformance.tools import matrix

    matrix.targets((ROOT / ".github" / "nightly-targets.txt").read_text(encoding="utf-8"))  # the file parses
    # The job must fail on a MUST failure: no step may swallow the nox exit status.
    assert not any(s.get("continue-on-error") for j in nightly["jobs"].values() for s in j["steps"])


def test_ci_script_runs_exactly_the_readme_test_command() -> None:
    first, second = _readme_commands()
    assert (first, second) == ("python3 noxfile.py", "python3 noxfile.py -s selftest")
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.split("||")[0].strip() for line in script.splitlines() if "noxfile.py" in line
                and not line.lstrip().startswith("#")]
    assert commands == [second]


def _ci_summary(tmp_path: Path, junit: str | None, status: int) -> subprocess.CompletedProcess[str]:
    """Run .ci/run with a fake python3 that stands in for nox and leaves the given JUnit file."""
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    (repo / "reports").mkdir()
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    junit_line = f"cat > reports/selftest-junit.xml <<'X'\n{junit}\nX\n" if junit is not None else ""
    (fake_bin / "python3").write_text(
        f'#!/bin/sh\nif [ "$1" = noxfile.py ]; then\n{junit_line}exit {status}\nfi\nexec {sys.executable} "$@"\n',
        encoding="utf-8")
    (fake_bin / "python3").chmod(0o755)
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin"}
    return subprocess.run(["bash", str(repo / ".ci" / "run")], capture_output=True, text=True, env=env, timeout=60)


def test_ci_script_ends_with_a_plain_summary_line(tmp_path: Path) -> None:
    junit = '<testsuites><testsuite tests="5" failures="1" errors="1" skipped="1"/></testsuites>'
    result = _ci_summary(tmp_path, junit, status=1)
    assert result.stdout.strip().splitlines()[-1] == "2 passed, 2 failed, 1 skipped"
    assert result.returncode != 0
    ok = _ci_summary(tmp_path / "ok", '<testsuites><testsuite tests="3" failures="0" errors="0" skipped="0"/>'
                     "</testsuites>", status=0)
    assert ok.stdout.strip().splitlines()[-1] == "3 passed, 0 failed, 0 skipped"
    assert ok.returncode == 0


@pytest.mark.parametrize(("junit", "status"), [
    ('<testsuites><testsuite tests="0" failures="0" errors="0" skipped="0"/></testsuites>', 0),
    ('<testsuites><testsuite tests="0" failures="0" errors="0" skipped="0"/></testsuites>', 5),
    (None, 0),
], ids=["no-test-collected", "pytest-exit-5", "no-junit-file"])
def test_ci_script_fails_when_no_test_ran(tmp_path: Path, junit: str | None, status: int) -> None:
    result = _ci_summary(tmp_path, junit, status)
    assert result.returncode != 0
    assert re.fullmatch(r"\d+ passed, \d+ failed(, \d+ skipped)?", result.stdout.strip().splitlines()[-1])
