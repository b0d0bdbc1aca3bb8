"""--conformance-baseline: a new failure of an already-failing rule fails the run; old failures alone do not."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SuiteRun
from mutants.mutations import MUTATIONS, _on_json
from mutants.proxy import Answer, Mutation, Outgoing, ProxyServer

from conformance.harness import baseline


def _rules(**rules: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A small rules.json: rule id (dots as __) -> (verdict, failures)."""
    return {"rules": [{"id": rid.replace("__", "."), "verdict": v, **({"failures": f} if f else {})}
                      for rid, (v, f) in rules.items()]}


def _failure(actual: str, request: str = "GET /fapi/v1/time → 403") -> dict[str, Any]:
    return {"expected": ["a JSON object {code, msg}"], "actual": actual, "request": request, "tests": ["t"], "count": 1}


OLD = _failure("HTTP 403 on GET /fapi/v1/time at 1796194036630: no 'msg'")


def test_the_same_failure_with_other_volatile_digits_is_still_failing() -> None:
    before = _rules(errors__body_shape=("failed", [OLD]), general__ping=("passed", []))
    now = _rules(errors__body_shape=("failed", [_failure("HTTP 403 on GET /fapi/v1/time at 1796199999999: no 'msg'",
                                                          "GET /fapi/v1/time?x=1 → 403")]),
                 general__ping=("passed", []))
    result = baseline.compare(before, now)
    assert result.status == {"errors.body_shape": baseline.STILL, "general.ping": baseline.PASSING}
    assert not baseline.fails_run(now, result)


def test_a_new_failure_of_an_already_failing_rule_is_new() -> None:
    before = _rules(errors__body_shape=("failed", [OLD]))
    now = _rules(errors__body_shape=("failed", [OLD, _failure("HTTP 403: 'code' is \"-1000\", not an integer")]))
    result = baseline.compare(before, now)
    assert result.status == {"errors.body_shape": baseline.NEW} and len(result.new["errors.body_shape"]) == 1
    assert baseline.fails_run(now, result)
    marked = baseline.annotate(now, result, "old.json")["rules"][0]["failures"]
    assert [f["baseline"] for f in marked] == ["known", "new"]


@pytest.mark.parametrize(("old", "new"), [("-1102", "-1021"), ("400", "401")])
def test_a_changed_error_code_or_status_is_a_new_failure(old: str, new: str) -> None:
    before = _rules(r=("failed", [_failure(f"HTTP 400 code {old}" if old.startswith("-") else f"HTTP {old}")]))
    now = _rules(r=("failed", [_failure(f"HTTP 400 code {new}" if new.startswith("-") else f"HTTP {new}")]))
    assert baseline.compare(before, now).status == {"r": baseline.NEW}


def test_fixed_rules_and_rule_level_baselines() -> None:
    before = {"rules": [{"id": "a", "verdict": "failed", "failures": [OLD]}, {"id": "b", "verdict": "failed"}]}
    now = _rules(a=("passed", []), b=("failed", [OLD]))
    result = baseline.compare(before, now)
    assert result.status == {"a": baseline.FIXED, "b": baseline.STILL}  # b: an old rules.json, compared by verdict


def test_a_bad_baseline_file_is_one_line(run_suite: Callable[..., SuiteRun], tmp_path: Path) -> None:
    bad = tmp_path / "rules.json"
    bad.write_text("[]", encoding="utf-8")
    run = run_suite([f"--conformance-baseline={bad}", "-k", "ping"])
    assert run.code == 4 and "is not a rules.json" in run.stderr and "Traceback" not in run.stderr


def _string_code_on_403(out: Outgoing, answer: Answer, body: Any) -> Any:
    if answer.status == 403 and isinstance(body, dict) and isinstance(body.get("code"), int):
        return {**body, "code": str(body["code"])}
    return body


RENAMED = MUTATIONS["msg-renamed-message"]
ONE_MORE = Mutation("msg-renamed-and-string-code-on-403",
                    response=lambda out, a: _on_json(_string_code_on_403)(out, RENAMED.response(out, a)))
SLICE = ["-k", "test_fault_answer_carries_integer_code_and_string_msg", "--conformance-examples=2"]


def _run(mutation: Mutation, mock: Any, run_suite: Callable[..., SuiteRun], *extra: str) -> SuiteRun:
    with ProxyServer(mock.url, mutation) as proxy:
        return run_suite([f"--conformance-target={proxy.url}", *SLICE, *extra])


@pytest.mark.slow
def test_baseline_passes_old_failures_and_fails_a_new_one(fresh_mock: Any, run_suite: Callable[..., SuiteRun],
                                                          tmp_path: Path) -> None:
    first = _run(RENAMED, fresh_mock, run_suite)
    assert first.code == 1 and first.verdicts()["errors.body-shape"] == "failed", first.explain()
    old = tmp_path / "last-night.json"
    old.write_text(json.dumps(first.rules), encoding="utf-8")

    again = _run(RENAMED, fresh_mock, run_suite, f"--conformance-baseline={old}")
    assert again.code == 0, again.explain()
    assert again.rules["baseline"]["still_failing"] == ["errors.body-shape"] and not again.rules["baseline"][
        "new_failure"]
    assert "conformance baseline" in again.stdout and "0 new failure(s)" in again.stdout

    worse = _run(ONE_MORE, fresh_mock, run_suite, f"--conformance-baseline={old}")
    assert worse.code == 1, worse.explain()
    assert worse.rules["baseline"]["new_failure"] == ["errors.body-shape"]
    entry = next(r for r in worse.rules["rules"] if r["id"] == "errors.body-shape")
    new = [f for f in entry["failures"] if f["baseline"] == "new"]
    assert len(new) == 1 and "403" in new[0]["request"], entry["failures"]
    tags = [lab["value"] for p in (worse.junit.parent / "allure-results").glob("*-result.json")
            for lab in json.loads(p.read_text(encoding="utf-8"))["labels"] if lab["name"] == "tag"]
    assert "baseline: new failure" in tags
