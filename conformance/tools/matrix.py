"""The nightly's targets as a GitHub Actions matrix, and the merge of their results into one report.

`python -m conformance.tools.matrix targets FILE [--extra URLS]` prints `matrix=<JSON>` for $GITHUB_OUTPUT: the bundled
mock and the ZTDX testnet always, then every base URL listed in FILE (one a line, `NAME URL` or `URL`, `#` comments)
and in URLS (the workflow_dispatch input: URLs separated by spaces, commas or newlines), each once, each with a
unique name. `python -m conformance.tools.matrix merge ARTIFACTS REPORTS` takes the downloaded artifacts (one folder
`nightly-<name>` per target) and writes one Allure results folder in which every result's `env` label is its
target's name, `allure-environments.json` (read by allurerc.mjs: one environment per target), the known-issue
rules of all targets (`allure-resolutions.json`), every target's `rules.json` side by side under
`REPORTS/targets/<name>/`, and a rules x targets table (`REPORTS/targets/verdicts.md`, also appended to
$GITHUB_STEP_SUMMARY).

Standard library only: it runs before any install. A bad list is one line on stderr and exit status 4.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 4
BUILT_IN = ({"name": "mock", "kind": "mock", "url": ""}, {"name": "testnet", "kind": "testnet", "url": ""})
# A base URL the run can be pointed at; nothing a shell or an Actions expression would read as syntax.
URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
ARTIFACT_PREFIX = "nightly-"
KIND_NAMES = {"mock": "bundled mock", "testnet": "ZTDX testnet"}
ICON = {"failed": "❌", "error": "💥", "xfailed": "⚠️", "passed": "✔️", "skipped": "⏭️", "not-tested": "–"}


class MatrixError(ValueError):
    """What is wrong with the list, in one line that says what to do."""


def _name_of(url: str) -> str:
    host = url.split("://", 1)[1].split("/", 1)[0]
    return re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")[:40] or "url"


def _entry(words: list[str], where: str) -> dict[str, str]:
    if len(words) > 2:
        raise MatrixError(f"{where}: expected `URL` or `NAME URL`, got {' '.join(words)!r} — one target a line")
    url = words[-1]
    if not URL.fullmatch(url):
        raise MatrixError(f"{where}: {url!r} is not a base URL — write it as https://host[:port][/path]")
    name = words[0] if len(words) == 2 else _name_of(url)
    if not NAME.fullmatch(name):
        raise MatrixError(f"{where}: target name {name!r} — use lower-case letters, digits and '-' (at most 40)")
    return {"name": name, "kind": "url", "url": url.rstrip("/")}


def targets(listing: str, extra: str = "", listing_name: str = "targets file") -> list[dict[str, str]]:
    """The matrix: mock, testnet, then the file's targets and the input's URLs, each URL once, names unique."""
    found: list[dict[str, str]] = [dict(t) for t in BUILT_IN]
    for number, line in enumerate(listing.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if words:
            found.append(_entry(words, f"{listing_name}:{number}"))
    for word in re.split(r"[\s,]+", extra.strip()):
        if word:
            found.append(_entry([word], "workflow input `targets`"))
    seen_urls: set[str] = set()
    names: set[str] = set()
    unique: list[dict[str, str]] = []
    for target in found:
        if target["url"] and target["url"] in seen_urls:
            continue
        if target["name"] in names:
            raise MatrixError(f"two targets are named {target['name']!r} — give one of them a name (`NAME URL`)")
        seen_urls.add(target["url"])
        names.add(target["name"])
        unique.append(target)
    return unique


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def relabel(result: dict[str, Any], env: str) -> dict[str, Any]:
    """The result with exactly one `env` label: the target's name (allurerc.mjs: one environment per name)."""
    labels = [lab for lab in result.get("labels", []) if lab.get("name") != "env"]
    result["labels"] = [*labels, {"name": "env", "value": env}]
    return result


def merge(artifacts: Path, reports: Path) -> list[str]:
    """Every target's results into `reports`; returns the targets' names in the order merged."""
    results_dir, side = reports / "allure-results", reports / "targets"
    results_dir.mkdir(parents=True, exist_ok=True)
    side.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    environments: dict[str, str] = {}
    resolutions: list[dict[str, Any]] = []
    properties: list[str] = []
    for folder in sorted(p for p in artifacts.iterdir() if p.is_dir() and p.name.startswith(ARTIFACT_PREFIX)):
        name = folder.name[len(ARTIFACT_PREFIX):]
        names.append(name)
        rules = _read_json(folder / "rules.json")
        target = (rules or {}).get("target", {})
        kind = target.get("kind")
        environments[name] = KIND_NAMES.get(kind, f"{name} ({target.get('base_url') or 'no run'})")
        for path in sorted((folder / "allure-results").glob("*")):
            if path.name.endswith(("-result.json", "-container.json")):
                data = _read_json(path)
                if isinstance(data, dict):
                    if path.name.endswith("-result.json"):
                        relabel(data, name)
                    (results_dir / path.name).write_text(json.dumps(data), encoding="utf-8")
            elif path.name == "environment.properties":
                properties += [f"{name}.{line}" for line in path.read_text(encoding="utf-8").splitlines() if line]
            elif path.is_file():  # attachments (uuid-named, distinct across runs), executor.json, categories.json
                shutil.copy2(path, results_dir / path.name)
        resolutions += (_read_json(folder / "allure-resolutions.json") or {}).get("rules", [])
        (side / name).mkdir(exist_ok=True)
        for file in ("rules.json", "safety.json", "junit.xml", "replay.json", "drift.json"):
            if (folder / file).is_file():
                shutil.copy2(folder / file, side / name / file)
    (results_dir / "environment.properties").write_text("\n".join(properties) + "\n", encoding="utf-8")
    unique_rules = list({json.dumps(r, sort_keys=True): r for r in resolutions}.values())
    (reports / "allure-resolutions.json").write_text(json.dumps({"rules": unique_rules}, indent=2) + "\n",
                                                     encoding="utf-8")
    (reports / "allure-environments.json").write_text(json.dumps(environments, indent=2) + "\n", encoding="utf-8")
    table = verdict_table(side, names)
    (side / "verdicts.md").write_text(table, encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(table)
    return names


def verdict_table(side: Path, names: list[str]) -> str:
    """Markdown: one row per rule, one column per target (its rules.json side by side)."""
    verdicts: dict[str, dict[str, str]] = {}
    for name in names:
        for rule in ((_read_json(side / name / "rules.json") or {}).get("rules") or []):
            verdicts.setdefault(rule["id"], {})[name] = rule.get("verdict", "")
    lines = ["## Rules by target", "", "| rule | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for rule_id in sorted(verdicts):
        cells = [f"{ICON.get(v, '')} {v}".strip() if (v := verdicts[rule_id].get(n)) else "no run" for n in names]
        lines.append(f"| {rule_id} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.matrix", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("targets", help="print matrix=<JSON> for $GITHUB_OUTPUT")
    listing.add_argument("file", type=Path)
    listing.add_argument("--extra", default="", help="more base URLs (spaces, commas or newlines between them)")
    merging = sub.add_parser("merge", help="merge the downloaded nightly-<name> artifacts into one report folder")
    merging.add_argument("artifacts", type=Path)
    merging.add_argument("reports", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "targets":
            text = args.file.read_text(encoding="utf-8") if args.file.is_file() else ""
            print("matrix=" + json.dumps(targets(text, args.extra, str(args.file)), separators=(",", ":")))
        else:
            if not args.artifacts.is_dir():
                raise MatrixError(f"{args.artifacts} is not a folder — download the nightly-* artifacts there first")
            names = merge(args.artifacts, args.reports)
            if not names:
                raise MatrixError(f"no {ARTIFACT_PREFIX}<name> folder in {args.artifacts} — no target's run finished")
            print(f"merged {len(names)} target(s): {', '.join(names)}")
    except MatrixError as exc:
        print(f"fapi-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
