"""The seed scenario over HTTP: $100 opened, $50 deposited, $20 withdrawn, $130 derived by replaying the events."""

from __future__ import annotations

from tests.e2e.client import ApiClient, unique_id
from tests.e2e.support import events_of


def test_open_deposit_withdraw_leaves_130_dollars_derived_from_three_events(api: ApiClient) -> None:
    # GIVEN an account opened with $100.00
    account_id = unique_id("seed")
    opened = api.post("/accounts", {"owner": "Ada Lovelace", "initial_balance": 10_000, "account_id": account_id})
    assert opened.status == 201
    assert opened.header("location") == f"/accounts/{account_id}"
    assert opened.json["balance"] == 10_000

    # WHEN $50.00 is deposited and $20.00 withdrawn
    deposited = api.post(f"/accounts/{account_id}/deposits", {"amount": 5_000, "description": "salary"})
    withdrawn = api.post(f"/accounts/{account_id}/withdrawals", {"amount": 2_000})

    # THEN each command answers the new state, and the balance read back is $130.00 at version 3
    assert (deposited.status, deposited.json["balance"], deposited.json["version"]) == (200, 15_000, 2)
    assert (withdrawn.status, withdrawn.json["balance"], withdrawn.json["version"]) == (200, 13_000, 3)
    state = api.get(f"/accounts/{account_id}")
    assert state.status == 200
    assert state.json == {
        "account_id": account_id,
        "owner": "Ada Lovelace",
        "currency": "USD",
        "balance": 13_000,
        "status": "open",
        "version": 3,
        "opened_at": opened.json["opened_at"],
        "updated_at": withdrawn.json["updated_at"],
    }
    # AND the history holds exactly the three facts, in order, that the balance is replayed from
    events = events_of(api, account_id)
    assert [(e["version"], e["type"]) for e in events] == [
        (1, "AccountCreated"),
        (2, "MoneyDeposited"),
        (3, "MoneyWithdrawn"),
    ]
    assert events[0]["data"]["initial_balance"] == 10_000
    assert events[1]["data"]["amount"] == 5_000
    assert events[2]["data"]["amount"] == 2_000
    for event in events:
        assert set(event) == {"event_id", "type", "version", "occurred_at", "schema_version", "data", "metadata"}
        assert event["occurred_at"].endswith("Z")
    # AND the state after each version, read back in time, is the running balance
    balances = [api.get(f"/accounts/{account_id}?version={v}").json["balance"] for v in (1, 2, 3)]
    assert balances == [10_000, 15_000, 13_000]
