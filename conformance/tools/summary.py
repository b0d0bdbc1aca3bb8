"""The nightly's job summary: `python -m conformance.tools.summary [DIR]` appends Markdown to $GITHUB_STEP_SUMMARY.

The rules table from rules.json, each rule with its verdict and, when the run had a baseline, new / fixed / still
failing marked; then the drift and replay lines when reports/drift.json and reports/replay.json exist. Without
$GITHUB_STEP_SUMMARY the Markdown goes to stdout. `--keep FILE` copies rules.json to FILE (tomorrow's baseline)
when the run judged anything. Standard library only: it runs before any install.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

MARK = {"new failure": "🆕 new failure", "fixed": "✅ fixed", "still failing": "still failing", "passing": ""}
ICON = {"failed": "❌", "error": "💥", "xfailed": "⚠️", "passed": "✔️", "skipped": "⏭️", "not-tested": "–"}


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def rules_table(rules: dict[str, Any]) -> list[str]:
    target = rules.get("target", {})
    counts = ", ".join(f"{n} {v}" for v, n in sorted(rules.get("summary", {}).items()))
    lines = [f"## fapi-conformance: {target.get('name', '?')} ({target.get('base_url', '-')})", "", counts, ""]
    base = rules.get("baseline")
    if base:
        lines += [f"Baseline `{Path(str(base.get('file', ''))).name}`: {len(base.get('new_failure', []))} new "
                  f"failure(s), {len(base.get('fixed', []))} fixed, {len(base.get('still_failing', []))} still "
                  "failing.", ""]
    lines += ["| rule | level | verdict | since the baseline |", "|---|---|---|---|"]
    order = {"new failure": 0, "fixed": 1, "still failing": 2}
    entries = sorted(rules.get("rules", []), key=lambda e: (order.get(e.get("baseline", ""), 3), e["id"]))
    for e in entries:
        verdict = e.get("verdict", "-")
        lines.append(f"| `{e['id']}` | {e.get('level', '')} | {ICON.get(verdict, '')} {verdict} |"
                     f" {MARK.get(e.get('baseline', ''), '')} |")
    return lines


def extras(reports: Path) -> list[str]:
    lines = []
    drift = _read(reports / "drift.json")
    if drift:
        lines.append(f"- drift of the bundled mock against this run: {drift.get('unexpected', '?')} difference(s) "
                     f"outside the allow-list over {drift.get('compared', '?')} exchange(s) (drift.json)")
    replay = _read(reports / "replay.json")
    if replay:
        same = "identical verdicts" if replay.get("identical") else "verdicts changed"
        lines.append(f"- offline replay of exchanges.har: {same} (replay.json)")
    return ["", *lines] if lines else []


def keep(rules: dict[str, Any] | None, source: Path, baseline: Path) -> bool:
    """Copy rules.json to the baseline path when the run judged something (an unreachable target judged nothing)."""
    judged = rules is not None and rules.get("target", {}).get("status") != "unavailable" and any(
        e.get("verdict") != "not-tested" for e in rules.get("rules", []))
    if judged:
        baseline.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, baseline)
    return judged


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    baseline = Path(args.pop(args.index("--keep") + 1)) if "--keep" in args[:-1] else None
    args = [a for a in args if a != "--keep"]
    reports = Path(args[0] if args else "reports")
    rules = _read(reports / "rules.json")
    if baseline is not None and not keep(rules, reports / "rules.json", baseline):
        sys.stderr.write(f"summary: {reports / 'rules.json'} judged nothing: {baseline} is kept as it was\n")
    if rules is None:
        text = f"## fapi-conformance\n\nno readable {reports / 'rules.json'}: the run wrote no verdicts\n"
    else:
        text = "\n".join([*rules_table(rules), *extras(reports)]) + "\n"
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
