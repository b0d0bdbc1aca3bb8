"""The generated-case cache (conformance/harness/case_cache.py): a hit gives the cases generation gives, keyed by all
that shapes them; a broken or unwritable cache only means generating again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from schemathesis.core import NOT_SET

from conformance.data import contract
from conformance.data.exchange import Exchange, Request, Response
from conformance.harness import case_cache
from conformance.harness import schemathesis_checks as adapter

FIELDS = ("method", "path", "path_parameters", "headers", "cookies", "query", "body", "media_type")
# One operation per kind of case: a public GET, a signed POST with a form body (trading), a signed DELETE.
SAMPLES = [("klines", "fuzzing", "negative"), ("newOrder", "coverage", "positive"), ("newOrder", "fuzzing", "negative"),
           ("cancelOrder", "coverage", "negative"), ("depth", "examples", "positive")]


def _content(case: Any) -> tuple[Any, ...]:
    meta = case._meta
    return (*[getattr(case, f) for f in FIELDS], meta.phase.name if meta else None,
            repr(sorted((str(k), repr(v)) for k, v in (meta.components or {}).items())) if meta else None,
            _without_case_id(adapter.request_of(case, negative=True)))


def _without_case_id(call: dict[str, Any]) -> dict[str, Any]:
    """schemathesis names each case with a random ID (`Case.id`, sent as a header); it is no part of the case."""
    headers = {k: v for k, v in call["headers"].items() if k.lower() != "x-schemathesis-testcaseid"}
    return {**call, "headers": headers}


def _generate(op_id: str, phase: str, mode: str, *, fresh_run: bool = True) -> list[Any]:
    if fresh_run:  # a new run's schema: no operation generated before this one
        adapter.load_schema.cache_clear()
    spec = contract.default()
    op = spec.operations[op_id]
    return adapter.generate_cases(str(spec.path), op.method, op.path, phase=phase, mode=mode, examples=5, seed=3,
                                  symbols=("BTCUSDT", "ETHUSDT"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cases"
    monkeypatch.setenv(case_cache.CACHE_VAR, str(folder))
    return folder


@pytest.mark.parametrize(("op_id", "phase", "mode"), SAMPLES)
def test_a_cache_hit_gives_the_cases_generation_gives(op_id: str, phase: str, mode: str, cache: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(case_cache.CACHE_VAR, "off")
    fresh = _generate(op_id, phase, mode)
    monkeypatch.setenv(case_cache.CACHE_VAR, str(cache))
    stored = _generate(op_id, phase, mode)  # generated, then kept
    assert len(list(cache.glob("*.pickle"))) == 1
    hit = _generate(op_id, phase, mode)  # read back
    assert fresh and [_content(c) for c in hit] == [_content(c) for c in fresh] == [_content(c) for c in stored]
    spec = contract.default()
    schema = adapter.load_schema(str(spec.path), 3, mode, 5, ("BTCUSDT", "ETHUSDT"))  # the one the hit was read into
    op = spec.operations[op_id]
    current = next(r.ok() for r in schema.get_all_operations() if r.ok().label == f"{op.method} {op.path}")
    assert all(c.operation is current for c in hit)  # bound to this run's operation, not a copy
    assert [c.body is NOT_SET for c in hit] == [c.body is NOT_SET for c in fresh]  # schemathesis tests it with `is`


def test_a_cached_case_is_judged_like_a_generated_one(cache: Path) -> None:
    op = contract.default().operations["time"]
    _generate("time", "fuzzing", "positive")
    (case,) = _generate("time", "fuzzing", "positive")[:1]
    bad = Exchange(Request("GET", f"http://127.0.0.1:1{op.path}"),
                   Response(200, {"content-type": "application/json"}, b'{"serverTime": "soon"}'), op)
    good = Exchange(bad.request, Response(200, {"content-type": "application/json"}, b'{"serverTime": 1}'), op)
    assert {v.rule_id for v in adapter.builtin_violations(case, bad, negative=False)} == {"schema.time"}
    assert adapter.builtin_violations(case, good, negative=False) == []


def test_the_key_names_everything_that_shapes_the_cases(tmp_path: Path) -> None:
    spec = Path(contract.default().path)
    copy = tmp_path / spec.name
    shutil.copy(spec, copy)
    base = {"phase": "fuzzing", "mode": "positive", "examples": 5, "seed": 3, "symbols": ("BTCUSDT",)}
    first = case_cache.key(str(copy), "GET /fapi/v1/klines", **base)
    assert case_cache.key(str(copy), "GET /fapi/v1/klines", **base) == first
    changed = [case_cache.key(str(copy), "GET /fapi/v1/depth", **base)]
    for name, value in (("phase", "coverage"), ("mode", "negative"), ("examples", 6), ("seed", 4),
                        ("symbols", ("ETHUSDT",))):
        changed.append(case_cache.key(str(copy), "GET /fapi/v1/klines", **{**base, name: value}))
    other = tmp_path / "other" / spec.name
    other.parent.mkdir()
    other.write_bytes(copy.read_bytes() + b"\n# edited\n")
    changed.append(case_cache.key(str(other), "GET /fapi/v1/klines", **base))
    assert first not in changed and len(set(changed)) == len(changed)


def test_a_broken_file_or_an_unwritable_folder_means_generating_again(cache: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [_content(c) for c in _generate("klines", "fuzzing", "positive")]
    (kept,) = cache.glob("*.pickle")
    kept.write_bytes(kept.read_bytes()[:50])  # truncated, e.g. by a killed run
    assert [_content(c) for c in _generate("klines", "fuzzing", "positive")] == expected
    blocker = cache.parent / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(case_cache.CACHE_VAR, str(blocker / "cases"))
    assert [_content(c) for c in _generate("klines", "fuzzing", "positive")] == expected
    assert not list(blocker.parent.glob("*.pickle"))


def test_off_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(case_cache.CACHE_VAR, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert case_cache.folder() is None
    assert _generate("depth", "fuzzing", "positive")
    assert not list(tmp_path.rglob("*.pickle"))
    monkeypatch.delenv(case_cache.CACHE_VAR)
    assert case_cache.folder() == tmp_path / "fapi-conformance" / "cases"


def test_a_hit_keeps_the_run_s_history_of_unexpected_methods(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis sends a path's unexpected-method cases (TRACE /fapi/v1/order, ...) once, to the first operation
    of that path generated in the run: the later ones of the path must still not get them from the cache."""
    items = [("cancelOrder", "coverage", "negative"), ("newOrder", "coverage", "negative"),
             ("queryOrder", "coverage", "negative")]

    def run() -> list[list[Any]]:
        adapter.load_schema.cache_clear()
        return [[_content(c) for c in _generate(*item, fresh_run=False)] for item in items]

    monkeypatch.setenv(case_cache.CACHE_VAR, "off")
    expected = run()
    assert any(c[0] == "TRACE" for c in expected[0]) and not any(c[0] == "TRACE" for c in expected[1])
    monkeypatch.setenv(case_cache.CACHE_VAR, str(cache))
    assert run() == expected  # generated and kept
    assert run() == expected  # read back
    adapter.load_schema.cache_clear()
    alone = [_content(c) for c in _generate("newOrder", "coverage", "negative", fresh_run=False)]
    assert any(c[0] == "TRACE" for c in alone)  # first of its path in this run: it has them


GENERATE = """
import importlib, pkgutil, sys
import conformance
if sys.argv[1] == "everything":  # every module of the suite loaded first, as in a whole run
    for info in pkgutil.walk_packages(conformance.__path__, "conformance."):
        if ".test_" not in info.name and not info.name.endswith("__main__"):
            importlib.import_module(info.name)
from conformance.data import contract
from conformance.harness import schemathesis_checks as adapter
spec = contract.default()
for op_id in ("cancelAllOpenOrders", "klines", "newOrder"):
    op = spec.operations[op_id]
    for case in adapter.generate_cases(str(spec.path), op.method, op.path, phase="fuzzing", mode="negative",
                                       examples=10, seed=20261125, symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT")):
        print(repr([case.query, case.body if isinstance(case.body, (dict, list, str)) else None]))
"""


def test_what_a_seed_generates_does_not_depend_on_the_modules_loaded() -> None:
    """Hypothesis draws constants from the source of the modules loaded at that moment (within a 100 ms budget); the
    suite turns that off while it generates, so a `-k` run, a whole run and a loaded machine generate the same."""
    import subprocess
    import sys

    env = {**os.environ, case_cache.CACHE_VAR: "off"}
    runs = [subprocess.run([sys.executable, "-c", GENERATE, which], capture_output=True, text=True, env=env,
                           timeout=300, check=True).stdout for which in ("alone", "everything")]
    assert runs[0].count("\n") > 20 and runs[0] == runs[1]
