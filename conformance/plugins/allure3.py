"""Allure 3 inputs of a run: an `env` label on every result, and known-issue rules from the deviations file.

`env` (the target's kind: mock, testnet, url) lets one report show the CI mock run and the nightly testnet run as
environments (allurerc.mjs `environments`). The resolution rules go to `<reports>/allure-resolutions.json`, which
allurerc.mjs reads: Allure 3 counts a failure with an `accepted` resolution as known, outside the quality gate's
`maxFailures`. Allure applies resolutions to failed and broken results only; a listed deviation is already an
xfail (skipped, "known deviation"), so its rule matters when that rule's test fails outright (a stale listing
"now passes" is excluded on purpose: it must fail). Failures the baseline already had are marked in their
message by conformance.plugins.baseline and matched by one more rule here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.harness.session import RunState
from conformance.plugins.core import STATE

RESOLUTIONS = "allure-resolutions.json"
BASELINE_MARK = "[baseline: known failure]"


def resolution_rules(state: RunState) -> list[dict[str, Any]]:
    rules = [{"resolution": "accepted", "messageRegexp": re.escape(BASELINE_MARK),
              "comment": "failing in the baseline too (--conformance-baseline: last night's rules.json)"}]
    for rule_id, dev in sorted(state.deviations.items()):
        rules.append({"resolution": "accepted",
                      "messageRegexp": rf"^(?![\s\S]*now passes)[\s\S]*\[{re.escape(rule_id)}\]",
                      "comment": f"known deviation of {rule_id}: {dev.reason} ({dev.link}, review {dev.review})"})
    return rules


def edit_results(results_dir: Path, edit: Callable[[dict[str, Any]], bool]) -> int:
    """Apply `edit` to every Allure result file of the run; a file is rewritten when `edit` says it changed it.
    Returns how many were; an unreadable file is left alone."""
    count = 0
    for path in results_dir.glob("*-result.json"):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if edit(result):
            path.write_text(json.dumps(result), encoding="utf-8")
            count += 1
    return count


def label_results(results_dir: Path, env: str) -> int:
    """Add `env` to every result file of the run (allure-pytest's and the not-tested ones); returns how many."""

    def add_env(result: dict[str, Any]) -> bool:
        labels = result.setdefault("labels", [])
        if any(lab.get("name") == "env" for lab in labels):
            return False
        labels.append({"name": "env", "value": env})
        return True

    return edit_results(results_dir, add_env)


@pytest.hookimpl(specname="pytest_sessionfinish", wrapper=True)
def pytest_conformance_allure3_sessionfinish(session: pytest.Session) -> Iterator[None]:
    result = yield
    config, state = session.config, session.config.stash.get(STATE, None)
    results_dir = getattr(config.option, "allure_report_dir", None)
    if state is None or state.worker or config.option.collectonly:  # under `-n N`, the controller's to do
        return result
    state.reports.mkdir(parents=True, exist_ok=True)
    (state.reports / RESOLUTIONS).write_text(json.dumps({"rules": resolution_rules(state)}, indent=2) + "\n",
                                             encoding="utf-8")
    if results_dir and Path(results_dir).is_dir():
        label_results(Path(results_dir), state.target.kind if state.target else "unavailable")
    return result
