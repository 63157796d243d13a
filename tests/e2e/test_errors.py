"""Every error of the contract, over HTTP: its status, its code, the {"error": {...}} shape, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.client import ApiClient, unique_id
from tests.e2e.support import OpenAccount, assert_error, events_of

MAX_BODY = 64 * 1024


def assert_unchanged(api: ApiClient, account_id: str, version: int) -> None:
    """Nothing was appended: the history still ends at `version` and the state is at `version`."""
    assert [e["version"] for e in events_of(api, account_id)] == list(range(1, version + 1))
    assert api.get(f"/accounts/{account_id}").json["version"] == version


# --- 422 validation_error -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"amount": 10.5}, "amount", id="float amount"),
        pytest.param({"amount": -500}, "amount", id="negative amount"),
        pytest.param({"amount": 0}, "amount", id="zero amount"),
        pytest.param({"amount": "500"}, "amount", id="string amount"),
        pytest.param({"amount": True}, "amount", id="boolean amount"),
        pytest.param({"amount": None}, "amount", id="null amount"),
        pytest.param({"amount": 10**40}, "amount", id="absurdly large amount"),
        pytest.param({"amount": 500, "memo": "hi"}, "memo", id="unknown field"),
        pytest.param({}, "amount", id="missing field"),
        pytest.param({"amount": 500, "description": "x" * 20_000}, "description", id="absurd string size"),
        pytest.param({"amount": 500, "description": "\ud800"}, "description", id="unpaired surrogate"),
    ],
)
@pytest.mark.parametrize("command", ["deposits", "withdrawals"])
def test_invalid_money_movement_is_refused_with_422_naming_the_field_and_appends_nothing(
    api: ApiClient, open_account: OpenAccount, command: str, body: dict[str, Any], field: str
) -> None:
    # GIVEN an account with money on it
    account_id = open_account(10_000)
    # WHEN a deposit or withdrawal with an invalid body is sent
    response = api.post(f"/accounts/{account_id}/{command}", body)
    # THEN it is refused as a validation error naming the field, and nothing is appended
    assert_error(response, 422, "validation_error", field)
    assert_unchanged(api, account_id, 1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"currency": "XYZ"}, "currency", id="unknown currency"),
        pytest.param({"currency": "usd"}, "currency", id="lowercase currency"),
        pytest.param({"initial_balance": -1}, "initial_balance", id="negative initial balance"),
        pytest.param({"initial_balance": 99.5}, "initial_balance", id="float initial balance"),
        pytest.param({"initial_balance": "100"}, "initial_balance", id="string initial balance"),
        pytest.param({"owner": ""}, "owner", id="empty owner"),
        pytest.param({"owner": "   "}, "owner", id="blank owner"),
        pytest.param({"owner": "A\u0000B"}, "owner", id="control character in owner"),
        pytest.param({"owner": "\u0007"}, "owner", id="owner that is one control character"),
        pytest.param({"owner": 42}, "owner", id="number as owner"),
        pytest.param({"owner": "x" * 30_000}, "owner", id="absurd owner size"),
        pytest.param({"role": "admin"}, "role", id="unknown field"),
    ],
)
def test_invalid_open_is_refused_with_422_naming_the_field_and_creates_nothing(
    api: ApiClient, fields: dict[str, Any], field: str
) -> None:
    # GIVEN an id no account has
    account_id = unique_id()
    # WHEN an account is opened with one invalid field
    response = api.post("/accounts", {"owner": "Grace", "account_id": account_id, **fields})
    # THEN it is refused naming the field, and the account does not exist
    assert_error(response, 422, "validation_error", field)
    assert_error(api.get(f"/accounts/{account_id}"), 404, "account_not_found")


def test_open_without_owner_is_refused_naming_owner(api: ApiClient) -> None:
    account_id = unique_id()
    assert_error(api.post("/accounts", {"account_id": account_id}), 422, "validation_error", "owner")
    assert_error(api.get(f"/accounts/{account_id}"), 404, "account_not_found")


@pytest.mark.parametrize("bad_id", ["bad id", "bad.id", "-leading-dash", "x" * 65, "ünïcode"])
def test_a_bad_account_id_in_the_body_is_refused_naming_account_id(api: ApiClient, bad_id: str) -> None:
    response = api.post("/accounts", {"owner": "Grace", "account_id": bad_id})
    assert_error(response, 422, "validation_error", "account_id")


@pytest.mark.parametrize("bad_path_id", ["bad.id", "bad%20id", "-dash", "x" * 65, "%C3%BC"])
def test_a_bad_account_id_in_the_path_is_refused_naming_account_id(api: ApiClient, bad_path_id: str) -> None:
    assert_error(api.get(f"/accounts/{bad_path_id}"), 422, "validation_error", "account_id")
    assert_error(api.get(f"/accounts/{bad_path_id}/events"), 422, "validation_error", "account_id")
    response = api.post(f"/accounts/{bad_path_id}/deposits", {"amount": 100})
    assert_error(response, 422, "validation_error", "account_id")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("version=0", "version"),
        ("version=abc", "version"),
        ("version=-1", "version"),
        ("colour=red", "colour"),
    ],
)
def test_invalid_state_query_is_refused_naming_the_parameter(
    api: ApiClient, open_account: OpenAccount, query: str, field: str
) -> None:
    account_id = open_account(100)
    assert_error(api.get(f"/accounts/{account_id}?{query}"), 422, "validation_error", field)


# --- 400 invalid_json ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"amount": 100', id="truncated"),
        pytest.param(b"{amount: 100}", id="unquoted key"),
        pytest.param(b"", id="empty body"),
        pytest.param(b"   ", id="blank body"),
        pytest.param(b'{"amount": NaN}', id="NaN"),
        pytest.param(b'{"amount": 100, "amount": 200}', id="duplicate key"),
        pytest.param(b"\xff\xfe{}", id="not UTF-8"),
    ],
)
def test_malformed_json_is_refused_with_400_and_appends_nothing(
    api: ApiClient, open_account: OpenAccount, body: bytes
) -> None:
    account_id = open_account(1_000)
    response = api.post(f"/accounts/{account_id}/deposits", body=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")
    assert_unchanged(api, account_id, 1)


@pytest.mark.parametrize("body", [b"[]", b"null", b'"amount"', b"100", b"true"])
def test_json_that_is_not_an_object_is_refused_with_422(api: ApiClient, open_account: OpenAccount, body: bytes) -> None:
    account_id = open_account(1_000)
    response = api.post(f"/accounts/{account_id}/deposits", body=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "validation_error", "body")
    assert_unchanged(api, account_id, 1)


# --- 404 ----------------------------------------------------------------------------------------------------


def test_an_unknown_account_is_404_account_not_found_for_every_route(api: ApiClient) -> None:
    account_id = unique_id("nobody")
    assert_error(api.get(f"/accounts/{account_id}"), 404, "account_not_found")
    assert_error(api.get(f"/accounts/{account_id}/events"), 404, "account_not_found")
    assert_error(api.post(f"/accounts/{account_id}/deposits", {"amount": 100}), 404, "account_not_found")
    assert_error(api.post(f"/accounts/{account_id}/withdrawals", {"amount": 100}), 404, "account_not_found")
    assert_error(api.post(f"/accounts/{account_id}/close"), 404, "account_not_found")
    # AND a refused command did not create it
    assert_error(api.get(f"/accounts/{account_id}"), 404, "account_not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/no/such/route"),
        ("GET", "/"),
        ("GET", "/reports/daily"),  # GET /accounts is a route since the read models
        ("POST", "/accounts/abc/transfers"),
        ("DELETE", "/accounts/abc/deposits/1"),
    ],
)
def test_an_unknown_route_is_404_not_found(api: ApiClient, method: str, path: str) -> None:
    assert_error(api.request(method, path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/accounts/abc", "GET"),
        ("PUT", "/accounts/abc/deposits", "POST"),
        ("GET", "/orders/abc/payments", "POST"),
        ("PATCH", "/accounts", "GET, POST"),
        ("POST", "/health", "GET"),
    ],
)
def test_a_path_of_the_api_with_another_method_is_405_with_allow(
    api: ApiClient, method: str, path: str, allow: str
) -> None:
    # WHEN a path of the API is asked with a method no route of it has (API Gateway: the $default route)
    response = api.request(method, path)
    # THEN 405 method_not_allowed, and Allow lists the methods that path takes
    assert_error(response, 405, "method_not_allowed")
    assert response.header("allow") == allow


def test_a_percent_encoded_id_is_decoded_then_checked(api: ApiClient, open_account: OpenAccount) -> None:
    # GIVEN an account whose id has a '-'
    account_id = open_account(100)
    encoded = account_id.replace("-", "%2D")
    # WHEN its id is sent percent-encoded, to a command and to a read
    deposited = api.post(f"/accounts/{encoded}/deposits", {"amount": 5})
    read = api.get(f"/accounts/{encoded}")
    # THEN it is the same account; and a decoded value the id pattern refuses is refused as before
    assert (deposited.status, deposited.json["balance"]) == (200, 105)
    assert (read.status, read.json["account_id"]) == (200, account_id)
    assert_error(api.get(f"/accounts/{account_id}%20x"), 422, "validation_error", "account_id")


# --- 409 ----------------------------------------------------------------------------------------------------


def test_withdrawing_more_than_the_balance_is_409_insufficient_funds_and_appends_nothing(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN an account holding $10.00
    account_id = open_account(1_000)
    # WHEN $10.01 is withdrawn
    response = api.post(f"/accounts/{account_id}/withdrawals", {"amount": 1_001})
    # THEN it is refused, and the balance and history are untouched
    assert_error(response, 409, "insufficient_funds")
    assert_unchanged(api, account_id, 1)
    assert api.get(f"/accounts/{account_id}").json["balance"] == 1_000
    # AND the exact balance can still be withdrawn
    assert api.post(f"/accounts/{account_id}/withdrawals", {"amount": 1_000}).json["balance"] == 0


def test_a_closed_account_refuses_deposits_withdrawals_and_closing_with_409_account_closed(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN a closed account
    account_id = open_account(0)
    closed = api.post(f"/accounts/{account_id}/close")
    assert (closed.status, closed.json["status"], closed.json["version"]) == (200, "closed", 2)
    # WHEN money is moved on it, THEN it is refused and nothing is appended
    assert_error(api.post(f"/accounts/{account_id}/deposits", {"amount": 100}), 409, "account_closed")
    assert_error(api.post(f"/accounts/{account_id}/withdrawals", {"amount": 100}), 409, "account_closed")
    assert_error(api.post(f"/accounts/{account_id}/close"), 409, "account_closed")
    assert_unchanged(api, account_id, 2)


def test_opening_an_existing_id_is_409_account_exists_and_leaves_the_account_as_it_was(
    api: ApiClient, open_account: OpenAccount
) -> None:
    account_id = open_account(500)
    response = api.post("/accounts", {"owner": "Someone Else", "initial_balance": 9_999, "account_id": account_id})
    assert_error(response, 409, "account_exists")
    assert_unchanged(api, account_id, 1)
    assert api.get(f"/accounts/{account_id}").json["owner"] == "E2E Owner"


def test_closing_an_account_with_money_on_it_is_409_balance_not_zero(api: ApiClient, open_account: OpenAccount) -> None:
    account_id = open_account(1)
    assert_error(api.post(f"/accounts/{account_id}/close"), 409, "balance_not_zero")
    assert_unchanged(api, account_id, 1)
    assert api.get(f"/accounts/{account_id}").json["status"] == "open"


# --- 412, 413 -----------------------------------------------------------------------------------------------


def test_a_stale_if_match_is_412_precondition_failed_and_a_current_one_succeeds(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN an account at version 2
    account_id = open_account(1_000)
    assert api.post(f"/accounts/{account_id}/deposits", {"amount": 100}).header("etag") == '"2"'
    # WHEN a command carries the ETag of version 1
    stale = api.post(f"/accounts/{account_id}/withdrawals", {"amount": 100}, headers={"If-Match": '"1"'})
    # THEN it is refused and nothing is appended
    assert_error(stale, 412, "precondition_failed")
    assert_unchanged(api, account_id, 2)
    # AND with the current ETag it goes through
    current = api.post(f"/accounts/{account_id}/withdrawals", {"amount": 100}, headers={"If-Match": '"2"'})
    assert (current.status, current.header("etag")) == (200, '"3"')


def test_a_malformed_if_match_is_422_naming_the_header(api: ApiClient, open_account: OpenAccount) -> None:
    account_id = open_account(1_000)
    response = api.post(f"/accounts/{account_id}/deposits", {"amount": 100}, headers={"If-Match": "yesterday"})
    assert_error(response, 422, "validation_error", "If-Match")
    assert_unchanged(api, account_id, 1)


def test_a_body_over_64_kib_is_413_and_appends_nothing(api: ApiClient, open_account: OpenAccount) -> None:
    account_id = open_account(1_000)
    body = b'{"amount": 100, "description": "' + b"x" * MAX_BODY + b'"}'
    response = api.post(f"/accounts/{account_id}/deposits", body=body, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "payload_too_large")
    assert_unchanged(api, account_id, 1)


def test_a_body_of_exactly_64_kib_is_read_and_validated(api: ApiClient, open_account: OpenAccount) -> None:
    account_id = open_account(1_000)
    prefix, suffix = b'{"amount": 100, "description": "', b'"}'
    body = prefix + b"x" * (MAX_BODY - len(prefix) - len(suffix)) + suffix
    assert len(body) == MAX_BODY
    response = api.post(f"/accounts/{account_id}/deposits", body=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "validation_error", "description")


# --- bad input never yields a 5xx ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("POST", "/accounts", b"[" * 100_000 + b"]" * 100_000, {}),
        ("POST", "/accounts", b'{"owner": {"nested": {"deeply": [1, 2, {"x": null}]}}}', {}),
        ("POST", "/accounts", b'{"owner": "\\ud800"}', {}),
        ("POST", "/accounts", b'{"owner": "A", "initial_balance": 1e400}', {}),
        ("POST", "/accounts", b'{"owner": "A", "initial_balance": 123456789012345678901234567890123}', {}),
        ("POST", "/accounts", b'{"owner": "A\\u0000B"}', {}),
        ("POST", "/accounts", b"\x00\x01\x02\x03", {"Content-Type": "application/octet-stream"}),
        ("POST", "/accounts", b'{"owner": "A"}', {"Idempotency-Key": "k" * 300}),
        ("POST", "/accounts/abc/deposits", b'{"amount": 1}', {"If-Match": '"99999999999999999999999"'}),
        ("GET", "/accounts/abc?version=99999999999999999999999", b"", {}),
        ("GET", "/accounts/abc/events?limit=1001", b"", {}),
        ("GET", "/accounts/abc/events?after=-1", b"", {}),
        ("GET", "/accounts/abc?as_of=" + "9" * 60, b"", {}),
        ("GET", "/accounts/abc?as_of=9999-12-31T23:59:59%2B23:59", b"", {}),
        ("GET", "/accounts/abc?version=1&version=2", b"", {}),
        ("GET", "/accounts/" + "a" * 5_000, b"", {}),
    ],
)
def test_bad_input_never_yields_a_5xx(
    api: ApiClient, method: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    response = api.request(method, path, body=body or None, headers=headers)
    assert 400 <= response.status < 500, (response.status, response.body[:500])
    assert response.error_code is not None, response.body[:500]
    assert b"Traceback" not in response.body
