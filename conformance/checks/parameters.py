"""Checks of where parameters go (query, form body, both, any order) and the comparison-check registry.

Some rules are only visible by comparing two answers: the same request sent two ways (query vs body, shuffled,
re-signed) must be answered alike. Those are *comparison checks*: pure functions `f(rule_id, reference, variant)`
registered with `@comparison(rule_id)` and run by `compare`/`verify_pair`. The reference is the plain request
(parameters in the query, as every ZTDX example sends them); the variant is the one the rule is about.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from conformance.checks import Registry, RuleViolation, attach, check, judged, load_all, notify
from conformance.data import catalogue
from conformance.data.exceptions import HarnessError
from conformance.data.exchange import Exchange

Comparison = Callable[[str, Exchange, Exchange], None]
COMPARISONS: Registry[Comparison] = Registry("comparison")  # frozen by checks.load_all
BODY_METHODS = ("POST", "PUT", "DELETE")
MISSING = re.compile(r"[Mm]andatory parameter '([^']+)'")
# Response fields that show a request parameter's applied value, where the names differ.
RESPONSE_FIELD = {"quantity": "origQty", "origClientOrderId": "clientOrderId", "newClientOrderId": "clientOrderId"}


def comparison(rule_id: str) -> Callable[[Comparison], Comparison]:
    """Register `func(rule_id, reference, variant)` as a comparison check of `rule_id` (unknown ID fails at import)."""
    catalogue.default()[rule_id]

    def register(func: Comparison) -> Comparison:
        COMPARISONS.register(rule_id, func)
        return func

    return register


def compare(reference: Exchange, variant: Exchange, rule_ids: Iterable[str]) -> list[RuleViolation]:
    load_all()  # every check module: the auth and limits comparisons register on import, and a caller may be first
    wanted, found = list(rule_ids), []
    for rule_id in wanted:
        if not COMPARISONS.get(rule_id):
            raise HarnessError(f"no comparison check is registered for {rule_id}")
        judged(rule_id, reference, variant)
        for func in COMPARISONS[rule_id]:
            try:
                func(rule_id, reference, variant)
            except RuleViolation as violation:
                found.append(attach(violation, variant))
    notify(wanted, (reference, variant), found)
    return found


def verify_pair(reference: Exchange, variant: Exchange, rule_ids: Iterable[str]) -> None:
    """Raise the first violation of the comparison checks of `rule_ids`."""
    found = compare(reference, variant, rule_ids)
    if found:
        raise found[0]


def error_code(ex: Exchange) -> int | None:
    code = ex.response.error.code if ex.response.error else None
    return code if code is not None and code < 0 else None


def outcome(ex: Exchange) -> str:
    """HTTP status plus the error code, e.g. '200' or '400 -1102'."""
    code = error_code(ex)
    return f"{ex.response.status}" + (f" {code}" if code is not None else "")


def summary(ex: Exchange) -> str:
    return f"HTTP {outcome(ex)} {ex.response.text[:160]}"


def _names(pairs: list[tuple[str, str]]) -> set[str]:
    return {k for k, _ in pairs}


def _has_body_params(ex: Exchange) -> bool:
    return ex.request.method in BODY_METHODS and bool(ex.request.form)


def _mixed(ex: Exchange) -> bool:
    return _has_body_params(ex) and bool(ex.request.query)


def _reported_missing(ex: Exchange) -> str | None:
    """The parameter a -1102 answer names as missing, when the answer names one."""
    if error_code(ex) != -1102 or not ex.response.is_json:
        return None
    match = MISSING.search(str(ex.response.json().get("msg", "")))
    return match[1] if match else None


def _sent_param_not_reported_missing(rule_id: str, ex: Exchange, where: str) -> None:
    name = _reported_missing(ex)
    sent = _names(ex.request.form) | _names(ex.request.query)
    if name is not None and name in sent:
        raise RuleViolation(rule_id, [f"'{name}' read from the {where}"],
                            f"{summary(ex)}: '{name}' was sent in the "
                            f"{'body' if name in _names(ex.request.form) else 'query'} but reported missing")


@check("parameters.form-body", applies=_has_body_params)
def body_parameters_are_read(ex: Exchange) -> None:
    _sent_param_not_reported_missing("parameters.form-body", ex, "form body")


@check("parameters.mixed-query-and-body", applies=_mixed)
def split_parameters_are_read(ex: Exchange) -> None:
    _sent_param_not_reported_missing("parameters.mixed-query-and-body", ex, "query string and the form body")


def _same_value(shown: Any, sent: str) -> bool:
    if isinstance(shown, bool):
        return str(shown).lower() == sent.lower()
    try:
        return Decimal(str(shown)) == Decimal(sent)
    except InvalidOperation:
        return str(shown) == sent


def _applied_values_match_query(rule_id: str, ex: Exchange, names: set[str]) -> None:
    body = ex.response.json() if ex.response.is_json else None
    if not 200 <= ex.response.status < 300 or not isinstance(body, dict):
        return  # only an object answer shows which value was applied
    query = dict(ex.request.query)
    for name in sorted(names):
        shown = body.get(RESPONSE_FIELD.get(name, name))
        if shown is not None and not isinstance(shown, dict | list) and not _same_value(shown, query[name]):
            body_value = dict(ex.request.form).get(name)
            raise RuleViolation(rule_id, [f"{RESPONSE_FIELD.get(name, name)} = {query[name]} (the query value)"],
                                f"{RESPONSE_FIELD.get(name, name)} = {shown!r} (body sent {body_value!r})")


def _clashing(ex: Exchange) -> set[str]:
    return _names(ex.request.query) & _names(ex.request.form) - {"signature", "timestamp"}


@check("parameters.query-over-body", applies=lambda ex: ex.request.method in BODY_METHODS and bool(_clashing(ex)))
def query_value_is_applied(ex: Exchange) -> None:
    _applied_values_match_query("parameters.query-over-body", ex, _clashing(ex))


def _required_query_names(ex: Exchange) -> set[str]:
    if ex.operation is None:
        return set()
    return {p["name"] for p in ex.operation.parameters()
            if p.get("in") == "query" and p.get("required") and p.get("name") not in ("timestamp", "signature")}


def _get_with_body(ex: Exchange) -> bool:
    return ex.request.method == "GET" and bool(ex.request.body)


def _body_pairs(ex: Exchange) -> list[tuple[str, str]]:
    """A GET's body as form pairs, whatever Content-Type it was labelled with."""
    return parse_qsl(ex.request.body.decode("utf-8", "replace"), keep_blank_values=True)


@check("parameters.get-query-only", applies=_get_with_body)
def get_reads_the_query_only(ex: Exchange) -> None:
    """A required parameter only in a GET's body is still missing; a name in both places takes the query value."""
    in_body = _names(_body_pairs(ex))
    only_in_body = (_required_query_names(ex) & in_body) - _names(ex.request.query)
    if only_in_body and ex.response.status < 400:
        raise RuleViolation("parameters.get-query-only",
                            [f"4XX: {', '.join(sorted(only_in_body))} missing from the query string"],
                            f"{summary(ex)} (the body's value was used)")
    _applied_values_match_query("parameters.get-query-only", ex, in_body & _names(ex.request.query))


@comparison("parameters.form-body")
@comparison("parameters.mixed-query-and-body")
@comparison("parameters.query-over-body")
@comparison("parameters.any-order")
def answered_like_the_reference(rule_id: str, reference: Exchange, variant: Exchange) -> None:
    """The variant gets the reference's outcome: the same HTTP status and, for an error, the same code."""
    if outcome(variant) != outcome(reference):
        raise RuleViolation(rule_id, [f"HTTP {outcome(reference)}, as for the same parameters in the query string"],
                            summary(variant))
