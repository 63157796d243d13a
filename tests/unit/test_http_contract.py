"""What the OpenAPI document promises beyond each route's happy path, checked on the handlers: 405 with Allow, path
parameters percent-decoded, every limit the server enforces stated in the document (and nothing the document admits
refused), every error code an operation can answer listed for it, the Swagger UI page."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger.domain
import ledger.kernel
from infra.topology import TOPOLOGY
from ledger import bootstrap
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import InMemoryAlertViews, InMemoryReportStore
from ledger.components import ALERT_VIEWS, REPORT_STORE
from ledger.domain.errors import CategorizedError
from ledger.domain.fraud import Alert
from ledger.entrypoints import queries
from ledger.entrypoints.http import errors as http_errors
from ledger.entrypoints.http.aggregate_routes import instant
from ledger.entrypoints.http.docs_page import docs_page
from ledger.entrypoints.http.formats import DATE_PATTERN, INSTANT_PATTERN, MAX_QUERY_INTEGER
from ledger.entrypoints.http.openapi import OPERATIONS, openapi_document
from ledger.entrypoints.http.requests import command_context
from ledger.entrypoints.http.responses import page_response
from local.apigw import http_api_event
from tests.unit.http_support import call, error_code, lambda_context


@pytest.fixture
def store() -> Iterator[InMemoryEventStore]:
    store = InMemoryEventStore()
    bootstrap.reset().provide(bootstrap.COMMAND_STORE, store).provide(bootstrap.EVENT_STORE, store)
    yield store
    bootstrap.reset()


def open_account(account: str = "acc-1") -> None:
    response = call("POST", "/accounts", {"owner": "Ann", "initial_balance": 100, "account_id": account})
    assert response["statusCode"] == 201, response["json"]


# --- 405 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/accounts/acc-1", "GET"),
        ("GET", "/accounts/acc-1/deposits", "POST"),
        ("PUT", "/accounts", "GET, POST"),
        ("PATCH", "/orders/o-1", "GET"),
        ("HEAD", "/health", "GET"),
        ("OPTIONS", "/reports/daily/2026-11-26", "GET"),
        ("GET", "/shipments/s-1/dispatch", "POST"),
    ],
)
def test_a_path_of_the_api_with_another_method_is_405_with_allow(
    store: InMemoryEventStore, method: str, path: str, allow: str
) -> None:
    # WHEN a path of the API is asked with a method it does not take (API Gateway's $default route: the queries)
    response = call(method, path)
    # THEN 405 method_not_allowed, Allow listing the methods it takes
    assert (response["statusCode"], error_code(response)) == (405, "method_not_allowed")
    assert response["headers"]["Allow"] == allow


@pytest.mark.parametrize("path", ["/nowhere", "/accounts/a/b/c", "/", "/accounts/acc-1/"])
def test_a_path_the_api_does_not_have_is_404_not_found(store: InMemoryEventStore, path: str) -> None:
    response = call("DELETE", path)
    assert (response["statusCode"], error_code(response)) == (404, "not_found")
    assert "Allow" not in response["headers"]


def test_every_path_of_the_topology_has_the_same_methods_as_in_the_document(store: InMemoryEventStore) -> None:
    for path, item in openapi_document()["paths"].items():
        concrete = re.sub(r"\{\w+\}", "x-1", path).replace("/daily/x-1", "/daily/2026-11-26")
        response = call("TRACE", concrete)
        assert response["headers"]["Allow"] == ", ".join(sorted(method.upper() for method in item)), path
    assert {f"{o.method} {o.path}" for o in OPERATIONS} == set(TOPOLOGY.routes)


def test_a_route_whose_parameter_no_route_can_read_is_a_validation_error_naming_it(store: InMemoryEventStore) -> None:
    # GIVEN what a deployed API Gateway hands over for /accounts/a%22b (it decodes the path: a '"' no route reads)
    event = http_api_event("GET", '/accounts/a"b')
    response = queries.lambda_handler(event, lambda_context())
    # THEN the parameter is named, as it would be for any other value the pattern refuses
    body = json.loads(response["body"])
    assert (response["statusCode"], body["error"]["code"]) == (422, "validation_error")
    assert [detail["field"] for detail in body["error"]["details"]] == ["account_id"]


# --- percent-encoded path parameters ---------------------------------------------------------------------------


def test_a_percent_encoded_path_id_is_decoded_then_checked(store: InMemoryEventStore) -> None:
    # GIVEN an account acc-1
    open_account("acc-1")
    # WHEN its id arrives percent-encoded (%2D is '-'), in a command and in a read
    deposited = call("POST", "/accounts/acc%2D1/deposits", {"amount": 5})
    read = call("GET", "/accounts/acc%2d1")
    # THEN it is the same account
    assert (deposited["statusCode"], deposited["json"]["balance"]) == (200, 105)
    assert (read["statusCode"], read["json"]["account_id"]) == (200, "acc-1")
    # AND a decoded value the pattern refuses is refused as before
    for path in ("/accounts/acc%201", "/accounts/acc%2F1", "/accounts/%FF"):
        response = call("GET", path)
        assert (response["statusCode"], error_code(response)) == (422, "validation_error"), path


def test_api_gateways_decoded_path_parameters_are_taken_as_they_are_not_decoded_twice(
    store: InMemoryEventStore,
) -> None:
    # GIVEN an account acc-1 WHEN API Gateway hands over /accounts/acc%2D1 (pathParameters decoded once, by it)
    open_account("acc-1")
    event = http_api_event("GET", "/accounts/acc%2D1", path_parameters={"account_id": "acc-1"})
    assert queries.lambda_handler(event, lambda_context())["statusCode"] == 200
    # AND a client's %252D (API Gateway decodes it to %2D) stays %2D: refused, not read as '-'
    twice = http_api_event("GET", "/accounts/acc%252D1", path_parameters={"account_id": "acc%2D1"})
    assert queries.lambda_handler(twice, lambda_context())["statusCode"] == 422


def test_a_percent_encoded_sku_and_date_are_decoded_too(store: InMemoryEventStore) -> None:
    bootstrap.root().provide(REPORT_STORE, InMemoryReportStore())
    assert call("POST", "/inventory/mug%2E1/restocks", {"quantity": 1})["json"]["sku"] == "mug.1"
    assert call("GET", "/inventory/mug%2e1")["statusCode"] == 200
    assert call("GET", "/reports/daily/2026%2D11%2D26")["json"]["date"] == "2026-11-26"


# --- limits: what the document admits is what the server admits ------------------------------------------------


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_the_date_pattern_admits_every_real_date(day: date) -> None:
    assert re.fullmatch(DATE_PATTERN, day.isoformat())


@pytest.mark.parametrize("text", ["0000-00-00", "0000-01-01", "2026-02-29", "2026-02-30", "2026-04-31", "2026-13-01"])
def test_the_date_pattern_refuses_what_no_calendar_has(text: str) -> None:
    assert not re.fullmatch(DATE_PATTERN, text)
    with pytest.raises(ValueError, match=r"."):
        date.fromisoformat(text)


@settings(max_examples=300)
@given(st.from_regex(INSTANT_PATTERN, fullmatch=True))
def test_every_instant_the_pattern_admits_is_one_the_server_reads(text: str) -> None:
    # (or one at the calendar's very edge, that the document says must fall within years 1-9999 once in UTC)
    try:
        parsed: datetime | list[http_errors.FieldError] | None = instant(text, "as_of")
    except http_errors.RequestValidationError as error:
        parsed = error.details
    if isinstance(parsed, datetime):
        assert parsed == datetime.fromisoformat(text)
    else:
        assert parsed
        assert parsed[0].message.startswith("must fall within"), (text, parsed)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        (f"version={MAX_QUERY_INTEGER}", 404, "version_not_found"),  # the largest the document admits
        (f"version={MAX_QUERY_INTEGER + 1}", 422, "validation_error"),  # 19 digits
        ("version=%2B1", 422, "validation_error"),  # a sign
        ("version=1.0", 422, "validation_error"),
    ],
)
def test_query_integers_are_at_most_18_digits_as_the_document_says(
    store: InMemoryEventStore, query: str, status: int, code: str
) -> None:
    open_account()
    response = call("GET", f"/accounts/acc-1?{query}")
    assert (response["statusCode"], error_code(response)) == (status, code)
    schema = openapi_document()["paths"]["/accounts/{account_id}"]["get"]["parameters"][1]["schema"]
    assert schema["maximum"] == MAX_QUERY_INTEGER


@pytest.mark.parametrize(
    ("header", "value", "ok"),
    [
        ("If-Match", '"1"', True),
        ("If-Match", 'W/"1"', True),
        ("If-Match", "1", True),
        ("If-Match", "*", True),
        ("If-Match", '"x"', False),
        ("If-Match", '"1", "2"', False),
        ("Idempotency-Key", "k" * 255, True),
        ("Idempotency-Key", "k" * 256, False),
        ("Idempotency-Key", "has space", False),
        ("Idempotency-Key", "caf\u00e9", False),
    ],
)
def test_headers_are_refused_exactly_where_their_documented_pattern_refuses_them(
    header: str, value: str, ok: bool
) -> None:
    pattern = openapi_document()["paths"]["/accounts/{account_id}/deposits"]["post"]["parameters"]
    schema = next(p["schema"] for p in pattern if p["name"] == header)
    assert bool(re.fullmatch(schema["pattern"], value)) is ok
    event = http_api_event("POST", "/accounts/acc-1/deposits", headers={header: value})
    if ok:
        command_context(event, {}, "c")
    else:
        with pytest.raises(http_errors.RequestValidationError):
            command_context(event, {}, "c")


def test_the_mutually_exclusive_parameters_are_stated_where_a_client_reads_them() -> None:
    paths = openapi_document()["paths"]
    state = {p["name"]: p for p in paths["/accounts/{account_id}"]["get"]["parameters"]}
    alerts = {p["name"]: p for p in paths["/alerts"]["get"]["parameters"]}
    assert "not both" in state["version"]["schema"]["description"]
    assert "not both" in state["as_of"]["schema"]["description"]
    assert "not both" in alerts["order_id"]["schema"]["description"]


# --- every error code, per operation -----------------------------------------------------------------------------

# Codes no HTTP request can meet: base classes, and errors only the stream consumers' commands can raise.
NOT_HTTP = frozenset(
    {
        "domain_error",
        "application_error",
        "idempotency_key_in_use",  # answered with the first outcome (or, at worst, concurrency_conflict)
        "customer_not_found",
        "customer_exists",  # customers are kept by the order-fraud consumer only
        "stock_exists",  # a restock creates or changes stock alike
        "shipment_exists",  # shipments are requested by the shipping consumer only
        "heartbeat_not_found",
        "heartbeat_exists",  # beats are recorded by the heartbeat function only, and never read over HTTP
    }
)


def every_code() -> set[str]:
    """The code of every error type of the ledger's domain and kernel (not the test aggregates': tests/counter.py)."""
    for package in (ledger.domain, ledger.kernel):
        for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    found, pending = set(), [CategorizedError]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub.__module__.startswith("ledger."):
                found.add(sub.__dict__["code"])
            pending.append(sub)
    return found


def documented_codes(operation: dict[str, Any]) -> set[str]:
    codes: set[str] = set()
    for response in operation["responses"].values():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        for candidate in schema.get("anyOf", [schema]):
            code = candidate.get("properties", {}).get("error", {}).get("properties", {}).get("code", {})
            codes |= set(code.get("enum", []))
    return codes


def test_every_error_code_a_client_can_meet_is_listed_by_some_operation_and_none_is_made_up() -> None:
    listed = set().union(
        *(documented_codes(op) for item in openapi_document()["paths"].values() for op in item.values())
    )
    http_codes = {"invalid_json", "payload_too_large", "internal_error", "validation_error"}
    assert listed == (every_code() - NOT_HTTP) | http_codes
    assert "balance_limit_exceeded" in documented_codes(
        openapi_document()["paths"]["/accounts/{account_id}/deposits"]["post"]
    )


def test_each_operation_lists_its_own_codes_under_their_status() -> None:
    paths = openapi_document()["paths"]
    pay = paths["/orders/{order_id}/payments"]["post"]["responses"]
    assert pay["409"]["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"]["enum"] == [
        "order_not_open",
        "order_empty",
        "payment_recorded",
        "overpayment",
        "concurrency_conflict",
    ]
    account = paths["/accounts/{account_id}"]["get"]["responses"]["404"]
    assert set(
        account["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"]["enum"]
    ) == {
        "account_not_found",
        "version_not_found",
    }
    assert "404" not in paths["/accounts"]["get"]["responses"]  # a list is never 404


def test_the_security_scheme_is_the_deployed_one_and_says_the_local_runtime_does_not_check_it() -> None:
    document = openapi_document()
    scheme = document["components"]["securitySchemes"]["sigv4"]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert "local runtime" in scheme["description"]
    assert document["security"] == [{"sigv4": []}]
    assert all("security" not in op for item in document["paths"].values() for op in item.values())  # none is open


# --- /alerts, a page at a time -------------------------------------------------------------------------------------


def test_alerts_are_paged_newest_first_with_a_cursor(store: InMemoryEventStore) -> None:
    # GIVEN five alerts, two of them of the same millisecond
    views = InMemoryAlertViews()
    bootstrap.root().provide(ALERT_VIEWS, views)
    times = ["01", "02", "03", "03", "04"]
    for number, minute in enumerate(times):
        views.put_if_absent(
            Alert(f"a-{number}", "large_transaction", "high", "acc-1", 5, (), f"2026-11-26T00:{minute}:00.000Z", "")
        )
    # WHEN they are read two at a time, following next_cursor
    seen, cursor, pages = [], None, 0
    while True:
        page = call("GET", "/alerts?limit=2" + (f"&cursor={cursor}" if cursor else ""))["json"]
        seen += [alert["alert_id"] for alert in page["alerts"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # THEN each alert comes once, newest first, and the last page says there is no more
    assert seen == ["a-4", "a-3", "a-2", "a-1", "a-0"]
    assert pages == 3
    only = call("GET", "/alerts?account_id=acc-1&limit=5")["json"]
    assert (len(only["alerts"]), only["next_cursor"]) == (5, None)
    for bad in ("nonsense", "e30", "eyJiZWZvcmUiOiAiIn0"):  # not base64 JSON, {}, {"before": ""}
        response = call("GET", f"/alerts?cursor={bad}")
        assert (response["statusCode"], response["json"]["error"]["details"][0]["field"]) == (422, "cursor"), bad


# --- /docs -------------------------------------------------------------------------------------------------------


def test_the_docs_page_holds_swagger_ui_and_the_document_and_loads_nothing_from_elsewhere(
    store: InMemoryEventStore,
) -> None:
    response = queries.lambda_handler(http_api_event("GET", "/docs"), lambda_context())
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in response["headers"]["Content-Security-Policy"]
    page = response["body"]
    assert page == docs_page()
    assert "SwaggerUIBundle(" in page
    assert json.dumps(openapi_document()["info"]["description"]).replace("</", "<\\/") in page
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)  # no CDN, no external stylesheet
    assert "validatorUrl: null" in page  # no badge from validator.swagger.io
    gzipped = queries.lambda_handler(
        http_api_event("GET", "/docs", headers={"Accept-Encoding": "gzip"}), lambda_context()
    )
    assert (gzipped["headers"].get("Content-Encoding"), gzipped["isBase64Encoded"]) == ("gzip", True)
    assert len(gzipped["body"]) < len(page) / 2


@pytest.mark.parametrize(
    "failure", [ValueError("not a cursor this API gave out"), OverflowError("date value out of range")]
)
def test_a_cursor_a_read_model_cannot_use_is_a_validation_error_not_a_crash(failure: Exception) -> None:
    # (e.g. /orders with a crafted cursor whose day is 0001-01-01: the feed's day arithmetic overflows)
    def fetch() -> tuple[list[object], str | None]:
        raise failure

    with pytest.raises(http_errors.RequestValidationError) as refused:
        page_response("orders", lambda row: {}, fetch)
    assert refused.value.details
    assert [detail.field for detail in refused.value.details] == ["cursor"]
