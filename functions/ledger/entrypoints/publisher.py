"""The publisher: the DynamoDB stream of the event table -> each aggregate type's Kinesis stream (the topology assigns
them: EVENT_STREAMS), one PutRecords per stream per batch, partition key = aggregate id (per-aggregate order). A
record that cannot be published (refused by Kinesis, no stream for its type, not an event) is a batch item failure:
Lambda retries from it, so no event is dropped."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.entrypoints.streams import (
    consumer,
    correlation_ids,
    correlation_keys,
    failed_records_response,
    record_id,
    stored_event,
)
from ledger.kernel.records import EventRecord

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
bootstrap.start(bootstrap.PUBLISHER)


def publish(records: list[DynamoDBRecord]) -> set[str]:
    """Put every record's message; the ids of the records that failed."""
    failed: set[str] = set()
    events: list[tuple[str, EventRecord]] = []
    for record in records:
        try:
            events.append((record_id(record), stored_event(record)))
        except Exception:  # a record that is not a readable event fails alone
            logger.exception("unreadable stream record", extra={"record": record_id(record)})
            failed.add(record_id(record))
    published = bootstrap.get(bootstrap.PUBLISHER).publish(events)
    by_name = dict(events)
    for name, reason in published.failed.items():
        logger.warning(
            "record not published", extra={"record": name, "reason": reason, **correlation_keys(by_name[name])}
        )
    failed.update(published.failed)
    logger.info(
        "published",
        extra={
            "published": len(events) - len(published.failed),
            "received": len(records),
            "correlation_ids": correlation_ids(event for _, event in events),
        },
    )
    return failed


def publish_beats(beats: list[dict[str, Any]]) -> set[str]:
    """Heartbeats go where EVENT_STREAMS routes their type: to every stream the publisher feeds."""
    return publish([DynamoDBRecord(raw) for raw in beats])


@logger.inject_lambda_context(clear_state=True)
@consumer("publisher", logger, forward=publish_beats)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [DynamoDBRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, publish(records))
