"""Baseline comparison: each rule's distinct failures against a previous rules.json (new / fixed / still failing).

A failure's key is (rule, expected, method + path, actual), the texts normalised so that what changes from run to
run does not make an old failure look new: decimals become `#.#`, integers of five or more digits (times, ids)
`#`, hex runs of 16 or more characters (signatures, hashes) `<hex>`, the run's clientOrderId prefix `<run>`.
HTTP statuses and error codes (three and four digits) are kept: a -1102 that becomes a -1021 is a new failure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.data.exceptions import ConfigError

NEW, FIXED, STILL, PASSING = "new failure", "fixed", "still failing", "passing"
FAILING_VERDICTS = ("failed", "xfailed")
_VOLATILE = [(re.compile(r"\b[0-9a-f]{16,}\b"), "<hex>"), (re.compile(r"\b[a-z]{2}[0-9a-f]{8}-"), "<run>-"),
             (re.compile(r"\d+\.\d+"), "#.#"), (re.compile(r"\d{5,}"), "#")]

Key = tuple[str, tuple[str, ...], str, str]


def normalise(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def endpoint(request: str) -> str:
    """'GET /fapi/v1/time?x=1 → 200' -> 'GET /fapi/v1/time'."""
    head = request.split(" → ")[0].strip()
    method, _, url = head.partition(" ")
    return f"{method} {url.split('?')[0]}".strip()


def key(rule_id: str, failure: dict[str, Any]) -> Key:
    expected = tuple(normalise(str(e)) for e in failure.get("expected", []))
    return rule_id, expected, endpoint(str(failure.get("request", ""))), normalise(str(failure.get("actual", "")))


def failures_of(rules_json: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Failures by rule of a rules.json: its `failures` lists; a failing rule without one counts as one failure."""
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in rules_json.get("rules", []):
        if entry.get("verdict") in FAILING_VERDICTS:
            found[entry["id"]] = list(entry.get("failures") or [{"rule_level": True}])
    return found


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--conformance-baseline: {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--conformance-baseline: {path} is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ConfigError(f"--conformance-baseline: {path} is not a rules.json (no 'rules' list)")
    return data


@dataclass
class Comparison:
    """Each rule's baseline status, and each current failure marked new or known."""

    status: dict[str, str] = field(default_factory=dict)
    new: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def rules_with(self, status: str) -> list[str]:
        return sorted(r for r, s in self.status.items() if s == status)

    def as_dict(self, baseline: str) -> dict[str, Any]:
        return {"file": baseline, **{s.replace(" ", "_"): self.rules_with(s) for s in (NEW, FIXED, STILL, PASSING)}}


def compare(baseline: dict[str, Any], current: dict[str, Any]) -> Comparison:
    """New failure: a failure (by key) the baseline did not have. A rule the baseline lists as failing without
    distinct failures (an older rules.json) is compared by verdict only."""
    before, now = failures_of(baseline), failures_of(current)
    out = Comparison()
    for entry in current.get("rules", []):
        rule_id, verdict = entry["id"], entry.get("verdict")
        old = before.get(rule_id, [])
        rule_level = any(f.get("rule_level") for f in old)
        known = {key(rule_id, f) for f in old}
        new = [f for f in now.get(rule_id, []) if not rule_level and key(rule_id, f) not in known]
        if new:
            out.status[rule_id], out.new[rule_id] = NEW, new
        elif rule_id in now:
            out.status[rule_id] = STILL
        elif old and verdict == "passed":
            out.status[rule_id] = FIXED
        elif verdict == "passed":
            out.status[rule_id] = PASSING
    return out


def annotate(current: dict[str, Any], result: Comparison, baseline: str) -> dict[str, Any]:
    """rules.json with each rule's `baseline` status and each failure's `baseline`: new or known."""
    for entry in current.get("rules", []):
        if entry["id"] in result.status:
            entry["baseline"] = result.status[entry["id"]]
        new = {key(entry["id"], f) for f in result.new.get(entry["id"], [])}
        for failure in entry.get("failures", []):
            failure["baseline"] = "new" if key(entry["id"], failure) in new else "known"
    current["baseline"] = result.as_dict(baseline)
    return current


def fails_run(current: dict[str, Any], result: Comparison) -> bool:
    """The run still fails when a failed (not xfailed) rule has a new failure, or a rule's verdict is an error."""
    verdicts = {e["id"]: e.get("verdict") for e in current.get("rules", [])}
    return any(v == "error" for v in verdicts.values()) or any(
        verdicts.get(r) == "failed" for r in result.new)


def summary_lines(result: Comparison, baseline: str) -> list[str]:
    lines = [f"baseline {baseline}: {len(result.rules_with(NEW))} new failure(s), {len(result.rules_with(FIXED))} "
             f"fixed, {len(result.rules_with(STILL))} still failing, {len(result.rules_with(PASSING))} passing"]
    for rule_id in result.rules_with(NEW):
        for failure in result.new[rule_id][:3]:
            lines.append(f"  NEW   [{rule_id}] {failure.get('request', '')}: {str(failure.get('actual', ''))[:140]}")
    lines += [f"  FIXED [{r}]" for r in result.rules_with(FIXED)]
    lines += [f"  STILL [{r}]" for r in result.rules_with(STILL)]
    return lines
