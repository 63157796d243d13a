"""Concurrent commands on one account: conditional appends keep the history gapless and the balance never negative."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.client import ApiClient, ApiResponse
from tests.e2e.support import OpenAccount, assert_error, events_of

WITHDRAWALS = 20
AMOUNT = 100
INITIAL = 1_000  # room for 10 of the 20


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


def test_concurrent_deposits_all_land_when_retries_suffice(api: ApiClient, open_account: OpenAccount) -> None:
    # GIVEN an empty account, WHEN 8 deposits of $1.00 arrive at once
    account_id = open_account(0)
    start = threading.Barrier(8)

    def deposit(_: int) -> ApiResponse:
        start.wait()
        return api.post(f"/accounts/{account_id}/deposits", {"amount": AMOUNT})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(deposit, range(8)))
    # THEN every success is in the balance and in the gapless history; a refusal is only a version conflict
    succeeded = [r for r in responses if r.status == 200]
    for refused in (r for r in responses if r.status != 200):
        assert_error(refused, 409, "concurrency_conflict")
    events = events_of(api, account_id)
    assert [e["version"] for e in events] == list(range(1, len(succeeded) + 2))
    assert api.get(f"/accounts/{account_id}").json["balance"] == AMOUNT * len(succeeded)
