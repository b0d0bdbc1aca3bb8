"""Per-rule verdicts: folds test decisions into `reports/rules.json`."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import redact
from conformance.catalogue import Catalogue
from conformance.outcomes import DEVIATION, ERROR, FAILED, NON_STRICT, PASSED, UNAVAILABLE, Decision

# Worst first: a rule's verdict is the worst outcome among its tests.
_RANK = ["failed", "error", "xfailed", "passed", "skipped", "not-tested"]
_VERDICT = {PASSED: "passed", FAILED: "failed", ERROR: "error", UNAVAILABLE: "skipped",
            DEVIATION: "xfailed", NON_STRICT: "xfailed", "skipped": "skipped"}


@dataclass
class Results:
    """Test decisions by rule ID, written out as rules.json at the end of the run."""

    catalogue: Catalogue
    tests: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def record(self, nodeid: str, marked: list[str], decision: Decision | None, skipped: str = "") -> None:
        """Attribute one test's result to its rules: a violation only to the rule it names."""
        if decision is None:
            for rule_id in marked:
                self.tests[rule_id][nodeid] = "skipped"
            return
        verdict = _VERDICT[decision.kind]
        if decision.kind in (FAILED, DEVIATION, NON_STRICT) and decision.rule_id:
            self.tests[decision.rule_id][nodeid] = verdict
            self.reasons[decision.rule_id].append(decision.reason.splitlines()[0] if decision.reason else "")
            return
        for rule_id in marked:
            self.tests[rule_id][nodeid] = verdict

    def verdict(self, rule_id: str) -> str:
        outcomes = set(self.tests.get(rule_id, {}).values())
        return next((v for v in _RANK if v in outcomes), "not-tested")

    def as_dict(self, target: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        rules = []
        for rule in self.catalogue.values():
            tests = dict(sorted(self.tests.get(rule.id, {}).items()))
            entry: dict[str, Any] = {"id": rule.id, "title": rule.title, "level": rule.level,
                                     "verdict": self.verdict(rule.id), "tests": tests, "link": rule.link}
            if self.reasons.get(rule.id):
                entry["reasons"] = sorted(set(self.reasons[rule.id]))[:5]
            rules.append(entry)
        counts: dict[str, int] = defaultdict(int)
        for entry in rules:
            counts[entry["verdict"]] += 1
        return {"target": target, "summary": dict(sorted(counts.items())), "rules": rules, **(extra or {})}

    def must_failed(self) -> list[str]:
        return [r.id for r in self.catalogue.values() if r.is_must and self.verdict(r.id) == "failed"]

    def write(self, path: Path, target: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = redact.redact(json.dumps(self.as_dict(target, extra), indent=2))
        path.write_text(text + "\n", encoding="utf-8")
