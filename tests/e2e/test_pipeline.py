"""Event streaming end to end: commands reach the accounts read model, the fraud alerts, the notifications and the
daily reports through the DynamoDB stream and the Kinesis streams; a poison record ends in the on-failure queues of
its consumers while the records after it are processed. Against the local runtime, tests wait until the pipeline is
quiet (its status file) where they must count exactly; against a deployed API the ones needing moto skip."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client import ApiClient, unique_id
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.pipeline import (
    LARGE_AMOUNT,
    Moves,
    Notifications,
    add_totals,
    alerts_of,
    all_accounts,
    eventually,
    on_failure_records,
    report,
    totals_of,
)
from tests.e2e.support import OpenAccount, events_of, local_only

READ_MODEL_WAIT_SECONDS = 10  # how stale the accounts read model may be after a command


@pytest.fixture(scope="session")
def notifications(local_runtime: LocalRuntime | None) -> Notifications:
    if local_runtime is None:
        pytest.skip("reads the local runtime's notification queue")
    return Notifications(local_runtime)


def quiet(local_runtime: LocalRuntime | None) -> None:
    if local_runtime is not None:
        local_runtime.wait_until_quiet()


def test_a_command_shows_up_in_the_accounts_read_model_within_a_bounded_wait(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN an account, WHEN money is deposited
    account_id = open_account(1_000)
    deposit = api.post(f"/accounts/{account_id}/deposits", {"amount": 500})
    assert deposit.status == 200, deposit.body

    # THEN within the bound GET /accounts lists it at that version, as GET /accounts/{id} (the event store) has it
    def listed() -> dict[str, Any] | None:
        row = all_accounts(api).get(account_id)
        return row if row and row["version"] == deposit.json["version"] else None

    row = eventually(listed, timeout=READ_MODEL_WAIT_SECONDS)
    assert row == api.get(f"/accounts/{account_id}").json
    assert (row["balance"], row["version"]) == (1_500, 2)


@local_only
def test_a_large_deposit_raises_exactly_one_alert_and_one_notification(
    api: ApiClient, open_account: OpenAccount, local_runtime: LocalRuntime, notifications: Notifications
) -> None:
    # GIVEN an account, WHEN a deposit at the fraud threshold is made
    account_id = open_account(0)
    assert api.post(f"/accounts/{account_id}/deposits", {"amount": LARGE_AMOUNT}).status == 200
    deposit_event = events_of(api, account_id)[-1]
    # THEN an alert shows up in GET /alerts for the account
    eventually(lambda: alerts_of(api, account_id), timeout=30)
    local_runtime.wait_until_quiet()
    # AND once the pipeline is quiet there is exactly one, for that deposit
    (alert,) = alerts_of(api, account_id)
    assert (alert["rule"], alert["amount"], alert["event_ids"]) == (
        "large_transaction",
        LARGE_AMOUNT,
        [deposit_event["event_id"]],
    )
    # AND exactly one notification of it was published to the topic
    assert [n["alert_id"] for n in notifications.for_account(account_id)] == [alert["alert_id"]]


@local_only
def test_a_deposit_below_the_threshold_raises_no_alert(
    api: ApiClient, open_account: OpenAccount, local_runtime: LocalRuntime, notifications: Notifications
) -> None:
    account_id = open_account(0)
    assert api.post(f"/accounts/{account_id}/deposits", {"amount": LARGE_AMOUNT - 1}).status == 200
    local_runtime.wait_until_quiet()
    assert alerts_of(api, account_id) == []
    assert notifications.for_account(account_id) == []


def test_daily_reports_add_up(api: ApiClient, open_account: OpenAccount, local_runtime: LocalRuntime | None) -> None:
    # GIVEN the day's report before (the pipeline quiet, so nothing else is on its way into it)
    quiet(local_runtime)
    # WHEN an account is opened and money moves
    account_id = open_account(7_000)
    moves = Moves()
    for kind, amount in (("deposits", 1_500), ("withdrawals", 1_000), ("deposits", 2_500), ("deposits", 300)):
        assert api.post(f"/accounts/{account_id}/{kind}", {"amount": amount}).status == 200
        getattr(moves, kind).append(amount)
    days = {event["occurred_at"][:10] for event in events_of(api, account_id)}
    if len(days) > 1:
        pytest.skip("the commands straddled midnight UTC")
    (day,) = days
    before = report(api, day) if local_runtime is not None else None
    # THEN the account's report for the day is the sum of what was sent (the opening counted, its balance not)
    eventually(lambda: totals_of(report(api, day, account_id)) == moves.totals(), timeout=30)
    assert report(api, day, account_id)["account_id"] == account_id
    if before is None:
        return  # other traffic moves the whole day's report of a deployed API
    # AND the whole day's report grew by exactly as much, once the pipeline is quiet
    quiet(local_runtime)
    assert totals_of(report(api, day)) == add_totals([totals_of(before), moves.totals()])


def test_reports_of_a_day_without_activity_are_zeros_and_a_bad_date_is_refused(api: ApiClient) -> None:
    assert totals_of(report(api, "1999-01-01")) == Moves().totals(opened=0)
    assert api.get("/reports/daily/2024-02-30").status == 422


@local_only
def test_a_poison_record_lands_in_the_on_failure_queues_while_later_records_are_processed(
    api: ApiClient, open_account: OpenAccount, local_runtime: LocalRuntime
) -> None:
    # GIVEN a record that is no event message, put straight on account-transactions
    put = local_runtime.aws("kinesis").put_record(
        StreamName="account-transactions", PartitionKey="poison", Data=b"\x00 this is not an event message"
    )
    poison = int(put["SequenceNumber"])
    # WHEN events come after it
    account_id = open_account(0)
    assert api.post(f"/accounts/{account_id}/deposits", {"amount": LARGE_AMOUNT}).status == 200
    # THEN both consumers of the stream process them: the report counts them, fraud detection raises its alert
    day = events_of(api, account_id)[-1]["occurred_at"][:10]
    expected = Moves(deposits=[LARGE_AMOUNT]).totals()
    eventually(lambda: totals_of(report(api, day, account_id)) == expected, timeout=60)
    eventually(lambda: alerts_of(api, account_id), timeout=60)

    # AND after their retries each puts the poison record's batch on its on-failure queue
    def failure_naming_the_poison(queue: str) -> dict[str, Any] | None:
        for record in on_failure_records(local_runtime, queue):
            info = record["KinesisBatchInfo"]
            if int(info["startSequenceNumber"]) <= poison <= int(info["endSequenceNumber"]):
                return record
        return None

    for queue in ("ledger-fraud-transactions-dlq", "ledger-reporting-transactions-dlq"):
        record = eventually(partial(failure_naming_the_poison, queue), timeout=60)
        assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert record["KinesisBatchInfo"]["streamArn"].endswith(":stream/account-transactions")
    # AND the consumers of the other streams never saw it
    for queue in (
        "ledger-projector-events-dlq",
        "ledger-publisher-events-dlq",
        "ledger-alerts-alerts-dlq",
        "ledger-notifications-alerts-dlq",
    ):
        assert on_failure_records(local_runtime, queue) == []


@local_only
def test_read_models_are_rebuilt_from_the_event_store_on_start(data_dir: Path) -> None:
    # GIVEN a runtime whose read models hold an account, its large-deposit alert and its report, stopped
    account_id = unique_id("rebuild")
    with LocalRuntime(data_dir, reset=True) as first:
        api = first.client()
        assert (
            api.post("/accounts", {"owner": "Rebuilt", "initial_balance": 100, "account_id": account_id}).status == 201
        )
        assert api.post(f"/accounts/{account_id}/deposits", {"amount": LARGE_AMOUNT}).status == 200
        first.wait_until_quiet()
        row, alerts = all_accounts(api)[account_id], alerts_of(api, account_id)
        day = row["updated_at"][:10]
        daily = report(api, day, account_id)
        assert len(alerts) == 1
    # WHEN a runtime starts again on the same data (the read models are not journaled, the streams start empty)
    with LocalRuntime(data_dir, reset=False) as second:
        api = second.client()
        # THEN the read models are back as they were, before anything new happens
        assert all_accounts(api) == {account_id: row}
        assert alerts_of(api, account_id) == alerts
        assert report(api, day, account_id) == daily
        assert "read models rebuilt" in second.log_path.read_text()
