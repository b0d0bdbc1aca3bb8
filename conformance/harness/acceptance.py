"""Positive cases answered 2XX: the refusals of valid data a correct target may give, and the share per operation."""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import FIXTURES
from conformance.data.exceptions import read_yaml
from conformance.data.exchange import Exchange
from conformance.harness import atomic
from conformance.harness.redact import redact

ACCEPTANCE_GOAL = 0.8  # share of positive cases a target answers with 2XX that the report calls "met"
REFUSALS = FIXTURES / "positive-refusals.yaml"


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
    status, error = exchange.response.status, exchange.response.error
    if not 400 <= status < 500 or error is None or error.code is None:
        return None
    for ops, cause in refusals().get(error.code, []):
        if ops is None or exchange.operation_id in ops:
            return cause
    return None


def answer_of(exchange: Exchange) -> str:
    """`HTTP <status> <code> <msg>` of a non-2XX answer, short, for the acceptance report."""
    error = exchange.response.error
    if error is not None and error.code is not None:
        return f"HTTP {exchange.response.status} {error.code} {(error.msg or '')[:80]}"
    return f"HTTP {exchange.response.status}"


@dataclass
class Acceptance:
    """Per operation: positive cases sent, how many were answered 2XX, and what the others were answered."""

    sent: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    others: dict[str, Counter[str]] = field(default_factory=dict)
    unjudged: dict[str, str] = field(default_factory=dict)

    def export(self) -> dict[str, Any]:
        """Plain data, for the controller of a `-n N` run, which adds up its workers' tallies (`absorb`)."""
        return {"sent": dict(self.sent), "accepted": dict(self.accepted),
                "others": {op: dict(c) for op, c in self.others.items()}, "unjudged": dict(self.unjudged)}

    def absorb(self, data: dict[str, Any]) -> None:
        self.sent.update(data.get("sent", {}))
        self.accepted.update(data.get("accepted", {}))
        for op_id, counts in data.get("others", {}).items():
            self.others.setdefault(op_id, Counter()).update(counts)
        self.unjudged.update(data.get("unjudged", {}))

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
        atomic.write_text(path, redact(text))
