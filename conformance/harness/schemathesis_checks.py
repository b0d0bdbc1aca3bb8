"""Thin adapter between schemathesis and the suite: cases become client calls, responses become Exchanges."""

from __future__ import annotations

import codecs
import contextlib
import copy
import datetime
import functools
import importlib
import json
import unittest
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis.core.control import SkipTest as SchemathesisSkip
from schemathesis.errors import FailureGroup
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

from conformance import checks
from conformance.checks import RuleViolation
from conformance.data import contract as contract_mod
from conformance.data.contract import Contract
from conformance.data.exceptions import read_yaml
from conformance.data.exchange import Exchange
from conformance.harness import case_cache, generation
from conformance.harness.acceptance import refusal_cause
from conformance.harness.client import Client

# Rule IDs the suite's own checks judge on every generated exchange.
GENERAL_RULES = ("general.json-responses", "general.ascending-time-order", "general.millisecond-timestamps",
                 "general.java-types")
INVALID_REQUEST = "http.4xx-invalid-request"
NEGATIVE_RULES = (INVALID_REQUEST, "errors.body-shape", "general.json-responses")
DROPPED_HEADERS = frozenset({"user-agent", "x-mbx-apikey", "content-type", "content-length", "cookie"})


def _builtin_rules(op_id: str) -> dict[Callable[..., Any], str]:
    """schemathesis' built-in checks and the catalogue rule each one judges here."""
    builtin = schemathesis.checks  # the registered checks, by name
    return {builtin.negative_data_rejection: INVALID_REQUEST,
            builtin.not_a_server_error: INVALID_REQUEST,
            builtin.status_code_conformance: f"schema.{op_id}",
            builtin.positive_data_acceptance: f"schema.{op_id}",
            builtin.content_type_conformance: "general.json-responses",
            builtin.response_schema_conformance: f"schema.{op_id}"}


def _pairs(value: Any) -> list[tuple[str, Any]]:
    items = value.items() if isinstance(value, dict) else []
    out: list[tuple[str, Any]] = []
    for key, item in items:
        for one in item if isinstance(item, list) else [item]:
            out.append((str(key), json.dumps(one) if isinstance(one, dict) else one))
    return out


def request_of(case: Any, *, negative: bool) -> dict[str, Any]:
    """The case as `Client.call` keyword arguments; the client signs it (fresh timestamp unless mutated)."""
    kwargs = case.as_transport_kwargs(base_url="http://127.0.0.1")
    query = [(k, v) for k, v in _pairs(kwargs.get("params") or {}) if k != "signature"]
    given = (kwargs.get("headers") or {}).items()
    headers: dict[str, str | None] = {k: str(v) for k, v in given if k.lower() not in DROPPED_HEADERS}
    call: dict[str, Any] = {"headers": headers}
    data = kwargs.get("data")
    form = [(k, v) for k, v in _pairs(data) if k != "signature"] if isinstance(data, dict) else []
    if data is not None and not isinstance(data, dict):
        call.update(content=data if isinstance(data, bytes) else str(data).encode(),
                    content_type=(kwargs.get("headers") or {}).get("Content-Type"))
    if "json" in kwargs:
        call.update(content=json.dumps(kwargs["json"]).encode(), content_type="application/json")
    # A negative case may have mutated the timestamp itself; a well-formed one is replaced so the server judges
    # the mutation, not the clock. One that left the timestamp or the signature out is sent unsigned: signing it
    # would put them back and undo the very mutation the case is about.
    operation = contract_mod.default().find(case.method, case.path)
    names = {k for k, _ in _pairs(kwargs.get("params") or {})} | ({k for k, _ in _pairs(data)} if isinstance(data, dict)
                                                                   else set())
    if negative and operation is not None and operation.signed and not {"timestamp", "signature"} <= names:
        call["signed"] = False
    keep = negative and any(k == "timestamp" and not str(v).isdigit() for k, v in query + form)
    if not keep:
        query = [(k, v) for k, v in query if k != "timestamp"]
        form = [(k, v) for k, v in form if k != "timestamp"]
    call.update(params=query, form=form or None)
    sent_headers = {k.lower() for k in (kwargs.get("headers") or {})}
    if negative and operation is not None and operation.signed and "x-mbx-apikey" not in sent_headers:
        headers["X-MBX-APIKEY"] = None  # the mutation is the missing key header: keep it missing
    return call


def send(client: Client, case: Any, *, negative: bool, allow_faults: bool = False) -> Exchange:
    """Send a generated case through the suite's client (signing, governor, redaction, recording)."""
    return client.call(case.method, case.formatted_path, allow_faults=allow_faults,
                       **request_of(case, negative=negative))


def to_schemathesis(exchange: Exchange) -> schemathesis.Response:
    """The schemathesis Response its checks judge, built from the exchange as schemathesis' requests transport (the
    one `st run` sends with) builds it: the request as sent, the answer's headers, body and timing.

    Not through an httpx.Response and `Response.from_any`: that path re-prepares the request with `requests` (a
    tenth of the schema module's CPU) and appends the URL's query to itself once more.
    """
    req, resp = exchange.request, exchange.response
    request = requests.PreparedRequest()
    request.method, request.url, request.body = req.method, req.url, req.body or None
    request.headers = CaseInsensitiveDict(req.headers)
    headers = {name.lower(): [value] for name, value in resp.headers.items()}
    if resp.body:
        headers.setdefault("content-length", [str(len(resp.body))])  # as httpx.Response(content=...) adds it
    charset = _charset(resp.headers.get("content-type", ""))
    converted = schemathesis.Response(status_code=resp.status, headers=headers, content=resp.body, request=request,
                                      elapsed=resp.elapsed_ms / 1000, verify=True, http_version="HTTP/1.1",
                                      message=httpx.codes.get_reason_phrase(resp.status),
                                      encoding=charset or "utf-8")
    if converted.encoding == "utf-8" and _same_parse(resp.body) and resp.is_json:
        # The body as the exchange parsed it (checks only read it): schemathesis would parse it again, the same way
        # (UTF-8 text to json.loads) wherever json.loads(bytes) reads UTF-8 too: no BOM, no UTF-16/32 zero bytes.
        converted._deserialized = resp.json()
    return converted


def _same_parse(body: bytes) -> bool:
    return not body.startswith(codecs.BOM_UTF8) and b"\x00" not in body[:4]


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                return codecs.lookup(value.strip('"')).name  # as httpx names it ("UTF-8" -> "utf-8")
            except LookupError:
                return None
    return None


def from_schemathesis(response: Any, case: Any, contract: Contract) -> Exchange:
    """An Exchange from a schemathesis response (for checks run inside a schemathesis run)."""
    req = response.request
    body = req.body.encode() if isinstance(req.body, str) else (req.body or b"")
    hdrs = {k.lower(): v[0] if isinstance(v, list) else v for k, v in response.headers.items()}
    request = httpx.Request(req.method, req.url, headers=dict(req.headers), content=body)
    resp = httpx.Response(response.status_code, headers=hdrs, content=response.content, request=request)
    resp.elapsed = datetime.timedelta(seconds=float(getattr(response, "elapsed", 0.0) or 0.0))
    return Exchange.from_httpx(resp, contract.find(case.method, case.path))


def _rejected_item_by_item(exchange: Exchange) -> bool:
    """Batch endpoints answer 200 with a {code, msg} item per rejected order (documented): that is a rejection."""
    if not exchange.operation_id.endswith("BatchOrders") or exchange.response.status != 200:
        return False
    body = exchange.response.json() if exchange.response.is_json else None
    return isinstance(body, list) and any(isinstance(i, dict) and {"code", "msg"} <= i.keys() for i in body)


def builtin_violations(case: Any, exchange: Exchange, *, negative: bool,
                       acceptance: bool = True) -> list[RuleViolation]:
    """schemathesis' own checks on the exchange, each failure attributed to the catalogue rule it judges.

    `acceptance=False` leaves out `positive_data_acceptance` (the case's values may be the suite's guess), and so
    does a refusal listed in fixtures/positive-refusals.yaml (state, clock, per-symbol bounds).
    """
    wanted = _builtin_rules(exchange.operation_id)
    if not negative or _rejected_item_by_item(exchange):
        wanted.pop(schemathesis.checks.negative_data_rejection)
    if negative or not acceptance or refusal_cause(exchange) is not None:
        wanted.pop(schemathesis.checks.positive_data_acceptance)
    found: list[RuleViolation] = []
    response = to_schemathesis(exchange)  # converted once, not once per check
    try:  # all at once first: nearly every exchange passes, and then one call is enough
        case.validate_response(response, checks=list(wanted))
        return found
    except FailureGroup:
        pass  # run them one by one to attribute each failure to the rule its check judges
    for fn, rule_id in wanted.items():
        try:
            case.validate_response(response, checks=[fn])
        except FailureGroup as group:
            for failure in group.exceptions:
                found.append(RuleViolation(rule_id, f"schemathesis check {fn.__name__} passes",
                                           f"{failure.title}: {str(failure.message).strip()[:400]}"))
    return found


def negative_violations(exchange: Exchange) -> list[RuleViolation]:
    """A rejected invalid request carries the {code, msg} Error shape; a 5XX is never the answer to one.

    Accepted invalid data (2XX) is left to schemathesis' `negative_data_rejection`, which knows when a mutation
    became valid again on the wire.
    """
    status = exchange.response.status
    found = checks.run(exchange, ["errors.body-shape"]) if status >= 400 else []
    if status >= 500:
        found.insert(0, RuleViolation(INVALID_REQUEST, "HTTP 4XX with a {code, msg} body",
                                      f"HTTP {status}: {exchange.response.text[:200]!r}"))
    return found


def judge(case: Any, exchange: Exchange, *, negative: bool, rule_ids: Iterable[str] = (),
          acceptance: bool = True) -> None:
    """Run every applicable check (ours and schemathesis') and raise the first violation, others appended."""
    schema_rule = [f"schema.{exchange.operation_id}"] if exchange.operation_id else []  # e.g. an unexpected method
    ours = checks.run(exchange, [*GENERAL_RULES, *schema_rule, *rule_ids])
    found = builtin_violations(case, exchange, negative=negative, acceptance=acceptance) + ours
    if negative:
        found = negative_violations(exchange) + found
    found = list({(v.rule_id, v.actual): v for v in found}.values())
    if found:
        first, rest = found[0], found[1:]
        detail = "Also: " + "; ".join(f"[{v.rule_id}] {v.actual}" for v in rest) if rest else ""
        raise RuleViolation(first.rule_id, first.expected, first.actual, detail=detail)


@schemathesis.check
def fapi_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """The suite's registered checks, for schemathesis runs outside pytest (load this module as a hook)."""
    from conformance.data import contract

    exchange = from_schemathesis(response, case, contract.default())
    if exchange.operation is None:
        return True
    checks.verify(exchange, [*GENERAL_RULES, f"schema.{exchange.operation_id}"])
    return None


PHASES = ("examples", "coverage", "fuzzing")
# Answers to a valid request that are not a refusal of its data: 2XX, and statuses other rules judge (401/403 auth
# and WAF, 404/405 an operation not implemented, 418/429 limits, 5XX not_a_server_error).
POSITIVE_EXPECTED = ("2XX", "401", "403", "404", "405", "418", "429", "5XX")
MODES = ("positive", "negative")


@functools.cache
def _spec_document(path: str, mtime_ns: int, size: int) -> Any:
    return read_yaml(Path(path), "contract spec")


@functools.cache
def load_schema(path: str, seed: int, mode: str, examples: int, symbols: tuple[str, ...] = ()) -> Any:
    """The spec as a schemathesis schema, generating in one mode, with the target's `symbols` where it lists them.

    5XX is never an acceptable rejection; a valid request is accepted unless refused for a reason another rule owns.
    """
    # No unexpected parameters: ZTDX documents no refusal of an unknown one (-1103 UNKNOWN_PARAM is Binance's), so a
    # target that ignores one keeps the contract, and a MUST verdict on it would not be earned.
    config = schemathesis.Config.from_dict({
        "seed": seed, "generation": {"mode": mode, "max-examples": examples, "allow-extra-parameters": False},
        "checks": {"negative_data_rejection": {"expected-statuses": ["4XX"]},
                   "positive_data_acceptance": {"expected-statuses": list(POSITIVE_EXPECTED)}}})
    # Parsed with libyaml (schemathesis' from_path parses with pure-Python YAML, once per mode); same document.
    try:  # parsed once per process and file version, a copy per mode (schemathesis may change its input)
        stat = Path(path).stat()
        parsed = _spec_document(path, stat.st_mtime_ns, stat.st_size)
    except OSError:
        parsed = read_yaml(Path(path), "contract spec")  # gone: the one-line error
    document = generation.constrain(parsed, symbols) if symbols else copy.deepcopy(parsed)
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.location = Path(path).absolute().as_uri()
    return schema


@contextlib.contextmanager
def _only_global_constants() -> Iterator[None]:
    """Generation that depends on the seed alone.

    Hypothesis (since 6.131) also draws constants it finds in the source of the "local" modules loaded at that
    moment, and stops collecting them after 100 ms: the same seed then generated other cases in a `-k` run than in a
    whole run, and on a loaded machine than on an idle one (a case that fails a rule came and went between runs).
    While the suite generates, the local constants are none; Hypothesis' own (global) constants stay. Internal to
    Hypothesis (`providers._get_local_constants`); where a version has no such function, nothing is changed.
    """
    providers = importlib.import_module("hypothesis.internal.conjecture.providers")
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if original is None or not hasattr(providers, "Constants"):
        yield
        return
    none = providers.Constants()
    setattr(providers, "_get_local_constants", lambda *args: none)  # noqa: B010 - an internal, looked up by name
    if cache is not None:
        cache.clear()  # allowed constants computed earlier in this process may hold local ones
    try:
        yield
    finally:
        setattr(providers, "_get_local_constants", original)  # noqa: B010
        if cache is not None:
            cache.clear()


def generate_cases(path: str, method: str, op_path: str, *, phase: str, mode: str, examples: int,
                   seed: int, symbols: tuple[str, ...] = ()) -> list[Any]:
    """Every case schemathesis generates for one operation in one phase and mode, deterministically seeded.

    Cases are collected, not sent, inside Hypothesis: sending happens afterwards so no failure is shrunk into
    hundreds of extra requests. This is the one use of schemathesis internals (`create_test` and its config, and the
    SkipTest it raises): its public API has no way to collect one phase's cases unsent (`schema.parametrize()` runs
    every phase inside one pytest test per operation, `as_strategy()` fuzzes only), and the module samples the cases
    to its weight budget and sends them concurrently. Generated once per spec, seed and code (`case_cache`, which
    also reads and updates the schema's internal record of the unexpected-method cases each path has had).
    """
    return _generated(path, method, op_path, phase=phase, mode=mode, examples=examples, seed=seed,
                      symbols=symbols)[0]


def _generated(path: str, method: str, op_path: str, *, phase: str, mode: str, examples: int, seed: int,
               symbols: tuple[str, ...]) -> tuple[list[Any], set[tuple[str, str]]]:
    """`generate_cases`, and what the cases added to the schema's record of unexpected methods seen."""
    schema = load_schema(path, seed, mode, examples, symbols)
    label = f"{method.upper()} {op_path}"
    operation = _operation(schema, label)
    seen = _seen(schema)
    before = frozenset(seen)
    cached_as = _cache_name(path, label, phase=phase, mode=mode, examples=examples, seed=seed, symbols=symbols,
                            seen=seen)
    cached = case_cache.load(cached_as, operation)
    if cached is not None:
        seen |= cached[1]
        return cached[0], seen - before
    cases: list[Any] = []
    settings = hypothesis.settings(max_examples=examples, deadline=None, database=None,
                                   suppress_health_check=list(hypothesis.HealthCheck),
                                   phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    config = HypothesisTestConfig(project=schema.config, modes=[HypothesisTestMode(phase)], settings=settings,
                                  seed=seed)

    def collect(case: Any) -> None:
        cases.append(case)

    try:
        with _only_global_constants():
            create_test(operation=operation, test_func=collect, config=config)()
    except (unittest.SkipTest, SchemathesisSkip):  # this phase has no case for the operation (e.g. no parameters)
        cases = []
    added = seen - before
    case_cache.store(cached_as, cases, added)
    return cases, added


def _cache_name(path: str, label: str, *, phase: str, mode: str, examples: int, seed: int,
                symbols: tuple[str, ...], seen: set[tuple[str, str]]) -> str:
    """The case cache's name for one item, given the run's record of unexpected methods seen so far."""
    return case_cache.key(path, label, phase=phase, mode=mode, examples=examples, seed=seed, symbols=symbols,
                          seen=frozenset(seen))


def _operation(schema: Any, label: str) -> Any:
    """The schema's operation `METHOD /path`, built alone (get_all_operations builds every operation of the spec
    first: ~50 where a run may use a few)."""
    operation = schema.find_operation_by_label(label)
    if operation is None:
        raise LookupError(f"{label} is not an operation of {schema.location}")
    return operation


def _seen(schema: Any) -> set[tuple[str, str]]:
    """schemathesis' record of the unexpected-method cases each path has had (internal; see case_cache.key)."""
    seen = getattr(schema, "coverage_unexpected_methods_seen", None)
    return seen if isinstance(seen, set) else set()


def cached(path: str, method: str, op_path: str, *, phase: str, mode: str, examples: int, seed: int,
           symbols: tuple[str, ...] = ()) -> bool:
    """Whether `generate_cases` would read these cases from the case cache if it ran now."""
    seen = _seen(load_schema(path, seed, mode, examples, symbols))
    return case_cache.holds(_cache_name(path, f"{method.upper()} {op_path}", phase=phase, mode=mode,
                                        examples=examples, seed=seed, symbols=symbols, seen=seen))


def generated_blob(path: str, method: str, op_path: str, *, phase: str, mode: str, examples: int, seed: int,
                   symbols: tuple[str, ...] = ()) -> bytes:
    """`generate_cases` as bytes (conformance/harness/generation_helper.py runs it in its own process): the cases
    without their operation, and what their generation added to the schema's record of unexpected methods seen."""
    return case_cache.dumps(*_generated(path, method, op_path, phase=phase, mode=mode, examples=examples, seed=seed,
                                        symbols=symbols))


def adopt(blob: bytes, path: str, method: str, op_path: str, *, mode: str, examples: int, seed: int,
          symbols: tuple[str, ...] = ()) -> list[Any]:
    """Cases another process generated (`generated_blob`), bound to this process's operation; the schema's record of
    unexpected methods seen grows as if they had been generated here, so a later `generate_cases` here (the helper
    gone) generates what it would have."""
    schema = load_schema(path, seed, mode, examples, symbols)
    cases, added = case_cache.loads(blob, _operation(schema, f"{method.upper()} {op_path}"))
    _seen(schema).update(added)
    return cases
