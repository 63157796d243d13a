"""Concurrent commands on one account: conditional appends keep the history gapless and the balance never negative;
deposits, which commute, all land (the service retries them), withdrawals are decided on the balance they follow."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.client import ApiClient, ApiResponse
from tests.e2e.support import OpenAccount, assert_error, events_of

WITHDRAWALS = 20
AMOUNT = 100
INITIAL = 1_000  # room for 10 of the 20
DEPOSITS = 30
CENT = 1


def test_twenty_concurrent_withdrawals_never_overdraw_and_leave_a_gapless_history(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN an account holding $10.00
    account_id = open_account(INITIAL)
    start = threading.Barrier(WITHDRAWALS)

    def withdraw(_: int) -> ApiResponse:
        start.wait()
        return api.post(f"/accounts/{account_id}/withdrawals", {"amount": AMOUNT})

    # WHEN 20 withdrawals of $1.00 arrive at once
    with ThreadPoolExecutor(WITHDRAWALS) as pool:
        responses = list(pool.map(withdraw, range(WITHDRAWALS)))

    # THEN each one either succeeded or was refused as a conflict of money or of versions, never a 5xx
    succeeded = [r for r in responses if r.status == 200]
    for refused in (r for r in responses if r.status != 200):
        assert refused.error_code in ("insufficient_funds", "concurrency_conflict"), refused.body
        assert_error(refused, 409, str(refused.error_code))
    assert succeeded, [r.body for r in responses]
    # AND each success got its own version
    assert len({r.json["version"] for r in succeeded}) == len(succeeded)
    # AND the history is gapless (versions 1..n), one MoneyWithdrawn per success
    events = events_of(api, account_id)
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events] == ["AccountCreated"] + ["MoneyWithdrawn"] * len(succeeded)
    # AND the balance is the initial one minus the successful withdrawals, never below zero
    state = api.get(f"/accounts/{account_id}").json
    assert state["balance"] == INITIAL - AMOUNT * len(succeeded)
    assert state["balance"] >= 0
    assert state["version"] == len(events)
    # AND money was refused only because it had run out, or because of a lost race
    if any(r.error_code == "insufficient_funds" for r in responses):
        assert len(succeeded) * AMOUNT > INITIAL - AMOUNT


def test_thirty_concurrent_deposits_on_one_account_all_land_without_a_conflict(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN an empty account
    account_id = open_account(0)
    start = threading.Barrier(DEPOSITS)

    def deposit(_: int) -> ApiResponse:
        start.wait()
        return api.post(f"/accounts/{account_id}/deposits", {"amount": CENT})

    # WHEN 30 deposits of one cent arrive at once
    with ThreadPoolExecutor(DEPOSITS) as pool:
        responses = list(pool.map(deposit, range(DEPOSITS)))

    # THEN every one answers 200: deposits commute, so a lost race is retried by the service, not by the client
    assert [r.status for r in responses] == [200] * DEPOSITS, [r.body for r in responses if r.status != 200]
    # AND each got its own version, and answered the balance of exactly the deposits up to it
    assert sorted(r.json["version"] for r in responses) == list(range(2, DEPOSITS + 2))
    assert all(r.json["balance"] == CENT * (r.json["version"] - 1) for r in responses)
    # AND the history holds the 30 deposits, gapless, after the opening
    events = events_of(api, account_id)
    assert [e["version"] for e in events] == list(range(1, DEPOSITS + 2))
    assert [e["type"] for e in events] == ["AccountCreated"] + ["MoneyDeposited"] * DEPOSITS
    # AND the balance is exact
    state = api.get(f"/accounts/{account_id}").json
    assert (state["balance"], state["version"]) == (CENT * DEPOSITS, DEPOSITS + 1)


def test_withdrawals_racing_deposits_to_the_last_cents_never_overdraw(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN an account holding 10 cents
    account_id = open_account(10 * CENT)
    movements = ["deposits"] * 10 + ["withdrawals"] * DEPOSITS
    start = threading.Barrier(len(movements))

    def move(kind: str) -> ApiResponse:
        start.wait()
        return api.post(f"/accounts/{account_id}/{kind}", {"amount": CENT})

    # WHEN 10 deposits and 30 withdrawals of one cent arrive at once: at most 20 withdrawals can be paid
    with ThreadPoolExecutor(len(movements)) as pool:
        responses = list(pool.map(move, movements))

    # THEN every deposit lands; a withdrawal succeeds, or is refused for lack of funds or a lost race, never a 5xx
    deposits = [r for kind, r in zip(movements, responses, strict=True) if kind == "deposits"]
    withdrawals = [r for kind, r in zip(movements, responses, strict=True) if kind == "withdrawals"]
    assert [r.status for r in deposits] == [200] * 10, [r.body for r in deposits]
    paid = [r for r in withdrawals if r.status == 200]
    for refused in (r for r in withdrawals if r.status != 200):
        assert refused.error_code in ("insufficient_funds", "concurrency_conflict"), refused.body
        assert_error(refused, 409, str(refused.error_code))
    # AND the history is gapless, and its balance never went below zero at any version
    events = events_of(api, account_id)
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert len(events) == 1 + 10 + len(paid)
    balance = events[0]["data"]["initial_balance"]
    balances = []
    for event in events[1:]:
        balance += event["data"]["amount"] if event["type"] == "MoneyDeposited" else -event["data"]["amount"]
        balances.append(balance)
    assert min(balances) >= 0, list(zip(events[1:], balances, strict=True))
    # AND the balance is exact: the opening, plus every deposit, minus the paid withdrawals
    state = api.get(f"/accounts/{account_id}").json
    assert state["balance"] == balance == 10 * CENT + 10 * CENT - CENT * len(paid)
    assert len(paid) <= 20
    # AND a withdrawal was refused for lack of funds only on a balance of zero that the history shows
    for refused in (r for r in withdrawals if r.error_code == "insufficient_funds"):
        assert "the balance is 0.00 USD" in refused.json["error"]["message"], refused.body
        assert 0 in balances
