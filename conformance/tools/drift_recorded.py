"""Drift cases from a folder of recorded real responses (`manifest.json`: file, method, path, kind, types_reliable).

Such a folder holds answers without their requests: each GET that maps to an operation of the spec is asked again
with the operation's required parameters (an enum's first value, or a default below), signed when the operation
is. Requests that would change state (POST/PUT/DELETE) are not sent: they are counted as skipped.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.data import contract
from conformance.data.exceptions import ConfigError
from conformance.data.exchange import Exchange, Request, Response
from conformance.harness import har


@dataclass(frozen=True)
class Case:
    """One request to send again and the answer it got: the recorded Exchange and how to rebuild its request."""

    recorded: Exchange
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    signature: str = har.ABSENT
    api_key: str = har.ABSENT
    offset_ms: int = 0  # recorded timestamp minus the time it was sent: a deliberately stale one stays stale
    reliable_types: bool = True
    source: str = ""  # where a case without a recorded request comes from (a file of a recorded folder)


DEFAULTS = {"symbol": "BTCUSDT", "pair": "BTCUSDT", "interval": "1m", "period": "5m", "contractType": "PERPETUAL"}


def _value(param: dict[str, Any]) -> str | None:
    schema = param.get("schema", {})
    if param.get("name") in DEFAULTS:
        return DEFAULTS[param["name"]]
    enum = schema.get("enum")
    return str(enum[0]) if enum else None


def recorded_cases(folder: Path, skipped: Counter[str]) -> list[Case]:
    """The GET cases of a recorded folder; what is not sent is counted in `skipped` by reason."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--recorded {folder}: no readable manifest.json ({type(exc).__name__})") from None
    spec, cases = contract.default(), []
    for item in manifest:
        op = spec.find(item.get("method") or "", item.get("path") or "")
        if op is None:
            skipped["not an operation of the spec"] += 1
            continue
        if op.method != "GET":
            skipped["not sent: it would change state"] += 1
            continue
        body = (folder / item["file"]).read_bytes()
        listed = body.lstrip().startswith(b"[")  # an optional symbol left out: the answer for every symbol
        query = []
        for param in op.parameters():
            if param.get("in") == "query" and param.get("name") not in ("timestamp", "signature", "recvWindow"):
                wanted = param.get("required") or (param.get("name") == "symbol" and not listed)
                value = _value(param) if wanted else None
                if value is not None:
                    query.append((str(param["name"]), value))
        if op.signed:
            query.append(("timestamp", "0"))
        request = Request(op.method, f"http://recorded{op.path}", {}, b"")
        recorded = Exchange(request, Response(200, {"content-type": "application/json"}, body), op)
        signed = har.VALID if op.signed else har.ABSENT
        cases.append(Case(recorded, query, [], signed, signed, reliable_types=bool(item.get("types_reliable", True)),
                          source=str(item["file"])))
    return cases
