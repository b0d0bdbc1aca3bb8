"""The nightly's outputs end to end: a recorded mock run replays to the same verdicts; drift names broken fields."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SuiteRun
from mutants.mutations import MUTATIONS
from mutants.proxy import ProxyServer

from conformance import checks
from conformance.checks import Check, RuleViolation
from conformance.harness import har
from conformance.tools import drift, replay

SLICE = ["-k", "test_general or test_parameters or test_auth or test_errors", "--conformance-examples=2"]
SHARED_RECORDED = Path(__file__).resolve().parents[2] / "shared" / "recorded"
# recorded_run runs a slice of the suite: under xdist the module stays on one worker, so it runs once.
pytestmark = pytest.mark.xdist_group("nightly")


@pytest.fixture(scope="session")
def recorded_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    from conftest import run_suite_in

    return run_suite_in(tmp_path_factory.mktemp("recorded"), SLICE)


def _har(run: SuiteRun) -> Path:
    return run.junit.parent / har.HAR_NAME


@pytest.mark.slow
def test_a_run_writes_every_exchange_as_har_that_a_har_reader_reads(recorded_run: SuiteRun) -> None:
    haralyzer = pytest.importorskip("haralyzer")
    path = _har(recorded_run)
    assert recorded_run.code == 0, recorded_run.explain()
    text = path.read_text(encoding="utf-8")
    parser = haralyzer.HarParser(json.loads(text))
    entries = parser.har_data["entries"]
    assert len(entries) > 100 and parser.creator["name"] == "fapi-conformance"
    assert all(e["request"]["method"] and e["response"]["status"] for e in entries)
    judged = [e for e in entries if e.get("_verdicts")]
    assert judged and all(e["_testVerdict"] for e in judged) and {e["_operation"] for e in judged} > {"time", "ping"}
    assert "ztdx-test-key-0123456789" not in text and "ztdx-test-secret" not in text
    signatures = [q["value"] for e in entries for q in e["request"]["queryString"] if q["name"] == "signature"]
    assert signatures and set(signatures) == {"<redacted>"}


@pytest.mark.slow
def test_a_recorded_mock_run_replays_to_the_same_verdicts(recorded_run: SuiteRun, tmp_path: Path) -> None:
    result = replay.replay(har.load(_har(recorded_run)))
    live = recorded_run.verdicts()
    replayed = [r for r in result.rules if r["status"] == "replayed"]
    assert len(replayed) >= 15, replay.table(result)
    assert {r["id"]: r["replayed"] for r in replayed} == {r["id"]: live[r["id"]] for r in replayed}
    assert not result.differs, replay.table(result)
    # Rules whose verdict comes from a sequence or a fault are named, not silently "replayed".
    assert "errors.unknown-error-retry" in [r["id"] for r in result.rules if r["status"] == "not-replayable"]
    assert replay.main([str(_har(recorded_run)), "--out", str(tmp_path / "replay.json")]) == 0


def _always_fails(ex: Any) -> None:
    raise RuleViolation("general.json-responses", "never", f"{ex.request.method} {ex.request.path}")


@pytest.mark.slow
def test_replay_after_a_check_changed_names_the_exchanges_that_now_fail(recorded_run: SuiteRun,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    checks.load_all()
    monkeypatch.setattr(checks, "REGISTRY", checks.REGISTRY.with_entries(
        "general.json-responses", [Check("general.json-responses", _always_fails, lambda ex: True)]))
    result = replay.replay(har.load(_har(recorded_run)))
    assert result.differs
    changed = {r["id"]: (r["live"], r["replayed"]) for r in result.rules if r["live"] != r["replayed"]}
    assert changed == {"general.json-responses": ("passed", "failed")}, replay.table(result)
    assert result.changed and all("general.json-responses" in c["rules"] for c in result.changed)
    assert all(c["exchanges"][0].startswith("#") and "→" in c["exchanges"][0] for c in result.changed)


def test_replay_of_something_that_is_not_a_recording_is_one_line(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    bad, plain = tmp_path / "x.har", tmp_path / "browser.har"
    bad.write_text("{not json", encoding="utf-8")
    plain.write_text(json.dumps({"log": {"version": "1.2", "entries": []}}), encoding="utf-8")
    assert replay.main([str(bad)]) == replay.EXIT_USAGE
    assert replay.main([str(plain)]) == replay.EXIT_USAGE  # a HAR, but not the suite's: nothing to re-judge
    assert drift.main([str(tmp_path / "missing.har"), "--out", str(tmp_path / "d.json")]) == drift.EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "Traceback" not in "".join(err) and "not a recording of the suite" in err[1]


@pytest.mark.slow
def test_drift_of_the_mock_against_its_own_recording_finds_nothing(recorded_run: SuiteRun, tmp_path: Path) -> None:
    out = tmp_path / "drift.json"
    assert drift.main([str(_har(recorded_run)), "--out", str(out)]) == drift.EXIT_SAME
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["compared"] > 100 and report["unexpected"] == 0


@pytest.mark.slow
@pytest.mark.parametrize(("mutant", "expected"), [
    ("required-field-missing", {("openInterest", "fields", "$.symbol", "missing", "present"),
                                ("time", "fields", "$.serverTime", "missing", "present")}),
    ("timestamps-in-seconds", {("time", "time-unit", "$.serverTime", "s", "ms")}),
])
def test_drift_against_a_broken_variant_names_exactly_the_broken_fields(
        mutant: str, expected: set[tuple[str, ...]], fresh_mock: Any, run_suite: Callable[..., SuiteRun],
        tmp_path: Path) -> None:
    with ProxyServer(fresh_mock.url, MUTATIONS[mutant]) as proxy:
        run = run_suite([f"--conformance-target={proxy.url}", "-k", "test_general or test_schema and "
                         "(openInterest or time or klines)", "--conformance-examples=2"])
    out = tmp_path / "drift.json"
    assert drift.main([str(_har(run)), "--out", str(out)]) == drift.EXIT_DRIFT
    report = json.loads(out.read_text(encoding="utf-8"))
    found = {(d["operation"], d["aspect"], d["path"], d["recorded"], d["mock"])
             for op in report["operations"].values() for d in op["differences"]}
    assert found == expected


@pytest.mark.skipif(not SHARED_RECORDED.is_dir(), reason=f"no recorded responses at {SHARED_RECORDED}")
def test_drift_against_recorded_binance_responses_finds_only_known_differences(tmp_path: Path) -> None:
    out = tmp_path / "drift.json"
    assert drift.main(["--recorded", str(SHARED_RECORDED), "--out", str(out)]) == drift.EXIT_SAME
    known = json.loads(out.read_text(encoding="utf-8"))
    assert sum(len(op["allowed"]) for op in known["operations"].values()) >= 10
    # Without the known list the same differences fail the run: the list is what keeps it green.
    assert drift.main(["--recorded", str(SHARED_RECORDED), "--allow", str(drift.ALLOW),
                       "--out", str(out)]) == drift.EXIT_DRIFT


@pytest.mark.parametrize("entries", [[], [{"request": {"url": "http://127.0.0.1:1/fapi/v1/time"}, "note": "é\n\"x\""},
                                         {"response": {"content": {"text": "[1, 2]"}}}]])
def test_the_har_file_is_the_document_with_one_entry_a_line(entries: list[dict[str, Any]]) -> None:
    from conformance.plugins.recording import har_text

    document = {"log": {"version": "1.2", "creator": {"name": "fapi-conformance"}, "entries": entries},
                "_run": {"rules": {"general.json-responses": "passed"}}}
    text = har_text(document)
    assert json.loads(text) == document
    assert len(text.splitlines()) == (len(entries) + 2 if entries else 1)
