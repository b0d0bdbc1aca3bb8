"""Re-judge a HAR recording offline with the current catalogue and checks: `python -m conformance.replay FILE`.

A test is *replayable* when the judgements recorded with it explain its live decision: the first recorded
violation (or none) decides it as conformance.outcomes would. Tests whose verdict came from their own logic — a
sequence of requests (rate limits, retries, bans), an injected fault, a skip — cannot be re-judged from recorded
exchanges and are named, with the reason. No network: the recorded exchanges are the only input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import REPORTS, catalogue, checks, contract, har, outcomes
from conformance.checks import RuleViolation
from conformance.checks.parameters import compare
from conformance.deviations import Deviation
from conformance.errors import ConfigError
from conformance.exchange import Exchange
from conformance.results import Results

EXIT_SAME, EXIT_CHANGED, EXIT_USAGE = 0, 1, 4
PROVOKED = {"faults": "injected faults", "provoke-limits": "provoked rate limits"}


@dataclass
class Replay:
    """The outcome of one replay: per-rule verdicts (live and replayed) and the judgements that changed."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    not_replayable: dict[str, str] = field(default_factory=dict)  # nodeid -> why

    @property
    def differs(self) -> bool:
        judged = [r for r in self.rules if r["status"] != "not-replayable"]
        return bool(self.changed) or any(r["live"] != r["replayed"] for r in judged)

    def as_dict(self) -> dict[str, Any]:
        return {"identical": not self.differs, "rules": self.rules, "changed": self.changed,
                "not_replayable": self.not_replayable}


def _violations(raw: list[dict[str, Any]]) -> list[RuleViolation]:
    return [RuleViolation(v["rule"], v["expected"], v["actual"]) for v in raw]


def _key(found: list[RuleViolation]) -> list[tuple[str, tuple[str, ...], str]]:
    return [(v.rule_id, tuple(v.expected), v.actual) for v in found]


class _Judge:
    def __init__(self, log: dict[str, Any]) -> None:
        self.log, self.cat, self.spec = log, catalogue.default(), contract.default()
        self.known = set(self.cat)
        run = log.get("_run", {})
        self.strict = bool(run.get("strict"))
        self.deviations = {rid: Deviation(rid, d["reason"], d["link"], dt.date.fromisoformat(d["review"]))
                           for rid, d in run.get("deviations", {}).items()}
        self._exchanges: dict[int, Exchange] = {}

    def exchange(self, index: int) -> Exchange:
        if index not in self._exchanges:
            self._exchanges[index] = har.exchange(self.log["entries"][index], self.spec)
        return self._exchanges[index]

    def decide(self, test: dict[str, Any], judgements: list[list[RuleViolation]]) -> outcomes.Decision:
        first = next((found[0] for found in judgements if found), None)
        return outcomes.decide(first, test["rules"], self.cat, strict=self.strict, deviations=self.deviations)

    def rejudge(self, judgement: dict[str, Any]) -> list[RuleViolation]:
        exchanges = [self.exchange(i) for i in judgement["entries"]]
        rules = [r for r in judgement["rules"] if r in self.known]
        try:
            if len(exchanges) == 1:
                return checks.run(exchanges[0], rules)
            return compare(exchanges[0], exchanges[1], rules)
        except Exception as exc:  # a check that cannot judge the recording is a finding, not a crash
            return [RuleViolation(rules[0] if rules else "-", "a check that runs", f"[harness error] {exc!r}")]

    def line(self, index: int) -> str:
        ex = self.exchange(index)
        return f"#{index} {ex.request.method} {ex.request.path} → {ex.response.status}"


def _why_not(test: dict[str, Any], live: str, recorded: outcomes.Decision) -> str:
    provoked = [PROVOKED[c] for c in test.get("capabilities", []) if c in PROVOKED]
    if live in ("skipped", outcomes.UNAVAILABLE, outcomes.ERROR):
        return f"live verdict {live}: nothing was judged"
    if not test["rules"]:
        what = " and ".join(provoked) or "a sequence of requests"
        return f"no check judged a recorded exchange: the verdict comes from the test's own logic ({what})"
    return (f"the recorded checks say {recorded.kind} {recorded.rule_id}, the live run said {live} "
            f"{test.get('rule')}: the verdict depends on the test's own logic"
            + (f" ({' and '.join(provoked)})" if provoked else ""))


Decisions = tuple[outcomes.Decision, outcomes.Decision]


def _replay_test(judge: _Judge, test: dict[str, Any], out: Replay) -> Decisions | None:
    """The test's decision as recorded and as the current checks make it; None (and the reason noted) when its
    recorded judgements do not explain its live decision. `test["rules"]` becomes the marked rules a recorded
    check judged: only those can be re-judged, the others stay with the test's own logic."""
    kind = test["verdict"]
    judged = {r for j in test["judgements"] for r in j["rules"]}
    test["rules"] = [r for r in test["marked"] if r in judged]
    recorded = [_violations(j["violations"]) for j in test["judgements"]]
    as_recorded = judge.decide(test, recorded)
    same = as_recorded.kind == kind and (kind == outcomes.PASSED or as_recorded.rule_id == test.get("rule"))
    if kind == "skipped" or not test["rules"] or not same:
        out.not_replayable[test["nodeid"]] = _why_not(test, kind, as_recorded)
        return None
    now = [judge.rejudge(j) for j in test["judgements"]]
    for j, before, after in zip(test["judgements"], recorded, now, strict=True):
        if _key(before) != _key(after):
            out.changed.append({"test": test["nodeid"], "exchanges": [judge.line(i) for i in j["entries"]],
                                "rules": j["rules"], "before": [str(v).splitlines()[:3] for v in before],
                                "after": [str(v).splitlines()[:3] for v in after]})
    return as_recorded, judge.decide(test, now)


def replay(log: dict[str, Any]) -> Replay:
    if not isinstance(log.get("_tests"), list):
        raise ConfigError("not a recording of the suite (no _tests): only reports/exchanges.har can be re-judged")
    judge, out = _Judge(log), Replay()
    live, again = Results(judge.cat), Results(judge.cat)
    replayed: dict[str, set[str]] = {}  # rule -> the tests that re-judged it
    blocked: set[str] = set()  # rules with a test (judged live) that could not be re-judged
    for original in log["_tests"]:
        test = {**original, "marked": [r for r in original["rules"] if r in judge.known]}
        for rule_id in test["marked"]:
            replayed.setdefault(rule_id, set())
        decisions = _replay_test(judge, test, out)
        if decisions is None:
            if test["verdict"] != "skipped":  # a test skipped live judged nothing: it leaves no gap
                blocked.update(test["marked"])
            continue
        blocked.update(set(test["marked"]) - set(test["rules"]))
        live.record(test["nodeid"], test["rules"], decisions[0])
        again.record(test["nodeid"], test["rules"], decisions[1])
        for rule_id in {*test["rules"], decisions[0].rule_id} - {None}:
            replayed.setdefault(str(rule_id), set()).add(test["nodeid"])
    for rule in judge.cat.values():
        if rule.id in replayed:
            status = "partly" if rule.id in blocked else "replayed"
            out.rules.append({"id": rule.id, "recorded": log.get("_rules", {}).get(rule.id, "-"),
                              "live": live.verdict(rule.id), "replayed": again.verdict(rule.id),
                              "status": status if replayed[rule.id] else "not-replayable"})
    return out


def table(result: Replay) -> str:
    rows = ["| rule | live run (rules.json) | live, replayable tests | replayed | replay |", "|---|---|---|---|---|"]
    for r in result.rules:
        mark = "" if r["status"] == "not-replayable" or r["live"] == r["replayed"] else " **changed**"
        rows.append(f"| `{r['id']}` | {r['recorded']} | {r['live']} | {r['replayed']}{mark} | {r['status']} |")
    lines = ["\n".join(rows), ""]
    if result.changed:
        lines.append(f"{len(result.changed)} recorded judgement(s) changed:")
        for c in result.changed:
            before = "fails" if c["before"] else "passes"
            after = "fails" if c["after"] else "passes"
            lines.append(f"  {', '.join(c['exchanges'])} [{', '.join(c['rules'])}] {before} -> now {after}"
                         f" ({c['test']})" + (f": {c['after'][0][0]}" if c["after"] else ""))
    reasons: dict[str, int] = {}
    for why in result.not_replayable.values():
        reasons[why.split(":")[0]] = reasons.get(why.split(":")[0], 0) + 1
    lines += [f"not replayable: {n} test(s): {why}" for why, n in sorted(reasons.items())]
    blocked = [r["id"] for r in result.rules if r["status"] == "not-replayable"]
    if blocked:
        lines.append(f"rules that cannot be judged from recorded exchanges: {', '.join(blocked)}")
    lines.append("replay: identical verdicts" if not result.differs else "replay: verdicts or judgements changed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.replay", description=__doc__.splitlines()[0])
    parser.add_argument("recording", nargs="?", default=str(REPORTS / har.HAR_NAME), help="a HAR file of a run")
    parser.add_argument("--out", default=None, help="replay.json (default: beside the recording)")
    args = parser.parse_args(argv)
    path = Path(args.recording)
    try:
        result = replay(har.load(path))
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        why = exc if isinstance(exc, ConfigError) else f"{path}: not a suite recording ({exc!r})"
        sys.stderr.write(f"replay: {why}\n")
        return EXIT_USAGE
    out = Path(args.out) if args.out else path.with_name("replay.json")
    out.write_text(json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(result))
    print(f"written: {out}")
    return EXIT_CHANGED if result.differs else EXIT_SAME


if __name__ == "__main__":
    sys.exit(main())
