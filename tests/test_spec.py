"""Self-tests of fixtures/openapi.yaml: valid, loadable, true to endpoints.json, neither too strict nor vacuous."""

from __future__ import annotations

import copy
import gc
import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "openapi.yaml"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ENDPOINTS = SHARED / "contract" / "endpoints.json"
RECORDED = SHARED / "recorded"
SPEC_URI = "urn:test-spec:openapi"
# The shared naming (36 endpoints of endpoints.json plus two Binance extras), in the brief's own notation.
NAMING = """exchangeInfo GET /fapi/v1/exchangeInfo · depth GET /fapi/v1/depth · premiumIndex GET /fapi/v1/premiumIndex ·
fundingRate GET /fapi/v1/fundingRate · openInterest GET /fapi/v1/openInterest · newOrder POST /fapi/v1/order ·
cancelOrder DELETE /fapi/v1/order · modifyOrder PUT /fapi/v1/order · openOrders GET /fapi/v1/openOrders ·
openOrder GET /fapi/v1/openOrder · newBatchOrders POST /fapi/v1/batchOrders ·
cancelBatchOrders DELETE /fapi/v1/batchOrders · changeLeverage POST /fapi/v1/leverage ·
positionRisk GET /fapi/v1/positionRisk · getPositionMode GET /fapi/v1/positionSide/dual ·
changePositionMode POST /fapi/v1/positionSide/dual · getMarginType GET /fapi/v1/marginType ·
changeMarginType POST /fapi/v1/marginType · commissionRate GET /fapi/v1/commissionRate ·
income GET /fapi/v1/income · startUserDataStream POST /fapi/v1/listenKey ·
keepaliveUserDataStream PUT /fapi/v1/listenKey · closeUserDataStream DELETE /fapi/v1/listenKey ·
ping GET /fapi/v1/ping · time GET /fapi/v1/time · trades GET /fapi/v1/trades · klines GET /fapi/v1/klines ·
ticker24hr GET /fapi/v1/ticker/24hr · tickerPrice GET /fapi/v1/ticker/price ·
bookTicker GET /fapi/v1/ticker/bookTicker · queryOrder GET /fapi/v1/order · allOrders GET /fapi/v1/allOrders ·
userTrades GET /fapi/v1/userTrades · cancelAllOpenOrders DELETE /fapi/v1/allOpenOrders ·
balance GET /fapi/v2/balance · account GET /fapi/v2/account · aggTrades GET /fapi/v1/aggTrades ·
testOrder POST /fapi/v1/order/test"""
EXPECTED = {op: (method, path) for op, method, path in (item.split() for item in NAMING.split("·"))}
# Binance's v2 positionRisk body is the endpoint ZTDX serves at v1 (same field set). The v3 positionRisk and v3
# account bodies are a different shape (no leverage/marginType, no feeTier/canTrade) and stay unmapped.
VERSION_ALIASES = {("GET", "/fapi/v2/positionRisk"): "positionRisk"}
# Recorded bodies the spec deliberately rejects (file stem -> reason); allowed only for a doc-example/unknown body of
# a clearly different endpoint version. None is needed today: every mapped recording validates.
EXCLUDED: dict[str, str] = {}
JAVA_TYPES = {"INT": ("integer", "int32"), "LONG": ("integer", "int64"), "BOOL": ("boolean", None)}
# Keywords that judge a value's JSON type or form: dropped where the recorder stringified numbers.
TYPE_KEYWORDS = frozenset({"type", "format", "pattern", "enum", "const", "minimum", "maximum", "minLength",
                           "maxLength", "exclusiveMinimum", "exclusiveMaximum"})


@cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {raw["operationId"]: (method.upper(), path, raw) for path, item in spec()["paths"].items()
            for method, raw in item.items() if method in ("get", "post", "put", "delete")}


def by_key() -> dict[tuple[str, str], str]:
    return {(method, path): op_id for op_id, (method, path, _) in operations().items()}


def deref(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def params_of(op_id: str) -> dict[str, dict[str, Any]]:
    return {deref(p)["name"]: deref(p) for p in operations()[op_id][2].get("parameters", [])}


def validator(pointer: str, document: dict[str, Any] | None = None) -> Draft202012Validator:
    """A Draft 2020-12 validator for the schema at `pointer`, with the spec's components resolvable."""
    resource = Resource.from_contents(document or spec(), default_specification=DRAFT202012)
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/{pointer}"},
                                registry=Registry().with_resource(SPEC_URI, resource))


def success_pointer(op_id: str) -> str:
    method, path, _ = operations()[op_id]
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"paths/{escaped}/{method.lower()}/responses/200/content/application~1json/schema"


def names_only(node: Any, *, in_properties: bool = False) -> Any:
    """The schema with value-type keywords removed, so only field names (`required`) are judged."""
    if isinstance(node, list):
        return [names_only(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:  # keys are field names here, not keywords
        return {name: names_only(sub) for name, sub in node.items()}
    return {key: (sub if key == "if" else names_only(sub, in_properties=key == "properties"))
            for key, sub in node.items() if key not in TYPE_KEYWORDS}


@cache
def names_only_spec() -> dict[str, Any]:
    return names_only(spec())


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def missing(what: Path, names: str) -> list[Any]:
    """One skipped case standing for a parametrization whose shared input is absent."""
    return [pytest.param(*[None] * len(names.split(",")), id="shared-missing",
                         marks=pytest.mark.skip(reason=f"shared input not found: {what}"))]


def test_spec_is_valid_openapi_3_1() -> None:
    assert spec()["openapi"].startswith("3.1")
    validate(spec(), cls=OpenAPIV31SpecValidator)
    assert [s["url"] for s in spec()["servers"]] == ["https://api-sepolia.ztdx.io", "https://api.ztdx.io"]


def test_schemathesis_loads_the_spec_without_warnings_and_with_the_38_operations() -> None:
    gc.collect()  # earlier tests' garbage must not be finalised (ResourceWarning) while the spec loads
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = [r.ok() for r in schemathesis.openapi.from_path(str(SPEC_PATH)).get_all_operations()]
    assert [str(w.message) for w in caught if not issubclass(w.category, ResourceWarning)] == []
    assert {op.definition.raw["operationId"]: (op.method.upper(), op.path) for op in loaded} == EXPECTED


def _drawn_cases(operation: Any) -> list[Any]:
    drawn: list[Any] = []

    @hypothesis.settings(max_examples=3, database=None, deadline=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(operation.as_strategy())
    def collect(case: Any) -> None:
        drawn.append(case)

    collect()
    return drawn


def test_schemathesis_generates_a_positive_case_for_every_operation() -> None:
    for result in schemathesis.openapi.from_path(str(SPEC_PATH)).get_all_operations():
        op = result.ok()
        required = {n for n, p in params_of(op.definition.raw["operationId"]).items() if p.get("required")}
        drawn = _drawn_cases(op)
        assert drawn and all(required <= set(case.query or {}) for case in drawn), op.label


@pytest.mark.parametrize("endpoint", [pytest.param(e, id=f"{e['method']} {e['path']}") for e in load_json(ENDPOINTS)]
                         or missing(ENDPOINTS, "endpoint"))
def test_every_endpoint_is_an_operation_with_its_metadata(endpoint: dict[str, Any]) -> None:
    op_id = by_key().get((endpoint["method"], endpoint["path"]))
    assert op_id is not None and EXPECTED[op_id] == (endpoint["method"], endpoint["path"])
    raw = operations()[op_id][2]
    assert raw["x-security"] == endpoint["security"]
    assert ("security" in raw) == (endpoint["security"] == "SIGNED")
    assert (raw["x-weight"], raw["x-source"]) == (endpoint["weight"], endpoint["source"])
    assert raw["x-doc"] == endpoint["doc_page"] if "doc_page" in endpoint else raw["x-doc"].startswith("https://")
    assert raw["x-time-fields"] == endpoint["time_fields"]
    assert raw.get("x-time-ordered") == endpoint.get("time_ordered_array_field")
    params = params_of(op_id)
    assert set(params) == {p["name"] for p in endpoint["params"]}
    required = {p["name"] for p in endpoint["params"] if p["required"]}
    assert {name for name, p in params.items() if p.get("required")} == required


@pytest.mark.parametrize(("op_id", "ordered", "empty"), [("aggTrades", "$[*].T", []), ("testOrder", None, {})])
def test_extras_are_binance_unconfirmed_operations(op_id: str, ordered: str | None, empty: Any) -> None:
    raw = operations()[op_id][2]
    assert (raw["x-source"], raw.get("x-time-ordered")) == ("binance-unconfirmed", ordered)
    assert raw["x-doc"].startswith("https://") and isinstance(raw["x-weight"], int)
    assert validator(success_pointer(op_id)).is_valid(empty)


def test_only_order_placing_operations_count_orders() -> None:
    counting = {op_id for op_id, (_, _, raw) in operations().items() if raw.get("x-order-count")}
    assert counting == {"newOrder", "newBatchOrders"}


def test_signed_operations_carry_the_signing_parameters() -> None:
    scheme = spec()["components"]["securitySchemes"]["ApiKeyAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-MBX-APIKEY")
    for op_id, (_, _, raw) in operations().items():
        params = params_of(op_id)
        assert raw["x-security"] in ("SIGNED", "NONE"), op_id
        if raw["x-security"] == "NONE":
            assert "signature" not in params and "security" not in raw, op_id
            continue
        assert raw["security"] == [{"ApiKeyAuth": []}], op_id
        assert params["timestamp"]["required"] and params["signature"]["required"], op_id
        window = params["recvWindow"]["schema"]
        assert (window["format"], window["minimum"], window["maximum"], window["default"]) == ("int64", 1, 60000, 5000)


def _java_params() -> list[Any]:
    cases = []
    for endpoint in load_json(ENDPOINTS):
        op_id = by_key().get((endpoint["method"], endpoint["path"]), f"{endpoint['method']} {endpoint['path']}")
        cases += [pytest.param(op_id, p, id=f"{op_id}.{p['name']}") for p in endpoint["params"]]
    return cases or missing(ENDPOINTS, "op_id,param")


@pytest.mark.parametrize(("op_id", "param"), _java_params())
def test_parameters_follow_the_java_type_mapping(op_id: str, param: dict[str, Any]) -> None:
    found = params_of(op_id)[param["name"]]
    assert found["in"] == "query"
    schema = deref(found.get("schema") or found["content"]["application/json"]["schema"])
    if param["type"] in JAVA_TYPES:
        assert (schema["type"], schema.get("format")) == JAVA_TYPES[param["type"]]
    if param["type"] == "DECIMAL":
        assert (schema["type"], schema["format"]) == ("string", "decimal")
    if param["type"] == "JSON_LIST":
        assert (schema["type"], schema["maxItems"]) == ("array", param["max_items"])
    for key in ("enum", "default"):
        if key in param and param["type"] != "BOOL_OR_STRING":  # that enum mixes types: checked by value below
            assert schema[key] == param[key]
    if "max" in param:
        assert schema["maximum"] == param["max"]


UUID = "3fa42833-9508-4061-8d80-b68563dcd521"
# A ZTDX-style order (open-orders page: UUID ids, 18+ fractional digits).
ZTDX_ORDER = {"orderId": UUID, "clientOrderId": UUID, "symbol": "BTCUSDT", "status": "NEW", "side": "BUY",
              "price": "70168.520000000000000000", "origQty": "1.4033704000000000000000000000", "avgPrice": "0",
              "executedQty": "0", "cumQty": "0", "cumQuote": "0", "stopPrice": "0", "timeInForce": "GTC",
              "type": "LIMIT", "origType": "LIMIT", "positionSide": "BOTH", "reduceOnly": False,
              "closePosition": False, "workingType": "CONTRACT_PRICE", "priceProtect": False, "time": 1,
              "updateTime": 1}
ERROR_ITEM = {"code": -2010, "msg": "Account has insufficient balance for requested action."}
# (component schema or operationId, value, valid)
SCHEMA_VALUES = [
    ("Decimal", "70168.520000000000000000", True), ("Decimal", "1.4033704000000000000000000000", True),
    ("Decimal", "-0.00010000", True), ("Decimal", "10", True), ("Decimal", 10.5, False), ("Decimal", "1e5", False),
    ("Decimal", "", False), ("Decimal", ".5", False), ("OrderId", 1917641, True), ("OrderId", UUID, True),
    ("OrderId", None, False), ("OrderIdParam", 2254222045, True), ("OrderIdParam", UUID, True),
    ("OrderIdParam", "not-a-uuid", False), ("BoolOrString", True, True), ("BoolOrString", "false", True),
    ("BoolOrString", "yes", False), ("Error", {"code": -1121, "msg": "Invalid symbol."}, True),
    ("Error", {"code": "-1121", "msg": "Invalid symbol."}, False), ("Error", {"code": -1121}, False),
    ("changePositionMode", {"code": 200, "msg": "success"}, True), ("changeMarginType", {"code": -1, "msg": ""}, False),
    ("closeUserDataStream", {}, True), ("getPositionMode", {"dualSidePosition": "false"}, False),
    ("startUserDataStream", {"listenKey": "a" * 64}, True), ("startUserDataStream", {"listenKey": "a" * 60}, False),
    ("openOrders", [ZTDX_ORDER], True), ("newBatchOrders", [ZTDX_ORDER, ERROR_ITEM], True),
    ("newBatchOrders", [{"code": -2010}], False), ("premiumIndex", [], True),
    ("depth", {"lastUpdateId": 1, "E": 1, "T": 1, "bids": [["1"]], "asks": []}, False),
]


@pytest.mark.parametrize(("target", "value", "valid"), SCHEMA_VALUES, ids=lambda v: repr(v)[:30])
def test_schemas_accept_and_reject_as_documented(target: str, value: Any, valid: bool) -> None:
    pointer = success_pointer(target) if target in EXPECTED else f"components/schemas/{target}"
    assert validator(pointer).is_valid(value) is valid


def _recorded_cases() -> list[Any]:
    cases = []
    for entry in load_json(RECORDED / "manifest.json"):
        stem = Path(entry["file"]).stem
        marks = [pytest.mark.xfail(strict=True, reason=EXCLUDED[stem])] if stem in EXCLUDED else []
        cases.append(pytest.param(entry, id=stem, marks=marks))
    return cases or missing(RECORDED, "entry")


@pytest.mark.parametrize("entry", _recorded_cases())
def test_recorded_response_validates_against_its_operation(entry: dict[str, Any]) -> None:
    key = (entry["method"], entry["path"])
    op_id = by_key().get(key) or VERSION_ALIASES.get(key)
    if entry["method"] is None:  # the recorded -1021 error body
        pointer = "components/schemas/Error"
    elif op_id is None:
        pytest.skip(f"not a fapi operation of this spec: {entry['method']} {entry['path']}")
    else:
        pointer = success_pointer(op_id)
    # The ccxt recorder turned numbers into strings: only the field names are evidence there.
    document = spec() if entry["types_reliable"] else names_only_spec()
    found = validator(pointer, document).iter_errors(load_json(RECORDED / entry["file"]))
    assert [f"{e.json_path}: {e.message[:200]}" for e in found] == [], f"{entry['file']} ({entry['kind']})"


def test_names_only_check_still_requires_field_names() -> None:
    check = validator(success_pointer("depth"), names_only_spec())
    assert check.is_valid({"lastUpdateId": "1", "E": "2", "T": "3", "bids": [["1", 2]], "asks": []})
    assert not check.is_valid({"lastUpdateId": "1", "E": "2", "bids": [], "asks": []})


# (recorded file, operation, path to a required field, path to a DECIMAL string in the same body)
NEGATIVE_CONTROLS = [
    ("nautilus_trader/usdt_futures_depth.json", "depth", ("lastUpdateId",), ("bids", 0, 0)),
    ("nautilus_trader/http_futures_market_open_interest.json", "openInterest", ("time",), ("openInterest",)),
    ("nautilus_trader/http_futures_market_premium_index.json", "premiumIndex", ("markPrice",), ("indexPrice",)),
    ("nautilus_trader/http_futures_usdt_funding_rate.json", "fundingRate", (0, "fundingTime"), (1, "fundingRate")),
    ("nautilus_trader/http_futures_usdt_ticker_24hr.json", "ticker24hr", ("count",), ("lastPrice",)),
    ("nautilus_trader/http_futures_account_orders.json", "openOrders", (0, "clientOrderId"), (0, "origQty")),
    ("nautilus_trader/http_futures_account_trades.json", "userTrades", (1, "commission"), (0, "realizedPnl")),
    ("nautilus_trader/http_futures_market_klines.json", "klines", (0, 11), (0, 1)),
    ("ccxt/createOrders_0_create_swap_orders.json", "newBatchOrders", (0, "orderId"), (0, "price")),
    ("nautilus_trader/rs_futures_balance.json", "balance", (0, "asset"), (0, "balance")),
    ("nautilus_trader/http_futures_market_exchange_info.json", "exchangeInfo", ("serverTime",),
     ("symbols", 0, "filters", 0, "tickSize")),
    ("nautilus_trader/http_futures_account_positions_one_way.json", "positionRisk", (0, "leverage"),
     (0, "markPrice")),
    ("nautilus_trader/rs_futures_account_info_v2.json", "account", ("assets",), ("positions", 0, "entryPrice")),
]


def _mutated(body: Any, path: tuple[Any, ...], how: str) -> Any:
    body = copy.deepcopy(body)
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    if how == "missing-required":
        del parent[path[-1]]
    else:
        assert isinstance(parent[path[-1]], str), "the control must start from a DECIMAL string"
        parent[path[-1]] = float(parent[path[-1]])
    return body


def _control_cases() -> list[Any]:
    if not (RECORDED / "manifest.json").exists():
        return missing(RECORDED, "file,op_id,path,how")
    return [pytest.param(f, op, req if how == "missing-required" else dec, how, id=f"{op}-{how}")
            for f, op, req, dec in NEGATIVE_CONTROLS for how in ("missing-required", "decimal-as-number")]


@pytest.mark.parametrize(("file", "op_id", "path", "how"), _control_cases())
def test_mutated_recorded_body_fails_validation(file: str, op_id: str, path: tuple[Any, ...], how: str) -> None:
    assert len({op for _, op, _, _ in NEGATIVE_CONTROLS}) >= 6, "controls must cover at least six operations"
    body = load_json(RECORDED / "responses" / file)
    check = validator(success_pointer(op_id))
    assert check.is_valid(body), "the unmutated body must pass, or the control proves nothing"
    assert not check.is_valid(_mutated(body, path, how)), f"{op_id} accepts a body with {how} at {path}"


def _marked(node: Any, source: str, path: str = "") -> list[str]:
    """JSON paths of every node whose x-values-from starts with `source` (a run-time constraint)."""
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _marked(item, source, f"{path}/{i}")]
    if not isinstance(node, dict):
        return []
    own = [path] if "x-values-from" in node and str(node["x-values-from"]).startswith(source) else []
    return own + [p for key, sub in node.items() for p in _marked(sub, source, f"{path}/{key}")]


def test_every_request_symbol_and_only_a_request_symbol_takes_the_target_symbols() -> None:
    for op_id in operations():
        symbol = params_of(op_id).get("symbol")
        assert symbol is None or symbol["schema"].get("x-values-from") == "exchangeInfo.symbols[].symbol", op_id
    assert sorted(_marked(spec(), "exchangeInfo.symbols[].symbol")) == [
        "/components/parameters/symbol/schema", "/components/parameters/symbolOptional/schema",
        "/components/schemas/BatchOrderItem/properties/symbol"]
    assert not [p for p in _marked(spec(), "") if "/responses/" in p]


def test_orders_named_by_the_run_are_the_one_of_order_parameters() -> None:
    assert sorted(_marked(spec(), "run.orders[].")) == ["/components/parameters/orderId",
                                                        "/components/parameters/origClientOrderId"]
    grouped = {op_id: raw["x-one-of-params"] for op_id, (_, _, raw) in operations().items() if "x-one-of-params" in raw}
    assert set(grouped) == {"cancelOrder", "modifyOrder", "queryOrder", "openOrder", "cancelBatchOrders"}
    for op_id, names in grouped.items():
        params = params_of(op_id)
        assert len(names) == 2 and all(n in params and not params[n].get("required") for n in names), op_id


def test_a_documented_window_bound_is_on_operations_with_a_window() -> None:
    bounded = {op_id for op_id, (_, _, raw) in operations().items() if "x-max-window-ms" in raw}
    assert bounded == {"allOrders", "userTrades"}
    for op_id in bounded:
        assert {"startTime", "endTime"} <= set(params_of(op_id)), op_id


def test_the_spec_with_a_target_s_symbols_is_still_valid_and_loadable() -> None:
    from conformance.harness import generation

    constrained = generation.constrain(spec(), ("XBTUSD", "ETHUSD"))
    validate(constrained, cls=OpenAPIV31SpecValidator)
    loaded = [r.ok() for r in schemathesis.openapi.from_dict(constrained).get_all_operations()]
    assert len(loaded) == 38


def test_a_per_symbol_bound_names_a_field_of_exchange_info_symbols() -> None:
    bounded = {(op_id, name): p["x-maximum-from"] for op_id in operations()
               for name, p in params_of(op_id).items() if "x-maximum-from" in p}
    assert bounded == {("changeLeverage", "leverage"): "exchangeInfo.symbols[].maxLeverage"}


def test_a_refused_value_is_one_the_contract_lists_and_says_is_refused() -> None:
    refused = {(op_id, name): (p["x-refused-values"], deref(p["schema"]).get("enum", []))
               for op_id in operations() for name, p in params_of(op_id).items() if "x-refused-values" in p}
    assert refused == {("changeMarginType", "marginType"): (["ISOLATED"], ["CROSSED", "ISOLATED", "CROSS"])}
    path = SHARED / "contract" / "fapi-contract.md"
    if not path.exists():
        pytest.skip(f"shared input not found: {path}")
    assert "`CROSSED` (idempotent) or `ISOLATED` (rejected with -4046)" in path.read_text(encoding="utf-8")  # A16


def test_a_state_precondition_names_an_operation_of_the_spec() -> None:
    after = {op_id: raw["x-after"] for op_id, (_, _, raw) in operations().items() if "x-after" in raw}
    assert after == {"keepaliveUserDataStream": "startUserDataStream"}


def _doc_endpoints(label: str) -> set[tuple[str, str]]:
    """The `METHOD /path` pairs general-info lists after `label` (up to the next sentence that is not one)."""
    import re

    source = SHARED / "contract" / "general-info.txt"
    if not source.is_file():  # as the catalogue lint: a clone without ../shared cannot read the doc
        pytest.skip(f"{source} is absent (clone the shared contract beside the repository)")
    text = source.read_text(encoding="utf-8")
    pair = r"(GET|POST|PUT|DELETE) (/fapi/v\d/[\w/]+)"
    run = re.match(rf"(?:,?\s*{pair})+", text.split(label, 1)[1])
    assert run is not None, f"general-info lists no endpoint after {label!r}"
    return set(re.findall(pair, run.group(0)))


def test_throttle_extensions_mark_exactly_the_endpoints_general_info_lists() -> None:
    def marked(extension: str) -> set[tuple[str, str]]:
        return {(method, path) for method, path, raw in operations().values() if raw.get(extension)}

    assert marked("x-throttled") == _doc_endpoints("Applicable endpoints:") == {
        ("POST", "/fapi/v1/order"), ("POST", "/fapi/v1/batchOrders"), ("POST", "/fapi/v1/order/test")}
    assert marked("x-throttle-exempt") == _doc_endpoints("Covered endpoints:") == {
        ("POST", "/fapi/v1/order"), ("POST", "/fapi/v1/batchOrders")}


def test_trading_operations_are_those_that_change_orders_or_account_settings() -> None:
    trading = {op_id for op_id, (_, _, raw) in operations().items() if raw.get("x-trading")}
    assert trading == {"newOrder", "cancelOrder", "modifyOrder", "newBatchOrders", "cancelBatchOrders", "testOrder",
                       "cancelAllOpenOrders", "changeLeverage", "changePositionMode", "changeMarginType"}
    assert all(operations()[op_id][0].upper() != "GET" for op_id in trading)
