"""The ledger plus every stream consumer, wired to in-memory stores in a composition root and fed real Lambda event
shapes: what the pipeline's unit tests drive."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.topology import ALERT_STREAM, TRANSACTIONS
from ledger import bootstrap
from ledger.adapters.dynamodb_event_store import event_item, stream_key
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import (
    InMemoryAlertViews,
    InMemoryBus,
    InMemoryNotificationLog,
    InMemoryReportStore,
    InMemoryStateViews,
    RecordingNotifier,
)
from ledger.application.accounts import ACCOUNT
from ledger.catalog import AGGREGATES
from ledger.components import ACCOUNT_VIEWS, ALERT_VIEWS, NOTIFICATION_LOG, NOTIFIER, REPORT_STORE
from ledger.domain.accounts import Account
from ledger.entrypoints import alerts, fraud, notifications, projector, publisher, reporting
from ledger.kernel.components import Root
from ledger.kernel.records import EventRecord
from ledger.kernel.service import CommandContext
from local.apigw import LambdaContext
from tests.ledger_fixtures import account_service

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
CTX = CommandContext("corr", "req")
# The topology's streams: the publisher puts account events on TRANSACTIONS (EVENT_STREAMS routes them there), the
# fraud consumer puts its alerts on ALERT_STREAM (ALERTS_STREAM_NAME).
TX = TRANSACTIONS.name
RAISED = ALERT_STREAM.name


class Clock:
    def __init__(self, step: timedelta = timedelta(seconds=1)) -> None:
        self.now, self.step = START, step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


class Pipeline:
    """The ledger plus every consumer, wired to in-memory stores in `root`; `deliver_everything` delivers what is
    pending, in order. Its settings (stream names, fraud rules, ...) are the topology's, from the environment."""

    def __init__(self, root: Root, clock: Clock | None = None) -> None:
        self.store = InMemoryEventStore()
        self.service = account_service(self.store, clock=clock or Clock())
        self.bus = InMemoryBus()
        self.notifier = RecordingNotifier()
        self.account_views = InMemoryStateViews[Account]()
        self.alert_views = InMemoryAlertViews()
        self.report_store = InMemoryReportStore()
        self.root = (
            root.provide(bootstrap.EVENT_STORE, self.store)
            .provide(bootstrap.COMMAND_STORE, self.store)
            .provide(bootstrap.command_service(ACCOUNT), self.service)
            .provide(bootstrap.BUS, self.bus)
            .provide(ACCOUNT_VIEWS, self.account_views)
            .provide(ALERT_VIEWS, self.alert_views)
            .provide(REPORT_STORE, self.report_store)
            .provide(NOTIFICATION_LOG, InMemoryNotificationLog())
            .provide(NOTIFIER, self.notifier)
        )
        self.published = 0  # events already put on the DynamoDB "stream"

    def events(self) -> list[EventRecord]:
        return self.store.events()

    def stream_batch(self) -> dict[str, Any]:
        """The events table's stream records not delivered yet, as Lambda's DynamoDB stream event."""
        pending = sorted(self.events(), key=lambda e: (e.occurred_at, e.aggregate_id, e.version))[self.published :]
        self.published += len(pending)
        return dynamodb_event(pending)

    def kinesis(self, stream: str) -> dict[str, Any]:
        return kinesis_event(self.bus.streams.get(stream, []))


def dynamodb_event(records: list[EventRecord]) -> dict[str, Any]:
    keys = [stream_key(r.stream, AGGREGATES.bare_stream_key_types) for r in records]
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
                    "Keys": {"aggregate_id": {"S": key}, "seq": {"N": str(r.version)}},
                    "NewImage": event_item(r, key),
                    "SequenceNumber": f"{i:021d}",
                    "SizeBytes": 500,
                    "StreamViewType": "NEW_IMAGE",
                },
            }
            for i, (r, key) in enumerate(zip(records, keys, strict=True), start=1)
        ]
    }


def kinesis_event(messages: list[tuple[str, bytes]], stream: str = "s") -> dict[str, Any]:
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
                "eventSourceARN": f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}",
            }
            for i, (key, data) in enumerate(messages, start=1)
        ]
    }


@pytest.fixture
def wire_pipeline() -> Iterator[Callable[[Clock], Pipeline]]:
    """Builds a Pipeline on a fresh process root (what the handlers get their parts from); the root is reset after
    the test."""
    yield lambda clock: Pipeline(bootstrap.reset(), clock)
    bootstrap.reset()


@pytest.fixture
def pipeline(wire_pipeline: Callable[[Clock], Pipeline]) -> Pipeline:
    return wire_pipeline(Clock())


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
    transactions = p.kinesis(TX)
    assert invoke(fraud.lambda_handler, transactions) == []
    assert invoke(reporting.lambda_handler, transactions) == []
    raised = p.kinesis(RAISED)
    assert invoke(alerts.lambda_handler, raised) == []
    assert invoke(notifications.lambda_handler, raised) == []
