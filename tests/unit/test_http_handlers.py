"""The Lambda handlers, called with API Gateway HTTP API events, over the in-memory store."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from infra.topology import TOPOLOGY
from ledger import bootstrap
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import InMemoryAlertViews, InMemoryReportStore, InMemoryStateViews
from ledger.application.accounts import ACCOUNT
from ledger.components import ACCOUNT_VIEWS, ALERT_VIEWS, REPORT_STORE
from ledger.domain.accounts import Account
from ledger.domain.fraud import Alert
from ledger.domain.reports import DailyTotals, ReportKey
from ledger.entrypoints import commands, queries
from ledger.entrypoints.http.openapi import OPERATIONS, openapi_document, powertools_path
from ledger.kernel.records import EventRecord, StreamId
from local.apigw import http_api_event
from tests.unit.http_support import call, error_code, lambda_context


@pytest.fixture
def store() -> Iterator[InMemoryEventStore]:
    """One in-memory store behind both the command function's appends and the query function's reads; every other
    part (the command service's settings above all) comes from the topology's environment, as deployed."""
    store = InMemoryEventStore()
    bootstrap.reset().provide(bootstrap.COMMAND_STORE, store).provide(bootstrap.EVENT_STORE, store)
    yield store
    bootstrap.reset()


def open_account(account: str = "acc-1", balance: int = 10_000) -> dict[str, Any]:
    return call("POST", "/accounts", {"owner": "Ann", "initial_balance": balance, "account_id": account})


def test_opening_answers_201_with_state_location_and_etag(store: InMemoryEventStore) -> None:
    response = open_account()
    assert response["statusCode"] == 201
    assert response["headers"]["Location"] == "/accounts/acc-1"
    assert response["headers"]["ETag"] == '"1"'
    assert response["json"] == {
        "account_id": "acc-1",
        "owner": "Ann",
        "currency": "USD",
        "balance": 10_000,
        "status": "open",
        "version": 1,
        "opened_at": response["json"]["opened_at"],
        "updated_at": response["json"]["opened_at"],
    }


def test_an_account_id_is_generated_when_left_out(store: InMemoryEventStore) -> None:
    response = call("POST", "/accounts", {"owner": "Ann"})
    assert response["statusCode"] == 201
    assert len(response["json"]["account_id"]) == 36


def test_the_seed_scenario_over_http(store: InMemoryEventStore) -> None:
    open_account()
    assert call("POST", "/accounts/acc-1/deposits", {"amount": 5_000})["json"]["balance"] == 15_000
    assert call("POST", "/accounts/acc-1/withdrawals", {"amount": 2_000})["json"]["balance"] == 13_000
    state = call("GET", "/accounts/acc-1")
    assert (state["statusCode"], state["json"]["balance"], state["headers"]["ETag"]) == (200, 13_000, '"3"')
    assert call("GET", "/accounts/acc-1?version=2")["json"]["balance"] == 15_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 5.5}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "5"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 10**40}, "amount"),
        ({"amount": 5, "fee": 1}, "fee"),
        ({}, "amount"),
        ({"amount": 5, "description": "x" * 501}, "description"),
        ([5], "body"),
    ],
)
def test_invalid_bodies_get_422_naming_the_field_and_write_nothing(
    store: InMemoryEventStore, body: Any, field: str
) -> None:
    open_account()
    appends = store.appends
    response = call("POST", "/accounts/acc-1/deposits", body)
    assert response["statusCode"] == 422
    assert error_code(response) == "validation_error"
    assert field in [detail["field"] for detail in response["json"]["error"]["details"]]
    assert store.appends == appends


def test_an_integer_literal_beyond_any_limit_is_a_validation_error_not_a_crash(store: InMemoryEventStore) -> None:
    open_account()
    response = call("POST", "/accounts/acc-1/deposits", raw=b'{"amount": ' + b"9" * 5000 + b"}")
    assert response["statusCode"] == 422


@pytest.mark.parametrize(
    ("literal", "balance"),
    [(b"5.0", 10_005), (b"5e0", 10_005), (b"5E+2", 10_500), (b"99999999999999.90e1", 1_000_000_000_009_999)],
)
def test_an_integer_written_with_a_fraction_or_an_exponent_is_that_integer(
    store: InMemoryEventStore, literal: bytes, balance: int
) -> None:
    # GIVEN an account (10,000) WHEN a deposit's amount is an integer in JSON Schema's sense (no fractional part)
    open_account(balance=10_000)
    body = b'{"amount": ' + literal + b"}"
    response = call("POST", "/accounts/acc-1/deposits", raw=body)
    # THEN it is that integer
    assert (response["statusCode"], response["json"]["balance"]) == (200, balance)


@pytest.mark.parametrize("literal", [b"5.5", b"1e-400", b"1e999999999", b"-0.0"])
def test_a_number_that_is_no_integer_or_beyond_any_limit_is_a_validation_error_not_a_crash(
    store: InMemoryEventStore, literal: bytes
) -> None:
    open_account()
    response = call("POST", "/accounts/acc-1/deposits", raw=b'{"amount": ' + literal + b"}")
    assert (response["statusCode"], error_code(response)) == (422, "validation_error")


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b'{"amount": NaN}', b'{"amount": 1, "amount": 2}', b"\xff\xfe", b"[" * 50_000],
)
def test_malformed_json_gets_400(store: InMemoryEventStore, raw: bytes) -> None:
    open_account()
    response = call("POST", "/accounts/acc-1/deposits", raw=raw)
    assert (response["statusCode"], error_code(response)) == (400, "invalid_json")


def test_a_base64_body_is_decoded(store: InMemoryEventStore) -> None:
    open_account()
    event = http_api_event(
        "POST", "/accounts/acc-1/deposits", headers={"content-type": "application/octet-stream"}, body=b'{"amount": 7}'
    )
    assert event["isBase64Encoded"]
    assert base64.b64decode(event["body"]) == b'{"amount": 7}'
    assert commands.lambda_handler(event, lambda_context())["statusCode"] == 200


def test_a_body_over_64_kib_gets_413(store: InMemoryEventStore) -> None:
    response = call("POST", "/accounts", {"owner": "A" * (64 * 1024)})
    assert (response["statusCode"], error_code(response)) == (413, "payload_too_large")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner": "Ann", "currency": "XYZ"}, "currency"),
        ({"owner": "Ann", "currency": "usd"}, "currency"),
        ({"owner": "   "}, "owner"),
        ({"owner": "Ann", "account_id": "has space"}, "account_id"),
        ({"owner": "Ann", "initial_balance": -1}, "initial_balance"),
        ({"owner": 5}, "owner"),
        ({"owner": "A\u0000B"}, "owner"),
        ({"owner": "\ud800"}, "owner"),
    ],
)
def test_opening_validates_every_field(store: InMemoryEventStore, body: dict[str, Any], field: str) -> None:
    response = call("POST", "/accounts", body)
    assert response["statusCode"] == 422
    assert field in [detail["field"] for detail in response["json"]["error"]["details"]]
    assert store.appends == 0


@pytest.mark.parametrize(
    ("setup", "method", "path", "body", "status", "code"),
    [
        (False, "POST", "/accounts/nobody/deposits", {"amount": 1}, 404, "account_not_found"),
        (False, "GET", "/accounts/nobody", None, 404, "account_not_found"),
        (False, "GET", "/accounts/nobody/events", None, 404, "account_not_found"),
        (True, "POST", "/accounts/acc-1/withdrawals", {"amount": 10_001}, 409, "insufficient_funds"),
        (True, "POST", "/accounts/acc-1/close", None, 409, "balance_not_zero"),
        (True, "POST", "/accounts", {"owner": "Bob", "account_id": "acc-1"}, 409, "account_exists"),
        (True, "GET", "/accounts/acc-1?version=9", None, 404, "version_not_found"),
        (True, "GET", "/accounts/acc-1?version=0", None, 422, "validation_error"),
        (True, "GET", "/accounts/acc-1?version=x", None, 422, "validation_error"),
        (True, "GET", "/accounts/acc-1?version=1&as_of=2026-01-01T00:00:00Z", None, 422, "validation_error"),
        (True, "GET", "/accounts/acc-1?as_of=yesterday", None, 422, "validation_error"),
        (True, "GET", "/accounts/acc-1?as_of=2026-01-01T00:00:00", None, 422, "validation_error"),
        (True, "GET", "/accounts/acc-1?colour=red", None, 422, "validation_error"),
        (True, "GET", "/accounts/acc-1/events?limit=1001", None, 422, "validation_error"),
        (True, "GET", "/accounts/acc-1/events?after=-1", None, 422, "validation_error"),
        (True, "GET", "/accounts/bad%20id", None, 422, "validation_error"),
        (True, "GET", "/nowhere", None, 404, "not_found"),
    ],
)
def test_each_error_has_its_status_and_code(
    store: InMemoryEventStore, setup: bool, method: str, path: str, body: Any, status: int, code: str
) -> None:
    if setup:
        open_account()
    appends = store.appends
    response = call(method, path, body)
    assert (response["statusCode"], error_code(response)) == (status, code)
    assert set(response["json"]["error"]) <= {"code", "message", "details"}
    assert response["json"]["error"]["message"]
    assert store.appends == appends


def test_a_closed_account_refuses_deposits(store: InMemoryEventStore) -> None:
    open_account(balance=0)
    assert call("POST", "/accounts/acc-1/close")["json"]["status"] == "closed"
    response = call("POST", "/accounts/acc-1/deposits", {"amount": 1})
    assert (response["statusCode"], error_code(response)) == (409, "account_closed")


def test_an_unexpected_failure_is_a_500_without_internals(store: InMemoryEventStore) -> None:
    class Broken(InMemoryEventStore):
        def read_forward(self, stream: StreamId, *, after: int, limit: int) -> list[EventRecord]:
            raise RuntimeError("secret internal detail")

    bootstrap.reset().provide(bootstrap.EVENT_STORE, Broken())
    response = call("GET", "/accounts/acc-1/events")
    assert (response["statusCode"], error_code(response)) == (500, "internal_error")
    assert "secret" not in response["body"]
    assert "Traceback" not in response["body"]


def test_idempotent_repeat_returns_the_first_status_and_body(store: InMemoryEventStore) -> None:
    first = call("POST", "/accounts", {"owner": "Ann"}, Idempotency_Key="k-1")
    repeat = call("POST", "/accounts", {"owner": "Ann"}, Idempotency_Key="k-1")
    assert (repeat["statusCode"], repeat["body"]) == (first["statusCode"], first["body"]) == (201, first["body"])
    assert repeat["headers"]["Idempotent-Replayed"] == "true"
    assert store.appends == 1
    reused = call("POST", "/accounts", {"owner": "Bob"}, Idempotency_Key="k-1")
    assert (reused["statusCode"], error_code(reused)) == (422, "idempotency_key_reused")
    assert store.appends == 1


def test_a_malformed_idempotency_key_is_refused(store: InMemoryEventStore) -> None:
    response = call("POST", "/accounts", {"owner": "Ann"}, Idempotency_Key="x" * 256)
    assert (response["statusCode"], error_code(response)) == (422, "validation_error")


def test_if_match_guards_commands(store: InMemoryEventStore) -> None:
    open_account()
    stale = call("POST", "/accounts/acc-1/deposits", {"amount": 1}, If_Match='"7"')
    assert (stale["statusCode"], error_code(stale)) == (412, "precondition_failed")
    assert call("POST", "/accounts/acc-1/deposits", {"amount": 1}, If_Match='"1"')["statusCode"] == 200
    garbled = call("POST", "/accounts/acc-1/deposits", {"amount": 1}, If_Match="yesterday")
    assert (garbled["statusCode"], error_code(garbled)) == (422, "validation_error")
    assert store.appends == 2


def test_if_match_is_checked_before_existence(store: InMemoryEventStore) -> None:
    open_account()
    reopen = call("POST", "/accounts", {"owner": "Ann", "account_id": "acc-1"}, If_Match='"7"')
    assert (reopen["statusCode"], error_code(reopen)) == (412, "precondition_failed")
    assert error_code(call("POST", "/accounts", {"owner": "Ann", "account_id": "acc-1"})) == "account_exists"
    missing = call("POST", "/accounts/nobody/deposits", {"amount": 1}, If_Match='"7"')
    assert (missing["statusCode"], error_code(missing)) == (404, "account_not_found")


def test_the_correlation_id_is_echoed_and_recorded(store: InMemoryEventStore) -> None:
    response = call("POST", "/accounts", {"owner": "Ann", "account_id": "acc-1"}, X_Correlation_Id="trace-42")
    assert response["headers"]["X-Correlation-Id"] == "trace-42"
    events = call("GET", "/accounts/acc-1/events")["json"]["events"]
    assert events[0]["metadata"]["correlation_id"] == "trace-42"


def test_events_are_listed_in_order_with_a_cursor(store: InMemoryEventStore) -> None:
    open_account()
    for _ in range(3):
        call("POST", "/accounts/acc-1/deposits", {"amount": 1})
    page = call("GET", "/accounts/acc-1/events?after=1&limit=2")["json"]
    assert [e["version"] for e in page["events"]] == [2, 3]
    assert page["next_after"] == 3
    assert set(page["events"][0]) == {
        "event_id",
        "type",
        "version",
        "occurred_at",
        "schema_version",
        "data",
        "metadata",
    }
    assert call("GET", "/accounts/acc-1/events?after=3")["json"]["next_after"] is None


def test_health_and_openapi(store: InMemoryEventStore) -> None:
    assert call("GET", "/health")["json"] == {"status": "ok"}
    document = call("GET", "/openapi.json")["json"]
    assert document["openapi"].startswith("3.")
    routes = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    assert routes == set(TOPOLOGY.routes)


def test_topology_routes_are_exactly_what_each_function_registers() -> None:
    for function, module in (("commands", commands), ("queries", queries)):
        registered = {(r.method, r.path) for r in module.app._static_routes + module.app._dynamic_routes}
        declared = {(route.method, powertools_path(route.path)) for route in TOPOLOGY.function(function).routes}
        assert registered == declared, function
    assert {f"{o.method} {o.path}" for o in OPERATIONS} == set(TOPOLOGY.routes)
    assert {o.function for o in OPERATIONS} == {f.id for f in TOPOLOGY.functions if f.routes}
    assert all(TOPOLOGY.routes[f"{o.method} {o.path}"].id == o.function for o in OPERATIONS)
    assert openapi_document()["paths"]


# --- read-model routes -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadModels:
    accounts: InMemoryStateViews[Account] = field(default_factory=InMemoryStateViews)
    alerts: InMemoryAlertViews = field(default_factory=InMemoryAlertViews)
    reports: InMemoryReportStore = field(default_factory=InMemoryReportStore)


@pytest.fixture
def read_models(store: InMemoryEventStore) -> ReadModels:
    """In-memory read models in the root the `store` fixture made (and resets after the test)."""
    models = ReadModels()
    bootstrap.root().provide(ACCOUNT_VIEWS, models.accounts).provide(ALERT_VIEWS, models.alerts).provide(
        REPORT_STORE, models.reports
    )
    return models


def test_accounts_are_listed_from_the_read_model_with_their_version(read_models: ReadModels) -> None:
    for number in range(3):
        open_account(f"acc-{number}")
        read = bootstrap.get(bootstrap.reader(ACCOUNT)).read(f"acc-{number}")
        read_models.accounts.replace(f"acc-{number}", read.version, read.state)
    first = call("GET", "/accounts?limit=2")["json"]
    assert [a["account_id"] for a in first["accounts"]] == ["acc-0", "acc-1"]
    assert first["accounts"][0]["version"] == 1
    second = call("GET", f"/accounts?limit=2&cursor={first['next_cursor']}")["json"]
    assert ([a["account_id"] for a in second["accounts"]], second["next_cursor"]) == (["acc-2"], None)
    for bad in ("/accounts?limit=0", "/accounts?cursor=nonsense", "/accounts?sort=asc"):
        response = call("GET", bad)
        assert (response["statusCode"], error_code(response)) == (422, "validation_error"), bad


def test_alerts_are_listed_newest_first(read_models: ReadModels) -> None:
    for number, account in enumerate(["acc-1", "acc-2", "acc-1"]):
        read_models.alerts.put_if_absent(
            Alert(
                f"a-{number}", "large_transaction", "high", account, 5, ("e",), f"2026-11-26T0{number}:00:00.000Z", ""
            )
        )
    listed = call("GET", "/alerts")["json"]["alerts"]
    assert [a["alert_id"] for a in listed] == ["a-2", "a-1", "a-0"]
    assert [a["alert_id"] for a in call("GET", "/alerts?account_id=acc-1&limit=1")["json"]["alerts"]] == ["a-2"]
    assert call("GET", "/alerts?account_id=bad%20id")["statusCode"] == 422


def test_daily_reports_are_zeros_for_a_quiet_day_and_422_for_a_bad_date(read_models: ReadModels) -> None:
    open_account()
    day = date(2026, 11, 26)
    read_models.reports.add([("e-1", ReportKey(day, "acc-1"), DailyTotals(1, 500, 1, 200, 0))])
    report = call("GET", "/accounts/acc-1/reports/daily/2026-11-26")["json"]
    assert report == {
        "date": "2026-11-26",
        "account_id": "acc-1",
        "deposits": {"count": 1, "total": 500},
        "withdrawals": {"count": 1, "total": 200},
        "net": 300,
        "accounts_opened": 0,
    }
    quiet = call("GET", "/reports/daily/2020-02-29")["json"]
    assert (quiet["account_id"], quiet["net"], quiet["deposits"]) == (None, 0, {"count": 0, "total": 0})
    for bad in ("/reports/daily/2026-02-30", "/reports/daily/yesterday", "/reports/daily/2026-11-26?x=1"):
        response = call("GET", bad)
        assert (response["statusCode"], error_code(response)) == (422, "validation_error"), bad
    unknown = call("GET", "/accounts/nobody/reports/daily/2026-11-26")
    assert (unknown["statusCode"], error_code(unknown)) == (404, "account_not_found")
