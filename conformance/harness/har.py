"""HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) to and from `Exchange`: the recording's file format.

Written by hand: the format is a small JSON document, and no well-kept Python library writes it (haralyzer only
reads; the self-tests read our files with it). The suite's own data lives in `_`-prefixed custom fields, which the
spec allows and HAR viewers ignore: `_operation`, `_test`, `_signature`, `_apiKey`, `_verdicts` on an entry, and
`_run`, `_tests`, `_rules` on the log.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from conformance.data import contract as contract_mod
from conformance.data.exceptions import ConfigError
from conformance.data.exchange import Exchange, Request, Response
from conformance.harness.redact import MASK

HAR_NAME = "exchanges.har"
CREATOR = {"name": "fapi-conformance", "version": "0.1.0"}
VALID, INVALID, ABSENT = "valid", "invalid", "absent"


def _pairs(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in sorted(headers.items())]


def _params(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Name/value pairs; a signature's value is masked here (the text-level redaction misses this shape)."""
    return [{"name": k, "value": MASK if k.lower() == "signature" else v} for k, v in pairs]


def _started(ex: Exchange, when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signature_state(request: Request, secret: str | None) -> str:
    """Whether the request carried a signature that `secret` made (over the raw or the decoded payload)."""
    query = [p for p in urlsplit(request.url).query.split("&") if p]
    body = [p for p in request.body.decode("latin-1").split("&") if p]
    given = [p.split("=", 1)[-1] for p in query + body if p.startswith("signature=")]
    if not given:
        return ABSENT
    if not secret:
        return INVALID
    payload = "&".join(p for p in query if not p.startswith("signature=")) + "&".join(
        p for p in body if not p.startswith("signature="))
    made = {hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
            for text in (payload, unquote(payload))}
    return VALID if given[0] in made else INVALID


def signature_token(request: Request) -> str | None:
    """A stand-in for the signature the request carried, for replay: its sha256, of the same form (64 hex digits in
    the same case, or not), so that checks comparing two signatures still see equal or different ones. The value
    itself is redacted: within its recvWindow a signature could be replayed; its hash cannot."""
    sent = dict(request.query).get("signature") or dict(request.form).get("signature")
    if sent is None:
        return None
    digest = hashlib.sha256(sent.lower().encode()).hexdigest()
    if len(sent) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sent):
        return f"x{digest[:15]}"
    return digest.upper() if sent.isupper() else digest


def key_state(request: Request, api_key: str | None) -> str:
    sent = request.headers.get("x-mbx-apikey")
    if sent is None:
        return ABSENT
    return VALID if api_key and sent == api_key else INVALID


def entry(ex: Exchange, *, test: str, signature: str, api_key: str, started: float) -> dict[str, Any]:
    """One HAR entry; secrets are removed later, from the whole file's text (conformance.harness.redact)."""
    req, resp = ex.request, ex.response
    request: dict[str, Any] = {
        "method": req.method, "url": req.url, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": _pairs(req.headers), "queryString": _params(req.query),
        "headersSize": -1, "bodySize": len(req.body)}
    if req.body:
        mime = req.headers.get("content-type", "application/octet-stream")
        request["postData"] = {"mimeType": mime, "text": req.body.decode("utf-8", "replace"),
                               "params": _params(req.form)}
    return {
        "startedDateTime": _started(ex, started), "time": round(resp.elapsed_ms, 3),
        "request": request,
        "response": {"status": resp.status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                     "headers": _pairs(resp.headers), "redirectURL": "", "headersSize": -1,
                     "bodySize": len(resp.body),
                     "content": {"size": len(resp.body), "mimeType": resp.content_type or "application/octet-stream",
                                 "text": resp.text}},
        "cache": {}, "timings": {"send": 0, "wait": round(resp.elapsed_ms, 3), "receive": 0},
        "_operation": ex.operation_id, "_test": test, "_signature": signature, "_apiKey": api_key,
        **({"_signatureToken": token} if (token := signature_token(req)) else {}),
    }


def started_ms(item: dict[str, Any]) -> int:
    """When the entry's request was sent, in UNIX ms."""
    text = str(item.get("startedDateTime", "")).replace("Z", "+00:00")
    try:
        return int(dt.datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:
        return 0


def document(entries: list[dict[str, Any]], **custom: Any) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": CREATOR, "pages": [], "entries": entries,
                    **{f"_{k}": v for k, v in custom.items()}}}


def load(path: Path) -> dict[str, Any]:
    """The HAR's `log`; a missing or malformed file is one ConfigError line."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such recording (run the suite first: it writes reports/exchanges.har)") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a HAR file ({type(exc).__name__}: {exc})") from None
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise ConfigError(f"{path}: not a HAR file (no log.entries)")
    return log


def _headers(items: list[dict[str, str]]) -> dict[str, str]:
    return {str(h["name"]).lower(): str(h["value"]) for h in items}


def exchange(item: dict[str, Any], contract: contract_mod.Contract | None = None) -> Exchange:
    """The Exchange a HAR entry holds, with its contract operation looked up again."""
    req, resp = item["request"], item["response"]
    url, text = str(req["url"]), str(req.get("postData", {}).get("text", ""))
    token = item.get("_signatureToken")
    if token:
        url, text = (s.replace(f"signature={MASK}", f"signature={token}") for s in (url, text))
    request = Request(req["method"], url, _headers(req.get("headers", [])), text.encode())
    content = resp.get("content", {})
    answer = str(content.get("text", ""))
    payload = answer.encode() if content.get("encoding") != "base64" else base64.b64decode(answer)
    response = Response(int(resp["status"]), _headers(resp.get("headers", [])), payload,
                        float(item.get("time") or 0.0))
    operation = (contract or contract_mod.default()).find(request.method, request.path)
    return Exchange(request, response, operation)


def params(item: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The entry's query and form parameters as sent."""
    req = item["request"]
    query = parse_qsl(urlsplit(req["url"]).query, keep_blank_values=True)
    post = req.get("postData") or {}
    form = parse_qsl(str(post.get("text", "")), keep_blank_values=True) if post else []
    return query, form
