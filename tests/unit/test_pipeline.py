"""The stream consumers, fed real Lambda event shapes, over in-memory stores: each effect happens exactly once."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger import bootstrap
from ledger.adapters.dynamodb_event_store import event_item
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import (
    InMemoryAccountViews,
    InMemoryAlertViews,
    InMemoryBus,
    InMemoryNotificationLog,
    InMemoryReportStore,
    RecordingNotifier,
)
from ledger.application.account_service import AccountService, CommandContext
from ledger.application.alert_messages import alert_to_json, parse_alert
from ledger.application.messages import InvalidMessageError, message_of, parse_message
from ledger.application.records import EventRecord
from ledger.domain.accounts import DepositMoney, OpenAccount, WithdrawMoney
from ledger.domain.fraud import HIGH_VELOCITY, LARGE_TRANSACTION
from ledger.domain.reports import ALL_ACCOUNTS, DailyTotals, ReportKey
from ledger.entrypoints import alerts, fraud, notifications, projector, publisher, reporting
from ledger.rebuild import rebuild
from ledger.settings import Settings
from local.apigw import LambdaContext

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
CTX = CommandContext("corr", "req")


class Clock:
    def __init__(self, step: timedelta = timedelta(seconds=1)) -> None:
        self.now, self.step = START, step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


class Pipeline:
    """The ledger plus every consumer, wired to in-memory stores; `flow()` delivers what is pending, in order."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.store = InMemoryEventStore()
        self.service = AccountService(self.store, clock=clock or Clock())
        self.bus = InMemoryBus()
        self.notifier = RecordingNotifier()
        self.components = bootstrap.Components(
            Settings("events", "idempotency", transactions_stream="tx", alerts_stream="alerts", state_cache_size=0)
        ).provide(
            event_store=self.store,
            account_views=InMemoryAccountViews(),
            alert_views=InMemoryAlertViews(),
            report_store=InMemoryReportStore(),
            notification_log=InMemoryNotificationLog(),
            bus=self.bus,
            notifier=self.notifier,
        )
        self.published = 0  # events already put on the DynamoDB "stream"

    def events(self) -> list[EventRecord]:
        return [e for a in sorted(self.store._events) for e in self.store._events[a]]

    def stream_batch(self) -> dict[str, Any]:
        """The events table's stream records not delivered yet, as Lambda's DynamoDB stream event."""
        pending = sorted(self.events(), key=lambda e: (e.occurred_at, e.aggregate_id, e.version))[self.published :]
        self.published += len(pending)
        return dynamodb_event(pending)

    def kinesis(self, stream: str) -> dict[str, Any]:
        return kinesis_event(self.bus.streams.get(stream, []))


def dynamodb_event(records: list[EventRecord]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventID": f"id-{i}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/ledger-events/stream/x",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_764_144_000,
                    "Keys": {"aggregate_id": {"S": r.aggregate_id}, "seq": {"N": str(r.version)}},
                    "NewImage": event_item(r),
                    "SequenceNumber": f"{i:021d}",
                    "SizeBytes": 500,
                    "StreamViewType": "NEW_IMAGE",
                },
            }
            for i, r in enumerate(records, start=1)
        ]
    }


def kinesis_event(messages: list[tuple[str, bytes]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": key,
                    "sequenceNumber": f"{i:056d}",
                    "data": base64.b64encode(data).decode(),
                    "approximateArrivalTimestamp": 1_764_144_000.0,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{i:056d}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/consumer",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            }
            for i, (key, data) in enumerate(messages, start=1)
        ]
    }


@pytest.fixture
def pipeline() -> Iterator[Pipeline]:
    built = Pipeline()
    bootstrap.override_components(built.components)
    yield built
    bootstrap.override_components(None)


def invoke(handler: Any, event: dict[str, Any]) -> list[str]:
    """Call a consumer; the itemIdentifiers of the records it reported as failed."""
    if not event["Records"]:
        return []  # an event source mapping never invokes with nothing
    response = handler(event, LambdaContext("consumer"))
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def deliver_everything(p: Pipeline) -> None:
    batch = p.stream_batch()
    assert invoke(projector.lambda_handler, batch) == []
    assert invoke(publisher.lambda_handler, batch) == []
    transactions = p.kinesis("tx")
    assert invoke(fraud.lambda_handler, transactions) == []
    assert invoke(reporting.lambda_handler, transactions) == []
    raised = p.kinesis("alerts")
    assert invoke(alerts.lambda_handler, raised) == []
    assert invoke(notifications.lambda_handler, raised) == []


def test_the_public_message_is_the_event_in_its_current_schema_without_the_state(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann", "USD", 100), CTX)
    (record,) = pipeline.events()
    message = json.loads(message_of(record).to_json())
    assert set(message) == {
        "event_id",
        "aggregate_type",
        "aggregate_id",
        "version",
        "type",
        "schema_version",
        "occurred_at",
        "data",
        "metadata",
    }
    assert (message["type"], message["schema_version"], message["aggregate_type"]) == ("AccountCreated", 2, "Account")
    assert parse_message(message_of(record).to_json()) == message_of(record)


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1]", b'{"event_id": 1}', json.dumps({"version": True}).encode(), b"\xff"]
)
def test_a_record_that_is_not_a_message_is_a_poison_record(raw: bytes) -> None:
    with pytest.raises(InvalidMessageError):
        parse_message(raw)


def test_the_seed_scenario_flows_to_every_read_model(pipeline: Pipeline) -> None:
    for command in (
        OpenAccount("acc-1", "Ann", "USD", 10_000),
        DepositMoney("acc-1", 5_000),
        WithdrawMoney("acc-1", 2_000),
    ):
        pipeline.service.execute(command, CTX)
    deliver_everything(pipeline)
    c = pipeline.components
    assert c.account_views.page(limit=10, cursor=None)[0] == [pipeline.service.get("acc-1")]
    day = START.date()
    assert c.report_store.totals(ReportKey(day, "acc-1")) == DailyTotals(1, 5_000, 1, 2_000, 1)
    assert c.report_store.totals(ReportKey(day, ALL_ACCOUNTS)).net == 3_000
    assert c.alert_views.newest(account_id=None, limit=10) == []


def test_a_large_deposit_raises_one_alert_and_one_notification_however_often_delivered(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 1_000_000), CTX)
    deliver_everything(pipeline)
    transactions = pipeline.kinesis("tx")
    for _ in range(2):  # redelivered twice over
        invoke(fraud.lambda_handler, transactions)
        raised = pipeline.kinesis("alerts")
        invoke(alerts.lambda_handler, raised)
        invoke(notifications.lambda_handler, raised)

    (alert,) = pipeline.components.alert_views.newest(account_id="acc-1", limit=10)
    assert (alert.rule, alert.severity, alert.amount) == (LARGE_TRANSACTION, "high", 1_000_000)
    assert alert.raised_at == pipeline.events()[1].occurred_at  # event time, not the clock
    assert len(pipeline.bus.streams["alerts"]) == 3  # the alert was put three times: the same alert
    assert pipeline.notifier.published == [alert]


def test_velocity_is_judged_on_event_time_and_fires_once_per_burst() -> None:
    p = Pipeline(Clock(step=timedelta(seconds=5)))
    bootstrap.override_components(p.components)
    try:
        p.service.execute(OpenAccount("acc-1", "Ann"), CTX)
        for _ in range(7):  # 7 deposits 5 s apart: the 5th completes a window of 5 within 60 s
            p.service.execute(DepositMoney("acc-1", 10), CTX)
        deliver_everything(p)
    finally:
        bootstrap.override_components(None)
    (alert,) = p.components.alert_views.newest(account_id="acc-1", limit=10)
    events = p.events()
    assert alert.rule == HIGH_VELOCITY
    assert alert.event_ids == tuple(e.event_id for e in events[1:6])
    assert alert.amount == 50


def test_slow_transactions_raise_nothing() -> None:
    p = Pipeline(Clock(step=timedelta(seconds=20)))
    bootstrap.override_components(p.components)
    try:
        p.service.execute(OpenAccount("acc-1", "Ann"), CTX)
        for _ in range(6):
            p.service.execute(DepositMoney("acc-1", 10), CTX)
        deliver_everything(p)
    finally:
        bootstrap.override_components(None)
    assert p.components.alert_views.newest(account_id=None, limit=10) == []


def test_projection_ignores_order_and_repeats(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann", "USD", 0), CTX)
    for _ in range(5):
        pipeline.service.execute(DepositMoney("acc-1", 3), CTX)
    batch = pipeline.stream_batch()
    records = batch["Records"]
    random.Random(7).shuffle(records)
    invoke(projector.lambda_handler, {"Records": records + records[:3]})
    assert pipeline.components.account_views.page(limit=1, cursor=None)[0] == [pipeline.service.get("acc-1")]


def test_an_event_whose_state_cannot_be_read_is_folded_from_the_store(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann", "USD", 5), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 5), CTX)
    batch = pipeline.stream_batch()
    for record in batch["Records"]:
        record["dynamodb"]["NewImage"]["state_schema_version"] = {"N": "0"}
    invoke(projector.lambda_handler, batch)
    (row,) = pipeline.components.account_views.page(limit=1, cursor=None)[0]
    assert (row.balance, row.version) == (10, 2)


def test_reports_count_each_event_once_under_redelivery_and_shuffling(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann", "USD", 0), CTX)
    pipeline.service.execute(OpenAccount("acc-2", "Bob", "USD", 0), CTX)
    for amount in (100, 200, 300):
        pipeline.service.execute(DepositMoney("acc-1", amount), CTX)
        pipeline.service.execute(DepositMoney("acc-2", amount * 2), CTX)
    pipeline.service.execute(WithdrawMoney("acc-2", 50), CTX)
    invoke(publisher.lambda_handler, pipeline.stream_batch())
    records = pipeline.kinesis("tx")["Records"]
    for seed in range(3):
        shuffled = list(records)
        random.Random(seed).shuffle(shuffled)
        invoke(reporting.lambda_handler, {"Records": shuffled[: len(shuffled) - seed] + shuffled[:2]})
    report = pipeline.components.report_store.totals
    day = START.date()
    assert report(ReportKey(day, "acc-1")) == DailyTotals(3, 600, 0, 0, 1)
    assert report(ReportKey(day, "acc-2")) == DailyTotals(3, 1_200, 1, 50, 1)
    assert report(ReportKey(day, ALL_ACCOUNTS)) == DailyTotals(6, 1_800, 1, 50, 2)


def test_consumers_skip_event_types_they_do_not_know_and_fail_poison_records(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    invoke(publisher.lambda_handler, pipeline.stream_batch())
    (good,) = pipeline.bus.streams["tx"]
    unknown = json.loads(good[1]) | {"type": "InterestAccrued", "event_id": "e-2", "version": 2}
    foreign = json.loads(good[1]) | {"aggregate_type": "Order", "type": "OrderPlaced", "event_id": "e-3"}
    event = kinesis_event(
        [good, ("acc-1", b"garbage"), ("acc-1", json.dumps(unknown).encode()), ("o", json.dumps(foreign).encode())]
    )
    for handler in (fraud.lambda_handler, reporting.lambda_handler):
        failed = invoke(handler, event)
        assert failed == [event["Records"][1]["kinesis"]["sequenceNumber"]]
    assert pipeline.components.report_store.totals(ReportKey(START.date(), ALL_ACCOUNTS)).accounts_opened == 1


def test_a_record_kinesis_refuses_is_a_batch_item_failure_never_dropped(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 1), CTX)
    batch = pipeline.stream_batch()
    pipeline.bus.refuse = {1}
    assert invoke(publisher.lambda_handler, batch) == [batch["Records"][1]["dynamodb"]["SequenceNumber"]]
    assert invoke(publisher.lambda_handler, {"Records": batch["Records"][1:]}) == []  # Lambda's retry
    assert [json.loads(m)["version"] for _, m in pipeline.bus.streams["tx"]] == [1, 2]


def test_alert_messages_round_trip(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 2_000_000), CTX)
    deliver_everything(pipeline)
    (alert,) = pipeline.components.alert_views.newest(account_id=None, limit=1)
    assert parse_alert(alert_to_json(alert)) == alert


def test_rebuild_reproduces_every_read_model_from_the_event_store(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 3_000_000), CTX)
    pipeline.service.execute(OpenAccount("acc-2", "Bob", "EUR", 50), CTX)
    deliver_everything(pipeline)
    c = pipeline.components
    live = (
        c.account_views.page(limit=10, cursor=None)[0],
        c.alert_views.newest(account_id=None, limit=10),
        c.report_store.totals(ReportKey(START.date(), ALL_ACCOUNTS)),
    )
    fresh = Pipeline()
    fresh.components.provide(event_store=pipeline.store)
    counts = rebuild(["accounts", "alerts", "reports"], fresh.components)
    f = fresh.components
    rebuilt = (
        f.account_views.page(limit=10, cursor=None)[0],
        f.alert_views.newest(account_id=None, limit=10),
        f.report_store.totals(ReportKey(START.date(), ALL_ACCOUNTS)),
    )
    assert rebuilt == live
    assert counts == {"accounts": 2, "alerts": 1, "reports": 3}
    assert fresh.notifier.published == []  # a rebuild never notifies again


def test_fraud_reads_the_window_from_the_store_whatever_the_batch_holds() -> None:
    p = Pipeline(Clock(step=timedelta(seconds=5)))
    bootstrap.override_components(p.components)
    try:
        p.service.execute(OpenAccount("acc-1", "Ann"), CTX)
        for _ in range(7):
            p.service.execute(DepositMoney("acc-1", 10), CTX)
        invoke(publisher.lambda_handler, p.stream_batch())
        records = p.kinesis("tx")["Records"]
        # every record alone, then odd splits with gaps, shuffled: the same single alert each time
        for batch in [[r] for r in records] + [records[5:], records[::2], records[::-1]]:
            invoke(fraud.lambda_handler, {"Records": batch})
    finally:
        bootstrap.override_components(None)
    alert_ids = {json.loads(data)["alert_id"] for _, data in p.bus.streams["alerts"]}
    (rule,) = {json.loads(data)["rule"] for _, data in p.bus.streams["alerts"]}
    assert len(alert_ids) == 1
    assert rule == HIGH_VELOCITY
