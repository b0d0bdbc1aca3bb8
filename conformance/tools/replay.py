"""Re-judge a HAR recording offline with the current catalogue and checks: `python -m conformance.tools.replay FILE`.

A test is *replayable* when the judgements recorded with it explain its live decision: the first recorded
violation (or none) decides it as conformance.harness.outcomes would. Tests whose verdict came from their own logic — a
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

from conformance import REPORTS, checks
from conformance.checks import RuleViolation
from conformance.checks.parameters import compare
from conformance.data import catalogue, contract
from conformance.data.deviations import Deviation
from conformance.data.exceptions import ConfigError
from conformance.data.exchange import Exchange
from conformance.harness import atomic, har, outcomes
from conformance.harness.results import Results

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
        checks.load_all()  # every check module, comparisons included: a test may begin with a comparison
        run = log.get("_run", {})
        self.strict = bool(run.get("strict"))
        self.deviations = {rid: Deviation(rid, d["reason"], d["link"], dt.date.fromisoformat(d["review"]))
                           for rid, d in run.get("deviations", {}).items()}
        self._exchanges: dict[int, Exchange] = {}

    def exchange(self, index: int) -> Exchange:
        if index not in self._exchanges:
            self._exchanges[index] = har.exchange(self.log["entries"][index], self.spec)
        return self._exchanges[index]

    def decide(self, test: dict[str, Any], judgement: checks.Judgement) -> outcomes.Decision:
        first = next(iter(judgement.failed.values()), None)
        return outcomes.decide(first, test["marked"], self.cat, strict=self.strict, deviations=self.deviations,
                               judgement=judgement)

    def as_recorded(self, test: dict[str, Any]) -> checks.Judgement:
        """What the test's checks judged, as the recording says (no check runs)."""
        judgement = checks.Judgement()
        for j in test["judgements"]:
            for rule_id in j.get("applied", j["rules"]):
                judgement.saw(rule_id)
            for violation in _violations(j["violations"]):
                judgement.failure(violation)
        return judgement

    def rejudge(self, test: dict[str, Any]) -> tuple[checks.Judgement, list[list[RuleViolation]]]:
        """The test's recorded judgements made again by the current checks, collected as a live test's are."""
        found = []
        with checks.judging() as judgement:
            for j in test["judgements"]:
                exchanges = [self.exchange(i) for i in j["entries"]]
                rules = [r for r in j["rules"] if r in self.known]
                try:
                    found.append(checks.run(exchanges[0], rules) if len(exchanges) == 1 else
                                 compare(exchanges[0], exchanges[1], rules))
                except Exception as exc:  # a check that cannot judge the recording is a finding, not a crash
                    found.append([RuleViolation(rules[0] if rules else "-", "a check that runs",
                                                f"[harness error] {exc!r}")])
        return judgement, found

    def line(self, index: int) -> str:
        ex = self.exchange(index)
        return f"#{index} {ex.request.method} {ex.request.path} → {ex.response.status}"


Decisions = tuple[outcomes.Decision, outcomes.Decision]


def _why_not(test: dict[str, Any], rule_id: str, live: str, recorded: str) -> str:
    provoked = [PROVOKED[c] for c in test.get("capabilities", []) if c in PROVOKED]
    if live in ("skipped", outcomes.UNAVAILABLE, outcomes.ERROR):
        return f"live verdict {live}: nothing was judged"
    how = " and ".join(provoked) or "a sequence of requests"
    if not any(rule_id in j.get("applied", j["rules"]) for j in test["judgements"]):
        return f"no check judged a recorded exchange: the verdict comes from the test's own logic ({how})"
    return f"the recorded checks say {recorded}, the live run said {live}: the verdict depends on the test's logic"


def _only(decision: outcomes.Decision, rules: set[str]) -> outcomes.Decision:
    return outcomes.Decision(decision.kind, decision.rule_id, decision.reason, decision.violation,
                             {r: o for r, o in decision.rules.items() if r in rules})


def _replay_test(judge: _Judge, test: dict[str, Any], out: Replay) -> tuple[Decisions, set[str], set[str]] | None:
    """The test's decisions (as recorded, as the current checks make them) over its replayable rules, those rules,
    and the rules it could not replay (each reason noted). A rule is replayable when the judgements recorded with
    the test reproduce its live outcome; the live outcome of the others came from the test's own logic."""
    live = test.get("outcomes", {})
    if test["verdict"] == "skipped" or not live:
        out.not_replayable[test["nodeid"]] = f"live verdict {test['verdict']}: nothing was judged"
        return None
    recorded = judge.decide(test, judge.as_recorded(test))
    replayable, blocked = set(), set()
    for rule_id, kind in live.items():
        if kind == "incidental" or rule_id not in judge.known:
            continue
        mine = recorded.rules.get(rule_id)
        if mine is not None and mine.kind == kind and kind != outcomes.NOT_TESTED:
            replayable.add(rule_id)
        elif kind != outcomes.NOT_TESTED:
            blocked.add(rule_id)
            out.not_replayable[f"{test['nodeid']} [{rule_id}]"] = _why_not(test, rule_id, kind,
                                                                          mine.kind if mine else "nothing")
    if not replayable:
        return None
    judgement, now = judge.rejudge(test)
    for j, after in zip(test["judgements"], now, strict=True):
        before = _violations(j["violations"])
        if _key(before) != _key(after):
            out.changed.append({"test": test["nodeid"], "exchanges": [judge.line(i) for i in j["entries"]],
                                "rules": j["rules"], "before": [str(v).splitlines()[:3] for v in before],
                                "after": [str(v).splitlines()[:3] for v in after]})
    again = judge.decide(test, judgement)
    return (_only(recorded, replayable), _only(again, replayable)), replayable, blocked


def replay(log: dict[str, Any]) -> Replay:
    if not isinstance(log.get("_tests"), list):
        raise ConfigError("not a recording of the suite (no _tests): only reports/exchanges.har can be re-judged")
    judge, out = _Judge(log), Replay()
    live, again = Results(judge.cat), Results(judge.cat)
    replayed: dict[str, set[str]] = {}  # rule -> the tests that re-judged it
    blocked: set[str] = set()  # rules with a test whose live outcome the recording cannot reproduce
    for original in log["_tests"]:
        test = {**original, "marked": [r for r in original["rules"] if r in judge.known]}
        found = _replay_test(judge, test, out)
        for rule_id in test.get("outcomes", {}):
            replayed.setdefault(rule_id, set())
        if found is None:
            blocked.update(r for r, k in test.get("outcomes", {}).items() if k not in ("incidental", "not-tested"))
            continue
        (before, after), rules, unreplayable = found
        blocked |= unreplayable
        live.record(test["nodeid"], sorted(rules), before)
        again.record(test["nodeid"], sorted(rules), after)
        for rule_id in rules:
            replayed[rule_id].add(test["nodeid"])
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
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.replay", description=__doc__.splitlines()[0])
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
    atomic.write_text(out, json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n")
    print(table(result))
    print(f"written: {out}")
    return EXIT_CHANGED if result.differs else EXIT_SAME


if __name__ == "__main__":
    sys.exit(main())
