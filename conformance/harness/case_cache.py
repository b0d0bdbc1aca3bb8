"""Generated cases kept between runs: the same spec, seed and code generate the same cases, so generate them once.

Generation is seeded and deterministic (Hypothesis with schemathesis' seed): the cases of one operation, phase and
mode depend only on the spec, the target's symbols, the seed, the number of examples, the code that shapes them
(this package's generation modules) and the versions of schemathesis, Hypothesis and Python. All of those make the
key, so a changed spec or upgrade generates afresh. Generating is most of a run's CPU (about 13 s of a 40 s run on
the bundled mock); the self-tests run the suite dozens of times with the same cases.

The folder is `$FAPI_CONFORMANCE_CASE_CACHE` or `~/.cache/fapi-conformance/cases` (`$XDG_CACHE_HOME` honoured);
`FAPI_CONFORMANCE_CASE_CACHE=off` turns it off. A folder that cannot be written, or a file that cannot be read, only
means generating again: the cache never decides a verdict. Files are pickles of the cases without their operation
(reattached on load) and are read only from that folder, like Python's own bytecode cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import pickle
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.core import NOT_SET

from conformance.harness import atomic

CACHE_VAR = "FAPI_CONFORMANCE_CASE_CACHE"
FORMAT = 2
# The modules whose code shapes the generated cases (the schema config, the spec's symbol constraints).
SHAPING = ("schemathesis_checks.py", "generation.py")


def folder() -> Path | None:
    """Where cases are kept, or None when caching is off."""
    given = os.environ.get(CACHE_VAR, "")
    if given.lower() == "off":
        return None
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fapi-conformance" / "cases"


@functools.cache
def _fingerprint(spec_path: str) -> str:
    """The spec's bytes, the shaping code and the generating libraries' versions, as one digest."""
    digest = hashlib.sha256()
    digest.update(Path(spec_path).read_bytes())
    here = Path(__file__).parent
    for name in SHAPING:
        digest.update((here / name).read_bytes())
    versions = [metadata.version(dist) for dist in ("schemathesis", "hypothesis", "hypothesis-jsonschema")
                if _installed(dist)]
    digest.update(json.dumps([FORMAT, versions, sys.version_info[:2], platform.python_implementation()]).encode())
    return digest.hexdigest()


def _installed(dist: str) -> bool:
    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def key(spec_path: str, label: str, *, phase: str, mode: str, examples: int, seed: int,
        symbols: tuple[str, ...], seen: frozenset[tuple[str, str]] = frozenset()) -> str:
    """The file name of one operation's cases in one phase and mode.

    `seen` is the run's history that shapes them: the (path, method) pairs whose unexpected-method case an earlier
    operation on the same path already had (schemathesis sends each such case once per path, to the first operation
    generated; the pairs of this operation's path are enough).
    """
    path = label.split(" ", 1)[-1]
    history = sorted(list(pair) for pair in seen if pair[0] == path)
    parts = [_fingerprint(spec_path), label, phase, mode, examples, seed, list(symbols), history]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:40]


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> str | None:
        return "NOT_SET" if obj is NOT_SET else None  # schemathesis compares with `is`: keep the singleton


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        if pid == "NOT_SET":
            return NOT_SET
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def _state(case: Any) -> dict[str, Any]:
    return {name: getattr(case, name) for name in type(case).__slots__ if name != "operation"}


def dumps(cases: list[Any], added: set[tuple[str, str]]) -> bytes:
    """Cases without their operation, and the pairs their generation marked seen, as bytes (a cache file's, or what
    the generation helper process hands back: conformance/harness/generation_helper.py)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(([_state(c) for c in cases], sorted(added)))
    return buffer.getvalue()


def loads(blob: bytes, operation: Any) -> tuple[list[Any], set[tuple[str, str]]]:
    """What `dumps` made, the cases bound to `operation` (of this process's schema)."""
    states, added = _Unpickler(io.BytesIO(blob)).load()
    cases = []
    for state in states:
        case = object.__new__(schemathesis.Case)
        for attr, value in state.items():
            object.__setattr__(case, attr, value)  # Case.__setattr__ tracks edits: this is no edit
        object.__setattr__(case, "operation", operation)
        cases.append(case)
    return cases, {tuple(pair) for pair in added}


def holds(name: str) -> bool:
    """Whether the cache has a file for `name` (it may still fail to load: then the cases are generated again)."""
    where = folder()
    return where is not None and (where / f"{name}.pickle").is_file()


def load(name: str, operation: Any) -> tuple[list[Any], set[tuple[str, str]]] | None:
    """The cached cases bound to `operation`, and the pairs their generation marked seen; None when there are none
    (or they cannot be read)."""
    where = folder()
    if where is None:
        return None
    try:
        return loads((where / f"{name}.pickle").read_bytes(), operation)
    except Exception:  # absent, truncated, or from another layout: generate again
        return None


def store(name: str, cases: list[Any], added: set[tuple[str, str]]) -> None:
    """Keep the cases (atomically: a concurrent run reads the old file or the new one, never half of one)."""
    where = folder()
    if where is None:
        return
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
        atomic.write_bytes(where / f"{name}.pickle", dumps(cases, added))
