"""The one table of every (HTTP status, code, message) the mock answers, and the exception that carries one."""

from __future__ import annotations

from typing import Any

# name -> (HTTP status, code, message template). Messages follow ZTDX where it gives one, Binance otherwise
# (fapi-contract.md §2.4, §4); the 503 texts are general-info's, the fault answers those of the mock's README.
ERRORS: dict[str, tuple[int, int, str]] = {
    # routing and transport
    "path_not_found": (404, -1000, "Path not found."),
    "method_not_allowed": (405, -1000, "Method not allowed."),
    "body_too_large": (413, -1000, "Request body too large; the limit is {limit} bytes."),
    "unsupported_content_type": (415, -1000, "Unsupported Content-Type '{ctype}'; send the parameters in the query "
                                             "string or as application/x-www-form-urlencoded."),
    "bug": (500, -1000, "Internal mock error (a bug in the mock, not a contract answer): {detail}"),
    # injected faults (control API)
    "waf": (403, -1000, "Request blocked by WAF (Web Application Firewall) restriction."),
    "timeout": (408, -1007, "Timeout waiting for response from backend server. Send status unknown; "
                            "execution status unknown."),
    "unknown-error": (500, -1000, "Request occur unknown error."),
    "unknown-status": (503, -1006, "Unknown error, please check your request or try again later."),
    "service-unavailable": (503, -1001, "Service Unavailable."),
    "internal-error": (503, -1001, "Internal error; unable to process your request. Please try again."),
    "throttled": (503, -1008, "Request throttled by system-level protection. Reduce-only/close-position orders "
                              "are exempt. Please try again."),
    # rate limits
    "too_many_requests": (429, -1003, "Too many requests; current limit is {limit} requests per minute. Please use "
                                      "the websocket for live updates to avoid polling the API."),
    "banned": (418, -1003, "Way too many requests; IP banned until {until}. Please use the websocket for live "
                           "updates to avoid bans."),
    "too_many_orders": (429, -1015, "Too many new orders; current limit is {limit} orders per {interval}."),
    # authentication
    "timestamp_outside": (400, -1021, "Timestamp for this request is outside of the recvWindow."),
    "timestamp_ahead": (400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."),
    "bad_signature": (401, -1022, "Signature for this request is not valid."),
    "bad_key_format": (401, -2014, "API-key format invalid."),
    "rejected_key": (401, -2015, "Invalid API-key, IP, or permissions for action."),
    # parameters
    "illegal_chars": (400, -1100, "Illegal characters found in a parameter."),
    "illegal_chars_param": (400, -1100, "Illegal characters found in parameter '{name}'; legal range is '{legal}'."),
    "duplicate_param": (400, -1101, "Duplicate values for a parameter detected."),
    "mandatory": (400, -1102, "Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
    "malformed_body": (400, -1102, "A mandatory parameter was not sent, was empty/null, or malformed."),
    "either_param": (400, -1102, "Param '{a}' or '{b}' must be sent, but both were empty/null!"),
    "modify_nothing": (400, -1102, "At least one of 'quantity', 'price' or 'stopPrice' must be sent."),
    "not_required": (400, -1106, "Parameter '{name}' sent when not required."),
    "invalid_tif": (400, -1115, "Invalid timeInForce."),
    "invalid_type": (400, -1116, "Invalid orderType."),
    "invalid_side": (400, -1117, "Invalid side."),
    "bad_interval": (400, -1120, "Invalid interval."),
    "bad_symbol": (400, -1121, "Invalid symbol."),
    "listen_key_missing": (400, -1125, "This listenKey does not exist."),
    "bad_margin_type": (400, -1128, "Invalid marginType '{value}'. Expected CROSSED or ISOLATED."),
    "invalid_param": (400, -1130, "Data sent for parameter '{name}' is not valid."),
    "start_after_end": (400, -1023, "Start time is greater than end time."),
    # trading
    "filter_failure": (400, -1013, "Filter failure: {filter}."),
    "post_only_reject": (400, -2010, "Order would immediately match and take."),
    "unknown_order": (400, -2011, "Unknown order sent."),
    "no_such_order": (400, -2013, "Order does not exist."),
    "margin_insufficient": (400, -2019, "Margin is insufficient."),
    "would_trigger": (400, -2021, "Order would immediately trigger."),
    "reduce_only_reject": (400, -2022, "ReduceOnly Order is rejected."),
    "tick_size": (400, -4014, "Price not increased by tick size."),
    "bad_client_id": (400, -4015, "Client order id is not valid."),
    "duplicate_client_id": (400, -4116, "ClientOrderId is duplicated."),
    "bad_leverage": (400, -4028, "Leverage {n} is not valid. Max: {max}."),
    "isolated_margin": (400, -4046, "Isolated margin is not supported on the developer fapi."),
    "no_dual_side": (400, -4059, "No need to change position side."),
    "position_side": (400, -4061, "Order's position side does not match user's setting."),
}


class ApiError(Exception):
    """A documented error answer: raised anywhere below the dispatcher, rendered as {code, msg}."""

    def __init__(self, kind: str, /, **fmt: Any) -> None:
        status, code, template = ERRORS[kind]
        self.kind, self.status, self.code = kind, status, code
        self.msg = template.format(**fmt) if fmt else template
        super().__init__(f"{status} {code} {self.msg}")

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


def error_body(kind: str, /, **fmt: Any) -> tuple[int, dict[str, Any]]:
    """(status, body) of a table entry, for answers built without raising."""
    err = ApiError(kind, **fmt)
    return err.status, err.body()
