"""Allure 3 quality gate with known issues, the resolution rules, and the nightly's job summary."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from conformance.data.deviations import Deviation
from conformance.plugins.allure3 import BASELINE_MARK, resolution_rules
from conformance.tools import summary

ROOT = Path(__file__).resolve().parents[1]


def _allure_cli() -> tuple[str, Path]:
    cli = Path(os.environ.get("FAPI_ALLURE_CLI", ROOT / "node_modules" / "allure" / "cli.js"))
    node = os.environ.get("FAPI_ALLURE_NODE") or shutil.which("node")
    if not cli.exists() or not node:
        pytest.skip("the Allure 3 CLI is installed by `python3 noxfile.py -s selftest` (npm ci); run the tests there")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < 22:
        pytest.skip(f"Allure 3.18 needs Node 22+; {node} is {version} (the selftest session uses the pinned wheel's)")
    return node, cli


def _result(folder: Path, status: str, message: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ident = uuid.uuid4().hex
    result = {"uuid": ident, "historyId": ident, "testCaseId": ident, "name": f"t-{ident[:6]}", "fullName": ident,
              "status": status, "stage": "finished", "start": 1, "stop": 2, "statusDetails": {"message": message},
              "labels": [{"name": "env", "value": "mock"}]}
    (folder / f"{ident}-result.json").write_text(json.dumps(result), encoding="utf-8")


def _gate(tmp_path: Path, results: Path, rules: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    node, cli = _allure_cli()
    known = tmp_path / "resolutions.json"
    known.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    env = {**os.environ, "FAPI_ALLURE_RESOLUTIONS": str(known), "NO_COLOR": "1"}
    return subprocess.run([node, str(cli), "quality-gate", str(results), "--config", str(ROOT / "allurerc.mjs")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


class _State:
    def __init__(self) -> None:
        self.deviations = {"errors.body-shape": Deviation("errors.body-shape", "testnet says message", "https://x",
                                                          dt.date(2027, 1, 31))}


@pytest.mark.parametrize(("results", "passes"), [
    ([("passed", ""), ("failed", f"[errors.body-shape] old\n{BASELINE_MARK}")], True),
    ([("passed", ""), ("failed", "[errors.body-shape] a new one")], True),  # a listed deviation's rule
    ([("passed", ""), ("failed", "[errors.body-shape] listed as a known deviation but now passes: remove it")], False),
    ([("passed", ""), ("failed", "[auth.api-key-header] nobody knows this one")], False),
    ([], False),  # an empty run fails (minTestsCount)
])
def test_quality_gate_counts_only_failures_outside_the_known_issues(results: list[tuple[str, str]], passes: bool,
                                                                    tmp_path: Path) -> None:
    folder = tmp_path / "allure-results"
    folder.mkdir()
    for status, message in results:
        _result(folder, status, message)
    done = _gate(tmp_path, folder, resolution_rules(_State()))  # type: ignore[arg-type]
    assert (done.returncode == 0) is passes, done.stdout + done.stderr


def test_resolution_rules_match_what_the_suite_writes() -> None:
    rules = resolution_rules(_State())  # type: ignore[arg-type]
    deviation = next(r for r in rules if "errors" in r["messageRegexp"])
    assert re.search(deviation["messageRegexp"], "RuleViolation: [errors.body-shape] x\nActual: y")
    assert not re.search(deviation["messageRegexp"], "[errors.body-shape] listed as a known deviation but now passes")
    assert not re.search(deviation["messageRegexp"], "[errors.body-shapes] other")
    assert "testnet says message" in deviation["comment"] and all(r["resolution"] == "accepted" for r in rules)


RULES = {"target": {"name": "testnet", "base_url": "https://t", "status": "available"},
         "summary": {"failed": 1, "passed": 2},
         "baseline": {"file": "reports/history/rules.json", "new_failure": ["errors.body-shape"],
                      "fixed": ["auth.api-key-header"], "still_failing": [], "passing": ["general.json-responses"]},
         "rules": [{"id": "general.json-responses", "level": "MUST", "verdict": "passed", "baseline": "passing"},
                   {"id": "auth.api-key-header", "level": "MUST", "verdict": "passed", "baseline": "fixed"},
                   {"id": "errors.body-shape", "level": "MUST", "verdict": "failed", "baseline": "new failure"}]}


def test_job_summary_lists_new_and_fixed_rules_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rules.json").write_text(json.dumps(RULES), encoding="utf-8")
    (tmp_path / "drift.json").write_text(json.dumps({"unexpected": 2, "compared": 40}), encoding="utf-8")
    out = tmp_path / "summary.md"
    out.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(out))
    assert summary.main([str(tmp_path)]) == 0
    text = out.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert text.startswith("earlier step\n") and "1 new failure(s), 1 fixed" in text
    assert rows[0].startswith("| `errors.body-shape`") and "🆕 new failure" in rows[0]
    assert rows[1].startswith("| `auth.api-key-header`") and "✅ fixed" in rows[1]
    assert "2 difference(s) outside the allow-list" in text


@pytest.mark.parametrize(("status", "kept"), [("available", True), ("unavailable", False)])
def test_tonights_rules_become_the_baseline_only_when_something_was_judged(status: str, kept: bool,
                                                                          tmp_path: Path) -> None:
    (tmp_path / "rules.json").write_text(json.dumps({**RULES, "target": {"status": status}}), encoding="utf-8")
    baseline = tmp_path / "history" / "rules.json"
    summary.main([str(tmp_path), "--keep", str(baseline)])
    assert baseline.exists() is kept
