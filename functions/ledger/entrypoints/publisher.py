"""The publisher: the DynamoDB stream of the event table -> each aggregate type's Kinesis stream (the topology assigns
them: EVENT_STREAMS), one PutRecords per stream per batch, partition key = aggregate id (per-aggregate order). A
record that cannot be published (refused by Kinesis, no stream for its type, not an event) is a batch item failure:
Lambda retries from it, so no event is dropped."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.entrypoints.streams import failed_records_response, record_id, stored_event
from ledger.kernel.records import EventRecord

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
bootstrap.start(bootstrap.PUBLISHER)


@tracer.capture_method
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
    for name, reason in published.failed.items():
        logger.warning("record not published", extra={"record": name, "reason": reason})
    failed.update(published.failed)
    return failed


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [DynamoDBRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, publish(records))
