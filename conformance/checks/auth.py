"""Checks of signed requests: signature, API-key header, timestamp window, recvWindow, signed listenKey.

Single-exchange checks judge what one request shows (no signature, no key, recvWindow above 60000). What one
request cannot show — that a signature is *wrong*, a key *unknown*, a timestamp *old* — is judged by comparison
checks against a reference: the same request, correctly signed with the server's time, that was accepted.
"""

from __future__ import annotations

import re

from conformance.checks import RuleViolation, check, judged, scenario
from conformance.checks.parameters import answered_like_the_reference, comparison, error_code, summary
from conformance.data.exceptions import HarnessError, NotTested
from conformance.data.exchange import Exchange

# Documented auth codes (fapi-contract §2.4): which ones may answer which failure. ZTDX names only -1021.
BAD_SIGNATURE_CODES = (-1022, -1002)
NO_SIGNATURE_CODES = (-1102, -1022, -1002)
BAD_KEY_CODES = (-2014, -2015, -1002)
NO_TIMESTAMP_CODES = (-1102, -1021)
OUTSIDE_WINDOW_CODES = (-1021,)
BAD_RECV_WINDOW_CODES = (-1130, -1131, -1100, -1102, -1021)
LISTEN_KEY_UNSIGNED_CODES = (-1102, -1022, -1021, -1002, -2015)
HEX_SIGNATURE = re.compile(r"^[0-9a-fA-F]{64}$")
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
AHEAD_MS = 1000
# Time between the reference and the variant leaving the client: offsets this close to a bound are not judged.
SLACK_MS = 750


def _params(ex: Exchange) -> dict[str, str]:
    return ex.request.params()


def _signed(ex: Exchange) -> bool:
    return ex.operation is not None and ex.operation.signed


def _key(ex: Exchange) -> str:
    return ex.request.headers.get("x-mbx-apikey", "")


def _rejected(rule_id: str, ex: Exchange, codes: tuple[int, ...], why: str) -> None:
    """`ex` must be a 4XX whose error code is one of `codes`."""
    if 400 <= ex.response.status < 500 and error_code(ex) in codes:
        return
    listed = " or ".join(str(c) for c in codes)
    raise RuleViolation(rule_id, [f"HTTP 4XX with code {listed} ({why})"], summary(ex))


@check("auth.signature-required", applies=lambda ex: _signed(ex) and bool(_key(ex)))
def signature_present_and_hex(ex: Exchange) -> None:
    signature = _params(ex).get("signature")
    if signature is None:
        _rejected("auth.signature-required", ex, NO_SIGNATURE_CODES, "no signature sent")
    elif not HEX_SIGNATURE.match(signature):
        _rejected("auth.signature-required", ex, (*BAD_SIGNATURE_CODES, -1100), "the signature is not 64 hex digits")


@check("auth.api-key-header", applies=lambda ex: _signed(ex) and not _key(ex).strip())
def api_key_header_present(ex: Exchange) -> None:
    _rejected("auth.api-key-header", ex, BAD_KEY_CODES, "no X-MBX-APIKEY header")


@check("auth.timestamp-required", applies=lambda ex: _signed(ex) and bool(_key(ex)) and "timestamp" not in _params(ex))
def timestamp_present(ex: Exchange) -> None:
    _rejected("auth.timestamp-required", ex, NO_TIMESTAMP_CODES, "no timestamp sent")


def _recv_window(ex: Exchange) -> int | None:
    text = _params(ex).get("recvWindow", "")
    return int(text) if text.isdigit() else None


@check("auth.recvwindow-max", applies=lambda ex: _signed(ex) and _recv_window(ex) is not None)
def recv_window_bound(ex: Exchange) -> None:
    window = _recv_window(ex) or 0
    if window > MAX_RECV_WINDOW:
        _rejected("auth.recvwindow-max", ex, BAD_RECV_WINDOW_CODES, f"recvWindow {window} > {MAX_RECV_WINDOW}")
    elif window > 0 and error_code(ex) in (-1130, -1131) and "recvWindow" in ex.response.text:
        raise RuleViolation("auth.recvwindow-max", [f"recvWindow {window} (≤ {MAX_RECV_WINDOW}) accepted"],
                            summary(ex))


@check("auth.listenkey-signed", applies=lambda ex: ex.request.path == "/fapi/v1/listenKey")
def listen_key_needs_signature(ex: Exchange) -> None:
    if "signature" not in _params(ex) or "timestamp" not in _params(ex):
        _rejected("auth.listenkey-signed", ex, LISTEN_KEY_UNSIGNED_CODES, "listenKey request without HMAC signing")


def _reference_accepted(reference: Exchange) -> None:
    if not 200 <= reference.response.status < 300:
        raise NotTested(f"precondition: the correctly signed reference request was refused, so the pair proves "
                        f"nothing: {summary(reference)}", rule_id="auth.signature-required")


def _unsigned_params(ex: Exchange) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in ex.request.query + ex.request.form if k != "signature")


@comparison("auth.signature-required")
def wrong_signature_rejected(rule_id: str, reference: Exchange, variant: Exchange) -> None:
    """Same parameters with another signature, or the reference's signature over other parameters: refused."""
    _reference_accepted(reference)
    ref_sig, var_sig = _params(reference).get("signature", ""), _params(variant).get("signature", "")
    same_params = _unsigned_params(reference) == _unsigned_params(variant)
    if same_params and var_sig.lower() != ref_sig.lower():
        _rejected(rule_id, variant, BAD_SIGNATURE_CODES, "the signature does not match the parameters")
    elif not same_params and var_sig == ref_sig:
        _rejected(rule_id, variant, BAD_SIGNATURE_CODES, "the signature was computed over other parameters")
    else:
        raise HarnessError("the variant is not a wrong-signature variant of the reference")


@comparison("auth.api-key-header")
def other_key_rejected(rule_id: str, reference: Exchange, variant: Exchange) -> None:
    """The reference's key was accepted; any other key (unknown or malformed) must be refused."""
    _reference_accepted(reference)
    if _key(variant) == _key(reference):
        raise HarnessError("the variant carries the reference's API key")
    _rejected(rule_id, variant, BAD_KEY_CODES, "an API key other than the accepted one")


def _timestamp(ex: Exchange) -> int:
    text = _params(ex).get("timestamp", "")
    if not text.isdigit():
        raise HarnessError(f"no numeric timestamp in {ex.request.method} {ex.request.path}")
    return int(text)


def _judge_window(rule_id: str, reference: Exchange, variant: Exchange) -> None:
    """The reference's timestamp stands for the server's time: the variant is judged by its offset from it."""
    _reference_accepted(reference)
    window = _recv_window(variant) or DEFAULT_RECV_WINDOW
    offset = _timestamp(variant) - _timestamp(reference)
    if offset < -(window + SLACK_MS) or offset > AHEAD_MS + SLACK_MS:
        _rejected(rule_id, variant, OUTSIDE_WINDOW_CODES,
                  f"timestamp {offset:+d} ms from the server's time, recvWindow {window}")
    elif -(window - SLACK_MS) <= offset <= 0:
        if not 200 <= variant.response.status < 300:
            raise RuleViolation(rule_id, [f"accepted: timestamp {offset:+d} ms is inside recvWindow {window}"],
                                summary(variant))
    else:
        raise HarnessError(f"offset {offset:+d} ms is too close to a bound of recvWindow {window} to judge")


@comparison("auth.timestamp-window")
def timestamp_inside_window(rule_id: str, reference: Exchange, variant: Exchange) -> None:
    _judge_window(rule_id, reference, variant)


@comparison("auth.recvwindow-default")
def default_window_is_5000(rule_id: str, reference: Exchange, variant: Exchange) -> None:
    if "recvWindow" in _params(variant):
        raise HarnessError("the default window is judged on a request without recvWindow")
    _judge_window(rule_id, reference, variant)


@comparison("auth.recvwindow-max")
def window_up_to_60000_is_honoured(rule_id: str, reference: Exchange, variant: Exchange) -> None:
    window = _recv_window(variant)
    if window is None or window > MAX_RECV_WINDOW:
        raise HarnessError("this comparison judges a recvWindow of at most 60000")
    _judge_window(rule_id, reference, variant)


comparison("auth.encoded-payload")(answered_like_the_reference)


@scenario("auth.signature-required")
def correctly_signed_is_accepted(ex: Exchange) -> None:
    """Scenario check: a request signed as the doc says, with the server's time, is accepted."""
    judged("auth.signature-required", ex)
    if not 200 <= ex.response.status < 300:
        raise RuleViolation("auth.signature-required", ["2XX for a correctly signed request"], summary(ex),
                            exchange=ex)
