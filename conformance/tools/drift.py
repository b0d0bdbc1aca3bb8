"""Drift of the bundled mock against a recording: `python -m conformance.tools.drift RECORDING` (HAR or --recorded DIR).

Each recorded request is sent again, re-signed, to a bundled mock started in-process on 127.0.0.1, in the
recorded order (ids the mock hands out replace the recorded ones in later requests), and the answers are compared
in what the contract fixes (conformance.tools.drift_shape). Differences listed in the allow-list
(`fixtures/drift/allow.yaml`; for `--recorded`, also `fixtures/drift/known-binance.yaml`) are reported but do not
fail; anything else exits 1. Exchanges of tests that injected faults or provoked rate limits are not comparable
(a fresh mock is not faulty) and are counted as skipped.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from conformance import FIXTURES, REPORTS
from conformance.data import contract
from conformance.data.exceptions import ConfigError, read_yaml
from conformance.data.exchange import Exchange
from conformance.harness import atomic, har
from conformance.harness.redact import MASK
from conformance.harness.request import sign
from conformance.harness.targets import MOCK_DEFAULT_KEY, MOCK_DEFAULT_SECRET
from conformance.tools.drift_recorded import Case, recorded_cases
from conformance.tools.drift_shape import TIME_UNIT, TYPES, Difference, differences

EXIT_SAME, EXIT_DRIFT, EXIT_USAGE = 0, 1, 4
ALLOW = FIXTURES / "drift" / "allow.yaml"
KNOWN_BINANCE = FIXTURES / "drift" / "known-binance.yaml"
# A test with one of these capabilities or fixtures changed the mock's behaviour (faults, limits driven to 429/418).
NOT_COMPARABLE = {"faults": "injected faults", "provoke-limits": "provoked rate limits",
                  "mock_control": "injected faults", "isolated_client": "provoked rate limits"}
TIGHT_WINDOW_MS = 1000  # a recvWindow this small is met or missed by latency alone: its answer is not contract
ID_FIELDS = ("orderId", "listenKey")
BAD_SIGNATURE = "0" * 64


@dataclass
class Drift:
    compared: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    found: Counter[Difference] = field(default_factory=Counter)
    allowed: dict[Difference, str] = field(default_factory=dict)
    example: dict[Difference, str] = field(default_factory=dict)  # the first request that showed it

    @property
    def unexpected(self) -> list[Difference]:
        return sorted((d for d in self.found if d not in self.allowed), key=lambda d: (d.operation, d.path))

    def as_dict(self, source: str) -> dict[str, Any]:
        ops: dict[str, Any] = {op: {"compared": n, "differences": [], "allowed": []} for op, n in self.compared.items()}
        for diff, count in sorted(self.found.items(), key=lambda kv: (kv[0].operation, kv[0].path)):
            item = {**diff.as_dict(), "count": count, "example": self.example.get(diff, "")}
            if diff in self.allowed:
                ops[diff.operation]["allowed"].append({**item, "reason": self.allowed[diff]})
            else:
                ops[diff.operation]["differences"].append(item)
        return {"recording": source, "identical": not self.unexpected, "compared": sum(self.compared.values()),
                "skipped": dict(self.skipped), "unexpected": len(self.unexpected), "operations": ops}


def allow_list(*paths: Path) -> list[dict[str, str]]:
    """Allow-list entries: operation, aspect, path (fnmatch patterns) and the reason the difference is legitimate."""
    entries: list[dict[str, str]] = []
    for path in paths:
        data = read_yaml(path, "drift allow-list") or {}
        for i, entry in enumerate(data.get("allow", []) if isinstance(data, dict) else []):
            if not isinstance(entry, dict) or not entry.get("reason"):
                raise ConfigError(f"{path.name}: entry #{i + 1} needs at least a reason")
            entries.append({k: str(entry.get(k, "*")) for k in ("operation", "aspect", "path", "reason")})
    return entries


def _allowed(diff: Difference, entries: list[dict[str, str]]) -> str | None:
    values = {"operation": diff.operation, "aspect": diff.aspect, "path": diff.path}
    for e in entries:
        # `[` is literal in a pattern (paths say `[]` for array elements): only * and ? are wildcards
        if all(fnmatch.fnmatchcase(v, e[k].replace("[", "[[]")) for k, v in values.items()):
            return e["reason"]
    return None


def har_cases(log: dict[str, Any], drift: Drift) -> list[Case]:
    spec = contract.default()
    tests = {t["nodeid"]: t for t in log.get("_tests", [])}
    cases: list[Case] = []
    for item in log["entries"]:
        ex = har.exchange(item, spec)
        test = tests.get(item.get("_test", ""), {})
        provoked = sorted({NOT_COMPARABLE[c] for c in [*test.get("capabilities", []), *test.get("fixtures", [])]
                           if c in NOT_COMPARABLE})
        if ex.operation is None:
            drift.skipped["no operation of the spec"] += 1
            continue
        if provoked:
            drift.skipped[" and ".join(provoked)] += 1
            continue
        query, form = har.params(item)
        window = dict(query).get("recvWindow") or dict(form).get("recvWindow") or ""
        if window.isdigit() and int(window) < TIGHT_WINDOW_MS:
            drift.skipped[f"recvWindow under {TIGHT_WINDOW_MS} ms: in or out of it by latency alone"] += 1
            continue
        stamp = dict(query).get("timestamp") or dict(form).get("timestamp") or ""
        offset = int(stamp) - har.started_ms(item) if stamp.isdigit() and har.started_ms(item) else 0
        cases.append(Case(ex, query, form, item.get("_signature", har.ABSENT), item.get("_apiKey", har.ABSENT),
                          offset, source=f"entry {len(cases)}: {item.get('_test', '')}"))
    return cases


def _mapped(name: str, value: str, ids: dict[str, str]) -> str:
    """A recorded id the mock gave another value: as the whole value, in an id list, or inside batch JSON."""
    if name in ID_FIELDS:
        return ids.get(value, value)
    if "orderid" in name.lower():  # orderIdList=[1,2]
        return re.sub(r"\d+", lambda m: ids.get(m[0], m[0]), value)
    return re.sub(r'("orderId"\s*:\s*"?)(\d+)', lambda m: m[1] + ids.get(m[2], m[2]), value)


def _request(case: Case, ids: dict[str, str]) -> tuple[str, str, dict[str, str], bytes]:
    def fresh(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        now = str(int(time.time() * 1000) + case.offset_ms)
        return [(k, now if k == "timestamp" and v.isdigit() else _mapped(k, v, ids)) for k, v in pairs
                if k != "signature"]

    req = case.recorded.request
    query, form = fresh(case.query), fresh(case.form)
    in_body = any(k == "signature" for k, _ in case.form)
    if case.signature != har.ABSENT:
        made = sign(MOCK_DEFAULT_SECRET, urlencode(query) + urlencode(form))
        pair = ("signature", made if case.signature == har.VALID else BAD_SIGNATURE)
        form, query = ([*form, pair], query) if in_body else (form, [*query, pair])
    headers = {k: v for k, v in req.headers.items() if k == "content-type"}
    if case.api_key != har.ABSENT:
        sent = req.headers.get("x-mbx-apikey", MASK)  # a wrong key is kept as it was sent; the real one is masked
        headers["X-MBX-APIKEY"] = MOCK_DEFAULT_KEY if case.api_key == har.VALID else sent if sent != MASK else "x"
    form_encoded = "x-www-form-urlencoded" in headers.get("content-type", "")
    body = urlencode(form).encode() if form_encoded else req.body
    path = urlsplit(req.url).path
    return req.method, path + ("?" + urlencode(query) if query else ""), headers, body


def _learn_ids(recorded: Any, mock: Any, ids: dict[str, str]) -> None:
    if isinstance(recorded, list) and isinstance(mock, list):
        for a, b in zip(recorded, mock, strict=False):
            _learn_ids(a, b, ids)
    elif isinstance(recorded, dict) and isinstance(mock, dict):
        for name in ID_FIELDS:
            if name in recorded and name in mock:
                ids[str(recorded[name])] = str(mock[name])


def run(cases: list[Case], drift: Drift, allow: list[dict[str, str]]) -> Drift:
    from conformance.mock import MockServer, scaled_limits  # the bundled mock, only when it is compared

    ids: dict[str, str] = {}
    with MockServer(host="127.0.0.1", port=0, limits=scaled_limits(100)) as server, \
            httpx.Client(base_url=server.url, timeout=10.0) as http:
        for case in cases:
            method, url, headers, body = _request(case, ids)
            answer = Exchange.from_httpx(http.request(method, url, headers=headers, content=body or None),
                                         case.recorded.operation)
            op = case.recorded.operation_id
            drift.compared[op] += 1
            rec = case.recorded
            if rec.response.is_json and answer.response.is_json:
                _learn_ids(rec.response.json(), answer.response.json(), ids)
            for diff in differences(op, rec, answer):
                if not case.reliable_types and diff.aspect in (TYPES, TIME_UNIT):
                    continue  # the recorder turned numbers into strings: only the field names are evidence
                drift.found[diff] += 1
                drift.example.setdefault(diff, f"{method} {url.split('?')[0]} ({case.source})")
                reason = _allowed(diff, allow)
                if reason:
                    drift.allowed[diff] = reason
    return drift


def table(result: Drift) -> str:
    rows = ["| operation | compared | aspect | path | recorded | mock | allowed |", "|---|---|---|---|---|---|---|"]
    by_op: dict[str, list[Difference]] = {}
    for diff in result.found:
        by_op.setdefault(diff.operation, []).append(diff)
    for op in sorted(result.compared):
        for d in sorted(by_op.get(op, []), key=lambda d: (d.aspect, d.path)):
            allowed = f"yes: {result.allowed[d]}" if d in result.allowed else "**no**"
            rows.append(f"| {op} | {result.compared[op]} | {d.aspect} | `{d.path}` | {d.recorded} | {d.mock} |"
                        f" {allowed} |")
    same = sorted(op for op in result.compared if op not in by_op)
    lines = ["\n".join(rows), f"no difference: {', '.join(same) or '-'}"]
    lines += [f"skipped: {n} exchange(s): {why}" for why, n in sorted(result.skipped.items())]
    lines.append(f"drift: {len(result.unexpected)} difference(s) outside the allow-list, {len(result.allowed)} allowed,"
                 f" over {sum(result.compared.values())} exchange(s) of {len(result.compared)} operation(s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.drift", description=__doc__.splitlines()[0])
    parser.add_argument("recording", nargs="?", default=str(REPORTS / har.HAR_NAME), help="a HAR file of a run")
    parser.add_argument("--recorded", metavar="DIR", help="a folder of recorded responses with a manifest.json")
    parser.add_argument("--allow", action="append", default=None, help=f"allow-list file (default {ALLOW.name})")
    parser.add_argument("--out", default=str(REPORTS / "drift.json"), help="drift.json (default reports/drift.json)")
    args = parser.parse_args(argv)
    drift = Drift()
    try:
        extra = [KNOWN_BINANCE] if args.recorded else []
        allow = allow_list(*([Path(p) for p in args.allow] if args.allow else [ALLOW, *extra]))
        source = args.recorded or args.recording
        cases = recorded_cases(Path(args.recorded), drift.skipped) if args.recorded else har_cases(
            har.load(Path(args.recording)), drift)
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        sys.stderr.write(f"drift: {exc if isinstance(exc, ConfigError) else f'not a suite recording ({exc!r})'}\n")
        return EXIT_USAGE
    run(cases, drift, allow)
    out = Path(args.out)
    atomic.write_text(out, json.dumps(drift.as_dict(str(source)), indent=2) + "\n")
    print(table(drift))
    print(f"written: {out}")
    return EXIT_DRIFT if drift.unexpected else EXIT_SAME


if __name__ == "__main__":
    sys.exit(main())
