"""Idempotency-Key on commands: a repeat answers the first outcome and appends nothing, even when concurrent."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.client import ApiClient, ApiResponse, unique_id
from tests.e2e.support import OpenAccount, assert_error, events_of


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_a_repeated_deposit_with_the_same_key_and_body_returns_the_first_response_and_appends_nothing(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN a deposit made with an Idempotency-Key
    account_id = open_account(1_000)
    headers = key()
    first = api.post(f"/accounts/{account_id}/deposits", {"amount": 250}, headers=headers)
    assert first.status == 200
    # WHEN it is sent again with the same key and body
    repeat = api.post(f"/accounts/{account_id}/deposits", {"amount": 250}, headers=headers)
    # THEN the answer is the first one, status and body, and nothing more was appended
    assert (repeat.status, repeat.json) == (first.status, first.json)
    assert repeat.header("etag") == first.header("etag")
    assert repeat.header("idempotent-replayed") == "true"
    assert first.header("idempotent-replayed") is None
    events = events_of(api, account_id)
    assert [e["type"] for e in events] == ["AccountCreated", "MoneyDeposited"]
    assert events[1]["metadata"]["idempotency_key"] == headers["Idempotency-Key"]


def test_a_repeat_after_later_commands_still_returns_the_first_outcome(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN a withdrawal made with a key, then another command on the account
    account_id = open_account(1_000)
    headers = key()
    first = api.post(f"/accounts/{account_id}/withdrawals", {"amount": 300}, headers=headers)
    assert api.post(f"/accounts/{account_id}/deposits", {"amount": 5}).status == 200
    # WHEN the withdrawal is repeated
    repeat = api.post(f"/accounts/{account_id}/withdrawals", {"amount": 300}, headers=headers)
    # THEN it answers the state right after the first attempt (version 2), not the current one, and appends nothing
    assert (repeat.status, repeat.json) == (200, first.json)
    assert repeat.json["version"] == 2
    assert api.get(f"/accounts/{account_id}").json["version"] == 3


def test_a_repeat_of_a_refused_command_is_refused_again_and_appends_nothing(
    api: ApiClient, open_account: OpenAccount
) -> None:
    account_id = open_account(100)
    headers = key()
    assert_error(
        api.post(f"/accounts/{account_id}/withdrawals", {"amount": 500}, headers=headers), 409, "insufficient_funds"
    )
    assert_error(
        api.post(f"/accounts/{account_id}/withdrawals", {"amount": 500}, headers=headers), 409, "insufficient_funds"
    )
    assert len(events_of(api, account_id)) == 1


def test_a_repeated_open_returns_201_and_the_same_account(api: ApiClient) -> None:
    # GIVEN an account opened with a key (the id left to the server)
    headers = key()
    first = api.post("/accounts", {"owner": "Idem Potent", "initial_balance": 700}, headers=headers)
    assert first.status == 201
    # WHEN the open is repeated
    repeat = api.post("/accounts", {"owner": "Idem Potent", "initial_balance": 700}, headers=headers)
    # THEN it names the same account and opens no second one
    assert (repeat.status, repeat.json, repeat.header("location")) == (201, first.json, first.header("location"))
    assert len(events_of(api, first.json["account_id"])) == 1


def test_the_same_key_with_another_body_is_422_idempotency_key_reused_and_appends_nothing(
    api: ApiClient, open_account: OpenAccount
) -> None:
    account_id = open_account(1_000)
    headers = key()
    assert api.post(f"/accounts/{account_id}/deposits", {"amount": 100}, headers=headers).status == 200
    # WHEN the key is reused for another amount, or for another route
    other_amount = api.post(f"/accounts/{account_id}/deposits", {"amount": 999}, headers=headers)
    other_route = api.post(f"/accounts/{account_id}/withdrawals", {"amount": 100}, headers=headers)
    # THEN both are refused and only the first deposit is in the history
    assert_error(other_amount, 422, "idempotency_key_reused")
    assert_error(other_route, 422, "idempotency_key_reused")
    assert [e["type"] for e in events_of(api, account_id)] == ["AccountCreated", "MoneyDeposited"]
    assert api.get(f"/accounts/{account_id}").json["balance"] == 1_100


def test_ten_concurrent_repeats_of_one_key_append_exactly_one_event_and_answer_identically(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN one deposit about to be sent 10 times at once with one key
    account_id = open_account(0)
    headers = key()
    start = threading.Barrier(10)

    def send(_: int) -> ApiResponse:
        start.wait()
        return api.post(f"/accounts/{account_id}/deposits", {"amount": 4_200}, headers=headers)

    # WHEN they race
    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(send, range(10)))
    # THEN exactly one deposit was appended
    events = events_of(api, account_id)
    assert [e["type"] for e in events] == ["AccountCreated", "MoneyDeposited"]
    assert api.get(f"/accounts/{account_id}").json["balance"] == 4_200
    # AND every attempt got the same answer: the state right after that one deposit
    assert {(r.status, r.body) for r in responses} == {(200, responses[0].body)}
    assert responses[0].json["version"] == 2
    assert sum(r.header("idempotent-replayed") is None for r in responses) == 1


def test_ten_concurrent_opens_with_one_key_open_one_account(api: ApiClient) -> None:
    headers = key()
    account_id = unique_id()
    start = threading.Barrier(10)

    def send(_: int) -> ApiResponse:
        start.wait()
        return api.post("/accounts", {"owner": "Race", "account_id": account_id}, headers=headers)

    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(send, range(10)))
    assert {(r.status, r.body) for r in responses} == {(201, responses[0].body)}
    assert len(events_of(api, account_id)) == 1


def test_a_malformed_idempotency_key_is_422_naming_the_header(api: ApiClient, open_account: OpenAccount) -> None:
    account_id = open_account(0)
    response = api.post(f"/accounts/{account_id}/deposits", {"amount": 1}, headers={"Idempotency-Key": "k" * 256})
    assert_error(response, 422, "validation_error", "Idempotency-Key")
    assert len(events_of(api, account_id)) == 1
