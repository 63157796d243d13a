"""The pipeline across a stop or a crash of the local runtime: each event source mapping resumes from its checkpoint
and the Kinesis records not yet read by all its mappings are still there, so whatever the pipeline had left to do
when the runtime stopped (Ctrl-C, SIGTERM or kill -9) is done after the restart, and nothing twice."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client import unique_id
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.pipeline import Moves, Notifications, alerts_of, eventually, report, totals_of
from tests.e2e.support import events_of, local_only

pytestmark = local_only

LARGE_DEPOSIT = 2_000_000  # over the topology's FRAUD_LARGE_AMOUNT: a large_transaction alert


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM"])
def test_an_alert_the_pipeline_had_not_yet_raised_at_a_stop_is_notified_once_after_the_restart(
    data_dir: Path, stop: str
) -> None:
    account_id = unique_id("resume")
    # GIVEN a runtime stopped right after answering a large deposit, before its alert could go through the pipeline
    first = LocalRuntime(data_dir, reset=True).start()
    try:
        api = first.client()
        assert api.post("/accounts", {"owner": "Resumed", "account_id": account_id}).status == 201
        assert api.post(f"/accounts/{account_id}/deposits", {"amount": LARGE_DEPOSIT}).status == 200
    finally:
        if stop == "SIGKILL":
            first.kill()
        else:
            assert first.stop(signal.SIGTERM) == 0
    # WHEN the runtime starts again on the same data
    with LocalRuntime(data_dir, reset=False) as second:
        api = second.client()
        notifications = Notifications(second)
        deposit = events_of(api, account_id)[-1]
        # THEN the alert is in GET /alerts
        eventually(lambda: alerts_of(api, account_id), timeout=30)
        second.wait_until_quiet()
        (alert,) = alerts_of(api, account_id)
        assert (alert["rule"], alert["event_ids"]) == ("large_transaction", [deposit["event_id"]])
        # AND the resumed pipeline notified it, exactly once
        assert [n["alert_id"] for n in eventually(lambda: notifications.for_account(account_id), timeout=30)] == [
            alert["alert_id"]
        ]
        time.sleep(1)
        assert [n["alert_id"] for n in notifications.for_account(account_id)] == [alert["alert_id"]]


def notified(runtime: LocalRuntime) -> dict[str, str]:
    """The notification log (`ledger-notifications`, journaled): alert id -> status (claimed, sent)."""
    dynamodb = runtime.aws("dynamodb")
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": "ledger-notifications"}
    while True:
        page = dynamodb.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return {item["alert_id"]["S"]: item["status"]["S"] for item in items}
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_crashes_at_any_point_of_the_pipeline_lose_nothing_it_had_to_do(data_dir: Path) -> None:
    accounts = [unique_id("crashes") for _ in range(3)]
    moves = {account_id: Moves() for account_id in accounts}
    runtime = LocalRuntime(data_dir, reset=True).start()
    try:
        api = runtime.client()
        for account_id in accounts:
            assert api.post("/accounts", {"owner": "Crashes", "account_id": account_id}).status == 201
        # GIVEN money moving, and the runtime killed each time a little later in the pipeline's work
        for delay in (0.0, 0.7, 1.5, 2.5):
            for account_id in accounts:
                for amount in (LARGE_DEPOSIT, 700):
                    assert api.post(f"/accounts/{account_id}/deposits", {"amount": amount}).status == 200
                    moves[account_id].deposits.append(amount)
            time.sleep(delay)
            runtime.kill()
            # WHEN it starts again
            runtime = LocalRuntime(data_dir, reset=False).start()
            api = runtime.client()
        runtime.wait_until_quiet(timeout=90)
        # THEN every alert the event store raises (GET /alerts, rebuilt from it on start) was notified
        alerts = {alert["alert_id"] for account_id in accounts for alert in alerts_of(api, account_id)}
        assert sum(1 for a in accounts for alert in alerts_of(api, a) if alert["rule"] == "large_transaction") == 12
        log = notified(runtime)
        assert {alert_id: log.get(alert_id) for alert_id in alerts} == dict.fromkeys(alerts, "sent")
        # AND each account's report counts each deposit exactly once
        for account_id in accounts:
            days = {event["occurred_at"][:10] for event in events_of(api, account_id)}
            if len(days) > 1:
                pytest.skip("the deposits straddled midnight UTC")
            (day,) = days
            assert totals_of(report(api, day, account_id)) == moves[account_id].totals()
        # AND the archive holds every event: what a delivery wrote before a crash was kept, what it had not
        # written was delivered after the restart
        verified = runtime.tool("ledger.archive", "verify", "--grace-seconds", "0")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.splitlines()[-1] == "consistent"
    finally:
        runtime.kill()
