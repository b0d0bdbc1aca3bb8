"""The Allure 3 report: built from a real slice of the suite, rendered in headless Chromium, categories and history."""

from __future__ import annotations

import functools
import html
import http.server
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets.sync.client

from conformance.data import catalogue
from conformance.tools import report_html

ROOT = Path(__file__).resolve().parent.parent
# Its module fixtures run the suite and build reports: under xdist the module stays on one worker, so they run once.
pytestmark = pytest.mark.xdist_group("report")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Without the background-networking flags Chromium tries to reach Google's hosts; this machine has no network.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
# The report loads its data asynchronously after the page's scripts ran: `--dump-dom --virtual-time-budget` dumped the
# bare header about once in six renders on a loaded machine (CI failed so). The page is driven over the DevTools
# protocol instead, and its DOM read until it shows what the test looks for or RENDER_WAIT seconds have passed.
RENDER_WAIT = 120.0

OUTCOMES = '''
import pytest
from conformance import checks
from conformance.checks import RuleViolation
from conformance.data.exceptions import NotTested, TargetUnavailable

@pytest.mark.rule("general.json-responses")
def test_contract_violation():
    raise RuleViolation("general.json-responses", ["application/json"], "text/html")

@pytest.mark.rule("general.json-responses")
def test_target_unavailable():
    raise TargetUnavailable("rate-limited: HTTP 429 on a request outside the rule under test")

@pytest.mark.rule("general.json-responses")
def test_harness_error():
    raise KeyError("a bug in the harness")

@pytest.mark.rule("{should}")
def test_should_rule_failing_without_strict():
    raise RuleViolation("{should}", ["something"], "something else")

@pytest.mark.rule("general.json-responses")
def test_passing():
    checks.judged("general.json-responses")  # a pass credits only what a check judged

@pytest.mark.rule("general.millisecond-timestamps")
def test_not_tested_precondition():
    raise NotTested("precondition: GET /fapi/v1/time answered HTTP 404", rule_id="general.endpoint-implemented")
'''


def _allure_cli() -> tuple[str, Path]:
    cli = Path(os.environ.get("FAPI_ALLURE_CLI", ROOT / "node_modules" / "allure" / "cli.js"))
    node = os.environ.get("FAPI_ALLURE_NODE") or shutil.which("node")
    if not cli.exists() or not node:
        pytest.skip("the Allure 3 CLI is installed by `python3 noxfile.py -s selftest` (npm ci); run the tests there")
    return node, cli


def _browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip("no headless Chromium here: `python3 noxfile.py -s selftest` installs Debian's chromium as root")
    return found


def _run_suite(tmp: Path, *args: str) -> Path:
    results = tmp / "allure-results"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--alluredir", str(results),
           "--conformance-reports", str(tmp / "reports"), *args]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert any(results.glob("*-result.json")), f"no Allure results from {' '.join(cmd)}"
    return results


def _generate(results: Path, work: Path) -> Path:
    """Allure with the project's own allurerc.mjs, run in `work` so that output and history land there, and its
    single-file page made race-free as `nox -s report` does (conformance/tools/report_html.py)."""
    node, cli = _allure_cli()
    shutil.copy(ROOT / "allurerc.mjs", work / "allurerc.mjs")
    done = subprocess.run([node, str(cli), "generate", str(results), "--config", "allurerc.mjs"], cwd=work,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = work / "reports" / "allure-report"
    fixed = subprocess.run([sys.executable, str(ROOT / "conformance" / "tools" / "report_html.py"), str(report)],
                           capture_output=True, text=True, timeout=60)  # as `nox -s report` does after generating
    assert fixed.returncode == 0 and "awesome-single-file" in fixed.stdout, fixed.stdout + fixed.stderr
    return report


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _render(url: str, profile: Path, shown: Iterable[str]) -> str:
    """The page's visible text, as a real headless browser shows it once every string of `shown` is in it (or, if
    that never happens, after RENDER_WAIT seconds: the caller's assertion then names what is missing)."""
    wanted = list(shown)
    browser = subprocess.Popen([_browser(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with websockets.sync.client.connect(_page_socket(browser, profile), max_size=None, open_timeout=30) as page:
            _devtools(page, "Page.navigate", url=url)
            deadline = time.monotonic() + RENDER_WAIT
            while True:
                dom = _devtools(page, "Runtime.evaluate", expression="document.documentElement.outerHTML",
                                returnByValue=True)["result"].get("value", "")
                text = _visible_text(dom)
                if all(item in text for item in wanted) or time.monotonic() > deadline:
                    return text
                time.sleep(0.2)
    finally:
        browser.kill()
        browser.communicate(timeout=30)


def _page_socket(browser: subprocess.Popen[str], profile: Path) -> str:
    """The DevTools WebSocket of the browser's one page: Chromium writes its port to DevToolsActivePort."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not active.exists() or not active.read_text(encoding="utf-8").strip():
        assert browser.poll() is None, f"Chromium ended with {browser.returncode}: {browser.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "Chromium wrote no DevToolsActivePort in 60 s"
        time.sleep(0.1)
    port = active.read_text(encoding="utf-8").split()[0]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
        targets = json.load(answer)
    return next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")


def _devtools(page: websockets.sync.client.ClientConnection, method: str, **params: object) -> dict[str, Any]:
    """One DevTools command and its result (events the page sends meanwhile are skipped)."""
    ident = next(_DEVTOOLS_IDS)
    page.send(json.dumps({"id": ident, "method": method, "params": params}))
    while True:
        message = json.loads(page.recv(timeout=60))
        if message.get("id") == ident:
            assert "error" not in message, f"{method}: {message['error']}"
            result: dict[str, Any] = message["result"]
            return result


_DEVTOOLS_IDS = itertools.count(1)


@pytest.fixture(scope="session")
def suite_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A report of a real slice of the suite (general rules against the bundled mock): (report dir, rules.json)."""
    _allure_cli()
    tmp = tmp_path_factory.mktemp("suite")
    results = _run_suite(tmp, "conformance/test_general.py", "-k", "json")
    return _generate(results, tmp), tmp / "reports" / "rules.json"


@pytest.fixture
def served(suite_report: tuple[Path, Path]) -> Iterator[str]:
    """The multi-file report needs HTTP (browsers block fetch() from file://): serve it on loopback."""
    handler = functools.partial(_QuietHandler, directory=str(suite_report[0] / "awesome"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_single_file_report_names_every_catalogue_rule_in_a_real_browser(suite_report: tuple[Path, Path],
                                                                         tmp_path: Path) -> None:
    report, rules_json = suite_report
    single = report / "awesome-single-file" / "index.html"
    rule_ids = [rule["id"] for rule in json.loads(rules_json.read_text(encoding="utf-8"))["rules"]]
    text = _render(single.as_uri(), tmp_path / "profile", rule_ids)
    assert len(rule_ids) > 20
    missing = [rule_id for rule_id in rule_ids if rule_id not in text]
    assert not missing, f"rules not shown by the rendered report: {missing}"
    assert "fapi-conformance" in text and "spec openapi.yaml sha256:" in text.replace("=", " ")


def test_the_single_file_page_declares_its_data_before_the_app_and_the_multi_file_page_is_left_alone(
        suite_report: tuple[Path, Path]) -> None:
    """Without the declaration, about one render in five on a loaded machine showed an empty tree (CI failed so)."""
    report = suite_report[0]
    single = (report / "awesome-single-file" / "index.html").read_text(encoding="utf-8")
    declared = single.index(report_html.MARK) + len(report_html.MARK)
    assert single.index("<script") == declared and single.startswith(report_html.DECLARE, declared)
    assert declared < single.index('src="data:text/javascript') < single.index(report_html.INLINE_DATA)
    multi = (report / "awesome" / "index.html").read_text(encoding="utf-8")
    assert report_html.MARK not in multi and "allureReportData " not in multi
    assert report_html.fix_report(report) == []  # a second pass changes nothing


def test_the_report_page_fix_touches_only_pages_that_hold_their_data(tmp_path: Path) -> None:
    single = '<html><head><script>app()</script></head><body><script>allureReportData[name] = value;</script>'
    fixed = report_html.declare_data_first(single)
    assert fixed == single.replace("<script>app", report_html.MARK + report_html.DECLARE + "<script>app", 1)
    assert report_html.declare_data_first(fixed) is None
    assert report_html.declare_data_first("<script>window.allureReportDataReady = true;</script>") is None
    assert report_html.main([str(tmp_path / "absent")]) == 2


def test_multi_file_report_renders_the_areas_and_environment_over_http(served: str, tmp_path: Path) -> None:
    shown = ("fapi-conformance", "general", "schema", "target", "mock", "base_url")
    text = _render(served, tmp_path / "profile", shown)
    for expected in shown:
        assert expected in text, f"{expected!r} not shown by the rendered report"


def test_each_test_carries_rule_feature_story_severity_link_quote_and_redacted_exchanges(
        suite_report: tuple[Path, Path]) -> None:
    data = suite_report[0] / "awesome" / "data" / "test-results"
    results = [json.loads(p.read_text(encoding="utf-8")) for p in data.glob("*.json")]
    judged = [r for r in results if r.get("status") == "passed"]
    assert judged
    for result in judged:
        labels = {label["name"]: label["value"] for label in result["labels"]}
        assert {"rule", "feature", "story", "severity"} <= labels.keys(), result["name"]
        assert labels["feature"] == labels["rule"].split(".")[0]
        assert any(link["url"].startswith("https://") for link in result["links"])
        quote = catalogue.default()[labels["rule"]].quote
        shown = html.unescape(re.sub(r"<[^>]+>", "", result.get("descriptionHtml") or ""))
        assert quote[:60] in shown.replace("\n", " "), result["name"]
    attachments = list((suite_report[0] / "awesome" / "data" / "attachments").glob("*"))
    assert attachments
    texts = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in attachments)
    assert re.search(r"^GET http://127\.0\.0\.1:\d+/fapi/v1/", texts, re.M) and "HTTP 200" in texts
    assert "signature=<redacted>" in texts and not re.search(r"signature=[0-9a-f]{64}", texts)
    assert "ztdx-test-secret-0123456789" not in texts and "ztdx-test-key-0123456789" not in texts


def _exchange_attached(results: Path, test: dict[str, Any]) -> bool:
    """The test's body carries one attachment of its exchanges, each with its request, response and curl."""
    texts = [(results / a["source"]).read_text(encoding="utf-8") for a in test.get("attachments", [])]
    return any(re.search(r"^━━ \d+\. [A-Z]+ /\S* → \d{3}\n[A-Z]+ https?://", text, re.M)
               and re.search(r"^HTTP \d{3}$", text, re.M) and "\n# reproduce:\ncurl " in text for text in texts)


def test_exchanges_are_attached_to_the_test_body_not_to_a_fixture_teardown(tmp_path: Path) -> None:
    results = _run_suite(tmp_path, "conformance/test_errors.py", "-k", "503")
    tests = [json.loads(p.read_text(encoding="utf-8")) for p in results.glob("*-result.json")]
    sent = [t for t in tests if t["status"] == "passed" and "503" in t.get("fullName", "")]
    assert sent, [t.get("fullName") for t in tests]
    for test in sent:
        assert _exchange_attached(results, test), test.get("attachments")
    containers = [json.loads(p.read_text(encoding="utf-8")) for p in results.glob("*-container.json")]
    assert not [a for c in containers for fixture in c.get("afters", []) for a in fixture.get("attachments", [])]
    # a container per fixture that names its tests; none for a parametrize argument's pseudo-fixture, which names none
    assert containers and all(c.get("children") for c in containers), [c for c in containers if not c.get("children")]
    names = [{f["name"].split("::")[0] for f in c.get("befores", []) + c.get("afters", [])} for c in containers]
    assert {"_conformance_labels"} not in names  # the suite's own plumbing is no set-up a reader needs to see


def test_history_ids_are_distinct_for_parametrized_and_generated_tests(suite_report: tuple[Path, Path]) -> None:
    data = suite_report[0] / "awesome" / "data" / "test-results"
    results = [json.loads(p.read_text(encoding="utf-8")) for p in data.glob("*.json")]
    history_ids = [r["historyId"] for r in results]
    assert len(results) > 10 and len(set(history_ids)) == len(history_ids)


@pytest.fixture(scope="session")
def outcome_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Allure results of one test per outcome, through the suite's own plugin (against the bundled mock)."""
    _allure_cli()
    should = next(rule.id for rule in catalogue.default().values() if rule.level == "SHOULD")
    tmp = tmp_path_factory.mktemp("outcomes")
    (tmp / "test_outcomes.py").write_text(OUTCOMES.replace("{should}", should), encoding="utf-8")
    return _run_suite(tmp, "-p", "conformance.conftest", "--rootdir", str(tmp), str(tmp / "test_outcomes.py"))


def _categories(report: Path) -> dict[str, int]:
    # The widget of all environments: each result carries an `env` label (allurerc.mjs `environments`).
    tree = json.loads((report / "awesome" / "widgets" / "categories.json").read_text(encoding="utf-8"))
    return {node["name"]: node["statistic"]["total"] for node in tree["nodes"].values() if node["type"] == "category"}


def test_outcomes_land_in_their_own_categories(outcome_results: Path, tmp_path: Path) -> None:
    categories = _categories(_generate(outcome_results, tmp_path))
    assert categories.get("Contract violation") == 1, categories
    assert categories.get("Harness error") == 1, categories
    assert categories.get("Target unavailable") == 1, categories
    assert categories.get("Known deviation") == 1, categories
    assert categories.get("Rule not tested", 0) > 20, categories


def test_history_carries_over_between_report_runs(outcome_results: Path, tmp_path: Path) -> None:
    _generate(outcome_results, tmp_path)
    report = _generate(outcome_results, tmp_path)
    history = tmp_path / "reports" / "history" / "history.jsonl"
    assert len(history.read_text(encoding="utf-8").splitlines()) == 2
    results = [json.loads(p.read_text(encoding="utf-8"))
               for p in (report / "awesome" / "data" / "test-results").glob("*.json")]
    assert all(r.get("history") for r in results if r["name"].startswith("test_")), "second run shows no history"


def test_answers_judged_from_a_cache_or_another_client_are_attached_to_the_test_that_judged_them(
        tmp_path: Path) -> None:
    # The ms and Java-type tests judge the answer test_operation_answers_in_json made (a module-level cache); the
    # 429/418 test sends through its own client.
    general = "conformance/test_general.py::test_operation_"
    results = _run_suite(tmp_path, f"{general}answers_in_json[time]", f"{general}times_are_integer_milliseconds[time]",
                         f"{general}values_follow_java_types[time]",
                         "conformance/test_limits.py::test_over_the_weight_limit_429_then_418_with_retry_after")
    tests = [json.loads(p.read_text(encoding="utf-8")) for p in results.glob("*-result.json")]
    judged = [t for t in tests if t["status"] == "passed"]
    assert len(judged) == 4, [(t.get("fullName"), t["status"]) for t in tests]
    for test in judged:
        assert _exchange_attached(results, test), (test["fullName"], test.get("attachments"))
