"""Signed-request checks: API key, timestamp window, recvWindow and the HMAC-SHA256 signature (raw or decoded)."""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import unquote, unquote_plus

from .errors import ApiError
from .params import Params

KEY_RE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
FUTURE_TOLERANCE_MS = 1000


def strip_signature(raw: bytes) -> str:
    """The raw parameter string without its `signature=` piece(s), joined back in the order sent."""
    text = raw.decode("latin-1")
    kept = [p for p in text.split("&") if p and p.split("=", 1)[0] != "signature"]
    return "&".join(kept)


def payload_candidates(params: Params) -> list[str]:
    """The raw payload first, then its URL-decoded forms (ZTDX accepts signatures over either)."""
    body = params.raw_body.decode("latin-1") if params.body_is_json else strip_signature(params.raw_body)
    raw = strip_signature(params.raw_query) + body
    candidates = [raw]
    for decode in (unquote, unquote_plus):
        try:
            decoded = decode(raw.encode("latin-1").decode("utf-8"), errors="strict")
        except UnicodeError:
            continue
        if decoded not in candidates:
            candidates.append(decoded)
    return candidates


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode("utf-8"), hashlib.sha256).hexdigest()


def check_api_key(header: str | None, api_key: str) -> None:
    if header is None or not KEY_RE.match(header):
        raise ApiError("bad_key_format")
    if not hmac.compare_digest(header, api_key):
        raise ApiError("rejected_key")


def check_timing(params: Params, now_ms: int) -> None:
    """timestamp must lie in [now - recvWindow, now + 1000] (ZTDX auth: a closed interval)."""
    if params.has("recvWindow"):
        text = params.values["recvWindow"]
        if not text.isdigit() or not 0 < int(text) <= MAX_RECV_WINDOW:
            raise ApiError("invalid_param", name="recvWindow")
        recv_window = int(text)
    else:
        recv_window = DEFAULT_RECV_WINDOW
    stamp = params.values.get("timestamp", "")
    if not stamp.isdigit() or len(stamp) > 18:
        raise ApiError("mandatory", name="timestamp")
    if int(stamp) > now_ms + FUTURE_TOLERANCE_MS:
        raise ApiError("timestamp_ahead")
    if int(stamp) < now_ms - recv_window:
        raise ApiError("timestamp_outside")


def check_signature(params: Params, secret: str) -> None:
    given = params.values.get("signature", "")
    if not given:
        raise ApiError("mandatory", name="signature")
    given_bytes = given.lower().encode("utf-8")
    for payload in payload_candidates(params):
        if hmac.compare_digest(sign(secret, payload).encode(), given_bytes):
            return
    raise ApiError("bad_signature")


def authenticate(params: Params, key_header: str | None, api_key: str, secret: str, now_ms: int) -> None:
    """Key first (-2014/-2015), then mandatory timing params, signature (-1022), and the time window (-1021)."""
    check_api_key(key_header, api_key)
    if not params.has("timestamp"):
        raise ApiError("mandatory", name="timestamp")
    if not params.has("signature"):
        raise ApiError("mandatory", name="signature")
    check_signature(params, secret)
    check_timing(params, now_ms)
