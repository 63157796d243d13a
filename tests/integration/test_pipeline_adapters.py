"""The read models, the notification log, Kinesis and SNS adapters on moto, and a rebuild against them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.topology import TOPOLOGY
from ledger import bootstrap
from ledger.adapters.dynamodb_read_models import DynamoDBAlertViews, DynamoDBNotificationLog, DynamoDBReportStore
from ledger.adapters.dynamodb_state_views import DynamoDBStateViews
from ledger.adapters.kinesis_bus import KinesisBus
from ledger.adapters.memory_read_models import InMemoryAlertViews
from ledger.adapters.sns_notifier import SnsNotifier
from ledger.application.accounts import ACCOUNT
from ledger.application.ports import AlertViews, feed_position
from ledger.components import ACCOUNT_VIEWS, REPORT_STORE
from ledger.domain.accounts import Account, DepositMoney, OpenAccount
from ledger.domain.fraud import Alert
from ledger.domain.reports import ALL_ACCOUNTS, DailyTotals, ReportKey
from ledger.kernel.components import Root
from ledger.kernel.records import StreamId
from ledger.kernel.service import CommandContext
from ledger.rebuild import rebuild
from local.resources import create_tables

DAY = date(2026, 11, 26)


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    with mock_aws():
        yield create_tables(boto3.client("dynamodb"))


def account(version: int, balance: int, account_id: str = "acc-1") -> Account:
    return Account(account_id, "Ann", "USD", balance, "open", version, "2026-11-26T08:00:00.000Z", "t")


def account_views(aws: dict[str, str]) -> DynamoDBStateViews[Account]:
    return DynamoDBStateViews(
        boto3.client("dynamodb"), aws["ACCOUNTS_TABLE_NAME"], key="account_id", codec=ACCOUNT.state
    )


def alert(alert_id: str, account_id: str, raised_at: str) -> Alert:
    return Alert(alert_id, "large_transaction", "high", account_id, 5, ("e-1",), raised_at, "big")


def test_the_accounts_view_keeps_the_newest_version(aws: dict[str, str]) -> None:
    views = account_views(aws)
    assert views.put_if_newer("acc-1", 2, account(2, 20))
    assert not views.put_if_newer("acc-1", 1, account(1, 10))  # older: ignored
    assert not views.put_if_newer("acc-1", 2, account(2, 99))  # a repeat: ignored
    assert views.put_if_newer("acc-1", 3, account(3, 30))
    assert views.page(limit=10, cursor=None) == ([account(3, 30)], None)


def test_the_accounts_view_pages_with_a_cursor(aws: dict[str, str]) -> None:
    views = account_views(aws)
    for number in range(7):
        views.replace(f"acc-{number}", 1, account(1, number, f"acc-{number}"))
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = views.page(limit=3, cursor=cursor)
        seen += [a.account_id for a in page]
        if cursor is None:
            break
    assert sorted(seen) == [f"acc-{n}" for n in range(7)]
    with pytest.raises(ValueError, match="cursor"):
        views.page(limit=3, cursor="bogus!")


def test_alerts_are_stored_once_and_listed_newest_first(aws: dict[str, str]) -> None:
    views = DynamoDBAlertViews(boto3.client("dynamodb"), aws["ALERTS_TABLE_NAME"])
    assert views.put_if_absent(alert("a-1", "acc-1", "2026-11-26T08:00:00.000Z"))
    assert not views.put_if_absent(alert("a-1", "acc-1", "2026-11-26T08:00:00.000Z"))
    views.put_if_absent(alert("a-2", "acc-2", "2026-11-26T09:00:00.000Z"))
    views.put_if_absent(alert("a-3", "acc-1", "2026-11-26T10:00:00.000Z"))
    assert [a.alert_id for a in views.newest(account_id=None, limit=10)] == ["a-3", "a-2", "a-1"]
    assert [a.alert_id for a in views.newest(account_id="acc-1", limit=1)] == ["a-3"]
    assert views.newest(account_id=None, limit=10)[0] == alert("a-3", "acc-1", "2026-11-26T10:00:00.000Z")
    assert views.clear() == 3
    assert views.newest(account_id=None, limit=10) == []


@pytest.mark.parametrize("store", ["memory", "dynamodb"])
def test_alerts_are_paged_from_a_feed_position_in_both_stores_alike(aws: dict[str, str], store: str) -> None:
    # GIVEN six alerts, two of them raised in the same millisecond, in either store
    views: AlertViews = (
        InMemoryAlertViews()
        if store == "memory"
        else DynamoDBAlertViews(boto3.client("dynamodb"), aws["ALERTS_TABLE_NAME"])
    )
    raised = ["08", "09", "10", "10", "11", "12"]
    for number, hour in enumerate(raised):
        views.put_if_absent(alert(f"a-{number}", "acc-1" if number % 2 else "acc-2", f"2026-11-26T{hour}:00:00.000Z"))
    # WHEN they are read two at a time, each page from the feed position of the last alert of the one before
    pages: list[list[str]] = []
    before = None
    while True:
        page = views.newest(limit=2, before=before)
        if not page:
            break
        pages.append([a.alert_id for a in page])
        before = feed_position(page[-1])
    # THEN every alert comes once, newest first (ties by id), and an account's pages the same way
    assert pages == [["a-5", "a-4"], ["a-3", "a-2"], ["a-1", "a-0"]]
    first = views.newest(account_id="acc-1", limit=2)
    assert [a.alert_id for a in first] == ["a-5", "a-3"]
    assert [a.alert_id for a in views.newest(account_id="acc-1", limit=2, before=feed_position(first[-1]))] == ["a-1"]


def test_reports_add_each_event_once_across_transactions(aws: dict[str, str]) -> None:
    store = DynamoDBReportStore(boto3.client("dynamodb"), aws["REPORTS_TABLE_NAME"])
    deposit = DailyTotals(deposits_count=1, deposits_total=10)
    contributions = [
        (f"e-{n}", key, deposit) for n in range(70) for key in (ReportKey(DAY, "acc-1"), ReportKey(DAY, ALL_ACCOUNTS))
    ]
    assert store.add(contributions[:40]) == 20
    assert store.add(contributions) == 50  # the first 20 events were counted already
    assert store.add(contributions[::-1]) == 0
    assert store.add([*contributions[-2:], *contributions[-2:]]) == 0
    twice = [("e-new", ReportKey(DAY, "acc-1"), deposit)] * 2  # one event listed twice in one batch
    assert store.add(twice) == 1
    assert store.totals(ReportKey(DAY, "acc-1")) == DailyTotals(71, 710)
    assert store.totals(ReportKey(DAY, ALL_ACCOUNTS)) == DailyTotals(70, 700)
    assert store.totals(ReportKey(date(2020, 1, 1), ALL_ACCOUNTS)) == DailyTotals()


def test_the_notification_log_claims_until_sent(aws: dict[str, str]) -> None:
    log = DynamoDBNotificationLog(boto3.client("dynamodb"), aws["NOTIFICATIONS_TABLE_NAME"])
    assert log.claim("a-1", now="t1")
    assert log.claim("a-1", now="t2")  # claimed but never marked sent (a crash): it may go again
    log.mark_sent("a-1", message_id="m-1", now="t3")
    assert not log.claim("a-1", now="t4")


def test_kinesis_and_sns_adapters_deliver(aws: dict[str, str]) -> None:
    kinesis = boto3.client("kinesis")
    stream = TOPOLOGY.stream("transactions").name
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    assert KinesisBus(kinesis).put(stream, [("acc-1", b"one"), ("acc-1", b"two")]) == []
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [(r["PartitionKey"], r["Data"]) for r in records] == [("acc-1", b"one"), ("acc-1", b"two")]

    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="account-notifications")["TopicArn"]
    queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    SnsNotifier(sns, topic).publish(alert("a-9", "acc-1", "2026-11-26T08:00:00.000Z"))
    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    envelope: dict[str, Any] = json.loads(message["Body"])
    assert json.loads(envelope["Message"])["alert_id"] == "a-9"
    assert envelope["MessageAttributes"]["alert_id"]["Value"] == "a-9"


def test_the_publisher_puts_each_account_event_on_the_stream_the_topology_routes_accounts_to(
    aws: dict[str, str],
) -> None:
    # GIVEN the stream EVENT_STREAMS assigns to accounts, and two accounts' events in the event store
    root = Root({**os.environ, **aws})
    (stream,) = root.get(bootstrap.EVENT_STREAMS)["Account"]
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    service = root.get(bootstrap.command_service(ACCOUNT))
    for command in (OpenAccount("acc-1", "Ann"), OpenAccount("acc-2", "Bob"), DepositMoney("acc-1", 5)):
        service.execute(command, CommandContext("c", "r"))
    store = root.get(bootstrap.EVENT_STORE)
    records = [
        *store.read_forward(StreamId("Account", "acc-1"), after=0, limit=10),
        *store.read_forward(StreamId("Account", "acc-2"), after=0, limit=10),
    ]
    # WHEN the publisher built from the environment publishes them
    published = root.get(bootstrap.PUBLISHER).publish([(str(n), record) for n, record in enumerate(records)])
    # THEN every one is on that stream, keyed by its aggregate id, as its public message
    assert (published.put, dict(published.failed)) == (3, {})
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    messages = [
        (r["PartitionKey"], json.loads(r["Data"]))
        for r in kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    ]
    assert [(key, m["aggregate_type"], m["aggregate_id"], m["version"], m["type"]) for key, m in messages] == [
        ("acc-1", "Account", "acc-1", 1, "AccountCreated"),
        ("acc-1", "Account", "acc-1", 2, "MoneyDeposited"),
        ("acc-2", "Account", "acc-2", 1, "AccountCreated"),
    ]
    assert [m["event_id"] for _, m in messages] == [r.event_id for r in records]


def test_rebuild_on_dynamodb_matches_the_event_store(aws: dict[str, str]) -> None:
    # GIVEN the functions' parts as the environment builds them, with a low large-transaction threshold
    root = Root({**os.environ, **aws, "FRAUD_LARGE_AMOUNT": "1000", "STATE_CACHE_SIZE": "0"})
    service = root.get(bootstrap.command_service(ACCOUNT))
    for command in (OpenAccount("acc-1", "Ann"), DepositMoney("acc-1", 5_000), OpenAccount("acc-2", "Bob")):
        service.execute(command, CommandContext("c", "r"))
    views, reports = root.get(ACCOUNT_VIEWS), root.get(REPORT_STORE)
    views.replace("acc-1", 9, replace(account(9, 123), account_id="acc-1"))  # a corrupted row

    counts = rebuild(["accounts", "alerts", "reports"], root)

    assert counts == {"accounts": 2, "alerts": 1, "reports": 3}
    rows = {a.account_id: a for a in views.page(limit=10, cursor=None)[0]}
    assert rows == {"acc-1": service.reader.get("acc-1"), "acc-2": service.reader.get("acc-2")}
    day = date.fromisoformat(service.reader.get("acc-1").updated_at[:10])
    assert reports.totals(ReportKey(day, ALL_ACCOUNTS)) == DailyTotals(1, 5_000, 0, 0, 2)
    assert rebuild(["reports"], root) == {"reports": 3}  # cleared first: never counted twice
    assert reports.totals(ReportKey(day, ALL_ACCOUNTS)).deposits_total == 5_000
