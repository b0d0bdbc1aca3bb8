"""The catalogue lints itself: IDs, titles, verbatim quotes, the mandated rules, and a test for every MUST rule."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, SuiteRun

from conformance.data import catalogue
from conformance.data.exceptions import CatalogueError

SHARED = ROOT.parent / "shared" / "contract"  # a clean clone in CI has ../shared beside the repository
SOURCES = {"general-info": SHARED / "general-info.txt", "fapi-contract": SHARED / "fapi-contract.md"}
MANDATED = (
    "general.json-responses", "general.ascending-time-order", "general.millisecond-timestamps", "general.java-types",
    "general.testnet-parity", "parameters.get-query-only", "parameters.form-body", "parameters.mixed-query-and-body",
    "parameters.query-over-body", "parameters.any-order", "http.4xx-invalid-request", "http.403-waf",
    "http.408-timeout", "http.429-rate-limit", "http.418-ban", "http.5xx-server-error", "errors.body-shape",
    "errors.unknown-error-retry", "errors.503-unknown-status", "errors.503-service-unavailable",
    "errors.503-internal-error", "errors.503-throttled", "errors.503-throttle-exemption",
)
# A requirement is stated as a fact ("answers", "carry"), never as an instruction or in another tense.
NOT_PRESENT_TENSE = re.compile(r"\b(must|should|shall|will|would|was|were|had)\b", re.IGNORECASE)
COLLECTOR = '''
import json, os
def pytest_collection_finish(session):
    found = {i.nodeid: [r for m in i.iter_markers("rule") for r in m.args] for i in session.items}
    open(os.environ["LINT_COLLECTED"], "w").write(json.dumps(found))
'''


def _raw_rules() -> list[dict[str, Any]]:
    return yaml.safe_load(catalogue.RULES_PATH.read_text(encoding="utf-8"))["rules"]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_rule_ids_are_unique_and_well_formed() -> None:
    ids = [r["id"] for r in _raw_rules()]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert [i for i in ids if not catalogue.ID_PATTERN.match(i)] == []


@pytest.mark.parametrize("rule", list(catalogue.default().values()), ids=lambda r: r.id)
def test_title_is_a_short_present_tense_statement(rule: catalogue.Rule) -> None:
    title = rule.title
    first = title.lstrip("\"'`").split(" ", 1)[0]
    # A number ("429 and 418 …") or a code identifier ("recvWindow …") keeps its own spelling.
    capital = first[:1].isupper() or first[:1].isdigit() or any(c.isupper() for c in first[1:])
    assert capital, f"{title!r} does not start with a capital"
    assert not title.endswith("."), f"{title!r} ends with a period"
    assert len(title) <= 100, f"{title!r} is {len(title)} characters long"
    assert not NOT_PRESENT_TENSE.search(title.replace(rule.quote, "")), f"{title!r} is not a present-tense statement"


@pytest.mark.parametrize("rule", [r for r in catalogue.default().values() if r.source in SOURCES], ids=lambda r: r.id)
def test_quote_appears_verbatim_in_its_source(rule: catalogue.Rule) -> None:
    source = SOURCES[rule.source]
    if not source.is_file():
        pytest.skip(f"{source} is absent (clone the shared contract beside the repository)")
    assert _squash(rule.quote) in _squash(source.read_text(encoding="utf-8")), f"{rule.id}: quote not in {source.name}"


def test_every_mandated_rule_is_in_the_catalogue() -> None:
    assert [rid for rid in MANDATED if rid not in catalogue.default()] == []
    assert all(catalogue.default()[rid].is_must for rid in MANDATED)


@pytest.fixture(scope="session")
def collected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Rule markers of every test in conformance/, collected by pytest itself in a subprocess."""
    folder = tmp_path_factory.mktemp("lint")
    (folder / "lint_collector.py").write_text(COLLECTOR, encoding="utf-8")
    out = folder / "collected.json"
    env = {**os.environ, "LINT_COLLECTED": str(out),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "pytest", "conformance", "--collect-only", "-q", "-p",
                           "no:cacheprovider", "-p", "lint_collector", f"--conformance-reports={folder}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0 and out.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_every_test_names_a_rule(collected: dict[str, list[str]]) -> None:
    assert [nodeid for nodeid, rules in collected.items() if not rules] == []


def test_every_must_rule_has_a_test(collected: dict[str, list[str]]) -> None:
    tested = {rid for rules in collected.values() for rid in rules}
    untested = [r.id for r in catalogue.default().values() if r.is_must and r.id not in tested]
    assert untested == [], f"MUST rules without a test in conformance/: {untested}"


@pytest.mark.slow
def test_untested_rules_are_reported_as_not_tested(collected: dict[str, list[str]], full_mock_run: SuiteRun) -> None:
    tested = {rid for rules in collected.values() for rid in rules}
    verdicts = full_mock_run.verdicts()
    assert sorted(verdicts) == sorted(catalogue.default()), "rules.json must list every catalogue rule"
    wrong = {rid: v for rid, v in verdicts.items() if rid not in tested and v != "not-tested"}
    assert wrong == {}


VALID = {"id": "general.example", "title": "An example holds", "level": "MUST", "section": "S", "link": "https://x",
         "quote": "Quoted."}
MALFORMED = {
    "missing-quote": [{k: v for k, v in VALID.items() if k != "quote"}],
    "duplicate-id": [VALID, VALID],
    "bad-level": [VALID | {"level": "MAY"}],
    "unknown-key": [VALID | {"severity": "high"}],
    "bad-id": [VALID | {"id": "NoArea"}],
    "not-a-list": {"id": "x"},
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_catalogue_is_a_one_line_error(name: str, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": MALFORMED[name]}), encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        catalogue.load(path)
    message = str(info.value)
    assert message and "\n" not in message and "rules.yaml" in message
