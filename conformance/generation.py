"""What makes a generated positive request valid on this target: its listed symbols, ordered windows, the 2XX share."""

from __future__ import annotations

import copy
import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import FIXTURES
from conformance.client import Client
from conformance.contract import Contract, Operation
from conformance.errors import TargetUnavailable, read_yaml
from conformance.exchange import Exchange
from conformance.redact import redact

# A request schema marked with this extension takes its values from the target (fixtures/openapi.yaml).
VALUES_FROM = "x-values-from"
SYMBOLS_SOURCE = "exchangeInfo.symbols[].symbol"
WINDOW = ("startTime", "endTime")
ACCEPTANCE_GOAL = 0.8  # share of positive cases a target answers with 2XX that the report calls "met"
REFUSALS = FIXTURES / "positive-refusals.yaml"


@dataclass(frozen=True)
class Symbols:
    """The symbols the target lists in exchangeInfo (with each one's integer fields), or why they are unknown."""

    names: tuple[str, ...]
    reason: str = ""
    fields: dict[str, dict[str, int]] = field(default_factory=dict)  # symbol -> e.g. {"maxLeverage": 100}


def listed_symbols(body: Any) -> tuple[str, ...]:
    """`symbols[].symbol` of an exchangeInfo body, trading ones only where a status is given (in the target's order)."""
    items = body.get("symbols") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return ()
    named = [s for s in items if isinstance(s, dict) and isinstance(s.get("symbol"), str) and s["symbol"]]
    trading = [s["symbol"] for s in named if s.get("status", "TRADING") == "TRADING"]
    return tuple(dict.fromkeys(trading or [s["symbol"] for s in named]))


def spec_symbols(spec: Contract) -> tuple[str, ...]:
    """The symbols the spec's own examples use (what unconstrained examples send)."""
    schema = spec.document.get("components", {}).get("parameters", {}).get("symbol", {}).get("schema", {})
    return tuple(str(s) for s in schema.get("examples", []))


def symbol_fields(body: Any) -> dict[str, dict[str, int]]:
    """symbol -> its integer fields (maxLeverage, precisions) in an exchangeInfo body."""
    items = body.get("symbols") if isinstance(body, dict) else None
    out: dict[str, dict[str, int]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("symbol"), str):
            out[item["symbol"]] = {k: v for k, v in item.items() if isinstance(v, int) and not isinstance(v, bool)}
    return out


def read_symbols(client: Client) -> Symbols:
    """The target's symbols from GET /fapi/v1/exchangeInfo; an unusable answer gives no symbols and the reason."""
    try:
        exchange = client.call("GET", "/fapi/v1/exchangeInfo")
    except TargetUnavailable as exc:
        return Symbols((), f"exchangeInfo unavailable: {exc.reason}")
    body = exchange.response.json() if exchange.response.is_json else None
    names = listed_symbols(body) if exchange.response.status == 200 else ()
    if names:
        return Symbols(names, fields=symbol_fields(body))
    return Symbols((), f"exchangeInfo lists no symbol (HTTP {exchange.response.status}: "
                       f"{exchange.response.text[:120]!r})")


def constrain(document: dict[str, Any], symbols: tuple[str, ...]) -> dict[str, Any]:
    """A copy of the spec whose marked request schemas enumerate the target's symbols (unchanged without symbols)."""
    if not symbols:
        return document
    out = copy.deepcopy(document)
    stack: list[Any] = [out]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get(VALUES_FROM) == SYMBOLS_SOURCE:
                node["enum"] = list(symbols)
                node["examples"] = list(symbols[:3])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def takes_target_values(op: Operation) -> bool:
    """Whether a request of `op` carries a value marked `x-values-from` (a symbol), through every $ref."""
    stack: list[Any] = list(op.raw.get("parameters", []))
    seen: set[int] = set()
    while stack:
        node = op.spec.deref(stack.pop())
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if VALUES_FROM in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None  # the coverage phase sends strings


def ordered_window(values: dict[str, Any], max_ms: int | None = None) -> bool:
    """Repair a startTime/endTime pair in place: start <= end, and no wider than the operation's documented window.

    JSON Schema cannot relate two parameters, so the spec lets a positive case send start > end, which the contract
    answers with -1023; the repaired case asks the same question the right way round (the later bound kept when
    the window is too wide). True when something changed; each value keeps its type (int or digit string).
    """
    start, end = (_as_int(values.get(name)) for name in WINDOW)
    if start is None or end is None:
        return False
    first, last = min(start, end), max(start, end)
    if max_ms is not None and last - first > max_ms:
        first = last - max_ms
    if (first, last) == (start, end):
        return False
    kind = type(values["startTime"])
    values["startTime"], values["endTime"] = kind(first), type(values["endTime"])(last)
    return True


def bounded_by_symbol(values: dict[str, Any], op: Operation, symbols: Symbols) -> bool:
    """Hold each `x-maximum-from: exchangeInfo.symbols[].<field>` parameter to the request symbol's own field.

    The bound differs per symbol (leverage within [1, maxLeverage], else -4028), which a schema cannot say; the value
    keeps its type. True when something changed.
    """
    changed = False
    for param in op.parameters():
        source, name = str(param.get("x-maximum-from", "")), str(param.get("name"))
        bound = symbols.fields.get(str(values.get("symbol")), {}).get(source.rpartition(".")[2])
        value = _as_int(values.get(name)) if source.startswith("exchangeInfo.symbols[].") else None
        if bound is not None and value is not None and value > bound:
            values[name] = type(values[name])(bound)
            changed = True
    return changed


def repair(case: Any, op: Operation, symbols: Symbols | None = None) -> Any:
    """The positive case with its time window ordered and its per-symbol bounds kept (query or form body)."""
    max_ms = op.raw.get("x-max-window-ms")
    for values in (case.query, case.body):
        if isinstance(values, dict):
            ordered_window(values, max_ms if isinstance(max_ms, int) else None)
            if symbols is not None:
                bounded_by_symbol(values, op, symbols)
    return case


@functools.cache
def refusals(path: Path = REFUSALS) -> dict[int, list[tuple[frozenset[str] | None, str]]]:
    """code -> [(operations or None for all, cause)] from fixtures/positive-refusals.yaml."""
    table: dict[int, list[tuple[frozenset[str] | None, str]]] = {}
    for row in read_yaml(path, "positive refusals")["refusals"]:
        ops = frozenset(row["operations"]) if "operations" in row else None
        table.setdefault(int(row["code"]), []).append((ops, str(row["cause"])))
    return table


def refusal_cause(exchange: Exchange) -> str | None:
    """Why a correct target refuses this valid request (a 4XX with a listed code), or None: a refusal of its data."""
    status, body = exchange.response.status, exchange.response.json() if exchange.response.is_json else None
    if not 400 <= status < 500 or not isinstance(body, dict) or isinstance(body.get("code"), bool):
        return None
    code = body.get("code")
    for ops, cause in refusals().get(code, []) if isinstance(code, int) else []:
        if ops is None or exchange.operation_id in ops:
            return cause
    return None


def answer_of(exchange: Exchange) -> str:
    """`HTTP <status> <code> <msg>` of a non-2XX answer, short, for the acceptance report."""
    body = exchange.response.json() if exchange.response.is_json else None
    if isinstance(body, dict) and "code" in body:
        return f"HTTP {exchange.response.status} {body.get('code')} {str(body.get('msg', ''))[:80]}"
    return f"HTTP {exchange.response.status}"


@dataclass
class Acceptance:
    """Per operation: positive cases sent, how many were answered 2XX, and what the others were answered."""

    sent: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    others: dict[str, Counter[str]] = field(default_factory=dict)
    unjudged: dict[str, str] = field(default_factory=dict)

    def add(self, op_id: str, exchanges: list[Exchange]) -> float:
        """Count one item's exchanges; returns the item's own 2XX share."""
        ok = [e for e in exchanges if 200 <= e.response.status < 300]
        self.sent[op_id] += len(exchanges)
        self.accepted[op_id] += len(ok)
        rest = self.others.setdefault(op_id, Counter())
        rest.update(answer_of(e) for e in exchanges if not 200 <= e.response.status < 300)
        return len(ok) / len(exchanges) if exchanges else 0.0

    def share(self, op_id: str) -> float:
        return self.accepted[op_id] / self.sent[op_id] if self.sent[op_id] else 0.0

    def report(self) -> dict[str, Any]:
        ops = {}
        for op_id in sorted(self.sent):
            share = self.share(op_id)
            ops[op_id] = {"positive_cases": self.sent[op_id], "answered_2xx": self.accepted[op_id],
                          "share": round(share, 3), "meets_goal": share >= ACCEPTANCE_GOAL,
                          "other_answers": dict(self.others.get(op_id, Counter()).most_common())}
        total, ok = sum(self.sent.values()), sum(self.accepted.values())
        return {"goal": ACCEPTANCE_GOAL, "positive_cases": total, "answered_2xx": ok,
                "share": round(ok / total, 3) if total else None,
                "short_of_goal": [op for op, v in ops.items() if not v["meets_goal"]],
                "symbols_unknown": self.unjudged, "operations": ops}

    def write(self, path: Path) -> None:
        """One JSON document, one line per operation (easy to diff), secrets redacted."""
        report = self.report()
        ops = report.pop("operations")
        head = json.dumps(report, sort_keys=False)[:-1]
        lines = [f"  {json.dumps(op)}: {json.dumps(v)}" for op, v in ops.items()]
        text = head + ', "operations": {\n' + ",\n".join(lines) + "\n}}\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redact(text), encoding="utf-8")
