"""Allure run metadata: environment, executor, categories, and a result for every rule no test exercised."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
import uuid
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from conformance.data.catalogue import Rule
from conformance.data.exchange import Exchange
from conformance.harness import redact
from conformance.harness.session import RunState
from conformance.plugins.core import JUDGEMENT, STATE
from conformance.plugins.fixtures import EXCHANGES

# Autouse plumbing of the suite's plugins (labels, the test's exchanges): no set-up a reader of a test needs to see,
# and a container file per test each.
INTERNAL_FIXTURES = frozenset({"_conformance_labels"})
MAX_ATTACHMENTS = 12  # the last exchanges of a test, attached to its report (as one attachment)
PACKAGES = ("fapi-conformance", "pytest", "schemathesis", "httpx", "allure-pytest", "jsonschema", "starlette")
_SEVERITY = {"MUST": "critical", "SHOULD": "normal"}
# Allure 2 format (read by Allure 3 too); allurerc.mjs holds the same buckets for the Awesome report.
CATEGORIES = [
    {"name": "Contract violation", "matchedStatuses": ["failed"]},
    {"name": "Harness error", "matchedStatuses": ["broken"]},
    {"name": "Rule not tested", "matchedStatuses": ["skipped"], "messageRegex": "(?s).*not tested:.*"},
    {"name": "Target unavailable", "matchedStatuses": ["skipped"],
     "messageRegex": "(?s).*(TargetUnavailable|unavailable:).*"},
    {"name": "Known deviation", "matchedStatuses": ["skipped"],
     "messageRegex": "(?s).*(known deviation:|non-strict:).*"},
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment(state: RunState, config: pytest.Config) -> dict[str, str]:
    """What a reader needs to reproduce the run; the first entries are the ones the report shows unfolded."""
    target = state.target
    env = {
        "target": target.name if target else state.target_option,
        "base_url": target.base_url if target else "-",
        "spec": f"{state.contract.path.name} sha256:{sha256(state.contract.path)}",
        "catalogue": f"{state.catalogue.path.name} sha256:{sha256(state.catalogue.path)} "
                     f"({len(state.catalogue)} rules)",
        "target.kind": target.kind if target else "unavailable",
        "capabilities": ",".join(sorted(target.capabilities)) if target else "-",
        "profile": state.profile,
        "strict": str(state.strict).lower(),
        "seed": str(config.getoption("conformance_seed")),
        "python": platform.python_version(),
    }
    env.update({f"version.{name}": _version(name) for name in PACKAGES})
    return env


def executor() -> dict[str, Any]:
    """GitHub Actions when the run is in CI, otherwise the local machine."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        run_url = (f"{os.environ.get('GITHUB_SERVER_URL', '')}/{os.environ.get('GITHUB_REPOSITORY', '')}"
                   f"/actions/runs/{os.environ.get('GITHUB_RUN_ID', '')}")
        return {"name": "GitHub Actions", "type": "github", "buildName": os.environ.get("GITHUB_WORKFLOW", "ci"),
                "buildOrder": os.environ.get("GITHUB_RUN_NUMBER", ""), "buildUrl": run_url, "reportUrl": run_url}
    ci = "CI" if os.environ.get("CI") else "local"
    return {"name": f"{ci} ({platform.node() or 'machine'})", "type": "local", "buildName": "nox -s conformance"}


def _not_tested_result(rule: Rule, target: str, now_ms: int) -> dict[str, Any]:
    """A skipped Allure result, so the report names the rule and says plainly that nothing exercised it."""
    ident = hashlib.md5(f"fapi-conformance/rule/{rule.id}/{target}".encode()).hexdigest()
    return {
        "uuid": str(uuid.uuid4()), "historyId": ident, "testCaseId": ident,
        "fullName": f"fapi-conformance.rules#{rule.id}", "name": f"{rule.id}: {rule.title}",
        "status": "skipped", "stage": "finished", "start": now_ms, "stop": now_ms,
        "statusDetails": {"message": f"not tested: no test exercised {rule.id} on target {target} in this run"},
        "description": _description(rule),
        "labels": [{"name": "feature", "value": rule.area}, {"name": "story", "value": rule.title},
                   {"name": "rule", "value": rule.id}, {"name": "severity", "value": _SEVERITY[rule.level]},
                   {"name": "parentSuite", "value": "rules not tested"}, {"name": "suite", "value": rule.area}],
        "links": [{"type": "link", "url": rule.link, "name": f"{rule.id}: {rule.section}"}],
        "parameters": [{"name": "rule", "value": rule.id}, {"name": "target", "value": target}],
    }


def write(results_dir: Path, state: RunState, config: pytest.Config) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    env = environment(state, config)
    lines = [f"{key}={value}" for key, value in env.items()]
    (results_dir / "environment.properties").write_text(redact.redact("\n".join(lines)) + "\n", encoding="utf-8")
    (results_dir / "executor.json").write_text(json.dumps(executor(), indent=2), encoding="utf-8")
    (results_dir / "categories.json").write_text(json.dumps(CATEGORIES, indent=2), encoding="utf-8")
    if state.results is None:
        return
    now_ms = int(time.time() * 1000)
    for rule in state.catalogue.values():
        if state.results.verdict(rule.id) == "not-tested":
            result = _not_tested_result(rule, env["target"], now_ms)
            (results_dir / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")


@pytest.hookimpl(specname="pytest_configure", trylast=True)
def pytest_conformance_reporting_configure(config: pytest.Config) -> None:
    """After allure-pytest's configure, which registered its file logger: write no container that holds no test."""
    if getattr(config.option, "allure_report_dir", None):
        _lean_containers(config)


def _lean_containers(config: pytest.Config) -> None:
    """allure-pytest writes a container file for every fixture it sees set up, the pseudo-fixtures of a test's
    parametrize arguments too: they name no test (`children` is empty), Allure shows nothing of them, and creating
    them was a fifth of the Allure files of a run. The file logger is replaced by one that leaves those out, and put
    back before allure-pytest's own clean-up unregisters it (clean-ups run last-added first)."""
    import allure_commons
    from allure_commons.logger import AllureFileLogger

    manager = allure_commons.plugin_manager

    class LeanFileLogger(AllureFileLogger):
        def __init__(self, report_dir: Path) -> None:  # the folder is the original's (cleaned already, if asked)
            self._report_dir = report_dir

        @allure_commons.hookimpl
        def report_container(self, container: Any) -> None:
            fixtures = [f.name.split("::")[0] for f in (*(container.befores or ()), *(container.afters or ()))]
            internal = fixtures and all(name in INTERNAL_FIXTURES for name in fixtures)
            if container.children and not internal:
                super().report_container(container)

    for original in [p for p in manager.get_plugins() if type(p) is AllureFileLogger]:
        name = manager.get_name(original)
        lean = LeanFileLogger(original._report_dir)
        manager.unregister(original)
        manager.register(lean)

        def restore(lean: Any = lean, original: Any = original, name: str | None = name) -> None:
            manager.unregister(lean)
            manager.register(original, name)

        config.add_cleanup(restore)


@pytest.hookimpl(specname="pytest_runtest_call", hookwrapper=True, trylast=True)
def pytest_conformance_reporting_call(item: pytest.Item) -> Iterator[None]:
    """Inside allure-pytest's own call wrapper, so both land on the test body (not on a fixture's teardown): the
    rule's quote as the description (allure-pytest sets the docstring at the end of setup), and the last
    request/response exchanges of the test, secrets redacted — attached whether the test passed or failed."""
    state = item.config.stash.get(STATE, None)
    rule_ids = [rid for mark in item.iter_markers("rule") for rid in mark.args]
    allure_on = state is not None and bool(getattr(item.config.option, "allure_report_dir", None))
    if state is not None and allure_on and rule_ids:
        import allure

        allure.dynamic.description("\n\n".join(_description(state.catalogue[rid]) for rid in rule_ids))
    yield
    if not allure_on:
        return
    import allure

    sent = item.stash.get(EXCHANGES, None)
    seen: list[Exchange] = list(sent) if sent is not None else []
    judgement = item.stash.get(JUDGEMENT, None)  # answers judged but sent earlier: cached, or by another client
    seen += [ex for ex in (judgement.exchanges if judgement else []) if not any(ex is s for s in seen)]
    shown = seen[-MAX_ATTACHMENTS:]
    if shown:
        allure.attach(exchanges_text(shown, len(seen)), name=exchanges_name(shown),
                      attachment_type=allure.attachment_type.TEXT)


def _title(ex: Exchange) -> str:
    return f"{ex.request.method} {ex.request.path} → {ex.response.status}"


def exchanges_name(shown: list[Exchange]) -> str:
    """The attachment's name: the exchange, or how many and the distinct requests (in their order)."""
    if len(shown) == 1:
        return _title(shown[0])
    requests = list(dict.fromkeys(f"{ex.request.method} {ex.request.path}" for ex in shown))
    named = "; ".join(requests[:3]) + (f"; … ({len(requests) - 3} more)" if len(requests) > 3 else "")
    return f"{len(shown)} exchanges: {named}"


def exchanges_text(shown: list[Exchange], total: int) -> str:
    """The test's last exchanges as one attachment: for each the request, the response and a one-line curl, secrets
    redacted. One file per test, not three per exchange: creating a file is most of what an attachment costs (about
    1 ms each while a run sends; the schema module's run made 1,347 of them, now 65)."""
    first = total - len(shown) + 1
    head = f"the last {len(shown)} of the test's {total} exchanges\n\n" if total > len(shown) else ""
    blocks = [f"━━ {first + index}. {_title(ex)}\n{redact.request_text(ex)}\n\n{redact.response_text(ex)}\n\n"
              f"# reproduce:\n{redact.curl(ex)}" for index, ex in enumerate(shown)]
    return head + "\n\n".join(blocks)


def _description(rule: Rule) -> str:
    return f"**[{rule.id}]** ({rule.level}) {rule.title}\n\n> {rule.quote}"


@pytest.hookimpl(specname="pytest_sessionfinish", wrapper=True)
def pytest_conformance_reporting_sessionfinish(session: pytest.Session) -> Iterator[None]:
    """After every plain sessionfinish hook (the run's status and rules.json are final), before plugins/allure3.py
    labels every result; only when Allure output is asked for (--alluredir), and never for a collect-only run."""
    result = yield
    config = session.config
    results_dir = getattr(config.option, "allure_report_dir", None)
    state = config.stash.get(STATE, None)
    if results_dir and state is not None and not state.worker and not config.option.collectonly:
        write(Path(results_dir), state, config)
    return result
