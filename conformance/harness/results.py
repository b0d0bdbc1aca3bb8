"""Per-rule verdicts: folds test decisions into `reports/rules.json`, each failure explained once with a count."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.checks import RuleViolation
from conformance.data.catalogue import Catalogue
from conformance.harness import atomic, redact
from conformance.harness.outcomes import (
    DEVIATION,
    ERROR,
    FAILED,
    NON_STRICT,
    NOT_TESTED,
    PASSED,
    UNAVAILABLE,
    Decision,
    RuleOutcome,
)

# Worst first: a rule's verdict is the worst outcome among its tests.
_RANK = ["failed", "error", "xfailed", "passed", "skipped", "not-tested"]
_VERDICT = {PASSED: "passed", FAILED: "failed", ERROR: "error", UNAVAILABLE: "skipped", DEVIATION: "xfailed",
            NON_STRICT: "xfailed", NOT_TESTED: "not-tested", "skipped": "skipped"}
MAX_FAILURES = 20  # distinct failures listed per rule; the count says how many there were in all
MAX_REASONS = 5


def request_line(violation: RuleViolation) -> str:
    ex = violation.exchange
    return f"{ex.request.method} {ex.request.path} → {ex.response.status}" if ex is not None else ""


@dataclass
class Failure:
    """One distinct way a rule failed: what was expected, what came, on which request, and which tests saw it."""

    expected: list[str]
    actual: str
    request: str
    curl: str
    tests: list[str] = field(default_factory=list)
    count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "actual": self.actual, "request": self.request, "curl": self.curl,
                "tests": self.tests, "count": self.count}


@dataclass
class Results:
    """Test decisions by rule ID, written out as rules.json at the end of the run."""

    catalogue: Catalogue
    tests: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    failures: dict[str, dict[tuple[str, ...], Failure]] = field(default_factory=lambda: defaultdict(dict))
    reasons: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    not_selected: str = ""  # set when --conformance-rule/--conformance-operation scoped the run

    def record(self, nodeid: str, marked: list[str], decision: Decision | None) -> None:
        """Attribute one test's result to its rules (None: skipped before it ran, e.g. a missing capability)."""
        if decision is None:
            for rule_id in marked:
                self.tests[rule_id][nodeid] = "skipped"
            return
        for rule_id, outcome in decision.rules.items():
            self._record_rule(rule_id, nodeid, outcome)

    def _record_rule(self, rule_id: str, nodeid: str, outcome: RuleOutcome) -> None:
        verdict = _VERDICT[outcome.kind]
        if outcome.incidental:  # the test judged other rules: it says nothing of this one
            self.reasons[rule_id][f"{verdict}\t{outcome.reason}"].append(nodeid)
            return
        known = self.tests[rule_id].get(nodeid)
        if known is not None and _RANK.index(known) <= _RANK.index(verdict):
            return  # a test reports once per phase: keep its worst verdict
        self.tests[rule_id][nodeid] = verdict
        if outcome.violation is not None and verdict in ("failed", "xfailed"):
            self._failure(rule_id, nodeid, outcome.violation)
        elif outcome.reason and verdict != "passed":
            self.reasons[rule_id][f"{verdict}\t{outcome.reason.splitlines()[0]}"].append(nodeid)

    def _failure(self, rule_id: str, nodeid: str, violation: RuleViolation) -> None:
        key = (*violation.expected, violation.actual, request_line(violation))
        failure = self.failures[rule_id].get(key)
        if failure is None:
            curl = redact.curl(violation.exchange) if violation.exchange is not None else ""
            failure = self.failures[rule_id][key] = Failure(list(violation.expected), violation.actual,
                                                            request_line(violation), curl)
        failure.count += 1
        if nodeid not in failure.tests:
            failure.tests.append(nodeid)

    def verdict(self, rule_id: str) -> str:
        outcomes = set(self.tests.get(rule_id, {}).values())
        return next((v for v in _RANK if v in outcomes), "not-tested")

    def failure_list(self, rule_id: str) -> list[Failure]:
        """Distinct failures, most frequent first."""
        return sorted(self.failures.get(rule_id, {}).values(), key=lambda f: -f.count)

    def reason_list(self, rule_id: str) -> list[str]:
        """Why the rule's tests did not pass, the reasons of its own verdict first, most frequent first."""
        verdict = self.verdict(rule_id)
        found = sorted(self.reasons.get(rule_id, {}).items(),
                       key=lambda item: (not item[0].startswith(f"{verdict}\t"), -len(item[1])))
        return [f"{key.split(chr(9), 1)[1]} ({len(nodes)} test{'s' * (len(nodes) != 1)})"
                for key, nodes in found][:MAX_REASONS]

    def entry(self, rule_id: str) -> dict[str, Any]:
        rule = self.catalogue[rule_id]
        verdict = self.verdict(rule_id)
        entry: dict[str, Any] = {"id": rule.id, "title": rule.title, "level": rule.level, "verdict": verdict,
                                 "tests": dict(sorted(self.tests.get(rule.id, {}).items())), "link": rule.link}
        failures = self.failure_list(rule_id)
        if failures and verdict in ("failed", "xfailed"):
            entry["failures"] = [f.as_dict() for f in failures[:MAX_FAILURES]]
            entry["distinct_failures"] = len(failures)
        if verdict in ("error", "not-tested", "skipped", "xfailed") or (verdict == "failed" and not failures):
            reasons = self.reason_list(rule_id)
            if verdict == "not-tested" and not reasons:
                reasons = [self.not_selected or "not tested: no test of this rule ran on this target (none collected "
                                                "or all deselected)"]
            if reasons:
                entry["reason"] = reasons[0]
                entry["reasons"] = reasons
        return entry

    def summary_lines(self) -> list[str]:
        """One line per rule that failed or errored (worst first), then how many rules were not tested and why."""
        lines = []
        for verdict in ("failed", "error"):
            for rule in self.catalogue.values():
                if self.verdict(rule.id) != verdict:
                    continue
                tests = [n for n, v in self.tests[rule.id].items() if v == verdict]
                failures = self.failure_list(rule.id)
                if failures:
                    first = failures[0]
                    more = f" (+{len(failures) - 1} other distinct failures)" if len(failures) > 1 else ""
                    why = (f"Expected {' | '.join(first.expected)[:160]}; Actual {first.actual[:200]}"
                           + (f" [{first.request}]" if first.request else "") + more)
                else:
                    why = (self.reason_list(rule.id) or [""])[0][:300]
                lines.append(f"{verdict.upper()} {rule.id} ({rule.level}) in {len(tests)} test"
                             f"{'s' * (len(tests) != 1)}: {why}")
        untested = [r.id for r in self.catalogue.values() if self.verdict(r.id) == "not-tested"]
        if untested:
            lines.append(f"not tested: {len(untested)} rule{'s' * (len(untested) != 1)} ({', '.join(untested[:8])}"
                         f"{', …' if len(untested) > 8 else ''}) — reasons in rules.json")
        return lines

    def export(self) -> dict[str, Any]:
        """This process's decisions as plain data, for the controller of a `-n N` run (pytest-xdist workeroutput)."""
        return {"tests": {r: dict(t) for r, t in self.tests.items()},
                "failures": {r: [[list(k), f.as_dict()] for k, f in fs.items()] for r, fs in self.failures.items()},
                "reasons": {r: {k: list(v) for k, v in rs.items()} for r, rs in self.reasons.items()}}

    def absorb(self, data: dict[str, Any]) -> None:
        """Fold a worker's `export()` in: a rule's verdict is the worst of all its tests, wherever they ran."""
        for rule_id, tests in data.get("tests", {}).items():
            for nodeid, verdict in tests.items():
                known = self.tests[rule_id].get(nodeid)
                if known is None or _RANK.index(verdict) < _RANK.index(known):
                    self.tests[rule_id][nodeid] = verdict
        for rule_id, pairs in data.get("failures", {}).items():
            for key, raw in pairs:
                failure = self.failures[rule_id].setdefault(tuple(key), Failure(
                    list(raw["expected"]), raw["actual"], raw["request"], raw["curl"]))
                failure.count += int(raw["count"])
                failure.tests += [n for n in raw["tests"] if n not in failure.tests]
        for rule_id, reasons in data.get("reasons", {}).items():
            for key, nodes in reasons.items():
                self.reasons[rule_id][key].extend(nodes)

    def as_dict(self, target: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        rules = [self.entry(rule_id) for rule_id in self.catalogue]
        counts: dict[str, int] = defaultdict(int)
        for entry in rules:
            counts[entry["verdict"]] += 1
        return {"target": target, "summary": dict(sorted(counts.items())), "rules": rules, **(extra or {})}

    def write(self, path: Path, target: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        text = redact.redact(json.dumps(self.as_dict(target, extra), indent=2, ensure_ascii=False))
        atomic.write_text(path, text + "\n")
