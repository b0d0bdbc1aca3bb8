"""Request parameters: query and body parsing (form or JSON), precedence, and typed, validated reads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote_to_bytes

from .errors import ApiError

MAX_BODY_BYTES = 64 * 1024
INT_RE = re.compile(r"^-?[0-9]{1,20}$")
INT_LEGAL = "^[0-9]{1,20}$"
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DECIMAL_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")
DECIMAL_LEGAL = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
INT64_MAX = 2**63 - 1
FORM = "application/x-www-form-urlencoded"


def _decode(raw: bytes) -> str:
    # '+' is a space in form encoding; a value that is not UTF-8 after percent-decoding is an illegal character.
    try:
        text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("illegal_chars") from None
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ApiError("illegal_chars")
    return text


def parse_urlencoded(raw: bytes) -> dict[str, str]:
    """name=value pairs joined by '&'; a name repeated in the same string is -1101."""
    out: dict[str, str] = {}
    for piece in raw.split(b"&"):
        if not piece:
            continue
        name_raw, _, value_raw = piece.partition(b"=")
        name = _decode(name_raw)
        if name in out:
            raise ApiError("duplicate_param")
        out[name] = _decode(value_raw)
    return out


def _json_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list | dict) else str(value)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ApiError("duplicate_param")
        out[name] = value
    return out


def parse_json_object(raw: bytes) -> dict[str, str]:
    """A JSON object body (the ZTDX leverage example): every value becomes the string a form would carry."""
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise ApiError("illegal_chars") from None
    except ValueError:
        raise ApiError("malformed_body") from None
    if not isinstance(data, dict):
        raise ApiError("malformed_body")
    return {str(k): _json_value(v) for k, v in data.items()}


def parse_body(raw: bytes, content_type: str) -> dict[str, str]:
    """Form body (also when no Content-Type is sent), or a JSON object; anything else non-empty is refused."""
    ctype = content_type.split(";")[0].strip().lower()
    if not raw.strip():
        return {}
    if ctype in ("", FORM):
        return parse_urlencoded(raw)
    if ctype == "application/json" or ctype.endswith("+json"):
        return parse_json_object(raw)
    raise ApiError("unsupported_content_type", ctype=ctype[:60])


@dataclass
class Params:
    """The merged parameters of one request (query wins over body) plus the raw pieces the signature needs."""

    values: dict[str, str] = field(default_factory=dict)
    raw_query: bytes = b""
    raw_body: bytes = b""
    body_is_json: bool = False

    def has(self, name: str) -> bool:
        return self.values.get(name, "") != ""

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.values.get(name, "")
        if value == "":
            if required:
                raise ApiError("mandatory", name=name)
            return None
        return value

    def integer(self, name: str, required: bool = False, lo: int | None = None, hi: int | None = None) -> int | None:
        text = self.text(name, required)
        if text is None:
            if self.values.get(name) == "":  # sent empty: not a number, and not the same as not sent
                raise ApiError("illegal_chars_param", name=name, legal=INT_LEGAL)
            return None
        if not INT_RE.match(text):
            raise ApiError("illegal_chars_param", name=name, legal=INT_LEGAL)
        value = int(text)
        if abs(value) > INT64_MAX or (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ApiError("invalid_param", name=name)
        return value

    def decimal(self, name: str, required: bool = False) -> Decimal | None:
        text = self.text(name, required)
        if text is None:
            return None
        if not DECIMAL_RE.match(text):
            raise ApiError("illegal_chars_param", name=name, legal=DECIMAL_LEGAL)
        try:
            return Decimal(text)
        except InvalidOperation:  # unreachable after the regex, kept so a bad value can never become a 500
            raise ApiError("invalid_param", name=name) from None

    def flag(self, name: str, default: bool = False) -> bool:
        text = self.text(name)
        if text is None:
            return default
        if text.lower() not in ("true", "false"):
            raise ApiError("invalid_param", name=name)
        return text.lower() == "true"

    def enum(self, name: str, allowed: tuple[str, ...], error: str = "invalid_param", required: bool = False,
             default: str | None = None) -> str | None:
        text = self.text(name, required)
        if text is None:
            return default
        if text not in allowed:
            raise ApiError(error, name=name) if error == "invalid_param" else ApiError(error)
        return text

    def json_list(self, name: str, max_items: int, required: bool = False) -> list[Any] | None:
        text = self.text(name, required)
        if text is None:
            return None
        if text.startswith("%"):  # percent-encoded twice by the client: decode the second layer too
            text = _decode(text.encode("utf-8"))
        try:
            data = json.loads(text)
        except ValueError:
            raise ApiError("invalid_param", name=name) from None
        if not isinstance(data, list) or not data or len(data) > max_items:
            raise ApiError("invalid_param", name=name)
        return data


def build_params(method: str, raw_query: bytes, raw_body: bytes, content_type: str) -> Params:
    """GET reads the query only; other methods merge body and query, the query value winning a clash."""
    query = parse_urlencoded(raw_query)
    if method == "GET":
        return Params(query, raw_query, b"")
    body = parse_body(raw_body, content_type)
    is_json = bool(body) and content_type.split(";")[0].strip().lower() not in ("", FORM)
    return Params(body | query, raw_query, raw_body, is_json)


def item_params(item: Any) -> Params:
    """One object of a batchOrders list, read through the same typed accessors as a request."""
    if not isinstance(item, dict):
        raise ApiError("invalid_param", name="batchOrders")
    return Params({str(k): _json_value(v) for k, v in item.items()})
